"""The MCP tools: thin wrappers that validate arguments, take the snapshot and call analysis."""

from __future__ import annotations

import json

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations

from opscontext_mcp.replies import Reply
from opscontext_mcp.runtime import Runtime

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


def reply(model: Reply) -> CallToolResult:
    """The same compact JSON, nulls left out, as text for models and as structured content for applications."""
    text = model.model_dump_json(exclude_none=True)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=json.loads(text))


def register_tools(server: MCPServer, runtime: Runtime) -> None:
    from opscontext_mcp.tools import alerts, changes, docs, escalation, runbooks, services, slo, topology

    services.register(server, runtime)
    changes.register(server, runtime)
    alerts.register(server, runtime)
    topology.register(server, runtime)
    runbooks.register(server, runtime)
    slo.register(server, runtime)
    escalation.register(server, runtime)
    docs.register(server, runtime)
    if runtime.config.writes.enabled:
        from opscontext_mcp.tools import incidents

        incidents.register(server, runtime)
