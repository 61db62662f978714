"""what_changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult

from opscontext_mcp.analysis.changes import changes_near
from opscontext_mcp.analysis.common import freshness
from opscontext_mcp.protocols import Capability
from opscontext_mcp.replies import ChangesReply
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.schemas import published
from opscontext_mcp.tools import READ_ONLY, reply
from opscontext_mcp.tools.arguments import arg, current_snapshot, service_argument, time_argument

ChangeKindName = Literal["deploy", "config", "feature_flag", "change_request", "infra"]


def register(server: MCPServer, runtime: Runtime) -> None:
    @server.tool(annotations=READ_ONLY)
    async def what_changed(
        service: Annotated[str | None, arg(description="Omit for every service", max_length=300)] = None,
        since: Annotated[str, arg(description="RFC 3339 time or duration back from now: 90m, 6h, 2d")] = "24h",
        until: Annotated[str | None, arg(description="RFC 3339 time; default now")] = None,
        include_dependencies: Annotated[bool, arg()] = True,
        depth: Annotated[int, arg(ge=1, le=6, description="Dependency hops to include")] = 2,
        kinds: Annotated[list[ChangeKindName] | None, arg()] = None,
        limit: Annotated[int, arg(ge=1, le=200)] = 20,
    ) -> Annotated[CallToolResult, published(ChangesReply)]:
        """Changes (deploys, config, flags, change requests, infra) in a window, newest first; for a service also those of its dependencies, with hop distance and path."""
        snapshot = await current_snapshot(runtime)
        now = runtime.clock.now()
        start = time_argument(since, now, "since")
        end = time_argument(until, now, "until") if until else now
        if start >= end:
            raise ToolError(f"since ({start:%Y-%m-%dT%H:%M:%SZ}) must be before until ({end:%Y-%m-%dT%H:%M:%SZ})")
        entry = service_argument(snapshot, service) if service else None
        hops = depth if include_dependencies and entry is not None else 0
        items, total, by_kind = changes_near(
            snapshot, entry, start, end, hops, frozenset(kinds) if kinds else None, now, limit
        )
        status = freshness(snapshot, now, Capability.CHANGES, Capability.CATALOG, Capability.TOPOLOGY)
        lookback = runtime.config.cache.change_lookback_hours
        kept_since = now - timedelta(hours=lookback)
        if start < kept_since:
            status.warnings.append(
                f"changes are fetched for the last {lookback:g} h (cache.change_lookback_hours): "
                f"nothing before {kept_since:%Y-%m-%dT%H:%M:%SZ} is known"
            )
        return reply(
            ChangesReply(
                service=entry.id if entry else None,
                since=start,
                until=end,
                depth=hops,
                changes=items,
                total=total,
                truncated=total > len(items),
                by_kind=by_kind,
                freshness=status,
            )
        )
