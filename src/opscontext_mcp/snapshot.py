"""The immutable joined view of every source at one moment, built from the sources' latest payloads."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any, Literal, TypeVar

import networkx as nx

from opscontext_mcp.identity import Resolution, ServiceIndex
from opscontext_mcp.model import (
    Alert,
    Change,
    Dependency,
    EntityKind,
    EscalationPolicy,
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
    provenance: Provenance


@dataclass(frozen=True)
class ServiceEntry:
    id: str
    kind: EntityKind
    records: tuple[Service, ...] = ()
    owner_claims: tuple[OwnerClaim, ...] = ()

    def _first(self, attribute: str) -> object | None:
        return next((getattr(r, attribute) for r in self.records if getattr(r, attribute) is not None), None)

    @property
    def title(self) -> str | None:
        return self._first("title")  # type: ignore[return-value]

    @property
    def description(self) -> str | None:
        return self._first("description")  # type: ignore[return-value]

    @property
    def tier(self) -> int | None:
        return self._first("tier")  # type: ignore[return-value]

    @property
    def type(self) -> str | None:
        return self._first("type")  # type: ignore[return-value]

    @property
    def lifecycle(self) -> str | None:
        return self._first("lifecycle")  # type: ignore[return-value]

    @property
    def system(self) -> str | None:
        return self._first("system")  # type: ignore[return-value]

    @property
    def vendor(self) -> str | None:
        return self._first("vendor")  # type: ignore[return-value]

    @property
    def owner(self) -> OwnerClaim | None:
        return self.owner_claims[0] if self.owner_claims else None

    @property
    def owner_conflicts(self) -> tuple[OwnerClaim, ...]:
        """Claims that disagree with the first (highest-precedence) one."""
        if not self.owner_claims:
            return ()
        first = self.owner_claims[0].ref
        return tuple(c for c in self.owner_claims[1:] if c.ref != first)


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
class ResolvedChange:
    change: Change
    service_id: str | None


T = TypeVar("T")


def computed_once(method: Callable[[Snapshot], T]) -> property:
    """A property computed once per snapshot data, kept across `with_statuses` copies."""
    name = method.__name__

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
    statuses: tuple[SourceStatus, ...]
    problems: tuple[SourceProblem, ...]
    unresolved: tuple[Unresolved, ...]
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
                found.setdefault(team.lower(), policy)
        return found

    @computed_once
    def schedules_by_team(self) -> dict[str, tuple[Schedule, ...]]:
        grouped: dict[str, list[Schedule]] = {}
        for schedule in self.schedules.values():
            if schedule.team:
                grouped.setdefault(schedule.team.lower(), []).append(schedule)
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


@dataclass
class SnapshotInputs:
    """The latest usable payload of every (source, capability), in config precedence order."""

    built_at: datetime
    aliases: dict[str, list[str]] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    systems: list[System] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    policies: list[EscalationPolicy] = field(default_factory=list)
    vendors: list[Vendor] = field(default_factory=list)
    runbooks: list[Runbook] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    statuses: list[SourceStatus] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)


def service_id_for(record: Service) -> str:
    name = record.name.lower()
    return name if record.namespace == "default" else f"{record.namespace}/{name}"


def build_snapshot(inputs: SnapshotInputs) -> Snapshot:
    """Join everything: identity first, then ownership, the graph and per-service indices."""
    index = ServiceIndex()
    entries: dict[str, ServiceEntry] = {}
    unresolved: list[Unresolved] = []
    records_by_id: dict[str, list[Service]] = {}
    kinds: dict[str, EntityKind] = {}

    def register(service_id: str, record: Service) -> None:
        records_by_id.setdefault(service_id, []).append(record)
        kinds.setdefault(service_id, record.kind)
        source = record.provenance.source
        index.add(service_id, service_id, source, "id")
        index.add(service_id, record.name, source, "name")
        index.add(service_id, f"{record.kind.value}:{record.namespace}/{record.name}", source, "name", listed=False)
        if record.title:
            index.add(service_id, record.title, source, "name")
        for system, value in record.external_ids.items():
            index.add(service_id, value, source, "external-id")
            index.add(service_id, f"{system}:{value}", source, "external-id", listed=False)

    pending_aliases = dict(inputs.aliases)

    def apply_aliases() -> None:
        for canonical in list(pending_aliases):
            resolved = index.resolve(canonical)
            if resolved.id is not None:
                for name in pending_aliases.pop(canonical):
                    index.add(resolved.id, name, "config", "alias")

    for position, source in enumerate(dict.fromkeys(r.provenance.source for r in inputs.services)):
        for record in (r for r in inputs.services if r.provenance.source == source):
            target = _match_existing(index, record, records_by_id) if position else None
            if target is None:
                target = service_id_for(record)
                if target in records_by_id:
                    target = f"{record.kind.value}:{target}"
            register(target, record)
        apply_aliases()
    apply_aliases()
    for canonical in pending_aliases:
        unresolved.append(Unresolved("config", "alias", canonical, "aliases: no catalog service has this name"))

    def resolve_or_report(name: str | None, source: str, what: str, ref: str | None) -> str | None:
        if not name:
            return None
        resolved = index.resolve(name)
        if resolved.id is None:
            reason = (
                f"ambiguous: matches {', '.join(resolved.ambiguous)}"
                if resolved.ambiguous
                else "matches no known service"
            )
            unresolved.append(Unresolved(source, what, name, reason, ref))
        return resolved.id

    edges: dict[tuple[str, str], tuple[list[Dependency], list[Dependency]]] = {}
    for dependency in inputs.dependencies:
        ends = []
        for name in (dependency.caller, dependency.callee):
            resolved = index.resolve(name)
            if resolved.id is None and dependency.kind == "observed" and not resolved.ambiguous:
                observed_id = name.lower()
                register_observed = observed_id not in records_by_id and observed_id not in kinds
                if register_observed:
                    kinds[observed_id] = EntityKind.OBSERVED
                    index.add(observed_id, name, dependency.provenance.source, "id")
                ends.append(observed_id)
            else:
                ends.append(
                    resolved.id
                    if resolved.id is not None
                    else resolve_or_report(name, dependency.provenance.source, "dependency", dependency.provenance.ref)
                )
        caller, callee = ends
        if caller is None or callee is None or caller == callee:
            continue
        declared, observed = edges.setdefault((caller, callee), ([], []))
        (declared if dependency.kind == "declared" else observed).append(dependency)

    teams: dict[str, Team] = {}
    for team in inputs.teams:
        teams.setdefault(team.name.lower(), team)
    people: dict[str, Person] = {}
    for person in inputs.people:
        people.setdefault(person.name.lower(), person)
    members: dict[str, list[str]] = {}
    for team in teams.values():
        members.setdefault(team.name.lower(), []).extend(m.lower() for m in team.members)
    for person in people.values():
        for team_name in person.teams:
            members.setdefault(team_name.lower(), []).append(person.name.lower())

    for service_id, records in records_by_id.items():
        claims = []
        for record in records:
            if record.owner is None:
                continue
            kind, _, rest = record.owner.partition(":")
            name = rest.rpartition("/")[2]
            claims.append(OwnerClaim(ref=f"{kind}:{name}", kind=kind, name=name, provenance=record.provenance))
            known = teams if kind == "group" else people if kind == "user" else {}
            if name not in known:
                unresolved.append(
                    Unresolved(
                        record.provenance.source,
                        "owner",
                        record.owner,
                        f"owner of {service_id} is not defined in any catalog",
                        record.provenance.ref,
                    )
                )
        entries[service_id] = ServiceEntry(service_id, kinds[service_id], tuple(records), tuple(claims))
    for service_id, kind in kinds.items():
        entries.setdefault(service_id, ServiceEntry(service_id, kind))

    graph = nx.DiGraph()
    graph.add_nodes_from(entries)
    for (caller, callee), (declared, observed) in edges.items():
        graph.add_edge(caller, callee, edge=Edge(caller, callee, tuple(declared), tuple(observed)))

    runbooks = tuple(
        ResolvedRunbook(
            runbook,
            tuple(
                sid
                for sid in dict.fromkeys(
                    resolve_or_report(name, runbook.provenance.source, "runbook service", runbook.provenance.ref)
                    for name in runbook.services
                )
                if sid is not None
            ),
        )
        for runbook in inputs.runbooks
    )
    alerts = tuple(
        ResolvedAlert(
            alert, resolve_or_report(alert.service, alert.provenance.source, "alert service", alert.provenance.ref)
        )
        for alert in sorted(inputs.alerts, key=lambda a: (a.starts_at, a.name))
    )
    changes = tuple(
        ResolvedChange(
            change, resolve_or_report(change.service, change.provenance.source, "change service", change.provenance.ref)
        )
        for change in sorted(inputs.changes, key=lambda c: (c.at, c.id), reverse=True)
    )
    _check_oncall_references(inputs, teams, people, resolve_or_report, unresolved)

    return Snapshot(
        built_at=inputs.built_at,
        services=entries,
        graph=nx.freeze(graph),
        index=index,
        teams=teams,
        people=people,
        team_members={team: tuple(dict.fromkeys(names)) for team, names in members.items()},
        systems={s.name.lower(): s for s in reversed(inputs.systems)},
        schedules={s.name: s for s in reversed(inputs.schedules)},
        policies=tuple(inputs.policies),
        vendors={v.name: v for v in reversed(inputs.vendors)},
        runbooks=runbooks,
        alerts=alerts,
        changes=changes,
        statuses=tuple(inputs.statuses),
        problems=tuple(inputs.problems),
        unresolved=tuple(_dedupe(unresolved)),
        capabilities_present=frozenset(s.capability for s in inputs.statuses),
    )


def _match_existing(index: ServiceIndex, record: Service, records_by_id: dict[str, list[Service]]) -> str | None:
    """The canonical service another source already gave this record, if any (never within one source)."""
    source = record.provenance.source
    names = [*(f"{system}:{value}" for system, value in record.external_ids.items()), record.name]
    if record.title:
        names.append(record.title)
    for name in names:
        resolved = index.resolve(name)
        if resolved.id is not None and all(r.provenance.source != source for r in records_by_id[resolved.id]):
            return resolved.id
    return None


def _check_oncall_references(inputs, teams, people, resolve_or_report, unresolved) -> None:  # type: ignore[no-untyped-def]
    schedule_names = {s.name for s in inputs.schedules}
    for schedule in inputs.schedules:
        source, ref = schedule.provenance.source, schedule.provenance.ref
        if schedule.team and schedule.team.lower() not in teams:
            unresolved.append(
                Unresolved(
                    source, "schedule team", schedule.team, f"team of schedule {schedule.name} is not defined", ref
                )
            )
        for user in {s.user for s in schedule.shifts}:
            if user.lower() not in people:
                unresolved.append(
                    Unresolved(source, "on-call user", user, f"user on schedule {schedule.name} is not defined", ref)
                )
    vendor_names = {v.name for v in inputs.vendors}
    for policy in inputs.policies:
        source, ref = policy.provenance.source, policy.provenance.ref
        for team in policy.teams:
            if team.lower() not in teams:
                unresolved.append(
                    Unresolved(
                        source, "policy team", team, f"team of escalation policy {policy.name} is not defined", ref
                    )
                )
        for name in policy.services:
            resolve_or_report(name, source, "policy service", ref)
        for level in policy.levels:
            for target in level.targets:
                known = {
                    "schedule": schedule_names,
                    "user": set(people),
                    "team": set(teams),
                    "vendor": vendor_names,
                }[target.kind]
                if (target.name.lower() if target.kind in ("user", "team") else target.name) not in known:
                    unresolved.append(
                        Unresolved(
                            source,
                            f"escalation {target.kind}",
                            target.name,
                            f"target of policy {policy.name} is not defined",
                            ref,
                        )
                    )
    for vendor in inputs.vendors:
        for name in vendor.services:
            resolve_or_report(name, vendor.provenance.source, "vendor service", vendor.provenance.ref)


def _dedupe(items: Iterable[Unresolved]) -> list[Unresolved]:
    return list(dict.fromkeys(items))
