"""escalation_status: read-only, always listed. It recommends; it never pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult

from opscontext_mcp.analysis.alerts import alert_groups
from opscontext_mcp.analysis.common import freshness
from opscontext_mcp.analysis.escalation import EscalationState, escalation_state
from opscontext_mcp.analysis.incident import cadence
from opscontext_mcp.protocols import Capability
from opscontext_mcp.replies.incident import EscalationStatusReply
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.schemas import published
from opscontext_mcp.snapshot import Snapshot
from opscontext_mcp.store import UnknownIncident
from opscontext_mcp.tools import READ_ONLY, reply
from opscontext_mcp.tools.arguments import arg, current_snapshot, service_argument, time_argument


def register(server: MCPServer, runtime: Runtime) -> None:
    @server.tool(annotations=READ_ONLY)
    async def escalation_status(
        incident: Annotated[str | None, arg(description="e.g. INC-7; or give service", max_length=32)] = None,
        service: Annotated[str | None, arg(max_length=300)] = None,
        started_at: Annotated[
            str | None, arg(description="RFC 3339 or e.g. 30m; default: incident or alert start", max_length=40)
        ] = None,
    ) -> Annotated[CallToolResult, published(EscalationStatusReply)]:
        """Minutes unresolved, the escalation level that applies, who should be engaged by now, who is next and when, and whether vendor engagement criteria hold. Recommends; never pages."""
        if (incident is None) == (service is None):
            raise ToolError("give exactly one of incident (e.g. INC-7) or service")
        snapshot = await current_snapshot(runtime)
        now = runtime.clock.now()
        resolved = False
        due = None
        if incident is not None:
            try:
                store = runtime.store
                record = await store.run(store.record, incident)
            except UnknownIncident as exc:
                raise ToolError(str(exc)) from None
            resolved_ids = [snapshot.resolve(name).id for name in record.incident.services]
            entries = [snapshot.services[i] for i in resolved_ids if i is not None]
            lost = [n for n, i in zip(record.incident.services, resolved_ids, strict=True) if i is None]
            start = record.incident.declared_at
            resolved = record.incident.resolved_at is not None
            due = cadence(record, runtime.config.incidents.update_cadence_minutes, now)
            now = record.incident.resolved_at or now
        else:
            lost = []
            entries = [service_argument(snapshot, service or "")]
            start = _alerting_since(snapshot, entries[0].id, min(now, runtime.cache.clock.now())) or now
        if started_at:
            start = time_argument(started_at, now, "started_at")
        status = freshness(snapshot, now, Capability.ONCALL, Capability.ALERTS, Capability.CATALOG)
        if lost:  # the catalog no longer knows a service the incident was declared on: answer for the rest
            status.warnings.append(f"services no source knows now, left out: {', '.join(lost)}")
        state = escalation_state(snapshot, entries, start, now, resolved, alerts_as_of=runtime.cache.clock.now())
        minutes = int(state.elapsed.total_seconds() // 60)
        return reply(
            EscalationStatusReply(
                incident=incident,
                services=[entry.id for entry in entries],
                started_at=start,
                elapsed_minutes=minutes,
                resolved=resolved,
                policy=state.policy.policy if state.policy else None,
                current_level=state.engaged[-1].level if state.engaged else None,
                engaged=state.engaged,
                next_level=state.next,
                next_at=state.next_at,
                next_in_minutes=int((state.next_at - now).total_seconds() // 60) if state.next_at else None,
                culprit=state.culprit,
                vendors=state.vendors,
                next_update_due=due.due if due else None,
                update_overdue_minutes=int(due.overdue_by.total_seconds() // 60) if due and due.overdue_by else None,
                recommendation=recommendation(state, minutes, resolved)
                + (f"; the status update due {due.due:%H:%M} is overdue" if due and due.overdue_by and due.due else ""),
                freshness=status,
            )
        )


def _alerting_since(snapshot: Snapshot, service_id: str, now: datetime) -> datetime | None:
    """When the alert group on the service began: the incident's start as the alerts saw it."""
    for group in alert_groups(snapshot, now).groups:
        if service_id in group.services or (group.primary and group.primary.service == service_id):
            return group.started
    return None


def recommendation(state: EscalationState, minutes: int, resolved: bool) -> str:
    if resolved:
        return f"resolved after {minutes} min: nothing to escalate"
    if state.policy is None:
        return "no escalation policy covers these services: engage their owners directly"
    said = []
    if state.engaged:
        latest = state.engaged[-1]
        who = ", ".join(t.display for t in latest.targets)
        said.append(f"level {latest.level} applies since +{latest.after_minutes} min: {who} should be engaged")
    if state.next is not None and state.next_at is not None:
        who = ", ".join(t.display for t in state.next.targets)
        said.append(f"next at +{state.next.after_minutes} min: {who}")
    engage = [v for v in state.vendors if v.engage]
    if engage:
        said.append(
            "engage " + ", ".join(f"{v.vendor} now ({v.bridge or v.phone or 'no bridge listed'})" for v in engage)
        )
    return "; ".join(said) or "nothing applies yet"
