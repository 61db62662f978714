"""The immutable joined view of every source at one moment, built from the sources' latest payloads."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any, Literal, TypeVar

import networkx as nx

from opscontext_mcp.identity import Resolution, ServiceIndex, TeamNames
from opscontext_mcp.model import (
    SLO,
    Alert,
    Change,
    Dependency,
    EntityKind,
    EscalationPolicy,
    Incident,
    Journey,
    Person,
    Provenance,
    Runbook,
    Schedule,
    Service,
    System,
    Team,
    Vendor,
)
from opscontext_mcp.protocols import Capability, Problem

FeedStatus = Literal["ok", "stale", "failed"]


@dataclass(frozen=True)
class SourceStatus:
    source: str
    capability: Capability
    status: FeedStatus
    fetched_at: datetime | None
    """When the data now served was fetched (the last success)."""
    last_attempt_at: datetime | None
    error: str | None
    records: int
    problems: int


@dataclass(frozen=True)
class SourceProblem:
    source: str
    capability: Capability
    problem: Problem


@dataclass(frozen=True)
class Unresolved:
    """A name a source used that matches no known service, team or person."""

    source: str
    what: str
    name: str
    reason: str
    ref: str | None = None


@dataclass(frozen=True)
class OwnerClaim:
    ref: str
    kind: str
    name: str
    key: tuple[str, str]
    """Who is meant, spelling aside: ("group", team key) or ("user", name)."""
    provenance: Provenance


@dataclass(frozen=True)
class ServiceEntry:
    """One canonical service: every catalog record that names it, and the facts merged from them."""

    id: str
    kind: EntityKind
    records: tuple[Service, ...] = ()
    owner_claims: tuple[OwnerClaim, ...] = ()
    title: str | None = None
    description: str | None = None
    tier: int | None = None
    type: str | None = None
    lifecycle: str | None = None
    system: str | None = None
    vendor: str | None = None

    @classmethod
    def merged(
        cls, service_id: str, kind: EntityKind, records: tuple[Service, ...], claims: tuple[OwnerClaim, ...]
    ) -> ServiceEntry:
        """Each fact from the highest-precedence record that has it."""

        def first(attribute: str) -> Any:
            return next((value for r in records if (value := getattr(r, attribute)) is not None), None)

        return cls(
            id=service_id,
            kind=kind,
            records=records,
            owner_claims=claims,
            title=first("title"),
            description=first("description"),
            tier=first("tier"),
            type=first("type"),
            lifecycle=first("lifecycle"),
            system=first("system"),
            vendor=first("vendor"),
        )

    @property
    def owner(self) -> OwnerClaim | None:
        return self.owner_claims[0] if self.owner_claims else None

    @property
    def owner_conflicts(self) -> tuple[OwnerClaim, ...]:
        """Claims naming someone else than the first (highest-precedence) one; spelling aside."""
        if not self.owner_claims:
            return ()
        first = self.owner_claims[0].key
        return tuple(c for c in self.owner_claims[1:] if c.key != first)


@dataclass(frozen=True)
class Edge:
    caller: str
    callee: str
    declared: tuple[Dependency, ...] = ()
    observed: tuple[Dependency, ...] = ()

    @property
    def traffic(self) -> Dependency | None:
        return next((d for d in self.observed if d.stats is not None), None)


@dataclass(frozen=True)
class ResolvedRunbook:
    runbook: Runbook
    service_ids: tuple[str, ...]


@dataclass(frozen=True)
class ResolvedAlert:
    alert: Alert
    service_id: str | None


@dataclass(frozen=True)
class ResolvedIncident:
    incident: Incident
    service_ids: tuple[str, ...]


@dataclass(frozen=True)
class ResolvedSLO:
    slo: SLO
    service_id: str | None


@dataclass(frozen=True)
class ResolvedJourney:
    journey: Journey
    entry_id: str | None
    slo: ResolvedSLO | None


@dataclass(frozen=True)
class ResolvedChange:
    change: Change
    service_id: str | None


T = TypeVar("T")


COMPUTED_INDICES: list[str] = []
"""Names of the per-snapshot indices (`computed_once` properties), for building them ahead of use."""


def computed_once(method: Callable[[Snapshot], T]) -> property:
    """A property computed once per snapshot data, kept across `with_statuses` copies."""
    name = method.__name__
    COMPUTED_INDICES.append(name)

    @wraps(method)
    def get(self: Snapshot) -> T:
        return self.derive(name, lambda: method(self))

    return property(get)


@dataclass(frozen=True, eq=False)
class Snapshot:
    built_at: datetime
    """Wall-clock time the snapshot was assembled."""
    services: dict[str, ServiceEntry]
    graph: nx.DiGraph
    """Nodes are service ids; each edge carries `edge`: an `Edge` with both provenances."""
    index: ServiceIndex
    team_names: TeamNames
    teams: dict[str, Team]
    people: dict[str, Person]
    team_members: dict[str, tuple[str, ...]]
    systems: dict[str, System]
    schedules: dict[str, Schedule]
    policies: tuple[EscalationPolicy, ...]
    vendors: dict[str, Vendor]
    runbooks: tuple[ResolvedRunbook, ...]
    alerts: tuple[ResolvedAlert, ...]
    changes: tuple[ResolvedChange, ...]
    """Newest first."""
    incidents: tuple[ResolvedIncident, ...]
    """Newest first."""
    statuses: tuple[SourceStatus, ...]
    problems: tuple[SourceProblem, ...]
    unresolved: tuple[Unresolved, ...]
    slos: tuple[ResolvedSLO, ...] = ()
    journeys: tuple[ResolvedJourney, ...] = ()
    capabilities_present: frozenset[Capability] = frozenset()
    derived: dict[str, Any] = field(default_factory=dict, repr=False)
    """Indices computed on demand from this data; shared by copies that only refresh statuses."""

    def derive(self, key: str, build: Callable[[], T]) -> T:
        try:
            return self.derived[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self.derived[key] = build()
            return value

    def with_statuses(self, statuses: tuple[SourceStatus, ...], built_at: datetime) -> Snapshot:
        """The same data with new source statuses: what a refresh that changed nothing produces."""
        return dataclasses.replace(self, statuses=statuses, built_at=built_at)

    def resolve(self, name: str) -> Resolution:
        return self.index.resolve(name)

    def edge(self, caller: str, callee: str) -> Edge:
        return self.graph.succ[caller][callee]["edge"]  # type: ignore[no-any-return]

    def statuses_for(self, *capabilities: Capability) -> tuple[SourceStatus, ...]:
        wanted = set(capabilities)
        return tuple(s for s in self.statuses if s.capability in wanted)

    @computed_once
    def changes_by_service(self) -> dict[str, tuple[ResolvedChange, ...]]:
        grouped: dict[str, list[ResolvedChange]] = {}
        for item in self.changes:
            if item.service_id is not None:
                grouped.setdefault(item.service_id, []).append(item)
        return {key: tuple(value) for key, value in grouped.items()}

    @computed_once
    def incidents_by_service(self) -> dict[str, tuple[ResolvedIncident, ...]]:
        grouped: dict[str, list[ResolvedIncident]] = {}
        for item in self.incidents:
            for service_id in item.service_ids:
                grouped.setdefault(service_id, []).append(item)
        return {key: tuple(value) for key, value in grouped.items()}

    @computed_once
    def alerts_by_service(self) -> dict[str, tuple[ResolvedAlert, ...]]:
        grouped: dict[str, list[ResolvedAlert]] = {}
        for item in self.alerts:
            if item.service_id is not None:
                grouped.setdefault(item.service_id, []).append(item)
        return {key: tuple(value) for key, value in grouped.items()}

    @computed_once
    def runbooks_by_service(self) -> dict[str, tuple[ResolvedRunbook, ...]]:
        grouped: dict[str, list[ResolvedRunbook]] = {}
        for item in self.runbooks:
            for service_id in item.service_ids:
                grouped.setdefault(service_id, []).append(item)
        return {key: tuple(value) for key, value in grouped.items()}

    @computed_once
    def runbooks_by_key(self) -> dict[str, ResolvedRunbook]:
        """Runbooks by `<source>/<id>`, and by bare id where that is unambiguous."""
        found: dict[str, ResolvedRunbook] = {}
        bare: dict[str, list[ResolvedRunbook]] = {}
        for item in self.runbooks:
            found[runbook_key(item.runbook)] = item
            bare.setdefault(item.runbook.id, []).append(item)
        for key, items in bare.items():
            if len(items) == 1 and key not in found:
                found[key] = items[0]
        return found

    @computed_once
    def policy_by_service(self) -> dict[str, EscalationPolicy]:
        found: dict[str, EscalationPolicy] = {}
        for policy in self.policies:
            for name in policy.services:
                resolved = self.resolve(name)
                if resolved.id is not None:
                    found.setdefault(resolved.id, policy)
        return found

    @computed_once
    def policy_by_team(self) -> dict[str, EscalationPolicy]:
        found: dict[str, EscalationPolicy] = {}
        for policy in self.policies:
            for team in policy.teams:
                found.setdefault(self.team_names.key(team), policy)
        return found

    @computed_once
    def schedules_by_team(self) -> dict[str, tuple[Schedule, ...]]:
        grouped: dict[str, list[Schedule]] = {}
        for schedule in self.schedules.values():
            if schedule.team:
                grouped.setdefault(self.team_names.key(schedule.team), []).append(schedule)
        return {key: tuple(value) for key, value in grouped.items()}

    @computed_once
    def vendor_by_service(self) -> dict[str, Vendor]:
        found: dict[str, Vendor] = {}
        for vendor in self.vendors.values():
            for name in vendor.services:
                resolved = self.resolve(name)
                if resolved.id is not None:
                    found.setdefault(resolved.id, vendor)
        return found


def runbook_key(runbook: Runbook) -> str:
    return f"{runbook.provenance.source}/{runbook.id}"
