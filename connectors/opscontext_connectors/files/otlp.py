"""OTLP/JSON trace exports into observed dependencies with traffic statistics.

Edges are derived the way the OpenTelemetry Collector's servicegraph connector does:
a CLIENT/PRODUCER span whose child is a SERVER/CONSUMER span of another service is one
request on caller → callee; an unpaired CLIENT/PRODUCER span names an uninstrumented
peer (a "virtual node") through `peer.service`, `db.namespace`/`db.name`,
`server.address` or `db.system`. One addition: a root CONSUMER span that names its
queue makes the consumer depend on that queue, which the collector does not model.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opscontext_mcp.model import Dependency, DependencyKind, Provenance, TrafficStats
from opscontext_mcp.protocols import Batch, Problem

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


def read_spans(paths: Iterable[Path], root: Path, problems: list[Problem]) -> list[Span]:
    spans: list[Span] = []
    for path in paths:
        location = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(Problem(location=location, reason=f"not readable OTLP/JSON: {exc}"))
            continue
        resource_spans = document.get("resourceSpans") if isinstance(document, dict) else None
        if not isinstance(resource_spans, list):
            problems.append(Problem(location=location, reason="expected an object with a resourceSpans list"))
            continue
        skipped = 0
        for resource_index, block in enumerate(resource_spans):
            block = block if isinstance(block, dict) else {}
            resource = block.get("resource")
            service = _attributes(resource.get("attributes") if isinstance(resource, dict) else None).get(
                "service.name"
            )
            if not isinstance(service, str) or not service:
                problems.append(
                    Problem(
                        location=f"{location}#resourceSpans[{resource_index}]",
                        reason="resource has no service.name; spans skipped",
                    )
                )
                continue
            scopes = block.get("scopeSpans") or block.get("instrumentationLibrarySpans") or []
            for scope in scopes if isinstance(scopes, list) else []:
                raw_spans = scope.get("spans") if isinstance(scope, dict) else None
                for raw in raw_spans if isinstance(raw_spans, list) else []:
                    span = _span(raw, service)
                    if span is None:
                        skipped += 1
                    else:
                        spans.append(span)
        if skipped:
            problems.append(
                Problem(
                    location=location, reason=f"{skipped} spans without ids or times were skipped", severity="warning"
                )
            )
    return spans


def derive_dependencies(spans: list[Span], source: str, fetched_at: datetime, ref: str) -> Batch[Dependency]:
    """Observed edges with request count, errors and caller-side latency percentiles."""
    if not spans:
        return Batch()
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    paired: set[tuple[str, str]] = set()
    tallies: dict[tuple[str, str], _EdgeTally] = {}

    def tally(caller: str, callee: str, connection: str, duration_ms: float, error: bool) -> None:
        edge = tallies.setdefault((caller, callee), _EdgeTally(connection))
        edge.durations.append(duration_ms)
        edge.errors += error

    for span in spans:
        parent = by_id.get((span.trace_id, span.parent_id)) if span.parent_id else None
        if parent is None:
            if span.kind == CONSUMER:
                queue = _first(span.attributes, _QUEUE_ATTRIBUTES)
                if queue and queue != span.service:
                    tally(span.service, queue, "messaging_system", span.duration_ms, span.error)
            continue
        if parent.service == span.service:
            continue
        if parent.kind in (CLIENT, PRODUCER) and span.kind in (SERVER, CONSUMER):
            paired.add((parent.trace_id, parent.span_id))
            connection = "messaging_system" if parent.kind == PRODUCER else ""
            tally(parent.service, span.service, connection, parent.duration_ms, parent.error or span.error)
        else:
            tally(parent.service, span.service, "", span.duration_ms, span.error)

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
        tally(span.service, peer, connection, span.duration_ms, span.error)

    window_start = _as_time(min(s.start_ns for s in spans))
    window_end = _as_time(max(s.end_ns for s in spans))
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
        kind = _KIND_NAMES.get(kind, int(kind) if kind.isdigit() else 0)
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
        return [_any_value(v) for v in (value["arrayValue"] or {}).get("values") or []]
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
