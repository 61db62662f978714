from __future__ import annotations

import pytest
from mcp import Client

from tests.conftest import call

pytestmark = pytest.mark.anyio


async def test_blast_radius_of_a_database_lists_its_transitive_dependents(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "blast_radius", service="orders-db")
    hops = {d["id"]: d["hop"] for d in answer["dependents"]}
    assert hops == {"orders": 1, "checkout": 2, "frontend": 3, "api-gateway": 4}
    assert answer["total"] == 4 and not answer["truncated"]
    assert answer["by_hop"] == {"1": 1, "2": 1, "3": 1, "4": 1}
    api = next(d for d in answer["dependents"] if d["id"] == "api-gateway")
    assert api["path"] == ["api-gateway", "frontend", "checkout", "orders", "orders-db"]
    # Every demo journey enters by the frontend, 3 hops above the orders database.
    assert answer["journeys"]["status"] == "ok"
    assert [(j["journey"], j["entry"], j["hop"]) for j in answer["journeys"]["items"]] == [
        ("add-to-cart", "frontend", 3),
        ("browse", "frontend", 3),
        ("checkout", "frontend", 3),
        ("login", "frontend", 3),
    ]
    assert answer["journeys"]["items"][2]["slo"] == "checkout-availability-latency"


async def test_neighbours_carry_declared_and_observed_provenance_and_traffic(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "dependency_neighbours", service="payment")
        recommendation = await call(client, "dependency_neighbours", service="recommendation", direction="dependencies")
    gateway = next(d for d in answer["dependencies"] if d["id"] == "payment-gateway")
    assert gateway["edge"]["declared"] and gateway["edge"]["observed"]
    assert gateway["edge"]["declared_in"] == ["acme-shop:catalog/components/payment.yaml#1"]
    assert gateway["edge"]["observed_by"] == ["acme-shop"]
    traffic = gateway["edge"]["traffic"]
    assert traffic["requests"] > 0 and 0 < traffic["error_ratio"] < 1 and traffic["p99_ms"] > traffic["p50_ms"]
    assert [d["id"] for d in answer["dependents"]] == ["checkout"]
    edges = {d["id"]: d["edge"] for d in recommendation["dependencies"]}
    assert edges["productcatalog"]["observed"] and not edges["productcatalog"]["declared"]
    assert edges["ad"]["declared"] and not edges["ad"]["observed"]
    assert recommendation["dependents"] == [] and recommendation["dependents_total"] == 0


async def test_depth_reaches_further_and_limit_caps_with_a_total(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(
            client, "dependency_neighbours", service="frontend", direction="dependencies", depth=3, limit=5
        )
    assert answer["dependencies_total"] > 5 and len(answer["dependencies"]) == 5 and answer["truncated"]
    assert [d["hop"] for d in answer["dependencies"]] == sorted(d["hop"] for d in answer["dependencies"])
