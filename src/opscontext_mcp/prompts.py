"""Prompts: triage, status_update, handover, postmortem.

Each hands the assistant the facts it needs now (the service's context, the incident's status doc,
its timeline and the changes around it) and says what to write, so a responder gets a draft from
the record instead of from memory.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from opscontext_mcp.analysis.alerts import active_alerts
from opscontext_mcp.analysis.changes import changes_near
from opscontext_mcp.analysis.common import UnknownService, require_service
from opscontext_mcp.analysis.incident import status_doc
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.store import UnknownIncident
from opscontext_mcp.store.records import IncidentRecord

CHANGES_SHOWN = 15


def register_prompts(server: MCPServer, runtime: Runtime) -> None:
    @server.prompt(
        title="Triage a service", description="First questions for a service that is failing, with its context"
    )
    async def triage(service: str) -> str:
        snapshot = await runtime.snapshot()
        try:
            entry = require_service(snapshot, service)
        except UnknownService as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from None
        now = runtime.clock.now()
        alerts = active_alerts(snapshot, entry, 2, min(now, runtime.cache.clock.now()), 10, 3)  # as the data saw them
        groups = "\n".join(
            f"- group {g.group}: {g.alerts} alerts on {', '.join(g.services)}; primary contributor "
            f"{g.primary_contributor.service if g.primary_contributor else 'unknown'}"
            for g in alerts.groups
        )
        return (
            f"Triage {entry.id} for an incident responder, now ({now:%Y-%m-%d %H:%M} UTC).\n\n"
            f"Alert groups touching it:\n{groups or '- none firing'}\n\n"
            "Use the tools, in this order, and cite each fact's source and freshness:\n"
            f"1. service_context('{entry.id}'): owner, on-call, dependencies, changes, alerts, SLOs, runbook.\n"
            f"2. active_alerts(service='{entry.id}', depth=2): the primary contributor and its evidence.\n"
            f"3. what_changed(service='{entry.id}', since='2h'): the changes just before the first alert.\n"
            "4. impact_summary(): who is affected and how much.\n"
            "5. matching_runbook for the primary contributor's alerts; escalation_status for who to engage.\n\n"
            "Answer with: what is broken and for whom (with numbers), the most likely cause with its evidence, "
            "the first mitigation (from the runbook), and who to engage now and next. Say what you do not know."
        )

    @server.prompt(title="Draft a status update", description="A status update for an incident, from its status doc")
    async def status_update(incident: str) -> str:
        record = await _record(runtime, incident)
        doc = status_doc(record, runtime.config.incidents.update_cadence_minutes, runtime.clock.now())
        return (
            f"Draft the next status update for {incident}, for stakeholders outside the response.\n\n"
            f"The status doc now:\n\n{doc}\n"
            "Write 3 to 5 sentences: current impact (who, how much, since when), what is known about the cause, "
            "what is being done, and when the next update comes. Plain words, no speculation presented as fact. "
            f"Check impact_summary() for current numbers first; post it with post_status_update('{incident}', …)."
        )

    @server.prompt(title="Hand over an incident", description="A handover for the next incident commander or shift")
    async def handover(incident: str) -> str:
        record = await _record(runtime, incident)
        doc = status_doc(record, runtime.config.incidents.update_cadence_minutes, runtime.clock.now())
        actions = [e for e in record.events if e.kind in ("action", "decision")]
        listed = "\n".join(f"- {e.at:%H:%M} {e.who}: {e.what}" for e in actions[-20:]) or "- none logged"
        return (
            f"Write the handover of {incident} for whoever takes over the incident commander role.\n\n"
            f"Status doc:\n\n{doc}\nActions and decisions so far:\n{listed}\n\n"
            "Cover: where things stand, what is in flight and who owns it, open questions, the next update due, "
            "the escalation state (escalation_status), and anything the incoming commander must do first."
        )

    @server.prompt(
        title="Draft a postmortem", description="A postmortem draft from the stored timeline, updates and changes"
    )
    async def postmortem(incident: str) -> str:
        record = await _record(runtime, incident)
        snapshot = await runtime.snapshot()
        now = runtime.clock.now()
        started = record.incident.declared_at
        ended = record.incident.resolved_at or now
        changes: list[tuple[datetime, str]] = []
        for name in record.incident.services:
            resolved = snapshot.resolve(name)
            if resolved.id is None:
                continue
            found, _, _ = changes_near(
                snapshot,
                snapshot.services[resolved.id],
                started - timedelta(hours=6),
                ended,
                2,
                None,
                now,
                CHANGES_SHOWN,
            )
            changes += [(c.at, f"- {c.at:%Y-%m-%d %H:%M} {c.service} {c.kind} {c.id}: {c.summary}") for c in found]
        timeline = "\n".join(f"- {e.at:%Y-%m-%d %H:%M} {e.who} ({e.kind}): {e.what}" for e in record.events)
        updates = "\n".join(f"- {u.at:%Y-%m-%d %H:%M} [{u.status}] {u.text}" for u in record.updates)
        lasted = int((ended - started).total_seconds() // 60)
        return (
            f"Draft a blameless postmortem of {incident}: {record.incident.title} "
            f"({record.incident.severity}, {lasted} min, services {', '.join(record.incident.services)}).\n\n"
            f"Timeline as logged:\n{timeline or '- nothing logged'}\n\n"
            f"Status updates:\n{updates or '- none posted'}\n\n"
            f"Changes in the 6 h before and during it, here and up to 2 hops down:\n"
            f"{chr(10).join(dict.fromkeys(line for _, line in sorted(changes))) or '- none recorded'}\n\n"
            "Sections: summary, impact (with numbers), timeline, root cause and contributing factors, what went "
            "well, what went badly, where we were lucky, action items with owners. Mark every inference as one."
        )


async def _record(runtime: Runtime, incident: str) -> IncidentRecord:
    try:
        store = runtime.store
        return await store.run(store.record, incident)
    except UnknownIncident as exc:  # a prompt's argument the client can correct: said as such
        raise MCPError(INVALID_PARAMS, str(exc)) from None
