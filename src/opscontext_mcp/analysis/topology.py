"""Dependencies (what a service calls), dependents (what calls it) and the blast radius."""

from __future__ import annotations

from collections import Counter
from typing import Literal

from opscontext_mcp.protocols import Capability
from opscontext_mcp.replies import CarriedJourney, EdgeView, ImpactedService, JourneySection, NeighbourView, TrafficView
from opscontext_mcp.snapshot import Edge, ServiceEntry, Snapshot

Direction = Literal["dependencies", "dependents"]


def walk(snapshot: Snapshot, start: str, direction: Direction, depth: int | None) -> dict[str, tuple[int, str]]:
    """Breadth-first reach: node → (hop, the node it was reached from). Cycles are visited once."""
    adjacency = snapshot.graph.succ if direction == "dependencies" else snapshot.graph.pred
    reached: dict[str, tuple[int, str]] = {}
    frontier = [start]
    hop = 0
    while frontier and (depth is None or hop < depth):
        hop += 1
        following = []
        for node in frontier:
            for other in adjacency[node]:
                if other != start and other not in reached:
                    reached[other] = (hop, node)
                    following.append(other)
        frontier = following
    return reached


def edge_view(edge: Edge) -> EdgeView:
    traffic = None
    observed = edge.traffic
    if observed is not None and observed.stats is not None:
        stats = observed.stats
        traffic = TrafficView(
            requests=stats.requests,
            per_second=round(stats.rate_per_second, 3),
            error_ratio=round(stats.error_ratio, 4),
            p50_ms=stats.p50_ms,
            p95_ms=stats.p95_ms,
            p99_ms=stats.p99_ms,
            window_start=stats.window_start,
            window_end=stats.window_end,
            source=observed.provenance.source,
        )
    return EdgeView(
        declared=bool(edge.declared),
        observed=bool(edge.observed),
        relations=list(dict.fromkeys(d.relation for d in (*edge.declared, *edge.observed))),
        declared_in=list(dict.fromkeys(f"{d.provenance.source}:{d.provenance.ref or ''}" for d in edge.declared)),
        observed_by=list(dict.fromkeys(d.provenance.source for d in edge.observed)),
        traffic=traffic,
    )


def cached_edge_view(snapshot: Snapshot, edge: Edge) -> EdgeView:
    """Edge views depend on the snapshot alone, and hub edges are asked for again and again."""
    views: dict[tuple[str, str], EdgeView] = snapshot.derive("edge-views", dict)
    view = views.get((edge.caller, edge.callee))
    if view is None:
        view = views[edge.caller, edge.callee] = edge_view(edge)
    return view


def neighbour_views(
    snapshot: Snapshot, entry: ServiceEntry, direction: Direction, depth: int, limit: int
) -> tuple[list[NeighbourView], int]:
    """Neighbours nearest first, busiest edge first within a hop; capped at `limit`, with the total."""
    reached = walk(snapshot, entry.id, direction, depth)

    def edge_to(node: str, via: str) -> Edge:
        return snapshot.edge(via, node) if direction == "dependencies" else snapshot.edge(node, via)

    def order(node: str) -> tuple[int, int, str]:
        hop, via = reached[node]
        traffic = edge_to(node, via).traffic
        return hop, -(traffic.stats.requests if traffic and traffic.stats else 0), node

    if depth == 1:
        # Direct neighbours in order, per service: hubs have thousands, and service_context asks often.
        memo: dict[str, list[str]] = snapshot.derive(f"direct-{direction}", dict)
        ordered = memo.get(entry.id)
        if ordered is None:
            ordered = memo[entry.id] = sorted(reached, key=order)
        chosen = ordered[:limit]
    else:
        chosen = sorted(reached, key=order)[:limit]
    views = []
    for node in chosen:
        hop, via = reached[node]
        other = snapshot.services[node]
        owner = other.owner
        views.append(
            NeighbourView(
                id=node,
                kind=other.kind.value,
                title=other.title,
                tier=other.tier,
                owner=owner.name if owner else None,
                hop=hop,
                via=via if hop > 1 else None,
                edge=cached_edge_view(snapshot, edge_to(node, via)),
            )
        )
    return views, len(reached)


def path_to(reached: dict[str, tuple[int, str]], node: str, start: str) -> list[str]:
    path = [node]
    while node != start:
        node = reached[node][1]
        path.append(node)
    return path


def blast_radius(
    snapshot: Snapshot, entry: ServiceEntry, max_depth: int | None, limit: int
) -> tuple[list[ImpactedService], int, dict[str, int], dict[str, int], dict[str, int], list[str]]:
    """Transitive dependents, most critical first: (shown, total, by hop, by tier, by team, systems)."""
    reached = walk(snapshot, entry.id, "dependents", max_depth)
    entries = [snapshot.services[node] for node in reached]

    def order(item: ServiceEntry) -> tuple[int, int, str]:
        return item.tier if item.tier is not None else 99, reached[item.id][0], item.id

    shown = []
    for item in sorted(entries, key=order)[:limit]:
        owner = item.owner
        shown.append(
            ImpactedService(
                id=item.id,
                kind=item.kind.value,
                title=item.title,
                tier=item.tier,
                owner=owner.name if owner else None,
                hop=reached[item.id][0],
                path=path_to(reached, item.id, entry.id),
            )
        )
    by_hop = Counter(str(hop) for hop, _ in reached.values())
    by_tier = Counter(str(item.tier) if item.tier is not None else "unknown" for item in entries)
    by_team = Counter(item.owner.name if item.owner else "unowned" for item in entries)
    systems = sorted({item.system for item in entries if item.system})
    return (
        shown,
        len(reached),
        dict(sorted(by_hop.items(), key=lambda kv: int(kv[0]))),
        dict(sorted(by_tier.items())),
        dict(by_team.most_common()),
        systems,
    )


def carried_journeys(snapshot: Snapshot, entry: ServiceEntry, depth: int | None) -> JourneySection:
    """The journeys users enter by this service or by anything that depends on it, nearest first."""
    hops = {entry.id: 0} | {node: hop for node, (hop, _) in walk(snapshot, entry.id, "dependents", depth).items()}
    items = sorted(
        (
            CarriedJourney(journey=j.journey.name, entry=j.entry_id, hop=hops[j.entry_id], slo=j.journey.slo)
            for j in snapshot.journeys
            if j.entry_id in hops
        ),
        key=lambda c: (c.hop, c.journey),
    )
    if not any(s.capability == Capability.SLO for s in snapshot.statuses):
        return JourneySection(status="not_available", note="no configured source defines journeys (slos/journeys.yaml)")
    return JourneySection(status="ok" if items else "empty", items=items)
