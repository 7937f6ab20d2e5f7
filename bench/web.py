"""Time the web application's main pages on the demo world: p50 and p99 per page.

Run after `make demo SERVE=0` (MARSAD_HOME selects another instance). Requests go through
the whole application in process (routing, session, policy, SQL, templates) as a signed-in
demo user, over Starlette's test client; the peer measured in the same run is the REST
API's lookup of the same value, so the ratio shows what a page adds to the data it reads.
Target: every page under 300 ms. The product pages (advisory, notice, assessment) are timed
with fewer requests. Results kept between requests (`marsad.store.kept`: a viewer's clusters,
the dashboard's ranking, the assessment) are also timed cold: every kept result forgotten
before each request (the first request after the server starts or the store changes), and
"new grant": only each grant's own results forgotten (the first request of another
organisation while the store is unchanged), with the process's CPU time beside the wall
time (other work on a shared machine stretches the wall time more than the CPU time).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
import warnings
from collections.abc import Callable

from marsad.access import identity
from marsad.cli import instance
from marsad.demo.accounts import PASSWORD
from marsad.exchange.app import create_app
from marsad.store import kept
from marsad.store.store import Store

_SUBMIT = kept._submit

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _times(
    client: TestClient, path: str, n: int, headers: dict[str, str] | None = None
) -> list[float]:
    for _ in range(2):  # warm: caches, templates, the viewer's clusters
        assert client.get(path, headers=headers).status_code == 200, path
    kept.settle()  # a result built in the background (`kept.Kept.ready`) is kept from now on
    out = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        out.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return out


def _forget(shared: bool) -> None:
    """Forget kept results: all of them, or only each grant's own (not what every grant
    shares: the stored values, the products' locator)."""
    if shared:
        kept.forget_all()
        return
    from marsad.web import clustering, dashboard, products

    for module, name in ((clustering, "_kept"), (dashboard, "_kept"),
                         (products, "_assessments"), (products, "_files")):  # fmt: skip
        if hasattr(module, name):
            getattr(module, name).clear()


def _cold(
    client: TestClient, paths: list[str], n: int, headers: dict[str, str] | None = None,
    shared: bool = True,
) -> tuple[list[float], list[float]]:  # fmt: skip
    """Wall and CPU ms of ``paths`` in turn, kept results forgotten before each round."""
    wall, cpu = [], []
    for _ in range(n):
        _forget(shared)
        started, used = time.perf_counter(), time.process_time()
        for path in paths:
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return wall, cpu


def signed_in(store: Store, user: str) -> TestClient:
    """A client of the web application on ``store``, signed in as a demo account."""
    client = TestClient(create_app(store), base_url="https://bench")
    login = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token})
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--user", default="admin")
    parser.add_argument("-n", type=int, default=30)
    parser.add_argument("--products", type=int, default=5, help="Requests per product page.")
    parser.add_argument("--period", default="2026-10", help="The assessment's period.")
    parser.add_argument("--cold", type=int, default=3, help="Cold requests per kept page.")
    parser.add_argument("--poll", type=float, default=1.0, help="Seconds between polls of a "
                        "build (the pages poll every second).")  # fmt: skip
    parser.add_argument("--switch", type=float, default=None, help="The interpreter's thread "
                        "switch interval while builds run (default: marsad.store.kept.SWITCH).")  # fmt: skip
    parser.add_argument("--only", default="", help="Time only pages whose name has one of "
                        "these comma-separated words.")  # fmt: skip
    args = parser.parse_args()
    if args.switch is not None:
        kept.SWITCH = args.switch
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    store = instance.open_store()
    client = signed_in(store, args.user)
    clusters = client.get("/clusters?format=json").json()["clusters"]
    cluster = clusters[0]["id"] if clusters else None
    detail = client.get(f"/clusters/{cluster}?format=json").json() if cluster else {"members": []}
    member = (
        detail["members"][0] if detail["members"] else {"type": "domain", "value": "example.com"}
    )
    values = [m["value"] for m in detail["members"][:100]]
    typical = clusters[len(clusters) // 2] if clusters else None
    pages = {
        "dashboard": "/",
        "dashboard: top clusters": "/dashboard/clusters",
        "search (one value)": f"/search?q={member['value']}",
        "search (100 values)": "/search?q=" + "%0A".join(values),
        "observable": f"/observables/{member['type']}/{member['value']}",
        "clusters": "/clusters",
        f"cluster ({detail.get('size', 0)} members)": f"/clusters/{cluster}",
        **(
            {f"cluster ({typical['size']} members)": f"/clusters/{typical['id']}"}
            if typical
            else {}
        ),
        "submissions": "/submissions",
        "audit log": "/admin/audit",
    }
    products = {  # heavier: fewer requests (each production is audited and reads a period)
        "advisory (form)": "/reports/advisory",
        "advisory": "/reports/advisory?threat=phishing",
        "notice (form)": "/reports/notice",
        **({f"notice, cluster of {typical['size']}": f"/reports/notice?cluster={typical['id']}"}
           if typical else {}),
        "assessment (form)": "/reports/assessment",
        "assessment, one month": f"/reports/assessment?period={args.period}",
    }  # fmt: skip
    secret, _ = identity.create_token(store, args.user, label="bench/web.py", days=1)
    peer = _times(client, f"/api/v1/lookup?value={member['value']}", args.n,
                  {"Authorization": f"Bearer {secret}"})  # fmt: skip
    identity.revoke_token(store, secret[:12])
    peer_p50 = statistics.median(peer)
    print(f"demo instance {instance.display_url(instance.configured_url())}, user {args.user}, "
          f"{args.n} requests per page")  # fmt: skip
    print(f"{'page':28} {'p50 ms':>8} {'p99 ms':>8} {'vs API lookup':>14}")
    print(f"{'API lookup (peer)':28} {peer_p50:8.1f} {_p99(peer):8.1f} {'1.0x':>14}")
    only = args.only.split(",")
    pages = {k: v for k, v in pages.items() if any(w in k for w in only)}
    products = {k: v for k, v in products.items() if any(w in k for w in only)}
    for name, path in pages.items():
        t = _times(client, path, args.n)
        p50 = statistics.median(t)
        print(f"{name:28} {p50:8.1f} {_p99(t):8.1f} {p50 / peer_p50:13.1f}x")
    for name, path in products.items():
        t = _times(client, path, args.products)
        p50 = statistics.median(t)
        print(
            f"{name:28} {p50:8.1f} {max(t):8.1f} {p50 / peer_p50:13.1f}x  (max of {args.products})"
        )
    assessment = f"/reports/assessment?period={args.period}"
    fragment = {"HX-Request": "true"}
    cold = {  # name -> the first request, its headers, and whether shared results are forgotten
        "top clusters, cold": ("/dashboard/clusters", fragment, True),
        "top clusters, new grant": ("/dashboard/clusters", fragment, False),
        "assessment, cold": (assessment, None, True),
        "assessment, new grant": (assessment, None, False),
    }
    print(f"built in the background, {args.cold} rounds: the first answer (builder held while "
          f"it is timed: wall, CPU), the polls every {args.poll} s while building, the poll that "
          "brings the result, and the time until it is shown (wall max, process CPU with the "
          "build's, from the first request)")  # fmt: skip
    print(f"{'ms':28} {'first p50':>10} {'p99':>7} {'CPU p50':>10} {'p99':>7} {'poll p50':>10} "
          f"{'p99':>7} {'result p50':>10} {'max':>7} {'shown p50':>10} {'max':>7} "
          f"{'CPU p50':>8}")  # fmt: skip
    for name, (path, headers, shared) in cold.items():
        if any(w in name for w in only):
            r = _background(client, path, headers, args.cold, shared, args.poll)
            print(f"{name:28} {_ms(r['first'])} {_ms(r['first_cpu'])} {_ms(r['polls'])} "
                  f"{_ms(r['final'], 10, max)} {_ms(r['shown'], 10, max)} "
                  f"{statistics.median(r['shown_cpu']):8.0f}")  # fmt: skip
    if "PDF" in only or "pdf" in only:
        wall, cpu = _cold(client, [assessment.replace("?", ".pdf?")], args.cold, None, True)
        print(f"{'assessment PDF, cold (waits)':28} {statistics.median(wall):8.1f} "
              f"{max(wall):8.1f} {statistics.median(cpu):14.1f}  (max of {args.cold})")  # fmt: skip
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _background(
    client: TestClient, path: str, headers: dict[str, str] | None, rounds: int, shared: bool,
    poll: float,
) -> dict[str, list[float]]:  # fmt: skip
    """Rounds of: forget the kept results, ask (the builder held back while the answer is
    timed, so its CPU is the request's own), then poll as htmx does until the result is in
    the fragment. Milliseconds: first answer wall and CPU, the wall of each poll answered
    while building and of the one that brought the result, and the wall and process CPU
    (the build's included) from the first request until the result was shown."""
    out: dict[str, list[float]] = {k: [] for k in ("first", "first_cpu", "polls", "final",
                                                    "shown", "shown_cpu")}  # fmt: skip
    poll_headers = {"HX-Request": "true"}
    for _ in range(rounds):
        _forget(shared)
        held: list[Callable[[], None]] = []
        kept._submit = held.append  # type: ignore[assignment]
        try:
            started, used = time.perf_counter(), time.process_time()
            first = client.get(path, headers=headers)
            out["first"].append((time.perf_counter() - started) * 1000)
            out["first_cpu"].append((time.process_time() - used) * 1000)
        finally:
            kept._submit = _SUBMIT
        assert first.status_code == 200 and 'class="building"' in first.text, path
        for job in held:
            _SUBMIT(job)
        while True:
            time.sleep(poll)
            asked = time.perf_counter()
            answer = client.get(path, headers=poll_headers)
            took = (time.perf_counter() - asked) * 1000
            assert answer.status_code == 200, (path, answer.status_code)
            if 'class="building"' not in answer.text:  # the result, rendered into the fragment
                assert 'role="alert"' not in answer.text, answer.text[:2000]
                out["final"].append(took)
                break
            out["polls"].append(took)  # answered while the build runs beside it
        out["shown"].append((time.perf_counter() - started) * 1000)
        out["shown_cpu"].append((time.process_time() - used) * 1000)
    return out


def _ms(
    values: list[float], width: int = 10, top: Callable[[list[float]], float] | None = None
) -> str:
    """p50 and p99 (or ``top``) of milliseconds, aligned (dashes when there were none)."""
    if not values:
        return f"{'—':>{width}} {'—':>7}"
    high = top(values) if top else _p99(values)
    return f"{statistics.median(values):{width}.1f} {high:7.1f}"


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
