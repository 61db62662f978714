from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import respx
from opscontext_connectors.http import UpstreamError

from opscontext_mcp.model import DependencyKind
from opscontext_mcp.protocols import Problem
from tests.connectors.prometheus.routes import BASE, NOW, answer_for, body, form, prometheus, route_servicegraph

pytestmark = pytest.mark.anyio

SINCE = NOW - timedelta(minutes=15)
SERVER_BUCKETS = 'traces_service_graph_request_server_seconds_bucket{connection_type!="virtual_node"}[900s]'
CLIENT_BUCKETS = 'traces_service_graph_request_client_seconds_bucket{connection_type="virtual_node"}[900s]'


def latency_query(quantile: str) -> str:
    return (
        f"histogram_quantile({quantile}, sum by (client, server, le) (increase({SERVER_BUCKETS}))"
        f" or sum by (client, server, le) (increase({CLIENT_BUCKETS})))"
    )


async def test_servicegraph_counters_become_observed_edges_with_requests_errors_and_latency() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = route_servicegraph(router)
    prom, waits = prometheus(router)

    batch = await prom.fetch_topology(SINCE, NOW)

    stats = {
        (d.caller, d.callee, d.relation): (
            d.stats.requests,
            d.stats.errors,
            d.stats.p50_ms,
            d.stats.p95_ms,
            d.stats.p99_ms,
        )
        for d in batch.records
        if d.stats is not None
    }
    assert stats == {
        ("checkout", "order-events", "messaging"): (30, 0, None, None, None),
        ("checkout", "orders-db", "database"): (60, 0, pytest.approx(25), pytest.approx(47.5), pytest.approx(49.5)),
        ("checkout", "payment", "calls"): (62, 15, pytest.approx(250), pytest.approx(475), pytest.approx(495)),
        ("frontend", "checkout", "calls"): (120, 12, pytest.approx(100), pytest.approx(375), pytest.approx(475)),
    }
    assert len(batch.records) == 4 and waits.seconds == []
    edge = batch.records[-1]
    assert edge.kind == DependencyKind.OBSERVED
    assert (edge.stats.window_start, edge.stats.window_end) == (SINCE, NOW)
    assert edge.provenance.source == "prom"
    assert edge.provenance.ref == (
        f"{BASE}/graph?g0.expr=sum%28increase%28traces_service_graph_request_total"
        "%7Bclient%3D%22frontend%22%2Cserver%3D%22checkout%22%7D%5B900s%5D%29%29"
    )
    asked = sorted(form(call)["query"][0] for call in route.calls)
    assert asked == sorted(
        [
            "sum by (client, server, connection_type) (increase(traces_service_graph_request_total[900s]))",
            "sum by (client, server, connection_type) (increase(traces_service_graph_request_failed_total[900s]))",
            latency_query("0.5"),
            latency_query("0.95"),
            latency_query("0.99"),
        ]
    )
    assert {form(call)["time"][0] for call in route.calls} == {"1795773600.000"}
    assert all(call.request.headers["content-type"] == "application/x-www-form-urlencoded" for call in route.calls)


async def test_the_outside_world_is_no_caller_and_calls_to_an_unnamed_peer_are_reported() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_servicegraph(router)
    prom, _ = prometheus(router)

    batch = await prom.fetch_topology(SINCE, NOW)

    assert "user" not in {d.caller for d in batch.records}
    assert "unknown" not in {d.callee for d in batch.records}
    assert batch.problems == (
        Problem(
            location='traces_service_graph_request_total/{client="checkout",connection_type="virtual_node",server="unknown"}',
            reason="checkout calls a peer its spans do not name; add peer.service or server.address to them",
            severity="warning",
        ),
    )


async def test_an_edge_whose_requests_round_to_none_in_the_window_is_left_out() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_servicegraph(router)
    prom, _ = prometheus(router)

    batch = await prom.fetch_topology(SINCE, NOW)

    assert ("cart", "redis") not in {(d.caller, d.callee) for d in batch.records}


async def test_a_sample_with_an_unusable_value_or_no_endpoints_is_a_problem_while_the_other_edges_load() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    requests = body("servicegraph/requests.json")
    requests["data"]["result"][0]["value"] = [1795773600, "lots"]
    requests["data"]["result"][1]["metric"] = {"server": "payment", "connection_type": ""}
    p95 = body("servicegraph/p95.json")
    p95["data"]["result"][2]["value"] = [1795773600, None]
    route_servicegraph(router, {"requests": requests, "p95": p95})
    prom, _ = prometheus(router)

    batch = await prom.fetch_topology(SINCE, NOW)

    errors = {p.location: p.reason for p in batch.problems if p.severity == "error"}
    assert errors == {
        'traces_service_graph_request_total/{client="frontend",connection_type="",server="checkout"}': (
            "value 'lots' is not a number"
        ),
        'traces_service_graph_request_total/{connection_type="",server="payment"}': "has no client or no server label",
        'traces_service_graph_request_seconds p95/{client="checkout",server="orders-db"}': (
            "value None is not a number in a string"
        ),
    }
    edges = {(d.caller, d.callee): d.stats for d in batch.records if d.stats is not None}
    assert set(edges) == {("checkout", "order-events"), ("checkout", "orders-db"), ("checkout", "payment")}
    assert edges["checkout", "payment"].requests == 2  # only the virtual-node share had a client label
    assert edges["checkout", "orders-db"].p95_ms is None
    assert edges["checkout", "orders-db"].p50_ms == pytest.approx(25)


async def test_the_metric_prefix_and_matchers_reach_every_query_and_the_window_is_in_whole_seconds() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = route_servicegraph(router)
    prom, _ = prometheus(
        router, metric_prefix="servicegraph_traces_service_graph", matchers=['{cluster="prod"}', 'env=~"eu-.*"']
    )

    await prom.fetch_topology(NOW - timedelta(minutes=5, milliseconds=400), NOW + timedelta(milliseconds=250))

    queries = [form(call)["query"][0] for call in route.calls]
    assert len(queries) == 5
    for query in queries:
        assert "servicegraph_traces_service_graph_request_" in query
        assert "traces_service_graph_request_" not in query.replace("servicegraph_traces_service_graph_request_", "")
        assert '{cluster="prod",env=~"eu-.*"' in query and "[301s]" in query
    assert {form(call)["time"][0] for call in route.calls} == {"1795773600.250"}


async def test_warnings_from_prometheus_are_reported_once_beside_the_edges() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    partial = "partial response: store eu-west-1 did not answer"
    answers = {}
    for name in ("requests", "errors"):
        answers[name] = {**body(f"servicegraph/{name}.json"), "warnings": [partial]}
    route_servicegraph(router, answers)
    prom, _ = prometheus(router)

    batch = await prom.fetch_topology(SINCE, NOW)

    assert [p for p in batch.problems if p.reason == partial] == [
        Problem(location="/api/v1/query", reason=partial, severity="warning")
    ]
    assert len(batch.records) == 4


async def test_an_answer_that_is_not_a_vector_is_a_problem_and_its_figures_stay_unknown() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_servicegraph(router, {"p99": body("scalar.json")})
    prom, _ = prometheus(router)

    batch = await prom.fetch_topology(SINCE, NOW)

    assert Problem(location="traces_service_graph_request_seconds p99", reason="expected a vector, got a scalar") in (
        batch.problems
    )
    assert all(d.stats is not None and d.stats.p99_ms is None for d in batch.records)
    assert len(batch.records) == 4


def failing(router: respx.Router, which: str) -> None:
    """Every servicegraph query answers from the fixtures but the one containing `which`, which Prometheus refuses."""

    def answer(request: httpx.Request) -> httpx.Response:
        query = form(request)["query"][0]
        if which in query:
            return httpx.Response(422, json=body("execution.json"))
        return httpx.Response(200, json=body(f"servicegraph/{answer_for(query)}.json"))

    router.post("/api/v1/query").mock(side_effect=answer)


async def test_a_failing_latency_query_is_a_problem_and_the_edges_keep_their_other_figures() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    failing(router, "histogram_quantile(0.95")
    prom, waits = prometheus(router)

    batch = await prom.fetch_topology(SINCE, NOW)

    assert len(batch.records) == 4 and waits.seconds == []
    assert all(d.stats is not None and d.stats.p95_ms is None for d in batch.records)
    assert any(d.stats is not None and d.stats.p50_ms is not None and d.stats.errors for d in batch.records)
    assert (
        Problem(
            location="traces_service_graph_request_seconds p95",
            reason=f"p95_ms unknown: POST {BASE}/api/v1/query: 422 Unprocessable Entity: "
            "query processing would load too many samples into memory in query execution",
            severity="warning",
        )
        in batch.problems
    )


async def test_a_failing_requests_query_fails_the_whole_read_with_prometheus_reason() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    failing(router, "sum by (client, server, connection_type) (increase(traces_service_graph_request_total")
    prom, waits = prometheus(router)

    with pytest.raises(UpstreamError) as caught:
        await prom.fetch_topology(SINCE, NOW)

    assert str(caught.value) == (
        f"POST {BASE}/api/v1/query: 422 Unprocessable Entity: "
        "query processing would load too many samples into memory in query execution"
    )
    assert caught.value.status == 422 and waits.seconds == []


async def test_a_window_that_ends_before_it_starts_is_refused_before_asking() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    prom, _ = prometheus(router)

    with pytest.raises(ValueError, match="must end after it starts"):
        await prom.fetch_topology(NOW, SINCE)
