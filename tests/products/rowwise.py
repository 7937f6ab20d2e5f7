"""The products' reads as they were before the kept columns: one SQL read per section.

Verbatim copies of `marsad.products.activity_data.locate` and `findings` (with their
helpers) at the commit before they moved onto `marsad.analysis.columns`: the oracle the
columnar reads are compared with on generated stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np
from sqlalchemy import and_, or_, select

from marsad.access.policy import Grant, Mark, tokens_of
from marsad.products.activity import Found
from marsad.products.activity_data import Located, Locator, _chunks, cctld
from marsad.products.networks import networks, read_graph, touched
from marsad.products.period import Period
from marsad.store.schema import assertions, organisations, relationships
from marsad.store.store import Store, _assertion_query, _stored
from marsad.store.visibility import visible


def _in_period(period: Period) -> Any:
    a = assertions.c
    return and_(
        or_(a.first_seen.is_(None), a.first_seen < period.end),
        or_(a.last_seen.is_(None), a.last_seen >= period.start),
        a.revoked_at.is_(None),
        a.threat_type != "benign",
    )


def locate(store: Store, loc: Locator, grant: Grant, country: str) -> Located:
    """IPs geolocated in the country, domains resolving to them (relationships the grant
    covers), ccTLD domains and URLs hosted on any of these."""
    why: dict[int, str] = {}
    for i in loc.ip_ids.get(country, np.empty(0, np.int64)).tolist():
        why[i] = f"IP geolocated in {country}"
    tld = cctld(country)
    for i in loc.tld_ids.get(tld, np.empty(0, np.int64)).tolist():
        why.setdefault(i, f".{tld} domain")
    refs = loc.ip_refs.get(country, [])
    r = relationships.c
    via: dict[int, int] = {}
    with store.engine.connect() as conn:
        for part in _chunks(refs):
            rows: Sequence[Any] = conn.execute(
                select(r.source_ref, r.target_ref, r.tlp).where(
                    r.type == "resolves-to", r.target_ref.in_(part), visible(grant, relationships)
                )
            ).all()
            for source_ref, target_ref, tlp in rows:
                dom = loc.domain_id.get(str(source_ref))
                if dom is None:
                    continue
                if dom not in why:
                    why[dom] = f"resolves to {str(target_ref).partition(':')[2]}"
                if dom in via:  # several visible resolutions: the least restrictive suffices
                    via[dom] = min(via[dom], int(tlp))
                elif why[dom].startswith("resolves"):
                    via[dom] = int(tlp)
    hosts = {ref.partition(":")[2] for ref in refs} | {
        ref.partition(":")[2] for ref, i in loc.domain_id.items() if i in why
    }
    if hosts and len(loc.url_ids):
        hit = np.isin(loc.url_hosts, np.array(sorted(hosts), dtype=str))
        for i, host in zip(loc.url_ids[hit].tolist(), loc.url_hosts[hit].tolist(), strict=True):
            why.setdefault(i, f"hosted on {host}")
    return Located(why=why, tlp=via)


def _found(row: Any, located_by: str, reported: bool = False, located_tlp: int = -1) -> Found:
    stored = _stored(row)
    mark = Mark(
        owner_org_id=row.owner_org_id, source_org_id=row.source_org_id, tlp=row.tlp,
        pap=row.pap, releasable_to=tokens_of(row.releasable_to),
        retain_until=stored.view.handling.retain_until,
    )  # fmt: skip
    return Found(stored=stored, observable_id=row.observable_id, mark=mark,
                 located_by=located_by, reported_in_country=reported,
                 located_tlp=located_tlp)  # fmt: skip


def findings(store: Store, loc: Locator, grant: Grant, country: str, period: Period) -> list[Found]:
    """The visible assertions of the period about what is located in the country, plus
    those the country's own units reported (victim hints), each with its visible network."""
    located = locate(store, loc, grant, country)
    conds = [visible(grant, assertions), _in_period(period)]
    out: list[Found] = []
    ids = sorted(located.why)
    with store.engine.connect() as conn:
        for part in _chunks(ids):
            query = _assertion_query().where(assertions.c.observable_id.in_(part), *conds)
            out += [
                _found(r, located.why[r.observable_id],
                       located_tlp=located.tlp.get(r.observable_id, -1))
                for r in conn.execute(query).all()
            ]  # fmt: skip
        units = select(organisations.c.id).where(
            organisations.c.country == country.upper(),
            organisations.c.kind.in_(("national-cyber-unit", "national-central-bureau")),
        )
        query = _assertion_query().where(assertions.c.source_org_id.in_(units), *conds)
        out += [
            _found(r, f"reported by {r.source}", reported=True)
            for r in conn.execute(query).all()
            if r.observable_id not in located.why
        ]
    ids_out = sorted({f.observable_id for f in out})
    graph = loc.clusters or read_graph(store, touched(store, ids_out))
    network = networks(graph, grant, ids_out)
    if network:
        out = [msgspec.structs.replace(f, cluster_id=network.get(f.observable_id)) for f in out]
    return out
