"""Three baselines over the same alerts and graph the method sees.

Each ranks the same candidate universe as the method's: the services that alerted plus what they
call directly. Ties break in a seeded random order (per case), so a baseline gains nothing from
service names.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence

from bench.rca.simulate import Case
from bench.rca.topologies import Graph

SEVERITY = {"critical": 2, "warning": 1}


def universe(case: Case, graph: Graph) -> list[str]:
    """The alerting services and their direct dependencies, sorted."""
    alerting = {a.service for a in case.alerts}
    return sorted(alerting | {d for s in alerting for d in graph.dependencies(s)})


def _ranked(case: Case, services: Sequence[str], key: Callable[[str], tuple[float, ...]]) -> list[str]:
    order = random.Random(f"ties:{case.graph}:{case.seed}").sample(list(services), len(services))
    tiebreak = {s: i for i, s in enumerate(order)}
    return sorted(services, key=lambda s: (*(-v for v in key(s)), tiebreak[s]))


def alert_count(case: Case, graph: Graph) -> list[str]:
    """Most firing alerts first."""
    counts = Counter(a.service for a in case.alerts)
    return _ranked(case, universe(case, graph), lambda s: (counts[s],))


def max_severity(case: Case, graph: Graph) -> list[str]:
    """Worst severity first, then the largest anomaly."""
    worst: dict[str, tuple[int, float]] = {}
    for alert in case.alerts:
        mine = (SEVERITY.get(alert.severity, 1), alert.magnitude)
        worst[alert.service] = max(worst.get(alert.service, (0, 0.0)), mine)
    return _ranked(case, universe(case, graph), lambda s: worst.get(s, (0, 0.0)))


def personalized_pagerank(case: Case, graph: Graph) -> list[str]:
    """MicroRCA-style: anomalies propagate callee → caller; the walk goes back along caller → callee
    edges of the anomalous subgraph (the universe), restarting at each service in proportion to its
    summed anomaly magnitude."""
    services = universe(case, graph)
    inside = set(services)
    anomaly: Counter[str] = Counter()
    for alert in case.alerts:
        anomaly[alert.service] += alert.magnitude
    edges = [(s, d) for s in services for d in graph.dependencies(s) if d in inside]
    rank = pagerank(services, edges, dict(anomaly))
    return _ranked(case, services, lambda s: (rank[s],))


def pagerank(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str]],
    personalization: dict[str, float],
    alpha: float = 0.85,
    tolerance: float = 1e-6,
    max_iterations: int = 100,
) -> dict[str, float]:
    """networkx.pagerank's power iteration (dangling nodes restart by the personalization), written out
    because networkx runs it through scipy, which the project does not depend on."""
    n = len(nodes)
    total = sum(personalization.get(v, 0.0) for v in nodes)
    restart = {v: personalization.get(v, 0.0) / total if total else 1.0 / n for v in nodes}
    out: dict[str, list[str]] = {v: [] for v in nodes}
    for caller, callee in edges:
        out[caller].append(callee)
    rank = {v: 1.0 / n for v in nodes}
    for _ in range(max_iterations):
        dangling = alpha * sum(rank[v] for v in nodes if not out[v])
        step = {v: (1.0 - alpha + dangling) * restart[v] for v in nodes}
        for v in nodes:
            for w in out[v]:
                step[w] += alpha * rank[v] / len(out[v])
        if sum(abs(step[v] - rank[v]) for v in nodes) < n * tolerance:
            return step
        rank = step
    return rank


BASELINES: dict[str, Callable[[Case, Graph], list[str]]] = {
    "alert count": alert_count,
    "max severity, then anomaly": max_severity,
    "personalized PageRank": personalized_pagerank,
}
