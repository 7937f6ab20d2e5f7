"""Search: what an organisation looks up most (the dashboard is `marsad.web.dashboard`).

It reads through the policy's SQL predicate (`reads.lookup`) with the grant of the
organisation the user acts for; every search is audited with the ids it returned.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from marsad.access.policy import Action
from marsad.enrich.annotate import Enrichment, enrich
from marsad.model.normalize import detect, expand
from marsad.model.observable import Observable
from marsad.store import reads
from marsad.store.store import StoredAssertion
from marsad.web.auth import WebCaller, clean, page_permit
from marsad.web.render import page

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebCaller, Depends(page_permit(Action.READ))]
PAGE = 50
MAX_VALUES = 10_000


def page_number(raw: str | None) -> int:
    """A 1-based page number from the query string (anything odd is page 1)."""
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


def _wanted(lines: list[str]) -> tuple[list[dict[str, Any]], list[Observable]]:
    """What each typed line was read as; one value also brings what it implies."""
    if len(lines) == 1:
        found = expand(lines[0])
        shown = [{"input": lines[0], "type": o.type.value, "value": o.value} for o in found]
        return shown or [{"input": lines[0], "type": None, "value": None}], found
    rows, wanted = [], []
    for line in lines:
        obs = detect(line)
        rows.append({"input": line, "type": obs.type.value if obs else None,
                     "value": obs.value if obs else None})  # fmt: skip
        if obs is not None:
            wanted.append(obs)
    return rows, wanted


def _flags(observables: list[Observable]) -> dict[str, list[str]]:
    """Warninglist names per value (flagged as probably benign, never dropped)."""
    if not observables:
        return {}
    from marsad.enrich.loaders import load_warninglists

    notes: list[Enrichment] = enrich(observables, warninglists=load_warninglists(), asn=None)
    return {
        f"{n.type}:{n.value}": [h.name for h in n.warninglists] for n in notes if n.warninglists
    }


def hit_json(a: StoredAssertion) -> dict[str, Any]:
    """One assertion as search, observable and cluster pages show it."""
    v, h = a.view, a.view.handling
    return {
        "id": a.id, "type": v.observable.type.value, "value": v.observable.value,
        "ref": v.observable.ref, "threat_type": v.threat_type.value, "source": v.source,
        "tlp": h.tlp.value, "tlp_label": h.tlp.label, "pap": h.pap.label, "grading": h.grading,
        "first_seen": v.first_seen, "last_seen": v.last_seen, "sightings": v.sightings,
        "confidence": v.confidence, "name": v.name,
    }  # fmt: skip


@router.get("/search")
def search(request: Request, who: Reader, q: str = "") -> Response:
    """One value as typed (defanged or not) or a pasted list; results with handling."""
    number = page_number(request.query_params.get("page"))
    q = clean(q)
    lines = [line.strip() for line in q.splitlines() if line.strip()][:MAX_VALUES]
    data: dict[str, Any] = {"q": q, "normalised": [], "hits": [], "count": 0, "page": number,
                            "pages": 0, "flags": {}, "unrecognised": 0}  # fmt: skip
    if lines:
        shown, wanted = _wanted(lines)
        hits = reads.lookup(who.store, who.grant, wanted)
        hits.sort(key=lambda a: (a.view.observable.ref, a.id))
        start = (number - 1) * PAGE
        window = hits[start : start + PAGE]
        seen = list({a.view.observable: None for a in window})
        data.update(
            normalised=shown[:200], hits=[hit_json(a) for a in window], count=len(hits),
            pages=-(-len(hits) // PAGE), unrecognised=sum(1 for s in shown if s["type"] is None),
            flags=_flags(list(dict.fromkeys([*wanted[:200], *seen]))),
            by_threat=dict(Counter(a.view.threat_type.value for a in hits).most_common()),
        )  # fmt: skip
        who.audit("search", q[:500], ids=[a.id for a in hits], values=len(lines), via="web")
    return page(request, who, "search.html", data)
