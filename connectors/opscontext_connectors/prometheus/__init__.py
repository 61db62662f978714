"""The `prometheus` connector: observed dependencies from servicegraph metrics, and PromQL queries.

    connectors:
      - name: prometheus
        type: prometheus
        base_url: http://prometheus:9090          # or a proxy's URL, path prefix included
        token: ${PROMETHEUS_TOKEN}                # optional: a bearer token; or username + password
        metric_prefix: traces_service_graph       # the collector exporter's namespace prepends to it
        matchers: ['deployment_environment="prod"']   # optional: only these servicegraph series

Topology: five instant queries (`POST /api/v1/query`, form-encoded, evaluated at the window's
end) over the OpenTelemetry Collector's servicegraph metrics, asked in parallel: requests and
failed requests per client → server edge (`increase()` over the window), and the p50/p95/p99
of the server-side latency histogram. Metrics: `POST /api/v1/query` for an instant,
`POST /api/v1/query_range` for a range. Health: `GET /api/v1/status/buildinfo`.

Prometheus knows services only by the names spans carried (`service.name`), so edges name them
so; the server's join resolves the names.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from opscontext_mcp.model import Dependency, Provenance, Series
from opscontext_mcp.protocols import (
    Batch,
    Capability,
    ConnectorContext,
    ConnectorSettings,
    Health,
    MetricQuery,
    Problem,
)

from ..http import BearerOrBasicSettings, HttpSource, bearer_or_basic, gather_bounded, probe
from ..values import mapping, text, utc_now
from .promql import graph_link, seconds, unix
from .results import Answer, read_answer, samples, warnings_of
from .servicegraph import SERIES, ServiceGraph, read_edges

INSTANT = "/api/v1/query"
RANGE = "/api/v1/query_range"
BUILD_INFO = "/api/v1/status/buildinfo"
POINTS_PER_RANGE = 250
"""Points a range query without a step asks for: enough for a chart, few enough for a reply."""
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


class PrometheusSettings(BearerOrBasicSettings):
    metric_prefix: str = "traces_service_graph"
    """Servicegraph metric names start with it; an exporter `namespace: x` makes it `x_traces_service_graph`."""
    matchers: list[str] = Field(default_factory=list)
    """PromQL label matchers every servicegraph series must meet, e.g. `cluster="prod"`."""

    @field_validator("metric_prefix")
    @classmethod
    def _prefix_is_a_metric_name(cls, prefix: str) -> str:
        if not _METRIC_NAME.fullmatch(prefix):
            raise ValueError(f"{prefix!r} is not the start of a metric name (letters, digits, _ and :)")
        return prefix

    @field_validator("matchers")
    @classmethod
    def _matchers_without_braces(cls, matchers: list[str]) -> list[str]:
        return [m.strip().removeprefix("{").removesuffix("}").strip() for m in matchers if m.strip()]

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> PrometheusSettings:
        if self.token is not None and self.username is not None:
            raise ValueError("give a token or username and password, not both")
        return self


class PrometheusConnector:
    Settings: ClassVar[type[ConnectorSettings]] = PrometheusSettings
    capabilities = frozenset({Capability.TOPOLOGY, Capability.METRICS})

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        assert isinstance(settings, PrometheusSettings)
        self.name = settings.name
        self.settings = settings
        headers, auth = bearer_or_basic(settings)
        self.http = HttpSource(settings, context, headers=headers, auth=auth)

    async def check(self) -> Health:
        async def build_info() -> str:
            body, _ = await self.http.get_json(BUILD_INFO)
            version = text(mapping(mapping(body).get("data")).get("version"))
            return f"Prometheus {version}" if version else "Prometheus answers, version unknown"

        return await probe(self.http.base_url, build_info)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_topology(self, since: datetime, until: datetime) -> Batch[Dependency]:
        if until <= since:
            raise ValueError(f"the window must end after it starts ({since.isoformat()} → {until.isoformat()})")
        fetched_at = utc_now()
        graph = ServiceGraph(
            prefix=self.settings.metric_prefix,
            matchers=tuple(self.settings.matchers),
            window_seconds=(until - since).total_seconds(),
        )
        queries = graph.queries()

        async def ask(name: str) -> Answer:
            return await self._ask(INSTANT, {"query": queries[name], "time": unix(until)})

        answers = await gather_bounded(queries, ask)
        found: dict[str, Answer] = {}
        problems: list[Problem] = []
        for name, answer in answers.items():
            if isinstance(answer, Exception):
                if name == "requests":  # without it there is no edge to serve
                    raise answer
                # Errors or a latency quantile missing still leaves the edges and the rest of their stats.
                where = f"{graph.prefix}_{SERIES[name]}"
                problems.append(Problem(location=where, reason=f"{name} unknown: {answer}", severity="warning"))
                continue
            found[name] = answer
            problems.extend(p for p in warnings_of(answer, INSTANT) if p not in problems)
        return read_edges(graph, found, since, until, lambda expr: self._provenance(expr, fetched_at), problems)

    async def query_metrics(self, query: MetricQuery) -> Batch[Series]:
        fetched_at = utc_now()
        if query.range is None:
            path, form = INSTANT, {"query": query.expr, "time": unix(query.at)}
        else:
            path, form = RANGE, {"query": query.expr, **_range_form(query.at, query.range, query.step)}
        answer = await self._ask(path, form)
        problems: list[Problem] = warnings_of(answer, path)
        provenance = self._provenance(query.expr, fetched_at)
        series = tuple(
            Series(labels=sample.labels, points=sample.points, provenance=provenance)
            for sample in samples(answer, "series", problems)
        )
        return Batch(records=series, problems=tuple(problems))

    async def _ask(self, path: str, form: dict[str, str]) -> Answer:
        """POST, because a servicegraph query or a user's PromQL can outgrow a URL."""
        body, _ = await self.http.request_json("POST", path, data=form)
        return read_answer(body, f"POST {self.http.base_url}{path}")

    def _provenance(self, expr: str, fetched_at: datetime) -> Provenance:
        return Provenance(source=self.name, fetched_at=fetched_at, ref=graph_link(self.http.base_url, expr))


def _range_form(at: datetime, span: timedelta, step: timedelta | None) -> dict[str, str]:
    """Points over (at - span, at], `step` apart; without a step, about POINTS_PER_RANGE of them, at least 1 s apart."""
    if span <= timedelta(0):
        raise ValueError(f"a range query needs a positive range, got {span}")
    if step is not None and step <= timedelta(0):
        raise ValueError(f"a range query needs a positive step, got {step}")
    every = step.total_seconds() if step is not None else max(1, math.ceil(span.total_seconds() / POINTS_PER_RANGE))
    # Prometheus includes the start; one step later keeps the first point inside the range.
    start = min(at - span + timedelta(seconds=every), at)
    return {"start": unix(start), "end": unix(at), "step": seconds(every)}
