"""build_server(): config → connectors → runtime → MCP tools and resources."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_REQUEST

from opscontext_mcp import __version__
from opscontext_mcp.clock import Clock
from opscontext_mcp.config import AppConfig, load_config
from opscontext_mcp.prompts import register_prompts
from opscontext_mcp.protocols import Connector
from opscontext_mcp.registry import build_connectors
from opscontext_mcp.resources import register_resources
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.tools import register_tools
from opscontext_mcp.tools.incidents import WRITE_TOOLS

INSTRUCTIONS = """\
Operational context for incident response, joined from the catalog, on-call, runbooks, changes,
alerts and telemetry. Start with service_context(service) for one service; find_service resolves
names. Every answer carries provenance and a freshness block: check its warnings before relying
on a section. Lists are capped; `total` and `truncated` say what was left out."""


class OpsContextServer(MCPServer[Runtime]):
    """The MCP server, refusing write tools plainly when writes are disabled (they are not listed then)."""

    def __init__(self, runtime: Runtime, **settings: Any) -> None:
        super().__init__(**settings)
        self.runtime = runtime

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        if name in WRITE_TOOLS and not self.runtime.config.writes.enabled:
            raise MCPError(
                INVALID_REQUEST,
                f"{name} is a write tool and writes are disabled on this server; "
                "an operator enables them with `writes: {enabled: true}` in the config",
            )
        return await super().call_tool(name, arguments, context)


def build_runtime(
    config: AppConfig | None = None,
    *,
    connectors: Sequence[Connector] | None = None,
    now: datetime | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> Runtime:
    """Connectors, clock and cache for `config` (default: the bundled demo)."""
    config = config if config is not None else load_config()
    return Runtime(
        config=config,
        connectors=list(connectors)
        if connectors is not None
        else build_connectors(config, transport=transport, sleep=sleep, now=now),
        clock=Clock(now or config.now),
    )


def build_server(
    config: AppConfig | None = None,
    *,
    runtime: Runtime | None = None,
    connectors: Sequence[Connector] | None = None,
    now: datetime | None = None,
) -> MCPServer[Runtime]:
    """A ready server. Without a config it serves the bundled demo environment.

    Each MCP session keeps the runtime open through the server's lifespan; whoever runs the server
    for a whole process should also hold `runtime.running()` around it (the CLI does).
    """
    runtime = runtime if runtime is not None else build_runtime(config, connectors=connectors, now=now)

    @asynccontextmanager
    async def lifespan(_: MCPServer[Runtime]) -> AsyncIterator[Runtime]:
        async with runtime.running():
            yield runtime

    server = OpsContextServer(
        runtime,
        name="opscontext-mcp",
        title="opscontext",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
    )
    register_tools(server, runtime)
    register_resources(server, runtime)
    register_prompts(server, runtime)
    return server
