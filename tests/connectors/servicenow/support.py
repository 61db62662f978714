"""A ServiceNow connector wired to a respx router, and Table API pages to answer with."""

from __future__ import annotations

from typing import Any

import httpx
import respx
from opscontext_connectors.servicenow import ServiceNowConnector, ServiceNowSettings

from tests.connectors.support import Waits, fixture, http_context

BASE = "https://acme.service-now.example"
TABLE = "/api/now/table"


def settings(**overrides: Any) -> ServiceNowSettings:
    values: dict[str, Any] = {
        "name": "servicenow",
        "type": "servicenow",
        "base_url": BASE,
        "username": "svc_opscontext",
        "password": "s3cret-pw",
    }
    values.update(overrides)
    return ServiceNowSettings.model_validate({k: v for k, v in values.items() if v is not None})


def router() -> respx.Router:
    return respx.Router(base_url=BASE, assert_all_mocked=True)


def connector(routes: respx.Router, **overrides: Any) -> tuple[ServiceNowConnector, Waits]:
    context, waits = http_context(routes)
    return ServiceNowConnector(settings(**overrides), context), waits


def page(rows: list[Any], *, links: tuple[str, ...] | None = None, total: int | None = None) -> httpx.Response:
    """A Table API page; `links` are the `rel`s its Link header names (None: no Link header)."""
    headers = {}
    if links is not None:
        headers["Link"] = ",".join(f'<{BASE}{TABLE}/x?sysparm_offset=0>;rel="{rel}"' for rel in links)
    if total is not None:
        headers["X-Total-Count"] = str(total)
    return httpx.Response(200, json={"result": rows}, headers=headers)


def table_fixture(table: str) -> list[Any]:
    return fixture("servicenow", f"{table}.json")["result"]


def params(route: respx.Route) -> list[dict[str, str]]:
    return [dict(call.request.url.params) for call in route.calls]
