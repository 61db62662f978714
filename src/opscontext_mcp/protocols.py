"""The connector contract: what a connector is, and what each capability provides.

A connector knows one upstream. It is registered under the entry-point group
`opscontext_mcp.connectors`; the entry point names a *connector type*: a class with
a `Settings` model (its slice of the config file) that is called with validated
settings and a `ConnectorContext` and returns a `Connector`. It then implements one
protocol per capability it lists in `capabilities`. Built-in connectors register
exactly this way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Generic, Literal, Protocol, TypeVar, runtime_checkable

import anyio
import httpx
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from opscontext_mcp.model import (
    SLO,
    Alert,
    Change,
    Delivery,
    Dependency,
    EscalationPolicy,
    Incident,
    Journey,
    Person,
    Runbook,
    Schedule,
    Series,
    Service,
    StatusMessage,
    System,
    Team,
    Vendor,
)
from opscontext_mcp.traces import Span

ENTRY_POINT_GROUP = "opscontext_mcp.connectors"


class Capability(StrEnum):
    CATALOG = "catalog"
    TOPOLOGY = "topology"
    CHANGES = "changes"
    ALERTS = "alerts"
    ONCALL = "oncall"
    RUNBOOKS = "runbooks"
    SLO = "slo"
    METRICS = "metrics"
    TRACES = "traces"
    INCIDENTS = "incidents"
    NOTIFY = "notify"
    NOTES = "notes"


class Problem(BaseModel):
    """A record a source could not use, and why. Reported, never fatal."""

    model_config = ConfigDict(frozen=True)

    location: str
    reason: str
    severity: Literal["warning", "error"] = "error"


RecordT = TypeVar("RecordT")


ServiceNames = tuple[tuple[str, str], ...]
"""(service ref, name) pairs: refs an upstream uses for services (`pagerduty:P7XK2`) and the name it
gives each. A ref that no catalog knows (no annotation carries it) joins the service its name names."""


@dataclass(frozen=True)
class Batch(Generic[RecordT]):
    records: tuple[RecordT, ...] = ()
    problems: tuple[Problem, ...] = ()
    service_names: ServiceNames = ()


@dataclass(frozen=True)
class CatalogData:
    services: tuple[Service, ...] = ()
    teams: tuple[Team, ...] = ()
    people: tuple[Person, ...] = ()
    systems: tuple[System, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class OnCallData:
    schedules: tuple[Schedule, ...] = ()
    policies: tuple[EscalationPolicy, ...] = ()
    vendors: tuple[Vendor, ...] = ()
    people: tuple[Person, ...] = ()
    """The on-call tool's view of the people it pages; joined to the catalog's by email."""
    problems: tuple[Problem, ...] = ()
    service_names: ServiceNames = ()


@dataclass(frozen=True)
class SLOData:
    slos: tuple[SLO, ...] = ()
    journeys: tuple[Journey, ...] = ()
    """User journeys and the SLO each is measured by; a journey may name an SLO another source serves."""
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str
    latency_ms: float | None = None


class ConnectorSettings(BaseModel):
    """The keys every connector entry in the config file has. Subclass per connector."""

    model_config = ConfigDict(extra="forbid")

    name: str
    type: str
    fetch_timeout_seconds: float | None = Field(default=None, gt=0)
    """How long one fetch from this source may take, every page and retry included; unset means
    `cache.fetch_timeout_seconds`. Raise it for an upstream that takes long to page through."""


class HttpConnectorSettings(ConnectorSettings):
    """The keys every HTTP connector shares. Secrets are `SecretStr`: never printed, logged or echoed."""

    base_url: AnyHttpUrl
    token: SecretStr | None = None
    """Bearer or API token, normally `${SOME_ENV_VAR}`."""
    username: str | None = None
    password: SecretStr | None = None
    timeout_seconds: float = Field(default=10, gt=0)
    """Per request."""
    retries: int = Field(default=3, ge=0, le=10)
    """Extra attempts after a 429, a 5xx or a network error, with backoff that honours Retry-After."""
    max_retry_wait_seconds: float = Field(default=10, ge=0)
    """The longest pause before a retry: backoff stops growing there, and a Retry-After asking for longer
    is not retried at all (retrying before the upstream allows it only spends the retries)."""
    verify_tls: bool = True

    @field_validator("base_url")
    @classmethod
    def _no_credentials_in_the_url(cls, url: AnyHttpUrl) -> AnyHttpUrl:
        if url.username or url.password:
            raise ValueError("must not carry credentials (they would show in messages); use username/password or token")
        return url

    @model_validator(mode="after")
    def _username_and_password_go_together(self) -> HttpConnectorSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together: give both or neither")
        return self


@dataclass(frozen=True)
class ConnectorContext:
    """What the server hands a connector besides its settings."""

    base_dir: Path
    """Directory relative paths in the config are resolved against."""
    transport: httpx.AsyncBaseTransport | None = None
    """The HTTP transport connectors' clients use; tests hand in one that a respx router serves."""
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    """How connectors wait between retries; tests hand in one that records instead of waiting."""
    now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731 - a default factory for a frozen field
    """The analysis clock: windows ("on call for the next 7 days") are measured from it. It is a fixed
    instant when an incident is replayed; `fetched_at` in provenance is always the real time."""


@runtime_checkable
class Connector(Protocol):
    name: str
    capabilities: frozenset[Capability]

    async def check(self) -> Health:
        """A cheap probe of the upstream: reachable, authorised, configured right."""
        ...

    async def aclose(self) -> None:
        """Release what the connector holds (HTTP pools, files). A later fetch may open them again."""
        ...


class ConnectorType(Protocol):
    Settings: ClassVar[type[ConnectorSettings]]

    def __call__(self, settings: ConnectorSettings, context: ConnectorContext) -> Connector: ...


@runtime_checkable
class CatalogProvider(Protocol):
    async def fetch_catalog(self) -> CatalogData: ...


@runtime_checkable
class TopologyProvider(Protocol):
    async def fetch_topology(self, since: datetime, until: datetime) -> Batch[Dependency]: ...


@runtime_checkable
class ChangeProvider(Protocol):
    async def fetch_changes(self, since: datetime, until: datetime) -> Batch[Change]: ...


@runtime_checkable
class AlertProvider(Protocol):
    async def fetch_alerts(self) -> Batch[Alert]: ...


@runtime_checkable
class OnCallProvider(Protocol):
    async def fetch_oncall(self) -> OnCallData: ...


@runtime_checkable
class RunbookProvider(Protocol):
    async def fetch_runbooks(self) -> Batch[Runbook]: ...


@runtime_checkable
class SLOProvider(Protocol):
    async def fetch_slos(self) -> SLOData: ...


@dataclass(frozen=True)
class MetricQuery:
    """A metrics query, asked when an answer needs it (metrics are not cached in the snapshot)."""

    expr: str
    """In the upstream's own language: PromQL for Prometheus, a metric selector for Dynatrace."""
    at: datetime
    """The evaluation time: the end of the range, or the instant."""
    range: timedelta | None = None
    """None asks for one value per series at `at`; otherwise points over (at - range, at]."""
    step: timedelta | None = None
    """Spacing of the points of a range query; the upstream's default resolution when None."""


@runtime_checkable
class MetricsProvider(Protocol):
    async def query_metrics(self, query: MetricQuery) -> Batch[Series]: ...


@runtime_checkable
class TraceProvider(Protocol):
    async def fetch_spans(self, since: datetime, until: datetime) -> Batch[Span]:
        """The spans overlapping [since, until), asked when an answer needs them (never cached in the snapshot)."""
        ...


@runtime_checkable
class IncidentProvider(Protocol):
    async def fetch_incidents(self, since: datetime) -> Batch[Incident]: ...


@runtime_checkable
class Notifier(Protocol):
    async def post_status(self, message: StatusMessage) -> Delivery: ...


@runtime_checkable
class NoteWriter(Protocol):
    async def add_note(self, ref: str, text: str) -> Delivery:
        """Add `text` to the upstream incident `ref` (a ServiceNow work note, a PagerDuty note); at most once."""
        ...


PROVIDER_PROTOCOLS: dict[Capability, type] = {
    Capability.CATALOG: CatalogProvider,
    Capability.TOPOLOGY: TopologyProvider,
    Capability.CHANGES: ChangeProvider,
    Capability.ALERTS: AlertProvider,
    Capability.ONCALL: OnCallProvider,
    Capability.RUNBOOKS: RunbookProvider,
    Capability.SLO: SLOProvider,
    Capability.METRICS: MetricsProvider,
    Capability.TRACES: TraceProvider,
    Capability.INCIDENTS: IncidentProvider,
    Capability.NOTIFY: Notifier,
    Capability.NOTES: NoteWriter,
}
"""Which protocol a connector listing a capability must implement; the registry checks it."""
