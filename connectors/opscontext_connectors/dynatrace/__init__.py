"""The `dynatrace` connector: Smartscape topology, Davis problems, change events and metrics (Environment API v2).

    connectors:
      - name: dynatrace
        type: dynatrace
        base_url: https://abc12345.live.dynatrace.com   # Managed: https://{host}/e/{environment-id}
        token: ${DYNATRACE_API_TOKEN}   # scopes entities.read, problems.read, events.read, metrics.read
        management_zone: prod           # optional: only this zone's services, problems and metrics
        tags: ["[Kubernetes]team:payments"]   # optional: only services carrying every tag

Reads, with `Authorization: Api-Token <token>`:
- topology: `GET /api/v2/entities` for the services the entity selector selects, with their
  `calls` relationships, over the window asked for (topology.py);
- alerts: `GET /api/v2/problems` for open problems of the last `problem_lookback_minutes`
  (problems.py);
- changes: `GET /api/v2/events`, one event type at a time (the event selector takes only one),
  then `GET /api/v2/entities` for the services those events' entities are or run on (events.py);
- metrics: `GET /api/v2/metrics/query` with the query's metric selector (metrics.py).

A service is named `dynatrace:<entityId>`, as catalogs annotate it
(`dynatrace.com/dynatrace-entity-id`); the name Dynatrace displays for it goes along, for
services no catalog annotates. Lists are paged by `nextPageKey`: later pages send that key
alone, as Dynatrace requires. A key seen before, or more than `max_pages` pages, ends a list
with a problem rather than a loop. Times are sent as UTC milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any, ClassVar

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator

from opscontext_mcp.model import Alert, Change, Dependency, Series
from opscontext_mcp.protocols import (
    Batch,
    Capability,
    ConnectorContext,
    ConnectorSettings,
    Health,
    HttpConnectorSettings,
    MetricQuery,
    Problem,
)

from ..http import HttpSource, UpstreamError, probe
from ..values import each, listed, text, utc_now
from .events import CHANGE_KINDS, ChangeEvent, event_key
from .metrics import query_params, series_from_result
from .problems import alerts_from_problem, problem_key
from .selectors import criterion, selectors_for_ids, services_selector
from .topology import RUNS_ON, TopologyReader, services_running_on
from .values import Stub, milliseconds

ENTITIES = "/api/v2/entities"
PROBLEMS = "/api/v2/problems"
EVENTS = "/api/v2/events"
METRICS = "/api/v2/metrics/query"
TOPOLOGY_FIELDS = "+fromRelationships,+toRelationships"
RUNS_ON_FIELDS = "+fromRelationships"
OPEN_PROBLEMS = 'status("open")'
MAX_BASE_SELECTOR_CHARS = 1000
"""The configured selector's share of Dynatrace's 2,000 characters; the rest carries entity ids."""

Params = Sequence[tuple[str, str | int]]


class DynatraceSettings(HttpConnectorSettings):
    token: SecretStr  # type: ignore[assignment]  # required here, optional for HTTP connectors at large
    entity_selector: str = 'type("SERVICE")'
    """Which entities are services (Dynatrace entity selector syntax, trusted as written)."""
    management_zone: str | None = None
    """Only this management zone's services, problems and metrics (by name)."""
    tags: list[str] = Field(default_factory=list)
    """Only services carrying every one of these tags, as Dynatrace writes them (`[Kubernetes]app:checkout`)."""
    problem_lookback_minutes: int = Field(default=120, ge=1, le=7 * 24 * 60)
    """Open problems are asked for over this much of the past."""
    change_event_types: list[str] = Field(default_factory=lambda: ["CUSTOM_DEPLOYMENT", "CUSTOM_CONFIGURATION"])
    """Event types read as changes: CUSTOM_DEPLOYMENT (deploy), CUSTOM_CONFIGURATION (config),
    MARKED_FOR_TERMINATION (infra)."""
    page_size: int = Field(default=200, ge=1, le=500)
    max_pages: int = Field(default=100, ge=1)
    """A guard against an upstream that never stops paging."""

    @field_validator("base_url")
    @classmethod
    def _the_environment_not_the_api(cls, url: AnyHttpUrl) -> AnyHttpUrl:
        if (url.path or "").rstrip("/").endswith(("/api/v2", "/api")):
            raise ValueError("give the environment URL (https://abc12345.live.dynatrace.com), without /api/v2")
        return url

    @field_validator("change_event_types")
    @classmethod
    def _known_change_types(cls, types: list[str]) -> list[str]:
        unknown = [name for name in types if name not in CHANGE_KINDS]
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not a change event type; use {', '.join(CHANGE_KINDS)}")
        return list(dict.fromkeys(types))

    @model_validator(mode="after")
    def _selector_fits(self) -> DynatraceSettings:
        if not self.entity_selector.strip():
            raise ValueError("entity_selector must not be empty")
        if len(self.services) > MAX_BASE_SELECTOR_CHARS:
            raise ValueError(f"entity_selector with zone and tags is longer than {MAX_BASE_SELECTOR_CHARS} characters")
        return self

    @property
    def services(self) -> str:
        return services_selector(self.entity_selector, self.management_zone, self.tags)


class DynatraceConnector:
    Settings: ClassVar[type[ConnectorSettings]] = DynatraceSettings
    capabilities = frozenset({Capability.TOPOLOGY, Capability.ALERTS, Capability.CHANGES, Capability.METRICS})

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        assert isinstance(settings, DynatraceSettings)
        self.name = settings.name
        self.settings = settings
        self.clock = context.now
        """Windows are measured from the analysis clock; provenance says when data was really fetched."""
        headers = {"Authorization": f"Api-Token {settings.token.get_secret_value()}", "Accept": "application/json"}
        self.http = HttpSource(settings, context, headers=headers)
        zone = settings.management_zone
        self.problem_selector = OPEN_PROBLEMS + (f",{criterion('managementZones', [zone])}" if zone else "")
        self.mz_selector = criterion("mzName", [zone]) if zone else None

    async def check(self) -> Health:
        async def services() -> str:
            params = [("entitySelector", self.settings.services), ("pageSize", 1)]
            body, _ = await self.http.get_json(ENTITIES, params=params)
            if not isinstance(body, dict) or not isinstance(body.get("entities"), list):
                raise UpstreamError(
                    f"GET {self.http.base_url}{ENTITIES}: expected an object whose `entities` is a list"
                )
            total = body.get("totalCount")
            return "token accepted" + (
                f", {total} services match the entity selector" if isinstance(total, int) else ""
            )

        return await probe(self.http.base_url, services)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_topology(self, since: datetime, until: datetime) -> Batch[Dependency]:
        reader = TopologyReader(source=self.name, fetched_at=utc_now(), problems=[])
        params = [
            ("entitySelector", self.settings.services),
            ("fields", TOPOLOGY_FIELDS),
            *self._window(since, until),
            ("pageSize", self.settings.page_size),
        ]
        return reader.read(await self._list(ENTITIES, "entities", params, reader.problems))

    async def fetch_alerts(self) -> Batch[Alert]:
        fetched_at = utc_now()
        now = self.clock()
        problems: list[Problem] = []
        params = [
            ("problemSelector", self.problem_selector),
            *self._window(now - timedelta(minutes=self.settings.problem_lookback_minutes), now),
            ("pageSize", self.settings.page_size),
        ]
        items = await self._list(PROBLEMS, "problems", params, problems)
        names: dict[str, str] = {}
        build = partial(
            alerts_from_problem, source=self.name, fetched_at=fetched_at, base_url=self.http.base_url, names=names
        )
        per_problem = each(items, "problems", problems, build, key=problem_key)
        return Batch(
            records=tuple(alert for alerts in per_problem for alert in alerts),
            problems=tuple(problems),
            service_names=tuple(names.items()),
        )

    async def fetch_changes(self, since: datetime, until: datetime) -> Batch[Change]:
        fetched_at = utc_now()
        problems: list[Problem] = []
        events: list[ChangeEvent] = []
        for event_type in self.settings.change_event_types:
            params = [
                ("eventSelector", criterion("eventType", [event_type])),
                *self._window(since, until),
                ("pageSize", self.settings.page_size),
            ]
            items = await self._list(EVENTS, "events", params, problems)
            read = each(items, "events", problems, partial(ChangeEvent.read, queried_type=event_type), key=event_key)
            # The API answers events overlapping the timeframe; a change is when it started.
            events += [event for event in read if since <= event.at <= until]
        names: dict[str, str] = {}
        services = await self._services_of((event.entity for event in events), since, until, problems, names)
        changes: list[Change] = []
        for event in events:
            found = services.get(event.entity.id)
            if found:
                changes += event.changes(found, self.name, fetched_at)
            elif not event.entity.is_service:  # a service outside the entity selector is simply not ours
                problems.append(
                    Problem(
                        location=f"events/{event.event_id}",
                        reason=f"no service the entity selector selects runs on {event.entity.id}"
                        + (f" ({event.entity.name})" if event.entity.name else ""),
                        severity="warning",
                    )
                )
        return Batch(records=tuple(changes), problems=tuple(problems), service_names=tuple(names.items()))

    async def query_metrics(self, query: MetricQuery) -> Batch[Series]:
        fetched_at = utc_now()
        problems: list[Problem] = []
        body, _ = await self.http.get_json(METRICS, params=query_params(query, self.mz_selector))
        result = body.get("result") if isinstance(body, dict) else None
        if not isinstance(result, list):
            raise UpstreamError(f"GET {self.http.base_url}{METRICS}: expected an object whose `result` is a list")
        for warning in listed(body.get("warnings")):
            if found := text(warning):
                problems.append(Problem(location=METRICS, reason=found[:300], severity="warning"))
        names: dict[str, str] = {}
        build = partial(series_from_result, source=self.name, fetched_at=fetched_at, problems=problems, names=names)
        per_metric = each(result, "result", problems, build, key=lambda item: text(item.get("metricId")))
        return Batch(
            records=tuple(series for found in per_metric for series in found),
            problems=tuple(problems),
            service_names=tuple(names.items()),
        )

    async def _services_of(
        self, entities: Iterable[Stub], since: datetime, until: datetime, problems: list[Problem], names: dict[str, str]
    ) -> dict[str, list[str]]:
        """For each entity: the selected services that are it or run on it, asked of Smartscape in few requests."""
        by_relation: dict[str | None, dict[str, None]] = {}
        for entity in entities:
            by_relation.setdefault(None if entity.is_service else RUNS_ON[entity.type], {})[entity.id] = None
        found: list[Any] = []
        for relation, ids in by_relation.items():
            for selector in selectors_for_ids(self.settings.services, relation, list(ids)):
                params = [
                    ("entitySelector", selector),
                    ("fields", RUNS_ON_FIELDS),
                    *self._window(since, until),
                    ("pageSize", self.settings.page_size),
                ]
                found += await self._list(ENTITIES, "entities", params, problems)
        return services_running_on(found, problems, names)

    @staticmethod
    def _window(since: datetime, until: datetime) -> list[tuple[str, int]]:
        return [("from", milliseconds(since)), ("to", milliseconds(until))]

    async def _list(self, path: str, key: str, params: Params, problems: list[Problem]) -> list[Any]:
        """Every page of a list; later pages send only `nextPageKey`, which stands for the whole query."""
        found: list[Any] = []
        seen: set[str] = set()
        request = params
        for _ in range(self.settings.max_pages):
            body, _ = await self.http.get_json(path, params=request)
            items = body.get(key) if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise UpstreamError(f"GET {self.http.base_url}{path}: expected an object whose `{key}` is a list")
            found += items
            page_key = body.get("nextPageKey")
            if page_key is None or page_key == "":
                return found
            if not isinstance(page_key, str):
                problems.append(_cut(path, f"Dynatrace sent {page_key!r:.40} as the next page key"))
                return found
            if page_key in seen:
                problems.append(_cut(path, f"Dynatrace sent the page key {page_key[:40]!r} again"))
                return found
            seen.add(page_key)
            request = [("nextPageKey", page_key)]
        problems.append(_cut(path, f"more than max_pages ({self.settings.max_pages}) pages"))
        return found


def _cut(path: str, why: str) -> Problem:
    return Problem(location=path, reason=f"{why}; paging stopped, the list may be incomplete")
