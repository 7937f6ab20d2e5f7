"""Owner commands: sharing agreements, tightening handling, retention review."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from marsad.access import stewardship
from marsad.access.policy import OPERATOR
from marsad.cli import instance
from marsad.cli.access import acting
from marsad.cli.app import AsOption, DbOption, JsonOption, app
from marsad.cli.output import emit_json, out, table
from marsad.model.errors import MarsadError
from marsad.model.handling import Handling, Purpose, Releasability, parse_pap, parse_tlp

agreement_app = typer.Typer(
    help="Sharing agreements: the handling floor of an organisation's data.",
    no_args_is_help=True,
)
handling_app = typer.Typer(help="Owners tighten the handling of their records.")
retention_app = typer.Typer(
    help="Records past retention: the owner extends them with a reason, or purges them.",
    no_args_is_help=True,
)
app.add_typer(agreement_app, name="agreement")
app.add_typer(handling_app, name="handling", no_args_is_help=True)
app.add_typer(retention_app, name="retention")

SubmissionOption = Annotated[
    int | None, typer.Option("--submission", help="Only records from this submission.")
]


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise MarsadError(f"{option} must be a date like 2027-01-31, got {text!r}") from None


def _show(org: str, h: Handling) -> None:
    table(
        f"Agreement of {org}",
        ["", ""],
        [
            ("TLP floor", h.tlp.label),
            ("PAP floor", h.pap.label),
            ("recipients", ", ".join(h.releasable_to.tokens()) or "coordinators (hub, desks)"),
            ("grading", h.grading),
            ("purpose", h.purpose.value),
            ("retain until", h.retain_until),
        ],
    )


@agreement_app.command("set")
def agreement_set(
    org: Annotated[str, typer.Argument(help="The organisation whose data it governs.")],
    tlp: Annotated[str, typer.Option("--tlp", help="TLP floor of its data.")] = "amber",
    pap: Annotated[str, typer.Option("--pap", help="PAP floor of its data.")] = "amber",
    releasable_to: Annotated[
        str | None,
        typer.Option("--releasable-to", help="Who may receive it: org:NAME, region:SLUG, …"),
    ] = None,
    reliability: Annotated[
        str, typer.Option("--reliability", help="Agreed source reliability A-F.")
    ] = "F",
    credibility: Annotated[
        int, typer.Option("--credibility", help="Default information credibility 1-6.")
    ] = 6,
    purpose: Annotated[
        Purpose, typer.Option("--purpose", help="Purpose its data may be processed for.")
    ] = Purpose.THREAT_ANALYSIS,
    retain_until: Annotated[
        str | None, typer.Option("--retain-until", help="Latest retention date of its data.")
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Set the agreement governing an organisation's submissions (a floor they cannot loosen)."""
    handling = Handling(
        tlp=parse_tlp(tlp),
        pap=parse_pap(pap),
        releasable_to=Releasability.from_tokens((releasable_to or "").split(",")),
        reliability=reliability.upper(),
        credibility=credibility,
        purpose=purpose,
        retain_until=_date(retain_until, "--retain-until"),
    )
    store = instance.open_store(db)
    stewardship.set_agreement(store, org, handling, OPERATOR)
    if json:
        emit_json(handling)
    else:
        _show(org, handling)


@agreement_app.command("show")
def agreement_show(
    org: Annotated[str, typer.Argument(help="Organisation.")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Show an organisation's agreement."""
    store = instance.open_store(db)
    found = stewardship.agreement_of(store, store.org(org).id)
    if found is None:
        raise MarsadError(f"{org!r} has no agreement: its submissions use their own handling")
    if json:
        emit_json(found)
    else:
        _show(org, found)


@handling_app.command("tighten")
def handling_tighten(
    as_org: AsOption = None,
    submission: SubmissionOption = None,
    tlp: Annotated[str | None, typer.Option("--tlp", help="At least this TLP.")] = None,
    pap: Annotated[str | None, typer.Option("--pap", help="At least this PAP.")] = None,
    retain_until: Annotated[
        str | None, typer.Option("--retain-until", help="Hide them from others after this date.")
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Make an owner's records stricter (never looser); only the owner may."""
    store = instance.open_store(db)
    viewer, _ = acting(store, as_org)
    changed = stewardship.tighten(
        store, viewer, submission_id=submission,
        tlp=parse_tlp(tlp) if tlp else None, pap=parse_pap(pap) if pap else None,
        retain_until=_date(retain_until, "--retain-until"),
    )  # fmt: skip
    if json:
        emit_json({"assertions": changed})
    else:
        out.print(f"Tightened the handling of {changed:,} assertions owned by {viewer.label}.")


@handling_app.command("disclose")
def handling_disclose(
    assertion_id: Annotated[int, typer.Argument(help="The owner's assertion id.")],
    off: Annotated[bool, typer.Option("--off", help="Stop disclosing that it exists.")] = False,
    as_org: AsOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Let those who may not see a record learn that it exists and whom to ask (owner only)."""
    store = instance.open_store(db)
    viewer, _ = acting(store, as_org)
    stewardship.disclose(store, viewer, assertion_id, on=not off)
    if json:
        emit_json({"assertion": assertion_id, "disclose_exists": not off})
    elif off:
        out.print(f"Assertion {assertion_id} is hidden again from those who may not see it.")
    else:
        out.print(
            f"Those who may not see assertion {assertion_id} now learn only that it exists "
            f"and that they may ask {viewer.label}."
        )


@retention_app.command("list")
def retention_list(as_org: AsOption = None, db: DbOption = None, json: JsonOption = False) -> None:
    """The owner's records past retention, hidden from others until reviewed."""
    store = instance.open_store(db)
    viewer, _ = acting(store, as_org)
    rows = stewardship.expired(store, viewer, dt.date.today())
    if json:
        emit_json(rows)
        return
    table(
        f"{sum(r.assertions for r in rows):,} assertions await review",
        ["submission", "assertions", "retained until"],
        [(r.submission_id, r.assertions, r.retain_until) for r in rows],
    )


@retention_app.command("extend")
def retention_extend(
    until: Annotated[str, typer.Option("--until", help="New retention date.")],
    reason: Annotated[str, typer.Option("--reason", help="Why they are still needed.")],
    as_org: AsOption = None,
    submission: SubmissionOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Keep expired records until a new date, with a reason (audited)."""
    store = instance.open_store(db)
    viewer, _ = acting(store, as_org)
    new = _date(until, "--until")
    assert new is not None
    n = stewardship.extend(store, viewer, new, reason, dt.date.today(), submission)
    if json:
        emit_json({"assertions": n, "until": new})
    else:
        out.print(f"Kept {n:,} assertions until {new}.")


@retention_app.command("purge")
def retention_purge(
    reason: Annotated[str, typer.Option("--reason", help="Why they are purged.")],
    as_org: AsOption = None,
    submission: SubmissionOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the records are deleted.")] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Delete expired records for good (audited with the reason)."""
    if not yes:
        raise MarsadError("purging deletes records for good: add --yes to confirm")
    store = instance.open_store(db)
    viewer, _ = acting(store, as_org)
    n = stewardship.purge(store, viewer, reason, dt.date.today(), submission)
    if json:
        emit_json({"purged": n})
    else:
        out.print(f"Purged {n:,} expired assertions owned by {viewer.label}.")
