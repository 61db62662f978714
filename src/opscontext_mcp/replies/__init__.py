"""What the tools return. Field names are the documentation; schemas are kept compact on purpose."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from opscontext_mcp.model import Provenance
from opscontext_mcp.schemas import Reply

SectionStatus = Literal["ok", "empty", "degraded", "not_available"]


class SourceState(Reply):
    source: str
    capability: str
    status: Literal["ok", "stale", "failed"]
    fetched_at: datetime | None = None
    age_seconds: int | None = None
    error: str | None = None


class Freshness(Reply):
    """Which sources this answer consulted, how old their data is, and what is degraded."""

    as_of: datetime
    snapshot_age_seconds: int
    sources: list[SourceState]
    warnings: list[str] = []


class ServiceRef(Reply):
    id: str
    kind: str
    title: str | None = None
    tier: int | None = None
    owner: str | None = None


class AliasView(Reply):
    source: str
    name: str
    via: str


class ServiceMatch(ServiceRef):
    score: float
    matched: str
    via: str
    aliases: list[AliasView]


class FindServiceReply(Reply):
    query: str
    resolved: str | None = None
    """The canonical id when the query names exactly one service."""
    matches: list[ServiceMatch]
    freshness: Freshness


class PersonView(Reply):
    name: str
    display_name: str | None = None
    email: str | None = None
    phone: str | None = None


class TeamView(Reply):
    name: str
    title: str | None = None
    email: str | None = None
    chat_channel: str | None = None
    members: list[PersonView] = []
    members_total: int = 0


class OwnerView(Reply):
    kind: str
    name: str
    team: TeamView | None = None
    person: PersonView | None = None
    provenance: Provenance


class OnCallView(Reply):
    schedule: str
    person: PersonView
    start: datetime
    end: datetime
    provenance: Provenance


class TargetView(Reply):
    kind: str
    name: str
    display: str
    contact: str | None = None
    on_call: PersonView | None = None
    """For a schedule target: who holds it at the moment the level applies."""


class LevelView(Reply):
    level: int
    after_minutes: int
    targets: list[TargetView]


class EscalationView(Reply):
    policy: str
    levels: list[LevelView]
    provenance: Provenance


class OwnershipReply(Reply):
    service: ServiceRef
    owner: OwnerView | None = None
    conflicts: list[OwnerView]
    """Other sources' owners that disagree with `owner` (the highest-precedence source)."""
    on_call_now: list[OnCallView]
    on_call_next: list[OnCallView]
    escalation: EscalationView | None = None
    notes: list[str] = []
    freshness: Freshness


class ChangeView(Reply):
    id: str
    service: str
    kind: str
    summary: str
    at: datetime
    minutes_before_now: int
    hop: int | None = None
    """0 = the service itself, 1 = a direct dependency, …; null when no service was asked for."""
    path: list[str] = []
    author: str | None = None
    version: str | None = None
    risk: str | None = None
    link: str | None = None
    provenance: Provenance


class ChangesReply(Reply):
    service: str | None = None
    since: datetime
    until: datetime
    depth: int
    changes: list[ChangeView]
    total: int
    truncated: bool
    by_kind: dict[str, int]
    freshness: Freshness


class TrafficView(Reply):
    requests: int
    per_second: float
    error_ratio: float
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    window_start: datetime
    window_end: datetime
    source: str


class EdgeView(Reply):
    """One dependency edge. Its sources' fetch times are in the answer's freshness block."""

    declared: bool
    observed: bool
    relations: list[str]
    declared_in: list[str] = []
    """`source:ref` of every catalog entry that declares it."""
    observed_by: list[str] = []
    """Sources whose telemetry saw it."""
    traffic: TrafficView | None = None


class NeighbourView(ServiceRef):
    hop: int
    via: str | None = None
    """The service it is reached through, when hop > 1."""
    edge: EdgeView


class NeighboursReply(Reply):
    service: str
    depth: int
    dependencies: list[NeighbourView]
    dependencies_total: int
    dependents: list[NeighbourView]
    dependents_total: int
    truncated: bool
    freshness: Freshness


class ImpactedService(ServiceRef):
    hop: int
    path: list[str]


class SectionNote(Reply):
    status: SectionStatus
    note: str | None = None


class CarriedJourney(Reply):
    journey: str
    entry: str
    """The service users enter by: the one asked about, or something that depends on it."""
    hop: int
    slo: str | None = None


class JourneySection(SectionNote):
    items: list[CarriedJourney] = []


class BlastRadiusReply(Reply):
    service: str
    total: int
    by_hop: dict[str, int]
    by_tier: dict[str, int]
    teams: dict[str, int]
    systems: list[str]
    dependents: list[ImpactedService]
    truncated: bool
    journeys: JourneySection
    freshness: Freshness


class RunbookSectionView(Reply):
    heading: str
    anchor: str
    excerpt: str


class RunbookMatch(Reply):
    id: str
    uri: str
    title: str
    services: list[str]
    score: float
    reasons: list[str]
    section: RunbookSectionView | None = None
    owner: str | None = None
    last_exercised: date | None = None
    days_since_exercised: int | None = None
    stale: bool
    provenance: Provenance


class RunbookReply(Reply):
    service: str | None = None
    symptom: str | None = None
    alert: str | None = None
    matches: list[RunbookMatch]
    total: int
    truncated: bool
    freshness: Freshness


class AlertView(Reply):
    name: str
    service: str | None = None
    severity: str | None = None
    state: str
    starts_at: datetime
    minutes_firing: int
    hop: int | None = None
    summary: str | None = None
    silenced_by: list[str] | None = None
    inhibited_by: list[str] | None = None
    link: str | None = None
    group: int | None = None
    """The root-cause group it belongs to (see `groups`); none for a silenced or inhibited alert."""
    provenance: Provenance


class ContributorView(Reply):
    service: str
    score: float
    alerting: bool
    evidence: list[str]
    """Each reason, as the responder can check it."""
    change: str | None = None
    """The change shortly before it, when there was one."""


class AlertGroupView(Reply):
    """Firing alerts on connected services with onsets close together: one probable cause."""

    group: int
    started_at: datetime
    minutes_active: int
    severity: str | None = None
    alerts: int
    services: list[str]
    """Alerting services, earliest first."""
    primary_contributor: ContributorView | None = None
    other_candidates: list[ContributorView] = []
    candidates_total: int


class AlertsReply(Reply):
    service: str | None = None
    depth: int
    groups: list[AlertGroupView]
    groups_total: int
    alerts: list[AlertView]
    total: int
    truncated: bool
    firing: int
    suppressed: int
    by_service: dict[str, int]
    unresolved: int
    freshness: Freshness


class IncidentView(Reply):
    id: str
    title: str
    status: str
    open: bool
    severity: str | None = None
    opened_at: datetime
    minutes_open: int
    services: list[str]
    link: str | None = None
    provenance: Provenance
