"""An Opsgenie connector wired to a respx router, and the fixture routes most tests share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import respx
from opscontext_connectors.opsgenie import OpsgenieConnector, OpsgenieSettings

from tests.connectors.support import Waits, fixture, http_context

BASE = "https://api.opsgenie.com"
NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)
KEY = "og-k3y"
PAYMENTS = "d875e654-9b4e-4219-a803-0c26936d18de"
CHECKOUT = "c2a5b0f7-3d41-4e6c-9f1e-8b7d2a4c6e90"


def opsgenie(router: respx.Router, **settings: Any) -> tuple[OpsgenieConnector, Waits]:
    context, waits = http_context(router, now=NOW)
    config = OpsgenieSettings(name="og", type="opsgenie", token=KEY, **settings)
    return OpsgenieConnector(config, context), waits


def body(name: str) -> Any:
    return fixture("opsgenie", name)


def route_fixtures(router: respx.Router) -> dict[str, respx.Route]:
    """Both schedules with their timelines (checkout's as payments' twin), the on-calls fallback and escalations."""
    checkout_timeline = body("timeline_payments.json")
    checkout_timeline["data"]["finalTimeline"] = {"rotations": []}
    return {
        "schedules": router.get("/v2/schedules").mock(return_value=httpx.Response(200, json=body("schedules.json"))),
        "payments": router.get(f"/v2/schedules/{PAYMENTS}/timeline").mock(
            return_value=httpx.Response(200, json=body("timeline_payments.json"))
        ),
        "checkout": router.get(f"/v2/schedules/{CHECKOUT}/timeline").mock(
            return_value=httpx.Response(200, json=checkout_timeline)
        ),
        "oncalls": router.get(f"/v2/schedules/{CHECKOUT}/on-calls").mock(
            return_value=httpx.Response(200, json=body("oncalls_checkout.json"))
        ),
        "escalations": router.get("/v2/escalations").mock(
            return_value=httpx.Response(200, json=body("escalations.json"))
        ),
    }


def params(route: respx.Route, index: int = -1) -> dict[str, list[str]]:
    query = route.calls[index].request.url.params
    return {key: query.get_list(key) for key in query}
