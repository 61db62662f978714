"""OTLP/JSON trace exports into observed dependencies with traffic statistics.

Edges are derived the way the OpenTelemetry Collector's servicegraph connector does:
a CLIENT/PRODUCER span whose child is a SERVER/CONSUMER span of another service is one
request on caller → callee; an unpaired CLIENT/PRODUCER span names an uninstrumented
peer (a "virtual node") through `peer.service`, `db.namespace`/`db.name`,
`server.address` or `db.system`. One addition: a root CONSUMER span that names its
queue makes the consumer depend on that queue, which the collector does not model.

Reading the export files themselves is `otlpjson`'s.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opscontext_mcp.model import Dependency, DependencyKind, Provenance, TrafficStats
from opscontext_mcp.protocols import Batch, Problem
from opscontext_mcp.traces import CLIENT, CONSUMER, PEER_ATTRIBUTES, PRODUCER, QUEUE_ATTRIBUTES, SERVER, Span, ns

from ..values import utc_now
from .otlpjson import read_spans


@dataclass
class _EdgeTally:
    connection: str
    durations: list[float] = field(default_factory=list)
    errors: int = 0


@dataclass(frozen=True, slots=True)
class _FileRead:
    """One export file as last read: the version read (mtime, size) and the spans still worth holding."""

    version: tuple[int, int]
    ending_from_ns: int
    spans: tuple[Span, ...]
    problems: tuple[Problem, ...]


class TraceFiles:
    """The spans of a set of export files, parsed per file and parsed again only when that file changes.

    Folders of exports grow and rotate: a file is known by (path, mtime, size), so only new or changed
    files are parsed, and files that disappeared are forgotten. Memory follows the windows, not the
    folder's history: only spans ending at or after the start of the latest topology window, or of the
    longest span window asked for (SLIs and journeys look further back), are held; an earlier window
    than that parses again. The same files and window answer the very same batch, so an unchanged
    source does not make the server rebuild its graph.
    """

    def __init__(self, root: Path, listing: Callable[[], list[Path]], source: str, ref: str) -> None:
        self.root, self.listing, self.source, self.ref = root, listing, source, ref
        self._files: dict[Path, _FileRead] = {}
        self._answered: tuple[Any, Batch[Dependency]] | None = None
        self._span_lookback_ns: int | None = None
        """How far before its end the longest `spans` window reached: kept, so topology reads do not evict it."""
        self._lock = threading.Lock()

    def versions(self) -> dict[Path, tuple[int, int]]:
        """(mtime in ns, size) of each file the listing names and that still exists."""
        found = {}
        for path in self.listing():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            found[path] = (stat.st_mtime_ns, stat.st_size)
        return found

    def dependencies(self, since: datetime, until: datetime) -> Batch[Dependency]:
        """Observed edges over [since, until) (see `derive_dependencies`), with every file's problems."""
        with self._lock:
            versions = self.versions()
            question = (tuple(versions.items()), since, until)
            if self._answered is not None and self._answered[0] == question:
                return self._answered[1]
            self._hold(versions, self._keep_from(ns(since), ns(until)))
            spans = [span for read in self._files.values() for span in read.spans]
            derived = derive_dependencies(spans, since, until, self.source, utc_now(), self.ref)
            problems = tuple(problem for read in self._files.values() for problem in read.problems)
            answer = Batch(records=derived.records, problems=problems)
            self._answered = (question, answer)
            return answer

    def spans(self, since: datetime, until: datetime) -> Batch[Span]:
        """The spans that overlap [since, until), with every file's problems."""
        with self._lock:
            since_ns, until_ns = ns(since), ns(until)
            self._span_lookback_ns = max(self._span_lookback_ns or 0, until_ns - since_ns)
            self._hold(self.versions(), self._keep_from(since_ns, until_ns))
            found = tuple(
                span
                for read in self._files.values()
                for span in read.spans
                if span.end_ns >= since_ns and span.start_ns < until_ns
            )
            return Batch(records=found, problems=tuple(p for read in self._files.values() for p in read.problems))

    def _keep_from(self, since_ns: int, until_ns: int) -> int:
        return since_ns if self._span_lookback_ns is None else min(since_ns, until_ns - self._span_lookback_ns)

    def _hold(self, versions: dict[Path, tuple[int, int]], since_ns: int) -> None:
        self._files = {path: self._current(path, version, since_ns) for path, version in versions.items()}

    def _current(self, path: Path, version: tuple[int, int], since_ns: int) -> _FileRead:
        known = self._files.get(path)
        if known is None or known.version != version or since_ns < known.ending_from_ns:
            location = path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else path.as_posix()
            problems: list[Problem] = []
            spans = read_spans(path, location, problems, since_ns)
            return _FileRead(version, since_ns, tuple(spans), tuple(problems))
        if since_ns > known.ending_from_ns:
            kept = tuple(span for span in known.spans if span.end_ns >= since_ns)
            return dataclasses.replace(known, ending_from_ns=since_ns, spans=kept)
        return known


def derive_dependencies(
    spans: Sequence[Span], since: datetime, until: datetime, source: str, fetched_at: datetime, ref: str
) -> Batch[Dependency]:
    """Observed edges over [since, until) with request count, errors and caller-side latency percentiles.

    Any span may pair a request's two sides, but a request counts only when the span that measures it
    (the caller's CLIENT/PRODUCER span, else the callee's) starts within [since, until). Each edge's
    stats carry the window they were computed over: [since, until) clipped to the data, from the
    earliest start to the latest end of the spans starting in it (whole seconds). So exports covering
    ten minutes of a sixty-minute window give a rate over those ten minutes, not one spread over sixty.
    """
    since_ns, until_ns = ns(since), ns(until)
    inside = [s for s in spans if since_ns <= s.start_ns < until_ns]
    if not inside:
        return Batch()
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    paired: set[tuple[str, str]] = set()
    tallies: dict[tuple[str, str], _EdgeTally] = {}

    def tally(measured: Span, caller: str, callee: str, connection: str, error: bool) -> None:
        if since_ns <= measured.start_ns < until_ns:
            edge = tallies.setdefault((caller, callee), _EdgeTally(connection))
            edge.durations.append(measured.duration_ms)
            edge.errors += error

    for span in spans:
        parent = by_id.get((span.trace_id, span.parent_id)) if span.parent_id else None
        if parent is None:
            # Only a true root consumer names its queue: one whose producer is merely out of reach
            # (before the window, in a file rotated away) would otherwise make a different edge.
            if span.kind == CONSUMER and not span.parent_id:
                queue = _first(span.attributes, QUEUE_ATTRIBUTES)
                if queue and queue != span.service:
                    tally(span, span.service, queue, "messaging_system", span.error)
            continue
        if parent.service == span.service:
            continue
        if parent.kind in (CLIENT, PRODUCER) and span.kind in (SERVER, CONSUMER):
            paired.add((parent.trace_id, parent.span_id))
            connection = "messaging_system" if parent.kind == PRODUCER else ""
            tally(parent, parent.service, span.service, connection, parent.error or span.error)
        else:
            tally(span, parent.service, span.service, "", span.error)

    for span in spans:
        if span.kind not in (CLIENT, PRODUCER) or (span.trace_id, span.span_id) in paired:
            continue
        messaging = span.kind == PRODUCER or "messaging.system" in span.attributes
        peer = _first(span.attributes, QUEUE_ATTRIBUTES if messaging else PEER_ATTRIBUTES) or _first(
            span.attributes, PEER_ATTRIBUTES
        )
        if not peer or peer == span.service:
            continue
        if messaging:
            connection = "messaging_system"
        elif "db.system" in span.attributes or "db.system.name" in span.attributes:
            connection = "database"
        else:
            connection = ""
        tally(span, span.service, peer, connection, span.error)

    window_start = max(since, _as_time(min(s.start_ns for s in inside)))
    window_end = max(min(until, _as_time(max(s.end_ns for s in inside))), window_start)
    provenance = Provenance(source=source, fetched_at=fetched_at, ref=ref)
    records = []
    for (caller, callee), edge in sorted(tallies.items()):
        durations = sorted(edge.durations)
        records.append(
            Dependency(
                caller=caller,
                callee=callee,
                kind=DependencyKind.OBSERVED,
                relation={"messaging_system": "messaging", "database": "database"}.get(edge.connection, "calls"),
                stats=TrafficStats(
                    requests=len(durations),
                    errors=edge.errors,
                    window_start=window_start,
                    window_end=window_end,
                    p50_ms=_quantile(durations, 0.50),
                    p95_ms=_quantile(durations, 0.95),
                    p99_ms=_quantile(durations, 0.99),
                ),
                provenance=provenance,
            )
        )
    return Batch(records=tuple(records))


def _first(attributes: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _quantile(ordered: list[float], q: float) -> float:
    """Nearest-rank quantile, rounded to 0.1 ms."""
    index = max(math.ceil(q * len(ordered)) - 1, 0)
    return round(ordered[index], 1)


def _as_time(nanoseconds: int) -> datetime:
    return datetime.fromtimestamp(nanoseconds // 1_000_000_000, tz=UTC)
