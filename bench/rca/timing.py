"""How long grouping and ranking take on a large estate: 5,000 alerts on a 10,000-service graph."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bench.rca.method import signals
from bench.rca.simulate import T0, Alert, simulate
from bench.rca.topologies import Graph, generated
from opscontext_mcp.analysis.rca import Evidence, Signal, analyse, group_signals

SERVICES = 10_000
MEAN_CALLEES = 5.7
"""About 50,000 edges."""
ALERTS = 5_000
SPREAD = timedelta(hours=24)
RUNS = 5


@dataclass(frozen=True)
class Timing:
    services: int
    edges: int
    alerts: int
    groups: int
    group_ms: float
    analyse_ms: float


def workload(graph: Graph) -> tuple[list[Signal], Evidence]:
    """Faults one after another over a day, each simulated as in the benchmark, until ALERTS alerts."""
    alerts: list[Alert] = []
    changes: dict[str, list[tuple[datetime, str]]] = {}
    edge_errors: dict[tuple[str, str], float] = {}
    seed = 0
    while len(alerts) < ALERTS:
        case = simulate(graph, seed, onset=T0 + SPREAD * ((seed * 0.618034) % 1.0))
        alerts.extend(case.alerts)
        for service, items in case.changes.items():
            changes.setdefault(service, []).extend(items)
        edge_errors.update({k: max(v, edge_errors.get(k, 0.0)) for k, v in case.edge_errors.items()})
        seed += 1
    return signals(alerts[:ALERTS]), Evidence(changes=changes, edge_errors=edge_errors)


def median_ms(run: Callable[[], object]) -> float:
    spent = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent)


def measure() -> Timing:
    graph = generated(SERVICES, seed=0, mean_callees=MEAN_CALLEES)
    found, evidence = workload(graph)
    return Timing(
        services=len(graph.services),
        edges=len(graph.edges),
        alerts=len(found),
        groups=len(group_signals(found, graph)),
        group_ms=median_ms(lambda: group_signals(found, graph)),
        analyse_ms=median_ms(lambda: analyse(found, graph, evidence)),
    )
