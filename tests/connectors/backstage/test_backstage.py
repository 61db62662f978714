from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from opscontext_connectors.backstage import BackstageConnector, BackstageSettings
from opscontext_connectors.http import UpstreamError

from tests.connectors.support import http_context
from tests.upstreams import stand_in

pytestmark = pytest.mark.anyio

BASE = "https://backstage.acme.example"
PATH = "/api/catalog/entities/by-query"
STAND_IN = stand_in()
EXPORT = Path(__file__).resolve().parents[3] / "examples" / "upstreams" / "backstage" / "entities.json"


def entities() -> list[dict[str, Any]]:
    return json.loads(EXPORT.read_text(encoding="utf-8"))["items"]


def connector(router: respx.Router, **settings: Any) -> tuple[BackstageConnector, list[float]]:
    context, waits = http_context(router)
    config = BackstageSettings(name="backstage", type="backstage", base_url=BASE, token="bs-token", **settings)
    return BackstageConnector(config, context), waits.seconds


def catalog(items: list[dict[str, Any]]) -> Callable[[httpx.Request], httpx.Response]:
    """A catalog answering `by-query` as Backstage does: filters ORed, fields projected, opaque cursors."""

    def answer(request: httpx.Request) -> httpx.Response:
        query = request.url.params
        page = STAND_IN.entities_page(
            items,
            filters=query.get_list("filter"),
            cursor=query.get("cursor"),
            limit=int(query.get("limit") or 20),
            fields=query.get("fields"),
        )
        return httpx.Response(200, json=page)

    return answer


async def test_the_catalog_is_read_page_by_page_with_the_cursor_alone_after_the_first() -> None:
    items = entities()
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get(PATH).mock(side_effect=catalog(items))
    backstage, _ = connector(router, page_size=20)
    data = await backstage.fetch_catalog()
    requests = [call.request for call in route.calls]
    kinds = [r.url.params.get_list("filter") for r in requests if "cursor" not in r.url.params]
    assert kinds == [["kind=component", "kind=resource", "kind=system", "kind=group", "kind=user"], ["kind=api"]]
    assert len(requests) == 4  # 52 entities in three pages, then 7 APIs in one
    first, *rest = requests
    assert first.url.params["limit"] == "20" and "cursor" not in first.url.params and "fields" not in first.url.params
    follow_ups = [r for r in rest if "cursor" in r.url.params]
    assert len(follow_ups) == 2 and all(r.url.params.get_list("filter") == [] for r in follow_ups)
    assert requests[-1].url.params["fields"] == "apiVersion,kind,metadata.name,metadata.namespace"
    assert all(r.headers["authorization"] == "Bearer bs-token" for r in requests)
    assert {s.name for s in data.services} >= {"payment", "checkout", "orders-db"}
    assert len(data.teams) == 9 and data.problems == ()
    checkout = {(d.caller, d.callee, d.relation) for d in data.dependencies if d.caller == "component:default/checkout"}
    assert ("component:default/checkout", "component:default/payment", "consumesApi:payment-api") in checkout
    assert ("component:default/checkout", "component:default/orders", "dependsOn") in checkout
    payment = next(s for s in data.services if s.name == "payment")
    assert payment.external_ids["pagerduty"] == "P7XK2" and payment.provenance.ref == "component:default/payment"


async def test_a_cursor_sent_again_ends_paging_with_a_problem_instead_of_looping() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    services = [e for e in entities() if e["kind"] == "Component"][:2]
    route = router.get(PATH).mock(
        side_effect=lambda request: httpx.Response(
            200, json={"items": services, "pageInfo": {"nextCursor": "same"}, "totalItems": 2}
        )
    )
    backstage, _ = connector(router, filters=["kind=component"])
    data = await backstage.fetch_catalog()
    assert route.call_count == 2
    assert [p.reason for p in data.problems if p.location == PATH] == [
        "the catalog sent the cursor 'same' again; paging stopped, the catalog may be incomplete"
    ]
    assert len(data.services) == 2  # the repeat is reported as duplicates of the first page, nothing lost


async def test_a_catalog_that_never_stops_paging_is_cut_at_max_pages() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get(PATH).mock(
        side_effect=lambda request: httpx.Response(
            200, json={"items": [], "pageInfo": {"nextCursor": f"c{len(route.calls)}"}}
        )
    )
    backstage, _ = connector(router, filters=["kind=component"], max_pages=5)
    data = await backstage.fetch_catalog()
    assert route.call_count == 5
    assert [p.reason for p in data.problems] == [
        "more than max_pages (5) pages; paging stopped, the catalog may be incomplete"
    ]


async def test_relations_outrank_the_spec_for_ownership_and_membership() -> None:
    entity = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "ledger", "namespace": "default"},
        "spec": {
            "type": "service",
            "lifecycle": "production",
            "owner": "team-stale",
            "dependsOn": ["component:old-db"],
        },
        "relations": [
            {"type": "ownedBy", "targetRef": "group:default/team-finance"},
            {"type": "dependsOn", "targetRef": "resource:default/ledger-db"},
        ],
    }
    user = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "User",
        "metadata": {"name": "kim", "namespace": "default"},
        "spec": {"memberOf": []},
        "relations": [{"type": "memberOf", "targetRef": "group:default/team-finance"}],
    }
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get(PATH).mock(side_effect=catalog([entity, user]))
    backstage, _ = connector(router)
    data = await backstage.fetch_catalog()
    [ledger] = data.services
    assert ledger.owner == "group:default/team-finance"
    assert [(d.caller, d.callee) for d in data.dependencies] == [
        ("component:default/ledger", "resource:default/ledger-db")
    ]
    assert data.people[0].teams == ("team-finance",)


async def test_a_malformed_entity_is_reported_and_the_page_is_still_served() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    good = entities()[:5]
    router.get(PATH).mock(
        return_value=httpx.Response(200, json={"items": [*good, {"kind": "Component"}, "junk"], "pageInfo": {}})
    )
    backstage, _ = connector(router, filters=["kind=component"])
    data = await backstage.fetch_catalog()
    assert len(data.problems) == 2
    assert {p.location for p in data.problems} == {"entity without kind or name"}


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            httpx.Response(401, json={"error": {"name": "AuthenticationError", "message": "invalid token"}}),
            "401 Unauthorized (check the token or credentials): invalid token",
        ),
        (httpx.Response(403, json={"error": {"name": "NotAllowedError", "message": "not allowed"}}), "403 Forbidden"),
        (
            httpx.Response(404, json={"error": {"name": "NotFoundError", "message": "no route"}}),
            "404 Not Found: no route",
        ),
        (httpx.Response(200, json={"unexpected": True}), "expected an object with an items list"),
        (httpx.Response(200, text="<!doctype html>"), "not JSON"),
    ],
)
async def test_upstream_failures_raise_readable_errors_without_retrying_client_errors(
    response: httpx.Response, message: str
) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get(PATH).mock(return_value=response)
    backstage, waits = connector(router)
    with pytest.raises(UpstreamError, match=re.escape(message)):
        await backstage.fetch_catalog()
    assert route.call_count == 1 and waits == []


async def test_rate_limits_and_server_errors_are_retried_before_the_catalog_loads() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get(PATH).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(502),
            httpx.ReadTimeout("slow"),
            *(catalog(entities()) for _ in range(2)),
        ]
    )
    backstage, waits = connector(router, page_size=100)
    data = await backstage.fetch_catalog()
    assert waits == [2.0, 1.0, 2.0] and route.call_count == 5
    assert len(data.services) == 22


async def test_check_reports_the_catalog_size_or_the_failure() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get(PATH, params={"limit": "1"}).mock(
        side_effect=[httpx.Response(200, json={"items": [], "totalItems": 59, "pageInfo": {}}), httpx.Response(401)]
    )
    backstage, _ = connector(router)
    healthy = await backstage.check()
    assert healthy.ok and healthy.detail == f"{BASE}: catalog answers, 59 entities"
    failing = await backstage.check()
    assert not failing.ok and "401" in failing.detail
