"""Everything about one service in one answer, each section saying where it came from."""

from __future__ import annotations

from datetime import datetime, timedelta

from opscontext_mcp.analysis.alerts import active_alerts, is_active, is_firing
from opscontext_mcp.analysis.changes import changes_near
from opscontext_mcp.analysis.common import freshness
from opscontext_mcp.analysis.ownership import escalation_view, on_call, owner_view, policy_for
from opscontext_mcp.analysis.runbooks import match_runbooks
from opscontext_mcp.analysis.topology import neighbour_views
from opscontext_mcp.protocols import Capability
from opscontext_mcp.replies import AliasView, IncidentView, SectionStatus
from opscontext_mcp.replies.context import (
    AlertSection,
    ChangeSection,
    IncidentSection,
    NeighbourSection,
    OwnershipSection,
    RunbookPick,
    ServiceContextReply,
    ServiceSummary,
    SLOSection,
    SLOSummary,
)
from opscontext_mcp.snapshot import ResolvedIncident, ServiceEntry, Snapshot

NEIGHBOURS_SHOWN = 10
CHANGES_SHOWN = 5
CHANGE_WINDOW_HOURS = 24.0
CHANGE_DEPTH = 2
ALERTS_SHOWN = 10
GROUPS_SHOWN = 3
INCIDENTS_SHOWN = 5
CONSULTED = (
    Capability.CATALOG,
    Capability.ONCALL,
    Capability.TOPOLOGY,
    Capability.CHANGES,
    Capability.ALERTS,
    Capability.RUNBOOKS,
    Capability.INCIDENTS,
)


def section_status(snapshot: Snapshot, has_items: bool, *capabilities: Capability) -> tuple[SectionStatus, str | None]:
    degraded = [s for s in snapshot.statuses_for(*capabilities) if s.status != "ok"]
    if degraded:
        names = ", ".join(f"{s.source} ({s.status}: {s.error})" for s in degraded)
        return "degraded", f"partial: {names}"
    if not any(c in snapshot.capabilities_present for c in capabilities):
        return "not_available", f"no configured source provides {' or '.join(capabilities)}"
    return ("ok" if has_items else "empty"), None


def incident_view(item: ResolvedIncident, now: datetime) -> IncidentView:
    incident = item.incident
    return IncidentView(
        id=incident.id,
        title=incident.title,
        status=incident.status,
        open=incident.open,
        severity=incident.severity,
        opened_at=incident.opened_at,
        minutes_open=int(((incident.resolved_at or now) - incident.opened_at).total_seconds() // 60),
        services=list(item.service_ids) or list(incident.services),
        link=incident.link,
        provenance=incident.provenance,
    )


def incident_section(snapshot: Snapshot, entry: ServiceEntry, now: datetime) -> IncidentSection:
    """Open incidents on this service or a direct dependency, newest first."""
    watched = (entry.id, *snapshot.graph.succ[entry.id])
    found = dict.fromkeys(
        item
        for sid in watched
        for item in snapshot.incidents_by_service.get(sid, ())
        if item.incident.open and item.incident.opened_at <= now
    )
    items = sorted(found, key=lambda item: item.incident.opened_at, reverse=True)
    status, note = section_status(snapshot, bool(items), Capability.INCIDENTS)
    return IncidentSection(
        status=status,
        note=note or "open, here and one hop down",
        items=[incident_view(item, now) for item in items[:INCIDENTS_SHOWN]],
        total=len(items),
        truncated=len(items) > INCIDENTS_SHOWN,
    )


def summary(entry: ServiceEntry, snapshot: Snapshot) -> ServiceSummary:
    owner = entry.owner
    return ServiceSummary(
        id=entry.id,
        kind=entry.kind.value,
        title=entry.title,
        tier=entry.tier,
        owner=owner.name if owner else None,
        description=entry.description,
        type=entry.type,
        lifecycle=entry.lifecycle,
        system=entry.system,
        domain=(system.domain if (system := snapshot.systems.get((entry.system or "").lower())) else None),
        vendor=entry.vendor or (v.name if (v := snapshot.vendor_by_service.get(entry.id)) else None),
        aliases=[AliasView(source=a.source, name=a.name, via=a.via) for a in snapshot.index.aliases.get(entry.id, [])],
        provenance=[r.provenance for r in entry.records],
    )


def ownership_section(
    snapshot: Snapshot, entry: ServiceEntry, now: datetime, members_shown: int = 0
) -> tuple[OwnershipSection, list[str]]:
    """Owner (with up to `members_shown` team members), conflicts, on-call now and next, escalation; and notes."""
    shifts = on_call(snapshot, entry, now)
    policy = policy_for(snapshot, entry)
    status, note = section_status(snapshot, entry.owner is not None, Capability.CATALOG, Capability.ONCALL)
    notes = [note] if note else []
    if entry.owner is None and status == "empty":
        notes.append("no catalog names an owner for this service")
    notes.extend(shifts.notes)
    if policy is None and entry.owner is not None:
        notes.append("no escalation policy applies to this service or its owning team")
    section = OwnershipSection(
        status=status,
        note="; ".join(notes) or None,
        owner=owner_view(snapshot, entry.owner, members_shown) if entry.owner else None,
        conflicts=[owner_view(snapshot, claim, members_shown) for claim in entry.owner_conflicts],
        on_call_now=shifts.now,
        on_call_next=shifts.next,
        escalation=escalation_view(snapshot, policy, now) if policy else None,
    )
    return section, notes


def service_context(snapshot: Snapshot, entry: ServiceEntry, now: datetime) -> ServiceContextReply:
    """Every section but the SLOs' measurements, which need I/O: the tool adds them (`slo_section`)."""
    sections: dict[str, NeighbourSection] = {}
    for direction in ("dependencies", "dependents"):
        items, total = neighbour_views(snapshot, entry, direction, depth=1, limit=NEIGHBOURS_SHOWN)  # type: ignore[arg-type]
        status, note = section_status(snapshot, bool(items), Capability.CATALOG, Capability.TOPOLOGY)
        sections[direction] = NeighbourSection(
            status=status, note=note, items=items, total=total, truncated=total > len(items)
        )

    since = now - timedelta(hours=CHANGE_WINDOW_HOURS)
    changes, change_total, _ = changes_near(snapshot, entry, since, now, CHANGE_DEPTH, None, now, CHANGES_SHOWN)
    status, note = section_status(snapshot, bool(changes), Capability.CHANGES)

    alerts = active_alerts(snapshot, entry, 1, now, ALERTS_SHOWN, GROUPS_SHOWN)
    alert_status, alert_note = section_status(snapshot, bool(alerts.total), Capability.ALERTS)
    alert_note = alert_note or (
        f"{alerts.firing} firing, {alerts.suppressed} silenced or inhibited; here and one hop down"
    )

    own_alerts = [
        item.alert for item in snapshot.alerts_by_service.get(entry.id, ()) if is_firing(item) and is_active(item, now)
    ]
    best, candidates = match_runbooks(
        snapshot,
        now,
        service_ids=(entry.id,),
        alert_names=tuple(a.name for a in own_alerts),
        query_text=" ".join(f"{a.name} {a.summary or ''}" for a in own_alerts),
        limit=1,
        only_covering=True,
    )
    runbook_status, runbook_note = section_status(snapshot, bool(best), Capability.RUNBOOKS)
    if runbook_status == "empty":
        runbook_note = "no runbook covers this service or its firing alerts"

    return ServiceContextReply(
        service=summary(entry, snapshot),
        ownership=ownership_section(snapshot, entry, now)[0],
        dependencies=sections["dependencies"],
        dependents=sections["dependents"],
        changes=ChangeSection(
            status=status,
            note=note or f"here and up to {CHANGE_DEPTH} hops down, newest first",
            window_hours=CHANGE_WINDOW_HOURS,
            items=changes,
            total=change_total,
            truncated=change_total > len(changes),
        ),
        alerts=AlertSection(
            status=alert_status,
            note=alert_note,
            groups=alerts.groups,
            items=alerts.shown,
            total=alerts.total,
            truncated=alerts.total > len(alerts.shown),
        ),
        runbook=RunbookPick(
            status=runbook_status, note=runbook_note, best=best[0] if best else None, candidates=candidates
        ),
        slo=slo_section(snapshot, []),
        incidents=incident_section(snapshot, entry, now),
        freshness=freshness(snapshot, now, *CONSULTED),
    )


def slo_section(snapshot: Snapshot, summaries: list[SLOSummary]) -> SLOSection:
    """The SLOs of the service and of the journeys entering by it, burning first."""
    status, note = section_status(snapshot, bool(summaries), Capability.SLO)
    if status == "ok":
        burning = sum(s.status == "burning" for s in summaries)
        note = f"{burning} of {len(summaries)} burning; slo_status has every window" if burning else None
    elif status == "empty":
        note = "no SLO covers this service or a journey entering by it"
    return SLOSection(status=status, note=note, items=summaries, total=len(summaries))
