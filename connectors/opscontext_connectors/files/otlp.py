"""OTLP/JSON trace exports into observed dependencies with traffic statistics.

Edges are derived the way the OpenTelemetry Collector's servicegraph connector does:
a CLIENT/PRODUCER span whose child is a SERVER/CONSUMER span of another service is one
request on caller → callee; an unpaired CLIENT/PRODUCER span names an uninstrumented
peer (a "virtual node") through `peer.service`, `db.namespace`/`db.name`,
`server.address` or `db.system`. One addition: a root CONSUMER span that names its
queue makes the consumer depend on that queue, which the collector does not model.

An export file is either one OTLP/JSON document (an ExportTraceServiceRequest) or JSON
Lines, one request per line, as the Collector's file exporter writes them.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opscontext_mcp.model import Dependency, DependencyKind, Provenance, TrafficStats
from opscontext_mcp.protocols import Batch, Problem

from ..values import utc_now

INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER = 1, 2, 3, 4, 5
_KIND_NAMES = {
    "SPAN_KIND_INTERNAL": INTERNAL,
    "SPAN_KIND_SERVER": SERVER,
    "SPAN_KIND_CLIENT": CLIENT,
    "SPAN_KIND_PRODUCER": PRODUCER,
    "SPAN_KIND_CONSUMER": CONSUMER,
}
_STATUS_ERROR = 2
_PEER_ATTRIBUTES = (
    "peer.service",
    "db.namespace",
    "db.name",
    "server.address",
    "net.peer.name",
    "db.system.name",
    "db.system",
)
_QUEUE_ATTRIBUTES = ("peer.service", "messaging.destination.name", "messaging.destination")
_KEPT_ATTRIBUTES = frozenset(
    {
        *_PEER_ATTRIBUTES,
        *_QUEUE_ATTRIBUTES,
        "messaging.system",
        "enduser.id",
        "session.id",
        "http.route",
        "http.response.status_code",
    }
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str
    service: str
    name: str
    kind: int
    start_ns: int
    end_ns: int
    error: bool
    attributes: dict[str, Any]

    @property
    def duration_ms(self) -> float:
        return max(self.end_ns - self.start_ns, 0) / 1e6


@dataclass
class _EdgeTally:
    connection: str
    durations: list[float] = field(default_factory=list)
    errors: int = 0


def read_spans(path: Path, location: str, problems: list[Problem], ending_from_ns: int = 0) -> list[Span]:
    """The spans of one export file that end at or after `ending_from_ns`; the rest are dropped as they are read.

    A file that vanished since it was listed (rotated away) holds nothing; a bad document, line or span is a
    problem at `location` (with `:line` in JSON Lines) and the rest of the file is still read.
    """
    spans: list[Span] = []
    skipped = 0
    try:
        for where, request in _requests(path, location, problems):
            resource_spans = request.get("resourceSpans") if isinstance(request, dict) else None
            if not isinstance(resource_spans, list):
                problems.append(Problem(location=where, reason="expected an object with a resourceSpans list"))
                continue
            skipped += _collect(resource_spans, where, problems, spans, ending_from_ns)
    except FileNotFoundError:
        return []
    except OSError as exc:
        problems.append(Problem(location=location, reason=f"not readable: {exc}"))
    if skipped:
        problems.append(
            Problem(
                location=location,
                reason=f"{skipped} spans without usable ids, times or fields were skipped",
                severity="warning",
            )
        )
    return spans


def _requests(path: Path, location: str, problems: list[Problem]) -> Iterator[tuple[str, Any]]:
    """(where, decoded request) for each export request in the file.

    JSON Lines is recognised by its suffix, or by a first line that is a whole object, which a pretty-printed
    document's first line never is. Lines are streamed, so a big export is never held as text at once.
    """
    with path.open("rb") as stream:
        lines = enumerate(stream, start=1)
        first = next(((number, line) for number, line in lines if line.strip()), None)
        if first is None:
            return
        head = first[1].strip()
        if path.suffix == ".jsonl" or (head.startswith(b"{") and head.endswith(b"}")):
            texts: Iterable[tuple[int, bytes]] = itertools.chain([first], lines)
        else:
            stream.seek(0)
            texts = [(0, stream.read())]
        for number, text in texts:
            where = f"{location}:{number}" if number else location
            if not text.strip():
                continue
            try:
                request = json.loads(text)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                problems.append(Problem(location=where, reason=f"not readable OTLP/JSON: {exc}"))
                continue
            yield where, request


def _collect(
    resource_spans: list[Any], where: str, problems: list[Problem], into: list[Span], ending_from_ns: int
) -> int:
    """Append one request's usable spans to `into`; answers how many spans had to be skipped."""
    skipped = 0
    for index, block in enumerate(resource_spans):
        block = block if isinstance(block, dict) else {}
        resource = block.get("resource")
        service = _attributes(resource.get("attributes") if isinstance(resource, dict) else None).get("service.name")
        if not isinstance(service, str) or not service:
            at = f"{where}#resourceSpans[{index}]"
            problems.append(Problem(location=at, reason="resource has no service.name; spans skipped"))
            continue
        scopes = block.get("scopeSpans") or block.get("instrumentationLibrarySpans") or []
        for scope in scopes if isinstance(scopes, list) else []:
            raw_spans = scope.get("spans") if isinstance(scope, dict) else None
            for raw in raw_spans if isinstance(raw_spans, list) else []:
                try:
                    span = _span(raw, service)
                except (TypeError, ValueError, AttributeError):
                    span = None
                if span is None:
                    skipped += 1
                elif span.end_ns >= ending_from_ns:
                    into.append(span)
    return skipped


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
    files are parsed, and files that disappeared are forgotten. Memory follows the window, not the
    folder's history: only spans ending at or after the start of the latest window asked for are held
    (an earlier window than that parses again). The same files and window answer the very same batch,
    so an unchanged source does not make the server rebuild its graph.
    """

    def __init__(self, root: Path, listing: Callable[[], list[Path]], source: str, ref: str) -> None:
        self.root, self.listing, self.source, self.ref = root, listing, source, ref
        self._files: dict[Path, _FileRead] = {}
        self._answered: tuple[Any, Batch[Dependency]] | None = None
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
            since_ns = _ns(since)
            self._files = {path: self._current(path, version, since_ns) for path, version in versions.items()}
            spans = [span for read in self._files.values() for span in read.spans]
            derived = derive_dependencies(spans, since, until, self.source, utc_now(), self.ref)
            problems = tuple(problem for read in self._files.values() for problem in read.problems)
            answer = Batch(records=derived.records, problems=problems)
            self._answered = (question, answer)
            return answer

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
    since_ns, until_ns = _ns(since), _ns(until)
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
                queue = _first(span.attributes, _QUEUE_ATTRIBUTES)
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
        peer = _first(span.attributes, _QUEUE_ATTRIBUTES if messaging else _PEER_ATTRIBUTES) or _first(
            span.attributes, _PEER_ATTRIBUTES
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


def _span(raw: Any, service: str) -> Span | None:
    if not isinstance(raw, dict):
        return None
    trace_id, span_id = raw.get("traceId"), raw.get("spanId")
    try:
        start_ns = int(raw["startTimeUnixNano"])
        end_ns = int(raw.get("endTimeUnixNano", start_ns))
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(trace_id, str) or not isinstance(span_id, str) or not trace_id or not span_id:
        return None
    kind = raw.get("kind", 0)
    if isinstance(kind, str):
        kind = _KIND_NAMES.get(kind, int(kind) if kind.isascii() and kind.isdigit() else 0)
    status = raw.get("status") or {}
    code = status.get("code", 0) if isinstance(status, dict) else 0
    attributes = {k: v for k, v in _attributes(raw.get("attributes")).items() if k in _KEPT_ATTRIBUTES}
    return Span(
        trace_id=trace_id.lower(),
        span_id=span_id.lower(),
        parent_id=str(raw.get("parentSpanId") or "").lower(),
        service=service,
        name=str(raw.get("name") or ""),
        kind=kind if isinstance(kind, int) else 0,
        start_ns=start_ns,
        end_ns=end_ns,
        error=code in (_STATUS_ERROR, "STATUS_CODE_ERROR"),
        attributes=attributes,
    )


def _attributes(items: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if not isinstance(items, list):
        return found
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            found[item["key"]] = _any_value(item.get("value"))
    return found


def _any_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return value["intValue"]
    if "arrayValue" in value:
        array = value["arrayValue"]
        values = array.get("values") if isinstance(array, dict) else None
        return [_any_value(v) for v in values] if isinstance(values, list) else None
    return None


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


def _ns(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000
