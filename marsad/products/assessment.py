"""The regional (or global) threat assessment as data, aggregated from per-country reports.

Pure: the shell builds one `ActivityReport` per country of the region for the
assessment's recipient (so every item was read through its grant and has its action
decided by the policy), and hands them over with the kind of each source; this module
counts, ranks and words them: key judgements, methodology and sources, one chapter per
major threat, a by-country breakdown, outlook and recommendations.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import msgspec

from marsad.model.handling import TLP
from marsad.products import language
from marsad.products.activity import LEAD, NOTIFY, TAKEDOWN, ActivityReport, Item
from marsad.products.language import (
    DEFAULT,
    Gettext,
    NGettext,
    country_name,
    gettext,
    network_name,
)
from marsad.products.period import Period, over_time

MAJOR = 6  # chapters: the threat types with the most items
NOTABLE = 8


class Case(msgspec.Struct, frozen=True, kw_only=True):
    """A notable item: many sources, many sightings, good grading."""

    value: str
    type: str
    country: str
    threat_types: tuple[str, ...]
    sources: int
    sightings: int
    grading: str
    tlp: str
    action: str


class NetworkRow(msgspec.Struct, frozen=True, kw_only=True):
    """A visible network and where its items sit."""

    label: str
    items: int
    countries: tuple[str, ...]


class Chapter(msgspec.Struct, frozen=True, kw_only=True):
    """One major threat."""

    threat: str
    items: int
    statements: int
    change: float | None  # second half of the period vs the first, in percent
    trend: dict[str, int]
    countries: dict[str, int]
    networks: tuple[NetworkRow, ...]
    notable: tuple[Case, ...]


class CountryRow(msgspec.Struct, frozen=True, kw_only=True):
    """One country's line of the breakdown."""

    country: str
    name: str
    infrastructure: int
    victims: int
    top_threats: tuple[str, ...]
    networks: int
    takedowns: int
    tlp: str


class Assessment(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the renderers need; the JSON twin of the HTML and PDF."""

    region: str
    recipient: str
    period: Period
    generated_at: dt.datetime
    tlp: str
    countries_in_scope: int
    summary: tuple[str, ...]
    statements: int
    sources: int
    by_source_kind: dict[str, int]
    by_reliability: dict[str, int]
    by_credibility: dict[str, int]
    by_threat_type: dict[str, int]
    over_time: dict[str, int]
    chapters: tuple[Chapter, ...]
    by_country: tuple[CountryRow, ...]
    outlook: tuple[str, ...]
    recommendations: tuple[str, ...]
    annex: dict[str, tuple[Item, ...]]  # country -> its top items
    assertion_ids: tuple[int, ...]


def _change(period: Period, items: list[Item]) -> float | None:
    middle = period.start + (period.end - period.start) / 2
    first = sum(1 for i in items if (i.first_seen or period.start) < middle)
    second = len(items) - first
    return None if first == 0 else round(100.0 * (second - first) / first, 1)


def _case(item: Item, country: str) -> Case:
    best = min(item.evidence, key=lambda e: e.grading)
    return Case(
        value=item.value, type=item.type, country=country, threat_types=item.threat_types,
        sources=len({e.source for e in item.evidence}),
        sightings=sum(e.sightings for e in item.evidence), grading=best.grading,
        tlp=item.tlp, action=item.action,
    )  # fmt: skip


def _rank(case: Case) -> tuple[int, int, str, str]:
    return (-case.sources, -case.sightings, case.grading, case.value)


def _networks(pairs: list[tuple[str, Item]], limit: int = 8) -> tuple[NetworkRow, ...]:
    items: Counter[int] = Counter()
    where: dict[int, set[str]] = defaultdict(set)
    for country, i in pairs:
        if i.cluster_id is not None:
            items[i.cluster_id] += 1
            where[i.cluster_id].add(country)
    return tuple(
        NetworkRow(label=f"network {cid}", items=n, countries=tuple(sorted(where[cid])))
        for cid, n in sorted(items.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    )


def _chapter(threat: str, pairs: list[tuple[str, Item]], period: Period) -> Chapter:
    items = [i for _, i in pairs]
    cases = sorted((_case(i, c) for c, i in pairs), key=_rank)
    return Chapter(
        threat=threat, items=len(pairs),
        statements=sum(1 for i in items for e in i.evidence if e.threat_type == threat),
        change=_change(period, items),
        trend=over_time(period, [i.first_seen or i.last_seen for i in items]),
        countries=dict(Counter(c for c, _ in pairs).most_common()),
        networks=_networks(pairs), notable=tuple(cases[:NOTABLE]),
    )  # fmt: skip


def _items(ngettext: NGettext, n: int) -> str:
    return ngettext("%(num)s item", "%(num)s items", n)


def _countries(ngettext: NGettext, n: int) -> str:
    return ngettext("%(num)s country", "%(num)s countries", n)


def _judgements(
    period: str,
    facts: dict[str, int],
    chapters: list[Chapter],
    rows: list[CountryRow],
    lang: str,
) -> list[str]:
    """The key judgements: each count in its own phrase, in the form its number takes."""
    _, ngettext = gettext(lang), language.ngettext(lang)
    lines = [
        _("In %(period)s, %(infra)s and %(victims)s concerned %(countries)s, from %(statements)s "
          "by %(sources)s.")
        % {"period": period,
           "infra": ngettext("%(num)s infrastructure item", "%(num)s infrastructure items",
                             facts["infra"]),
           "victims": ngettext("%(num)s victim item", "%(num)s victim items", facts["victims"]),
           "countries": ngettext("%(affected)s of the %(num)s country in scope",
                                 "%(affected)s of the %(num)s countries in scope",
                                 facts["scope"], affected=facts["affected"]),
           "statements": ngettext("%(num)s statement", "%(num)s statements",
                                  facts["statements"]),
           "sources": ngettext("%(num)s source", "%(num)s sources", facts["sources"])}
    ]  # fmt: skip
    if chapters:
        main = _(", ").join(
            _("%(threat)s (%(items)s in %(countries)s)")
            % {"threat": c.threat, "items": _items(ngettext, c.items),
               "countries": _countries(ngettext, len(c.countries))}
            for c in chapters[:3]
        )  # fmt: skip
        lines.append(_("The main threats were %(threats)s.") % {"threats": main})
    shared = {n.label: n for c in chapters for n in c.networks if len(n.countries) > 1}
    if shared:
        largest = max(shared.values(), key=lambda n: n.items)
        lines.append(
            ngettext("%(num)s criminal network spans more than one country: %(largest)s, which "
                     "reaches %(countries)s.",
                     "%(num)s criminal networks span more than one country; the largest, "
                     "%(largest)s, reaches %(countries)s.",
                     len(shared), largest=network_name(largest.label, _),
                     countries=_countries(ngettext, len(largest.countries)))
        )  # fmt: skip
    if rows:
        top = max(rows, key=lambda r: r.infrastructure)
        lines.append(_("%(country)s hosts the most infrastructure (%(items)s).")
                     % {"country": country_name(top.country, lang),
                        "items": _items(ngettext, top.infrastructure)})  # fmt: skip
    return lines


def _outlook(chapters: list[Chapter], _: Gettext) -> list[str]:
    lines = []
    for c in chapters:
        words = {"threat": c.threat, "change": f"{abs(c.change or 0):.0f}",
                 "signed": f"{c.change or 0:+.0f}"}  # fmt: skip
        if c.change is None:
            line = _("%(threat)s: too little history in the period to call a trend.")
        elif c.change >= 25:
            line = _("%(threat)s rose by %(change)s%% from the first to the second half of the "
                     "period; expect further growth unless its networks are disrupted.")  # fmt: skip
        elif c.change <= -25:
            line = _("%(threat)s fell by %(change)s%% from the first to the second half of the "
                     "period; watch for the same operators moving infrastructure.")  # fmt: skip
        else:
            line = _("%(threat)s stayed at a similar level (%(signed)s%%); expect it to continue.")
        lines.append(line % words)
    return lines


def _recommendations(
    items: list[tuple[str, Item]], chapters: list[Chapter], lang: str
) -> list[str]:
    _, ngettext = gettext(lang), language.ngettext(lang)
    actions = Counter(i.action for _c, i in items)
    lines = []
    if actions[TAKEDOWN]:
        lines.append(ngettext(
            "Send the takedown request the sources' PAP already allows (listed in its country's "
            "activity report).",
            "Send the %(num)s takedown requests the sources' PAP already allows (listed in each "
            "country's activity report).", actions[TAKEDOWN]))  # fmt: skip
    if actions[NOTIFY]:
        lines.append(ngettext("Notify the owner of the compromised or exposed asset.",
                              "Notify the owners of the %(num)s compromised or exposed assets.",
                              actions[NOTIFY]))  # fmt: skip
    if actions[LEAD]:
        lines.append(ngettext(
            "Ask the sources for permission to act on the investigation lead whose PAP allows "
            "passive use only.",
            "Ask the sources for permission to act on the %(num)s investigation leads whose PAP "
            "allows passive use only.", actions[LEAD]))  # fmt: skip
    shared = sorted({n for c in chapters for n in c.networks if len(n.countries) > 1},
                    key=lambda n: -n.items)[:3]  # fmt: skip
    for n in shared:
        lines.append(_("Coordinate a joint operation against %(network)s (%(items)s in "
                       "%(countries)s).") % {"network": network_name(n.label, _),
                                            "items": _items(ngettext, n.items),
                                            "countries": ", ".join(n.countries)})  # fmt: skip
    return lines


def build_assessment(
    reports: list[ActivityReport],
    *,
    region: str,
    recipient: str,
    period: Period,
    now: dt.datetime,
    source_kinds: dict[str, str],
    annex_rows: int = 25,
    lang: str = DEFAULT,
) -> Assessment:
    """The assessment of these per-country reports (all built for ``recipient``), its
    judgements, outlook and recommendations worded in ``lang``."""
    _ = gettext(lang)
    pairs = [(r.country, i) for r in reports for i in r.items]
    evidence = [e for _, i in pairs for e in i.evidence]
    threats = Counter(i.threat_types[0] for _, i in pairs)
    by_threat: dict[str, list[tuple[str, Item]]] = defaultdict(list)
    for c, i in pairs:
        by_threat[i.threat_types[0]].append((c, i))
    ranked = sorted(threats.items(), key=lambda kv: (-kv[1], kv[0]))
    chapters = [_chapter(t, by_threat[t], period) for t, _ in ranked[:MAJOR]]
    rows = [
        CountryRow(
            country=r.country, name=r.country_name, infrastructure=len(r.infrastructure),
            victims=len(r.victims), top_threats=tuple(list(r.by_threat_type)[:3]),
            networks=len(r.networks), takedowns=sum(i.action == TAKEDOWN for i in r.items),
            tlp=r.tlp,
        )
        for r in sorted(reports, key=lambda r: (-len(r.items), r.country)) if r.items
    ]  # fmt: skip
    sources = {e.source for e in evidence}
    facts = {
        "infra": sum(len(r.infrastructure) for r in reports),
        "victims": sum(len(r.victims) for r in reports), "affected": len(rows),
        "scope": len(reports), "statements": len(evidence), "sources": len(sources),
    }  # fmt: skip
    ranks = [t.label for t in TLP]
    top = max((ranks.index(r.tlp) for r in reports if r.items), default=0)
    annex = {
        r.country: tuple(sorted(r.items, key=lambda i: _rank(_case(i, r.country)))[:annex_rows])
        for r in reports if r.items
    }  # fmt: skip
    return Assessment(
        region=region, recipient=recipient, period=period, generated_at=now, tlp=ranks[top],
        countries_in_scope=len(reports),
        summary=tuple(_judgements(period.label, facts, chapters, rows, lang)),
        statements=len(evidence), sources=len(sources),
        by_source_kind=dict(Counter(source_kinds.get(e.source, "unknown") for e in evidence)
                            .most_common()),
        by_reliability=dict(sorted(Counter(e.grading[0] for e in evidence).items())),
        by_credibility=dict(sorted(Counter(e.grading[1:] for e in evidence).items())),
        by_threat_type=dict(ranked),
        over_time=over_time(period, [i.first_seen or i.last_seen for _, i in pairs]),
        chapters=tuple(chapters), by_country=tuple(rows), outlook=tuple(_outlook(chapters, _)),
        recommendations=tuple(_recommendations(pairs, chapters, lang)), annex=annex,
        assertion_ids=tuple(sorted({a for r in reports for a in r.assertion_ids})),
    )  # fmt: skip
