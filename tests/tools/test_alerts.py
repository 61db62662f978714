from __future__ import annotations

import pytest
from mcp import Client

from tests.conftest import call, call_error

pytestmark = pytest.mark.anyio


async def test_every_active_alert_is_listed_firing_first_with_the_silenced_one_marked(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "active_alerts")
    assert (answer["total"], answer["firing"], answer["suppressed"], answer["unresolved"]) == (7, 6, 1, 0)
    states = [a["state"] for a in answer["alerts"]]
    assert states == ["active"] * 6 + ["suppressed"]
    onsets = [a["starts_at"] for a in answer["alerts"][:6]]
    assert onsets == sorted(onsets)
    muted = answer["alerts"][-1]
    assert (muted["name"], muted["service"]) == ("ShippingQuoteLatencyHigh", "shipping")
    assert muted["silenced_by"] == ["5f1c2a9e-8b3d-4e7a-9c61-2d4f8a0b7e13"] and "inhibited_by" not in muted
    assert answer["by_service"] == {"payment": 2, "checkout": 2, "redis-cart": 1, "frontend": 1}
    assert all(a["provenance"]["source"] == "acme-shop" for a in answer["alerts"])


async def test_a_services_alerts_come_with_its_dependencies_nearest_first(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        here_and_below = await call(client, "active_alerts", service="CheckoutService")
        only_here = await call(client, "active_alerts", service="checkout", depth=0)
    assert here_and_below["service"] == "checkout" and here_and_below["depth"] == 1
    assert [(a["service"], a["hop"]) for a in here_and_below["alerts"]] == [
        ("checkout", 0),
        ("checkout", 0),
        ("payment", 1),
        ("payment", 1),
        ("shipping", 1),
    ]
    assert {a["service"] for a in only_here["alerts"]} == {"checkout"} and only_here["total"] == 2


async def test_the_limit_caps_the_list_and_says_how_many_there_are(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "active_alerts", limit=2)
    assert len(answer["alerts"]) == 2 and answer["total"] == 7 and answer["truncated"] is True


async def test_an_unknown_service_is_a_readable_error_with_suggestions(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        message = await call_error(client, "active_alerts", service="chekout")
    assert "checkout" in message


async def test_the_demo_incident_is_one_group_whose_primary_contributor_is_payment_with_evidence(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "active_alerts")
    incident, memory = answer["groups"]
    assert answer["groups_total"] == 2
    assert incident["services"] == ["payment", "checkout", "frontend"] and incident["alerts"] == 5
    assert (incident["group"], incident["severity"], incident["minutes_active"]) == (1, "critical", 18)
    primary = incident["primary_contributor"]
    assert primary["service"] == "payment" and primary["change"] == "chg-payment-2140"
    assert "first to alert" in primary["evidence"]
    assert "change chg-payment-2140 3 min before its first alert" in primary["evidence"]
    assert "3 of 3 alerting services depend on it (itself included)" in primary["evidence"]
    runner_up = incident["other_candidates"][0]
    assert runner_up["service"] == "payment-gateway" and runner_up["alerting"] is False
    assert any(reason.startswith("calls into it fail") for reason in runner_up["evidence"])
    assert memory["services"] == ["redis-cart"] and memory["primary_contributor"]["service"] == "redis-cart"
    groups = {a["name"]: a.get("group") for a in answer["alerts"]}
    assert groups["PaymentLatencyHigh"] == groups["CheckoutSLOBurnRateHigh"] == 1
    assert groups["RedisCartMemoryHigh"] == 2 and groups["ShippingQuoteLatencyHigh"] is None


async def test_a_service_answer_shows_the_groups_of_its_alerts_numbered_as_estate_wide(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "active_alerts", service="frontend", depth=0)
    assert [(g["group"], g["primary_contributor"]["service"]) for g in answer["groups"]] == [(1, "payment")]
