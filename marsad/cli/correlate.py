"""`marsad correlate`: what other sources, submissions, cases and countries say about a value."""

from __future__ import annotations

from typing import Annotated

import typer

from marsad.access import audit
from marsad.analysis.correlation import DEFAULT_MAX_SUBMISSIONS, CorrelationRule
from marsad.cli import instance
from marsad.cli.access import acting
from marsad.cli.app import AsOption, DbOption, JsonOption, app
from marsad.cli.output import emit_json, out, table, when
from marsad.model.errors import MarsadError
from marsad.model.normalize import expand
from marsad.store import correlation_reads as cr

MaxSubmissions = Annotated[
    int,
    typer.Option(
        "--max-submissions",
        help="A value in more distinct submissions than this over-correlates (kept out of clusters).",
    ),
]


@app.command()
def correlate(
    value: Annotated[
        str | None,
        typer.Argument(help="A value as typed (normalised like search); leave out with --top."),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option("--top", help="List the N most-correlated values one may see instead."),
    ] = None,
    min_sources: Annotated[
        int, typer.Option("--min-sources", help="With --top: at least this many sources.")
    ] = 2,
    max_submissions: MaxSubmissions = DEFAULT_MAX_SUBMISSIONS,
    as_org: AsOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Correlate a value across sources, submissions, cases and countries, or list the top ones."""
    if (value is None) == (top is None):
        raise MarsadError("give either a VALUE or --top N")
    rule = CorrelationRule(max_submissions=max_submissions)
    store = instance.open_store(db)
    viewer, grant = acting(store, as_org)
    if top is not None:
        rows = cr.top(store, grant, top, min_sources=min_sources, rule=rule)
        audit.record(store, viewer, "correlate-top", str(top),
                     details={"values": [f"{r.type}:{r.value}" for r in rows]})  # fmt: skip
        if json:
            emit_json(rows)
            return
        table(
            f"{len(rows)} most-correlated values {viewer.label} may see",
            ["value", "sources", "submissions", "countries", "cases", "assertions", "flags"],
            [(f"{r.type}:{r.value}", r.counts.sources, r.counts.submissions, r.counts.countries,
              r.counts.cases, r.counts.assertions, "; ".join(r.flags) or None) for r in rows],
        )  # fmt: skip
        return
    assert value is not None
    wanted = expand(value)
    if not wanted:
        raise MarsadError(
            f"{value!r} is not a value Marsad recognises (IP, domain, URL, e-mail, hash, wallet, …)"
        )
    found = cr.correlate(store, grant, wanted, rule)
    audit.record(
        store, viewer, "correlate", value,
        details={**audit.id_summary([s.assertion_id for c in found for s in c.said]),
                 "asked_owner": sorted({a.owner for c in found for a in c.ask_owner})},
    )  # fmt: skip
    if json:
        emit_json({"query": value, "normalised": [o.ref for o in wanted], "correlations": found})
        return
    if not found:
        out.print(f"Nothing {viewer.label} may see is known about {value}.")
        return
    for c in found:
        n = c.counts
        out.print(
            f"[bold]{c.type}:{c.value}[/]: {n.assertions} assertions from {n.sources} sources, "
            f"{n.submissions} submissions, {n.countries} countries, {n.cases} cases"
        )
        for flag in c.flags:
            out.print(f"  [yellow]over-correlating:[/] {flag}")
        if c.said:
            table(
                None,
                ["assertion", "source", "country", "threat", "TLP", "PAP", "grading", "first seen",
                 "last seen", "submissions"],
                [(s.assertion_id, s.source + (" (own)" if s.own else ""), s.country, s.threat_type,
                  s.tlp, s.pap, s.grading, when(s.first_seen), when(s.last_seen),
                  ", ".join(map(str, s.submissions[:8])) + (" …" if len(s.submissions) > 8 else ""))
                 for s in c.said],
            )  # fmt: skip
        if c.entities:
            out.print("  linked: " + "; ".join(c.entities))
        for ask in c.ask_owner:
            out.print(f"  {ask.note}")
