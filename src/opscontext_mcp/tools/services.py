"""find_service, who_owns, service_context."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult

from opscontext_mcp.analysis import context
from opscontext_mcp.analysis.common import freshness, service_ref
from opscontext_mcp.analysis.ownership import MEMBERS_SHOWN
from opscontext_mcp.protocols import Capability
from opscontext_mcp.replies import AliasView, FindServiceReply, OwnershipReply, ServiceMatch
from opscontext_mcp.replies.context import ServiceContextReply
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.schemas import published
from opscontext_mcp.tools import READ_ONLY, reply
from opscontext_mcp.tools.arguments import arg, current_snapshot, service_argument
from opscontext_mcp.tools.slo import slo_summary, slo_views, slos_of

ServiceName = Annotated[str, arg(description="Service name, alias or id in any source", min_length=1, max_length=300)]


def register(server: MCPServer, runtime: Runtime) -> None:
    @server.tool(annotations=READ_ONLY)
    async def find_service(
        query: Annotated[str, arg(min_length=1, max_length=300)],
        limit: Annotated[int, arg(ge=1, le=20)] = 5,
    ) -> Annotated[CallToolResult, published(FindServiceReply)]:
        """Which canonical service a name means, with its names in every source; fuzzy 'did you mean' otherwise."""
        snapshot = await current_snapshot(runtime)
        now = runtime.clock.now()
        resolved = snapshot.resolve(query)
        ranked: list[tuple[str, str, float, str]] = []
        if resolved.id is not None:
            ranked.append((resolved.id, query, 100.0, resolved.via or "name"))
        for service_id in resolved.ambiguous:
            ranked.append((service_id, query, 90.0, "normalised"))
        for service_id, name, score in snapshot.index.suggest(query, limit=limit):
            if all(service_id != r[0] for r in ranked):
                ranked.append((service_id, name, round(score, 1), "similar"))
        matches = []
        for service_id, matched, score, via in ranked[:limit]:
            ref = service_ref(snapshot.services[service_id])
            aliases = [
                AliasView(source=a.source, name=a.name, via=a.via) for a in snapshot.index.aliases.get(service_id, [])
            ]
            matches.append(
                ServiceMatch(**ref.model_dump(), score=score, matched=matched, via=via, aliases=aliases[:12])
            )
        return reply(
            FindServiceReply(
                query=query,
                resolved=resolved.id,
                matches=matches,
                freshness=freshness(snapshot, now, Capability.CATALOG, Capability.TOPOLOGY),
            )
        )

    @server.tool(annotations=READ_ONLY)
    async def who_owns(service: ServiceName) -> Annotated[CallToolResult, published(OwnershipReply)]:
        """Owning team and contacts, who is on call now and next, the escalation levels; ownership conflicts between sources."""
        snapshot = await current_snapshot(runtime)
        now = runtime.clock.now()
        entry = service_argument(snapshot, service)
        section, notes = context.ownership_section(snapshot, entry, now, members_shown=MEMBERS_SHOWN)
        return reply(
            OwnershipReply(
                service=service_ref(entry),
                owner=section.owner,
                conflicts=section.conflicts,
                on_call_now=section.on_call_now,
                on_call_next=section.on_call_next,
                escalation=section.escalation,
                notes=notes,
                freshness=freshness(snapshot, now, Capability.CATALOG, Capability.ONCALL),
            )
        )

    @server.tool(annotations=READ_ONLY)
    async def service_context(service: ServiceName) -> Annotated[CallToolResult, published(ServiceContextReply)]:
        """Everything about one service in one call: owner, on-call, escalation, tier, dependencies and dependents, recent changes here and nearby, alert groups, SLO burn, best runbook — each with provenance."""
        snapshot = await current_snapshot(runtime)
        entry, now = service_argument(snapshot, service), runtime.clock.now()
        answer = context.service_context(snapshot, entry, now)
        views = await slo_views(runtime, snapshot, slos_of(snapshot, entry, None), now, answer.freshness)
        answer.slo = context.slo_section(snapshot, [slo_summary(view) for view in views])
        return reply(answer)
