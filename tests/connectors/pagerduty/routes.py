"""A PagerDuty connector wired to a respx router, and the fixture routes most tests share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import respx
from opscontext_connectors.pagerduty import PagerDutyConnector, PagerDutySettings

from tests.connectors.support import Waits, fixture, http_context

BASE = "https://api.pagerduty.com"
NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)
TOKEN = "pd-s3cret"


def pagerduty(router: respx.Router, **settings: Any) -> tuple[PagerDutyConnector, Waits]:
    context, waits = http_context(router, now=NOW)
    config = PagerDutySettings(name="pd", type="pagerduty", token=TOKEN, **settings)
    return PagerDutyConnector(config, context), waits


def body(name: str) -> Any:
    return fixture("pagerduty", name)


def route_oncall_fixtures(router: respx.Router) -> dict[str, respx.Route]:
    """The services, both policies and the on-calls of tests/fixtures/pagerduty, one page each."""
    return {
        "services": router.get("/services").mock(return_value=httpx.Response(200, json=body("services.json"))),
        "PEP0001": router.get("/escalation_policies/PEP0001").mock(
            return_value=httpx.Response(200, json=body("escalation_policies/PEP0001.json"))
        ),
        "PEP0002": router.get("/escalation_policies/PEP0002").mock(
            return_value=httpx.Response(200, json=body("escalation_policies/PEP0002.json"))
        ),
        "oncalls": router.get("/oncalls").mock(return_value=httpx.Response(200, json=body("oncalls.json"))),
    }


def params(route: respx.Route, index: int = -1) -> dict[str, list[str]]:
    """The query of one call to a route, every value of each key in order."""
    query = route.calls[index].request.url.params
    return {key: query.get_list(key) for key in query}


def route_incidents(router: respx.Router, answer: dict[str, Any]) -> respx.Route:
    """`/incidents` answering from `answer` with only the statuses asked for, as PagerDuty filters them."""

    def filtered(request: httpx.Request) -> httpx.Response:
        statuses = request.url.params.get_list("statuses[]")
        kept = [i for i in answer["incidents"] if not isinstance(i, dict) or i.get("status") in statuses]
        return httpx.Response(200, json={**answer, "incidents": kept})

    return router.get("/incidents").mock(side_effect=filtered)
