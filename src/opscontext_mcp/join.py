"""Joining every source's latest payload into one snapshot: identity first, then the rest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import networkx as nx

from opscontext_mcp.identity import ServiceIndex, TeamNames
from opscontext_mcp.model import (
    SLO,
    Alert,
    Change,
    Dependency,
    DependencyKind,
    EntityKind,
    EscalationPolicy,
    Incident,
    Journey,
    Person,
    Runbook,
    Schedule,
    Service,
    System,
    Team,
    Vendor,
)
from opscontext_mcp.snapshot import (
    Edge,
    OwnerClaim,
    ResolvedAlert,
    ResolvedChange,
    ResolvedIncident,
    ResolvedJourney,
    ResolvedRunbook,
    ResolvedSLO,
    ServiceEntry,
    Snapshot,
    SourceProblem,
    SourceStatus,
    Unresolved,
)

T = TypeVar("T")


@dataclass
class SnapshotInputs:
    """The latest usable payload of every (source, capability), in config precedence order."""

    built_at: datetime
    aliases: dict[str, list[str]] = field(default_factory=dict)
    team_aliases: dict[str, list[str]] = field(default_factory=dict)
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
    incidents: list[Incident] = field(default_factory=list)
    slos: list[SLO] = field(default_factory=list)
    journeys: list[Journey] = field(default_factory=list)
    service_names: list[tuple[str, str, str]] = field(default_factory=list)
    """(source, service ref, the name that upstream gives it): the fallback for refs no catalog knows."""
    statuses: list[SourceStatus] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)


def build_snapshot(inputs: SnapshotInputs) -> Snapshot:
    """Join everything: identity first, then ownership, the graph and the resolved records."""
    join = _Join(inputs, team_names=TeamNames.from_config(inputs.team_aliases))
    join.register_catalogs()
    join.learn_service_refs()
    edges = join.resolve_edges()
    teams: dict[str, Team] = {}
    for team in inputs.teams:
        teams.setdefault(join.team_names.key(team.name), team)
    people: dict[str, Person] = {}
    for person in inputs.people:  # by name and by email: the first source to know someone describes them
        people.setdefault(person.name.lower(), person)
        if person.email:
            people.setdefault(person.email.lower(), person)
    entries = join.entries(teams, people)

    graph = nx.DiGraph()
    graph.add_nodes_from(entries)
    for (caller, callee), (declared, observed) in edges.items():
        graph.add_edge(caller, callee, edge=Edge(caller, callee, tuple(declared), tuple(observed)))

    runbooks = tuple(
        ResolvedRunbook(
            runbook,
            join.resolve_all(runbook.services, runbook.provenance.source, "runbook service", runbook.provenance.ref),
        )
        for runbook in inputs.runbooks
    )
    alerts = tuple(
        ResolvedAlert(
            alert, join.resolve(alert.service, alert.provenance.source, "alert service", alert.provenance.ref)
        )
        for alert in sorted(inputs.alerts, key=lambda a: (a.starts_at, a.name))
    )
    changes = tuple(
        ResolvedChange(
            change, join.resolve(change.service, change.provenance.source, "change service", change.provenance.ref)
        )
        for change in sorted(inputs.changes, key=lambda c: (c.at, c.id), reverse=True)
    )
    incidents = tuple(
        ResolvedIncident(
            incident,
            join.resolve_all(
                incident.services, incident.provenance.source, "incident service", incident.provenance.ref
            ),
        )
        for incident in sorted(inputs.incidents, key=lambda i: (i.opened_at, i.id), reverse=True)
    )
    join.check_oncall(teams, people)
    slos = tuple(
        ResolvedSLO(slo, join.resolve(slo.service, slo.provenance.source, "SLO service", slo.provenance.ref))
        for slo in inputs.slos
    )
    journeys = tuple(join.resolve_journey(journey, slos) for journey in inputs.journeys)

    return Snapshot(
        built_at=inputs.built_at,
        services=entries,
        graph=nx.freeze(graph),
        index=join.index,
        team_names=join.team_names,
        teams=teams,
        people=people,
        team_members=_team_members(teams, people, join.team_names),
        systems=_first_by(inputs.systems, lambda s: s.name.lower()),
        schedules=_first_by(inputs.schedules, lambda s: s.name),
        policies=tuple(inputs.policies),
        vendors=_first_by(inputs.vendors, lambda v: v.name),
        runbooks=runbooks,
        alerts=alerts,
        changes=changes,
        incidents=incidents,
        slos=slos,
        journeys=journeys,
        statuses=tuple(inputs.statuses),
        problems=tuple(inputs.problems),
        unresolved=tuple(dict.fromkeys(join.unresolved)),
        capabilities_present=frozenset(s.capability for s in inputs.statuses),
    )


def _owner_ref(ref: str) -> tuple[str, str]:
    """`group:default/Finance / Payments` → ("group", "Finance / Payments"): kind, then the name after the namespace.

    Only the first `/` ends the namespace; a CMDB group's name may hold more. A ref without a
    kind is a group, as in Backstage's `spec.owner`.
    """
    kind, colon, rest = ref.partition(":")
    if not colon:
        kind, rest = "group", ref
    namespace, slash, name = rest.partition("/")
    return kind.lower(), (name if slash else namespace).strip()


def _first_by(records: list[T], key: Callable[[T], str]) -> dict[str, T]:
    """Records by key, in order; where two share a key, the higher-precedence (earlier) one."""
    found: dict[str, T] = {}
    for record in records:
        found.setdefault(key(record), record)
    return found


def service_id_for(record: Service) -> str:
    name = record.name.lower()
    return name if record.namespace == "default" else f"{record.namespace}/{name}"


@dataclass
class _Join:
    inputs: SnapshotInputs
    team_names: TeamNames = field(default_factory=TeamNames)
    index: ServiceIndex = field(default_factory=ServiceIndex)
    records: dict[str, list[Service]] = field(default_factory=dict)
    kinds: dict[str, EntityKind] = field(default_factory=dict)
    unresolved: list[Unresolved] = field(default_factory=list)
    ref_names: dict[str, str] = field(default_factory=dict)
    """What upstreams call the services their refs point at, to name an unresolved ref readably."""

    def register_catalogs(self) -> None:
        """Every catalog record becomes a service, or joins one an earlier source already named."""
        pending = dict(self.inputs.aliases)
        sources = dict.fromkeys(r.provenance.source for r in self.inputs.services)
        for position, source in enumerate(sources):
            for record in (r for r in self.inputs.services if r.provenance.source == source):
                target = self._match_existing(record) if position else None
                if target is None:
                    target = service_id_for(record)
                    if target in self.records:
                        target = f"{record.kind.value}:{target}"
                self._register(target, record)
            self._apply_aliases(pending)
        self._apply_aliases(pending)
        for canonical in pending:
            self.unresolved.append(
                Unresolved("config", "alias", canonical, "aliases: no catalog service has this name")
            )

    def _register(self, service_id: str, record: Service) -> None:
        self.records.setdefault(service_id, []).append(record)
        self.kinds.setdefault(service_id, record.kind)
        source, index = record.provenance.source, self.index
        index.add(service_id, service_id, source, "id")
        index.add(service_id, record.name, source, "name")
        index.add(service_id, f"{record.kind.value}:{record.namespace}/{record.name}", source, "name", listed=False)
        if record.title:
            index.add(service_id, record.title, source, "name")
        for system, value in record.external_ids.items():
            index.add(service_id, value, source, "external-id")
            index.add(service_id, f"{system}:{value}", source, "external-id", listed=False)

    def learn_service_refs(self) -> None:
        """An upstream's own service ref (`pagerduty:P7XK2`) no catalog annotates joins the service its name names."""
        for source, ref, name in self.inputs.service_names:
            self.ref_names.setdefault(ref, name)
            if self.index.resolve(ref).id is None and (found := self.index.resolve(name).id) is not None:
                self.index.add(found, ref, source, "external-id", listed=False)

    def _apply_aliases(self, pending: dict[str, list[str]]) -> None:
        for canonical in list(pending):
            resolved = self.index.resolve(canonical)
            if resolved.id is not None:
                for name in pending.pop(canonical):
                    self.index.add(resolved.id, name, "config", "alias")

    def _match_existing(self, record: Service) -> str | None:
        """The service another source already gave this record, if any (never within one source)."""
        source = record.provenance.source
        names = [*(f"{system}:{value}" for system, value in record.external_ids.items()), record.name]
        if record.title:
            names.append(record.title)
        for name in names:
            resolved = self.index.resolve(name)
            if resolved.id is not None and all(r.provenance.source != source for r in self.records[resolved.id]):
                return resolved.id
        return None

    def resolve(self, name: str | None, source: str, what: str, ref: str | None) -> str | None:
        """The service `name` means, or None and a report of why not."""
        if not name:
            return None
        resolved = self.index.resolve(name)
        if resolved.id is None:
            reason = (
                f"ambiguous: matches {', '.join(resolved.ambiguous)}"
                if resolved.ambiguous
                else "matches no known service"
            )
            shown = f"{self.ref_names[name]} ({name})" if name in self.ref_names else name
            self.unresolved.append(Unresolved(source, what, shown, reason, ref))
        return resolved.id

    def resolve_all(self, names: tuple[str, ...], source: str, what: str, ref: str | None) -> tuple[str, ...]:
        found = (self.resolve(name, source, what, ref) for name in names)
        return tuple(sid for sid in dict.fromkeys(found) if sid is not None)

    def resolve_edges(self) -> dict[tuple[str, str], tuple[list[Dependency], list[Dependency]]]:
        """Edges by (caller, callee) with their declared and observed claims; telemetry may add services."""
        edges: dict[tuple[str, str], tuple[list[Dependency], list[Dependency]]] = {}
        for dependency in self.inputs.dependencies:
            caller = self._endpoint(dependency.caller, dependency)
            callee = self._endpoint(dependency.callee, dependency)
            if caller is None or callee is None or caller == callee:
                continue
            declared, observed = edges.setdefault((caller, callee), ([], []))
            (declared if dependency.kind == DependencyKind.DECLARED else observed).append(dependency)
        return edges

    def _endpoint(self, name: str, dependency: Dependency) -> str | None:
        resolved = self.index.resolve(name)
        if resolved.id is not None:
            return resolved.id
        if dependency.kind == DependencyKind.OBSERVED and not resolved.ambiguous:
            # Seen in telemetry, unknown to every catalog: still a node, reported as missing from the catalog.
            observed_id = name.lower()
            if observed_id not in self.kinds:
                self.kinds[observed_id] = EntityKind.OBSERVED
                self.index.add(observed_id, name, dependency.provenance.source, "id")
            return observed_id
        return self.resolve(name, dependency.provenance.source, "dependency", dependency.provenance.ref)

    def entries(self, teams: dict[str, Team], people: dict[str, Person]) -> dict[str, ServiceEntry]:
        entries = {}
        for service_id, kind in self.kinds.items():
            records = tuple(self.records.get(service_id, ()))
            entries[service_id] = ServiceEntry.merged(
                service_id, kind, records, self._owner_claims(service_id, records, teams, people)
            )
        return entries

    def _owner_claims(
        self, service_id: str, records: tuple[Service, ...], teams: dict[str, Team], people: dict[str, Person]
    ) -> tuple[OwnerClaim, ...]:
        claims = []
        for record in records:
            if record.owner is None:
                continue
            kind, name = _owner_ref(record.owner)
            person = people.get(name.lower()) if kind == "user" else None
            if person is not None:
                name = person.name  # a CMDB names a user by email, a catalog by user name: one person
            key = (kind, self.team_names.key(name) if kind == "group" else name.lower())
            claims.append(OwnerClaim(ref=f"{kind}:{name}", kind=kind, name=name, key=key, provenance=record.provenance))
            known = person is not None or (kind == "group" and self.team_names.key(name) in teams)
            if not known:
                self.unresolved.append(
                    Unresolved(
                        record.provenance.source,
                        "owner",
                        record.owner,
                        f"owner of {service_id} is not defined in any catalog",
                        record.provenance.ref,
                    )
                )
        return tuple(claims)

    def check_oncall(self, teams: dict[str, Team], people: dict[str, Person]) -> None:
        """Report schedule, policy and vendor references to teams, people and services nobody defines."""
        schedules = {s.name for s in self.inputs.schedules}
        vendors = {v.name for v in self.inputs.vendors}
        for schedule in self.inputs.schedules:
            source, ref = schedule.provenance.source, schedule.provenance.ref
            if schedule.team and self.team_names.key(schedule.team) not in teams:
                self._missing(source, "schedule team", schedule.team, f"team of schedule {schedule.name}", ref)
            for user in sorted({s.user for s in schedule.shifts}):
                if user.lower() not in people:
                    self._missing(source, "on-call user", user, f"user on schedule {schedule.name}", ref)
        for policy in self.inputs.policies:
            source, ref = policy.provenance.source, policy.provenance.ref
            for team in policy.teams:
                if self.team_names.key(team) not in teams:
                    self._missing(source, "policy team", team, f"team of escalation policy {policy.name}", ref)
            self.resolve_all(policy.services, source, "policy service", ref)
            for level in policy.levels:
                for target in level.targets:
                    known = {
                        "schedule": target.name in schedules,
                        "vendor": target.name in vendors,
                        "user": target.name.lower() in people,
                        "team": self.team_names.key(target.name) in teams,
                    }[target.kind]
                    if not known:
                        self._missing(
                            source, f"escalation {target.kind}", target.name, f"target of policy {policy.name}", ref
                        )
        for vendor in self.inputs.vendors:
            self.resolve_all(vendor.services, vendor.provenance.source, "vendor service", vendor.provenance.ref)

    def resolve_journey(self, journey: Journey, slos: tuple[ResolvedSLO, ...]) -> ResolvedJourney:
        """Its entry service, and its SLO by name: one from the journey's own source first."""
        source, ref = journey.provenance.source, journey.provenance.ref
        named = sorted((s for s in slos if s.slo.name == journey.slo), key=lambda s: s.slo.provenance.source != source)
        if not named:
            self._missing(source, "journey SLO", journey.slo, f"SLO of journey {journey.name}", ref)
        entry = self.resolve(journey.entry, source, "journey entry", ref)
        return ResolvedJourney(journey, entry, named[0] if named else None)

    def _missing(self, source: str, what: str, name: str, role: str, ref: str | None) -> None:
        self.unresolved.append(Unresolved(source, what, name, f"{role} is not defined", ref))


def _team_members(teams: dict[str, Team], people: dict[str, Person], names: TeamNames) -> dict[str, tuple[str, ...]]:
    """Members per team, from the team's own list and from each person's memberships."""
    members: dict[str, list[str]] = {}
    for team in teams.values():
        members.setdefault(names.key(team.name), []).extend(m.lower() for m in team.members)
    for person in dict.fromkeys(people.values()):
        for team_name in person.teams:
            members.setdefault(names.key(team_name), []).append(person.name.lower())
    return {team: tuple(dict.fromkeys(names)) for team, names in members.items()}
