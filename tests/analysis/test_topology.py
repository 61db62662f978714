from __future__ import annotations

from datetime import UTC, datetime

from opscontext_mcp.analysis.topology import blast_radius, neighbour_views, walk
from opscontext_mcp.join import SnapshotInputs, build_snapshot
from tests.fakes import declared, observed, resource, service


def cyclic():  # type: ignore[no-untyped-def]
    names = ["web", "api", "user", "graph", "cache"]
    return build_snapshot(
        SnapshotInputs(
            built_at=datetime(2026, 11, 27, tzinfo=UTC),
            services=[service(n, tier=1 if n == "web" else 2) for n in names[:-1]] + [resource("cache")],
            dependencies=[
                declared("component:default/web", "component:default/api"),
                declared("component:default/api", "component:default/user"),
                declared("component:default/user", "component:default/graph"),
                declared("component:default/graph", "component:default/user"),
                observed("graph", "cache", requests=10),
                observed("user", "cache", requests=500),
            ],
        )
    )


def test_walks_visit_each_node_once_even_through_a_cycle() -> None:
    snapshot = cyclic()
    assert walk(snapshot, "user", "dependencies", None) == {"graph": (1, "user"), "cache": (1, "user")}
    assert walk(snapshot, "user", "dependents", None) == {"api": (1, "user"), "graph": (1, "user"), "web": (2, "api")}


def test_blast_radius_is_transitive_and_ranks_the_most_critical_first() -> None:
    snapshot = cyclic()
    shown, total, by_hop, by_tier, by_team, _ = blast_radius(snapshot, snapshot.services["cache"], None, limit=3)
    assert total == 4 and len(shown) == 3
    assert shown[0].id == "web" and shown[0].path == ["web", "api", "user", "cache"]
    assert by_hop == {"1": 2, "2": 1, "3": 1}
    assert by_tier == {"1": 1, "2": 3}
    assert by_team == {"team-x": 4}
    capped, capped_total, *_ = blast_radius(snapshot, snapshot.services["cache"], 1, limit=10)
    assert capped_total == 2 and {s.id for s in capped} == {"user", "graph"}


def test_neighbours_put_the_busiest_edge_first_within_a_hop() -> None:
    snapshot = cyclic()
    views, total = neighbour_views(snapshot, snapshot.services["cache"], "dependents", depth=1, limit=5)
    assert [v.id for v in views] == ["user", "graph"] and total == 2
    assert views[0].edge.traffic.requests == 500
    assert views[0].edge.observed and not views[0].edge.declared
