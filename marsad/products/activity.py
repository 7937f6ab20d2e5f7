"""The per-country cyber activity report as data: items, groups, actions and handling.

Pure: the shell (`activity_data`) hands over the assertions the recipient may see, each
with why it concerns the country; this module groups them per observable, recommends an
action with the PAP that allows it (through the policy's `may_act`), counts them for the
charts and sets the report's handling to the most restrictive TLP of what it contains.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import msgspec

from marsad.access.policy import Action, Grant, Mark, Viewer, may, may_act
from marsad.model.handling import PAP, TLP
from marsad.products.language import N_
from marsad.products.period import Period, over_time
from marsad.store.store import StoredAssertion

VICTIM_TYPES = frozenset({"compromised", "vulnerable"})
"""Threat types that describe a victim's asset rather than criminal infrastructure."""

# The actions and their reasons stay in English in the data (JSON, CSV); the HTML and PDF
# show them in the report's language (`marsad.products.language`).
TAKEDOWN, NOTIFY, LEAD = N_("takedown request"), N_("victim notification"), N_("investigation lead")
_ALLOWED = {
    (False, True): N_("the source allows active measures"),
    (False, False): N_("the recipient owns the record"),
    (True, True): N_("the source allows active measures: tell the owner of the asset"),
    (True, False): N_("the recipient owns the record: tell the owner of the asset"),
}


class Found(msgspec.Struct, frozen=True, kw_only=True):
    """One visible assertion and why it concerns the country."""

    stored: StoredAssertion
    observable_id: int
    mark: Mark
    located_by: str  # "IP geolocation", "resolves to 203.0.113.5", ".fj domain", …
    cluster_id: int | None = None  # the visible network it belongs to (see `networks`)
    reported_in_country: bool = False  # only a victim hint: the country's unit reported it
    located_tlp: int = -1  # TLP rank of the relationship that placed it in the country


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    """One source's statement about an item, with its Admiralty grading."""

    source: str
    threat_type: str
    grading: str  # e.g. "B2"
    tlp: str
    pap: str
    sightings: int
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None


class Item(msgspec.Struct, frozen=True, kw_only=True):
    """One observable in the report with everything said about it."""

    type: str
    value: str
    section: str  # infrastructure | victims
    threat_types: tuple[str, ...]
    located_by: str
    cluster_id: int | None
    tlp: str
    action: str
    action_pap: str
    action_reason: str
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    evidence: tuple[Evidence, ...]


class Network(msgspec.Struct, frozen=True, kw_only=True):
    """Items of the report linked by evidence the recipient may see (one visible cluster)."""

    label: str
    items: int
    threat_types: tuple[str, ...]
    sample: tuple[str, ...]


class ActivityReport(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a renderer needs; the JSON twin of the HTML and PDF."""

    country: str
    country_name: str
    recipient: str
    period: Period
    generated_at: dt.datetime
    tlp: str  # the banner: the most restrictive TLP of the content
    infrastructure: tuple[Item, ...]
    victims: tuple[Item, ...]
    by_threat_type: dict[str, int]
    by_cluster: dict[str, int]
    over_time: dict[str, int]  # items by the day (week, month) they were first seen
    networks: tuple[Network, ...]
    sources: dict[str, int]
    assertion_ids: tuple[int, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        return self.infrastructure + self.victims


TLP_BY_RANK = tuple(TLP)
PAP_BY_RANK = tuple(PAP)


def recommend(asset: bool, marks: list[Mark], viewer: Viewer, grant: Grant) -> tuple[str, str, str]:
    """(action, the PAP that allows it, why) for one item, decided by the access policy;
    ``asset``: the item is a victim's compromised or exposed asset, not criminal
    infrastructure (which is taken down wherever it is hosted).

    A takedown request and a victim notification both reach a party outside the
    recipient, so both need what `may_act` allows for active measures (PAP:CLEAR or
    PAP:GREEN, or the recipient owns the record, and a role that may act); anything
    else stays an investigation lead for the recipient's own, passive use.
    """
    loosest = min(m.pap for m in marks)
    allowing = [m for m in marks if may_act(viewer, grant, m, Action.TAKEDOWN_REQUEST)]
    if allowing:
        best = min(allowing, key=lambda m: m.pap)
        why = _ALLOWED[asset, best.pap <= PAP.GREEN.rank]
        return (NOTIFY if asset else TAKEDOWN), PAP_BY_RANK[best.pap].label, why
    if not may(viewer, Action.TAKEDOWN_REQUEST):
        return LEAD, PAP_BY_RANK[loosest].label, N_("the recipient's role does not act on records")
    return LEAD, PAP_BY_RANK[loosest].label, N_("passive use only: ask the source before acting")


def _grading(stored: StoredAssertion) -> str:
    h = stored.view.handling
    return f"{h.reliability}{h.credibility}"


def _earliest(values: list[dt.datetime | None]) -> dt.datetime | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def _latest(values: list[dt.datetime | None]) -> dt.datetime | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _item(group: list[Found], viewer: Viewer, grant: Grant) -> Item:
    first = group[0]
    views = [f.stored.view for f in group]
    threat_types = tuple(sorted({v.threat_type.value for v in views}))
    asset = all(t in VICTIM_TYPES for t in threat_types)
    victim = asset or all(f.reported_in_country for f in group)
    counts = Counter(v.threat_type.value for v in views)
    threat_types = tuple(sorted(threat_types, key=lambda t: (-counts[t], t)))
    section = "victims" if victim else "infrastructure"
    action, pap, why = recommend(asset, [f.mark for f in group], viewer, grant)
    evidence = tuple(
        Evidence(
            source=v.source, threat_type=v.threat_type.value, grading=_grading(f.stored),
            tlp=v.handling.tlp.label, pap=v.handling.pap.label, sightings=v.sightings,
            first_seen=v.first_seen, last_seen=v.last_seen,
        )
        for f, v in zip(group, views, strict=True)
    )  # fmt: skip
    return Item(
        type=first.stored.view.observable.type.value,
        value=first.stored.view.observable.value,
        section=section,
        threat_types=threat_types,
        located_by=first.located_by,
        cluster_id=next((f.cluster_id for f in group if f.cluster_id is not None), None),
        tlp=TLP_BY_RANK[max(f.mark.tlp for f in group)].label,
        action=action,
        action_pap=pap,
        action_reason=why,
        first_seen=_earliest([v.first_seen for v in views]),
        last_seen=_latest([v.last_seen for v in views]),
        evidence=evidence,
    )


def _networks(infra: tuple[Item, ...]) -> tuple[Network, ...]:
    groups: dict[int, list[Item]] = defaultdict(list)
    for i in infra:
        if i.cluster_id is not None:
            groups[i.cluster_id].append(i)
    return tuple(
        Network(
            label=f"network {cid}", items=len(members),
            threat_types=tuple(t for t, _ in Counter(
                t for i in members for t in i.threat_types).most_common()),
            sample=tuple(i.value for i in members[:5]),
        )
        for cid, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    )  # fmt: skip


def build_report(
    found: list[Found],
    *,
    country: str,
    country_name: str,
    viewer: Viewer,
    grant: Grant,
    period: Period,
    now: dt.datetime,
) -> ActivityReport:
    """The report of these findings for this recipient (all of them visible to it)."""
    groups: dict[int, list[Found]] = defaultdict(list)
    for f in found:
        groups[f.observable_id].append(f)
    items = sorted(
        (_item(g, viewer, grant) for g in groups.values()),
        key=lambda i: (i.threat_types[0], i.type, i.value),
    )
    infra = tuple(i for i in items if i.section == "infrastructure")
    victims = tuple(i for i in items if i.section == "victims")
    by_threat = Counter(t for i in items for t in i.threat_types)
    by_cluster = Counter(f"network {i.cluster_id}" for i in infra if i.cluster_id is not None)
    sources = Counter(f.stored.view.source for f in found)
    top = max((max(f.mark.tlp, f.located_tlp) for f in found), default=TLP.CLEAR.rank)
    return ActivityReport(
        country=country, country_name=country_name, recipient=viewer.label, period=period,
        generated_at=now, tlp=TLP_BY_RANK[top].label, infrastructure=infra, victims=victims,
        by_threat_type=dict(by_threat.most_common()),
        by_cluster=dict(by_cluster.most_common()),
        over_time=over_time(period, [i.first_seen or i.last_seen for i in items]),
        networks=_networks(infra), sources=dict(sources.most_common()),
        assertion_ids=tuple(sorted(f.stored.id for f in found)),
    )  # fmt: skip
