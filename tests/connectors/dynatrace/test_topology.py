from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import respx

from opscontext_mcp.model import DependencyKind
from tests.connectors.dynatrace.routes import (
    BASE,
    CHECKOUT,
    FRAUD_CHECK,
    FRONTEND,
    NOW,
    NOW_MS,
    ORDERS_DB,
    PAYMENT,
    TOKEN,
    body,
    dynatrace,
    params,
    route_topology,
)

pytestmark = pytest.mark.anyio

DAY_MS = 24 * 3600 * 1000


async def test_service_calls_on_three_pages_become_observed_edges_named_by_entity_id() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = route_topology(router)
    dt, _ = dynatrace(router)

    batch = await dt.fetch_topology(NOW - timedelta(days=1), NOW)

    assert route.call_count == 3
    assert params(route, 0) == {
        "entitySelector": ['type("SERVICE")'],
        "fields": ["+fromRelationships,+toRelationships"],
        "from": [str(NOW_MS - DAY_MS)],
        "to": [str(NOW_MS)],
        "pageSize": ["200"],
    }
    assert params(route, 1) == {"nextPageKey": ["AQAAABQBAAAABQ-page2"]}
    assert params(route, 2) == {"nextPageKey": ["AQAAABQBAAAABQ-page3"]}
    assert all(call.request.headers["authorization"] == f"Api-Token {TOKEN}" for call in route.calls)
    edges = [(d.caller, d.callee) for d in batch.records]
    assert edges == [
        (f"dynatrace:{FRONTEND}", f"dynatrace:{CHECKOUT}"),
        (f"dynatrace:{CHECKOUT}", f"dynatrace:{PAYMENT}"),
        (f"dynatrace:{CHECKOUT}", f"dynatrace:{ORDERS_DB}"),
        (f"dynatrace:{PAYMENT}", f"dynatrace:{FRAUD_CHECK}"),
    ]
    assert {(d.kind, d.relation, d.stats) for d in batch.records} == {(DependencyKind.OBSERVED, "calls", None)}
    assert batch.records[0].provenance.source == "dt" and batch.records[0].provenance.ref == FRONTEND
    assert dict(batch.service_names) == {
        f"dynatrace:{FRONTEND}": "frontend",
        f"dynatrace:{CHECKOUT}": "CheckoutService",
        f"dynatrace:{PAYMENT}": "PaymentService",
        f"dynatrace:{ORDERS_DB}": "orders-db",
        f"dynatrace:{FRAUD_CHECK}": "FraudCheck",
    }
    assert batch.problems == ()


async def test_an_edge_only_the_callee_reports_is_kept_from_its_to_relationships() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    only_fraud_check = body("entities-3.json")
    router.get("/api/v2/entities").mock(return_value=httpx.Response(200, json=only_fraud_check))
    dt, _ = dynatrace(router)

    batch = await dt.fetch_topology(NOW - timedelta(hours=1), NOW)

    assert [(d.caller, d.callee, d.provenance.ref) for d in batch.records] == [
        (f"dynatrace:{PAYMENT}", f"dynatrace:{FRAUD_CHECK}", FRAUD_CHECK)
    ]


async def test_zone_and_tags_narrow_the_selector_and_are_quoted_so_a_name_cannot_change_it() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = route_topology(router)
    dt, _ = dynatrace(router, management_zone='prod"),type("HOST', tags=["[Kubernetes]app:checkout", "team~x"])

    await dt.fetch_topology(NOW - timedelta(hours=1), NOW)

    assert params(route, 0)["entitySelector"] == [
        'type("SERVICE"),mzName("prod~"),type(~"HOST"),tag("[Kubernetes]app:checkout"),tag("team~~x")'
    ]


async def test_a_call_to_something_that_is_not_a_service_is_left_out_with_a_warning() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    page = body("entities-3.json")
    page["entities"][0]["fromRelationships"]["calls"] = [
        {"id": "PROCESS_GROUP-0A1B2C3D4E5F6A09", "type": "PROCESS_GROUP"},
        {"id": ORDERS_DB},
    ]
    router.get("/api/v2/entities").mock(return_value=httpx.Response(200, json=page))
    dt, _ = dynatrace(router)

    batch = await dt.fetch_topology(NOW - timedelta(hours=1), NOW)

    assert {(d.caller, d.callee) for d in batch.records} == {
        (f"dynatrace:{FRAUD_CHECK}", f"dynatrace:{ORDERS_DB}"),
        (f"dynatrace:{PAYMENT}", f"dynatrace:{FRAUD_CHECK}"),
    }
    [warning] = batch.problems
    assert warning.severity == "warning" and warning.location == f"entities/{FRAUD_CHECK}"
    assert "PROCESS_GROUP-0A1B2C3D4E5F6A09 (PROCESS_GROUP)" in warning.reason


async def test_an_entity_without_an_id_is_a_problem_while_the_rest_load() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    page = body("entities-1.json") | {"nextPageKey": None}
    page["entities"].insert(1, {"displayName": "ghost", "fromRelationships": {"calls": "not a list"}})
    page["entities"][0]["toRelationships"] = None
    router.get("/api/v2/entities").mock(return_value=httpx.Response(200, json=page))
    dt, _ = dynatrace(router)

    batch = await dt.fetch_topology(NOW - timedelta(hours=1), NOW)

    assert [p.model_dump() for p in batch.problems] == [
        {"location": "entities[1]", "reason": "an entity needs an entityId", "severity": "error"}
    ]
    assert len(batch.records) == 3
    assert f"dynatrace:{CHECKOUT}" in dict(batch.service_names)


async def test_a_page_key_sent_again_ends_paging_with_a_problem_instead_of_looping() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    page = body("entities-3.json") | {"nextPageKey": "same"}
    route = router.get("/api/v2/entities").mock(return_value=httpx.Response(200, json=page))
    dt, _ = dynatrace(router)

    batch = await dt.fetch_topology(NOW - timedelta(hours=1), NOW)

    assert route.call_count == 2
    assert [p.reason for p in batch.problems] == [
        "Dynatrace sent the page key 'same' again; paging stopped, the list may be incomplete"
    ]
    assert batch.problems[0].location == "/api/v2/entities"
    assert len(batch.records) == 1


async def test_a_list_that_never_stops_paging_is_cut_at_max_pages() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)

    def endless(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"entities": [], "nextPageKey": f"k{len(route.calls)}"})

    route = router.get("/api/v2/entities").mock(side_effect=endless)
    dt, _ = dynatrace(router, max_pages=4)

    batch = await dt.fetch_topology(NOW - timedelta(hours=1), NOW)

    assert route.call_count == 4
    assert [p.reason for p in batch.problems] == [
        "more than max_pages (4) pages; paging stopped, the list may be incomplete"
    ]
