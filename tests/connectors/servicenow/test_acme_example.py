"""The recorded Acme Shop instance in examples/upstreams/servicenow reads as the demo story tells it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import respx

from opscontext_mcp.model import EntityKind
from tests.connectors.servicenow.support import TABLE, connector, page, router

pytestmark = pytest.mark.anyio

UPSTREAM = Path(__file__).resolve().parents[3] / "examples" / "upstreams" / "servicenow"
NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)


def acme_instance() -> respx.Router:
    routes = router()
    for file in sorted(UPSTREAM.glob("*.json")):
        rows = json.loads(file.read_text(encoding="utf-8"))["result"]
        routes.get(f"{TABLE}/{file.stem}").mock(return_value=page(rows))
    return routes


async def test_the_acme_cmdb_serves_six_services_with_their_support_groups_as_owners() -> None:
    source, _ = connector(acme_instance())
    catalog = await source.fetch_catalog()
    assert catalog.problems == ()
    owners = {s.name: s.owner for s in catalog.services}
    assert owners == {
        "Payment Service": "group:default/Payments",
        "Checkout Service": "group:default/Checkout",
        "Cart Service": "group:default/Checkout",
        "Frontend Web": "group:default/Storefront",
        "Stripe Payments Gateway": "group:default/Payments",
        "Orders Database": "group:default/Checkout",
    }
    orders = next(s for s in catalog.services if s.name == "Orders Database")
    assert (orders.kind, orders.type, orders.external_ids) == (
        EntityKind.RESOURCE,
        "database",
        {"servicenow": "71e0b3d95a2c48f6e9d4a1c7b38f0e25"},
    )
    assert {t.name: t.email for t in catalog.teams} == {
        "Payments": "payments@acme-shop.example",
        "Checkout": "checkout@acme-shop.example",
        "Storefront": "storefront@acme-shop.example",
        "Platform Engineering": "platform@acme-shop.example",
    }
    assert sorted((d.caller, d.callee) for d in catalog.dependencies) == [
        ("Checkout Service", "Cart Service"),
        ("Checkout Service", "Orders Database"),
        ("Checkout Service", "Payment Service"),
        ("Payment Service", "Stripe Payments Gateway"),
    ]


async def test_the_acme_change_feed_has_yesterdays_orders_db_upgrade_in_the_last_day() -> None:
    source, _ = connector(acme_instance())
    changes = await source.fetch_changes(datetime(2026, 11, 26, 10, tzinfo=UTC), NOW)
    names = dict(changes.service_names)
    assert [(c.id, names[c.service], c.at) for c in changes.records] == [
        ("CHG0048213", "Orders Database", datetime(2026, 11, 26, 14, 0, tzinfo=UTC))
    ]
    everything = await source.fetch_changes(datetime(2026, 11, 1, tzinfo=UTC), NOW)
    names = dict(everything.service_names)
    assert {c.id: names[c.service] for c in everything.records} == {
        "CHG0048213": "Orders Database",
        "CHG0030988": "Payment Service",
    }


async def test_the_acme_checkout_incident_is_open_and_last_weeks_is_resolved() -> None:
    source, _ = connector(acme_instance())
    batch = await source.fetch_incidents(datetime(2026, 11, 26, tzinfo=UTC))
    incidents, names = {i.id: i for i in batch.records}, dict(batch.service_names)
    checkout = incidents["INC0019876"]
    services = tuple(names[ref] for ref in checkout.services)
    assert (checkout.open, checkout.status, checkout.severity, services, checkout.opened_at) == (
        True,
        "In Progress",
        "1 - Critical",
        ("Checkout Service",),
        datetime(2026, 11, 27, 9, 47, 12, tzinfo=UTC),
    )
    assert (incidents["INC0019544"].open, incidents["INC0019544"].status) == (False, "Resolved")
