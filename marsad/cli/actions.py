"""Actions taken: `marsad action record|list|kinds`.

An organisation records what it did about a value or an assertion it may see (blocked,
taken down, investigation opened, …); the records' sources read it back as feedback with
`marsad action list --as SOURCE --scope on-own`, as they do on the web and through the API.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from marsad.access import audit
from marsad.cli import instance
from marsad.cli.access import acting
from marsad.cli.app import AsOption, DbOption, JsonOption, app
from marsad.cli.output import emit_json, out, table, when
from marsad.model.actions import ActionError, ActionKind, ActionTaken, clean_note, parse_kind
from marsad.model.normalize import detect, observable
from marsad.model.observable import Observable, ObservableType
from marsad.store import action_reads, reads

action_app = typer.Typer(
    help="Actions taken on records (blocked, taken down, …): feedback to their sources.",
    no_args_is_help=True,
)
app.add_typer(action_app, name="action")


def _observable(value: str, kind: ObservableType | None) -> Observable:
    if kind is not None:
        return observable(kind, value)
    found = detect(value)
    if found is None:
        raise ActionError(f"{value[:80]!r} is not a value Marsad recognises; give --type")
    return found


def _print(rows: list[ActionTaken], title: str) -> None:
    table(
        title,
        ["id", "assertion", "value", "threat", "action", "by", "user", "when", "note"],
        [(x.id, x.assertion_id, f"{x.type}:{x.value}", x.threat_type, x.kind.value, x.org,
          x.user, when(x.taken_at), x.note) for x in rows],
    )  # fmt: skip


@action_app.command("record")
def action_record(
    kind: Annotated[str, typer.Argument(help="What was done: see `marsad action kinds`.")],
    value: Annotated[
        str | None, typer.Argument(help="The value acted on, as typed (every visible record).")
    ] = None,
    type_: Annotated[
        ObservableType | None, typer.Option("--type", help="The value's type, if not detected.")
    ] = None,
    assertion: Annotated[
        int | None, typer.Option("--assertion", help="Act on this one assertion instead.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="At most 500 characters.")] = None,
    as_org: AsOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Record an action your organisation (--as ORG) took on a value or an assertion it may see."""
    if as_org is None:
        raise ActionError("say which organisation took the action: --as ORG")
    if (value is None) == (assertion is None):
        raise ActionError("give either a VALUE or --assertion ID")
    action, text = parse_kind(kind), clean_note(note)
    store = instance.open_store(db)
    viewer, grant = acting(store, as_org)
    if assertion is not None:
        target, ids = f"assertion {assertion}", [assertion]
    else:
        assert value is not None
        obs = _observable(value, type_)
        hits = reads.lookup(store, grant, [obs])
        if not hits:
            raise ActionError(f"nothing known about {obs.ref} that {as_org} may see")
        target, ids = obs.ref, [a.id for a in hits]
    made = action_reads.record(store, viewer, grant, ids, action, text, actor="local-operator",
                               target=target, now=dt.datetime.now(dt.UTC).replace(microsecond=0))  # fmt: skip
    rows = action_reads.listing(store, grant, ids=made, limit=len(made))
    if json:
        emit_json(rows)
    else:
        out.print(f"Recorded {action.value} by {as_org} on {len(made)} records of {target}.")


@action_app.command("list")
def action_list(
    scope: Annotated[
        str, typer.Option("--scope", help="all, on-own (feedback on your records) or by-own.")
    ] = "all",
    submission: Annotated[
        int | None, typer.Option("--submission", help="Only on this submission's records.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 100,
    as_org: AsOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Actions the policy shows: taken by your organisation, and on its records."""
    store = instance.open_store(db)
    viewer, grant = acting(store, as_org)
    if submission is not None and reads.submission_of(store, grant, submission) is None:
        raise ActionError(f"no submission {submission} from {viewer.label}")
    rows = action_reads.listing(store, grant, scope=scope, submission_id=submission, limit=limit)
    audit.record(store, viewer, "list-actions", scope,
                 details={"submission": submission, **audit.id_summary([x.id for x in rows])})  # fmt: skip
    if json:
        emit_json(rows)
    else:
        _print(rows, f"{len(rows)} actions taken ({scope}) seen by {viewer.label}")


@action_app.command("kinds")
def action_kinds(json: JsonOption = False) -> None:
    """The kinds of action one can record."""
    kinds = [k.value for k in ActionKind]
    if json:
        emit_json(kinds)
    else:
        out.print("\n".join(kinds))
