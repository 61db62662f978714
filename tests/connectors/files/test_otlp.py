from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opscontext_connectors.files.otlp import derive_dependencies, read_spans

AT = datetime(2026, 11, 27, 10, tzinfo=UTC)
BASE_NS = 1_795_770_000_000_000_000


def span(
    span_id: str,
    kind: int,
    start_ms: float,
    duration_ms: float,
    parent: str = "",
    trace: str = "t1",
    error: bool = False,
    **attributes: Any,
) -> dict[str, Any]:
    start = BASE_NS + int(start_ms * 1e6)
    return {
        "traceId": trace,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": span_id,
        "kind": kind,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + int(duration_ms * 1e6)),
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()],
        "status": {"code": 2} if error else {},
    }


def resource(service: str, *spans: dict[str, Any]) -> dict[str, Any]:
    return {
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": list(spans)}],
    }


def derive(root: Path, problems: list[Any] | None = None):  # type: ignore[no-untyped-def]
    found: list[Any] = [] if problems is None else problems
    spans = read_spans(sorted((root / "traces").glob("*.json")), root, found)
    return {(d.caller, d.callee): d for d in derive_dependencies(spans, "otel", AT, "traces/").records}


def test_client_server_pairs_become_edges_with_counts_errors_and_latency(write_tree: Callable[..., Path]) -> None:
    frontend_spans, checkout_spans = [], []
    for i in range(10):
        trace = f"trace{i}"
        frontend_spans.append(span(f"c{i}", 3, i * 1000, 100 + i * 10, trace=trace, error=i == 9))
        checkout_spans.append(span(f"s{i}", 2, i * 1000 + 1, 90, parent=f"c{i}", trace=trace))
    root = write_tree(
        {
            "traces/a.json": {
                "resourceSpans": [resource("frontend", *frontend_spans), resource("checkout", *checkout_spans)]
            }
        }
    )
    edges = derive(root)
    edge = edges[("frontend", "checkout")]
    assert edge.kind == "observed" and edge.relation == "calls"
    assert edge.stats.requests == 10 and edge.stats.errors == 1
    assert edge.stats.p50_ms == 140.0 and edge.stats.p99_ms == 190.0
    assert edge.stats.window_start < edge.stats.window_end


def test_unpaired_client_spans_name_virtual_nodes_and_consumers_depend_on_their_queue(
    write_tree: Callable[..., Path],
) -> None:
    root = write_tree(
        {
            "traces/a.json": {
                "resourceSpans": [
                    resource(
                        "cart",
                        span("db1", 3, 0, 5, **{"peer.service": "redis-cart", "db.system": "redis"}),
                        span("db2", 3, 10, 7, **{"db.system": "postgresql", "db.name": "orders"}),
                        span(
                            "pub",
                            4,
                            20,
                            2,
                            **{
                                "messaging.system": "kafka",
                                "messaging.destination.name": "order-events",
                                "peer.service": "order-events",
                            },
                        ),
                    ),
                    resource(
                        "loyalty", span("sub", 5, 30, 3, trace="t2", **{"messaging.destination.name": "order-events"})
                    ),
                ]
            }
        }
    )
    edges = derive(root)
    assert edges[("cart", "redis-cart")].relation == "database"
    assert edges[("cart", "orders")].relation == "database"
    assert edges[("cart", "order-events")].relation == "messaging"
    assert edges[("loyalty", "order-events")].relation == "messaging"


def test_calls_within_one_service_are_not_edges(write_tree: Callable[..., Path]) -> None:
    root = write_tree(
        {"traces/a.json": {"resourceSpans": [resource("api", span("a", 2, 0, 10), span("b", 1, 1, 5, parent="a"))]}}
    )
    assert derive(root) == {}


def test_malformed_files_and_spans_are_reported_and_the_rest_is_used(write_tree: Callable[..., Path]) -> None:
    good = {"resourceSpans": [resource("a", span("c", 3, 0, 10)), resource("b", span("s", 2, 1, 5, parent="c"))]}
    root = write_tree(
        {
            "traces/good.json": good,
            "traces/broken.json": "{not json",
            "traces/shape.json": {"spans": []},
            "traces/partial.json": {
                "resourceSpans": [
                    {"resource": {"attributes": []}, "scopeSpans": []},
                    resource("c", {"spanId": "x"}, span("y", 2, 0, 1, trace="t9")),
                ]
            },
        }
    )
    problems: list[Any] = []
    edges = derive(root, problems)
    assert ("a", "b") in edges
    reasons = {p.location.split("#")[0]: p.reason for p in problems}
    assert reasons["traces/broken.json"].startswith("not readable OTLP/JSON")
    assert reasons["traces/shape.json"] == "expected an object with a resourceSpans list"
    assert "no service.name" in " ".join(p.reason for p in problems)
    assert "1 spans without ids or times were skipped" in reasons["traces/partial.json"]


def test_enum_names_and_integer_values_are_accepted_leniently(write_tree: Callable[..., Path]) -> None:
    client = span("c", 3, 0, 10)
    client["kind"] = "SPAN_KIND_CLIENT"
    client["startTimeUnixNano"] = int(client["startTimeUnixNano"])
    server = span("s", 2, 1, 5, parent="c")
    server["kind"] = "SPAN_KIND_SERVER"
    root = write_tree({"traces/a.json": {"resourceSpans": [resource("a", client), resource("b", server)]}})
    assert ("a", "b") in derive(root)
