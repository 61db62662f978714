"""What the tools return. Field names are the documentation; schemas are kept compact on purpose."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model

from opscontext_mcp.model import Provenance


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def signature(model: type[BaseModel], depth: int = 0) -> str:
    """`{a, b: {c, d}, e: [{f}]}`: the keys of a nested record, compact enough for tools/list."""
    parts = []
    for name, info in model.model_fields.items():
        nested = _models_in(info.annotation)
        if not nested:
            parts.append(name)
            continue
        inner = signature(nested[0], depth + 1) if depth < 1 else "{…}"
        is_list = get_origin(info.annotation) is list or any(get_origin(a) is list for a in get_args(info.annotation))
        parts.append(f"{name}: [{inner}]" if is_list else f"{name}: {inner}")
    return "{" + ", ".join(parts) + "}"


def tidy(prop: dict[str, Any]) -> None:
    """No generated title, no null default, `anyOf [X, null]` folded into `type: [X, "null"]`."""
    prop.pop("title", None)
    if prop.get("default", 0) is None:
        del prop["default"]
    options = prop.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        other = next(o for o in options if o != {"type": "null"})
        if isinstance(other.get("type"), str):
            del prop["anyOf"]
            prop.update(other)
            prop["type"] = [other["type"], "null"]


def _compact(schema: dict[str, Any]) -> None:
    """A published shape without generated titles or null noise."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        tidy(prop)


class Reply(BaseModel):
    """Base of every tool answer; what tools/list shows of it is `published(...)`."""


@cache
def published(model: type[Reply]) -> type[BaseModel]:
    """The shape a tool publishes, and that the SDK checks its structured output against.

    The reply's own keys with their types; nested records as objects whose description names
    their keys. A deliberate trade: full nested schemas would triple tools/list (about 32 KB for
    seven tools), which clients pay on every connection. Tools build the full reply model, which
    validates everything, so checking nested records again on the way out would only cost time.
    """
    fields: dict[str, Any] = {}
    described_as: dict[type[BaseModel], str] = {}
    for name, info in model.model_fields.items():
        nested = _models_in(info.annotation)
        if not nested:
            fields[name] = (info.annotation, info)
            continue
        seen = described_as.setdefault(nested[0], name)
        is_list = get_origin(info.annotation) is list or any(get_origin(a) is list for a in get_args(info.annotation))
        shape: Any = list[dict[str, Any]] if is_list else dict[str, Any]
        if type(None) in get_args(info.annotation):
            shape = shape | None
        default = ... if info.is_required() else info.get_default(call_default_factory=True)
        description = signature(nested[0]) if seen == name else f"same keys as {seen}"
        fields[name] = (shape, Field(default, description=description, json_schema_extra=_plain_object))
    return create_model(model.__name__, __config__=ConfigDict(json_schema_extra=_compact), **fields)


def _plain_object(prop: dict[str, Any]) -> None:
    tidy(prop)
    prop.pop("additionalProperties", None)
    items = prop.get("items")
    if isinstance(items, dict):
        items.pop("additionalProperties", None)


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


class BlastRadiusReply(Reply):
    service: str
    total: int
    by_hop: dict[str, int]
    by_tier: dict[str, int]
    teams: dict[str, int]
    systems: list[str]
    dependents: list[ImpactedService]
    truncated: bool
    journeys: SectionNote
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
    summary: str | None = None
    link: str | None = None
    provenance: Provenance


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


class ServiceSummary(ServiceRef):
    description: str | None = None
    type: str | None = None
    lifecycle: str | None = None
    system: str | None = None
    domain: str | None = None
    vendor: str | None = None
    aliases: list[AliasView]
    provenance: list[Provenance]


class OwnershipSection(SectionNote):
    owner: OwnerView | None = None
    conflicts: list[OwnerView] = []
    on_call_now: list[OnCallView] = []
    on_call_next: list[OnCallView] = []
    escalation: EscalationView | None = None


class NeighbourSection(SectionNote):
    items: list[NeighbourView] = []
    total: int = 0
    truncated: bool = False


class ChangeSection(SectionNote):
    window_hours: float
    items: list[ChangeView] = []
    total: int = 0
    truncated: bool = False


class AlertSection(SectionNote):
    items: list[AlertView] = []
    total: int = 0
    truncated: bool = False


class IncidentSection(SectionNote):
    items: list[IncidentView] = []
    total: int = 0
    truncated: bool = False


class RunbookPick(SectionNote):
    best: RunbookMatch | None = None
    candidates: int = 0


class ServiceContextReply(Reply):
    service: ServiceSummary
    ownership: OwnershipSection
    dependencies: NeighbourSection
    dependents: NeighbourSection
    changes: ChangeSection
    alerts: AlertSection
    runbook: RunbookPick
    slo: SectionNote
    incidents: IncidentSection
    freshness: Freshness
