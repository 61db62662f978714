"""A user journey measured from its traces: how many requests and users it fails, and who explains it.

A journey's requests are its entry spans: the SERVER (or CONSUMER) spans of the entry service,
optionally of one span name, that start in the window. A request is bad when it failed (and
failures count) or took longer than the objective's latency. A user is affected when at least
one of their requests in the window was bad; users are told apart by `enduser.id`, else by
`session.id`, whichever the entry spans carry more often. Without either, the share is of
requests, and the answer says so.

The primary contributor comes from the bad requests' traces. A failed request is explained by
its error origin: the deepest failing span, one none of whose children failed. A slow request
is explained by own time: each service's time in the trace not covered by its spans' children,
compared with that service's median own time in the journey's good requests; the request is
shared among services in proportion to their excess. A CLIENT span without children (a call to
an uninstrumented peer such as a vendor API) is its caller's own time, and the peer is named:
the caller is where the time is observed, and the peer is where it may go.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from opscontext_mcp.traces import CLIENT, CONSUMER, PRODUCER, SERVER, Span, from_ns, ns, peer_of

USER_KEYS = ("enduser.id", "session.id")


@dataclass(frozen=True)
class EntrySpec:
    """Which spans are the journey's requests, and what makes one good."""

    service: str
    """The entry spans' `service.name`."""
    span_name: str | None = None
    max_duration_ms: float | None = None
    errors_bad: bool = True

    def is_entry(self, span: Span) -> bool:
        return (
            span.service == self.service
            and (span.kind in (SERVER, CONSUMER) or not span.parent_id)
            and (self.span_name is None or span.name == self.span_name)
        )

    def is_good(self, span: Span) -> bool:
        if self.errors_bad and span.error:
            return False
        return self.max_duration_ms is None or span.duration_ms <= self.max_duration_ms


@dataclass(frozen=True)
class JourneyCounts:
    since: datetime
    until: datetime
    requests: int
    bad: int
    failed: int
    """Bad because they failed (slow or not)."""
    slow: int
    """Bad only because they were slow."""
    user_key: str | None
    """The span attribute users were told apart by; None when the spans carry no user or session id."""
    users: int
    affected_users: int
    requests_without_user: int
    first_request: datetime | None
    last_request: datetime | None
    """The data the window actually held: a window longer than the traces is only partly covered."""

    @property
    def bad_ratio(self) -> float:
        return self.bad / self.requests if self.requests else 0.0

    @property
    def affected_share(self) -> float:
        """Of users when spans carry user ids, else of requests."""
        if self.user_key is None:
            return self.bad_ratio
        return self.affected_users / self.users if self.users else 0.0


@dataclass(frozen=True)
class Contribution:
    service: str
    share: float
    """Of the bad requests it explains (failed ones whole, slow ones by their excess)."""
    failed_origin: int
    """Failed requests whose error started in its spans."""
    excess_ms: float
    """Its mean own time in slow requests beyond its median in good ones."""
    waiting_on: tuple[str, ...] = ()
    """Uninstrumented peers its own time was spent calling, most first."""


@dataclass
class _Tally:
    weight: float = 0.0
    failed: int = 0
    excess: list[float] = field(default_factory=list)
    peers: Counter[str] = field(default_factory=Counter)


def entries(spans: Iterable[Span], spec: EntrySpec, since: datetime, until: datetime) -> list[Span]:
    since_ns, until_ns = ns(since), ns(until)
    return [s for s in spans if since_ns <= s.start_ns < until_ns and spec.is_entry(s)]


def measure(requests: Sequence[Span], spec: EntrySpec, since: datetime, until: datetime) -> JourneyCounts:
    """Requests and users, good and bad, over the journey's entry spans in [since, until)."""
    present = Counter(key for span in requests for key in USER_KEYS if span.attributes.get(key))
    user_key = max(USER_KEYS, key=lambda k: (present[k], k == USER_KEYS[0])) if present else None
    users: dict[str, bool] = {}
    without = 0
    failed = slow = 0
    for span in requests:
        good = spec.is_good(span)
        if not good:
            if spec.errors_bad and span.error:
                failed += 1
            else:
                slow += 1
        user = span.attributes.get(user_key) if user_key else None
        if user:
            users[str(user)] = users.get(str(user), False) or not good
        else:
            without += 1
    starts = [s.start_ns for s in requests]
    return JourneyCounts(
        since=since,
        until=until,
        requests=len(requests),
        bad=failed + slow,
        failed=failed,
        slow=slow,
        user_key=user_key,
        users=len(users),
        affected_users=sum(users.values()),
        requests_without_user=without if user_key else 0,
        first_request=from_ns(min(starts)) if starts else None,
        last_request=from_ns(max(starts)) if starts else None,
    )


def attribute(spans: Iterable[Span], requests: Sequence[Span], spec: EntrySpec) -> list[Contribution]:
    """Which services explain the bad requests, most first."""
    traces: dict[str, list[Span]] = defaultdict(list)
    wanted = {r.trace_id for r in requests}
    for span in spans:
        if span.trace_id in wanted:
            traces[span.trace_id].append(span)
    bad = [r for r in requests if not spec.is_good(r)]
    good = [r for r in requests if spec.is_good(r)]
    baseline: dict[str, float] = {}
    samples: dict[str, list[float]] = defaultdict(list)
    for request in good:
        own, _ = _own_time(traces[request.trace_id], request)
        for service, ms in own.items():
            samples[service].append(ms)
    baseline = {service: statistics.median(values) for service, values in samples.items()}

    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for request in bad:
        trace = traces[request.trace_id]
        if spec.errors_bad and request.error:
            origin = _error_origin(trace, request)
            tally = tallies[origin.service]
            tally.weight += 1
            tally.failed += 1
            if origin.kind in (CLIENT, PRODUCER) and (peer := peer_of(origin)):
                tally.peers[peer] += 1
            continue
        own, peers = _own_time(trace, request)
        excess = {service: ms - baseline.get(service, 0.0) for service, ms in own.items()}
        excess = {service: ms for service, ms in excess.items() if ms > 0}
        total = sum(excess.values())
        if total <= 0:
            tallies[request.service].weight += 1
            continue
        for service, ms in excess.items():
            tally = tallies[service]
            tally.weight += ms / total
            tally.excess.append(ms)
            tally.peers.update({peer: ms for peer, ms in peers.get(service, {}).items()})
    found = [
        Contribution(
            service=service,
            share=tally.weight / len(bad),
            failed_origin=tally.failed,
            excess_ms=round(statistics.fmean(tally.excess), 1) if tally.excess else 0.0,
            waiting_on=tuple(peer for peer, _ in tally.peers.most_common(3)),
        )
        for service, tally in tallies.items()
    ]
    found.sort(key=lambda c: (-c.share, c.service))
    return found


def _own_time(trace: Sequence[Span], root: Span) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Own time per service below `root`, and per service the own time of its calls to uninstrumented peers."""
    children: dict[str, list[Span]] = defaultdict(list)
    for span in trace:
        if span.parent_id:
            children[span.parent_id].append(span)
    own: dict[str, float] = defaultdict(float)
    peers: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    stack = [root]
    seen = set()
    while stack:
        span = stack.pop()
        if span.span_id in seen:  # a malformed trace may loop; each span counts once
            continue
        seen.add(span.span_id)
        below = children.get(span.span_id, [])
        ms = max(span.duration_ms - _covered_ms(span, below), 0.0)
        own[span.service] += ms
        if not below and span.kind in (CLIENT, PRODUCER) and (peer := peer_of(span)):
            peers[span.service][peer] += ms
        stack.extend(below)
    return own, peers


def _covered_ms(parent: Span, children: Sequence[Span]) -> float:
    """How much of the parent's time its children cover, overlaps counted once."""
    covered = 0
    end = parent.start_ns
    for child in sorted(children, key=lambda s: s.start_ns):
        start, stop = max(child.start_ns, end), min(child.end_ns, parent.end_ns)
        if stop > start:
            covered += stop - start
            end = stop
    return covered / 1e6


def _error_origin(trace: Sequence[Span], root: Span) -> Span:
    """The deepest failing span below `root` none of whose children failed; `root` when nothing below failed."""
    children: dict[str, list[Span]] = defaultdict(list)
    for span in trace:
        if span.parent_id:
            children[span.parent_id].append(span)
    origin, depth = root, 0
    stack = [(root, 0)]
    seen = set()
    while stack:
        span, level = stack.pop()
        if span.span_id in seen:
            continue
        seen.add(span.span_id)
        failing = [c for c in children.get(span.span_id, []) if c.error]
        if span.error and not failing and (level > depth or origin is root):
            origin, depth = span, level
        stack.extend((c, level + 1) for c in failing)
    return origin
