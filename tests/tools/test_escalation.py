"""escalation_status through a real MCP client, on the demo's payments policy with a pinned clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from opscontext_mcp.clock import Clock
from opscontext_mcp.config import parse_config
from opscontext_mcp.server import build_runtime, build_server
from tests.conftest import EXAMPLES, call, call_error

pytestmark = pytest.mark.anyio

DECLARED = datetime(2026, 11, 27, 9, 45, tzinfo=UTC)


async def test_the_escalation_path_is_walked_by_elapsed_minutes_and_the_vendor_is_engaged_past_its_threshold(
    tmp_path: Path,
) -> None:
    raw = {
        "now": "2026-11-27T10:00:00Z",  # the data: the demo's snapshot of the incident
        "connectors": [{"name": "acme-shop", "type": "files", "path": str(EXAMPLES / "acme-shop")}],
        "writes": {"enabled": True},
        "store": {"url": "sqlite:///incidents.db"},
    }
    runtime = build_runtime(parse_config(raw, base_dir=tmp_path))
    answers = {}
    async with Client(build_server(runtime=runtime)) as client:
        runtime.clock = Clock(DECLARED)
        await call(client, "declare_incident", key="d", title="Checkout failing", severity="SEV1", services=["payment"])
        roles = {"incident_commander": "diego.alvarez", "technical_lead": "priya.raman"}
        roles |= {"comms_lead": "marta.lopez", "scribe": "sam.okafor"}
        await call(client, "update_incident", key="roles", incident="INC-1", **roles)
        await call(
            client, "log_event", key="e1", incident="INC-1", who="priya.raman", what="payment timing out on Stripe"
        )
        await call(
            client, "post_status_update", key="u1", incident="INC-1", text="Card payments failing; investigating."
        )
        for minutes in (14, 16, 31, 46):
            runtime.clock = Clock(DECLARED + timedelta(minutes=minutes))
            if minutes == 31:
                await call(client, "post_status_update", key="u2", incident="INC-1", text="Stripe calls time out.")
            answers[minutes] = await call(client, "escalation_status", incident="INC-1")

    overdue = {m: a.get("update_overdue_minutes") for m, a in answers.items()}
    assert overdue == {14: None, 16: 1, 31: None, 46: None}  # SEV1 updates every 15 min; one missed at 10:00
    assert answers[16]["recommendation"].endswith("; the status update due 10:00 is overdue")
    levels = {m: (a["current_level"], a.get("next_in_minutes")) for m, a in answers.items()}
    assert levels == {14: (1, 1), 16: (2, 14), 31: (3, 14), 46: (4, None)}
    assert answers[14]["engaged"][0]["targets"][0]["display"] == "on call for payments-primary: Priya Raman"
    assert answers[16]["recommendation"].startswith(
        "level 2 applies since +15 min: Marta López should be engaged; next at +30 min: Sam Okafor"
    )
    assert answers[31]["next_at"] == "2026-11-27T10:30:00Z"
    stripe = {m: a["vendors"][0] for m, a in answers.items()}
    assert [stripe[m]["engage"] for m in (14, 16, 31, 46)] == [False, False, False, True]
    assert stripe[46]["reasons"] == [
        "unresolved 46 min, past the 45 min threshold",
        "the culprit payment fails on its calls into payment-gateway, which stripe runs",
    ]
    assert stripe[46]["bridge"] == "https://status.stripe.example/bridge" and stripe[46]["phone"] == "+1-555-0190"
    culprit = answers[46]["culprit"]
    assert culprit["service"] == "payment" and culprit["failing_vendor_dependencies"] == ["payment-gateway"]
    assert culprit["evidence"][0] == "calls from payment into payment-gateway fail 7%"
    assert answers[46]["recommendation"].endswith("engage stripe now (https://status.stripe.example/bridge)")


async def test_for_a_service_the_clock_starts_with_its_alert_group_or_when_told(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        alerting = await call(client, "escalation_status", service="checkout")
        told = await call(client, "escalation_status", service="checkout", started_at="2026-11-27T09:20:00Z")
    assert alerting["started_at"] == "2026-11-27T09:41:30.112000Z" and alerting["elapsed_minutes"] == 18
    assert alerting["policy"] == "checkout" and alerting["current_level"] == 2
    assert told["elapsed_minutes"] == 40 and told["current_level"] == 3


async def test_asking_about_nothing_or_both_is_a_readable_error(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        neither = await call_error(client, "escalation_status")
        both = await call_error(client, "escalation_status", incident="INC-1", service="checkout")
    assert neither.endswith("give exactly one of incident (e.g. INC-7) or service")
    assert both.endswith("give exactly one of incident (e.g. INC-7) or service")


async def test_with_writes_disabled_reading_an_incident_creates_no_store_and_says_there_is_none(tmp_path: Path) -> None:
    raw = {
        "now": "2026-11-27T10:00:00Z",
        "connectors": [{"name": "acme-shop", "type": "files", "path": str(EXAMPLES / "acme-shop")}],
        "store": {"url": "sqlite:///incidents.db"},
    }
    async with Client(build_server(parse_config(raw, base_dir=tmp_path))) as client:
        message = await call_error(client, "escalation_status", incident="INC-1")
        with pytest.raises(MCPError, match="no incident store: writes are disabled here and no store exists yet"):
            await client.read_resource("incident://INC-1")
    assert message.endswith("no incident store: writes are disabled here and no store exists yet")
    assert not (tmp_path / "incidents.db").exists()


async def test_an_unknown_incident_is_named_in_the_error(tmp_path: Path) -> None:
    raw = {
        "now": "2026-11-27T10:00:00Z",
        "connectors": [{"name": "acme-shop", "type": "files", "path": str(EXAMPLES / "acme-shop")}],
        "writes": {"enabled": True},
        "store": {"url": "sqlite:///incidents.db"},
    }
    async with Client(build_server(parse_config(raw, base_dir=tmp_path))) as client:
        message = await call_error(client, "escalation_status", incident="INC-404")
    assert message.endswith("no incident 'INC-404' in the store")
