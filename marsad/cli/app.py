"""The `marsad` command: the root app, instance set-up and organisations."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from typing import Annotated

import typer

from marsad.cli import instance
from marsad.cli.enrich import enrich_app
from marsad.cli.output import emit_json, err, out, table
from marsad.model.errors import MarsadError
from marsad.model.handling import Region
from marsad.model.organisation import OrgKind, make_organisation
from marsad.store import migrate

app = typer.Typer(
    name="marsad",
    help="Marsad: pool threat data under strict handling rules and find the networks behind it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
org_app = typer.Typer(
    help="Organisations: national units, desks, hubs and private partners.", no_args_is_help=True
)
app.add_typer(org_app, name="org")
app.add_typer(enrich_app, name="enrich")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: $MARSAD_DB, the instance config, or SQLite in $MARSAD_HOME).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Act as this organisation: the access policy decides what it sees "
        "(default: the local operator, who sees everything).",
        show_default=False,
    ),
]


@app.command()
def init(db: DbOption = None, json: JsonOption = False) -> None:
    """Create an instance (SQLite in $MARSAD_HOME by default) and migrate its schema."""
    url = db or instance.configured_url()
    store = instance.open_store(url, create=True)
    config = instance.save_url(url)
    revision = migrate.current_revision(store.engine)
    store.close()
    if json:
        emit_json(
            {
                "database": instance.display_url(url),
                "config": str(config),
                "schema_revision": revision,
            }
        )
    else:
        out.print(
            f"Instance ready: {instance.display_url(url)} (schema {revision}); config in {config}"
        )


@org_app.command("add")
def org_add(
    name: Annotated[str, typer.Argument(help="Unique organisation name.")],
    kind: Annotated[OrgKind, typer.Option("--kind", help="What the organisation is.")],
    country: Annotated[
        str | None, typer.Option("--country", help="ISO 3166-1 country code, e.g. FJ.")
    ] = None,
    region: Annotated[
        Region | None, typer.Option("--region", help="Region the organisation belongs to.")
    ] = None,
    parent: Annotated[
        str | None,
        typer.Option("--parent", help="The unit this one is a national sub-unit of."),
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Register an organisation."""
    org = make_organisation(name, kind.value, country, region.value if region else None)
    store = instance.open_store(db)
    row = store.add_org(org, parent=parent)
    if json:
        emit_json(row)
    else:
        out.print(f"Added organisation {row.name!r} (id {row.id}, {row.kind.value}).")


@org_app.command("list")
def org_list(db: DbOption = None, json: JsonOption = False) -> None:
    """List organisations."""
    rows = instance.open_store(db).list_orgs()
    if json:
        emit_json(rows)
        return
    table(
        f"{len(rows)} organisations",
        ["id", "name", "kind", "country", "region", "parent"],
        [
            (r.id, r.name, r.kind.value, r.country, r.region.value if r.region else None, r.parent)
            for r in rows
        ],
    )


@app.command()
def summary(db: DbOption = None, json: JsonOption = False) -> None:
    """Counts of organisations, submissions, observables by type and assertions by threat type."""
    data = instance.open_store(db).summary()
    if json:
        emit_json(data)
        return
    print_summary(data)


def print_summary(data: dict[str, object]) -> None:
    """The human-readable overview shared by `summary` and `demo`."""
    statuses = data["submissions_by_status"]
    assert isinstance(statuses, dict)
    out.print(
        f"[bold]{data['organisations']}[/] organisations, [bold]{data['submissions']}[/] submissions "
        f"({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))}), "
        f"[bold]{data['observables']}[/] observables, [bold]{data['assertions']}[/] assertions"
    )
    for key, title in (
        ("observables_by_type", "Observables by type"),
        ("assertions_by_threat_type", "Assertions by threat type"),
    ):
        counts = data[key]
        assert isinstance(counts, dict)
        table(title, ["", "count"], list(counts.items()))


def _log_path() -> str:
    path = instance.home() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return str(path / "error.log")


def load_commands() -> None:
    """Import the command modules: importing one registers its commands on `app`."""
    from marsad.cli import (  # noqa: F401
        access,
        actions,
        alerts,
        commands,
        correlate,
        graph,
        handling,
        match,
        reports,
        serve,
        sync,
    )


def main() -> None:
    """Entry point: one clear sentence on stderr and a non-zero exit for every failure."""
    load_commands()

    try:
        app()  # standalone: usage errors and --help exit through SystemExit
    except MarsadError as exc:
        err.print(f"[red]error:[/] {exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("Interrupted; a submission in progress was rolled back.")
        sys.exit(130)
    except Exception as exc:  # the last line of defence: never a traceback on screen
        if os.environ.get("MARSAD_DEBUG"):
            raise
        try:
            log = _log_path()
            logging.basicConfig(filename=log, level=logging.ERROR)
            logging.error("unexpected error\n%s", traceback.format_exc())
        except OSError:
            log = "(log not writable)"
        err.print(f"[red]internal error:[/] {type(exc).__name__}: {exc} (details in {log})")
        sys.exit(70)
