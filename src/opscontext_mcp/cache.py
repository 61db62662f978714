"""Snapshot cache: TTL refresh, single flight, and the last good data kept per source.

Every (connector, capability) pair is a feed. A refresh asks all feeds at once, each
bounded by a timeout; a feed that fails keeps serving its last good payload, marked
stale with the error, so one broken upstream never empties the others' answers. An
expired snapshot is served while one background refresh runs (when the server gave
the cache a task group), so a slow upstream never stalls a responder's call.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread

from opscontext_mcp.clock import Clock
from opscontext_mcp.config import AppConfig, CacheSettings
from opscontext_mcp.join import SnapshotInputs, build_snapshot
from opscontext_mcp.protocols import Batch, Capability, CatalogData, Connector, OnCallData, Problem, SLOData
from opscontext_mcp.snapshot import Snapshot, SourceProblem, SourceStatus

logger = logging.getLogger(__name__)

FETCHED_CAPABILITIES = (
    Capability.CATALOG,
    Capability.TOPOLOGY,
    Capability.CHANGES,
    Capability.ALERTS,
    Capability.ONCALL,
    Capability.RUNBOOKS,
    Capability.INCIDENTS,
    Capability.SLO,
)
"""Capabilities whose data lives in the snapshot; the others are called per request."""


@dataclass
class Feed:
    connector: Connector
    capability: Capability
    payload: Any = None
    fetched_at: datetime | None = None
    last_attempt_at: datetime | None = None
    error: str | None = None

    @property
    def status(self) -> str:
        if self.error is None:
            return "ok"
        return "stale" if self.payload is not None else "failed"


def _fetcher(feed: Feed, clock: Clock, settings: CacheSettings) -> Callable[[], Awaitable[Any]]:
    connector: Any = feed.connector
    now = clock.now()
    match feed.capability:
        case Capability.CATALOG:
            return connector.fetch_catalog
        case Capability.ONCALL:
            return connector.fetch_oncall
        case Capability.RUNBOOKS:
            return connector.fetch_runbooks
        case Capability.ALERTS:
            return connector.fetch_alerts
        case Capability.CHANGES:
            since = now - timedelta(hours=settings.change_lookback_hours)
            return lambda: connector.fetch_changes(since, now)
        case Capability.TOPOLOGY:
            since = now - timedelta(minutes=settings.telemetry_window_minutes)
            return lambda: connector.fetch_topology(since, now)
        case Capability.INCIDENTS:
            since = now - timedelta(hours=settings.incident_lookback_hours)
            return lambda: connector.fetch_incidents(since)
        case Capability.SLO:
            return connector.fetch_slos
    raise ValueError(f"{feed.capability} is not fetched into the snapshot")


_URL_SECRETS = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?:[^\s/@'\"<>]*@)?(?P<rest>[^\s?#'\"<>]*)(?:[?#][^\s'\"<>]*)?", re.I
)


def redact(text: str) -> str:
    """Error text safe to show in answers: URLs lose credentials, query strings and fragments."""
    return _URL_SECRETS.sub(lambda m: m.group("scheme") + m.group("rest"), text)


def _same_records(new: Any, old: Any) -> bool:
    """Whether two payloads hold the very same record objects (what an unchanged, memoised source returns)."""
    if new is old:
        return True
    if type(new) is not type(old) or not dataclasses.is_dataclass(new):
        return False
    for field in dataclasses.fields(new):
        mine, theirs = getattr(new, field.name), getattr(old, field.name)
        if not (isinstance(mine, tuple) and isinstance(theirs, tuple)):
            if mine is not theirs:
                return False
        elif len(mine) != len(theirs) or any(a is not b for a, b in zip(mine, theirs, strict=True)):
            return False
    return True


class SnapshotCache:
    def __init__(
        self,
        connectors: Sequence[Connector],
        settings: CacheSettings,
        clock: Clock,
        aliases: dict[str, list[str]] | None = None,
        team_aliases: dict[str, list[str]] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        prepare: Callable[[Snapshot], None] | None = None,
        deadlines: Mapping[str, float] | None = None,
    ) -> None:
        self.settings = settings
        self.deadlines = dict(deadlines or {})
        """Per connector name, how long one fetch may take; others get `settings.fetch_timeout_seconds`."""
        self.monotonic = monotonic
        self.prepare = prepare
        self.clock = clock
        self.aliases = aliases or {}
        self.team_aliases = team_aliases or {}
        self.feeds = [
            Feed(connector, capability)
            for connector in connectors
            for capability in FETCHED_CAPABILITIES
            if capability in connector.capabilities
        ]
        self._snapshot: Snapshot | None = None
        self._built_monotonic = -math.inf
        self._inflight: anyio.Event | None = None
        self._scheduled = False
        self._built_from: list[Any] = []
        self._task_groups: list[anyio.abc.TaskGroup] = []
        self.refresh_count = 0

    @classmethod
    def for_config(
        cls,
        connectors: Sequence[Connector],
        config: AppConfig,
        clock: Clock,
        prepare: Callable[[Snapshot], None] | None = None,
    ) -> SnapshotCache:
        return cls(
            connectors,
            config.cache,
            clock,
            config.aliases,
            team_aliases=config.team_aliases,
            prepare=prepare,
            deadlines={c.name: config.fetch_timeout(c.name) for c in connectors},
        )

    def attach(self, task_group: anyio.abc.TaskGroup) -> None:
        """Let expired snapshots refresh in the background of this task group."""
        self._task_groups.append(task_group)

    def detach(self, task_group: anyio.abc.TaskGroup) -> None:
        self._task_groups.remove(task_group)
        self._scheduled = False  # a refresh scheduled there may never have started

    @property
    def age_seconds(self) -> float:
        return self.monotonic() - self._built_monotonic

    async def get(self) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is None:
            return await self.refresh()
        if self.age_seconds >= self.settings.ttl_seconds:
            if self._task_groups:
                if self._inflight is None and not self._scheduled:
                    self._scheduled = True
                    self._task_groups[0].start_soon(self._refresh_quietly)  # the longest-lived group
            else:
                try:
                    return await self.refresh()
                except Exception:
                    logger.exception("snapshot refresh failed; serving the previous snapshot")
        return snapshot

    async def refresh(self) -> Snapshot:
        """Fetch every feed and rebuild; concurrent callers share one refresh."""
        while self._inflight is not None:
            await self._inflight.wait()
            if self._snapshot is not None and self.age_seconds < self.settings.ttl_seconds:
                return self._snapshot
        done = self._inflight = anyio.Event()
        try:
            await self._fetch_all()
            inputs = self._inputs()
            payloads = [feed.payload for feed in self.feeds]
            unchanged = len(payloads) == len(self._built_from) and all(
                _same_records(new, old) for new, old in zip(payloads, self._built_from, strict=True)
            )
            if self._snapshot is not None and unchanged:
                self._snapshot = self._snapshot.with_statuses(tuple(inputs.statuses), inputs.built_at)
            else:
                self._snapshot = await anyio.to_thread.run_sync(self._build, inputs)
                self._built_from = payloads
            self._built_monotonic = self.monotonic()
            self.refresh_count += 1
        finally:
            self._inflight = None
            done.set()
        return self._snapshot

    def _build(self, inputs: SnapshotInputs) -> Snapshot:
        # A snapshot is millions of long-lived objects. Left to the cyclic collector, every full
        # collection would walk all of them again (about a second on 10,000 services, stalling
        # whatever request triggers it). So the join runs with the collector off, and the result is
        # frozen out of future collections. Snapshots hold no reference cycles, so an old one is
        # freed by reference counting once replaced; unfreezing first lets anything cyclic that was
        # frozen last time be collected from now on.
        collecting = gc.isenabled()
        gc.unfreeze()
        gc.disable()
        try:
            snapshot = build_snapshot(inputs)
            if self.prepare is not None:
                self.prepare(snapshot)
        finally:
            if collecting:
                gc.enable()
                gc.freeze()
        return snapshot

    async def _refresh_quietly(self) -> None:
        try:
            self._scheduled = False
            await self.refresh()
        except Exception:
            logger.exception("background snapshot refresh failed; the previous snapshot keeps serving")

    async def _fetch_all(self) -> None:
        async with anyio.create_task_group() as group:
            for feed in self.feeds:
                group.start_soon(self._fetch, feed)

    async def _fetch(self, feed: Feed) -> None:
        fetch = _fetcher(feed, self.clock, self.settings)
        feed.last_attempt_at = datetime.now(UTC)
        deadline = self.deadlines.get(feed.connector.name, self.settings.fetch_timeout_seconds)
        try:
            with anyio.fail_after(deadline):
                payload = await fetch()
        except TimeoutError:
            feed.error = (
                f"the fetch did not finish within {deadline:g} s, every page and retry included (fetch_timeout_seconds)"
            )
        except Exception as exc:  # any upstream failure degrades this feed only
            feed.error = redact(f"{type(exc).__name__}: {exc}")[:500]
        else:
            feed.payload, feed.fetched_at, feed.error = payload, feed.last_attempt_at, None
            return
        logger.warning("source %s (%s) failed: %s", feed.connector.name, feed.capability, feed.error)

    def _inputs(self) -> SnapshotInputs:
        inputs = SnapshotInputs(built_at=datetime.now(UTC), aliases=self.aliases, team_aliases=self.team_aliases)
        for feed in self.feeds:
            payload = feed.payload
            problems: tuple[Problem, ...] = ()
            count = 0
            if isinstance(payload, CatalogData):
                inputs.services.extend(payload.services)
                inputs.teams.extend(payload.teams)
                inputs.people.extend(payload.people)
                inputs.systems.extend(payload.systems)
                inputs.dependencies.extend(payload.dependencies)
                problems, count = payload.problems, len(payload.services) + len(payload.teams) + len(payload.people)
            elif isinstance(payload, OnCallData):
                inputs.schedules.extend(payload.schedules)
                inputs.policies.extend(payload.policies)
                inputs.vendors.extend(payload.vendors)
                inputs.people.extend(payload.people)
                inputs.service_names.extend((feed.connector.name, *pair) for pair in payload.service_names)
                problems, count = (
                    payload.problems,
                    len(payload.schedules) + len(payload.policies) + len(payload.vendors),
                )
            elif isinstance(payload, SLOData):
                inputs.slos.extend(payload.slos)
                inputs.journeys.extend(payload.journeys)
                problems, count = payload.problems, len(payload.slos) + len(payload.journeys)
            elif isinstance(payload, Batch):
                target = {
                    Capability.TOPOLOGY: inputs.dependencies,
                    Capability.CHANGES: inputs.changes,
                    Capability.ALERTS: inputs.alerts,
                    Capability.RUNBOOKS: inputs.runbooks,
                    Capability.INCIDENTS: inputs.incidents,
                }[feed.capability]
                target.extend(payload.records)
                inputs.service_names.extend((feed.connector.name, *pair) for pair in payload.service_names)
                problems, count = payload.problems, len(payload.records)
            inputs.problems.extend(SourceProblem(feed.connector.name, feed.capability, p) for p in problems)
            inputs.statuses.append(
                SourceStatus(
                    source=feed.connector.name,
                    capability=feed.capability,
                    status=feed.status,  # type: ignore[arg-type]
                    fetched_at=feed.fetched_at,
                    last_attempt_at=feed.last_attempt_at,
                    error=feed.error,
                    records=count,
                    problems=len(problems),
                )
            )
        return inputs
