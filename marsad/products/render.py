"""An activity report as HTML (Jinja2), PDF (WeasyPrint), CSV and a STIX 2.1 annex.

Every format is built from the same `ActivityReport`; the HTML and PDF carry the
report's handling as a banner at the top and bottom of every page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import jinja2

from marsad.formats.stix21_export import export_bundle
from marsad.model.records import AssertionView
from marsad.products.activity import ActivityReport
from marsad.products.advisory import Advisory
from marsad.products.assessment import Assessment
from marsad.products.charts import bar_chart, column_chart
from marsad.products.notice import Notice

CSV_COLUMNS = (
    "section", "type", "value", "threat_types", "located_by", "cluster", "tlp",
    "recommended_action", "action_pap", "first_seen", "last_seen", "sources", "grading",
)  # fmt: skip
TLP_COLOURS = {
    "TLP:CLEAR": ("#ffffff", "#000000"),
    "TLP:GREEN": ("#33ff00", "#000000"),
    "TLP:AMBER": ("#ffc000", "#000000"),
    "TLP:AMBER+STRICT": ("#ffc000", "#000000"),
    "TLP:RED": ("#ff2b2b", "#000000"),
}

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("marsad.products", "templates"),
    autoescape=jinja2.select_autoescape(("html", "j2")),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else "-"


_env.filters["day"] = _when


def page(template: str, tlp: str, **context: object) -> str:
    """Render a product template with its handling banner colours."""
    background, ink = TLP_COLOURS[tlp]
    return _env.get_template(template).render(
        tlp=tlp, tlp_background=background, tlp_ink=ink, **context
    )


def pdf_of(html_text: str) -> bytes:
    """HTML rendered to PDF by WeasyPrint (no browser); fonts and images are inline."""
    import weasyprint  # heavy import: only when a PDF is asked for

    return bytes(weasyprint.HTML(string=html_text).write_pdf())


def html(report: ActivityReport) -> str:
    """The report as one self-contained HTML page (charts inline as SVG)."""
    return page(
        "activity.html.j2",
        report.tlp,
        r=report,
        chart_threats=bar_chart(report.by_threat_type, "Items by threat type"),
        chart_days=column_chart(report.over_time, "Items by date first seen"),
        chart_clusters=bar_chart(report.by_cluster, "Infrastructure by network", limit=10),
    )


def pdf(report: ActivityReport) -> bytes:
    """The activity report as PDF."""
    return pdf_of(html(report))


def csv_rows(report: ActivityReport) -> str:
    """One CSV row per listed item."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i in report.items:
        writer.writerow(
            (
                i.section, i.type, i.value, ";".join(i.threat_types), i.located_by,
                i.cluster_id or "", i.tlp, i.action, i.action_pap, _when(i.first_seen),
                _when(i.last_seen), ";".join(e.source for e in i.evidence),
                ";".join(e.grading for e in i.evidence),
            )
        )  # fmt: skip
    return buf.getvalue()


def stix(report: ActivityReport, views: Iterable[AssertionView]) -> bytes:
    """The listed assertions as a STIX 2.1 bundle, each with its own TLP marking."""
    return export_bundle(views, producer=f"Marsad activity report {report.country}",
                         now=report.generated_at)  # fmt: skip


def assessment_html(a: Assessment) -> str:
    """The assessment as one self-contained HTML page."""
    names = {r.country: r.name for r in a.by_country}
    return page(
        "assessment.html.j2",
        a.tlp,
        a=a,
        region_name=a.region.replace("-", " ").title() if a.region != "global" else "Global",
        chart_threats=bar_chart(a.by_threat_type, "Items by threat type"),
        chart_time=column_chart(a.over_time, "Items by date first seen"),
        chart_countries=bar_chart(
            {f"{names[r.country]}": r.infrastructure + r.victims for r in a.by_country},
            "Items by country", limit=30,
        ),
        chapter_charts=[
            (column_chart(c.trend, f"{c.threat}: items by date first seen"),
             bar_chart(c.countries, f"{c.threat}: countries most affected", limit=10))
            for c in a.chapters
        ],
    )  # fmt: skip


def advisory_html(a: Advisory) -> str:
    """The public advisory as one HTML page."""
    return page("advisory.html.j2", a.tlp, a=a)


def notice_html(n: Notice, limit: int = 300) -> str:
    """The modus-operandi notice as one HTML page (at most ``limit`` indicators and links:
    the STIX and JSON forms hold them all)."""
    return page("notice.html.j2", n.tlp, n=n, limit=limit)
