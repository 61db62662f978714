"""Alerts firing now, grouped by shared root cause: for the whole estate, or a service and what it depends on.

Silenced and inhibited alerts stay in the answer, marked, after the firing ones: a responder
should see that a muted alert exists, but it never counts as firing. An alert Alertmanager has
not processed yet (just arrived) fires. One upstream alert that names several services (a
Dynatrace problem) is listed once, at the service nearest the one asked about.

Groups are computed over every firing alert of the estate (see `rca`), so a group and its number
are the same whichever service is asked about; an answer about a service shows the groups its
alerts belong to.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from opscontext_mcp.analysis import rca
from opscontext_mcp.analysis.symptoms import is_internal_symptom
from opscontext_mcp.analysis.topology import walk
from opscontext_mcp.replies import AlertGroupView, AlertView, ContributorView
from opscontext_mcp.snapshot import ResolvedAlert, ServiceEntry, Snapshot

OTHER_CANDIDATES_SHOWN = 3


def is_firing(item: ResolvedAlert) -> bool:
    return item.alert.state in ("active", "unprocessed")


def is_active(item: ResolvedAlert, now: datetime) -> bool:
    alert = item.alert
    return alert.state != "resolved" and alert.starts_at <= now and (alert.ends_at is None or alert.ends_at > now)


def alert_view(item: ResolvedAlert, now: datetime, hop: int | None = None, group: int | None = None) -> AlertView:
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
        group=group,
        provenance=alert.provenance,
    )


class SnapshotTopology:
    """The snapshot's dependency graph as `rca` walks it."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.graph = snapshot.graph

    def dependencies(self, service: str) -> Iterable[str]:
        return self.graph.succ[service] if service in self.graph else ()

    def dependents(self, service: str) -> Iterable[str]:
        return self.graph.pred[service] if service in self.graph else ()


@dataclass(frozen=True)
class AlertGroups:
    groups: list[rca.Group]
    """Most severe, then largest, then earliest first; group n is `groups[n - 1]`."""
    of_alert: dict[int, int]
    """`id()` of a firing ResolvedAlert → its group number."""


def alert_groups(snapshot: Snapshot, now: datetime) -> AlertGroups:
    """The estate's firing alerts grouped by shared cause, computed once per snapshot and moment."""
    memo: dict[datetime, AlertGroups] = snapshot.derive("alert-groups", dict)
    if now not in memo:
        memo.clear()  # one moment is asked again and again; older ones never are
        memo[now] = _grouped(snapshot, now)
    return memo[now]


def _grouped(snapshot: Snapshot, now: datetime) -> AlertGroups:
    firing = [
        item for item in snapshot.alerts if item.service_id is not None and is_firing(item) and is_active(item, now)
    ]
    signals = [
        rca.Signal(
            key=str(index),
            service=item.service_id,
            name=item.alert.name,
            onset=item.alert.starts_at,
            severity=item.alert.severity,
            internal=is_internal_symptom(item.alert.name, item.alert.labels),
        )
        for index, item in enumerate(firing)
        if item.service_id is not None
    ]
    groups = rca.analyse(signals, SnapshotTopology(snapshot), rca_evidence(snapshot))
    of_alert = {
        id(firing[int(signal.key)]): number for number, group in enumerate(groups, 1) for signal in group.signals
    }
    return AlertGroups(groups=groups, of_alert=of_alert)


def rca_evidence(snapshot: Snapshot) -> rca.Evidence:
    """Changes per service and the error ratio of each observed edge; once per snapshot."""

    def build() -> rca.Evidence:
        changes = {
            service: [(item.change.at, item.change.id) for item in items]
            for service, items in snapshot.changes_by_service.items()
        }
        errors = {}
        # Through `succ`, not `graph.edges`: networkx caches that view on the graph, a reference cycle
        # that would keep every replaced snapshot alive until the cycle collector runs.
        for caller, callees in snapshot.graph.succ.items():
            for callee, data in callees.items():
                traffic = data["edge"].traffic
                if traffic is not None and traffic.stats is not None and traffic.stats.requests:
                    errors[(caller, callee)] = traffic.stats.error_ratio
        return rca.Evidence(changes=changes, edge_errors=errors)

    return snapshot.derive("rca-evidence", build)


def group_view(number: int, group: rca.Group, now: datetime) -> AlertGroupView:
    primary, *others = group.candidates
    return AlertGroupView(
        group=number,
        started_at=group.started,
        minutes_active=int((now - group.started).total_seconds() // 60),
        severity=group.severity,
        alerts=len(group.signals),
        services=list(group.services),
        primary_contributor=contributor_view(primary),
        other_candidates=[contributor_view(c) for c in others[:OTHER_CANDIDATES_SHOWN]],
        candidates_total=len(group.candidates),
    )


def contributor_view(candidate: rca.Candidate) -> ContributorView:
    return ContributorView(
        service=candidate.service,
        score=round(candidate.score, 2),
        alerting=candidate.alerting,
        evidence=list(candidate.evidence),
        change=candidate.change[1] if candidate.change else None,
    )


@dataclass
class ActiveAlerts:
    groups: list[AlertGroupView]
    groups_total: int
    shown: list[AlertView]
    total: int
    firing: int
    suppressed: int
    by_service: dict[str, int]
    """Firing alerts per service, most first."""
    unresolved: int
    """Active alerts whose service label matches no known service."""


def active_alerts(
    snapshot: Snapshot, entry: ServiceEntry | None, depth: int, now: datetime, limit: int, group_limit: int = 5
) -> ActiveAlerts:
    """The groups these alerts belong to, then the alerts: firing first (nearest hop, then earliest
    onset), then silenced or inhibited ones."""
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
    grouped = alert_groups(snapshot, now)
    numbers = sorted({n for item in firing if (n := grouped.of_alert.get(id(item))) is not None})
    return ActiveAlerts(
        groups=[group_view(n, grouped.groups[n - 1], now) for n in numbers[:group_limit]],
        groups_total=len(numbers),
        shown=[alert_view(item, now, hop, grouped.of_alert.get(id(item))) for item, hop in found[:limit]],
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
