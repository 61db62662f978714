from __future__ import annotations

import json

import pytest
from mcp import Client

from tests.conftest import EXAMPLES, call, call_error

pytestmark = pytest.mark.anyio


def firing_alerts() -> list[str]:
    alerts = json.loads((EXAMPLES / "acme-shop" / "alerts" / "alertmanager.json").read_text(encoding="utf-8"))
    return [a["labels"]["alertname"] for a in alerts]


async def test_the_right_runbook_ranks_first_for_every_firing_alert(demo_server) -> None:  # type: ignore[no-untyped-def]
    names = firing_alerts()
    assert len(names) >= 6
    async with Client(demo_server) as client:
        for name in names:
            answer = await call(client, "matching_runbook", alert=name)
            best = answer["matches"][0]
            uri = best["uri"]
            body = (await client.read_resource(uri)).contents[0].text
            assert name in body.split("\n- alerts: ")[1].split("\n")[0], (name, uri)
            assert best["reasons"][0].startswith(f"answers alert {name}")


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


async def test_an_alert_summary_alone_ranks_the_runbook_that_answers_it_first(demo_server) -> None:  # type: ignore[no-untyped-def]
    alerts = json.loads((EXAMPLES / "acme-shop" / "alerts" / "alertmanager.json").read_text(encoding="utf-8"))
    async with Client(demo_server) as client:
        for alert in alerts:
            expected = await call(client, "matching_runbook", alert=alert["labels"]["alertname"])
            by_text = await call(client, "matching_runbook", symptom=alert["annotations"]["summary"])
            assert by_text["matches"][0]["id"] == expected["matches"][0]["id"], alert["annotations"]["summary"]
