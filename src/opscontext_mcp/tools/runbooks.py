"""matching_runbook."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult

from opscontext_mcp.analysis.alerts import is_active
from opscontext_mcp.analysis.common import freshness
from opscontext_mcp.analysis.runbooks import match_runbooks, services_mentioned
from opscontext_mcp.protocols import Capability
from opscontext_mcp.replies import RunbookReply
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.schemas import published
from opscontext_mcp.tools import READ_ONLY, reply
from opscontext_mcp.tools.arguments import arg, current_snapshot, service_argument


def register(server: MCPServer, runtime: Runtime) -> None:
    @server.tool(annotations=READ_ONLY)
    async def matching_runbook(
        service: Annotated[str | None, arg(max_length=300)] = None,
        symptom: Annotated[
            str | None, arg(description="Free text, e.g. 'payments timing out'", max_length=2000)
        ] = None,
        alert: Annotated[str | None, arg(description="Alert name, e.g. PaymentLatencyHigh", max_length=300)] = None,
        limit: Annotated[int, arg(ge=1, le=20)] = 3,
    ) -> Annotated[CallToolResult, published(RunbookReply)]:
        """Runbooks ranked for a service, symptom and/or alert, each with the reasons it matched and its best section."""
        if not (service or symptom or alert):
            raise ToolError("give at least one of service, symptom or alert")
        snapshot = await current_snapshot(runtime)
        now = runtime.clock.now()
        service_ids: list[str] = []
        if service:
            service_ids.append(service_argument(snapshot, service).id)
        text = [symptom or ""]
        if symptom:
            service_ids.extend(sid for sid in services_mentioned(snapshot, symptom) if sid not in service_ids)
        if alert:
            text.append(alert)
            for item in snapshot.alerts:
                if item.alert.name.lower() == alert.lower() and is_active(item, now):
                    text.append(item.alert.summary or "")
                    if item.service_id and item.service_id not in service_ids:
                        service_ids.append(item.service_id)
        matches, total = match_runbooks(
            snapshot,
            now,
            service_ids=tuple(service_ids),
            alert_names=(alert,) if alert else (),
            query_text=" ".join(text),
            limit=limit,
        )
        return reply(
            RunbookReply(
                service=service_ids[0] if service else None,
                symptom=symptom,
                alert=alert,
                matches=matches,
                total=total,
                truncated=total > len(matches),
                freshness=freshness(snapshot, now, Capability.RUNBOOKS, Capability.CATALOG),
            )
        )
