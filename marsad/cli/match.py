"""`marsad match`: a unit's own list or logs against everything it may see; `marsad sightings`."""

from __future__ import annotations

import csv
import datetime as dt
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from marsad.access import audit
from marsad.analysis.correlation import ask_note
from marsad.analysis.match import parse_input, per_key
from marsad.cli import instance
from marsad.cli.access import acting
from marsad.cli.app import AsOption, DbOption, JsonOption, app
from marsad.cli.output import emit_json, out, table, when
from marsad.formats.stix21_sightings import sightings_bundle
from marsad.model.errors import MarsadError
from marsad.store import match_reads as mr
from marsad.store.correlation_reads import warninglist_names

CSV_COLUMNS = ["line", "type", "value", "seen", "via", "assertion_id", "threat_type", "source",
               "tlp", "pap", "grading", "first_seen", "last_seen", "warninglists"]  # fmt: skip


def _read(path: str) -> bytes:
    file = Path(path)
    if not file.is_file():
        raise MarsadError(f"cannot read {path}: no such file")
    return file.read_bytes()


@app.command()
def match(
    file: Annotated[str, typer.Argument(help="A list or log file: IPs, domains, URLs, wallets, …")],
    fmt: Annotated[
        str,
        typer.Option("--format", help="auto, lines (one value per line) or csv (with a header)."),
    ] = "auto",
    column: Annotated[
        str | None, typer.Option("--column", help="CSV column holding the values (default: all).")
    ] = None,
    csv_out: Annotated[
        str | None, typer.Option("--csv", help="Write every hit to this CSV file.")
    ] = None,
    stix_out: Annotated[
        str | None, typer.Option("--stix", help="Write a STIX 2.1 bundle of sightings here.")
    ] = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record-sightings/--no-record-sightings",
            help="Record the hits as sightings, so the sources learn their data was seen.",
        ),
    ] = True,
    limit: Annotated[int, typer.Option("--limit", help="Hits shown in the table.")] = 50,
    as_org: AsOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Match a unit's values against every assertion it may see: hits, handling, grading."""
    started = time.perf_counter()
    raw = _read(file)
    name = Path(file).name
    parsed = parse_input(raw, fmt, column, name)
    store = instance.open_store(db)
    viewer, grant = acting(store, as_org)
    hits, asked = mr.find(store, grant, parsed.keys)
    seen, first_line = per_key(parsed)
    n = len(parsed.keys)
    primary = np.bincount(parsed.pair_key[~parsed.derived], minlength=n) > 0
    hit_keys = sorted({h.key for h in hits})
    listed = dict(zip(hit_keys, warninglist_names([parsed.keys[k] for k in hit_keys]), strict=True))
    rows: list[dict[str, Any]] = [
        {"line": int(first_line[h.key]), "type": parsed.keys[h.key][0],
         "value": parsed.keys[h.key][1], "seen": int(seen[h.key]),
         "via": None if primary[h.key] else "host of a URL", "assertion_id": h.assertion_id,
         "threat_type": h.threat_type, "source": h.source, "tlp": h.tlp, "pap": h.pap,
         "grading": h.grading, "first_seen": h.first_seen, "last_seen": h.last_seen,
         "warninglists": "; ".join(listed[h.key]) or None}
        for h in hits
    ]  # fmt: skip
    rows.sort(key=lambda r: (r["line"], r["assertion_id"]))
    counts = [(h.assertion_id, int(seen[h.key])) for h in hits]
    now = dt.datetime.now(dt.UTC)
    recorded = mr.record_sightings(store, viewer, counts, name, now) if record else 0
    ask = [{"value": parsed.keys[k][1], "owner": o, "note": ask_note(o)} for k, o in asked]
    audit.record(
        store, viewer, "match", name,
        details={"values": parsed.values, "distinct": parsed.distinct,
                 **audit.id_summary(sorted({h.assertion_id for h in hits})),
                 "asked_owner": sorted({o for _, o in asked})},
    )  # fmt: skip
    if csv_out:
        with open(csv_out, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    if stix_out:
        views = {s.id: s.view for s in mr.stored_views(store, grant, [a for a, _ in counts])}
        Path(stix_out).write_bytes(
            sightings_bundle(
                ((views[a], c) for a, c in counts if a in views), observer=viewer.label, now=now,
                description=f"values of {name} matched by {viewer.label}",
            )
        )  # fmt: skip
    report = {
        "file": name, "values": parsed.values, "distinct": parsed.distinct,
        "unparseable": parsed.unparseable, "bad_lines": parsed.bad,
        "hit_values": len({h.key for h in hits}), "hit_assertions": len(hits), "hits": rows,
        "ask_owner": ask, "sightings_recorded": recorded,
        "seconds": round(time.perf_counter() - started, 3),
    }  # fmt: skip
    if json:
        emit_json(report)
        return
    _print(report, rows, limit, viewer.label, viewer.org_id is None and record)


def _print(report: dict[str, Any], rows: list[dict[str, Any]], limit: int, who: str,
           no_org: bool) -> None:  # fmt: skip
    out.print(
        f"{report['file']}: {report['values']:,} values ({report['distinct']:,} distinct), "
        f"{report['unparseable']:,} unparseable; [bold]{report['hit_values']:,}[/] values hit "
        f"{report['hit_assertions']:,} assertions {who} may see, in {report['seconds']}s"
    )
    if rows:
        table(
            f"Hits (first {min(limit, len(rows))} of {len(rows):,})",
            ["line", "value", "seen", "threat", "source", "TLP", "PAP", "grading", "last seen",
             "warninglisted"],
            [(r["line"], r["value"] + (" (URL host)" if r["via"] else ""), r["seen"],
              r["threat_type"], r["source"], r["tlp"], r["pap"], r["grading"],
              (r["last_seen"] or "")[:16] or None, "yes" if r["warninglists"] else None)
             for r in rows[:limit]],
        )  # fmt: skip
    for a in report["ask_owner"][:limit]:
        out.print(f"  {a['value']}: {a['note']}")
    if report["bad_lines"]:
        table(
            f"Unparseable lines (first {len(report['bad_lines'])} of {report['unparseable']:,})",
            ["line", "text", "why"],
            [(b.line, b.text, b.reason) for b in report["bad_lines"][:20]],
        )
    if report["sightings_recorded"]:
        out.print(f"Recorded {report['sightings_recorded']:,} sightings for the sources.")
    elif no_org:
        out.print("No sightings recorded: the local operator is no organisation (use --as ORG).")


@app.command()
def sightings(
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 100,
    as_org: AsOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Where one's own records were seen: other organisations' bulk matches."""
    store = instance.open_store(db)
    viewer, grant = acting(store, as_org)
    rows = mr.sightings_of(store, grant, limit)
    audit.record(store, viewer, "sightings", "own records", details={"rows": len(rows)})
    if json:
        emit_json(rows)
        return
    table(
        f"{len(rows)} sightings of records of {viewer.label}",
        ["assertion", "value", "threat", "seen by", "times", "first", "last"],
        [(r.assertion_id, f"{r.type}:{r.value}", r.threat_type, r.seen_by, r.count,
          when(r.first_at), when(r.last_at)) for r in rows],
    )  # fmt: skip
