"""Opsgenie beside the Acme Shop catalog: who_owns answers with Opsgenie's schedule and escalation."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
import yaml
from mcp import Client
from opscontext_connectors.files import FilesConnector
from opscontext_connectors.opsgenie import OpsgenieConnector

from opscontext_mcp.config import parse_config
from opscontext_mcp.registry import build_connectors
from opscontext_mcp.server import build_server
from tests.conftest import EXAMPLES, call
from tests.connectors.opsgenie.routes import BASE, NOW, route_fixtures
from tests.connectors.support import Waits

pytestmark = pytest.mark.anyio


async def test_who_owns_payment_gives_opsgenies_on_call_and_absolute_escalation_delays() -> None:
    config = parse_config(
        yaml.safe_load((EXAMPLES / "config" / "opsgenie.yaml").read_text(encoding="utf-8")),
        base_dir=EXAMPLES / "config",
        environ={"OPSGENIE_API_KEY": "demo-key"},
    )
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_fixtures(router)
    connectors = build_connectors(
        config,
        types={"files": FilesConnector, "opsgenie": OpsgenieConnector},
        transport=httpx.MockTransport(router.async_handler),
        sleep=Waits(),
    )

    async with Client(build_server(config, connectors=connectors, now=NOW)) as client:
        answer = await call(client, "who_owns", service="payment")
        sources = json.loads((await client.read_resource("opscontext://sources")).contents[0].text)

    assert routes["schedules"].calls.last.request.headers["authorization"] == "GenieKey demo-key"
    now = [(e["schedule"], e["person"]["name"], e["end"]) for e in answer["on_call_now"]]
    assert now == [("payments_schedule", "priya.raman", "2026-11-27T17:00:00Z")]
    assert [e["person"]["display_name"] for e in answer["on_call_next"]] == ["Lucas Martin"]
    levels = answer["escalation"]["levels"]
    assert answer["escalation"]["policy"] == "payments_escalation"
    assert [level["after_minutes"] for level in levels] == [0, 15, 30, 60]
    assert [t["display"] for t in levels[2]["targets"]] == ["Sam Okafor", "Payments"]
    assert levels[3]["targets"][0]["contact"] == "#team-platform"
    # Opsgenie's owner teams and usernames join the catalog's groups and people.
    assert [u for u in sources["unresolved"] if u["source"] == "opsgenie"] == []
