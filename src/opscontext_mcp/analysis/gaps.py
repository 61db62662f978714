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

from opscontext_mcp.analysis.alerts import is_active
from opscontext_mcp.analysis.topology import walk
from opscontext_mcp.model import EntityKind
from opscontext_mcp.protocols import Capability
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
    """The service it is charged to: the most critical of `services`."""
    severity: str
    summary: str
    evidence: tuple[str, ...]
    sources: tuple[str, ...]
    services: tuple[str, ...] = ()
    """Every service it concerns (a runbook shared by several)."""


def documentation_gaps(
    snapshot: Snapshot, now: datetime, max_age: timedelta, service: str | None = None
) -> list[Finding]:
    """Every gap (or those concerning `service`), most severe first, then by kind and service; computed
    once per snapshot and moment, with an index by service."""
    memo: dict[tuple[datetime, timedelta], tuple[list[Finding], dict[str, list[Finding]]]] = snapshot.derive(
        "documentation-gaps", dict
    )
    if (now, max_age) not in memo:
        memo.clear()  # one moment is asked again and again; older ones never are
        found = _all_gaps(snapshot, now, max_age)
        index: dict[str, list[Finding]] = {}
        for finding in found:
            for name in dict.fromkeys((finding.service, *finding.services)):
                if name is not None:
                    index.setdefault(name, []).append(finding)
        memo[now, max_age] = (found, index)
    found, index = memo[now, max_age]
    return found if service is None else index.get(service, [])


def _all_gaps(snapshot: Snapshot, now: datetime, max_age: timedelta) -> list[Finding]:
    found = [*_ownership(snapshot), *_drift(snapshot), *_uncatalogued(snapshot)]
    if _sound(snapshot, Capability.RUNBOOKS):  # a failing runbook source: no runbook can be judged missing
        found += _runbooks(snapshot, now, max_age)
        found += _unanswered_alerts(snapshot, now, max_age)
    found.sort(key=lambda f: (-SEVERITIES.index(f.severity), f.kind, f.service or "", f.summary))
    return found


def severity(snapshot: Snapshot, kind: str, service: str | None) -> str:
    level = SEVERITIES.index(BASE[kind])
    entry = snapshot.services.get(service) if service else None
    if entry is not None:
        if entry.tier is not None and entry.tier <= 1:
            level += 1
        elif entry.tier is not None and entry.tier >= 3:
            level -= 1
        if _dependent_count(snapshot, entry.id) >= WIDE_BLAST:
            level += 1
    return SEVERITIES[max(0, min(level, len(SEVERITIES) - 1))]


def _dependent_count(snapshot: Snapshot, service: str) -> int:
    """How many services transitively depend on `service`; walked once per snapshot, for services with gaps."""
    counts: dict[str, int] = snapshot.derive("gap-dependents", dict)
    if service not in counts:
        counts[service] = len(walk(snapshot, service, "dependents", None))
    return counts[service]


def _finding(
    snapshot: Snapshot,
    kind: str,
    service: str | None,
    summary: str,
    evidence: list[str],
    sources: list[str],
    services: tuple[str, ...] = (),
) -> Finding:
    concerned = services or ((service,) if service else ())
    worst = max(concerned, key=lambda s: SEVERITIES.index(severity(snapshot, kind, s)), default=service)
    return Finding(
        kind=kind,
        service=worst,
        severity=severity(snapshot, kind, worst),
        summary=summary,
        evidence=tuple(evidence),
        sources=tuple(dict.fromkeys(sources)),
        services=concerned,
    )


def _sound(snapshot: Snapshot, capability: Capability) -> bool:
    """No source of it is failing (none at all is sound: then nothing documents it, which is a gap)."""
    return all(s.status == "ok" for s in snapshot.statuses_for(capability))


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
        services = item.service_ids
        source = [runbook.provenance.source]
        if runbook.last_exercised is None:
            summary = f"runbook {runbook.id} has never been exercised"
            found.append(_finding(snapshot, "runbook_never_exercised", None, summary, [where], source, services))
            continue
        age = now.date() - runbook.last_exercised
        if age > max_age:
            summary = f"runbook {runbook.id} last exercised {age.days} days ago ({runbook.last_exercised})"
            evidence = [f"{where}: last_exercised {runbook.last_exercised}", f"older than {max_age.days} days"]
            found.append(_finding(snapshot, "runbook_stale", None, summary, evidence, source, services))
    return found


def _unanswered_alerts(snapshot: Snapshot, now: datetime, max_age: timedelta) -> list[Finding]:
    """Alert names seen within `max_age` (or still firing) that no runbook lists among the alerts it answers
    for that service, a neighbour of it, or any service. Names are compared without case."""
    answered: dict[str, set[str | None]] = {}
    for item in snapshot.runbooks:
        for name in item.runbook.alerts:
            answered.setdefault(name.lower(), set()).update(item.service_ids or (None,))
    seen: dict[tuple[str, str | None], tuple[str, list[str]]] = {}
    for item in snapshot.alerts:
        alert = item.alert
        if item.service_id is None:  # reported as missing from the catalog instead
            continue
        recent = alert.starts_at >= now - max_age or is_active(item, now)
        covering = answered.get(alert.name.lower(), set())
        if not recent or None in covering or covering & _near(snapshot, item.service_id):
            continue
        _, evidence = seen.setdefault((alert.name.lower(), item.service_id), (alert.name, []))
        evidence.append(
            f"{alert.provenance.source}:{alert.provenance.ref or alert.fingerprint} since {alert.starts_at:%Y-%m-%d %H:%M}"
        )
    return [
        _finding(
            snapshot,
            "alert_without_runbook",
            service,
            f"alert {name} fired on {service or 'an unknown service'} and no runbook answers it",
            sorted(evidence)[:5],
            [e.split(":", 1)[0] for e in evidence],
        )
        for (_, service), (name, evidence) in sorted(seen.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
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
    named: dict[str, list[tuple[str, str]]] = {}
    for item in snapshot.unresolved:
        if item.what == "alert service":
            named.setdefault(item.name, []).append(
                (item.source, f"{item.source}:{item.ref}" if item.ref else item.source)
            )
    for name, refs in sorted(named.items()):
        summary = f"alerts name {name}, which no catalog knows"
        evidence = [f"{len(refs)} alerts: {', '.join(ref for _, ref in refs[:5])}"]
        found.append(_finding(snapshot, "missing_from_catalog", name, summary, evidence, [s for s, _ in refs]))
    return found


def _near(snapshot: Snapshot, service: str | None) -> set[str | None]:
    """The service and those it calls or is called by: a runbook there answers an alert here."""
    if service is None or service not in snapshot.graph:
        return {service}
    return {service, *snapshot.graph.succ[service], *snapshot.graph.pred[service]}


def _edges(snapshot: Snapshot) -> Iterator[tuple[str, str, Edge]]:
    for caller, callees in snapshot.graph.succ.items():
        for callee, data in callees.items():
            yield caller, callee, data["edge"]


def _is_catalogued(snapshot: Snapshot, *service_ids: str) -> bool:
    return all(snapshot.services[s].kind != EntityKind.OBSERVED for s in service_ids if s in snapshot.services)
