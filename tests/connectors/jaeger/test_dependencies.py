from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
import respx

from opscontext_mcp.model import DependencyKind
from tests.connectors.jaeger.routes import BASE, NOW, SINCE, body, jaeger

pytestmark = pytest.mark.anyio


async def test_dependencies_are_asked_for_over_the_window_in_milliseconds() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/dependencies").mock(return_value=httpx.Response(200, json=body("dependencies.json")))
    connector, _ = jaeger(router)

    await connector.fetch_topology(datetime(2026, 11, 27, 10, 0, 0, tzinfo=timezone(timedelta(hours=1))), NOW)

    assert dict(route.calls.last.request.url.params) == {"endTs": "1795773600000", "lookback": "3600000"}
    assert "authorization" not in route.calls.last.request.headers


async def test_each_parent_child_pair_is_an_observed_call_edge_with_its_call_count_over_the_window() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/dependencies").mock(return_value=httpx.Response(200, json=body("dependencies.json")))
    connector, _ = jaeger(router)

    batch = await connector.fetch_topology(SINCE, NOW)

    assert [(d.caller, d.callee, d.stats.requests if d.stats else None) for d in batch.records] == [
        ("frontend", "checkout", 1204),
        ("checkout", "cart", 2391),
        ("checkout", "payment", 1187),
        ("payment", "payment-gateway", 1179),
        ("checkout", "orders", 1183),
    ]
    edge = batch.records[0]
    assert (edge.kind, edge.relation, edge.provenance.source) == (DependencyKind.OBSERVED, "calls", "jaeger")
    assert edge.stats is not None
    assert (edge.stats.window_start, edge.stats.window_end, edge.stats.errors) == (SINCE, NOW, 0)
    assert edge.stats.rate_per_second == pytest.approx(1204 / 3600)
    assert batch.service_names == ()


async def test_a_service_calling_itself_and_an_edge_without_calls_are_left_out() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/dependencies").mock(return_value=httpx.Response(200, json=body("dependencies.json")))
    connector, _ = jaeger(router)

    batch = await connector.fetch_topology(SINCE, NOW)

    edges = {(d.caller, d.callee) for d in batch.records}
    assert ("checkout", "checkout") not in edges and ("frontend", "ad") not in edges


async def test_an_entry_without_a_parent_is_a_problem_while_the_others_load() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/dependencies").mock(return_value=httpx.Response(200, json=body("dependencies.json")))
    connector, _ = jaeger(router)

    batch = await connector.fetch_topology(SINCE, NOW)

    assert len(batch.records) == 5
    assert [(p.location, p.reason, p.severity) for p in batch.problems] == [
        ("dependencies[7]", "a dependency needs a parent and a child service", "error")
    ]


async def test_a_call_count_that_is_not_a_count_is_a_problem_and_a_decimal_string_is_read() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    entries = [
        {"parent": "frontend", "child": "checkout", "callCount": "1204"},
        {"parent": "checkout", "child": "cart", "callCount": -3},
        {"parent": "checkout", "child": "payment", "callCount": True},
        {"parent": "checkout", "child": "orders"},
        ["frontend", "ad"],
    ]
    router.get("/api/dependencies").mock(return_value=httpx.Response(200, json={"data": entries, "errors": None}))
    connector, _ = jaeger(router)

    batch = await connector.fetch_topology(SINCE, NOW)

    assert [(d.caller, d.callee, d.stats.requests if d.stats else None) for d in batch.records] == [
        ("frontend", "checkout", 1204)
    ]
    assert [(p.location, p.reason) for p in batch.problems] == [
        ("dependencies/checkout->cart", "callCount: expected a count of calls, got -3"),
        ("dependencies/checkout->payment", "callCount: expected a count of calls, got True"),
        ("dependencies/checkout->orders", "callCount: expected a count of calls, got None"),
        ("dependencies[4]", "expected an object, got ['frontend', 'ad']"),
    ]


async def test_the_same_pair_listed_twice_is_one_edge_with_the_calls_added_up() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    entries = [
        {"parent": "checkout", "child": "payment", "callCount": 600},
        {"parent": "frontend", "child": "checkout", "callCount": 1204},
        {"parent": "checkout", "child": "payment", "callCount": 587},
    ]
    router.get("/api/dependencies").mock(return_value=httpx.Response(200, json={"data": entries}))
    connector, _ = jaeger(router)

    batch = await connector.fetch_topology(SINCE, NOW)

    assert [(d.caller, d.callee, d.stats.requests if d.stats else None) for d in batch.records] == [
        ("checkout", "payment", 1187),
        ("frontend", "checkout", 1204),
    ]


@pytest.mark.parametrize("data", [[], None], ids=["empty", "null"])
async def test_no_dependencies_at_all_is_served_with_a_warning_that_the_dependency_job_may_not_have_run(
    data: list[object] | None,
) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/dependencies").mock(
        return_value=httpx.Response(200, json={"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None})
    )
    connector, _ = jaeger(router)

    batch = await connector.fetch_topology(SINCE, NOW)

    assert batch.records == ()
    assert [(p.location, p.severity) for p in batch.problems] == [("/api/dependencies", "warning")]
    assert "dependency job" in batch.problems[0].reason


async def test_errors_jaeger_lists_beside_its_data_are_warnings() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    answer = {
        "data": [{"parent": "frontend", "child": "checkout", "callCount": 1204}],
        "errors": [{"code": 500, "msg": "index jaeger-dependencies-2026-11-26 not found"}],
    }
    router.get("/api/dependencies").mock(return_value=httpx.Response(200, json=answer))
    connector, _ = jaeger(router)

    batch = await connector.fetch_topology(SINCE, NOW)

    assert len(batch.records) == 1
    assert [(p.location, p.reason, p.severity) for p in batch.problems] == [
        ("/api/dependencies", "Jaeger: index jaeger-dependencies-2026-11-26 not found", "warning")
    ]


async def test_a_bearer_token_is_sent_when_one_is_configured() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/dependencies").mock(return_value=httpx.Response(200, json=body("dependencies.json")))
    connector, _ = jaeger(router, token="jaeger-s3cret")

    await connector.fetch_topology(SINCE, NOW)

    assert route.calls.last.request.headers["authorization"] == "Bearer jaeger-s3cret"


async def test_basic_credentials_are_sent_when_a_username_and_password_are_configured() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/dependencies").mock(return_value=httpx.Response(200, json=body("dependencies.json")))
    connector, _ = jaeger(router, username="ops", password="pa55")

    await connector.fetch_topology(SINCE, NOW)

    assert route.calls.last.request.headers["authorization"] == "Basic b3BzOnBhNTU="


async def test_a_base_path_in_the_url_is_kept() -> None:
    router = respx.Router(base_url=f"{BASE}/jaeger", assert_all_mocked=True)
    route = router.get("/api/dependencies").mock(return_value=httpx.Response(200, json=body("dependencies.json")))
    connector, _ = jaeger(router, base_url=f"{BASE}/jaeger/")

    await connector.fetch_topology(SINCE, NOW)

    assert route.calls.last.request.url.path == "/jaeger/api/dependencies"
    assert datetime.fromtimestamp(int(route.calls.last.request.url.params["endTs"]) / 1000, UTC) == NOW
