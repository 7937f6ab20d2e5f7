"""Report commands: per-country activity reports, threat assessments, advisories, notices."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from marsad.cli import instance
from marsad.cli.app import DbOption, JsonOption, app
from marsad.cli.output import emit_json, out, table
from marsad.model.errors import MarsadError
from marsad.products import service
from marsad.products.activity_data import build_locator, member_countries
from marsad.products.language import checked
from marsad.products.period import parse_period

report_app = typer.Typer(
    help="Analytical products: activity reports, assessments, advisories, notices.",
    no_args_is_help=True,
)
app.add_typer(report_app, name="report")

LangOption = Annotated[
    str,
    typer.Option(
        "--lang",
        help="Language of the product's words: en, ar (right to left) or fr. JSON keys, "
        "STIX, TLP/PAP labels and values stay as they are.",
    ),
]
OutOption = Annotated[
    Path, typer.Option("--out", help="Folder the files are written to (created if missing).")
]


def formats_of(text: str, allowed: tuple[str, ...]) -> list[str]:
    """The comma-separated formats asked for, each one checked."""
    wanted = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in wanted if f not in allowed]
    if bad or not wanted:
        raise MarsadError(
            f"--format {text!r} is not understood: use a comma-separated list of {', '.join(allowed)}"
        )
    return wanted


def _show(rows: list[service.Written], seconds: float, json: bool) -> None:
    if json:
        emit_json({"reports": rows, "seconds": round(seconds, 2)})
        return
    table(
        f"{len(rows)} reports in {seconds:.1f}s",
        ["report", "recipient", "handling", "items", "files"],
        [(r.subject, r.recipient, r.tlp, r.items, "\n".join(r.files)) for r in rows],
    )


@report_app.command("activity")
def activity(
    period: Annotated[
        str, typer.Option("--period", help="2026-10, 2026-Q3, 2026 or 2026-10-01..2026-10-15.")
    ],
    country: Annotated[
        str | None, typer.Option("--country", help="ISO 3166-1 alpha-2 code, e.g. FJ.")
    ] = None,
    all_countries: Annotated[
        bool,
        typer.Option("--all-countries", help="One report per member country with data."),
    ] = False,
    fmt: Annotated[
        str, typer.Option("--format", help="Comma-separated: html, pdf, stix, csv, json.")
    ] = "html",
    folder: OutOption = Path("."),
    as_org: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="The recipient (default: the country's national cyber unit); the report "
            "holds only what the policy lets it see.",
            show_default=False,
        ),
    ] = None,
    lang: LangOption = "en",
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Cyber activity report for a country: its infrastructure, victims and what to do."""
    if (country is None) == (not all_countries):
        raise MarsadError("give either --country CODE or --all-countries")
    formats = formats_of(fmt, service.ACTIVITY_FORMATS)
    lang = checked(lang)
    span = parse_period(period)
    store = instance.open_store(db)
    started = time.perf_counter()
    locator = build_locator(store)
    codes = member_countries(store) if all_countries else [str(country)]
    written = []
    for code in codes:
        report, annex = service.activity_report(store, code, span, as_org=as_org, locator=locator)
        if all_countries and not report.items:
            continue
        written.append(service.written(report, service.write(report, annex, formats, folder, lang)))
    _show(written, time.perf_counter() - started, json)
    if not json and all_countries and not written:
        out.print("No member country has data in this period.")


@report_app.command("assessment")
def assessment(
    period: Annotated[
        str, typer.Option("--period", help="2026-Q3, 2026-10, 2026, or a day range.")
    ],
    region: Annotated[
        str, typer.Option("--region", help="A region (e.g. asia-south-pacific) or global.")
    ],
    fmt: Annotated[
        str, typer.Option("--format", help="Comma-separated: html, pdf, json.")
    ] = "html",
    folder: OutOption = Path("."),
    as_org: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="The reader (default: the region's desk; the hub for global).",
            show_default=False,
        ),
    ] = None,
    annex_rows: Annotated[
        int, typer.Option("--annex-rows", help="Items per country in the annex.")
    ] = 25,
    lang: LangOption = "en",
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Threat assessment of a region: summary, sources, a chapter per major threat, outlook."""
    from marsad.products.assessment_data import assessment as build
    from marsad.products.render import assessment_html

    formats = formats_of(fmt, ("html", "pdf", "json"))
    lang = checked(lang)
    span = parse_period(period)
    store = instance.open_store(db)
    started = time.perf_counter()
    result = build(store, region, span, as_org=as_org, annex_rows=annex_rows, lang=lang)
    stem = f"assessment-{result.region}-{span.label.replace('..', '_')}"
    files = service.write_pages(
        stem, lambda: assessment_html(result, lang), result, formats, folder
    )
    row = service.Written(subject=f"{result.region} {span.label}", recipient=result.recipient,
                          tlp=result.tlp, items=len(result.assertion_ids), files=files)  # fmt: skip
    _show([row], time.perf_counter() - started, json)


@report_app.command("advisory")
def advisory(
    threat: Annotated[str, typer.Option("--threat", help="Threat type, e.g. investment-scam.")],
    fmt: Annotated[
        str, typer.Option("--format", help="Comma-separated: html, pdf, json.")
    ] = "html",
    folder: OutOption = Path("."),
    examples: Annotated[
        int, typer.Option("--examples", help="How many publishable indicators to show.")
    ] = 5,
    issuer: Annotated[
        str, typer.Option("--issuer", help="The organisation named as issuer.")
    ] = "Marsad",
    lang: LangOption = "en",
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Public awareness advisory (TLP:CLEAR only): how the scam works, signs, what to do."""
    from marsad.products.advisory import build_advisory
    from marsad.products.render import advisory_html

    formats = formats_of(fmt, ("html", "pdf", "json"))
    lang = checked(lang)
    store = instance.open_store(db)
    started = time.perf_counter()
    result = build_advisory(store, threat, examples=examples, issuer=issuer, lang=lang)
    files = service.write_pages(f"advisory-{threat}", lambda: advisory_html(result, lang), result,
                                formats, folder)  # fmt: skip
    row = service.Written(subject=f"advisory {threat}", recipient="public", tlp=result.tlp,
                          items=len(result.examples), files=files)  # fmt: skip
    _show([row], time.perf_counter() - started, json)


@report_app.command("notice")
def notice(
    cluster: Annotated[int, typer.Option("--cluster", help="Cluster id (`marsad cluster list`).")],
    as_org: Annotated[
        str,
        typer.Option("--as", help="The issuing organisation; the notice holds what it may see."),
    ],
    title: Annotated[str | None, typer.Option("--title", help="The notice's title.")] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file",
            help="JSON or YAML with method, targets, tools, "
            "countermeasures, and optional tlp/pap floors.",
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="Comma-separated: html, pdf, stix, json.")
    ] = "html",
    folder: OutOption = Path("."),
    lang: LangOption = "en",
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Modus-operandi notice from a cluster: method, targets, tools, indicators, countermeasures."""
    from marsad.products.notice import build_notice, load_text
    from marsad.products.notice_stix import notice_bundle
    from marsad.products.render import notice_html

    formats = formats_of(fmt, ("html", "pdf", "stix", "json"))
    lang = checked(lang)
    text = load_text(from_file) if from_file else None
    store = instance.open_store(db)
    started = time.perf_counter()
    result, views, rels = build_notice(store, cluster, as_org, text=text, title=title,
                                       lang=lang)  # fmt: skip
    stem = f"notice-{cluster}"
    files = service.write_pages(stem, lambda: notice_html(result, lang=lang), result,
                                [f for f in formats if f != "stix"], folder)  # fmt: skip
    if "stix" in formats:
        path = folder / f"{stem}.stix.json"
        path.write_bytes(notice_bundle(result, views, rels))
        files.append(str(path))
    row = service.Written(subject=f"notice {cluster}", recipient=result.issuer, tlp=result.tlp,
                          items=len(result.indicators), files=files)  # fmt: skip
    _show([row], time.perf_counter() - started, json)
