"""A Prometheus connector wired to a respx router, and the servicegraph answers most tests share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import respx
from opscontext_connectors.prometheus import PrometheusConnector, PrometheusSettings

from tests.connectors.support import Waits, fixture, http_context

BASE = "https://prometheus.example.com"
NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)
TOKEN = "prom-s3cret"


def prometheus(router: respx.Router, **settings: Any) -> tuple[PrometheusConnector, Waits]:
    context, waits = http_context(router, now=NOW)
    config = PrometheusSettings(name="prom", type="prometheus", base_url=BASE, **settings)
    return PrometheusConnector(config, context), waits


def body(name: str) -> Any:
    return fixture("prometheus", name)


def form(call: respx.models.Call | httpx.Request) -> dict[str, list[str]]:
    """The form-encoded body of one call or request, every value of each key in order."""
    request = call if isinstance(call, httpx.Request) else call.request
    return parse_qs(request.content.decode(), keep_blank_values=True)


def answer_for(query: str) -> str:
    """Which fixture answers a servicegraph query, told apart as Prometheus would: by what it asks."""
    if query.startswith("histogram_quantile("):
        quantile = query.removeprefix("histogram_quantile(").split(",", 1)[0]
        return {"0.5": "p50", "0.95": "p95", "0.99": "p99"}[quantile]
    return "errors" if "_request_failed_total" in query else "requests"


def route_servicegraph(router: respx.Router, answers: dict[str, Any] | None = None) -> respx.Route:
    """`POST /api/v1/query` answering each servicegraph query from tests/fixtures/prometheus/servicegraph."""
    given = answers or {}

    def answer(request: httpx.Request) -> httpx.Response:
        name = answer_for(form(request)["query"][0])
        return httpx.Response(200, json=given.get(name) or body(f"servicegraph/{name}.json"))

    return router.post("/api/v1/query").mock(side_effect=answer)
