"""Graph commands: analyse, cluster list|show, link."""

from __future__ import annotations

from typing import Annotated

import typer

from marsad.access import audit
from marsad.analysis import clusters as cl
from marsad.analysis.graph import HubRule
from marsad.analysis.infrastructure import Graph, clusters_of, load_graph, members
from marsad.cli import instance
from marsad.cli.access import acting
from marsad.cli.app import AsOption, DbOption, JsonOption, app
from marsad.cli.output import emit_json, out, table
from marsad.model.errors import MarsadError
from marsad.model.normalize import expand
from marsad.model.observable import parse_ref
from marsad.store.store import Store

cluster_app = typer.Typer(
    help="Infrastructure clusters: the networks behind the data.", no_args_is_help=True
)
app.add_typer(cluster_app, name="cluster")


def _groups(store: Store, as_org: str | None) -> tuple[dict[int, list[str]], Graph | None]:
    """The operator reads the last analysis; an organisation gets clusters of what it sees."""
    viewer, grant = acting(store, as_org)
    if viewer.operator:
        saved = cl.stored(store)
        if saved:
            return saved, None
    graph = load_graph(store, grant)
    return members(graph, clusters_of(graph)), graph


@app.command()
def analyse(
    min_communities: Annotated[
        int,
        typer.Option("--hub-communities", help="A hub's neighbours span this many communities."),
    ] = HubRule().min_communities,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Recompute everything instead of what changed since the last run."
        ),
    ] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Bring the clusters up to date with what arrived since the last run.

    Reads only the rows above the last run's watermarks, prunes hubs, relabels only the
    components the new edges reach and stores the clusters that changed.
    """
    from marsad.analysis.incremental import analyse as run_analysis

    store = instance.open_store(db)
    viewer, _ = acting(store, None)
    run = run_analysis(store, full=full, rule=HubRule(min_communities=min_communities))
    audit.record(store, viewer, "analyse", "clusters",
                 details={"mode": run.mode, "clusters": run.clusters, "created": run.created,
                          "changed": run.changed, "removed": run.removed})  # fmt: skip
    if json:
        emit_json(run)
        return
    out.print(run.summary())
    if run.mode != "unchanged":
        out.print(
            f"{run.nodes:,} observables, {run.edges:,} edges; {len(run.hubs_pruned)} hubs pruned"
        )
    if run.hubs_pruned:
        table("Hubs (link operations, not part of any)", ["value"],
              [(h,) for h in run.hubs_pruned[:30]])  # fmt: skip


@cluster_app.command("list")
def cluster_list(
    limit: Annotated[int, typer.Option("--limit", help="How many, largest first.")] = 20,
    as_org: AsOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Clusters, largest first."""
    store = instance.open_store(db)
    groups, _ = _groups(store, as_org)
    viewer, _ = acting(store, as_org)
    audit.record(store, viewer, "cluster-list", "*", details={"clusters": len(groups)})
    rows = [{"id": k, "size": len(v), "sample": v[:3]} for k, v in list(groups.items())[:limit]]
    if json:
        emit_json(rows)
        return
    table(
        f"{len(groups):,} clusters",
        ["id", "size", "sample members"],
        [(r["id"], r["size"], ", ".join(r["sample"])) for r in rows],  # type: ignore[arg-type]
    )


@cluster_app.command("show")
def cluster_show(
    cluster_id: Annotated[int, typer.Argument(help="Cluster id, as `marsad cluster list` shows.")],
    as_org: AsOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Members, evidence, threat types, sources, countries and attached entities of a cluster."""
    from marsad.analysis.infrastructure import evidence

    store = instance.open_store(db)
    viewer, grant = acting(store, as_org)
    groups, _ = _groups(store, as_org)
    if cluster_id not in groups:
        audit.record(store, viewer, "cluster-show", str(cluster_id), outcome="deny")
        raise MarsadError(f"no cluster {cluster_id} among the clusters {viewer.label} may see")
    view = cl.describe(store, grant, cluster_id, groups[cluster_id])
    edges = evidence(store, grant, groups[cluster_id])
    audit.record(store, viewer, "cluster-show", str(cluster_id), details={"size": view.size})
    if json:
        emit_json({"cluster": view, "evidence": edges})
        return
    table(
        f"Cluster {cluster_id}: {view.size} members",
        ["", ""],
        [
            ("types", ", ".join(f"{k} {v}" for k, v in view.types.items())),
            ("threat types", ", ".join(f"{k} {v}" for k, v in view.threat_types.items())),
            ("sources", ", ".join(f"{k} {v}" for k, v in view.sources.items())),
            ("IP countries", ", ".join(f"{k} {v}" for k, v in view.countries.items())),
            ("reporting countries", ", ".join(view.victim_countries)),
            ("attached", "; ".join(view.entities) or None),
        ],
    )
    table("Members", ["value"], [(m,) for m in view.members[:200]])
    table(
        "Evidence",
        ["from", "relationship", "to", "reported by"],
        [(e.source, e.type, e.target, e.reported_by) for e in edges[:200]],
    )


@app.command()
def link(
    first: Annotated[str, typer.Argument(help="A value as typed, or type:value.")],
    second: Annotated[str, typer.Argument(help="Another value as typed, or type:value.")],
    as_org: AsOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """What links these two? The shortest evidence path, each hop with who reported it."""
    store = instance.open_store(db)
    viewer, grant = acting(store, as_org)
    graph = load_graph(store, grant)
    ends = []
    for value in (first, second):
        as_ref = parse_ref(value)  # `type:value`, as clusters list their members
        wanted = [as_ref.ref] if as_ref is not None else [o.ref for o in expand(value)]
        present = [r for r in wanted if r in set(graph.refs)]
        if not wanted:
            raise MarsadError(f"{value!r} is not a value Marsad recognises")
        ends.append(present[0] if present else wanted[0])
    path = cl.link(graph, ends[0], ends[1])
    hops = cl.with_provenance(store, grant, path) if path else None
    audit.record(store, viewer, "link", f"{ends[0]} {ends[1]}", details={"hops": len(hops or [])})
    if json:
        emit_json({"from": ends[0], "to": ends[1], "path": hops})
        return
    if hops is None:
        out.print(f"Nothing {viewer.label} may see links {ends[0]} and {ends[1]}.")
        return
    table(
        f"{ends[0]} → {ends[1]}: {len(hops)} hops",
        ["from", "relationship", "to", "reported by", "TLP"],
        [(h.source, h.type, h.target, ", ".join(h.reported_by), ", ".join(h.tlp)) for h in hops],
    )


@app.command()
def priorities(
    limit: Annotated[int, typer.Option("--limit", help="How many, highest first.")] = 20,
    by_cluster: Annotated[
        bool, typer.Option("--clusters", help="Rank clusters instead of single values.")
    ] = False,
    as_org: AsOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """The work list: observables (or clusters) by priority score, with the reasons."""
    from marsad.analysis.priorities import observable_scores, ranked, ranked_clusters

    store = instance.open_store(db)
    viewer, grant = acting(store, as_org)
    scores, refs = observable_scores(store, viewer, grant)
    if by_cluster:
        groups, _ = _groups(store, as_org)
        items = ranked_clusters(scores, refs, groups, limit)
    else:
        items = ranked(scores, refs, limit)
    audit.record(store, viewer, "priorities", "clusters" if by_cluster else "observables",
                 details={"items": [i.ref for i in items]})  # fmt: skip
    if json:
        emit_json(items)
        return
    table(
        f"Top {len(items)} by priority",
        ["score", "cluster" if by_cluster else "value", "why"],
        [(i.score, i.ref, "; ".join(i.reasons)) for i in items],
    )
