"""Four baselines over the same alerts, graph and traces the method sees.

Each ranks the same candidate universe as the method's: the services that alerted plus what they
call directly. Ties break in a seeded random order (per case), so a baseline gains nothing from
service names. "Edge errors" is the trace evidence alone, which our method also weighs: beating it
is what shows the rest of the method adds anything.
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


def edge_errors(case: Case, graph: Graph) -> list[str]:
    """Calls into the service failing more than its own calls out, worst observed ratio of each (0 when
    unobserved); then most firing alerts."""
    into: dict[str, float] = {}
    out: dict[str, float] = {}
    for (caller, callee), ratio in case.edge_errors.items():
        into[callee] = max(ratio, into.get(callee, 0.0))
        out[caller] = max(ratio, out.get(caller, 0.0))
    counts = Counter(a.service for a in case.alerts)
    return _ranked(case, universe(case, graph), lambda s: (into.get(s, 0.0) - out.get(s, 0.0), counts[s]))


def personalized_pagerank(case: Case, graph: Graph) -> list[str]:
    """MicroRCA-style: the walk runs on the anomalous subgraph only, the alerting services and the calls
    among them, along caller → callee (anomalies propagate the other way, so the walk drifts toward
    dependencies), restarting at each service in proportion to its summed anomaly magnitude. The rest of
    the universe, which the walk never reaches, follows in the seeded tie order."""
    anomaly: Counter[str] = Counter()
    for alert in case.alerts:
        anomaly[alert.service] += alert.magnitude
    alerting = sorted(anomaly)
    edges = [(s, d) for s in alerting for d in graph.dependencies(s) if d in anomaly]
    rank = pagerank(alerting, edges, dict(anomaly))
    return _ranked(case, universe(case, graph), lambda s: (s in rank, rank.get(s, 0.0)))


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
    "edge errors": edge_errors,
}
