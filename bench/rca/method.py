"""The product's method on a simulated case: the same `rca.analyse` the active_alerts tool calls."""

from __future__ import annotations

from bench.rca.simulate import Alert, Case
from bench.rca.topologies import Graph
from opscontext_mcp.analysis.rca import Evidence, Signal, analyse
from opscontext_mcp.analysis.symptoms import is_internal_symptom


def signals(alerts: tuple[Alert, ...] | list[Alert]) -> list[Signal]:
    return [
        Signal(
            key=a.key,
            service=a.service,
            name=a.name,
            onset=a.onset,
            severity=a.severity,
            internal=is_internal_symptom(a.name),
        )
        for a in alerts
    ]


def evidence(case: Case) -> Evidence:
    return Evidence(changes=case.changes, edge_errors=case.edge_errors)


def ranking(case: Case, graph: Graph) -> list[str]:
    """The candidates of every group, in the order `analyse` returns the groups, first mention kept."""
    groups = analyse(signals(case.alerts), graph, evidence(case))
    return list(dict.fromkeys(c.service for group in groups for c in group.candidates))
