"""Spans and metrics, asked of the connectors when an answer needs them.

Neither lives in the snapshot: spans are many, and an SLO's windows end now. Each ask is bounded
by the source's fetch timeout; a source that fails or is too slow leaves that measurement
unavailable, said in the answer, and never fails the call or another source's part of it.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import anyio

from opscontext_mcp.analysis.burn import Counts, duration_text
from opscontext_mcp.analysis.slo import (
    TRACE_LOOKBACK,
    Measurement,
    Unmeasurable,
    promql,
    trace_measurement,
    trace_spec,
    windows_for,
)
from opscontext_mcp.cache import redact
from opscontext_mcp.model import SLO, Indicator, MetricSource
from opscontext_mcp.protocols import Batch, Capability, Connector, MetricQuery
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.traces import Span

T = TypeVar("T")

THRESHOLD_STEP = timedelta(minutes=1)
"""The slice a threshold SLI is judged on: the share of minutes the metric met its objective."""
MAX_POINTS = 10_000
"""Points one range query may ask for per series (Prometheus refuses more than 11,000)."""
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
}


@dataclass(frozen=True)
class Asked(Generic[T]):
    """What one source answered, or why it did not."""

    source: str | None
    value: T | None = None
    error: str | None = None
    fetched_at: datetime | None = None
    problems: int = 0


@dataclass(frozen=True)
class SLOMeasurement:
    measurement: Measurement | None
    source: str | None
    source_type: str
    error: str | None = None
    fetched_at: datetime | None = None


def provider(
    runtime: Runtime,
    capability: Capability,
    kind: str | None = None,
    named: str | None = None,
    prefer: str | None = None,
) -> Connector | None:
    """The connector to ask: the one `named` (an OpenSLO metricSourceRef naming a connector), else one of
    type `kind`, the one called `prefer` first (the source the SLO came from)."""
    able = [c for c in runtime.connectors if capability in c.capabilities]
    if named is not None:
        match = [c for c in able if c.name == named]
        if match:
            return match[0]
    if kind is not None:
        types = {str(entry.get("name")): str(entry.get("type")) for entry in runtime.config.connectors}
        able = [c for c in able if types.get(c.name) == kind]
    able.sort(key=lambda c: c.name != prefer)
    return able[0] if able else None


async def ask(runtime: Runtime, connector: Connector, call: Callable[[], Awaitable[T]]) -> Asked[T]:
    deadline = runtime.cache.deadlines.get(connector.name, runtime.config.cache.fetch_timeout_seconds)
    try:
        with anyio.fail_after(deadline):
            value = await call()
    except TimeoutError:
        return Asked(connector.name, error=f"{connector.name} did not answer within {deadline:g} s")
    except Exception as exc:  # one source failing leaves its measurement unavailable, nothing more
        return Asked(connector.name, error=redact(f"{connector.name}: {type(exc).__name__}: {exc}")[:500])
    problems = len(value.problems) if isinstance(value, Batch) else 0
    return Asked(connector.name, value=value, fetched_at=datetime.now(UTC), problems=problems)


async def spans(runtime: Runtime, since: datetime, until: datetime, prefer: str | None = None) -> Asked[list[Span]]:
    """The spans of [since, until) from the trace source (`prefer` first)."""
    connector = provider(runtime, Capability.TRACES, prefer=prefer)
    if connector is None:
        return Asked(None, error="no configured source provides traces")
    fetch: Any = connector
    asked = await ask(runtime, connector, lambda: fetch.fetch_spans(since, until))
    if asked.value is None:
        return Asked(asked.source, error=asked.error)
    return Asked(asked.source, list(asked.value.records), fetched_at=asked.fetched_at, problems=asked.problems)


class SpanReads:
    """Spans read once per answer: the trace SLOs of one answer share the same window of the same source,
    and concurrent asks for it wait for the one read rather than each parsing it."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._found: dict[tuple[str | None, datetime, datetime], Asked[list[Span]]] = {}
        self._locks: dict[tuple[str | None, datetime, datetime], anyio.Lock] = {}

    async def read(self, since: datetime, until: datetime, prefer: str | None = None) -> Asked[list[Span]]:
        connector = provider(self.runtime, Capability.TRACES, prefer=prefer)
        key = (connector.name if connector else None, since, until)
        async with self._locks.setdefault(key, anyio.Lock()):
            if key not in self._found:
                self._found[key] = await spans(self.runtime, since, until, prefer)
        return self._found[key]


async def measure_slo(runtime: Runtime, slo: SLO, now: datetime, reads: SpanReads | None = None) -> SLOMeasurement:
    indicator = slo.indicator
    source = indicator.total or indicator.metric or indicator.good or indicator.bad or indicator.raw
    kind = source.type if source is not None else "unknown"
    try:
        if kind == "traces":
            return await _from_traces(reads or SpanReads(runtime), slo, now)
        if kind in ("prometheus", "dynatrace"):
            return await _from_metrics(runtime, slo, kind, now)
    except Unmeasurable as exc:
        return SLOMeasurement(None, None, kind, error=str(exc))
    return SLOMeasurement(None, None, kind, error=f"metric sources of type {kind!r} are not evaluated")


async def _from_traces(reads: SpanReads, slo: SLO, now: datetime) -> SLOMeasurement:
    spec = trace_spec(slo.indicator)
    windows = windows_for(slo)
    since = now - min(max(windows), TRACE_LOOKBACK)
    asked = await reads.read(since, now, prefer=slo.provenance.source)
    if asked.value is None:
        return SLOMeasurement(None, asked.source, "traces", error=asked.error)
    measurement = trace_measurement(slo, asked.value, spec, now)
    return SLOMeasurement(measurement, asked.source, "traces", fetched_at=asked.fetched_at)


async def _from_metrics(runtime: Runtime, slo: SLO, kind: str, now: datetime) -> SLOMeasurement:
    indicator = slo.indicator
    main = indicator.total or indicator.metric
    connector = provider(runtime, Capability.METRICS, kind=kind, named=main.ref if main else None)
    if connector is None:
        return SLOMeasurement(None, None, kind, error=f"no configured {kind} source provides metrics")
    windows = windows_for(slo)
    found: dict[timedelta, Counts] = {}
    failures: dict[timedelta, str] = {}

    async def one(window: timedelta) -> None:
        try:
            counts = await _window_counts(runtime, connector, indicator, kind, window, now)
        except Unmeasurable as exc:
            failures[window] = str(exc)
            return
        if counts is not None:
            found[window] = counts

    async with anyio.create_task_group() as group:
        for window in windows:
            group.start_soon(one, window)
    if failures and not found:
        return SLOMeasurement(None, connector.name, kind, error=next(iter(failures.values())))
    # A window that failed (a period too long for the upstream, say) leaves only its own tier unmeasured.
    notes = tuple(f"{duration_text(w)} not measured: {failures[w]}" for w in sorted(failures))
    return SLOMeasurement(Measurement(now, found, notes=notes), connector.name, kind, fetched_at=datetime.now(UTC))


async def _window_counts(
    runtime: Runtime, connector: Connector, indicator: Indicator, kind: str, window: timedelta, now: datetime
) -> Counts | None:
    metrics: Any = connector
    if indicator.kind == "threshold":
        assert indicator.metric is not None and indicator.op is not None and indicator.value is not None
        query = MetricQuery(_expression(indicator.metric, kind), at=now, range=window, step=threshold_step(window))
        asked = await ask(runtime, connector, lambda: metrics.query_metrics(query))
        if asked.value is None:
            raise Unmeasurable(asked.error or "no answer")
        values = [v for series in asked.value.records for _, v in series.points if math.isfinite(v)]
        compare, limit = _COMPARE[indicator.op], indicator.value
        return Counts(good=float(sum(compare(v, limit) for v in values)), total=float(len(values)))
    if indicator.raw is not None:
        raise Unmeasurable("raw (precomputed ratio) SLIs are not evaluated: give good or bad with total")
    assert indicator.total is not None
    counted = indicator.good if indicator.good is not None else indicator.bad
    assert counted is not None
    total = await _sum(runtime, connector, indicator.total, kind, window, now, indicator.counter)
    part = await _sum(runtime, connector, counted, kind, window, now, indicator.counter)
    if total is None or part is None:
        return None
    good = part if indicator.good is not None else total - part
    return Counts(good=max(min(good, total), 0.0), total=total)


async def _sum(
    runtime: Runtime,
    connector: Connector,
    source: MetricSource,
    kind: str,
    window: timedelta,
    now: datetime,
    counter: bool,
) -> float | None:
    """The events of one metric source over the window; None when the source has no data for it."""
    metrics: Any = connector
    if kind == "prometheus":
        query = MetricQuery(promql(source, window, counter), at=now)
    else:
        query = MetricQuery(_expression(source, kind), at=now, range=window)
    asked = await ask(runtime, connector, lambda: metrics.query_metrics(query))
    if asked.value is None:
        raise Unmeasurable(asked.error or "no answer")
    # PromQL answers one instant value per series, already the window's sum; Dynatrace a point per interval.
    values = [v for series in asked.value.records for _, v in series.points if math.isfinite(v)]
    return sum(values) if values else None


def threshold_step(window: timedelta) -> timedelta:
    """A minute, or as many whole minutes as keep the window within MAX_POINTS points."""
    return max(THRESHOLD_STEP, THRESHOLD_STEP * math.ceil(window / THRESHOLD_STEP / MAX_POINTS))


def _expression(source: MetricSource, kind: str) -> str:
    key = "query" if kind == "prometheus" else "metricSelector"
    expression = source.spec.get(key) or source.spec.get("query")
    if not isinstance(expression, str) or not expression.strip():
        raise Unmeasurable(f"a {kind} metric source needs spec.{key}")
    return expression
