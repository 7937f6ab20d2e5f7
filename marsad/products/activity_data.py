"""What concerns one country, read through the recipient's grant: the shell of the report.

`Locator` is built once per run from the observables table (IP → country for the whole
column in one call, URL hosts, ccTLDs); each report then runs one query per section for
all its items — resolutions to the country's addresses, the assertions about located
values, victims reported by the country's units, cluster membership — each filtered by
`visible(grant, …)` in SQL, so nothing the recipient may not see leaves the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import and_, or_, select

from marsad.access.policy import Grant, Mark, tokens_of
from marsad.enrich.geo import country_codes
from marsad.products.activity import Found
from marsad.products.networks import ClusterGraph, networks, read_graph, touched
from marsad.products.period import Period
from marsad.store.schema import (
    assertions,
    observables,
    organisations,
    relationships,
)
from marsad.store.store import Store, _assertion_query, _stored
from marsad.store.visibility import visible

BATCH = 5000  # ids per IN list: well under SQLite's bind-parameter limit
TLD_OF = {"GB": "uk"}  # the few countries whose ccTLD is not their ISO code


def cctld(country: str) -> str:
    """The country-code top-level domain of an ISO 3166-1 alpha-2 code."""
    return TLD_OF.get(country.upper(), country.lower())


class Locator(msgspec.Struct, frozen=True, kw_only=True):
    """Where each observable sits, computed once for every report of a run."""

    ip_ids: dict[str, NDArray[np.int64]]  # country -> observable ids of its IPs
    ip_refs: dict[str, list[str]]  # country -> "ipv4:…" refs, same order
    tld_ids: dict[str, NDArray[np.int64]]  # ccTLD -> domain/URL observable ids under it
    domain_id: dict[str, int]  # "domain:…" ref -> observable id
    url_ids: NDArray[np.int64]
    url_hosts: NDArray[np.str_]  # host of each URL (lower-case)
    clusters: ClusterGraph | None = None  # every stored cluster, for the visible networks


def _host(url: str) -> str:
    rest = url.partition("://")[2].split("/", 1)[0].rpartition("@")[2]
    return rest.strip("[]").rpartition(":")[0] if rest.count(":") == 1 else rest.strip("[]")


def build_locator(store: Store) -> Locator:
    """Read the located observable columns once and geolocate every address in one call."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(observables.c.id, observables.c.type, observables.c.value,
                   observables.c.registered_domain)
            .where(observables.c.type.in_(("ipv4", "ipv6", "domain", "url")))
        ).all()  # fmt: skip
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    types = np.array([r[1] for r in rows], dtype=object)
    values = [r[2] for r in rows]
    is_ip = (types == "ipv4") | (types == "ipv6")
    ip_at = np.flatnonzero(is_ip)
    countries = np.array(country_codes([values[i] for i in ip_at]) or [], dtype=object)
    ip_ids: dict[str, NDArray[np.int64]] = {}
    ip_refs: dict[str, list[str]] = {}
    for code in {c for c in countries.tolist() if c}:
        at = ip_at[countries == code]
        ip_ids[code] = ids[at]
        ip_refs[code] = [f"{types[i]}:{values[i]}" for i in at.tolist()]
    registered = np.array([r[3] or "" for r in rows], dtype=str)
    tlds = np.char.rpartition(registered, ".")[:, 2]
    tld_ids = {
        tld: ids[tlds == tld] for tld in np.unique(tlds[~is_ip]).tolist() if tld and len(tld) == 2
    }
    dom_at = np.flatnonzero(types == "domain")
    url_at = np.flatnonzero(types == "url")
    return Locator(
        ip_ids=ip_ids,
        ip_refs=ip_refs,
        tld_ids=tld_ids,
        domain_id={f"domain:{values[i]}": int(ids[i]) for i in dom_at.tolist()},
        url_ids=ids[url_at],
        url_hosts=np.array([_host(values[i]).lower() for i in url_at.tolist()], dtype=str),
        clusters=read_graph(store),
    )


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for lo in range(0, len(items), BATCH):
        yield items[lo : lo + BATCH]


def _in_period(period: Period) -> Any:
    a = assertions.c
    return and_(
        or_(a.first_seen.is_(None), a.first_seen < period.end),
        or_(a.last_seen.is_(None), a.last_seen >= period.start),
        a.revoked_at.is_(None),
        a.threat_type != "benign",
    )


class Located(msgspec.Struct, frozen=True, kw_only=True):
    """The observables located in a country for one recipient, and why."""

    why: dict[int, str]  # observable id -> how it was located
    tlp: dict[int, int]  # observable id -> TLP rank of the relationship that located it


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


def member_countries(store: Store) -> list[str]:
    """Countries with a national unit, for --all-countries."""
    with store.engine.connect() as conn:
        rows: Iterator[Any] = conn.execute(
            select(organisations.c.country)
            .where(organisations.c.kind == "national-cyber-unit",
                   organisations.c.country.is_not(None))
            .distinct()
        ).scalars()  # fmt: skip
        return sorted(str(c) for c in rows)


def national_unit(store: Store, country: str) -> str | None:
    """The country's top national cyber unit (no parent), the report's default recipient."""
    o = organisations.c
    with store.engine.connect() as conn:
        return conn.execute(
            select(o.name)
            .where(o.country == country.upper(), o.kind == "national-cyber-unit",
                   o.parent_org_id.is_(None))
            .order_by(o.name).limit(1)
        ).scalar_one_or_none()  # fmt: skip


def today() -> dt.datetime:
    """Now, to the second (the report's generation time)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
