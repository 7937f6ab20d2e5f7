"""Watchlists and alerts: `marsad watch …` and `marsad alerts …`."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import typer

from marsad.access import audit
from marsad.access.policy import Grant, Viewer, grant_for
from marsad.cli import instance
from marsad.cli.access import acting
from marsad.cli.app import AsOption, DbOption, JsonOption, app
from marsad.cli.output import emit_json, err, out, table, when
from marsad.model.errors import MarsadError
from marsad.products import alert_store, alerting, delivery, digest
from marsad.products.watch import KINDS
from marsad.store import alert_reads
from marsad.store.alert_reads import AlertView
from marsad.store.store import Store

watch_app = typer.Typer(
    help="Watchlists: the IP ranges, ASNs, domains, keywords, values and threat types an "
    "organisation is alerted about.",
    no_args_is_help=True,
)
alerts_app = typer.Typer(
    help="Alerts: new assertions that match an organisation's watchlists and that it may see.",
    no_args_is_help=True,
)
channel_app = typer.Typer(
    help="Where an organisation's alerts are delivered: signed webhooks and e-mail.",
    no_args_is_help=True,
)
app.add_typer(watch_app, name="watch")
app.add_typer(alerts_app, name="alerts")
alerts_app.add_typer(channel_app, name="channel")

WatchKind = StrEnum("WatchKind", {k.upper().replace("-", "_"): k for k in KINDS})  # type: ignore[misc]


class ChannelKind(StrEnum):
    """Kinds of delivery channel."""

    WEBHOOK = "webhook"
    EMAIL = "email"


class AlertsUsageError(MarsadError):
    """A command-line value that cannot be used."""


OrgOption = Annotated[str, typer.Option("--org", help="The organisation whose watchlist it is.")]
KindArg = Annotated[WatchKind, typer.Argument(help="What kind of entry.", show_default=False)]
ValueArg = Annotated[str, typer.Argument(help="The entry, e.g. FJ, AS64500, fj, example.org.")]


def _day(text: str | None) -> dt.date:
    if text is None:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise AlertsUsageError(f"--day must be a date like 2026-11-23, got {text!r}") from None


# -- watch ----------------------------------------------------------------------------------


@watch_app.command("add")
def watch_add(org: OrgOption, kind: KindArg, value: ValueArg, db: DbOption = None,
              json: JsonOption = False) -> None:  # fmt: skip
    """Watch a country's IP space, an ASN, a CIDR, a ccTLD, a domain, a keyword, a value or a threat type."""
    entry = alert_store.add_entry(instance.open_store(db), org, kind.value, value)
    if json:
        emit_json(entry)
    else:
        out.print(f"{org} now watches {entry.kind} {entry.value} (entry {entry.id}).")


@watch_app.command("list")
def watch_list(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation.")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """List watchlist entries."""
    rows = alert_store.list_entries(instance.open_store(db), org)
    if json:
        emit_json(rows)
        return
    table(f"{len(rows)} watchlist entries", ["id", "organisation", "kind", "value", "added"],
          [(r.id, r.org, r.kind, r.value, when(r.created_at)) for r in rows])  # fmt: skip


@watch_app.command("remove")
def watch_remove(org: OrgOption, kind: KindArg, value: ValueArg, db: DbOption = None,
                 json: JsonOption = False) -> None:  # fmt: skip
    """Stop watching an entry."""
    removed = alert_store.remove_entry(instance.open_store(db), org, kind.value, value)
    if json:
        emit_json({"removed": removed})
    else:
        out.print(f"Removed entry {removed} from {org}'s watchlist.")


# -- evaluation -----------------------------------------------------------------------------


def after_ingest(store: Store, submission_id: int, *, quiet: bool) -> None:
    """Evaluate a just-ingested submission; a failure is reported, never fatal to the ingest."""
    try:
        context = alerting.context_for(instance.home())
        summary = alerting.evaluate_submission(store, submission_id, context)
    except Exception as exc:  # the submission is in: alerts can be raised later
        err.print(f"[yellow]warning:[/] alert evaluation of submission {submission_id} failed "
                  f"({type(exc).__name__}: {exc}); run `marsad alerts run` later")  # fmt: skip
        return
    if not quiet:
        failed = f", {summary.failed} deliveries failed" if summary.failed else ""
        out.print(f"{summary.raised} alerts raised{failed}")


@alerts_app.command("run")
def alerts_run(
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Re-evaluate every submission ingested since this date "
            "(e.g. after watchlists changed); default: those never evaluated.",
        ),
    ] = None,
    no_deliver: Annotated[
        bool, typer.Option("--no-deliver", help="Raise alerts in the application only.")
    ] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Evaluate submissions against the watchlists."""
    store = instance.open_store(db)
    start = None
    if since is not None:
        day = _day(since)
        start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    context = alerting.context_for(instance.home(), deliver=not no_deliver)
    summaries = alerting.run(store, start, context)
    if json:
        emit_json(summaries)
        return
    table(f"{len(summaries)} submissions evaluated",
          ["submission", "assertions", "organisations", "alerts raised", "evidence added",
           "delivered", "failed", "seconds"],
          [(s.submission_id, s.assertions, s.organisations, s.raised, s.evidence, s.delivered,
            s.failed, s.seconds) for s in summaries])  # fmt: skip
    out.print(f"{sum(s.raised for s in summaries)} alerts raised")


# -- reading --------------------------------------------------------------------------------


def _readers(
    store: Store, org: str | None, as_org: str | None
) -> tuple[Viewer, list[tuple[int, str, Grant]]]:
    """Who reads, and whose alerts through whose grant: an alert always shows what its
    organisation may see today, whoever lists it."""
    if org and as_org and org != as_org:
        raise AlertsUsageError("--org and --as name different organisations: use one")
    viewer, _ = acting(store, as_org)
    names = (
        [org or as_org] if (org or as_org) else [n for _, n in alert_reads.orgs_with_alerts(store)]
    )
    today = dt.date.today()
    readers = []
    for name in names:
        assert name is not None
        own = store.viewer(name)
        readers.append((int(own.org_id or 0), name, grant_for(own, today)))
    return viewer, readers


def _alerts_table(title: str, rows: list[AlertView]) -> None:
    table(title, ["id", "organisation", "type", "value", "TLP", "matched", "evidence", "raised", "acked"],
          [(a.id, a.org, a.type, a.value, a.tlp.upper(), ", ".join(a.reasons),
            "; ".join(f"{e.threat_type} from {e.source}" for e in a.evidence),
            when(a.raised_at), when(a.acked_at)) for a in rows])  # fmt: skip


@alerts_app.command("list")
def alerts_list(
    org: Annotated[
        str | None, typer.Option("--org", help="Only this organisation's alerts.")
    ] = None,
    as_org: AsOption = None,
    unacked: Annotated[
        bool, typer.Option("--unacked", help="Only alerts not acknowledged.")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", help="At most this many per organisation.")
    ] = 1000,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """List alerts, each with only the evidence its organisation may see today (audited)."""
    store = instance.open_store(db)
    viewer, readers = _readers(store, org, as_org)
    rows: list[AlertView] = []
    for org_id, name, grant in readers:
        rows += alert_reads.list_alerts(store, org_id, name, grant, unacked=unacked, limit=limit)
    audit.record(store, viewer, "list-alerts", org or as_org or "*",
                 details={"unacked": unacked, **audit.id_summary([a.id for a in rows])})  # fmt: skip
    if json:
        emit_json(rows)
    else:
        _alerts_table(f"{len(rows)} alerts", rows)


@alerts_app.command("ack")
def alerts_ack(
    ids: Annotated[list[int], typer.Argument(help="Alert ids.")],
    as_org: AsOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Acknowledge alerts."""
    store = instance.open_store(db)
    viewer, grant = acting(store, as_org)
    done, missing = alert_reads.acknowledge(store, viewer.org_id, grant, ids, viewer.label)
    audit.record(store, viewer, "ack-alerts", ",".join(map(str, ids))[:200],
                 details={"acked": done, "not_found": missing})  # fmt: skip
    if json:
        emit_json({"acknowledged": done, "not_found": missing})
        return
    out.print(f"Acknowledged {len(done)} alerts.")
    if missing:
        raise AlertsUsageError(f"no alert {', '.join(map(str, missing))} for {viewer.label}")


@alerts_app.command("digest")
def alerts_digest(
    as_org: Annotated[str, typer.Option("--as", help="The organisation the digest is for.")],
    day: Annotated[str | None, typer.Option("--day", help="The UTC day (default: today).")] = None,
    send: Annotated[
        bool, typer.Option("--send", help="E-mail it to the organisation's e-mail channels.")
    ] = False,
    html: Annotated[bool, typer.Option("--html", help="Print the HTML form.")] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """The day's alerts of an organisation as text, HTML or JSON; e-mailed with --send."""
    store = instance.open_store(db)
    date = _day(day)
    viewer, grant = acting(store, as_org)
    start, end = digest.day_bounds(date)
    assert viewer.org_id is not None
    rows = alert_reads.list_alerts(store, viewer.org_id, as_org, grant, since=start, until=end)
    title = digest.digest_title(as_org, date, len(rows))
    sent = None
    if send:
        emails = [c for c in alert_store.list_channels(store, as_org) if c.kind == "email"]
        if not emails:
            raise AlertsUsageError(f"{as_org} has no e-mail channel (marsad alerts channel add)")
        config = delivery.load_config(instance.home())
        sent = delivery.send_email(config, [c.target for c in emails],
                                   f"[{digest.most_restrictive(rows)}] {title}",
                                   digest.text(title, rows), digest.html(title, rows))  # fmt: skip
    audit.record(store, viewer, "digest-alerts", date.isoformat(),
                 details={"sent": bool(sent and sent.get("ok")),
                          **audit.id_summary([a.id for a in rows])})  # fmt: skip
    if json:
        emit_json({"title": title, "day": date, "tlp": digest.most_restrictive(rows),
                   "alerts": rows, "sent": sent})  # fmt: skip
    else:
        print(digest.html(title, rows) if html else digest.text(title, rows), end="")
    if sent is not None and not sent.get("ok"):
        raise AlertsUsageError(f"the digest was not sent: {sent.get('error') or sent}")


# -- channels -------------------------------------------------------------------------------


@channel_app.command("add")
def channel_add(
    org: Annotated[str, typer.Option("--org", help="The organisation the channel serves.")],
    kind: Annotated[ChannelKind, typer.Argument(help="webhook or email.")],
    target: Annotated[str, typer.Argument(help="The webhook URL or the e-mail address.")],
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret", help="HMAC key of a webhook (default: a new random one, printed once)."
        ),
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Deliver an organisation's new alerts to a webhook or an e-mail address."""
    ch = alert_store.add_channel(instance.open_store(db), org, kind.value, target, secret)
    if json:
        emit_json(ch)
        return
    out.print(f"Channel {ch.id}: {ch.kind} {ch.target} for {org}.")
    if ch.secret:
        out.print(f"Webhook secret (verify {delivery.SIGNATURE_HEADER}): {ch.secret}")


@channel_app.command("list")
def channel_list(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation.")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """List delivery channels (webhook secrets are not shown)."""
    rows = alert_store.list_channels(instance.open_store(db), org)
    shown = [{"id": c.id, "org": c.org, "kind": c.kind, "target": c.target} for c in rows]
    if json:
        emit_json(shown)
        return
    table(f"{len(rows)} channels", ["id", "organisation", "kind", "target"],
          [(c.id, c.org, c.kind, c.target) for c in rows])  # fmt: skip


@channel_app.command("remove")
def channel_remove(
    channel_id: Annotated[int, typer.Argument(help="The channel id.")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Remove a delivery channel."""
    alert_store.remove_channel(instance.open_store(db), channel_id)
    if json:
        emit_json({"removed": channel_id})
    else:
        out.print(f"Removed channel {channel_id}.")
