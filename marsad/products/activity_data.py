"""What concerns one country, read through the recipient's grant: the shell of the report.

`Locator` is built once per run from the observables table (IP → country for the whole
column in one call, URL hosts, ccTLDs). Each report then chooses its items on the store's
kept columns (`marsad.analysis.columns`, read once per store version) under the
recipient's mask — the policy's `may_see` asked once per distinct marking —: resolutions to
the country's addresses, the assertions about located values, victims reported by the
country's units; reads the chosen assertions (once per store version for every recipient)
and asks the policy again of each as it is read; and labels each with its visible network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select

from marsad.access.policy import Grant, Mark, may_see, tokens_of
from marsad.analysis.columns import (
    StoreColumns,
    in_period,
    kept_columns,
    masks,
    member_of,
    raw_rows,
    release,
    text_array,
)
from marsad.enrich.geo import country_codes
from marsad.products.activity import Found
from marsad.products.networks import (
    ClusterGraph,
    graph_of_columns,
    networks,
    read_graph,
    touched,
)
from marsad.products.period import Period
from marsad.store.schema import (
    assertions,
    observables,
    organisations,
)
from marsad.store.store import Store, _assertion_query, _stored

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
    with store.engine.connect() as conn:  # read and converted in pieces (`columns.PIECE`)
        rows = raw_rows(conn,
            select(observables.c.id, observables.c.type, observables.c.value,
                   observables.c.registered_domain)
            .where(observables.c.type.in_(("ipv4", "ipv6", "domain", "url")))
        )  # fmt: skip
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
    tlds = text_array([(r[3] or "").rpartition(".")[2] for r in rows])
    tld_ids = {
        tld: ids[tlds == tld] for tld in np.unique(tlds[~is_ip]).tolist() if tld and len(tld) == 2
    }
    dom_at = np.flatnonzero(types == "domain")
    url_at = np.flatnonzero(types == "url")
    made = Locator(
        ip_ids=ip_ids,
        ip_refs=ip_refs,
        tld_ids=tld_ids,
        domain_id={f"domain:{values[i]}": int(ids[i]) for i in dom_at.tolist()},
        url_ids=ids[url_at],
        url_hosts=text_array([_host(values[i]).lower() for i in url_at.tolist()]),
        clusters=graph_of_columns(store, kept_columns(store)),
    )
    release(rows, values)
    return made


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for lo in range(0, len(items), BATCH):
        yield items[lo : lo + BATCH]


class Located(msgspec.Struct, frozen=True, kw_only=True):
    """The observables located in a country for one recipient, and why."""

    why: dict[int, str]  # observable id -> how it was located
    tlp: dict[int, int]  # observable id -> TLP rank of the relationship that located it


def locate(
    store: Store, loc: Locator, grant: Grant, country: str, cols: StoreColumns | None = None
) -> Located:
    """IPs geolocated in the country, domains resolving to them (relationships the grant
    covers: the kept columns under the grant's mask), ccTLD domains and URLs hosted on any
    of these."""
    why: dict[int, str] = {}
    for i in loc.ip_ids.get(country, np.empty(0, np.int64)).tolist():
        why[i] = f"IP geolocated in {country}"
    tld = cctld(country)
    for i in loc.tld_ids.get(tld, np.empty(0, np.int64)).tolist():
        why.setdefault(i, f".{tld} domain")
    refs = loc.ip_refs.get(country, [])
    ips = loc.ip_ids.get(country, np.empty(0, np.int64))
    cols = cols or kept_columns(store)
    via: dict[int, int] = {}
    if len(ips) and "resolves-to" in cols.kinds:
        _, linked = masks(cols, grant)
        resolves = cols.memo.get("resolves-to")
        if resolves is None:  # the resolutions' rows, once per column snapshot
            resolves = cols.memo["resolves-to"] = np.flatnonzero(
                cols.r_kind == cols.kinds.index("resolves-to")
            )
        rows = resolves[linked[resolves]]
        by_id = np.argsort(ips, kind="stable")
        at = np.minimum(np.searchsorted(ips[by_id], cols.r_dst[rows]), len(ips) - 1)
        hit = ips[by_id][at] == cols.r_dst[rows]
        rows, at = rows[hit], at[hit]
        place = (by_id[at] // BATCH).tolist()  # the batch of refs that read it
        target = cols.obs_refs[np.searchsorted(cols.obs_ids, cols.r_dst[rows])].tolist()
        known = cols.r_src[rows] >= 0
        source = np.full(len(rows), "", dtype=object)
        source[known] = cols.obs_refs[np.searchsorted(cols.obs_ids, cols.r_src[rows][known])]
        tlps = [cols.marks[m].tlp for m in cols.r_mark[rows].tolist()]
        ids = cols.r_id[rows].tolist()
        # the order the database gave them in: batch, target_ref (its bytes), id
        order = sorted(range(len(rows)), key=lambda k: (place[k], target[k].encode(), ids[k]))
        for k in order:
            dom = loc.domain_id.get(str(source[k]))
            if dom is None:
                continue
            if dom not in why:
                why[dom] = f"resolves to {target[k].partition(':')[2]}"
            if dom in via:  # several visible resolutions: the least restrictive suffices
                via[dom] = min(via[dom], tlps[k])
            elif why[dom].startswith("resolves"):
                via[dom] = tlps[k]
    hosts = {ref.partition(":")[2] for ref in refs} | {
        ref.partition(":")[2] for ref, i in loc.domain_id.items() if i in why
    }
    if hosts and len(loc.url_ids):
        hosted = loc.url_hosts.tolist()
        hit = np.fromiter((h in hosts for h in hosted), bool, len(hosted))
        for i, host in zip(loc.url_ids[hit].tolist(), loc.url_hosts[hit].tolist(), strict=True):
            why.setdefault(i, f"hosted on {host}")
    return Located(why=why, tlp=via)


def _stored_of(store: Store, cols: StoreColumns, ids: list[int]) -> dict[int, tuple[Any, Mark]]:
    """Each assertion as the products show it (and its marking), read from the store once per
    column snapshot and then shared by every recipient's reports."""
    kept: dict[int, tuple[Any, Mark]] = cols.memo.setdefault("stored", {})
    missing = [i for i in ids if i not in kept]
    with store.engine.connect() as conn:
        for part in _chunks(missing):
            for row in conn.execute(_assertion_query().where(assertions.c.id.in_(part))):
                stored = _stored(row)
                kept[int(row.id)] = (stored, Mark(
                    owner_org_id=row.owner_org_id, source_org_id=row.source_org_id,
                    tlp=row.tlp, pap=row.pap, releasable_to=tokens_of(row.releasable_to),
                    retain_until=stored.view.handling.retain_until,
                ))  # fmt: skip
    return kept


def _labels(graph: ClusterGraph, grant: Grant, cols: StoreColumns) -> dict[int, int]:
    """Every member's visible network for the grant, made once per grant and graph."""
    memo: dict[Any, tuple[ClusterGraph, dict[int, int]]] = cols.memo.setdefault("networks", {})
    hit = memo.get((id(graph), grant))
    if hit is None or hit[0] is not graph:
        if len(memo) > 32:
            memo.clear()
        hit = memo[(id(graph), grant)] = (graph, networks(graph, grant, [], every_member=True))
    return hit[1]


def findings(store: Store, loc: Locator, grant: Grant, country: str, period: Period) -> list[Found]:
    """The visible assertions of the period about what is located in the country, plus
    those the country's own units reported (victim hints), each with its visible network.

    Chosen on the kept columns (`marsad.analysis.columns`) under the grant's mask, in the
    order the database's index gave them (observable, source, threat type; then the units'
    reports by source, threat type, id); each one's marking is asked of the policy again as
    it is read, so a record tightened since the columns were read is left out."""
    cols = kept_columns(store)
    located = locate(store, loc, grant, country, cols)
    seen, _ = masks(cols, grant)
    live = seen & in_period(store, cols, period.start, period.end)
    here = member_of(cols.a_obs, np.array(sorted(located.why), dtype=np.int64))
    first = np.flatnonzero(live & here)
    first = first[np.lexsort((cols.a_threat_rank[first], cols.a_source[first], cols.a_obs[first]))]
    units = select(organisations.c.id).where(
        organisations.c.country == country.upper(),
        organisations.c.kind.in_(("national-cyber-unit", "national-central-bureau")),
    )
    with store.engine.connect() as conn:
        unit_ids = np.array(list(conn.execute(units).scalars()), dtype=np.int64)
    second = np.flatnonzero(live & ~here & member_of(cols.a_source, unit_ids))
    second = second[np.lexsort((cols.a_id[second], cols.a_threat_rank[second],
                                cols.a_source[second]))]  # fmt: skip
    both = np.r_[first, second]
    wanted, observed = cols.a_id[both].tolist(), cols.a_obs[both].tolist()
    kept = _stored_of(store, cols, wanted)
    # every member's visible network, made once per grant (`networks` on the whole graph)
    labels = _labels(loc.clusters, grant, cols) if loc.clusters is not None else {}
    out: list[Found] = []
    for k, (a_id, obs) in enumerate(zip(wanted, observed, strict=True)):
        if a_id not in kept or not may_see(grant, kept[a_id][1]):
            continue  # gone or tightened since the columns were read
        stored, mark = kept[a_id]
        if k < len(first):
            how, tlp, reported = located.why[obs], located.tlp.get(obs, -1), False
        else:
            how, tlp, reported = f"reported by {stored.view.source}", -1, True
        out.append(Found(stored=stored, observable_id=obs, mark=mark, located_by=how,
                         located_tlp=tlp, reported_in_country=reported,
                         cluster_id=labels.get(obs)))  # fmt: skip
    if loc.clusters is None:  # no locator graph: read the clusters these items touch
        ids_out = sorted({f.observable_id for f in out})
        network = networks(read_graph(store, touched(store, ids_out)), grant, ids_out)
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
