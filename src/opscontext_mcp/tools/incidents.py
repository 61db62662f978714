"""declare_incident, update_incident, log_event, post_status_update: registered only when writes are enabled.

Every one takes an idempotency `key`: the same key again (a retry after a timeout) stores nothing
new and answers what the first call stored, so a model that is unsure whether a write went
through can simply ask again.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ToolAnnotations

from opscontext_mcp.analysis.incident import cadence
from opscontext_mcp.cache import redact
from opscontext_mcp.model import StatusMessage
from opscontext_mcp.protocols import Capability
from opscontext_mcp.replies.incident import IncidentView, WriteReply
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.schemas import published
from opscontext_mcp.store import ROLES, STATUSES, UnknownIncident
from opscontext_mcp.store.records import IncidentRecord
from opscontext_mcp.tools import reply
from opscontext_mcp.tools.arguments import arg, current_snapshot, service_argument, time_argument

WRITE_TOOLS = ("declare_incident", "update_incident", "log_event", "post_status_update")
CREATES = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
"""Writes add or change records, never delete; a retried key changes nothing; they may post to a channel."""
RECORDS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

Key = Annotated[str, arg(min_length=1, max_length=150, description="Unique per write; reuse it to retry safely")]
Incident = Annotated[str, arg(min_length=1, max_length=32, description="e.g. INC-7")]
EventKind = Literal["note", "action", "decision", "finding", "communication"]


def register(server: MCPServer, runtime: Runtime) -> None:
    severities = tuple(runtime.config.incidents.update_cadence_minutes)

    @server.tool(annotations=CREATES)
    async def declare_incident(
        key: Key,
        title: Annotated[str, arg(min_length=3, max_length=200)],
        severity: Annotated[str, arg(description="A key of incidents.update_cadence_minutes, e.g. SEV1")],
        services: Annotated[list[str], arg(min_length=1, max_length=20)],
        summary: Annotated[str | None, arg(max_length=2000)] = None,
        incident_commander: Annotated[str | None, arg(max_length=200)] = None,
        itsm_incident: Annotated[
            str | None, arg(description="Its ServiceNow or PagerDuty incident", max_length=64)
        ] = None,
    ) -> Annotated[CallToolResult, published(WriteReply)]:
        """Open an incident: its status doc (incident://{id}), the channel post, the incident commander if given."""
        if severity not in severities:
            raise ToolError(f"severity must be one of {', '.join(severities)} (incidents.update_cadence_minutes)")
        snapshot = await current_snapshot(runtime)
        ids = list(dict.fromkeys(service_argument(snapshot, name).id for name in services))
        now = runtime.clock.now()
        store = runtime.store
        incident, created = await store.run(
            store.declare, key, title, severity, ids, now, summary, _channel(runtime), itsm_incident
        )
        if incident_commander:
            await store.run(
                store.assign, f"{key}:incident_commander", incident.id, "incident_commander", incident_commander, now
            )
        posted, note = None, _already(runtime.config.writes.notify, incident.posted_at)
        if runtime.config.writes.notify and incident.posted_at is None:  # new, or a retry of one never posted
            said = ", ".join(incident.services)
            text = f"Declared {incident.id} ({incident.severity}): {incident.title}. Services: {said}. Status doc: incident://{incident.id}"
            posted, note = await _post(runtime, text, incident.id)
            if posted:
                await store.run(store.delivered, incident.id, "declaration", key, "posted_at", now)
        record = await store.run(store.record, incident.id)
        return reply(WriteReply(incident=_view(runtime, record, now), stored=created, posted=posted, note=note))

    @server.tool(annotations=RECORDS)
    async def update_incident(
        key: Key,
        incident: Incident,
        status: Annotated[str | None, arg(description="investigating, identified, monitoring or resolved")] = None,
        severity: Annotated[str | None, arg()] = None,
        summary: Annotated[str | None, arg(max_length=2000)] = None,
        incident_commander: Annotated[str | None, arg(max_length=200)] = None,
        technical_lead: Annotated[str | None, arg(max_length=200)] = None,
        comms_lead: Annotated[str | None, arg(max_length=200)] = None,
        scribe: Annotated[str | None, arg(max_length=200)] = None,
        itsm_incident: Annotated[str | None, arg(max_length=64)] = None,
    ) -> Annotated[CallToolResult, published(WriteReply)]:
        """Change status, severity or summary, and assign roles: incident commander, technical lead, comms lead, scribe."""
        if status is not None and status not in STATUSES:
            raise ToolError(f"status must be one of {', '.join(STATUSES)}")
        if severity is not None and severity not in severities:
            raise ToolError(f"severity must be one of {', '.join(severities)}")
        now = runtime.clock.now()
        store = runtime.store
        assigned = dict(zip(ROLES, (incident_commander, technical_lead, comms_lead, scribe), strict=True))
        with known_incident():
            _, changed = await store.run(
                store.update, key, incident, now, status, severity, summary, None, itsm_incident
            )
            for role, person in assigned.items():
                if person:
                    await store.run(store.assign, f"{key}:{role}", incident, role, person, now)
            record = await store.run(store.record, incident)
        return reply(WriteReply(incident=_view(runtime, record, now), stored=changed))

    @server.tool(annotations=CREATES)
    async def log_event(
        key: Key,
        incident: Incident,
        what: Annotated[str, arg(min_length=1, max_length=2000)],
        who: Annotated[str, arg(min_length=1, max_length=200)],
        kind: Annotated[EventKind, arg()] = "note",
        at: Annotated[str | None, arg(description="RFC 3339 or e.g. 5m ago as 5m; default now", max_length=40)] = None,
    ) -> Annotated[CallToolResult, published(WriteReply)]:
        """Add to the scribe's timeline: who did or saw what, when."""
        now = runtime.clock.now()
        moment = time_argument(at, now, "at") if at else now
        store = runtime.store
        with known_incident():
            event, stored = await store.run(store.log_event, key, incident, moment, who, kind, what)
            record = await store.run(store.record, incident)
        mirrored, note = None, _already(_itsm(runtime, record), event.mirrored_at)
        if _itsm(runtime, record) and event.mirrored_at is None:  # new, or a retry of one never mirrored
            text = f"[{event.kind}] {event.at:%H:%M} {event.who}: {event.what}"
            mirrored, note = await _mirror(runtime, record, text)
            if mirrored:
                await store.run(store.delivered, incident, "event", key, "mirrored_at", now)
        return reply(WriteReply(incident=_view(runtime, record, now), stored=stored, mirrored=mirrored, note=note))

    @server.tool(annotations=CREATES)
    async def post_status_update(
        key: Key,
        incident: Incident,
        text: Annotated[str, arg(min_length=1, max_length=4000, description="What changed, impact, next steps")],
    ) -> Annotated[CallToolResult, published(WriteReply)]:
        """Record a status update, post it to the channel, and restart the update clock of the status doc."""
        now = runtime.clock.now()
        store = runtime.store
        with known_incident():
            current = (await store.run(store.record, incident)).incident
            row, stored = await store.run(store.add_update, key, incident, now, current.status, text, _channel(runtime))
            record = await store.run(store.record, incident)
        posted = mirrored = None
        notes = [
            _already(runtime.config.writes.notify, row.posted_at),
            _already(_itsm(runtime, record), row.mirrored_at),
        ]
        if runtime.config.writes.notify and row.posted_at is None:  # new, or a retry of one never posted
            posted, said = await _post(runtime, f"{incident} [{current.severity}, {row.status}] {row.text}", incident)
            notes.append(said)
            if posted:
                await store.run(store.delivered, incident, "update", key, "posted_at", now)
        if _itsm(runtime, record) and row.mirrored_at is None:
            mirrored, said = await _mirror(runtime, record, f"Status update ({row.status}): {row.text}")
            notes.append(said)
            if mirrored:
                await store.run(store.delivered, incident, "update", key, "mirrored_at", now)
        notes = [n for n in notes if n]
        return reply(
            WriteReply(
                incident=_view(runtime, record, now),
                stored=stored,
                posted=posted,
                mirrored=mirrored,
                note="; ".join(notes) or None,
            )
        )


@contextmanager
def known_incident() -> Iterator[None]:
    """An incident id the store does not know is an error the model can fix: say so as a tool error."""
    try:
        yield
    except UnknownIncident as exc:
        raise ToolError(str(exc)) from None


def _view(runtime: Runtime, record: IncidentRecord, now: datetime) -> IncidentView:
    incident = record.incident
    when = cadence(record, runtime.config.incidents.update_cadence_minutes, now)
    return IncidentView(
        id=incident.id,
        uri=f"incident://{incident.id}",
        title=incident.title,
        severity=incident.severity,
        status=incident.status,
        services=list(incident.services),
        declared_at=incident.declared_at,
        resolved_at=incident.resolved_at,
        roles={role: holder.person for role, holder in record.roles.items()},
        itsm_incident=incident.itsm_ref,
        next_update_due=when.due,
        update_overdue_minutes=math.ceil(when.overdue_by / timedelta(minutes=1)) if when.overdue_by else None,
        events=len(record.events),
        updates=len(record.updates),
    )


def _channel(runtime: Runtime) -> str | None:
    name = runtime.config.writes.notify
    if name is None:
        return None
    for entry in runtime.config.connectors:
        if entry.get("name") == name:
            channel = entry.get("channel")
            return str(channel) if channel else name
    return name


async def _post(runtime: Runtime, text: str, incident_id: str) -> tuple[bool | None, str | None]:
    """Post through the configured notify connector; a failure is said, never raised: the write stands."""
    name = runtime.config.writes.notify
    if name is None:
        return None, None
    notifier: Any = next(
        (c for c in runtime.connectors if c.name == name and Capability.NOTIFY in c.capabilities), None
    )
    if notifier is None:
        return False, f"writes.notify names {name!r}, which is no configured notify connector"
    try:
        delivery = await notifier.post_status(StatusMessage(text=text, incident_id=incident_id))
    except Exception as exc:  # the incident is stored whatever the channel does
        return False, redact(f"{name}: {type(exc).__name__}: {exc}")[:500]
    return delivery.ok, delivery.error


def _already(connector: str | None, sent_at: datetime | None) -> str | None:
    """What a retried key's answer says when the first call's post or note arrived: it is not sent twice."""
    if connector is None or sent_at is None:
        return None
    return f"a retry: already sent to {connector} at {sent_at:%H:%M} UTC, not sent again"


def _itsm(runtime: Runtime, record: IncidentRecord) -> str | None:
    """The ITSM connector notes go to, when this incident names its ITSM incident."""
    return runtime.config.writes.itsm if record.incident.itsm_ref else None


async def _mirror(runtime: Runtime, record: IncidentRecord, text: str) -> tuple[bool | None, str | None]:
    """The note on the ITSM incident this one names, through writes.itsm; said, never raised."""
    name, ref = runtime.config.writes.itsm, record.incident.itsm_ref
    if name is None or ref is None:
        return None, None
    writer: Any = next((c for c in runtime.connectors if c.name == name and Capability.NOTES in c.capabilities), None)
    if writer is None:
        return False, f"writes.itsm names {name!r}, which is no configured connector that writes notes"
    try:
        delivery = await writer.add_note(ref, text)
    except Exception as exc:  # the record stands whatever the ITSM does
        return False, redact(f"{name}: {type(exc).__name__}: {exc}")[:500]
    return delivery.ok, None if delivery.ok else f"{name}: {delivery.error}"
