"""Correlation read paths: grouped joins over the value index, filtered by the policy in SQL.

No correlation table exists: a value's correlations are the assertions that share its
observable row, found through the ``(type, value)`` index and grouped on demand. Every
query applies `visible(grant, …)`; the only thing said of a record outside the grant is
"a record exists: ask OWNER", and only when its owner chose that for the record
(``assertions.disclose_exists``), the record is live (not past retention, not revoked)
and the viewer is an organisation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select, true

from marsad.access.policy import Grant
from marsad.analysis.correlation import (
    Array,
    AskOwner,
    Correlation,
    CorrelationRule,
    Counts,
    Said,
    TopRow,
    ask_note,
    flags_of,
)
from marsad.model.observable import Observable, ObservableType
from marsad.store.bulk import as_utc
from marsad.store.reads import visible
from marsad.store.schema import (
    assertion_sources,
    assertions,
    entities,
    observables,
    organisations,
    relationships,
)
from marsad.store.store import PAP_BY_RANK, TLP_BY_RANK, Store

owners = organisations.alias("owners")


def disclosable(grant: Grant) -> ColumnElement[bool]:
    """Records the grant does not cover whose existence their owner lets it learn."""
    if grant.everything or not grant.own_org_ids:
        return false()  # the operator sees all; the public has nobody to ask
    c = assertions.c
    return and_(
        c.disclose_exists == true(),
        not_(visible(grant, assertions)),
        or_(c.retain_until.is_(None), c.retain_until >= grant.today),
        c.revoked_at.is_(None),
    )


def warninglist_names(values: Sequence[tuple[str, str]]) -> list[list[str]]:
    """For each ``(type, value)``, the MISP warninglists that list the value *itself*.

    An address counts when a list names it alone (not inside a datacenter range), a name
    when a list entry is the name (a phishing host under a top site's domain is not the
    top site; regex entries do not count), so a value is flagged for being a well-known
    shared thing, never for where it is hosted.
    """
    from marsad.enrich.loaders import load_listed_addresses, load_warninglists
    from marsad.enrich.names import key_text

    out: list[list[str]] = [[] for _ in values]
    if not values:
        return out
    matcher = load_warninglists()
    by_type: dict[str, list[int]] = defaultdict(list)
    for i, (kind, _) in enumerate(values):
        by_type[kind].append(i)
    for kind, rows in by_type.items():
        if kind in ("ipv4", "ipv6"):
            singles = load_listed_addresses()
            for i in rows:
                out[i] = list(singles.get(values[i][1], ()))
            continue
        try:
            typ = ObservableType(kind)
        except ValueError:
            continue
        column = [values[i][1] for i in rows]
        hits = matcher.match(typ, column)
        for index, list_id, key in zip(
            hits.value.tolist(), hits.list_id.tolist(), hits.key.tolist(), strict=True
        ):
            if key >= 0 and key_text(matcher.names, key) == column[index]:
                out[rows[index]].append(matcher.lists[list_id].name)
    return out


def _entities(store: Store, grant: Grant, refs: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """Entities (kind, name) linked to each ref by a visible relationship, either direction."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    r, e = relationships.c, entities.c
    with store.engine.connect() as conn:
        for start in range(0, len(refs), 500):
            chunk = list(refs[start : start + 500])
            for mine, other in ((r.source_ref, r.target_ref), (r.target_ref, r.source_ref)):
                rows = conn.execute(
                    select(mine, e.kind, e.name)
                    .join(entities, e.ref == other)
                    .where(mine.in_(chunk), visible(grant, relationships), visible(grant, entities))
                    .distinct()
                ).all()
                for ref, kind, name in rows:
                    found[str(ref)].add((str(kind), str(name)))
    return {k: sorted(v) for k, v in found.items()}


def _asked(store: Store, grant: Grant, observable_ids: Sequence[int]) -> dict[int, list[str]]:
    """Per observable, the owners of disclosable records about it (nothing else of them)."""
    if grant.everything or not grant.own_org_ids or not observable_ids:
        return {}
    cond = disclosable(grant)
    query = (
        select(assertions.c.observable_id, owners.c.name)
        .join(owners, owners.c.id == assertions.c.owner_org_id)
        .where(assertions.c.observable_id.in_(list(observable_ids)), cond)
        .distinct()
    )
    out: dict[int, list[str]] = defaultdict(list)
    with store.engine.connect() as conn:
        found: Sequence[Any] = conn.execute(query).all()
    for oid, name in found:
        out[int(oid)].append(str(name))
    return {k: sorted(v) for k, v in out.items()}


def correlate(
    store: Store, grant: Grant, wanted: Sequence[Observable], rule: CorrelationRule | None = None
) -> list[Correlation]:
    """What the pool says about each wanted value that the viewer may know of."""
    rule = rule or CorrelationRule()
    keys = list(dict.fromkeys(wanted))
    if not keys:
        return []
    a, o = assertions.c, observables.c
    with store.engine.connect() as conn:
        present: Sequence[Any] = conn.execute(
            select(o.id, o.type, o.value).where(
                or_(*(and_(o.type == k.type.value, o.value == k.value) for k in keys))
            )
        ).all()
        found = {(str(t), str(v)): int(i) for i, t, v in present}
        ids = {(k.type.value, k.value): found[(k.type.value, k.value)] for k in keys
               if (k.type.value, k.value) in found}  # fmt: skip
        if not ids:
            return []
        rows: Sequence[Any] = conn.execute(
            select(a.id, a.observable_id, a.source_org_id, a.owner_org_id, a.threat_type, a.tlp,
                   a.pap, a.reliability, a.credibility, a.first_seen, a.last_seen,
                   organisations.c.name, organisations.c.country)
            .join(organisations, organisations.c.id == a.source_org_id)
            .where(a.observable_id.in_(list(ids.values())), visible(grant, assertions))
            .order_by(a.id)
        ).all()  # fmt: skip
        subs: dict[int, list[int]] = defaultdict(list)
        if rows:
            pairs: Sequence[Any] = conn.execute(
                select(assertion_sources.c.assertion_id, assertion_sources.c.submission_id)
                .where(assertion_sources.c.assertion_id.in_([r.id for r in rows]))
                .order_by(assertion_sources.c.submission_id)
            ).all()
            for aid, sid in pairs:
                subs[int(aid)].append(int(sid))
    asked = _asked(store, grant, list(ids.values()))
    linked = _entities(store, grant, [f"{t}:{v}" for t, v in ids])
    lists = warninglist_names(list(ids))
    out = []
    for (kind, value), names in zip(ids, lists, strict=True):
        oid = ids[(kind, value)]  # ids follow the order of ``keys`` (inserted in that order)
        said = [_said(r, subs[int(r.id)], grant) for r in rows if r.observable_id == oid]
        if not said and oid not in asked:
            continue  # nothing the viewer may know of: the value is not known to exist
        ents = linked.get(f"{kind}:{value}", []) if said else []
        countries = sorted({s.country for s in said if s.country})
        submissions = len({n for s in said for n in s.submissions})
        counts = Counts(
            assertions=len(said), sources=len({s.source for s in said}), submissions=submissions,
            countries=len(countries), cases=sum(1 for k, _ in ents if k == "case"),
        )  # fmt: skip
        out.append(
            Correlation(
                type=kind, value=value, counts=counts, said=said,
                entities=[f"{k}: {n}" for k, n in ents], countries=countries,
                flags=flags_of(submissions, names, rule),
                ask_owner=[AskOwner(owner=n, note=ask_note(n)) for n in asked.get(oid, [])],
            )
        )  # fmt: skip
    return out


def _said(r: Any, subs: list[int], grant: Grant) -> Said:
    own = grant.everything or bool({r.source_org_id, r.owner_org_id} & grant.own_org_ids)
    return Said(
        assertion_id=int(r.id), source=r.name, country=r.country, threat_type=r.threat_type,
        tlp=TLP_BY_RANK[r.tlp].label, pap=PAP_BY_RANK[r.pap].label,
        grading=f"{r.reliability}{r.credibility}", first_seen=as_utc(r.first_seen),
        last_seen=as_utc(r.last_seen), submissions=subs, own=own,
    )  # fmt: skip


def top(
    store: Store,
    grant: Grant,
    limit: int = 20,
    *,
    min_sources: int = 2,
    rule: CorrelationRule | None = None,
) -> list[TopRow]:
    """The values most widely reported (distinct sources, then submissions, then countries)."""
    rule = rule or CorrelationRule()
    a, o = assertions.c, observables.c
    n_sources = func.count(a.source_org_id.distinct())
    n_subs = func.count(assertion_sources.c.submission_id.distinct())
    n_countries = func.count(organisations.c.country.distinct())
    query = (
        select(o.type, o.value, func.count(a.id.distinct()), n_sources, n_subs, n_countries)
        .select_from(assertions)
        .join(observables, o.id == a.observable_id)
        .join(organisations, organisations.c.id == a.source_org_id)
        .join(assertion_sources, assertion_sources.c.assertion_id == a.id)
        .where(visible(grant, assertions))
        .group_by(o.id, o.type, o.value)
        .having(n_sources >= min_sources)
        .order_by(n_sources.desc(), n_subs.desc(), n_countries.desc(), o.id)
        .limit(limit)
    )
    with store.engine.connect() as conn:
        found: Sequence[Any] = conn.execute(query).all()
    rows = [(str(t), str(v), int(na), int(ns), int(nb), int(nc))
            for t, v, na, ns, nb, nc in found]  # fmt: skip
    linked = _entities(store, grant, [f"{t}:{v}" for t, v, *_ in rows])
    lists = warninglist_names([(t, v) for t, v, *_ in rows])
    return [
        TopRow(
            type=t, value=v,
            counts=Counts(assertions=na, sources=ns, submissions=nb, countries=nc,
                          cases=sum(1 for k, _ in linked.get(f"{t}:{v}", []) if k == "case")),
            flags=flags_of(nb, names, rule),
        )
        for (t, v, na, ns, nb, nc), names in zip(rows, lists, strict=True)
    ]  # fmt: skip


def over_correlated_nodes(
    store: Store,
    grant: Grant,
    ids: Array,
    refs: Sequence[str],
    rule: CorrelationRule | None = None,
    listed: Array | None = None,
) -> Array:
    """Per graph node (observable id), whether it over-correlates in what the grant covers;
    ``listed`` says which nodes a warninglist names when the caller knows already."""
    rule = rule or CorrelationRule()
    n_subs = func.count(assertion_sources.c.submission_id.distinct())
    query = (
        select(assertions.c.observable_id)
        .join(assertion_sources, assertion_sources.c.assertion_id == assertions.c.id)
        .where(visible(grant, assertions))
        .group_by(assertions.c.observable_id)
        .having(n_subs > rule.max_submissions)
    )
    with store.engine.connect() as conn:
        busy = np.array(list(conn.execute(query).scalars()), dtype=np.int64)
    flagged: Array = np.isin(np.asarray(ids, dtype=np.int64), busy)
    if listed is None:
        names = warninglist_names([_split(ref) for ref in refs])
        listed = np.array([bool(x) for x in names], dtype=bool)
    return flagged | listed


def _split(ref: str) -> tuple[str, str]:
    kind, _, value = ref.partition(":")
    return kind, value
