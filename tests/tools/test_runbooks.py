from __future__ import annotations

import json

import pytest
from mcp import Client

from tests.conftest import EXAMPLES, call, call_error

pytestmark = pytest.mark.anyio


EXPECTED = {
    "PaymentLatencyHigh": "acme-shop/payments/payment-latency-errors",
    "PaymentErrorRateHigh": "acme-shop/payments/payment-latency-errors",
    "CheckoutLatencyHigh": "acme-shop/checkout/checkout-degraded",
    "CheckoutErrorRateHigh": "acme-shop/checkout/checkout-degraded",
    "CheckoutSLOBurnRateHigh": "acme-shop/checkout/checkout-degraded",
    "RedisCartMemoryHigh": "acme-shop/checkout/cart-redis-cart",
    "ShippingQuoteLatencyHigh": "acme-shop/fulfilment/shipping-email",
}
"""Every alert of the demo incident and the runbook a responder should open for it."""


def firing_alerts() -> list[dict[str, object]]:
    return json.loads((EXAMPLES / "acme-shop" / "alerts" / "alertmanager.json").read_text(encoding="utf-8"))


async def test_the_right_runbook_ranks_first_for_every_firing_alert(demo_server) -> None:  # type: ignore[no-untyped-def]
    alerts = firing_alerts()
    assert {a["labels"]["alertname"] for a in alerts} == set(EXPECTED)  # type: ignore[index]
    async with Client(demo_server) as client:
        for alert in alerts:
            name = alert["labels"]["alertname"]  # type: ignore[index]
            answer = await call(client, "matching_runbook", alert=name)
            assert answer["matches"][0]["id"] == EXPECTED[name], name
            assert answer["matches"][0]["reasons"][0].startswith(f"answers alert {name}")


async def test_an_alert_summary_alone_ranks_the_right_runbook_first(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        for alert in firing_alerts():
            summary = alert["annotations"]["summary"]  # type: ignore[index]
            by_text = await call(client, "matching_runbook", symptom=summary)
            assert by_text["matches"][0]["id"] == EXPECTED[alert["labels"]["alertname"]], summary  # type: ignore[index]


async def test_a_symptom_alone_finds_the_runbook_and_says_which_section_matched(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "matching_runbook", symptom="stripe charges timing out, connection pool exhausted")
    best = answer["matches"][0]
    assert best["id"] == "acme-shop/payments/payment-latency-errors"
    assert any(r.startswith("failure mode") for r in best["reasons"])
    assert best["section"]["heading"]
    assert best["stale"] is False and best["days_since_exercised"] < 90


async def test_a_runbook_not_exercised_for_a_year_is_flagged_stale(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "matching_runbook", service="shipping")
    best = answer["matches"][0]
    assert best["stale"] is True and best["days_since_exercised"] > 365


async def test_matching_runbook_needs_something_to_match(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        assert "give at least one of service, symptom or alert" in await call_error(client, "matching_runbook")
