"""The triage, status_update, handover and postmortem prompts through a real MCP client."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from opscontext_mcp.clock import Clock
from opscontext_mcp.config import parse_config
from opscontext_mcp.server import build_runtime, build_server
from tests.conftest import EXAMPLES, call

pytestmark = pytest.mark.anyio


async def test_prompts_draft_from_the_record_and_refuse_an_unknown_incident_plainly(tmp_path: Path) -> None:
    raw = {
        "now": "2026-11-27T10:00:00Z",
        "connectors": [{"name": "acme-shop", "type": "files", "path": str(EXAMPLES / "acme-shop")}],
        "writes": {"enabled": True},
        "store": {"url": "sqlite:///incidents.db"},
    }
    runtime = build_runtime(parse_config(raw, base_dir=tmp_path))
    async with Client(build_server(runtime=runtime)) as client:
        listed = [prompt.name for prompt in (await client.list_prompts()).prompts]
        runtime.clock = Clock(datetime(2026, 11, 27, 9, 45, tzinfo=UTC))
        await call(client, "declare_incident", key="d", title="Checkout failing", severity="SEV1", services=["payment"])
        await call(
            client, "log_event", key="e", incident="INC-1", who="priya.raman", kind="action", what="roll back payment"
        )
        await call(client, "post_status_update", key="u", incident="INC-1", text="Card payments failing; rolling back.")
        runtime.clock = Clock(datetime(2026, 11, 27, 10, 15, tzinfo=UTC))
        triage = (await client.get_prompt("triage", {"service": "checkoutservice"})).messages[0].content.text
        update = (await client.get_prompt("status_update", {"incident": "INC-1"})).messages[0].content.text
        handover = (await client.get_prompt("handover", {"incident": "INC-1"})).messages[0].content.text
        postmortem = (await client.get_prompt("postmortem", {"incident": "INC-1"})).messages[0].content.text
        with pytest.raises(MCPError, match="no incident 'INC-9' in the store"):
            await client.get_prompt("handover", {"incident": "INC-9"})

    assert listed == ["triage", "status_update", "handover", "postmortem"]
    assert "Triage checkout" in triage and "primary contributor payment" in triage
    assert "**OVERDUE** by 15 min" in update and "[investigating] Card payments failing; rolling back." in update
    assert "- 09:45 priya.raman: roll back payment" in handover
    assert "Draft a blameless postmortem of INC-1: Checkout failing (SEV1, 30 min, services payment)" in postmortem
    lines = postmortem.splitlines()
    deploy = lines.index(next(line for line in lines if "chg-payment-2140" in line))
    scale = lines.index(next(line for line in lines if "infra-paymentservice-0090" in line))
    assert deploy < scale  # changes in time order: the 09:38 deploy before the 09:58 scale-out
