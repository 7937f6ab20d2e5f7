"""`marsad sync pull|push`: federation with another instance (or any TAXII 2.1 server)."""

from __future__ import annotations

from typing import Annotated

import typer

from marsad.cli import instance
from marsad.cli.app import DbOption, JsonOption, app
from marsad.cli.output import emit_json, out, table
from marsad.exchange.sync import Remote, SyncResult, pull, push

sync_app = typer.Typer(
    help="Federation over TAXII 2.1: pull a remote collection in, push to a remote inbox.",
    no_args_is_help=True,
)
app.add_typer(sync_app, name="sync")

RemoteOption = Annotated[
    str,
    typer.Option("--remote", help="The remote's TAXII discovery URL (…/taxii2/) or API root URL."),
]
CollectionOption = Annotated[
    str, typer.Option("--collection", help="Remote collection id or alias (e.g. all, inbox).")
]
TokenOption = Annotated[
    str,
    typer.Option(
        "--token",
        envvar="MARSAD_SYNC_TOKEN",
        help="API token the remote issued to this instance (or $MARSAD_SYNC_TOKEN).",
        show_default=False,
    ),
]
LimitOption = Annotated[int, typer.Option("--limit", min=1, max=10000, help="Objects per page.")]


def _show(result: SyncResult, json: bool) -> None:
    if json:
        emit_json(result)
        return
    table(
        f"sync {result.direction}",
        ["remote", "collection", "pages", "objects", "new submissions", "duplicates", "revoked",
         "bookmark before", "bookmark after"],
        [(result.remote, result.collection, result.pages, result.objects,
          ", ".join(map(str, result.submissions)) or None, result.duplicates, result.revoked,
          result.bookmark_before, result.bookmark_after)],
    )  # fmt: skip
    if result.direction == "pull" and not result.objects:
        out.print("Nothing new since the bookmark.")


@sync_app.command("pull")
def sync_pull(
    remote: RemoteOption,
    collection: CollectionOption,
    token: TokenOption,
    as_source: Annotated[
        str,
        typer.Option("--as-source", help="Local organisation that stands for the remote."),
    ],
    limit: LimitOption = 1000,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Ingest what a remote collection added since the last pull (incremental, idempotent)."""
    store = instance.open_store(db)
    _show(pull(store, Remote(remote, token), collection, as_source=as_source, limit=limit), json)


@sync_app.command("push")
def sync_push(
    remote: RemoteOption,
    collection: CollectionOption,
    token: TokenOption,
    as_org: Annotated[
        str,
        typer.Option(
            "--as",
            help="Local organisation that stands for the remote: only what the policy "
            "releases to it is pushed.",
        ),
    ],
    limit: LimitOption = 1000,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Post to a remote inbox what the remote's organisation may see here, since the last push."""
    store = instance.open_store(db)
    _show(push(store, Remote(remote, token), collection, as_org=as_org, limit=limit), json)
