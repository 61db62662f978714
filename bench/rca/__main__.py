"""Root-cause benchmark: our grouping and ranking against chance and four baselines, per topology.

    .venv/bin/python -m bench.rca                 # 200 seeded cases per topology, prints the tables
    .venv/bin/python -m bench.rca --write         # and records them in bench/rca/results.md
    .venv/bin/python -m bench.rca --cases 500

Cases come from our own simulator (bench/rca/simulate.py, assumptions in its docstring), not from
RCAEval: read the numbers as a regression check of the method on the failure modes we model.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from bench.rca import baselines, method
from bench.rca.score import Scores
from bench.rca.simulate import FAULTS, Case, simulate
from bench.rca.timing import measure
from bench.rca.topologies import FIXED, Graph, generated

RESULTS = Path(__file__).resolve().parent / "results.md"
TARGET_AC1 = 0.85
TARGET_AVG5 = 0.93
TARGET_MARGIN = 0.15
HELD_OUT = 200_000
"""First seed of the check set: the method was tuned on seeds 0–199 and 100000+, never on these."""
TARGET_GROUP_MS = 500.0


def graphs() -> list[Graph]:
    return [build() for build in FIXED.values()] + [generated(1000, seed) for seed in (0, 1)]


def evaluate(graph: Graph, cases: list[Case]) -> tuple[dict[str, Scores], dict[str, float]]:
    roots = [c.root for c in cases]
    rankers: dict[str, Callable[[Case, Graph], list[str]]] = {
        **baselines.BASELINES,
        "ours (rca.analyse)": method.ranking,
    }
    scores = {"chance": Scores.chance([_universe(c, graph) for c in cases])}
    rankings: dict[str, list[list[str]]] = {}
    for name, rank in rankers.items():
        rankings[name] = [rank(c, graph) for c in cases]
        scores[name] = Scores.of(rankings[name], roots)
    by_fault: dict[str, list[bool]] = defaultdict(list)
    for case, ranking in zip(cases, rankings["ours (rca.analyse)"], strict=True):
        by_fault[case.fault].append(ranking[:1] == [case.root])
    return scores, {fault: sum(hits) / len(hits) for fault, hits in by_fault.items()}


def best_baseline(scores: dict[str, Scores]) -> tuple[str, Scores]:
    """The baseline with the highest AC@1 (the first listed on a tie)."""
    return max(((k, v) for k, v in scores.items() if k in baselines.BASELINES), key=lambda item: item[1].ac1)


def _universe(case: Case, graph: Graph) -> tuple[int, bool]:
    services = baselines.universe(case, graph)
    return len(services), case.root in services


def report(cases_per_graph: int) -> str:
    started = time.perf_counter()
    out = [
        "# Root-cause benchmark (bench/rca)",
        "",
        f"`python -m bench.rca --cases {cases_per_graph}`: {cases_per_graph} seeded cases (seeds 0–{cases_per_graph - 1}) "
        "per topology. **The cases come from our own simulator** (bench/rca/simulate.py; its docstring lists every "
        "assumption), written alongside the method, which was tuned on it: the first changes came from reading misses "
        "on these seeds, the weights were then chosen on seeds 100000+. It is not RCAEval data; RCAEval and PRISM "
        "figures are not comparable with these.",
        "",
        "Metrics as RCAEval's: AC@k is the share of cases whose root is in the top k; Avg@5 is the mean of AC@1..AC@5. "
        "Chance is a uniformly random order of the baselines' candidate universe: the services that alerted plus what "
        "they call directly (0 when the root is outside it). The baselines rank that universe, ties in a seeded random "
        "order: alert count; worst severity, then anomaly; personalized PageRank as MicroRCA runs it, on the anomalous "
        "subgraph only (the alerting services and the calls among them, walked toward dependencies, restarting in "
        "proportion to summed anomaly), the rest of the universe after it; edge errors, the trace evidence alone "
        "(worst error ratio of calls into a service minus that of its own calls out, then alert count). Ours ranks the candidates of every group in the order `analyse` returns the groups (its candidates "
        "also include what a quiet candidate calls when calls into that one fail).",
        "",
    ]
    verdicts = []
    fault_rows = []
    held_rows: list[str] = []
    for graph in graphs():
        cases = [simulate(graph, seed) for seed in range(cases_per_graph)]
        scores, by_fault = evaluate(graph, cases)
        ours = scores["ours (rca.analyse)"]
        best_name, best = best_baseline(scores)
        out += [
            f"## {graph.name} ({len(graph.services)} services, {len(graph.edges)} edges; blind spot {cases[0].blind_spot})",
            "",
            "| method | AC@1 | AC@3 | Avg@5 |",
            "|---|---|---|---|",
            *(f"| {name} | {s.ac1:.3f} | {s.ac3:.3f} | {s.avg5:.3f} |" for name, s in scores.items()),
            "",
        ]
        met = (
            ours.ac1 >= TARGET_AC1 and ours.avg5 >= TARGET_AVG5 and round(ours.ac1 - best.ac1, 9) >= TARGET_MARGIN
        )  # shares of 200 cases: no float dust
        verdicts.append(
            f"| {graph.name} | {ours.ac1:.3f} | {ours.avg5:.3f} | {best_name} ({best.ac1:.3f}) "
            f"| {ours.ac1 - best.ac1:+.3f} | {'met' if met else 'NOT met'} |"
        )
        fault_rows.append(
            f"| {graph.name} | " + " | ".join(f"{by_fault.get(f, float('nan')):.2f}" for f in FAULTS) + " |"
        )
        held, _ = evaluate(graph, [simulate(graph, HELD_OUT + seed) for seed in range(cases_per_graph)])
        held_ours = held["ours (rca.analyse)"]
        held_name, held_best = best_baseline(held)
        held_rows.append(
            f"| {graph.name} | {held_ours.ac1:.3f} | {held_ours.avg5:.3f} | {held_name} ({held_best.ac1:.3f}) "
            f"| {held_ours.ac1 - held_best.ac1:+.3f} |"
        )
    out += [
        "## Our AC@1 per fault type",
        "",
        "| topology | " + " | ".join(FAULTS) + " |",
        "|---|" + "---|" * len(FAULTS),
        *fault_rows,
        "",
        f"## Against the targets (AC@1 ≥ {TARGET_AC1}, Avg@5 ≥ {TARGET_AVG5}, AC@1 ≥ best baseline + {TARGET_MARGIN})",
        "",
        "| topology | AC@1 | Avg@5 | best baseline (AC@1) | AC@1 − best baseline | verdict |",
        "|---|---|---|---|---|---|",
        *verdicts,
        "",
        f"## Held-out seeds ({HELD_OUT}–{HELD_OUT + cases_per_graph - 1}): nothing was tuned on these",
        "",
        "| topology | AC@1 | Avg@5 | best baseline (AC@1) | AC@1 − best baseline |",
        "|---|---|---|---|---|",
        *held_rows,
        "",
    ]
    timing = measure()
    out += [
        f"## Timing: {timing.alerts:,} alerts on a generated {timing.services:,}-service graph ({timing.edges:,} edges)",
        "",
        f"Faults simulated one after another over 24 h until {timing.alerts:,} alerts; {timing.groups} groups. "
        "Median of 5 runs.",
        "",
        "| step | median ms | target |",
        "|---|---|---|",
        f"| group_signals | {timing.group_ms:.0f} | ≤ {TARGET_GROUP_MS:.0f} ({'met' if timing.group_ms <= TARGET_GROUP_MS else 'NOT met'}) |",
        f"| analyse (grouping and ranking) | {timing.analyse_ms:.0f} | – |",
        "",
        "## Notes",
        "",
        "- A case's ranking is the groups' candidates in the product's group order: most severe first, raised "
        "one level per independent sign of an incident (alerts on several services, a change on the primary within "
        "the hour before, an internal and an external symptom both on it, calls into it failing), at most two; then "
        "largest, then best explained. A lone unrelated alert more severe than the incident by more than its signs "
        "still puts its own group first; on the 1,000-service graphs, where incidents are small, that is where "
        "most misses come from.",
        "- Victims are not clean: a quarter of them raise an internal saturation symptom (ConnectionPoolExhausted, "
        "ThreadPoolSaturated; the product's `is_internal_symptom` reads both as internal), and a fifth of affected "
        "callers fail more on calls into them than on their own calls out (requests making several calls to the "
        "failing dependency, or timing out on them). So neither PRISM's internal-symptom test nor the edge-error test "
        "alone singles out the root. After these were added, the method learnt one rule a responder uses: a service "
        "whose own calls out fail is waiting on something, so its saturated pools and the failures into it are not "
        "counted for it as a cause.",
        "- On the generated graphs personalized PageRank on the anomalous subgraph reaches AC@1 0.86–0.92: a margin "
        "of +0.15 over it would need AC@1 above 1.0, which no method can reach there. The verdict says NOT met all "
        "the same.",
        "- The edge-errors baseline sees the traces; none of the baselines sees changes; ours sees both. The margin "
        "over edge errors is what the rest of the method (position, onset order, symptoms, changes, grouping) adds to "
        "the trace evidence; the margin over all of them measures that in a world that behaves as the simulator says.",
        "- Latency is not in the edge evidence (error ratios only; the simulator counts slow calls as failed only "
        "for delay faults), so cpu faults with few failed calls lean on the internal symptom and onset order.",
        "",
        f"Machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs. Whole run: {time.perf_counter() - started:.0f} s.",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rca", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200, help="seeded cases per topology (default 200)")
    parser.add_argument("--write", action="store_true", help="record the tables in bench/rca/results.md")
    args = parser.parse_args(argv)
    text = report(args.cases)
    print(text)
    if args.write:
        RESULTS.write_text(text, encoding="utf-8")
        print(f"written to {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
