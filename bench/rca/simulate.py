"""A seeded fault simulator over a dependency graph: alerts, changes and edge error ratios per case.

This is our own simulator, written alongside the method it grades; it is not RCAEval data (none of
that can be fetched offline). It knows nothing of `opscontext_mcp.analysis.rca`: it says what a
monitoring stack would show, and the benchmark hands that to the method and the baselines alike.

Assumptions, per case (all draws from `random.Random(f"{graph}:{seed}")`):

- One fault in one service, the root, drawn uniformly over the graph; type drawn uniformly over
  cpu, mem, disk, delay, loss, socket, error. Strength s_root ~ U(0.7, 1.0).
- Propagation goes to callers, hop by hop (breadth first, each service reached once, so cycles end).
  A caller's strength is a_hop · max(affected callees' strength) · (1 + 0.25 · (k - 1)), capped at
  1, with a_hop ~ U(0.55, 0.85) and k its number of affected callees (fan-in amplification). A
  caller below 0.25 is not affected and does not pass the fault on.
- Onsets: the fault starts at t0; the root's alerts fire 0.5–3 min later (detection delay); each
  caller fires 1–4 min after the earliest affected callee it calls, so delays grow with hops.
- Alerts at the root: a resource fault (cpu, mem, disk, socket) raises its internal symptom
  (CPUThrottlingHigh, MemoryHigh, DiskFull, SocketExhaustion) and, 80 % of the time, an external
  one (latency or errors); delay raises LatencyHigh, loss and error raise ErrorRateHigh.
- Alerts at victims: an external one. LatencyHigh for delay and cpu, ErrorRateHigh for loss and
  error, either for the rest; an affected service nobody calls (an entry point) also burns its SLO
  (SLOBurnRateHigh, critical). Besides, with probability 0.25 a victim's requests pile up waiting
  on the failing dependency and it raises an internal saturation symptom of its own
  (ConnectionPoolExhausted or ThreadPoolSaturated, 0–3 min after its external alert, magnitude
  U(0.5, 1) of the external one's): so an internal symptom does not single out the root.
- Magnitude (a z-score) is U(3, 8) · strength, times 1 + 0.5 · (k - 1) at a caller with k affected
  callees: fan-in callers can be louder than the root. External alerts are critical above 5,
  warning below; internal ones critical above 6.
- Missing: each true alert is dropped with probability 0.2, but a case keeps at least one.
  Flapping: each kept alert fires a second time, 3–15 min later, with probability 0.1.
- Noise: round(0.2 · true alerts) extra alerts (before dropping), on random services, onset
  t0 ± 30 min, 40 % internal, magnitude and severity drawn as for true alerts.
- Blind spot: one service per graph (drawn from those with callers, seeded by the graph alone)
  never alerts and its own outgoing calls are not traced; if it is the root, only callers alert.
- Edge error ratios, per (caller, callee) edge, each observed with probability 0.8: calls into the
  root fail at a rate set by the fault (delay: calls over the latency objective count as failed)
  times s_root; calls into an affected caller inherit the worst of its affected callees' rates p
  times U(0.6, 0.9) (retries and fallbacks absorb some failures); every other edge 0–2 %. But with
  probability 0.2 an affected caller amplifies instead: each request it serves makes n ~ {2, 3, 4}
  calls to the failing dependency (or waits out a timeout on each) and fails if any does, so calls
  into it fail at 1 − (1 − p)^n, more than its own calls out: "calls in fail more than calls out"
  is not unique to the root.
- Changes: half the faults are change-induced, a deploy on the root 5–60 min before t0. Besides,
  2–5 unrelated changes on random services in the 6 h before the case is analysed (t0 + 30 min).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.rca.topologies import Graph

FAULTS = ("cpu", "mem", "disk", "delay", "loss", "socket", "error")
RESOURCE_FAULTS = {"cpu": "CPUThrottlingHigh", "mem": "MemoryHigh", "disk": "DiskFull", "socket": "SocketExhaustion"}
NOISE_INTERNAL = (*RESOURCE_FAULTS.values(), "PodRestarting", "ConnectionPoolSaturated")
SATURATION = ("ConnectionPoolExhausted", "ThreadPoolSaturated")
"""Internal symptoms a victim raises while its requests wait on a failing dependency."""
EXTERNAL = ("LatencyHigh", "ErrorRateHigh")
ROOT_ERROR_RATE = {
    "cpu": (0.03, 0.25),
    "mem": (0.05, 0.35),
    "disk": (0.05, 0.3),
    "delay": (0.1, 0.5),
    "loss": (0.15, 0.6),
    "socket": (0.1, 0.5),
    "error": (0.15, 0.6),
}
AFFECTED = 0.25
DROP = 0.2
NOISE = 0.2
FLAP = 0.1
VICTIM_SATURATED = 0.25
AMPLIFIED = 0.2
OBSERVED = 0.8
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ANALYSED_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class Alert:
    key: str
    service: str
    name: str
    onset: datetime
    severity: str
    magnitude: float
    internal: bool
    """The simulator's own truth: a symptom of the service's resources, not of what its users see."""
    origin: str
    """root, victim or noise."""


@dataclass(frozen=True)
class Case:
    graph: str
    seed: int
    root: str
    fault: str
    onset: datetime
    blind_spot: str
    alerts: tuple[Alert, ...]
    changes: dict[str, list[tuple[datetime, str]]]
    edge_errors: dict[tuple[str, str], float]
    strength: dict[str, float]
    """Every affected service (root included) → its fault strength."""
    true_alerts: int
    """True alerts raised before dropping (not counting flapping repeats)."""
    dropped: int
    noise: int

    @property
    def now(self) -> datetime:
        return self.onset + ANALYSED_AFTER


def blind_spot(graph: Graph) -> str:
    rng = random.Random(f"blind:{graph.name}")
    return rng.choice([s for s in graph.services if graph.dependents(s)])


def simulate(graph: Graph, seed: int, blind: str | None = None, onset: datetime = T0) -> Case:
    rng = random.Random(f"{graph.name}:{seed}")
    services = graph.services
    blind = blind_spot(graph) if blind is None else blind
    root = rng.choice(services)
    fault = rng.choice(FAULTS)
    strength, first_onset, callees_hit = _propagate(graph, root, rng, onset)

    raised: list[Alert] = []

    def raise_alert(service: str, name: str, at: datetime, size: float, internal: bool, origin: str) -> None:
        if service == blind:
            return
        severity = "critical" if size > (6.0 if internal else 5.0) else "warning"
        if name == "SLOBurnRateHigh":
            severity = "critical"
        key = f"{graph.name}:{seed}:{len(raised)}"
        raised.append(Alert(key, service, name, at, severity, round(size, 3), internal, origin))

    for service, at in sorted(first_onset.items(), key=lambda item: (item[1], item[0])):
        size = rng.uniform(3, 8) * strength[service] * (1 + 0.5 * (max(callees_hit[service], 1) - 1))
        if service == root:
            if fault in RESOURCE_FAULTS:
                raise_alert(service, RESOURCE_FAULTS[fault], at, size, True, "root")
                if rng.random() < 0.8:
                    raise_alert(service, _external(fault, rng), at + _minutes(rng, 0, 2), size, False, "root")
            else:
                raise_alert(service, _external(fault, rng), at, size, False, "root")
            continue
        raise_alert(service, _external(fault, rng), at, size, False, "victim")
        if not graph.dependents(service):
            raise_alert(service, "SLOBurnRateHigh", at + _minutes(rng, 0, 3), size, False, "victim")
        if rng.random() < VICTIM_SATURATED:
            saturated = size * rng.uniform(0.5, 1.0)
            raise_alert(service, rng.choice(SATURATION), at + _minutes(rng, 0, 3), saturated, True, "victim")

    true_alerts = len(raised)
    kept = [a for a in raised if rng.random() >= DROP]
    if not kept and raised:
        kept = [rng.choice(raised)]
    noise = round(NOISE * true_alerts + rng.random() - 0.5) if true_alerts else 0
    for _ in range(noise):
        service = rng.choice([s for s in services if s != blind])
        internal = rng.random() < 0.4
        name = rng.choice(NOISE_INTERNAL) if internal else rng.choice((*EXTERNAL, "SLOBurnRateHigh"))
        before = len(raised)
        raise_alert(
            service, name, onset + _minutes(rng, -30, 30), rng.uniform(3, 8) * rng.uniform(0.3, 1.0), internal, "noise"
        )
        kept.extend(raised[before:])
    flapping = [
        Alert(
            f"{a.key}:again",
            a.service,
            a.name,
            a.onset + _minutes(rng, 3, 15),
            a.severity,
            a.magnitude,
            a.internal,
            a.origin,
        )
        for a in kept
        if rng.random() < FLAP
    ]
    return Case(
        graph=graph.name,
        seed=seed,
        root=root,
        fault=fault,
        onset=onset,
        blind_spot=blind,
        alerts=tuple(sorted([*kept, *flapping], key=lambda a: (a.onset, a.key))),
        changes=_changes(services, root, rng, onset),
        edge_errors=_edge_errors(graph, fault, strength, first_onset, blind, rng),
        strength=strength,
        true_alerts=true_alerts,
        dropped=true_alerts - sum(1 for a in kept if a.origin != "noise"),
        noise=noise,
    )


def _propagate(
    graph: Graph, root: str, rng: random.Random, onset: datetime
) -> tuple[dict[str, float], dict[str, datetime], dict[str, int]]:
    strength = {root: rng.uniform(0.7, 1.0)}
    first_onset = {root: onset + _minutes(rng, 0.5, 3)}
    callees_hit = {root: 0}
    frontier = [root]
    while frontier:
        callers = sorted({c for s in frontier for c in graph.dependents(s) if c not in strength})
        reached = []
        for caller in callers:
            hit = [c for c in graph.dependencies(caller) if c in strength]
            worst = max(strength[c] for c in hit)
            value = min(1.0, rng.uniform(0.55, 0.85) * worst * (1 + 0.25 * (len(hit) - 1)))
            if value < AFFECTED:
                continue
            reached.append(caller)
            strength[caller] = value
            callees_hit[caller] = len(hit)
            first_onset[caller] = min(first_onset[c] for c in hit) + _minutes(rng, 1, 4)
        frontier = reached
    return strength, first_onset, callees_hit


def _edge_errors(
    graph: Graph,
    fault: str,
    strength: dict[str, float],
    first_onset: dict[str, datetime],
    blind: str,
    rng: random.Random,
) -> dict[tuple[str, str], float]:
    low, high = ROOT_ERROR_RATE[fault]
    failing: dict[str, float] = {}
    # A caller fires after every affected callee it inherits from, so onset order sets callees first.
    for service in sorted(first_onset, key=lambda s: (first_onset[s], s)):
        inherited = [failing[c] for c in graph.dependencies(service) if c in failing]
        if not inherited:
            failing[service] = rng.uniform(low, high) * strength[service]
        elif rng.random() < AMPLIFIED:
            failing[service] = 1.0 - (1.0 - max(inherited)) ** rng.randint(2, 4)
        else:
            failing[service] = max(inherited) * rng.uniform(0.6, 0.9)
    errors = {}
    for caller, callee in graph.edges:
        observed = rng.random() < OBSERVED
        background = rng.uniform(0.0, 0.02)
        if not observed or caller == blind:
            continue
        errors[(caller, callee)] = round(min(1.0, failing.get(callee, 0.0) + background), 4)
    return errors


def _changes(
    services: list[str], root: str, rng: random.Random, onset: datetime
) -> dict[str, list[tuple[datetime, str]]]:
    changes: dict[str, list[tuple[datetime, str]]] = {}
    if rng.random() < 0.5:
        changes.setdefault(root, []).append((onset - _minutes(rng, 5, 60), f"deploy-{rng.randrange(10**6)}"))
    now = onset + ANALYSED_AFTER
    for _ in range(rng.randint(2, 5)):
        changes.setdefault(rng.choice(services), []).append(
            (now - _minutes(rng, 0, 360), f"deploy-{rng.randrange(10**6)}")
        )
    return changes


def _external(fault: str, rng: random.Random) -> str:
    if fault in ("delay", "cpu"):
        return "LatencyHigh"
    if fault in ("loss", "error"):
        return "ErrorRateHigh"
    return rng.choice(EXTERNAL)


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))
