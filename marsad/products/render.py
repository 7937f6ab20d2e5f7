"""An activity report as HTML (Jinja2), PDF (WeasyPrint), CSV and a STIX 2.1 annex.

Every format is built from the same `ActivityReport`; the HTML and PDF carry the
report's handling as a banner at the top and bottom of every page.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable
from html import escape

import jinja2

from marsad.formats.stix21_export import export_bundle
from marsad.model.records import AssertionView
from marsad.products.activity import ActivityReport
from marsad.products.advisory import Advisory
from marsad.products.assessment import Assessment
from marsad.products.charts import bar_chart, column_chart
from marsad.products.language import (
    DEFAULT,
    DIRECTION,
    Gettext,
    country_name,
    gettext,
    located,
    network_name,
    region_name,
)
from marsad.products.language import translations as _translations
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


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else "-"


@functools.cache
def _env(lang: str) -> jinja2.Environment:
    """The product templates with the words of one language installed."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("marsad.products", "templates"),
        autoescape=jinja2.select_autoescape(("html", "j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(_translations(lang), newstyle=True)  # type: ignore[attr-defined]
    _ = gettext(lang)
    env.filters["day"] = _when
    env.filters["country"] = lambda code: country_name(code, lang)
    env.filters["located"] = lambda text: located(text, _)
    env.filters["say"] = _  # a word kept in the data in English (an action, a reason)
    return env


def page(template: str, tlp: str, lang: str = DEFAULT, **context: object) -> str:
    """Render a product template in ``lang`` with its handling banner colours."""
    background, ink = TLP_COLOURS[tlp]
    return _env(lang).get_template(template).render(
        tlp=tlp, tlp_background=background, tlp_ink=ink, lang=lang, dir=DIRECTION[lang],
        **context,
    )  # fmt: skip


def pdf_of(html_text: str) -> bytes:
    """HTML rendered to PDF by WeasyPrint (no browser); fonts and images are inline."""
    import weasyprint  # heavy import: only when a PDF is asked for

    return bytes(weasyprint.HTML(string=html_text).write_pdf())


def _bars(counts: dict[str, int], title: str, _: Gettext, limit: int = 15) -> str:
    """A bar chart with its title as HTML above it (see `charts`)."""
    svg = bar_chart(counts, title, limit, _("nothing in this period"), drawn_title=False)
    return f'<p class="chart-title">{escape(title)}</p>{svg}'


def _columns(counts: dict[str, int], title: str) -> str:
    svg = column_chart(counts, title, drawn_title=False)
    return f'<p class="chart-title">{escape(title)}</p>{svg}'


def html(report: ActivityReport, lang: str = DEFAULT) -> str:
    """The report as one self-contained HTML page in ``lang`` (charts inline as SVG)."""
    _ = gettext(lang)
    clusters = {network_name(k, _): n for k, n in report.by_cluster.items()}
    return page(
        "activity.html.j2",
        report.tlp,
        lang,
        r=report,
        chart_threats=_bars(report.by_threat_type, _("Items by threat type"), _),
        chart_days=_columns(report.over_time, _("Items by date first seen")),
        chart_clusters=_bars(clusters, _("Infrastructure by network"), _, limit=10),
    )


def pdf(report: ActivityReport, lang: str = DEFAULT) -> bytes:
    """The activity report as PDF in ``lang``."""
    return pdf_of(html(report, lang))


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


def assessment_html(a: Assessment, lang: str = DEFAULT) -> str:
    """The assessment as one self-contained HTML page in ``lang``."""
    _ = gettext(lang)
    return page(
        "assessment.html.j2",
        a.tlp,
        lang,
        a=a,
        region_name=region_name(a.region, _),
        chart_threats=_bars(a.by_threat_type, _("Items by threat type"), _),
        chart_time=_columns(a.over_time, _("Items by date first seen")),
        chart_countries=_bars(
            {country_name(r.country, lang): r.infrastructure + r.victims for r in a.by_country},
            _("Items by country"), _, limit=30,
        ),
        chapter_charts=[
            (_columns(c.trend, _("%(threat)s: items by date first seen") % {"threat": c.threat}),
             _bars(c.countries, _("%(threat)s: countries most affected") % {"threat": c.threat},
                   _, limit=10))
            for c in a.chapters
        ],
    )  # fmt: skip


def advisory_html(a: Advisory, lang: str = DEFAULT) -> str:
    """The public advisory as one HTML page in ``lang`` (its advice as built: see
    `build_advisory`'s ``lang``)."""
    return page("advisory.html.j2", a.tlp, lang, a=a)


def notice_html(n: Notice, limit: int = 300, lang: str = DEFAULT) -> str:
    """The modus-operandi notice as one HTML page in ``lang`` (at most ``limit`` indicators
    and links: the STIX and JSON forms hold them all)."""
    return page("notice.html.j2", n.tlp, lang, n=n, limit=limit)
