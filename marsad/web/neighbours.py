"""The cluster explorer's data: links among a view's nodes, one node's neighbours, a view's records.

Edges are the analysis graph's (`marsad.analysis.infrastructure.load_graph`): visible
relationships, plus the URL → host links the values themselves imply. Every read goes
through the policy's SQL predicate, and a node counts only while the viewer may see it (a
visible assertion about it, or a visible relationship naming it:
`clustering.still_visible`), so a neighbour the viewer may not see is not even counted.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
import numpy as np
import orjson
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path
from sqlalchemy import and_, case, distinct, func, or_, select

from marsad.access.policy import Grant
from marsad.analysis.infrastructure import HOST_TYPES, url_host
from marsad.model.normalize import registered_domain
from marsad.model.observable import parse_ref
from marsad.model.records import AssertionView, EntityRecord, RelationshipRecord
from marsad.store import reads
from marsad.store.bulk import as_utc
from marsad.store.reads import visible
from marsad.store.schema import entities, observables, organisations, relationships
from marsad.store.store import TLP_BY_RANK, Store, handling_of
from marsad.web.clustering import still_visible

URL_HOST = "url-host"
_CHUNK = 500
_GOLDEN = math.pi * (3 - math.sqrt(5))  # the sunflower's angle: even spacing, no spokes
MDS_MAX = 400  # top nodes placed by MDS (an n×n eigenproblem); more go on a spiral
PRESET_ABOVE = 150  # nodes: above this the page draws the server's positions (graph.js)


class Link(msgspec.Struct, frozen=True, kw_only=True):
    """One edge of the view: a visible relationship (``r<id>``) or a URL → host link."""

    id: str
    source: str
    type: str
    target: str
    reported_by: str | None = None
    tlp: str | None = None


class Neighbourhood(msgspec.Struct, frozen=True, kw_only=True):
    """A node's neighbours the viewer may see: those shown, their links, how many more."""

    nodes: list[str]
    links: list[Link]
    more: int


def host_refs(url_ref: str) -> list[str]:
    """The refs a URL's host would have as an observable (the graph's ``url-host`` link)."""
    kind, _, value = url_ref.partition(":")
    host = url_host(value) if kind == "url" else ""
    return [f"{k}:{host}" for k in HOST_TYPES] if host else []


def _url_links(urls: Iterable[str], inside: set[str]) -> list[Link]:
    return [
        Link(id=f"h{url}", source=url, type=URL_HOST, target=host)
        for url in urls
        for host in host_refs(url)
        if host in inside
    ]


def flower_layout(refs: Sequence[str], links: Sequence[Link]) -> dict[str, tuple[int, int]]:
    """Positions for a large view, in one pass (no force simulation): every node hangs off
    its best-linked neighbour, children on a sunflower spiral around their parent, and the
    top nodes (hubs: an address and its domains, with their URLs) spiral around the centre."""
    near: dict[str, set[str]] = {r: set() for r in refs}
    for k in links:
        if k.source in near and k.target in near and k.source != k.target:
            near[k.source].add(k.target)
            near[k.target].add(k.source)
    rank = {r: (len(n), r) for r, n in near.items()}
    children: dict[str, list[str]] = {r: [] for r in refs}
    roots: list[str] = []
    for r in sorted(refs, key=rank.__getitem__):  # children before their parents
        best = max(near[r], key=rank.__getitem__, default=None)
        if best is not None and rank[best] > rank[r]:
            children[best].append(r)
        else:
            roots.append(r)
    radius: dict[str, float] = {}
    for r in sorted(refs, key=rank.__getitem__):
        kids = children[r]
        radius[r] = _step(kids, radius) * math.sqrt(len(kids)) + 8.0 if kids else 8.0
    where: dict[str, tuple[int, int]] = {}
    roots.sort(key=lambda r: -radius[r])
    if not _roots_by_distance(roots, children, links, radius, where):
        _spiral(roots, (0.0, 0.0), 2.0 * max((radius[r] for r in roots), default=8.0), where)
    queue = deque(roots)
    while queue:
        parent = queue.popleft()
        kids = sorted(children[parent], key=lambda c: -radius[c])
        if kids:
            _spiral(kids, where[parent], _step(kids, radius), where, first=1)
            queue.extend(kids)
    return where


def _roots_by_distance(roots: list[str], children: dict[str, list[str]], links: Sequence[Link],
                       radius: dict[str, float], where: dict[str, tuple[int, int]]) -> bool:  # fmt: skip
    """Place the top nodes by classical MDS over hops between their trees, so the hubs that
    share neighbours sit side by side; False (spiral instead) when too few or too many."""
    if not 3 <= len(roots) <= MDS_MAX:
        return False
    top: dict[str, int] = {}
    for k, root in enumerate(roots):
        stack = [root]
        while stack:
            node = stack.pop()
            top[node] = k
            stack.extend(children[node])
    pairs = {(top[a], top[b]) for a, b in ((k.source, k.target) for k in links)
             if a in top and b in top and top[a] != top[b]}  # fmt: skip
    if not pairs:
        return False
    n = len(roots)
    a, b = np.array(sorted(pairs)).T
    hops = shortest_path(coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)), directed=False)
    hops[np.isinf(hops)] = hops[np.isfinite(hops)].max() + 1
    centred = -0.5 * (hops**2 - (hops**2).mean(0) - (hops**2).mean(1)[:, None] + (hops**2).mean())
    values, vectors = np.linalg.eigh(centred)
    xy = vectors[:, -2:] * np.sqrt(np.maximum(values[-2:], 1e-9))
    scale = 2.0 * float(np.mean([radius[r] for r in roots]))
    for root, (x, y) in zip(roots, xy.tolist(), strict=True):
        where[root] = (round(x * scale), round(y * scale))
    return True


def _step(kids: Sequence[str], radius: dict[str, float]) -> float:
    """The sunflower's spacing: discs of the children's typical size just touch (the few
    larger ones overlap a little, which keeps a hub with many bare leaves compact)."""
    return 1.8 * math.sqrt(sum(radius[c] ** 2 for c in kids) / len(kids))


def _spiral(refs: Sequence[str], centre: tuple[float, float], step: float,
            where: dict[str, tuple[int, int]], first: int = 0) -> None:  # fmt: skip
    for k, r in enumerate(refs, start=first):
        d, a = step * math.sqrt(k), k * _GOLDEN
        where[r] = (round(centre[0] + d * math.cos(a)), round(centre[1] + d * math.sin(a)))


def _rel_query() -> Any:
    return select(
        relationships.c.id, relationships.c.source_ref, relationships.c.type,
        relationships.c.target_ref, organisations.c.name, relationships.c.tlp,
    ).join(organisations, organisations.c.id == relationships.c.source_org_id)  # fmt: skip


def _link(row: Any) -> Link:
    return Link(id=f"r{row.id}", source=row.source_ref, type=row.type, target=row.target_ref,
                reported_by=row.name, tlp=TLP_BY_RANK[row.tlp].value)  # fmt: skip


def links_among(store: Store, grant: Grant, refs: Sequence[str], limit: int) -> list[Link]:
    """The visible links with both ends in ``refs`` (at most ``limit`` relationships)."""
    inside = set(refs)
    ordered = sorted(inside)
    found: list[Link] = []
    with store.engine.connect() as conn:
        for start in range(0, len(ordered), _CHUNK):
            rows = conn.execute(
                _rel_query()
                .where(relationships.c.source_ref.in_(ordered[start : start + _CHUNK]),
                       visible(grant, relationships))
                .order_by(relationships.c.id)
            )  # fmt: skip
            found += [_link(r) for r in rows if r.target_ref in inside]
            if len(found) >= limit:
                break
    found.sort(key=lambda link: int(link.id[1:]))
    return found[:limit] + _url_links(sorted(r for r in inside if r.startswith("url:")), inside)


def _urls_on(store: Store, grant: Grant, ref: str) -> list[str]:
    """The visible URLs whose host is ``ref`` (a domain or an address)."""
    kind, _, host = ref.partition(":")
    if kind not in HOST_TYPES or not host:
        return []
    query = select(observables.c.value).where(observables.c.type == "url")
    if kind == "domain":  # the registered domain is indexed: no scan
        domain = registered_domain(host)
        if domain is None:
            return []
        query = query.where(observables.c.registered_domain == domain)
    else:
        shown = f"[{host}]" if kind == "ipv6" else host
        query = query.where(
            observables.c.registered_domain.is_(None), observables.c.value.contains(f"://{shown}")
        )
    with store.engine.connect() as conn:
        urls = [f"url:{v}" for (v,) in conn.execute(query)]
    return still_visible(store, grant, [u for u in urls if ref in host_refs(u)])


def neighbours(store: Store, grant: Grant, ref: str, limit: int) -> Neighbourhood:
    """Up to ``limit`` neighbours of a node the viewer may see, with the links to them."""
    touching = and_(
        or_(relationships.c.source_ref == ref, relationships.c.target_ref == ref),
        relationships.c.source_ref != relationships.c.target_ref,
        visible(grant, relationships),
    )
    other = case((relationships.c.source_ref == ref, relationships.c.target_ref),
                 else_=relationships.c.source_ref)  # fmt: skip
    with store.engine.connect() as conn:
        total = int(conn.execute(select(func.count(distinct(other))).where(touching)).scalar_one())
        first = (
            select(other.label("other"))
            .where(touching)
            .group_by(other)
            .order_by(func.min(relationships.c.id))
            .limit(limit)
        )
        related = [str(r) for (r,) in conn.execute(first)]
    hosted = still_visible(store, grant, host_refs(ref)) + _urls_on(store, grant, ref)
    extra = sorted(set(hosted) - set(related))
    if extra:  # the URL → host links not already counted as relationships
        with store.engine.connect() as conn:
            stated: set[str] = set()
            for start in range(0, len(extra), _CHUNK):
                chunk = extra[start : start + _CHUNK]
                stated.update(str(r) for (r,) in conn.execute(
                    select(other).where(touching, other.in_(chunk)).distinct()))  # fmt: skip
        extra = [r for r in extra if r not in stated]
    total += len(extra)
    shown = (related + extra)[:limit]
    links = _links_to(store, grant, ref, touching, other, related)
    urls = [r for r in shown if r.startswith("url:")] + ([ref] if ref.startswith("url:") else [])
    links += _url_links(urls, {ref, *shown})
    return Neighbourhood(nodes=shown, links=links, more=max(total - len(shown), 0))


def _links_to(store: Store, grant: Grant, ref: str, touching: Any, other: Any,
              shown: list[str]) -> list[Link]:  # fmt: skip
    found: list[Link] = []
    with store.engine.connect() as conn:
        for start in range(0, len(shown), _CHUNK):
            rows = conn.execute(
                _rel_query().where(touching, other.in_(shown[start : start + _CHUNK]))
            )
            found += [_link(r) for r in rows]
    return sorted(found, key=lambda link: int(link.id[1:]))


def entity_names(store: Store, grant: Grant, refs: Sequence[str]) -> dict[str, str]:
    """The names of the visible entities among ``refs`` (STIX-style ids, not ``type:value``)."""
    wanted = sorted({r for r in refs if "--" in r and ":" not in r})
    names: dict[str, str] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(wanted), _CHUNK):
            rows = conn.execute(
                select(entities.c.ref, entities.c.name)
                .where(entities.c.ref.in_(wanted[start : start + _CHUNK]), visible(grant, entities))
                .order_by(entities.c.id)
            )  # fmt: skip
            for r, name in rows:
                names.setdefault(str(r), str(name))
    return names


class ViewRecords(msgspec.Struct, frozen=True, kw_only=True):
    """What a view holds that the viewer may export: assertions, entities, relationships."""

    refs: list[str]
    assertion_ids: list[int]
    assertions: list[AssertionView]
    entities: list[EntityRecord]
    relationships: list[RelationshipRecord]
    relationship_ids: list[int]


def view_records(store: Store, grant: Grant, refs: Sequence[str],
                 edge_types: Sequence[str] | None) -> ViewRecords:  # fmt: skip
    """The records behind the nodes of a view that the viewer may still see, and their links."""
    shown = still_visible(store, grant, sorted(set(refs)))
    inside = set(shown)
    wanted = [obs for obs in map(parse_ref, shown) if obs is not None]
    hits = reads.lookup(store, grant, wanted)
    found: list[EntityRecord] = []
    rels: list[RelationshipRecord] = []
    rel_ids: list[int] = []
    keyed = [r for r in shown if "--" in r and ":" not in r]
    with store.engine.connect() as conn:
        for start in range(0, len(keyed), _CHUNK):
            for e in conn.execute(
                select(entities).where(entities.c.ref.in_(keyed[start : start + _CHUNK]),
                                       visible(grant, entities)).order_by(entities.c.id)
            ):  # fmt: skip
                found.append(EntityRecord(
                    ref=e.ref, kind=e.kind, name=e.name, location=e.location,
                    description=e.description, attributes=orjson.loads(e.attributes),
                    handling=handling_of(e), first_seen=as_utc(e.first_seen),
                    last_seen=as_utc(e.last_seen),
                ))  # fmt: skip
        for start in range(0, len(shown), _CHUNK):
            query = select(relationships).where(
                relationships.c.source_ref.in_(shown[start : start + _CHUNK]),
                visible(grant, relationships),
            )
            if edge_types is not None:
                query = query.where(relationships.c.type.in_(list(edge_types)))
            for r in conn.execute(query.order_by(relationships.c.id)):
                if r.target_ref not in inside:
                    continue
                rel_ids.append(int(r.id))
                rels.append(RelationshipRecord(
                    source_ref=r.source_ref, target_ref=r.target_ref, type=r.type,
                    location=r.location, stix_id=r.stix_id, handling=handling_of(r),
                    first_seen=as_utc(r.first_seen), last_seen=as_utc(r.last_seen),
                    attributes=orjson.loads(r.attributes),
                ))  # fmt: skip
    return ViewRecords(
        refs=shown, assertion_ids=[a.id for a in hits], assertions=[a.view for a in hits],
        entities=found, relationships=rels, relationship_ids=rel_ids,
    )  # fmt: skip


def elements(nodes: Sequence[str], links: Sequence[Link], names: dict[str, str] | None = None,
             positions: dict[str, tuple[int, int]] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Nodes and links as Cytoscape elements (an entity is labelled with its visible name)."""
    names, positions = names or {}, positions or {}
    out: list[dict[str, Any]] = []
    for ref in nodes:
        kind, sep, value = ref.partition(":")
        if not sep:  # an entity: "threat-actor--…"
            kind, value = ref.split("--", 1)[0], names.get(ref, ref)
        node: dict[str, Any] = {"data": {"id": ref, "label": value, "kind": kind}}
        if ref in positions:
            x, y = positions[ref]
            node["position"] = {"x": x, "y": y}
        out.append(node)
    out += [
        {"data": {"id": k.id, "source": k.source, "target": k.target, "label": k.type,
                  "reported_by": k.reported_by, "tlp": k.tlp}}
        for k in links
    ]  # fmt: skip
    return out
