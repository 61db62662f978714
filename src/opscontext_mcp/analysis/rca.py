"""Alerts grouped by shared root cause, and the primary contributor of each group.

Grouping follows what Dynatrace Davis and Keep's topology processor do, restricted to real
dependency edges: two firing alerts belong together when their services are the same, adjacent
in the dependency graph, or joined through one other service (an alert gone missing, or one that
fired outside the window, must not split an incident in two), and their onsets are within
`window` of each other.
Groups are the connected components of that relation (single linkage), so a chain of alerts
each a few minutes after the last forms one group.

Ranking names the service that best explains a group. Fan-in callers amplify latency, so
"loudest wins" fails; the evidence weighed instead, each written out for the responder to check:

- position: how many of the group's alerting services depend on the candidate, directly or
  through others, and whether something it depends on is itself alerting (then the cause is
  more likely below it);
- onset order: the first to alert, relative to the group's start;
- internal versus external symptom (PRISM's test): a root cause tends to show a resource
  symptom of its own (CPU, memory, disk, restarts, exhausted pools), a victim only the
  latency and errors it inherits;
- a change shortly before the onset;
- trace attribution: calls into the candidate failing more than its own calls out, from the
  observed edges, counted in proportion up to OWN_ERRORS_FULL. A caller whose own outgoing
  calls fail more than the calls into it is showing inherited symptoms; a service whose callers
  reach it without failing is observed healthy (weighed lightly against one that alerts: its
  alerts may be about latency, which error ratios do not show).

Services without an alert of their own that a group's services call are candidates too: a
vendor-run or uninstrumented dependency is often the cause, and it never alerts. Below a quiet
candidate that calls into fail, what it calls is a candidate as well. Everything here is
deterministic: ties break on onset, then name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Protocol

from opscontext_mcp.analysis.symptoms import severity_rank

WINDOW = timedelta(minutes=15)
CHANGE_LOOKBACK = timedelta(hours=6)
RECENT_CHANGE = timedelta(hours=1)
REACH_DEPTH = 4
"""How many dependency hops a cause may sit below the alerting services it explains."""
ERROR_FLOOR = 0.05
"""An error ratio below this on an edge is ordinary background, not evidence."""
OWN_ERRORS_FULL = 0.2
"""Calls into a service failing this much more than its own calls out count in full."""

WEIGHTS = {
    "explains": 3.0,
    "alerting_below": -2.0,
    "internal": 1.5,
    "first": 1.0,
    "change": 1.5,
    "own_errors": 2.0,
    "inherited": -1.0,
    "alerting": 0.5,
    "calls_succeed": -1.5,
    "answers_callers": -0.75,
}


@dataclass(frozen=True)
class Signal:
    """One firing alert, reduced to what grouping weighs."""

    key: str
    service: str
    name: str
    onset: datetime
    severity: str | None = None
    internal: bool = False


class Topology(Protocol):
    def dependencies(self, service: str) -> Iterable[str]:
        """What `service` calls or needs."""
        ...

    def dependents(self, service: str) -> Iterable[str]:
        """What calls or needs `service`."""
        ...


@dataclass(frozen=True)
class Evidence:
    """What besides the alerts can point at a cause."""

    changes: Mapping[str, Sequence[tuple[datetime, str]]] = field(default_factory=dict)
    """Service → (when, change id), any order."""
    edge_errors: Mapping[tuple[str, str], float] = field(default_factory=dict)
    """(caller, callee) → share of observed calls on that edge that failed."""

    @cached_property
    def worst_errors(self) -> tuple[dict[str, float], dict[str, float]]:
        """The worst error ratio of observed calls into each service, and of each service's calls out."""
        into: dict[str, float] = {}
        out: dict[str, float] = {}
        for (caller, callee), ratio in self.edge_errors.items():
            into[callee] = max(ratio, into.get(callee, ratio))
            out[caller] = max(ratio, out.get(caller, ratio))
        return into, out


@dataclass(frozen=True)
class Candidate:
    service: str
    score: float
    alerting: bool
    explains: int
    """How many of the group's alerting services depend on it (itself included)."""
    onset: datetime | None
    internal: bool
    change: tuple[datetime, str] | None
    errors_in: float | None
    """The worst error ratio of calls into it, when traffic was observed."""
    errors_out: float | None
    """The worst error ratio of its own calls out, when traffic was observed."""
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    signals: tuple[Signal, ...]
    """Earliest first."""
    services: tuple[str, ...]
    """Alerting services, earliest onset first."""
    started: datetime
    severity: str | None
    candidates: tuple[Candidate, ...]
    """Best explanation first."""

    @property
    def primary(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def analyse(
    signals: Sequence[Signal], topology: Topology, evidence: Evidence, window: timedelta = WINDOW
) -> list[Group]:
    """Every group with its ranked candidates: the most severe first (raised by signs of an incident, see
    `_weight`), then the largest, then the best explained, then the earliest."""
    groups = [
        _group(members, rank_contributors(members, topology, evidence, window))
        for members in group_signals(signals, topology, window)
    ]
    groups.sort(
        key=lambda g: (-_weight(g), -len(g.signals), -(g.primary.score if g.primary else 0.0), g.started, g.services)
    )
    return groups


def _weight(group: Group) -> int:
    """A group's rank: its worst severity, raised one level per independent sign that it is an incident,
    at most two: alerts on several services, an internal and an external symptom both on the primary
    contributor (two detectors agreeing), a change on it within the hour before, calls into it failing
    more than its own calls out. A lone alert has none of these."""
    primary = group.primary
    signs = len(group.services) > 1
    if primary is not None:
        kinds = {signal.internal for signal in group.signals if signal.service == primary.service}
        recent = primary.change is not None and (primary.onset or group.started) - primary.change[0] <= RECENT_CHANGE
        own = (primary.errors_in or 0.0) - (primary.errors_out or 0.0) >= ERROR_FLOOR
        signs += (len(kinds) == 2) + recent + own
    return severity_rank(group.severity) + min(int(signs), 2)


def group_signals(signals: Sequence[Signal], topology: Topology, window: timedelta = WINDOW) -> list[list[Signal]]:
    """Connected components of "same or nearby service, onsets within `window`", each earliest first.

    Every service, alerting or not, gathers the signals of itself and its alerting neighbours; within
    that set, signals next to each other in onset order are joined when within `window`. That joins
    exactly the pairs adjacent or one service apart (consecutive gaps never exceed a pair's), in time
    linear in the signals times the degrees, even around a hub that hundreds of alerting services call.
    """
    ordered = sorted(range(len(signals)), key=lambda i: (signals[i].onset, signals[i].key))
    by_service: dict[str, list[int]] = {}
    for index in ordered:
        by_service.setdefault(signals[index].service, []).append(index)
    # Seconds as floats: thousands of onset comparisons run here, and datetime arithmetic is slow.
    at = [signal.onset.timestamp() for signal in signals]
    span = window.total_seconds()
    parent = list(range(len(signals)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    gathered: dict[str, set[str]] = {}
    for service in by_service:
        gathered.setdefault(service, set()).add(service)
        for near in (*topology.dependencies(service), *topology.dependents(service)):
            gathered.setdefault(near, set()).add(service)
    for services in gathered.values():
        if len(services) == 1:
            members = by_service[next(iter(services))]
        else:
            members = sorted((i for service in services for i in by_service[service]), key=at.__getitem__)
        for before, after in zip(members, members[1:], strict=False):
            if at[after] - at[before] <= span:
                first, second = root(before), root(after)
                if first != second:
                    parent[max(first, second)] = min(first, second)

    components: dict[int, list[Signal]] = {}
    for index in ordered:
        components.setdefault(root(index), []).append(signals[index])
    return list(components.values())


def rank_contributors(
    signals: Sequence[Signal], topology: Topology, evidence: Evidence, window: timedelta = WINDOW
) -> list[Candidate]:
    """The group's alerting services and the quiet services below them, best explanation first."""
    first_onset: dict[str, datetime] = {}
    internal: dict[str, list[str]] = {}
    for signal in sorted(signals, key=lambda s: s.onset):
        first_onset.setdefault(signal.service, signal.onset)
        if signal.internal:
            internal.setdefault(signal.service, []).append(signal.name)
    alerting = list(first_onset)
    started = min(first_onset.values())
    quiet = _quiet_candidates(alerting, topology, evidence)
    universe = set(alerting) | set(quiet)
    explains = dict.fromkeys(universe, 0)
    below: dict[str, list[str]] = {s: [] for s in universe}
    for service in alerting:
        for cause in _reach(service, topology.dependencies, universe):
            explains[cause] += 1
        for caller in _reach(service, topology.dependents, universe):
            if caller != service and first_onset[service] <= first_onset.get(caller, first_onset[service]):
                below[caller].append(service)
    candidates = [
        _weigh(
            service,
            explains[service],
            sorted(below[service]),
            len(alerting),
            first_onset,
            internal,
            started,
            window,
            evidence,
        )
        for service in [*alerting, *quiet]
    ]
    candidates.sort(key=lambda c: (-c.score, c.onset is None, c.onset or started, c.service))
    return candidates


def _quiet_candidates(alerting: Sequence[str], topology: Topology, evidence: Evidence) -> list[str]:
    """What the alerting services call without alerting itself; below a quiet service that calls into fail,
    what it calls too (up to REACH_DEPTH hops), since the failure may come from further down."""
    errors_in = evidence.worst_errors[0]
    seen = set(alerting)
    found: list[str] = []
    frontier = list(alerting)
    for _ in range(REACH_DEPTH):
        below = sorted({d for s in frontier for d in topology.dependencies(s) if d not in seen})
        seen.update(below)
        found.extend(below)
        frontier = [d for d in below if errors_in.get(d, 0.0) >= ERROR_FLOOR]
        if not frontier:
            break
    return found


def _weigh(
    service: str,
    explained: int,
    below: list[str],
    alerting_total: int,
    first_onset: Mapping[str, datetime],
    internal: Mapping[str, list[str]],
    started: datetime,
    window: timedelta,
    evidence: Evidence,
) -> Candidate:
    onset = first_onset.get(service)
    symptoms = internal.get(service, [])
    change = _recent_change(evidence.changes.get(service, ()), onset or started)
    errors_in, errors_out = (worst.get(service) for worst in evidence.worst_errors)
    # A service whose own calls out fail is waiting on something: failures into it and a saturated pool
    # of its own may both be what it inherits, so neither counts for it as a cause.
    waiting = (errors_out or 0.0) >= ERROR_FLOOR
    own_errors = 0.0 if waiting else max((errors_in or 0.0) - (errors_out or 0.0), 0.0)
    inherited = onset is not None and not symptoms and (errors_out or 0.0) >= max(errors_in or 0.0, ERROR_FLOOR)
    # A service that callers reach without failing is observed healthy, not merely unobserved.
    calls_succeed = errors_in is not None and errors_in < ERROR_FLOOR

    parts = {
        "explains": explained / alerting_total,
        "alerting_below": 1.0 if below else 0.0,
        "internal": 1.0 if symptoms and not waiting else 0.0,
        "first": 0.0 if onset is None else 1.0 - min((onset - started) / window, 1.0),
        "change": 0.0 if change is None else (1.0 if (onset or started) - change[0] <= RECENT_CHANGE else 0.5),
        "own_errors": min(own_errors / OWN_ERRORS_FULL, 1.0) if own_errors >= ERROR_FLOOR else 0.0,
        "inherited": 1.0 if inherited else 0.0,
        "alerting": 1.0 if onset is not None else 0.0,
        "calls_succeed": 1.0 if calls_succeed and onset is None else 0.0,
        "answers_callers": 1.0 if calls_succeed and onset is not None else 0.0,
    }
    score = round(sum(WEIGHTS[name] * value for name, value in parts.items()), 4)

    said = [f"{explained} of {alerting_total} alerting services depend on it (itself included)"]
    if below:
        said.append(f"something it depends on alerted first or at once: {', '.join(below[:3])}")
    elif onset is None:
        said.append("no alert of its own; nothing it depends on is alerting")
    else:
        said.append("nothing it depends on alerted before it")
    if onset is not None:
        lag = int((onset - started).total_seconds() // 60)
        said.append("first to alert" if onset == started else f"alerted {lag} min after the group's first alert")
    if symptoms and waiting:
        said.append(
            f"internal symptom: {', '.join(dict.fromkeys(symptoms))}, but its own calls out fail {errors_out:.0%}: "
            "it may be waiting on a dependency"
        )
    elif symptoms:
        said.append(f"internal symptom: {', '.join(dict.fromkeys(symptoms))}")
    elif onset is not None:
        said.append("external symptoms only (latency, errors, availability)")
    if change is not None:
        minutes = int(((onset or started) - change[0]).total_seconds() // 60)
        said.append(f"change {change[1]} {minutes} min before {'its first alert' if onset else 'the group began'}")
    if own_errors >= ERROR_FLOOR:
        out = "not observed" if errors_out is None else f"{errors_out:.0%}"
        said.append(f"calls into it fail {errors_in:.0%}, its own calls out {out}")
    if calls_succeed:
        said.append(f"calls into it succeed ({errors_in:.0%} fail)")
    if inherited:
        said.append(
            f"its own calls out fail {errors_out:.0%}, at least as often as calls into it: symptoms look inherited"
        )
    return Candidate(
        service=service,
        score=score,
        alerting=onset is not None,
        explains=explained,
        onset=onset,
        internal=bool(symptoms),
        change=change,
        errors_in=errors_in,
        errors_out=errors_out,
        evidence=tuple(said),
    )


def _group(members: list[Signal], candidates: list[Candidate]) -> Group:
    services = list(dict.fromkeys(s.service for s in members))
    worst = max(members, key=lambda s: severity_rank(s.severity))
    return Group(
        signals=tuple(members),
        services=tuple(services),
        started=members[0].onset,
        severity=worst.severity,
        candidates=tuple(candidates),
    )


def _reach(start: str, step: Callable[[str], Iterable[str]], universe: set[str]) -> set[str]:
    """`start` and what `step` leads to from it within `universe`, up to REACH_DEPTH hops."""
    reached = {start}
    frontier = [start]
    for _ in range(REACH_DEPTH):
        frontier = [d for node in frontier for d in step(node) if d in universe and d not in reached]
        reached.update(frontier)
        if not frontier:
            break
    return reached


def _recent_change(changes: Sequence[tuple[datetime, str]], before: datetime) -> tuple[datetime, str] | None:
    """The latest change within CHANGE_LOOKBACK before `before` (or at it)."""
    earlier = [c for c in changes if before - CHANGE_LOOKBACK <= c[0] <= before]
    return max(earlier, default=None)
