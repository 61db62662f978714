"""documentation_gaps."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult

from opscontext_mcp.analysis.common import freshness
from opscontext_mcp.analysis.gaps import SEVERITIES, documentation_gaps
from opscontext_mcp.protocols import Capability
from opscontext_mcp.replies.docs import GapsReply, GapView
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.schemas import published
from opscontext_mcp.snapshot import Snapshot
from opscontext_mcp.tools import READ_ONLY, reply
from opscontext_mcp.tools.arguments import arg, current_snapshot, service_argument

CONSULTED = (Capability.CATALOG, Capability.TOPOLOGY, Capability.RUNBOOKS, Capability.ALERTS)


def register(server: MCPServer, runtime: Runtime) -> None:
    @server.tool(annotations=READ_ONLY)
    async def documentation_gaps(
        service: Annotated[str | None, arg(max_length=300)] = None,
        min_severity: Annotated[Literal["info", "low", "medium", "high", "critical"], arg()] = "info",
        limit: Annotated[int, arg(ge=1, le=500)] = 50,
    ) -> Annotated[CallToolResult, published(GapsReply)]:
        """Where docs lie: missing or conflicting owners, missing or stale runbooks, alerts no runbook answers, declared vs observed dependency drift, uncatalogued services."""
        snapshot = await current_snapshot(runtime)
        entry = service_argument(snapshot, service) if service else None
        return reply(
            gaps_reply(runtime, snapshot, runtime.clock.now(), entry.id if entry else None, min_severity, limit)
        )


def gaps_reply(
    runtime: Runtime, snapshot: Snapshot, now: datetime, service: str | None, min_severity: str, limit: int
) -> GapsReply:
    floor = SEVERITIES.index(min_severity)
    every = documentation_gaps(snapshot, now, timedelta(days=runtime.config.docs.max_age_days), service)
    found = [g for g in every if SEVERITIES.index(g.severity) >= floor]
    views = [
        GapView(
            kind=g.kind,
            service=g.service,
            services=list(g.services) if len(g.services) > 1 else [],
            severity=g.severity,  # type: ignore[arg-type]
            summary=g.summary,
            evidence=list(g.evidence),
            sources=list(g.sources),
        )
        for g in found
    ]
    return GapsReply(
        gaps=views[:limit],
        total=len(views),
        truncated=len(views) > limit,
        by_kind=dict(Counter(g.kind for g in found).most_common()),
        by_severity={s: n for s in reversed(SEVERITIES) if (n := sum(g.severity == s for g in found))},
        freshness=freshness(snapshot, now, *CONSULTED),
    )
