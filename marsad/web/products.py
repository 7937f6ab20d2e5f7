"""Threat assessments, awareness advisories and modus-operandi notices in the web.

Each product is made by its generator in `marsad.products` for the signed-in organisation,
exactly as `marsad report assessment|advisory|notice --as ORG` makes it: the assessment and
the notice read through that organisation's grant, the advisory through the public's
(TLP:CLEAR only). A form with defaults asks for the product; the page shows it with its
handling banner, and the same product downloads in the generator's formats. Every
production is audited with what it disclosed; a bad request is answered by the form with
the problem named (400), never by a traceback.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from marsad.access.policy import Action
from marsad.exchange.auth import settings_of
from marsad.model.errors import MarsadError
from marsad.model.handling import PAP, TLP, Region
from marsad.products import render
from marsad.products.activity_data import Locator, build_locator
from marsad.products.advisory import Advisory, build_advisory
from marsad.products.advisory_text import ADVICE
from marsad.products.assessment import Assessment
from marsad.products.assessment_data import GLOBAL, assessment, countries_of, region_of
from marsad.products.networks import touched
from marsad.products.notice import Notice, NoticeText, build_notice
from marsad.products.notice_stix import notice_bundle
from marsad.products.period import parse_period
from marsad.store.kept import Build, Kept, progress_of
from marsad.web import clustering
from marsad.web.auth import N_, WebCaller, WebError, clean, page_permit
from marsad.web.i18n import failure
from marsad.web.i18n import ngettext as counted_in
from marsad.web.render import page, wants_json

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebCaller, Depends(page_permit(Action.READ))]
MEDIA = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
    "stix": "application/stix+json;version=2.1",
}
PAGES = ("pdf", "html", "json")  # what the assessment and advisory generators write
NOTICE_FORMATS = ("pdf", "html", "stix", "json")
REGIONS = (GLOBAL, *(r.value for r in Region))
LIMITS = {"title": 200, "method": 4000, "targets": 2000, "tools": 2000, "countermeasures": 4000}


def last_quarter(today: dt.date) -> str:
    """The label of the last complete quarter before ``today``."""
    quarter = (today.month - 1) // 3
    return f"{today.year - 1}-Q4" if quarter == 0 else f"{today.year}-Q{quarter}"


def _param(request: Request, name: str, limit: int = 60) -> str:
    return clean(request.query_params.get(name) or "")[:limit].strip()


def _asked(request: Request) -> bool:
    return any(k != "format" for k in request.query_params)


def _file(body: bytes, fmt: str, stem: str) -> Response:
    name = f"{stem}.{'stix.json' if fmt == 'stix' else fmt}"
    return Response(body, media_type=MEDIA[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
    })  # fmt: skip


def _pages(fmt: str, html: Callable[[], str], data: object, stem: str) -> Response:
    """A product in one of the formats every generator writes: PDF, HTML or its JSON twin."""
    if fmt == "json":
        return _file(msgspec.json.encode(data), fmt, stem)
    text = html()
    return _file(render.pdf_of(text) if fmt == "pdf" else text.encode(), fmt, stem)


def _form(request: Request, who: WebCaller, template: str, data: dict[str, Any],
          make: Callable[[], Any], key: str) -> Response:  # fmt: skip
    """The form, and once asked for, the product in the page (or the form with the problem)."""
    status = 200
    data.update({key: None, "error": None})
    if _asked(request):
        try:
            data[key] = make()
        except WebError as exc:
            data["error"], status = exc.message, exc.status
    return page(request, who, template, data, status)


# -- the threat assessment -------------------------------------------------------------


def _assessment_asked(request: Request, who: WebCaller) -> tuple[str, str]:
    region = _param(request, "region") or who.viewer.region or GLOBAL
    period = _param(request, "period") or last_quarter(settings_of(request).today())
    return region, period


_assessments: Kept[Assessment] = Kept(
    size=16, ttl=None, what=N_("Building the threat assessment"), prebuild=2
)
_files: Kept[bytes] = Kept(size=8, ttl=None)
_locators: Kept[Locator] = Kept(size=2, ttl=None)
UNEXPECTED = N_("The assessment could not be built because of an unexpected error (it has been "
                "logged); reload the page to try again.")  # fmt: skip


def _locator(who: WebCaller) -> Locator:
    """Where every value sits and the stored clusters: the same for every reader (each
    report still reads its items through its reader's grant), so built once per store
    version for all of them."""
    return _locators.get(who.store, "locator", lambda: build_locator(who.store))


def _assessment_of(
    request: Request, who: WebCaller, *, wait: bool, retry: bool = True
) -> Assessment | Build[Assessment]:
    """The assessment for the signed-in organisation, built in the background once per grant,
    language, region and period until the store changes (`marsad.store.kept`): the kept one,
    or (unless ``wait``) the build making it. Viewing it then downloading it builds it once.
    The region and period are checked here, so a bad request is answered at once (400)."""
    region, period = _assessment_asked(request, who)
    try:
        span, region = parse_period(period), region_of(region)
    except MarsadError as exc:
        who.audit("report-assessment", f"{region} {period}"[:200], outcome="deny",
                  reason=str(exc))  # fmt: skip
        raise WebError(400, str(exc)) from None
    store, org, lang, clock = who.store, who.viewer.org_name, who.lang, settings_of(request).now

    def compute(build: Build[Assessment]) -> Assessment:
        build.report(N_("Locating every address and reading the stored clusters"))
        locator = _locator(who)
        ngettext = counted_in(lang)  # the build is the viewer's language's (its key has it)
        countries = ngettext(
            "%(num)s country", "%(num)s countries", len(countries_of(store, region))
        )
        build.report(N_("Reading the items of %(countries)s and writing the assessment"),
                     countries=countries)  # fmt: skip
        return assessment(store, region, span, as_org=org, now=clock(), lang=lang, locator=locator)

    key = (org, who.grant, lang, region, span.label)
    got: Assessment | Build[Assessment]
    try:
        got = (_assessments.wait(store, key, compute) if wait
               else _assessments.ready(store, key, compute, retry=retry))  # fmt: skip
    except MarsadError as exc:
        who.audit("report-assessment", f"{region} {period}"[:200], outcome="deny",
                  reason=str(exc))  # fmt: skip
        raise WebError(400, str(exc)) from None
    if isinstance(got, Build):
        if isinstance(got.error, MarsadError):
            who.audit("report-assessment", f"{region} {period}"[:200], outcome="deny",
                      reason=str(got.error))  # fmt: skip
        else:
            who.audit("report-assessment", f"{region} {span.label}", via="web",
                      state="failed" if got.error else "building")  # fmt: skip
        return got
    who.audit("report-assessment", f"{got.region} {got.period.label}",
              ids=list(got.assertion_ids), via="web")  # fmt: skip
    return got


def _assess(request: Request, who: WebCaller) -> Assessment:
    """The assessment, waiting for its build (downloads and JSON cannot show progress)."""
    made = _assessment_of(request, who, wait=True)
    assert not isinstance(made, Build)
    return made


@router.get("/reports/assessment")
def assessment_page(request: Request, who: Reader) -> Response:
    """The threat assessment of a region for a period, for the signed-in organisation. The
    page answers at once: with the assessment when it is kept, otherwise with the progress
    of its build, which htmx polls (the same address, as a fragment) until it is shown."""
    region, period = _assessment_asked(request, who)
    query = urlencode({"region": region, "period": period})
    data: dict[str, Any] = {"region": region, "period": period, "regions": list(REGIONS),
                            "formats": list(PAGES), "query": query,
                            "poll": f"/reports/assessment?{query}"}  # fmt: skip
    if wants_json(request):  # a program waits for the product, as before
        return _form(request, who, "product_assessment.html", data,
                     lambda: _assess(request, who), "assessment")  # fmt: skip
    fragment = bool(request.headers.get("hx-request"))
    data.update({"assessment": None, "building": None, "error": None})
    status = 200
    if _asked(request):
        try:
            got = _assessment_of(request, who, wait=False, retry=not fragment)
        except WebError as exc:
            data["error"], status = exc.message, exc.status
        else:
            if not isinstance(got, Build):
                data["assessment"] = got
            elif got.error is not None:
                data["error"] = failure(got.error, who.lang, UNEXPECTED)
            else:
                data["building"] = progress_of(got, _assessments)
    template = "_assessment_result.html" if fragment else "product_assessment.html"
    return page(request, who, template, data, status)


@router.get("/reports/assessment.{fmt}")
def assessment_file(request: Request, who: Reader, fmt: str) -> Response:
    """The threat assessment as PDF, self-contained HTML or JSON (waiting for its build)."""
    if fmt not in PAGES:
        raise WebError(404, N_("No such report format."))
    made = _assess(request, who)
    stem = f"assessment-{made.region}-{made.period.label.replace('..', '_')}"

    def html() -> str:
        return render.assessment_html(made, who.lang)

    if fmt == "json":
        return _pages(fmt, html, made, stem)
    # the file of this very build (same grant, language, period and generation time)
    key = (who.viewer.org_name, who.grant, who.lang, made.region, made.period.label,
           made.generated_at, fmt)  # fmt: skip
    body = _files.get(
        who.store, key, lambda: render.pdf_of(html()) if fmt == "pdf" else html().encode()
    )
    return _file(body, fmt, stem)


# -- the awareness advisory ------------------------------------------------------------


def _advisory_asked(request: Request) -> tuple[str, str]:
    return _param(request, "threat") or next(iter(ADVICE)), _param(request, "examples") or "5"


def _advise(request: Request, who: WebCaller) -> Advisory:
    threat, examples = _advisory_asked(request)
    try:
        if not examples.isdigit() or not 0 <= int(examples) <= 50:
            raise MarsadError(f"examples {examples!r} is not a whole number from 0 to 50")
        made = build_advisory(who.store, threat, examples=int(examples),
                              issuer=who.viewer.org_name or "Marsad", now=settings_of(request).now(),
                              lang=who.lang)  # fmt: skip
    except MarsadError as exc:
        who.audit("report-advisory", threat[:100], outcome="deny", reason=str(exc))
        raise WebError(400, str(exc)) from None
    who.audit("report-advisory", threat, ids=list(made.assertion_ids), via="web")
    return made


@router.get("/reports/advisory")
def advisory_page(request: Request, who: Reader) -> Response:
    """The public awareness advisory on a threat (TLP:CLEAR content only)."""
    threat, examples = _advisory_asked(request)
    data: dict[str, Any] = {"threat": threat, "examples": examples, "threats": sorted(ADVICE),
                            "formats": list(PAGES),
                            "query": urlencode({"threat": threat, "examples": examples})}  # fmt: skip
    return _form(request, who, "product_advisory.html", data, lambda: _advise(request, who),
                 "advisory")  # fmt: skip


@router.get("/reports/advisory.{fmt}")
def advisory_file(request: Request, who: Reader, fmt: str) -> Response:
    """The advisory as PDF, self-contained HTML or JSON."""
    if fmt not in PAGES:
        raise WebError(404, N_("No such report format."))
    made = _advise(request, who)
    return _pages(
        fmt, lambda: render.advisory_html(made, who.lang), made, f"advisory-{made.threat}"
    )


# -- the modus-operandi notice ---------------------------------------------------------


def _notice_asked(request: Request) -> dict[str, str]:
    asked = {name: _param(request, name, limit) for name, limit in LIMITS.items()}
    return {"cluster": _param(request, "cluster", 20), "tlp": _param(request, "tlp", 20).lower(),
            "pap": _param(request, "pap", 20).lower(), **asked}  # fmt: skip


def _prose(asked: dict[str, str]) -> NoticeText | None:
    """The analyst's words from the form; None leaves the generator's default text."""
    lines = [c.strip() for c in asked["countermeasures"].splitlines() if c.strip()]
    given = [asked[k] for k in ("targets", "tools", "tlp", "pap")] + lines
    if not asked["method"]:
        if any(given):
            raise MarsadError("describe the method: it is required once targets, tools, "
                              "countermeasures or handling floors are given")  # fmt: skip
        return None
    for field, vocab in (("tlp", TLP), ("pap", PAP)):
        if asked[field] and asked[field] not in {v.value for v in vocab}:
            raise MarsadError(f"{field} {asked[field]!r} is not one of "
                              f"{', '.join(v.value for v in vocab)}")  # fmt: skip
    return NoticeText(method=asked["method"], targets=asked["targets"], tools=asked["tools"],
                      countermeasures=lines, tlp=asked["tlp"] or None,
                      pap=asked["pap"] or None)  # fmt: skip


def _stored_cluster(who: WebCaller, raw: str) -> int:
    """The desk's stored cluster holding one of the viewer's clusters (as the clusters pages
    number them: the id of their oldest member); only the viewer's own clusters resolve."""
    number = int(raw) if raw.isdigit() and len(raw) < 19 else -1
    if number not in clustering.groups(who.store, who.grant):
        raise MarsadError(f"no cluster {raw} among the clusters this organisation may see "
                          "(see the clusters page)")  # fmt: skip
    found = touched(who.store, [number])
    if not found:
        raise MarsadError(f"cluster {number} is not in the desk's last analysis yet "
                          "(`marsad analyse` stores the clusters notices are made from)")  # fmt: skip
    return found[0]


def _notice(request: Request, who: WebCaller) -> tuple[Notice, Callable[[], bytes]]:
    asked = _notice_asked(request)
    try:
        if not asked["cluster"]:
            raise MarsadError(
                "name the cluster the notice describes (its number on the clusters page)"
            )
        text = _prose(asked)
        cluster = _stored_cluster(who, asked["cluster"])
        made, views, rels = build_notice(who.store, cluster, str(who.viewer.org_name),
                                         text=text, title=asked["title"] or None,
                                         now=settings_of(request).now(), lang=who.lang)  # fmt: skip
    except MarsadError as exc:
        who.audit("report-notice", asked["cluster"], outcome="deny", reason=str(exc))
        raise WebError(400, str(exc)) from None
    who.audit("report-notice", str(made.cluster), ids=list(made.assertion_ids), via="web")
    return made, lambda: notice_bundle(made, views, rels)


@router.get("/reports/notice")
def notice_page(request: Request, who: Reader) -> Response:
    """The modus-operandi notice of a cluster, issued by the signed-in organisation."""
    asked = _notice_asked(request)
    query = urlencode({k: v for k, v in asked.items() if v})
    data: dict[str, Any] = {**asked, "formats": list(NOTICE_FORMATS), "query": query,
                            "tlps": [t.value for t in TLP], "paps": [p.value for p in PAP],
                            "shown": 300}  # fmt: skip
    return _form(request, who, "product_notice.html", data,
                 lambda: _notice(request, who)[0], "notice")  # fmt: skip


@router.get("/reports/notice.{fmt}")
def notice_file(request: Request, who: Reader, fmt: str) -> Response:
    """The notice as PDF, self-contained HTML, STIX 2.1 bundle or JSON."""
    if fmt not in NOTICE_FORMATS:
        raise WebError(404, N_("No such report format."))
    made, bundle = _notice(request, who)
    if fmt == "stix":
        return _file(bundle(), fmt, f"notice-{made.cluster}")
    return _pages(
        fmt, lambda: render.notice_html(made, lang=who.lang), made, f"notice-{made.cluster}"
    )
