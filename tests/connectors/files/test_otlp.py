from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from opscontext_connectors.files import FilesConnector, FilesSettings
from opscontext_connectors.files.otlp import derive_dependencies
from opscontext_connectors.files.otlpjson import read_spans

from opscontext_mcp.protocols import ConnectorContext

AT = datetime(2026, 11, 27, 10, tzinfo=UTC)
BASE = datetime(2026, 11, 27, 9, tzinfo=UTC)
BASE_NS = 1_795_770_000_000_000_000
"""BASE in nanoseconds: the spans below start at 09:00Z plus their `start_ms`."""


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


def derive(  # type: ignore[no-untyped-def]
    root: Path, problems: list[Any] | None = None, since: datetime = BASE, until: datetime = AT
):
    found: list[Any] = [] if problems is None else problems
    spans = [
        span
        for path in sorted((root / "traces").glob("*.json*"))
        for span in read_spans(path, path.relative_to(root).as_posix(), found)
    ]
    return {(d.caller, d.callee): d for d in derive_dependencies(spans, since, until, "otel", AT, "traces/").records}


def json_lines(*requests: dict[str, Any] | str) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in requests)


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


def test_a_consumer_whose_producer_is_out_of_reach_makes_no_queue_edge(write_tree: Callable[..., Path]) -> None:
    """Its producer (before the window, or rotated away) counted the request; the consumer must not add another."""
    orphan = span("sub", 5, 30, 3, parent="gone", **{"messaging.destination.name": "order-events"})
    root = write_tree({"traces/a.json": {"resourceSpans": [resource("loyalty", orphan)]}})
    assert derive(root) == {}


def test_malformed_attribute_values_and_kinds_skip_that_span_only(write_tree: Callable[..., Path]) -> None:
    bad_array = span("c1", 3, 0, 10)
    bad_array["attributes"] = [{"key": "peer.service", "value": {"arrayValue": {"values": 3}}}]
    bad_shape = span("c2", 3, 0, 10, trace="t2")
    bad_shape["attributes"] = [{"key": "peer.service", "value": {"arrayValue": "x"}}]
    bad_kind = span("c3", 3, 0, 10, trace="t3", **{"peer.service": "stripe"})
    bad_kind["kind"] = "\u00b2"  # a digit to str.isdigit(), not to int()
    good = span("c4", 3, 0, 10, trace="t4", **{"peer.service": "stripe"})
    root = write_tree({"traces/a.json": {"resourceSpans": [resource("payment", bad_array, bad_shape, bad_kind, good)]}})
    problems: list[Any] = []
    edges = derive(root, problems)
    assert edges[("payment", "stripe")].stats.requests == 1
    assert problems == []  # odd values are dropped as values, the spans still count where they can


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
    assert reasons["traces/shape.json:1"] == "expected an object with a resourceSpans list"  # one line: JSON Lines
    assert "no service.name" in " ".join(p.reason for p in problems)
    assert "1 spans without usable ids, times or fields were skipped" in reasons["traces/partial.json"]


def test_enum_names_and_integer_values_are_accepted_leniently(write_tree: Callable[..., Path]) -> None:
    client = span("c", 3, 0, 10)
    client["kind"] = "SPAN_KIND_CLIENT"
    client["startTimeUnixNano"] = int(client["startTimeUnixNano"])
    server = span("s", 2, 1, 5, parent="c")
    server["kind"] = "SPAN_KIND_SERVER"
    root = write_tree({"traces/a.json": {"resourceSpans": [resource("a", client), resource("b", server)]}})
    assert ("a", "b") in derive(root)


def test_json_lines_are_read_request_by_request_and_a_bad_line_is_a_problem_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "traces.json"
    path.write_text(
        json_lines(
            {"resourceSpans": [resource("a", span("c1", 3, 0, 10))]},
            '{"resourceSpans": [{"resource": ',
            {"resourceSpans": [resource("b", span("s1", 2, 1, 5, parent="c1"))]},
        )
        + "\n"
        + json_lines({"resourceSpans": [resource("a", span("c2", 3, 20, 10, trace="t2", **{"peer.service": "z"}))]}),
        encoding="utf-8",
    )
    problems: list[Any] = []
    spans = read_spans(path, "traces.json", problems)
    assert [s.span_id for s in spans] == ["c1", "s1", "c2"]
    assert [(p.location, p.reason.split(":")[0]) for p in problems] == [("traces.json:2", "not readable OTLP/JSON")]


def test_a_jsonl_file_is_json_lines_even_when_its_first_line_is_broken(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    path.write_text(json_lines('{"resourceSpans": [', {"resourceSpans": [resource("a", span("c", 3, 0, 1))]}))
    problems: list[Any] = []
    assert [s.span_id for s in read_spans(path, "live.jsonl", problems)] == ["c"]
    assert [p.location for p in problems] == ["live.jsonl:1"]


def test_a_pretty_printed_document_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    document = {"resourceSpans": [resource("a", span("c", 3, 0, 10)), resource("b", span("s", 2, 1, 5, parent="c"))]}
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    problems: list[Any] = []
    assert [s.span_id for s in read_spans(path, "export.json", problems)] == ["c", "s"]
    assert problems == []


def test_spans_ending_before_the_window_are_dropped_as_they_are_read(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"resourceSpans": [resource("a", span("old", 3, 0, 10), span("new", 3, 60_000, 10))]}))
    kept = read_spans(path, "export.json", [], ending_from_ns=BASE_NS + 30_000 * 1_000_000)
    assert [s.span_id for s in kept] == ["new"]


def test_a_request_counts_when_the_span_measuring_it_starts_in_the_window(write_tree: Callable[..., Path]) -> None:
    frontend = [
        span("early", 3, 500, 600, trace="t1", **{"server.address": "checkout.svc"}),
        span("late", 3, 4_990, 30, trace="t2", **{"server.address": "checkout.svc"}),
    ]
    checkout = [
        span("s1", 2, 1_001, 90, parent="early", trace="t1"),
        span("s2", 2, 5_010, 5, parent="late", trace="t2"),
    ]
    root = write_tree(
        {"traces/a.json": {"resourceSpans": [resource("frontend", *frontend), resource("checkout", *checkout)]}}
    )
    edges = derive(root, since=BASE + timedelta(seconds=1), until=BASE + timedelta(seconds=5))
    assert list(edges) == [("frontend", "checkout")]  # the late call pairs with its server span: no checkout.svc
    assert edges[("frontend", "checkout")].stats.requests == 1
    assert edges[("frontend", "checkout")].stats.p50_ms == 30.0


def test_stats_carry_the_window_clipped_to_the_spans_found_in_it(write_tree: Callable[..., Path]) -> None:
    minute = 60_000
    calls = [span(f"c{i}", 3, (10 + i) * minute, 250, trace=f"t{i}", **{"peer.service": "db"}) for i in range(11)]
    root = write_tree({"traces/a.json": {"resourceSpans": [resource("api", *calls)]}})
    stats = derive(root, since=BASE, until=BASE + timedelta(hours=1))[("api", "db")].stats
    assert (stats.window_start, stats.window_end) == (BASE + timedelta(minutes=10), BASE + timedelta(minutes=20))
    assert stats.requests == 11 and stats.rate_per_second == pytest.approx(11 / 600)
    overrunning = derive(root, since=BASE + timedelta(minutes=15), until=BASE + timedelta(minutes=20, seconds=0.1))
    stats = overrunning[("api", "db")].stats
    assert stats.requests == 6
    assert (stats.window_start, stats.window_end) == (BASE + timedelta(minutes=15), BASE + timedelta(minutes=20))


def test_no_span_starting_in_the_window_means_no_edges(write_tree: Callable[..., Path]) -> None:
    root = write_tree(
        {"traces/a.json": {"resourceSpans": [resource("api", span("c", 3, 0, 10, **{"peer.service": "db"}))]}}
    )
    assert derive(root, since=BASE + timedelta(seconds=1), until=AT) == {}
    assert ("api", "db") in derive(root, since=BASE, until=AT)


@pytest.mark.anyio
async def test_the_files_connector_serves_its_telemetry_window_from_json_and_json_lines(
    write_tree: Callable[..., Path],
) -> None:
    def call(i: int, start_ms: float) -> list[dict[str, Any]]:
        return [
            {"resourceSpans": [resource("frontend", span(f"c{i}", 3, start_ms, 100, trace=f"t{i}"))]},
            {
                "resourceSpans": [
                    resource("checkout", span(f"s{i}", 2, start_ms + 1, 90, parent=f"c{i}", trace=f"t{i}"))
                ]
            },
        ]

    root = write_tree(
        {
            "traces/old.json": {
                "resourceSpans": [r for request in call(0, -3_600_000) for r in request["resourceSpans"]]
            },
            "traces/live.jsonl": json_lines(*call(1, 1_000), *call(2, 2_000)),
        }
    )
    files = FilesConnector(FilesSettings(name="local", type="files", path=root), ConnectorContext(base_dir=Path("/")))
    batch = await files.fetch_topology(BASE, AT)
    (edge,) = batch.records
    assert (edge.caller, edge.callee, edge.stats.requests) == ("frontend", "checkout", 2)
    assert edge.provenance.source == "local" and edge.provenance.ref == "traces/"
    assert await files.fetch_topology(BASE, AT) is batch


def test_trace_files_answer_the_spans_overlapping_a_window_and_keep_them_through_topology_reads(
    write_tree: Callable[..., Path],
) -> None:
    from opscontext_connectors.files.otlp import TraceFiles

    early = span("a", 2, 0, 10)  # 09:00:00.000 - 09:00:00.010
    middle = span("b", 2, 60_000, 10, trace="t2")  # 09:01
    late = span("c", 2, 120_000, 10, trace="t3")  # 09:02
    root = write_tree({"traces/a.json": {"resourceSpans": [resource("web", early, middle, late)]}})
    files = TraceFiles(root, lambda: sorted((root / "traces").glob("*.json")), "local", "traces/")
    minute = timedelta(minutes=1)

    before = files.spans(BASE + minute / 2, BASE + minute + minute / 2)
    files.dependencies(BASE + 2 * minute, BASE + 3 * minute)  # a later, shorter window
    after = files.spans(BASE + minute / 2, BASE + minute + minute / 2)

    assert [s.span_id for s in before.records] == ["b"]
    assert [s.span_id for s in after.records] == ["b"] and after.problems == ()
    assert [s.span_id for s in files.spans(BASE, BASE + 3 * minute).records] == ["a", "b", "c"]
