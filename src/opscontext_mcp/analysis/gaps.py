"""Where the documentation lies: the declared world (catalog, CMDB, runbooks) against the observed one.

Each finding names the service, the evidence and the sources it comes from, and a severity: a
base for the kind of gap, raised for a tier-1 service or one many others depend on, lowered for
tier 3 and below. Drift between declared and observed dependencies is only judged where
telemetry watches the caller: a declared call that its caller's traffic never shows is drift; a
service no telemetry sees says nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from opscontext_mcp.analysis.topology import walk
from opscontext_mcp.model import EntityKind
from opscontext_mcp.snapshot import Edge, ServiceEntry, Snapshot

SEVERITIES = ("info", "low", "medium", "high", "critical")
WIDE_BLAST = 10
"""Transitive dependents from which a gap weighs one level more."""
BASE = {
    "no_owner": "high",
    "owner_conflict": "medium",
    "no_runbook": "medium",
    "runbook_never_exercised": "medium",
    "runbook_stale": "low",
    "alert_without_runbook": "medium",
    "declared_not_observed": "low",
    "observed_not_declared": "medium",
    "missing_from_catalog": "medium",
}


@dataclass(frozen=True)
class Finding:
    kind: str
    service: str | None
    severity: str
    summary: str
    evidence: tuple[str, ...]
    sources: tuple[str, ...]


def documentation_gaps(snapshot: Snapshot, now: datetime, max_age: timedelta) -> list[Finding]:
    """Every gap, most severe first, then by kind and service."""
    found = [
        *_ownership(snapshot),
        *_runbooks(snapshot, now, max_age),
        *_unanswered_alerts(snapshot, now, max_age),
        *_drift(snapshot),
        *_uncatalogued(snapshot),
    ]
    found.sort(key=lambda f: (-SEVERITIES.index(f.severity), f.kind, f.service or "", f.summary))
    return found


def severity(snapshot: Snapshot, kind: str, service: str | None) -> str:
    level = SEVERITIES.index(BASE[kind])
    entry = snapshot.services.get(service) if service else None
    if entry is not None:
        if entry.tier == 1:
            level += 1
        elif entry.tier is not None and entry.tier >= 3:
            level -= 1
        if len(walk(snapshot, entry.id, "dependents", None)) >= WIDE_BLAST:
            level += 1
    return SEVERITIES[max(0, min(level, len(SEVERITIES) - 1))]


def _finding(
    snapshot: Snapshot, kind: str, service: str | None, summary: str, evidence: list[str], sources: list[str]
) -> Finding:
    return Finding(
        kind=kind,
        service=service,
        severity=severity(snapshot, kind, service),
        summary=summary,
        evidence=tuple(evidence),
        sources=tuple(dict.fromkeys(sources)),
    )


def _catalogued(snapshot: Snapshot) -> list[ServiceEntry]:
    return [e for e in snapshot.services.values() if e.kind != EntityKind.OBSERVED]


def _ownership(snapshot: Snapshot) -> list[Finding]:
    found = []
    for entry in _catalogued(snapshot):
        sources = [r.provenance.source for r in entry.records]
        if not entry.owner_claims:
            refs = [f"{r.provenance.source}:{r.provenance.ref}" for r in entry.records]
            found.append(_finding(snapshot, "no_owner", entry.id, f"{entry.id} has no owner", refs, sources))
        elif entry.owner_conflicts:
            claims = [f"{c.provenance.source} says {c.ref} ({c.provenance.ref})" for c in entry.owner_claims]
            summary = f"sources disagree on who owns {entry.id}"
            found.append(_finding(snapshot, "owner_conflict", entry.id, summary, claims, sources))
    return found


def _runbooks(snapshot: Snapshot, now: datetime, max_age: timedelta) -> list[Finding]:
    found = []
    for entry in _catalogued(snapshot):
        if entry.id not in snapshot.runbooks_by_service:
            sources = [r.provenance.source for r in entry.records]
            evidence = [f"no runbook names {entry.id} in its services", *(f"{s}: catalog entry" for s in sources)]
            found.append(_finding(snapshot, "no_runbook", entry.id, f"{entry.id} has no runbook", evidence, sources))
    for item in snapshot.runbooks:
        runbook = item.runbook
        where = f"{runbook.provenance.source}:{runbook.provenance.ref}"
        service = item.service_ids[0] if item.service_ids else None
        if runbook.last_exercised is None:
            summary = f"runbook {runbook.id} has never been exercised"
            found.append(
                _finding(snapshot, "runbook_never_exercised", service, summary, [where], [runbook.provenance.source])
            )
            continue
        age = now.date() - runbook.last_exercised
        if age > max_age:
            summary = f"runbook {runbook.id} last exercised {age.days} days ago ({runbook.last_exercised})"
            evidence = [f"{where}: last_exercised {runbook.last_exercised}", f"older than {max_age.days} days"]
            found.append(_finding(snapshot, "runbook_stale", service, summary, evidence, [runbook.provenance.source]))
    return found


def _unanswered_alerts(snapshot: Snapshot, now: datetime, max_age: timedelta) -> list[Finding]:
    answered = {name.lower() for item in snapshot.runbooks for name in item.runbook.alerts}
    seen: dict[tuple[str, str | None], list[str]] = {}
    for item in snapshot.alerts:
        alert = item.alert
        if alert.starts_at >= now - max_age and alert.name.lower() not in answered:
            seen.setdefault((alert.name, item.service_id), []).append(
                f"{alert.provenance.source}:{alert.provenance.ref or alert.fingerprint} since {alert.starts_at:%Y-%m-%d %H:%M}"
            )
    return [
        _finding(
            snapshot,
            "alert_without_runbook",
            service,
            f"alert {name} fired and no runbook answers it",
            sorted(evidence)[:5],
            [e.split(":", 1)[0] for e in evidence],
        )
        for (name, service), evidence in sorted(seen.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    ]


def _drift(snapshot: Snapshot) -> list[Finding]:
    """Declared edges the caller's observed traffic never shows, and observed edges no source declares."""
    watched = {caller for caller, _, data in _edges(snapshot) if data.observed}
    found = []
    for caller, callee, edge in _edges(snapshot):
        if edge.declared and not edge.observed and caller in watched:
            claims = [f"{d.provenance.source}:{d.provenance.ref}" for d in edge.declared]
            summary = f"{caller} declares a dependency on {callee} that telemetry never observed"
            evidence = [*claims, f"{caller}'s observed calls go elsewhere over the telemetry window"]
            sources = [d.provenance.source for d in edge.declared]
            found.append(_finding(snapshot, "declared_not_observed", caller, summary, evidence, sources))
        elif edge.observed and not edge.declared and _is_catalogued(snapshot, caller, callee):
            traffic = edge.traffic
            stats = traffic.stats if traffic is not None else None
            seen = f"{stats.requests} requests observed" if stats else "observed"
            sources = [d.provenance.source for d in edge.observed]
            summary = f"{caller} calls {callee}, which no catalog declares"
            evidence = [f"{seen} by {', '.join(dict.fromkeys(sources))}"]
            found.append(_finding(snapshot, "observed_not_declared", caller, summary, evidence, sources))
    return found


def _uncatalogued(snapshot: Snapshot) -> list[Finding]:
    found = []
    for entry in snapshot.services.values():
        if entry.kind == EntityKind.OBSERVED:
            seen_by = sorted(
                {d.provenance.source for a, b, e in _edges(snapshot) if entry.id in (a, b) for d in e.observed}
            )
            summary = f"{entry.id} is seen in telemetry but in no catalog"
            evidence = [f"observed by {', '.join(seen_by) or 'telemetry'}"]
            found.append(_finding(snapshot, "missing_from_catalog", entry.id, summary, evidence, seen_by))
    for item in snapshot.unresolved:
        if item.what == "alert service":
            summary = f"alerts name {item.name}, which no catalog knows"
            evidence = [f"{item.source}:{item.ref}" if item.ref else item.source]
            found.append(_finding(snapshot, "missing_from_catalog", None, summary, evidence, [item.source]))
    return found


def _edges(snapshot: Snapshot) -> Iterator[tuple[str, str, Edge]]:
    for caller, callees in snapshot.graph.succ.items():
        for callee, data in callees.items():
            yield caller, callee, data["edge"]


def _is_catalogued(snapshot: Snapshot, *service_ids: str) -> bool:
    return all(snapshot.services[s].kind != EntityKind.OBSERVED for s in service_ids if s in snapshot.services)
