"""Record commands: ingest, search, submissions, export, demo."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from marsad.access import audit
from marsad.access.policy import OPERATOR, Action, may
from marsad.cli import instance, profiles
from marsad.cli.access import acting
from marsad.cli.alerts import after_ingest
from marsad.cli.app import AsOption, DbOption, JsonOption, app, print_summary
from marsad.cli.enrich import enrich_values, enrichment_json, print_enrichment
from marsad.cli.output import emit_json, err, out, table, when
from marsad.ingest.batch import submission_defaults
from marsad.ingest.pipeline import ParseReport, ingest
from marsad.model.errors import MarsadError
from marsad.model.handling import Purpose, parse_tlp
from marsad.model.normalize import expand
from marsad.model.observable import ObservableType
from marsad.model.records import AssertionView, ThreatType
from marsad.store.store import ExportFilter, Store, StoredAssertion

submissions_app = typer.Typer(
    help="Submissions: what each source sent, and what became of it.", no_args_is_help=True
)
app.add_typer(submissions_app, name="submissions")

PROGRESS_FROM_BYTES = 2_000_000


class UsageError(MarsadError):
    """A command-line value that cannot be used."""


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} must be a date like 2027-01-31, got {text!r}") from None


@app.command("ingest")
def ingest_command(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files or directories (a MISP feed directory is read through its manifest.json) to ingest, or - for standard input."
        ),
    ],
    source: Annotated[str, typer.Option("--source", help="Organisation that submits the data.")],
    fmt: Annotated[
        str, typer.Option("--format", help="Input format, or auto to detect it from the content.")
    ] = "auto",
    tlp: Annotated[
        str | None,
        typer.Option(
            "--tlp",
            help="TLP 2.0 floor: clear, green, amber, amber+strict, red (default amber where a record has no marking).",
        ),
    ] = None,
    pap: Annotated[
        str | None,
        typer.Option("--pap", help="PAP floor: clear, green, amber, red (default amber)."),
    ] = None,
    releasable_to: Annotated[
        str | None,
        typer.Option(
            "--releasable-to", help="Comma-separated org:NAME, region:SLUG, members, partners."
        ),
    ] = None,
    reliability: Annotated[
        str, typer.Option("--reliability", help="Admiralty source reliability A-F.")
    ] = "F",
    credibility: Annotated[
        int, typer.Option("--credibility", help="Admiralty information credibility 1-6.")
    ] = 6,
    purpose: Annotated[
        Purpose, typer.Option("--purpose", help="Why the data may be processed.")
    ] = Purpose.THREAT_ANALYSIS,
    retain_until: Annotated[
        str | None,
        typer.Option("--retain-until", help="Date after which the data is hidden pending review."),
    ] = None,
    review_at: Annotated[
        str | None, typer.Option("--review-at", help="Date the source wants the data reviewed.")
    ] = None,
    threat_type: Annotated[
        ThreatType | None,
        typer.Option("--threat-type", help="Threat type for records that carry none (lists)."),
    ] = None,
    column_map: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="Columns of a CSV/TSV/JSON-lines file: value=COL[,type=COL,threat_type=COL,first_seen=COL,…].",
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="Use a column mapping saved with --save-profile."),
    ] = None,
    save_profile: Annotated[
        str | None,
        typer.Option(
            "--save-profile", help="Save the column mapping under this name for --profile."
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Reject the whole submission on any bad record.")
    ] = False,
    no_analyse: Annotated[
        bool,
        typer.Option(
            "--no-analyse",
            help="Leave the clusters as they are (default: update them incrementally, "
            "unless $MARSAD_ANALYSE_AFTER_INGEST is 0).",
        ),
    ] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Turn a submission into records and print its parse report."""
    defaults = submission_defaults(
        tlp=tlp, pap=pap, releasable_to=releasable_to, reliability=reliability,
        credibility=credibility, purpose=purpose,
        retain_until=_date(retain_until, "--retain-until"), review_at=_date(review_at, "--review-at"),
    )  # fmt: skip
    mapping = profiles.resolve(column_map, profile, save_profile)
    if mapping and fmt not in ("auto", "mapped"):
        raise UsageError(f"--map/--profile read the mapped format, not --format {fmt}")
    store = instance.open_store(db)
    store.org(source)  # fail before reading large inputs
    reports: list[ParseReport] = []
    for path in _expand(paths):
        raw, name = _read(path)
        report = _ingest_one(
            store,
            raw,
            name,
            show_progress=not json,
            source=source,
            fmt=fmt,
            defaults=defaults,
            strict=strict,
            threat_type=threat_type,
            column_map=mapping,
            analyse=False if no_analyse else None,
        )
        reports.append(report)
        _audit_submission(store, source, report)
        if not json:
            _print_report(report)
        if report.status == "ingested":
            after_ingest(store, report.submission_id, quiet=json)
    if json:
        emit_json(reports if len(reports) > 1 else reports[0])
    if any(r.status == "rejected" for r in reports):
        raise typer.Exit(2)


def _audit_submission(store: Store, source: str, r: ParseReport) -> None:
    audit.record(
        store, OPERATOR, "submit", r.filename or "-",
        details={"source": source, "submission": r.submission_id, "status": r.status,
                 "sha256": r.sha256, "accepted": r.accepted, "rejected": r.rejected},
    )  # fmt: skip


def _ingest_one(
    store: Store, raw: bytes, name: str, *, show_progress: bool, **options: Any
) -> ParseReport:
    """Ingest one input, with a progress bar on stderr when it is large."""
    if not show_progress or len(raw) < PROGRESS_FROM_BYTES:
        return ingest(store, raw, filename=name, **options)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} records"),
        TimeElapsedColumn(),
    )
    # drawn at each tick rather than by a refresh thread: with no other thread running,
    # a large file is parsed in a forked child process (marsad.ingest.parse_process)
    with Progress(*columns, console=err, transient=True, auto_refresh=False) as bar:
        task = bar.add_task(f"parse {name}", total=None)

        def tick(phase: str, n: int) -> None:
            bar.update(task, completed=n, description=f"{phase} {name}")
            bar.refresh()

        return ingest(store, raw, filename=name, progress=tick, **options)


def _expand(paths: list[str]) -> list[str]:
    """Files to ingest: a MISP feed directory gives the event files its manifest lists,
    another directory its files in name order; each file is one submission."""
    out: list[str] = []
    for path in paths:
        folder = Path(path)
        if path == "-" or not folder.is_dir():
            out.append(path)
            continue
        manifest = folder / "manifest.json"
        if manifest.is_file():
            try:
                listed = sorted(orjson.loads(manifest.read_bytes()))
            except (orjson.JSONDecodeError, TypeError):
                raise UsageError(f"{manifest} is not a MISP feed manifest (JSON object)") from None
            missing = [u for u in listed if not (folder / f"{u}.json").is_file()]
            if missing:
                raise UsageError(
                    f"{folder}: manifest lists {len(missing)} event(s) with no file, e.g. {missing[0]}.json"
                )
            out += [str(folder / f"{u}.json") for u in listed]
        else:
            out += sorted(
                str(f) for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")
            )
    return out


def _read(path: str) -> tuple[bytes, str]:
    if path == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"cannot read {path}: no such file")
    return file.read_bytes(), file.name


def _print_report(r: ParseReport) -> None:
    if r.status == "duplicate":
        out.print(
            f"{r.filename}: duplicate of submission {r.duplicate_of} (same bytes from {r.source}); nothing changed."
        )
        return
    colour = "green" if r.status == "ingested" else "red"
    out.print(
        f"{r.filename}: [{colour}]{r.status}[/] as submission {r.submission_id} ({r.format}, {r.size:,} bytes, "
        f"sha256 {r.sha256[:16]}…) in {r.seconds:.2f}s"
    )
    out.print(
        f"  {r.records:,} records: {r.accepted:,} new assertions, {r.merged:,} merged, "
        f"{r.entities:,} entities, {r.relationships:,} relationships, {r.consumed:,} markings, "
        f"{r.rejected:,} rejected"
    )
    if r.error:
        err.print(f"[red]error:[/] {r.filename}: {r.error}")
    if r.analysis_error:  # the submission is in all the same
        err.print(f"[yellow]warning:[/] {r.analysis_error}")
    elif r.analysis:
        out.print(f"  {r.analysis}")
    if r.rejections:
        table(None, ["where", "why"], [(x.location, x.reason) for x in r.rejections])
        if r.rejected > len(r.rejections):
            out.print(
                f"  … {r.rejected - len(r.rejections):,} more: `marsad submissions show {r.submission_id}`"
            )


def _assertion_json(a: StoredAssertion) -> dict[str, object]:
    v = a.view
    return {
        "id": a.id,
        "type": v.observable.type.value,
        "value": v.observable.value,
        "threat_type": v.threat_type.value,
        "source": v.source,
        "tlp": v.handling.tlp.label,
        "pap": v.handling.pap.label,
        "grading": v.handling.grading,
        "releasable_to": v.handling.releasable_to.tokens(),
        "purpose": v.handling.purpose.value,
        "retain_until": v.handling.retain_until,
        "first_seen": v.first_seen,
        "last_seen": v.last_seen,
        "sightings": v.sightings,
        "confidence": v.confidence,
        "first_submission_id": a.first_submission_id,
        "last_submission_id": a.last_submission_id,
    }


@app.command()
def search(
    value: Annotated[str, typer.Argument(help="A value as typed: defanged or not, any case.")],
    as_org: AsOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Normalise a value and list every assertion about it that one may see, across sources."""
    wanted = expand(value)
    if not wanted:
        raise UsageError(
            f"{value!r} is not a value Marsad recognises (IP, domain, URL, e-mail, hash, wallet, …)"
        )
    store = instance.open_store(db)
    viewer, grant = acting(store, as_org)
    hits = store.assertions_about(wanted, grant)
    audit.record(store, viewer, "search", value, details=audit.id_summary([a.id for a in hits]))
    notes = enrich_values(wanted)
    if json:
        emit_json(
            {
                "query": value,
                "normalised": [{"type": o.type.value, "value": o.value} for o in wanted],
                "enrichment": enrichment_json(notes),
                "assertions": [_assertion_json(a) for a in hits],
            }
        )
        return
    out.print("Searched " + ", ".join(f"{o.type.value} [bold]{o.value}[/]" for o in wanted))
    print_enrichment(notes)
    table(
        f"{len(hits)} assertions",
        ["value", "threat", "source", "TLP", "PAP", "grading", "first seen", "last seen", "seen"],
        [
            (
                f"{a.view.observable.type.value} {a.view.observable.value}",
                a.view.threat_type.value,
                a.view.source,
                a.view.handling.tlp.value.upper(),
                a.view.handling.pap.value.upper(),
                a.view.handling.grading,
                when(a.view.first_seen),
                when(a.view.last_seen),
                a.view.sightings,
            )
            for a in hits
        ],
    )


@submissions_app.command("list")
def submissions_list(
    source: Annotated[
        str | None, typer.Option("--source", help="Only this organisation's submissions.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 50,
    as_org: AsOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """List submissions, newest first (an organisation sees its own)."""
    store = instance.open_store(db)
    viewer, _ = acting(store, as_org)
    if not viewer.operator:
        if source not in (None, viewer.org_name):
            audit.record(store, viewer, "list-submissions", str(source), outcome="deny")
            raise UsageError(f"{viewer.label} may only list its own submissions")
        source = viewer.org_name
    rows = store.list_submissions(source=source, limit=limit)
    audit.record(store, viewer, "list-submissions", source or "*", details={"count": len(rows)})
    if json:
        emit_json(rows)
        return
    table(
        f"{len(rows)} submissions",
        [
            "id",
            "file",
            "source",
            "format",
            "status",
            "records",
            "new",
            "merged",
            "rejected",
            "received",
            "sha256",
        ],
        [
            (
                r.id,
                r.filename,
                r.source,
                r.format,
                r.status,
                r.records,
                r.accepted,
                r.merged,
                r.rejected,
                when(r.received_at),
                r.sha256[:12],
            )
            for r in rows
        ],
    )


@submissions_app.command("show")
def submissions_show(
    submission_id: Annotated[int, typer.Argument(help="Submission id.")],
    raw: Annotated[
        bool, typer.Option("--raw", help="Write the raw bytes exactly as received to stdout.")
    ] = False,
    as_org: AsOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Show one submission with its rejected records and their reasons."""
    store = instance.open_store(db)
    viewer, _ = acting(store, as_org)
    row = store.submission(submission_id)
    if not viewer.operator and row.source != viewer.org_name:
        audit.record(store, viewer, "read-submission", str(submission_id), outcome="deny")
        raise UsageError(f"no submission with id {submission_id} from {viewer.label}")
    audit.record(store, viewer, "read-submission", str(submission_id), details={"raw": raw})
    if raw:
        sys.stdout.buffer.write(store.raw(submission_id))
        return
    rejected = store.rejections(submission_id)
    if json:
        emit_json({"submission": row, "rejections": rejected})
        return
    table(
        f"Submission {row.id}",
        ["", ""],
        [
            ("source", row.source),
            ("file", row.filename),
            ("format", row.format),
            ("status", row.status),
            ("sha256", row.sha256),
            ("size", f"{row.size:,} bytes"),
            ("received", row.received_at.isoformat()),
            ("completed", row.completed_at.isoformat() if row.completed_at else None),
            ("records", row.records),
            ("new assertions", row.accepted),
            ("merged", row.merged),
            ("entities", row.entities),
            ("relationships", row.relationships),
            ("rejected", row.rejected),
            ("error", row.error),
        ],
    )
    if rejected:
        table(
            "Rejected records",
            ["where", "why", "raw"],
            [(x.location, x.reason, x.raw[:120]) for x in rejected],
        )


@app.command()
def export(
    fmt: Annotated[
        str, typer.Option("--format", help="Output format: stix21, misp or intelmq.")
    ] = "stix21",
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    types: Annotated[
        list[ObservableType] | None,
        typer.Option("--type", help="Only these observable types (repeatable)."),
    ] = None,
    threat_types: Annotated[
        list[ThreatType] | None,
        typer.Option("--threat-type", help="Only these threat types (repeatable)."),
    ] = None,
    sources: Annotated[
        list[str] | None, typer.Option("--source", help="Only these sources (repeatable).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only assertions last seen on or after this date.")
    ] = None,
    max_tlp: Annotated[
        str | None,
        typer.Option("--max-tlp", help="Leave out anything marked more restrictive than this TLP."),
    ] = None,
    as_org: AsOption = None,
    db: DbOption = None,
) -> None:
    """Write the selected assertions as STIX 2.1 (TLP 2.0 markings), a MISP event or IntelMQ events."""
    from marsad.formats.intelmq import export_events
    from marsad.formats.misp_export import export_event
    from marsad.formats.stix21_export import export_bundle

    if fmt not in ("stix21", "misp", "intelmq"):
        raise UsageError(f"unknown export format {fmt!r}; available: stix21, misp, intelmq")
    since_date = _date(since, "--since")
    flt = ExportFilter(
        types=tuple(types or ()),
        threat_types=tuple(threat_types or ()),
        sources=tuple(sources or ()),
        since=dt.datetime.combine(since_date, dt.time(), dt.UTC) if since_date else None,
        max_tlp=parse_tlp(max_tlp) if max_tlp else None,
    )
    store = instance.open_store(db)
    now = dt.datetime.now(dt.UTC)
    viewer, grant = acting(store, as_org)
    if not may(viewer, Action.EXPORT):
        audit.record(store, viewer, "export", fmt, outcome="deny")
        raise UsageError(f"{viewer.label} may not export ({viewer.role.value})")
    exported: list[int] = []

    def views() -> Iterator[AssertionView]:
        for a in store.iter_assertions(flt, grant):
            exported.append(a.id)
            yield a.view

    if fmt == "misp":
        data = export_event(views(), info=f"Marsad export {now:%Y-%m-%d %H:%M}", now=now)
    elif fmt == "intelmq":
        data = export_events(views())
    else:
        data = export_bundle(views(), now=now)
    audit.record(store, viewer, "export", fmt, details=audit.id_summary(exported))
    if output:
        Path(output).write_bytes(data)
        err.print(f"Wrote {len(data):,} bytes to {output}")
    else:
        sys.stdout.buffer.write(data if data.endswith(b"\n") else data + b"\n")


@app.command()
def demo(
    scale: Annotated[
        float, typer.Option("--scale", help="Size of the demo world (1.0 ≈ 300,000 assertions).")
    ] = 1.0,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the deterministic generator.")
    ] = 2026,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Create an instance if needed, load the deterministic demo world and print a summary."""
    from marsad.analysis.incremental import analyse
    from marsad.demo.accounts import ensure_accounts
    from marsad.demo.feedback import ensure_feedback
    from marsad.demo.load import load_world
    from marsad.demo.watchlists import ensure_watchlists
    from marsad.products import alerting

    url = db or instance.configured_url()
    store = instance.open_store(url, create=True)
    instance.save_url(url)
    result = load_world(store, seed=seed, scale=scale, console=None if json else err)
    data = store.summary()
    accounts = ensure_accounts(store)
    clusters = analyse(store, full=True).clusters
    seen, acted = ensure_feedback(store, seed=seed)
    watched = ensure_watchlists(store)
    runs = alerting.run(store, context=alerting.Context(deliver=False))
    alerts = sum(r.raised for r in runs)
    if json:
        emit_json({"loaded": result, "summary": data, "clusters": clusters, "accounts": accounts,
                   "watchlist_entries": watched, "alerts": alerts,
                   "feedback": {"sightings": seen, "actions": acted}})  # fmt: skip
        return
    out.print(
        f"Demo world loaded into {instance.display_url(url)}: {result['submissions']} submissions in {result['seconds']:.1f}s "
        f"({result['records_per_second']:,.0f} records/s)"
    )
    print_summary(data)
    out.print(f"{clusters:,} infrastructure clusters (`marsad cluster list`).")
    out.print(
        f"{seen:,} sightings and {acted:,} actions taken by the national units on partners' "
        "records (the feedback `partner.submitter` sees on its submissions)."
    )
    out.print(
        f"{alerts:,} alerts raised for the national units' {watched} watchlist entries "
        "(their country and ccTLD; `marsad alerts list --as UNIT`)."
    )
    table(
        "Demo accounts (web and API; `marsad token create USER` for an API token)",
        ["user", "organisation", "role", "password"],
        [(a.user, a.organisation, a.role.value, a.password) for a in accounts],
    )
