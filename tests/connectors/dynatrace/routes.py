"""A Dynatrace connector wired to a respx router, and the fixture routes most tests share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import respx
from opscontext_connectors.dynatrace import DynatraceConnector, DynatraceSettings

from tests.connectors.support import Waits, fixture, http_context

BASE = "https://abc12345.live.dynatrace.com"
NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)
NOW_MS = 1795773600000
TOKEN = "dt0c01.ABCDEFGHIJKLMNOPQRSTUVWX.s3cretpart"
TOPOLOGY_PAGES = {
    None: "entities-1.json",
    "AQAAABQBAAAABQ-page2": "entities-2.json",
    "AQAAABQBAAAABQ-page3": "entities-3.json",
}

CHECKOUT = "SERVICE-1C2D3E4F5A6B7081"
FRONTEND = "SERVICE-2D3E4F5A6B7C8091"
PAYMENT = "SERVICE-5A1B2C3D4E5F6071"
ORDERS_DB = "SERVICE-3E4F5A6B7C8D90A1"
FRAUD_CHECK = "SERVICE-4F5A6B7C8D9E0AB1"


def dynatrace(router: respx.Router, **settings: Any) -> tuple[DynatraceConnector, Waits]:
    context, waits = http_context(router, now=NOW)
    config = DynatraceSettings(name="dt", type="dynatrace", **{"base_url": BASE, "token": TOKEN, **settings})
    return DynatraceConnector(config, context), waits


def body(name: str) -> Any:
    return fixture("dynatrace", name)


def params(route: respx.Route, index: int = -1) -> dict[str, list[str]]:
    """The query of one call to a route, every value of each key in order."""
    query = route.calls[index].request.url.params
    return {key: query.get_list(key) for key in query}


def paged(pages: dict[str | None, Any]) -> Any:
    """A side effect answering each request with the page its `nextPageKey` names (none: the first)."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params.get("nextPageKey")])

    return answer


def route_topology(router: respx.Router) -> respx.Route:
    """`/api/v2/entities` serving the three pages of tests/fixtures/dynatrace/entities-*.json."""
    pages = {key: body(name) for key, name in TOPOLOGY_PAGES.items()}
    return router.get("/api/v2/entities").mock(side_effect=paged(pages))


def route_events(router: respx.Router, **answers: Any) -> respx.Route:
    """`/api/v2/events` answering each event type asked for from `answers` (by type), empty otherwise."""

    def answer(request: httpx.Request) -> httpx.Response:
        selector = request.url.params["eventSelector"]
        event_type = selector.removeprefix('eventType("').removesuffix('")')
        found = answers.get(event_type, {"totalCount": 0, "pageSize": 200, "nextPageKey": None, "events": []})
        return httpx.Response(200, json=found)

    return router.get("/api/v2/events").mock(side_effect=answer)
