"""Reading OTLP/JSON trace exports into spans.

An export file is either one OTLP/JSON document (an ExportTraceServiceRequest) or JSON
Lines, one request per line, as the Collector's file exporter writes them. Only the
attributes analysis reads are kept (see `opscontext_mcp.traces`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from opscontext_mcp.protocols import Problem
from opscontext_mcp.traces import CLIENT, CONSUMER, INTERNAL, PEER_ATTRIBUTES, PRODUCER, QUEUE_ATTRIBUTES, SERVER, Span

_KIND_NAMES = {
    "SPAN_KIND_INTERNAL": INTERNAL,
    "SPAN_KIND_SERVER": SERVER,
    "SPAN_KIND_CLIENT": CLIENT,
    "SPAN_KIND_PRODUCER": PRODUCER,
    "SPAN_KIND_CONSUMER": CONSUMER,
}
_STATUS_ERROR = 2
_KEPT_ATTRIBUTES = frozenset(
    {
        *PEER_ATTRIBUTES,
        *QUEUE_ATTRIBUTES,
        "messaging.system",
        "enduser.id",
        "session.id",
        "http.route",
        "http.response.status_code",
    }
)


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
