"""Alerts firing now: for the whole estate, or a service and what it depends on.

Silenced and inhibited alerts stay in the answer, marked, after the firing ones: a responder
should see that a muted alert exists, but it never counts as firing. An alert Alertmanager has
not processed yet (just arrived) fires. One upstream alert that names several services (a
Dynatrace problem) is listed once, at the service nearest the one asked about.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from opscontext_mcp.analysis.topology import walk
from opscontext_mcp.replies import AlertView
from opscontext_mcp.snapshot import ResolvedAlert, ServiceEntry, Snapshot


def is_firing(item: ResolvedAlert) -> bool:
    return item.alert.state in ("active", "unprocessed")


def is_active(item: ResolvedAlert, now: datetime) -> bool:
    alert = item.alert
    return alert.state != "resolved" and alert.starts_at <= now and (alert.ends_at is None or alert.ends_at > now)


def alert_view(item: ResolvedAlert, now: datetime, hop: int | None = None) -> AlertView:
    alert = item.alert
    return AlertView(
        name=alert.name,
        service=item.service_id or alert.service,
        severity=alert.severity,
        state=alert.state,
        starts_at=alert.starts_at,
        minutes_firing=int((now - alert.starts_at).total_seconds() // 60),
        hop=hop,
        summary=alert.summary,
        silenced_by=list(alert.silenced_by) or None,
        inhibited_by=list(alert.inhibited_by) or None,
        link=alert.link,
        provenance=alert.provenance,
    )


@dataclass
class ActiveAlerts:
    shown: list[AlertView]
    total: int
    firing: int
    suppressed: int
    by_service: dict[str, int]
    """Firing alerts per service, most first."""
    unresolved: int
    """Active alerts whose service label matches no known service."""


def active_alerts(
    snapshot: Snapshot, entry: ServiceEntry | None, depth: int, now: datetime, limit: int
) -> ActiveAlerts:
    """Firing first (nearest hop, then earliest onset), then silenced or inhibited ones."""
    if entry is None:
        found = [(item, None) for item in snapshot.alerts if is_active(item, now)]
    else:
        reached = walk(snapshot, entry.id, "dependencies", depth) if depth else {}
        hops = {entry.id: 0} | {node: hop for node, (hop, _) in reached.items()}
        found = [
            (item, hop)
            for node, hop in hops.items()
            for item in snapshot.alerts_by_service.get(node, ())
            if is_active(item, now)
        ]
    found.sort(key=lambda row: (not is_firing(row[0]), row[1] or 0, row[0].alert.starts_at, row[0].alert.name))
    found = once_each(found)
    firing = [item for item, _ in found if is_firing(item)]
    by_service = Counter(item.service_id or item.alert.service or "(no service label)" for item in firing)
    return ActiveAlerts(
        shown=[alert_view(item, now, hop) for item, hop in found[:limit]],
        total=len(found),
        firing=len(firing),
        suppressed=sum(item.alert.state == "suppressed" for item, _ in found),
        by_service=dict(by_service.most_common()),
        unresolved=sum(item.service_id is None for item, _ in found),
    )


def once_each(found: list[tuple[ResolvedAlert, int | None]]) -> list[tuple[ResolvedAlert, int | None]]:
    """The first row of each upstream alert, by its source and fingerprint (rows without one are all kept)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for item, hop in found:
        alert = item.alert
        if alert.fingerprint is not None:
            key = (alert.provenance.source, alert.fingerprint)
            if key in seen:
                continue
            seen.add(key)
        kept.append((item, hop))
    return kept
