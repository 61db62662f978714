"""Observed edges from servicegraph metrics: the PromQL that reads them, and the edges it answers.

The names are those the OpenTelemetry Collector's servicegraph connector exports (Tempo's
metrics-generator uses the same): `<prefix>_request_total`, `<prefix>_request_failed_total`
and the `<prefix>_request_server_seconds` / `_client_seconds` histograms, labelled `client`,
`server` and `connection_type`. Over a window they are read with `increase()`, which
extrapolates to the window's edges, so counts are rounded and an edge that rounds to no
request is left out.

Uninstrumented peers appear as virtual nodes (`connection_type="virtual_node"`). A root server
span's caller is `user`: the outside world, not a service, so that edge is left out. A client
span without a server span names its peer from span attributes, or `unknown` when none does;
such an edge is reported, as nobody can say what it calls. The server of a virtual peer
never reported a duration, so latency on those edges is read from the client's histogram.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opscontext_mcp.model import Dependency, DependencyKind, Provenance, TrafficStats
from opscontext_mcp.protocols import Batch, Problem

from ..values import Skipped, each
from .promql import duration, matcher, selector
from .results import Answer, Sample, read_series, series_name

VIRTUAL_NODE = "virtual_node"
OUTSIDE_WORLD = "user"
UNNAMED_PEER = "unknown"
RELATIONS = {"database": "database", "messaging_system": "messaging"}
"""`connection_type` → Dependency.relation; every other kind of connection is a call."""
QUANTILES = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99}
SERIES = {
    "requests": "request_total",
    "errors": "request_failed_total",
    **{name: f"request_seconds {name[:3]}" for name in QUANTILES},
}
"""What each answer is called where its problems are filed."""
EDGE = "client, server"


@dataclass(frozen=True)
class ServiceGraph:
    """The servicegraph series of one deployment (`prefix`, extra `matchers`), read over `window_seconds`."""

    prefix: str
    matchers: tuple[str, ...]
    window_seconds: float

    def queries(self) -> dict[str, str]:
        """Every query a topology read asks, by what it answers."""
        by_connection = f"sum by ({EDGE}, connection_type)"
        found = {
            "requests": f"{by_connection} ({self._increase('request_total')})",
            "errors": f"{by_connection} ({self._increase('request_failed_total')})",
        }
        by_bucket = f"sum by ({EDGE}, le)"
        server = self._increase("request_server_seconds_bucket", f'connection_type!="{VIRTUAL_NODE}"')
        client = self._increase("request_client_seconds_bucket", f'connection_type="{VIRTUAL_NODE}"')
        for name, quantile in QUANTILES.items():
            found[name] = f"histogram_quantile({quantile}, {by_bucket} ({server}) or {by_bucket} ({client}))"
        return found

    def edge_query(self, client: str, server: str) -> str:
        """The requests on one edge over the window: what its provenance links to."""
        return f"sum({self._increase('request_total', matcher('client', client), matcher('server', server))})"

    def _increase(self, suffix: str, *extra: str) -> str:
        series = selector(f"{self.prefix}_{suffix}", (*self.matchers, *extra))
        return f"increase({series}[{duration(self.window_seconds)}])"


@dataclass
class _Tally:
    requests: float = 0.0
    errors: float = 0.0
    connections: set[str] = field(default_factory=set)
    latency: dict[str, float] = field(default_factory=dict)


def read_edges(
    graph: ServiceGraph,
    answers: Mapping[str, Answer],
    since: datetime,
    until: datetime,
    provenance: Callable[[str], Provenance],
    problems: list[Problem],
) -> Batch[Dependency]:
    """One observed dependency per client → server pair that saw requests; `provenance(expr)` stamps each.

    What cannot be read is added to `problems`, which the batch reports."""
    tallies: dict[tuple[str, str], _Tally] = {}
    # Only the requests answer names an edge; the others add to the edges it named, so a bad or
    # virtual pair is reported once, not once per query.
    for pair, sample in _edges_in(graph, answers, "requests", problems):
        tally = tallies.setdefault(pair, _Tally())
        tally.requests += sample.value
        tally.connections.add(sample.labels.get("connection_type", ""))
    for pair, sample in _edges_in(graph, answers, "errors", problems):
        if pair in tallies:
            tallies[pair].errors += sample.value
    for name in QUANTILES:
        for pair, sample in _edges_in(graph, answers, name, problems):
            if pair in tallies:
                tallies[pair].latency[name] = sample.value * 1000

    records = []
    for (client, server), tally in sorted(tallies.items()):
        requests = round(tally.requests)
        if requests <= 0:
            continue
        records.append(
            Dependency(
                caller=client,
                callee=server,
                kind=DependencyKind.OBSERVED,
                relation=_relation(tally.connections),
                stats=TrafficStats(
                    requests=requests,
                    errors=min(max(round(tally.errors), 0), requests),
                    window_start=since,
                    window_end=until,
                    **tally.latency,
                ),
                provenance=provenance(graph.edge_query(client, server)),
            )
        )
    return Batch(records=tuple(records), problems=tuple(problems))


def _edges_in(
    graph: ServiceGraph, answers: Mapping[str, Answer], name: str, problems: list[Problem]
) -> list[tuple[tuple[str, str], Sample]]:
    """The samples of one answer with the edge each is about; a bad value is a problem in any answer."""
    kind = f"{graph.prefix}_{SERIES[name]}"
    answer = answers.get(name)
    if answer is None:  # the query failed; the caller reported it
        return []
    if answer.result_type != "vector":
        problems.append(Problem(location=kind, reason=f"expected a vector, got a {answer.result_type}"))
        return []

    def build(item: dict[str, Any]) -> tuple[tuple[str, str], Sample] | None:
        sample = read_series(item, "vector")
        if sample is None:
            return None
        pair = _pair(sample, report=name == "requests")
        return None if pair is None else (pair, sample)

    return each(answer.result, kind, problems, build, key=series_name)


def _pair(sample: Sample, report: bool) -> tuple[str, str] | None:
    """The (client, server) a sample is about; None for the outside world; when `report`, why not a usable edge."""
    client, server = sample.labels.get("client"), sample.labels.get("server")
    virtual = sample.labels.get("connection_type") == VIRTUAL_NODE
    if virtual and client == OUTSIDE_WORLD:
        return None
    if not report:
        return (client, server) if client and server else None
    if not client or not server:
        raise ValueError("has no client or no server label")
    if virtual and server == UNNAMED_PEER:
        raise Skipped(f"{client} calls a peer its spans do not name; add peer.service or server.address to them")
    return client, server


def _relation(connections: set[str]) -> str:
    """An edge seen as a database or messaging connection is one, though some of its spans expired unpaired."""
    for connection, relation in RELATIONS.items():
        if connection in connections:
            return relation
    return "calls"
