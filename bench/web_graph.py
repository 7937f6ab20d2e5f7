"""Time the cluster explorer on a 5,000-node cluster in Chromium: load, render, interact, export.

Plants the browser tests' world (`tests.web.test_browser.serve_planted`, uvicorn on a
loopback port over a SQLite store) plus one synthetic network ingested through the real
pipeline as Fiji CCU at TLP:GREEN: ``--ips`` addresses, domains resolving to one or two of
them (a STIX 2.1 bundle) and URLs on those domains (a list), ``--nodes`` in all. Marsad's
clustering splits any component over 2,000 nodes into communities
(`HubRule.large_component`), so a cluster as large as the page draws (``GRAPH_NODES``, 5,000)
only forms with that split and hub pruning relaxed: the served process clusters with them
off. Then, signed in as Fiji CCU's officer in Chromium (Playwright, /usr/bin/chromium):

- ``GET /clusters/{id}/graph``: bytes and time (median of ``--runs``);
- first render: navigation start to the graph drawn after its layout (graph.js marks it),
  and the share spent after the JSON arrived (parse, layout, first frame);
- relayout of the whole view: the layout graph.js picks above 300 nodes (rings by
  degree) against ``grid``, the peer, and ``cose`` on 300 and 1,000 nodes (why it stops at 300);
- a full redraw; one zoom after a pause (a full redraw too) and the later steps of a zoom
  gesture (the texture Cytoscape keeps while the view moves); one pan; one edge-type filter
  toggle: each from the call to the next frame drawn;
- an expand: an address's 100 neighbours taken out of the view, then added back through
  ``/graph/neighbours`` (fetch, add, place, frame), and the route alone on that address;
- the same expand with an edge-type filter on (the new links hidden as they arrive);
- the whole view exported as STIX 2.1 (``POST /graph/stix``): time and bytes.

``--script FILE`` serves FILE as the page's ``/static/graph.js`` (e.g. an earlier version
from ``git show REV:marsad/web/static/graph.js``), for a before/after run on the same world.

    .venv/bin/python bench/web_graph.py [--nodes 5000] [--ips 40] [--runs 5] [--script FILE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' helpers

from marsad.analysis import infrastructure
from marsad.analysis.graph import Clustering, HubRule
from marsad.model.handling import TLP
from marsad.model.records import ThreatType
from marsad.store.engine import sqlite_url
from marsad.store.store import Store
from marsad.web import clustering
from tests.web.conftest import FIJI, PASSWORD, _submit
from tests.web.test_browser import ARGS, CHROMIUM, serve_planted

NS = uuid.UUID("0f6b1f64-9d0e-4c57-8d4a-5b2b3c1e7a90")
WHOLE = HubRule(min_degree=10**9, large_component=10**9)


def whole(graph: infrastructure.Graph) -> Clustering:
    """Marsad's clustering with hub pruning and the split of large components turned off."""
    return infrastructure.clusters_of(graph, rule=WHOLE)


def network(nodes: int, ips: int) -> tuple[bytes, bytes]:
    """A STIX bundle of domains resolving to addresses, and a list of URLs on the domains."""
    urls = nodes // 3
    domains = nodes - ips - urls
    objects: list[dict[str, Any]] = []
    addr = [f"ipv4-addr--{uuid.uuid5(NS, f'ip{i}')}" for i in range(ips)]
    for i, ref in enumerate(addr):
        objects.append({"type": "ipv4-addr", "spec_version": "2.1", "id": ref,
                        "value": f"198.18.{i // 250}.{i % 250 + 1}"})  # fmt: skip
    for d in range(domains):
        to = [addr[d % ips]] + ([addr[(d + 1) % ips]] if d % 3 == 0 else [])  # one network
        objects.append({"type": "domain-name", "spec_version": "2.1",
                        "id": f"domain-name--{uuid.uuid5(NS, f'd{d}')}",
                        "value": f"shop-{d:05d}.bench-net.example", "resolves_to_refs": to})  # fmt: skip
    bundle = orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid5(NS, 'b')}",
                           "objects": objects})  # fmt: skip
    lines = "".join(
        f"https://shop-{u % domains:05d}.bench-net.example/p/{u}\n" for u in range(urls)
    )
    return bundle, lines.encode()


def plant_network(nodes: int, ips: int) -> Any:
    def step(store: Store) -> None:
        bundle, urls = network(nodes, ips)
        _submit(store, bundle, FIJI, TLP.GREEN, [], ThreatType.PHISHING, "net.json", "stix21")
        _submit(store, urls, FIJI, TLP.GREEN, [], ThreatType.PHISHING, "urls.txt", "list")

    return step


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values):8.1f} ms"


TIMED = """async ([action, arg]) => {
  const g = marsadGraph, cy = g.cy;
  const frame = () => new Promise(r => cy.one('render', () => requestAnimationFrame(() => r())));
  const t0 = performance.now();
  if (action === 'zoom') { const done = frame(); cy.zoom({level: cy.zoom() * arg, renderedPosition: {x: 300, y: 200}}); await done; }
  if (action === 'gesture') {  // a wheel gesture: arg steps one frame apart; the later ones
    const steps = [];
    for (let k = 0; k < arg; k++) {
      const t = performance.now(); const done = frame();
      cy.zoom({level: cy.zoom() * (k % 2 ? 1.1 : 0.9), renderedPosition: {x: 300, y: 200}});
      await done; steps.push(performance.now() - t);
    }
    return steps;
  }
  if (action === 'redraw') { const done = frame(); cy.forceRender(); await done; }
  if (action === 'pan') { const done = frame(); cy.panBy({x: arg, y: arg / 2}); await done; }
  if (action === 'filter') { const s = document.getElementById('edge-type'); const done = frame(); s.value = arg; s.dispatchEvent(new Event('change')); await done; }
  if (action === 'layout') { cy.layout(arg === 'page' ? g.layoutFor(cy.nodes().length, false) : arg).run(); await frame(); }
  if (action === 'cose') {
    const part = cy.nodes().slice(0, arg); const sub = part.union(part.edgesWith(part));
    const t1 = performance.now(); sub.layout({name: 'cose', animate: false}).run(); return performance.now() - t1;
  }
  if (action === 'expand') {
    const centre = cy.getElementById(arg);
    const out = centre.neighborhood().nodes().slice(0, 100);
    out.remove();
    const t1 = performance.now(); const found = await g.expand(arg); await frame();
    return [performance.now() - t1, found.shown, found.more, cy.nodes().length];
  }
  if (action === 'stix') {
    const box = document.getElementById('graph');
    const body = JSON.stringify({nodes: cy.nodes().map(n => n.id()), edge_types: null});
    const r = await fetch(box.dataset.stix, {method: 'POST', credentials: 'same-origin', body,
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': box.dataset.csrf}});
    const size = (await r.arrayBuffer()).byteLength;
    return [performance.now() - t0, size, r.status];
  }
  return performance.now() - t0;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--ips", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--script", type=Path, help="serve this file as /static/graph.js")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    setattr(clustering, "clusters_of", whole)  # noqa: B010 (the served process clusters so)
    folder = Path(tempfile.mkdtemp(prefix="marsad-web-graph-"))
    path = folder / "marsad.db"
    Store.open(sqlite_url(path), create=True).close()
    started = time.perf_counter()
    served = serve_planted(path, plant_network(args.nodes, args.ips))
    base = next(served)
    print(
        f"planted and served in {time.perf_counter() - started:.1f} s: {base}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        if args.script:
            script = args.script.read_bytes()
            print(f"graph.js from {args.script}")
            page.route("**/static/graph.js", lambda route: route.fulfill(
                body=script, content_type="text/javascript"))  # fmt: skip
        page.goto(f"{base}/login")
        page.get_by_label("User name").fill("fiji.officer")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/")
        listed = context.request.get(f"{base}/clusters?format=json").json()["clusters"]
        cluster = listed[0]
        print(f"cluster {cluster['id']}: {cluster['size']:,} members")
        graph_url = f"{base}/clusters/{cluster['id']}/graph"
        times, size, body = [], 0, b""
        for _ in range(args.runs + 1):
            t = time.perf_counter()
            body = context.request.get(graph_url).body()
            times.append((time.perf_counter() - t) * 1000)
            size = len(body)
        data = orjson.loads(body)
        edges = sum(1 for e in data["elements"] if "source" in e["data"])
        print(
            f"GET /clusters/{{id}}/graph   {_ms(times[1:])}   {size / 1e6:.2f} MB, "
            f"{len(data['elements']) - edges:,} nodes, {edges:,} links"
        )
        renders, after_json = [], []
        for _ in range(args.runs):
            page.goto(f"{base}/clusters/{cluster['id']}")
            page.locator("#graph[data-state='ready']").wait_for(timeout=120_000)
            ready = float(page.locator("#graph").get_attribute("data-ready-ms") or 0)
            fetched = page.evaluate(
                f"performance.getEntriesByName('{graph_url}')[0].responseEnd"
            )  # fmt: skip
            renders.append(ready)
            after_json.append(ready - fetched)
        print(
            f"first render (navigation → drawn) {_ms(renders)}   "
            f"of which after the JSON arrived {_ms(after_json)}"
        )

        def timed(action: str, arg: Any, n: int = args.runs) -> list[Any]:
            return [page.evaluate(TIMED, [action, arg]) for _ in range(n)]

        ring_ms = timed("layout", "page", 3)
        grid_ms = timed("layout", {"name": "grid", "animate": False}, 3)
        print(
            f"relayout: rings by degree {_ms(ring_ms)}   grid (peer) {_ms(grid_ms)}   "
            f"ratio {statistics.median(ring_ms) / statistics.median(grid_ms):.2f}"
        )
        for n in (300, 1000):
            print(f"relayout: cose on {n:,} nodes {_ms(timed('cose', n, 1))}")
        redraw = timed("redraw", None)
        zoom = [t for k in range(args.runs) for t in timed("zoom", 1.25 if k % 2 else 0.8, 1)]
        steps = [t for g in timed("gesture", 6, 3) for t in g[1:]]
        print(
            f"full redraw {_ms(redraw)}   zoom, first step after a pause {_ms(zoom)}   "
            f"zoom, later steps of a gesture {_ms(steps)}"
        )
        pan = [t for k in range(args.runs) for t in timed("pan", 60 if k % 2 else -60, 1)]
        flt = [t for k in range(args.runs) for t in timed("filter", "url-host" if k % 2 == 0 else "", 1)]  # fmt: skip
        print(f"pan {_ms(pan)}   filter toggle {_ms(flt)}")
        hub = "ipv4:198.18.0.1"
        route = []
        for _ in range(args.runs):
            t = time.perf_counter()
            found = context.request.get(f"{base}/graph/neighbours?node={hub}").json()
            route.append((time.perf_counter() - t) * 1000)
        print(
            f"GET /graph/neighbours ({hub}) {_ms(route)}   "
            f"{found['shown']} shown, {found['more']} more"
        )
        expands = timed("expand", hub)
        _, shown, more, total = expands[-1]
        print(
            f"expand (100 neighbours back into a {total:,}-node view) "
            f"{_ms([e[0] for e in expands])}   shown {shown}, more {more}"
        )
        page.select_option("#edge-type", "resolves-to")
        filtered = timed("expand", hub)
        page.select_option("#edge-type", "")
        print(f"expand with the filter on (resolves-to) {_ms([e[0] for e in filtered])}")
        stix = timed("stix", None, 3)
        print(
            f"POST /graph/stix (the whole view) {_ms([s[0] for s in stix])}   "
            f"{stix[-1][1] / 1e6:.2f} MB, status {stix[-1][2]}"
        )
        browser.close()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    next(served, None)


if __name__ == "__main__":
    main()
