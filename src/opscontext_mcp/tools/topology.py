"""dependency_neighbours, blast_radius."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult

from opscontext_mcp.analysis import topology
from opscontext_mcp.analysis.common import freshness
from opscontext_mcp.protocols import Capability
from opscontext_mcp.replies import BlastRadiusReply, NeighboursReply
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.schemas import published
from opscontext_mcp.tools import READ_ONLY, reply
from opscontext_mcp.tools.arguments import arg, current_snapshot, service_argument
from opscontext_mcp.tools.services import ServiceName


def register(server: MCPServer, runtime: Runtime) -> None:
    @server.tool(annotations=READ_ONLY)
    async def dependency_neighbours(
        service: ServiceName,
        direction: Annotated[Literal["both", "dependencies", "dependents"], arg()] = "both",
        depth: Annotated[int, arg(ge=1, le=6)] = 1,
        limit: Annotated[int, arg(ge=1, le=200)] = 25,
    ) -> Annotated[CallToolResult, published(NeighboursReply)]:
        """Dependencies (what it calls) and dependents (what calls it), with declared/observed provenance and traffic: rate, error ratio, latency."""
        snapshot = await current_snapshot(runtime)
        entry = service_argument(snapshot, service)
        found = {
            name: topology.neighbour_views(snapshot, entry, name, depth, limit)
            if direction in (name, "both")
            else ([], 0)
            for name in ("dependencies", "dependents")
        }
        deps, deps_total = found["dependencies"]
        dependents, dependents_total = found["dependents"]
        return reply(
            NeighboursReply(
                service=entry.id,
                depth=depth,
                dependencies=deps,
                dependencies_total=deps_total,
                dependents=dependents,
                dependents_total=dependents_total,
                truncated=deps_total > len(deps) or dependents_total > len(dependents),
                freshness=freshness(snapshot, runtime.clock.now(), Capability.CATALOG, Capability.TOPOLOGY),
            )
        )

    @server.tool(annotations=READ_ONLY)
    async def blast_radius(
        service: ServiceName,
        max_depth: Annotated[int | None, arg(ge=1, le=50, description="Default: unlimited")] = None,
        limit: Annotated[int, arg(ge=1, le=500)] = 50,
    ) -> Annotated[CallToolResult, published(BlastRadiusReply)]:
        """Everything that transitively depends on a service, most critical first, counted by hop, tier and team; the user journeys and SLOs it carries."""
        snapshot = await current_snapshot(runtime)
        entry = service_argument(snapshot, service)
        shown, total, by_hop, by_tier, by_team, systems = topology.blast_radius(snapshot, entry, max_depth, limit)
        return reply(
            BlastRadiusReply(
                service=entry.id,
                total=total,
                by_hop=by_hop,
                by_tier=by_tier,
                teams=by_team,
                systems=systems,
                dependents=shown,
                truncated=total > len(shown),
                journeys=topology.carried_journeys(snapshot, entry, max_depth),
                freshness=freshness(
                    snapshot, runtime.clock.now(), Capability.CATALOG, Capability.TOPOLOGY, Capability.SLO
                ),
            )
        )
