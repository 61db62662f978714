"""Records every connector maps its upstream into. Each carries its provenance.

Connectors fill these; the snapshot joins them. Field names follow DESIGN.md's
vocabulary, not any one upstream's. Every moment is timezone-aware: a naive time is
refused where the record is built, so one sloppy upstream cannot break comparisons.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Provenance(Record):
    """Which source said it, when it was fetched, and where in the source it lives."""

    source: str
    fetched_at: AwareDatetime
    ref: str | None = None
    """File path, URL or upstream id of the record, when the source has one."""

    @field_validator("fetched_at")
    @classmethod
    def _to_the_second(cls, value: datetime) -> datetime:
        return value.replace(microsecond=0)


class Sourced(Record):
    provenance: Provenance


class EntityKind(StrEnum):
    COMPONENT = "component"
    RESOURCE = "resource"
    OBSERVED = "observed"
    """Seen in telemetry or alerts, unknown to every catalog."""


class Link(Record):
    url: str
    title: str | None = None
    type: str | None = None


class Service(Sourced):
    """A deployable thing (Component) or a piece of infrastructure (Resource) a catalog knows."""

    name: str
    """The name in its source (Backstage `metadata.name`, CI name, …)."""
    kind: EntityKind = EntityKind.COMPONENT
    namespace: str = "default"
    title: str | None = None
    description: str | None = None
    type: str | None = None
    lifecycle: str | None = None
    tier: int | None = None
    owner: str | None = None
    """Owner reference as the source gave it (`team-x`, `group:default/team-x`, `user:jo`)."""
    system: str | None = None
    vendor: str | None = None
    tags: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    annotations: dict[str, str] = Field(default_factory=dict)
    external_ids: dict[str, str] = Field(default_factory=dict)
    """Other systems' ids for this service, keyed by system (`pagerduty`, `dynatrace`, …)."""


class Team(Sourced):
    name: str
    namespace: str = "default"
    title: str | None = None
    type: str | None = None
    email: str | None = None
    chat_channel: str | None = None
    parent: str | None = None
    members: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()


class Person(Sourced):
    name: str
    namespace: str = "default"
    display_name: str | None = None
    email: str | None = None
    phone: str | None = None
    teams: tuple[str, ...] = ()


class System(Sourced):
    name: str
    title: str | None = None
    owner: str | None = None
    domain: str | None = None


class DependencyKind(StrEnum):
    DECLARED = "declared"
    OBSERVED = "observed"


class TrafficStats(Record):
    """What telemetry saw on one edge over a window."""

    requests: int
    errors: int = 0
    window_start: AwareDatetime
    window_end: AwareDatetime
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None

    @property
    def error_ratio(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def rate_per_second(self) -> float:
        seconds = (self.window_end - self.window_start).total_seconds()
        return self.requests / seconds if seconds > 0 else float(self.requests)


class Dependency(Sourced):
    """`caller` needs `callee` (edge caller → callee), by the names the source uses."""

    caller: str
    callee: str
    kind: DependencyKind
    relation: str = "dependsOn"
    """How the source expressed it: dependsOn, consumesApi:<api>, calls, messaging, database, …"""
    stats: TrafficStats | None = None


ChangeKind = Literal["deploy", "config", "feature_flag", "change_request", "infra"]


class Change(Sourced):
    id: str
    service: str
    kind: ChangeKind
    summary: str
    at: AwareDatetime
    author: str | None = None
    version: str | None = None
    link: str | None = None
    risk: str | None = None


AlertState = Literal["active", "suppressed", "unprocessed", "resolved"]


class Alert(Sourced):
    name: str
    service: str | None
    """The service the alert is about, by the label value it carried."""
    severity: str | None = None
    state: AlertState = "active"
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    fingerprint: str | None = None
    summary: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    link: str | None = None


class RunbookSection(Record):
    heading: str
    anchor: str
    text: str


class Runbook(Sourced):
    id: str
    """Stable id, unique within its source (for files: the path below runbooks/ without `.md`)."""
    title: str
    services: tuple[str, ...] = ()
    failure_modes: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    last_exercised: date | None = None
    owner: str | None = None
    summary: str = ""
    """The text before the first `##` section."""
    sections: tuple[RunbookSection, ...] = ()
    url: str | None = None


class Shift(Record):
    user: str
    start: AwareDatetime
    end: AwareDatetime


class Schedule(Sourced):
    name: str
    team: str | None = None
    shifts: tuple[Shift, ...] = ()


class EscalationTarget(Record):
    kind: Literal["schedule", "user", "team", "vendor"]
    name: str


class EscalationLevel(Record):
    after_minutes: int = Field(ge=0)
    targets: tuple[EscalationTarget, ...]


class EscalationPolicy(Sourced):
    name: str
    teams: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    levels: tuple[EscalationLevel, ...]


class VendorContact(Record):
    bridge: str | None = None
    phone: str | None = None
    support_portal: str | None = None
    email: str | None = None


class VendorEngagement(Record):
    unresolved_minutes: int | None = None
    primary_contributor_in: tuple[str, ...] = ()


class Vendor(Sourced):
    name: str
    services: tuple[str, ...] = ()
    contact: VendorContact = VendorContact()
    engage_when: VendorEngagement = VendorEngagement()


class Incident(Sourced):
    id: str
    title: str
    status: str
    """As the source words it (triggered, In Progress, …)."""
    open: bool = True
    severity: str | None = None
    services: tuple[str, ...] = ()
    opened_at: AwareDatetime
    resolved_at: AwareDatetime | None = None
    link: str | None = None


MetricValue = str | float | int | bool | list[str]


class MetricSource(Record):
    """Where one SLI query is read from: OpenSLO `metricSource`."""

    type: str
    """The source type, lower case (`prometheus`, `dynatrace`, `traces`, …); taken from the referenced
    DataSource when the SLI names one and gives no type of its own."""
    ref: str | None = None
    """`metricSourceRef`: the DataSource object it names, if any."""
    spec: dict[str, MetricValue] = Field(default_factory=dict)
    """Free-form per source type (`query:` for Prometheus; `service`, `span_name`, … for traces)."""


ComparisonOp = Literal["lt", "lte", "gt", "gte"]


class Indicator(Record):
    """An OpenSLO SLI: a ratio of events, or a metric compared with a threshold.

    A ratio has exactly one of the shapes OpenSLO allows: `good` + `total`, `bad` + `total`, or
    `raw` + `raw_type` (a precomputed ratio of successes or failures). A threshold has `metric`,
    and the objective's `op` and `value` (the SLI is good when `metric op value` holds).
    """

    name: str
    kind: Literal["ratio", "threshold"]
    good: MetricSource | None = None
    bad: MetricSource | None = None
    total: MetricSource | None = None
    raw: MetricSource | None = None
    raw_type: Literal["success", "failure"] | None = None
    counter: bool = False
    """The ratio's queries read monotonically increasing counters (OpenSLO `counter`)."""
    metric: MetricSource | None = None
    op: ComparisonOp | None = None
    value: float | None = None

    @model_validator(mode="after")
    def _one_openslo_shape(self) -> Indicator:
        counted = (self.good, self.bad, self.total)
        precomputed = (self.raw, self.raw_type)
        if self.kind == "ratio":
            if self.metric is not None or self.op is not None or self.value is not None:
                raise ValueError("a ratio indicator has no metric, op or value")
            with_total = self.total is not None and (self.good is None) != (self.bad is None)
            raw = all(part is not None for part in precomputed)
            if not ((with_total and precomputed == (None, None)) or (raw and counted == (None, None, None))):
                raise ValueError("a ratio indicator has good + total, bad + total, or raw + raw_type")
        else:
            if any(part is not None for part in (*counted, *precomputed)):
                raise ValueError("a threshold indicator has no good, bad, total or raw")
            if self.metric is None or self.op is None or self.value is None:
                raise ValueError("a threshold indicator needs metric, op and value")
        return self


BudgetingMethod = Literal["Occurrences", "Timeslices", "RatioTimeslices"]


class SLO(Sourced):
    """An OpenSLO v1 SLO with its indicator resolved and its first objective, as evaluation needs it."""

    name: str
    display_name: str | None = None
    description: str | None = None
    service: str
    """`spec.service` as written; resolution maps it to a canonical service."""
    target: float = Field(gt=0, lt=1)
    """The objective's `target`, or its `targetPercent` / 100."""
    objective: str | None = None
    """The objective's display name."""
    period: timedelta
    """The time window's duration. Shorthand units are m, h, d and w as such; a month (`M`) counts as
    30 days, a quarter (`Q`) as 90 days and a year (`Y`) as 365 days."""
    rolling: bool = True
    """`isRolling` as written. A calendar-aligned window keeps its start and zone below, but is
    evaluated as a rolling window of the same length ending now: the budget answers "over the last
    period", which is what matters during an incident, not "since the month began"."""
    calendar_start: AwareDatetime | None = None
    time_zone: str | None = None
    budgeting_method: BudgetingMethod = "Occurrences"
    time_slice_target: float | None = Field(default=None, gt=0, le=1)
    """Timeslices: the share of good events (or the threshold outcome) that makes a slice good."""
    time_slice_window: timedelta | None = None
    """Timeslices and RatioTimeslices: the length of one slice."""
    indicator: Indicator

    @model_validator(mode="after")
    def _slices_match_the_method(self) -> SLO:
        if self.period <= timedelta(0):
            raise ValueError("period must be positive")
        if self.budgeting_method == "Occurrences":
            if self.time_slice_target is not None or self.time_slice_window is not None:
                raise ValueError("Occurrences budgeting has no time slices")
        elif self.time_slice_window is None or self.time_slice_window <= timedelta(0):
            raise ValueError(f"{self.budgeting_method} budgeting needs a positive time_slice_window")
        elif self.budgeting_method == "Timeslices" and self.time_slice_target is None:
            raise ValueError("Timeslices budgeting needs a time_slice_target")
        return self


class Journey(Sourced):
    """A user journey: what users do, the service they enter by, and the SLO that measures it."""

    name: str
    entry: str
    """The entry service, by the name its source gives it."""
    slo: str
    """The OpenSLO name of the SLO measuring the journey."""
    description: str | None = None


class Series(Sourced):
    """One time series a metrics query returned: its labels and its points, oldest first."""

    labels: dict[str, str] = Field(default_factory=dict)
    points: tuple[tuple[AwareDatetime, float], ...] = ()


class StatusMessage(Record):
    channel: str | None = None
    text: str
    incident_id: str | None = None


class Delivery(Record):
    ok: bool
    ref: str | None = None
    error: str | None = None
