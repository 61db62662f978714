"""The MCP tools: thin wrappers that validate arguments, take the snapshot and call analysis."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations

from opscontext_mcp.replies import Reply
from opscontext_mcp.runtime import Runtime

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


def reply(model: Reply) -> CallToolResult:
    """Structured content for applications; compact JSON without nulls as the text models read."""
    return CallToolResult(
        content=[TextContent(type="text", text=model.model_dump_json(exclude_none=True))],
        structured_content=model.model_dump(mode="json"),
    )


def register_tools(server: MCPServer, runtime: Runtime) -> None:
    from opscontext_mcp.tools import changes, runbooks, services, topology

    services.register(server, runtime)
    changes.register(server, runtime)
    topology.register(server, runtime)
    runbooks.register(server, runtime)
