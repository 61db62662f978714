"""A Jaeger connector wired to a respx router."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import respx
from opscontext_connectors.jaeger import JaegerConnector, JaegerSettings

from tests.connectors.support import Waits, fixture, http_context

BASE = "http://jaeger-query:16686"
NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)
SINCE = NOW - timedelta(hours=1)


def jaeger(router: respx.Router, **settings: Any) -> tuple[JaegerConnector, Waits]:
    context, waits = http_context(router, now=NOW)
    settings.setdefault("base_url", BASE)
    return JaegerConnector(JaegerSettings(name="jaeger", type="jaeger", **settings), context), waits


def body(name: str) -> Any:
    return fixture("jaeger", name)
