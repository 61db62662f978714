from __future__ import annotations

import json

import pytest
from mcp import Client

pytestmark = pytest.mark.anyio

FOUNDATION_TOOLS = {
    "find_service",
    "who_owns",
    "service_context",
    "what_changed",
    "dependency_neighbours",
    "blast_radius",
    "matching_runbook",
}
READ_TOOLS = FOUNDATION_TOOLS | {
    "active_alerts",
    "slo_status",
    "impact_summary",
    "escalation_status",
    "documentation_gaps",
}


async def test_tools_list_is_small_read_only_and_typed(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        listed = await client.list_tools()
    assert {tool.name for tool in listed.tools} == READ_TOOLS
    wire = {
        t.name: json.dumps(t.model_dump(by_alias=True, mode="json", exclude_none=True), separators=(",", ":")).encode()
        for t in listed.tools
    }
    assert sum(len(wire[name]) for name in FOUNDATION_TOOLS) < 12 * 1024  # the foundation's budget
    assert all(len(definition) < 3 * 1024 for definition in wire.values())
    for tool in listed.tools:
        assert tool.annotations.read_only_hint and not tool.annotations.destructive_hint
        assert tool.output_schema and tool.output_schema["type"] == "object"
        assert "freshness" in tool.output_schema["properties"]
        assert len(tool.description) < 220


async def test_the_server_says_how_to_start(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server, mode="legacy") as client:
        assert "service_context" in (client.instructions or "")
        assert (await client.call_tool("find_service", {"query": "frontend"})).structured_content[
            "resolved"
        ] == "frontend"
