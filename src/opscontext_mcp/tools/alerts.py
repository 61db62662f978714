"""active_alerts."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult

from opscontext_mcp.analysis.alerts import active_alerts as find_active
from opscontext_mcp.analysis.common import freshness
from opscontext_mcp.protocols import Capability
from opscontext_mcp.replies import AlertsReply
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.schemas import published
from opscontext_mcp.tools import READ_ONLY, reply
from opscontext_mcp.tools.arguments import arg, current_snapshot, service_argument


def register(server: MCPServer, runtime: Runtime) -> None:
    @server.tool(annotations=READ_ONLY)
    async def active_alerts(
        service: Annotated[str | None, arg(description="Omit for every service", max_length=300)] = None,
        depth: Annotated[int, arg(ge=0, le=6, description="Dependency hops to include with a service")] = 1,
        limit: Annotated[int, arg(ge=1, le=200)] = 20,
        groups: Annotated[int, arg(ge=1, le=50, description="Most groups listed")] = 5,
    ) -> Annotated[CallToolResult, published(AlertsReply)]:
        """Firing alerts grouped by shared root cause, each group's primary contributor and runners-up with evidence; then the alerts, muted last. For a service: also its dependencies', with hops."""
        snapshot = await current_snapshot(runtime)
        now = runtime.clock.now()
        entry = service_argument(snapshot, service) if service else None
        hops = depth if entry is not None else 0
        found = find_active(snapshot, entry, hops, now, limit, groups)
        status = freshness(snapshot, now, Capability.ALERTS, Capability.CATALOG, Capability.TOPOLOGY)
        if found.unresolved:
            status.warnings.append(
                f"{found.unresolved} active alerts name a service no source knows (see opscontext://sources)"
            )
        return reply(
            AlertsReply(
                service=entry.id if entry else None,
                depth=hops,
                groups=found.groups,
                groups_total=found.groups_total,
                alerts=found.shown,
                total=found.total,
                truncated=found.total > len(found.shown),
                firing=found.firing,
                suppressed=found.suppressed,
                by_service=found.by_service,
                unresolved=found.unresolved,
                freshness=status,
            )
        )
