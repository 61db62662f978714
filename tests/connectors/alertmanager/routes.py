"""An Alertmanager connector wired to a respx router, and the recorded alerts most tests share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import respx
from opscontext_connectors.alertmanager import AlertmanagerConnector, AlertmanagerSettings

from tests.connectors.support import Waits, fixture, http_context

BASE = "http://alertmanager.monitoring.svc:9093"
NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)


def connector(router: respx.Router, **settings: Any) -> tuple[AlertmanagerConnector, Waits]:
    context, waits = http_context(router, now=NOW)
    config = AlertmanagerSettings(name="am", type="alertmanager", base_url=BASE, **settings)
    return AlertmanagerConnector(config, context), waits


def alerts() -> list[dict[str, Any]]:
    return fixture("alertmanager", "alerts.json")


def route_alerts(router: respx.Router, body: Any = None) -> respx.Route:
    return router.get("/api/v2/alerts").mock(return_value=httpx.Response(200, json=alerts() if body is None else body))


def params(route: respx.Route) -> list[tuple[str, str]]:
    """The query of the last call to a route, in order, repeated keys kept."""
    return list(route.calls.last.request.url.params.multi_items())
