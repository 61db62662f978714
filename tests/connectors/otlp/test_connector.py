from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import opscontext_connectors.files.otlp as trace_files
import pytest
from opscontext_connectors.files import FilesConnector, FilesSettings
from opscontext_connectors.otlp import OtlpConnector, OtlpSettings
from pydantic import ValidationError

from opscontext_mcp.config import ConfigError, load_config
from opscontext_mcp.model import Dependency
from opscontext_mcp.protocols import Capability, ConnectorContext
from opscontext_mcp.registry import build_connectors, installed_connector_types
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)
HOUR_BEFORE = (NOW - timedelta(hours=1), NOW)


def at(hour: int, minute: int, ms: int = 0) -> datetime:
    return datetime(2026, 11, 27, hour, minute, tzinfo=UTC) + timedelta(milliseconds=ms)


def span(
    span_id: str,
    kind: int,
    start: datetime,
    duration_ms: float,
    *,
    trace: str,
    parent: str = "",
    error: bool = False,
    **attributes: str,
) -> dict[str, Any]:
    start_ns = int(start.timestamp() * 1000) * 1_000_000
    return {
        "traceId": trace,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": span_id,
        "kind": kind,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(start_ns + int(duration_ms * 1_000_000)),
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()],
        "status": {"code": 2} if error else {},
    }


def request(*resources: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """An ExportTraceServiceRequest: one resource (service) per (service, spans) pair."""
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
            }
            for service, spans in resources
        ]
    }


def call(
    trace: str, caller: str, callee: str, start: datetime, duration_ms: float, error: bool = False
) -> dict[str, Any]:
    client = span(f"{trace}c", 3, start, duration_ms, trace=trace)
    server = span(f"{trace}s", 2, start + timedelta(milliseconds=1), duration_ms - 2, trace=trace, parent=f"{trace}c")
    server["status"] = {"code": 2} if error else {}
    return request((caller, [client]), (callee, [server]))


def lines(*items: dict[str, Any] | str) -> str:
    return "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in items)


def merged(*requests: dict[str, Any]) -> dict[str, Any]:
    return {"resourceSpans": [block for r in requests for block in r["resourceSpans"]]}


KAFKA = {"messaging.system": "kafka", "messaging.destination.name": "order-events"}


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    """A collector folder: two whole documents, a rotated-into JSON Lines file with a broken line, a late file."""
    folder = tmp_path / "exports"
    (folder / "rotated").mkdir(parents=True)
    (folder / "old.json").write_text(json.dumps(call("t0", "frontend", "checkout", at(8, 30), 100), indent=2))
    batch = merged(*(call(f"t{i}", "frontend", "checkout", at(9, 37 + 3 * i), 100 * i, i == 4) for i in range(1, 5)))
    (folder / "batch.json").write_text(json.dumps(batch, indent=2))
    (folder / "rotated" / "live.jsonl").write_text(
        lines(
            call("t5", "checkout", "payment", at(9, 50), 50),
            '{"resourceSpans": [{"resource": ',
            request(
                (
                    "checkout",
                    [
                        span("t6p", 4, at(9, 52), 2, trace="t6", **KAFKA),
                        span("t7c", 3, at(9, 53), 12, trace="t7", **{"db.system": "postgresql", "db.name": "orders"}),
                    ],
                )
            ),
            request(("loyalty", [span("t6q", 5, at(9, 52, 5), 3, trace="t6", parent="t6p", **KAFKA)])),
            request(("loyalty", [span("t8q", 5, at(9, 54), 3, trace="t8", **KAFKA)])),
        )
    )
    (folder / "late.json").write_text(json.dumps(call("t9", "frontend", "checkout", at(10, 5), 100), indent=2))
    (folder / "notes.txt").write_text("not an export")
    return folder


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files parsed, in order, through the one function that parses them."""
    seen: list[str] = []
    read = trace_files.read_spans

    def counting(path: Path, *args: Any, **kwargs: Any) -> list[trace_files.Span]:
        seen.append(path.name)
        return read(path, *args, **kwargs)

    monkeypatch.setattr(trace_files, "read_spans", counting)
    return seen


def otlp(folder: Path, **settings: Any) -> OtlpConnector:
    return OtlpConnector(
        OtlpSettings(name="otel", type="otlp", path=Path(folder.name), **settings),
        ConnectorContext(base_dir=folder.parent),
    )


def by_edge(records: tuple[Dependency, ...]) -> dict[tuple[str, str], Dependency]:
    return {(d.caller, d.callee): d for d in records}


async def test_edges_count_the_requests_errors_and_latency_of_spans_starting_in_the_window(exports: Path) -> None:
    edges = by_edge((await otlp(exports).fetch_topology(*HOUR_BEFORE)).records)
    assert {edge: (d.relation, d.stats.requests, d.stats.errors) for edge, d in edges.items() if d.stats} == {
        ("frontend", "checkout"): ("calls", 4, 1),
        ("checkout", "payment"): ("calls", 1, 0),
        ("checkout", "loyalty"): ("messaging", 1, 0),
        ("checkout", "orders"): ("database", 1, 0),
        ("loyalty", "order-events"): ("messaging", 1, 0),
    }
    stats = edges[("frontend", "checkout")].stats
    assert stats is not None and (stats.p50_ms, stats.p95_ms, stats.p99_ms) == (200.0, 400.0, 400.0)


async def test_stats_carry_the_window_clipped_to_the_spans_the_folder_holds_for_it(exports: Path) -> None:
    batch = await otlp(exports).fetch_topology(*HOUR_BEFORE)
    windows = {(d.stats.window_start, d.stats.window_end) for d in batch.records if d.stats}
    assert windows == {(at(9, 40), at(9, 54))}
    stats = by_edge(batch.records)[("frontend", "checkout")].stats
    assert stats is not None and stats.rate_per_second == pytest.approx(4 / (14 * 60))


async def test_edges_without_spans_in_the_window_are_absent(exports: Path) -> None:
    traces = otlp(exports)
    later = await traces.fetch_topology(NOW, NOW + timedelta(hours=1))
    assert [(d.caller, d.callee, d.stats and d.stats.requests) for d in later.records] == [("frontend", "checkout", 1)]
    assert (await traces.fetch_topology(at(7, 0), at(8, 0))).records == ()


async def test_a_broken_json_line_is_a_problem_naming_file_and_line_and_the_other_lines_are_read(exports: Path) -> None:
    batch = await otlp(exports).fetch_topology(*HOUR_BEFORE)
    assert [(p.location, p.reason.split(":")[0]) for p in batch.problems] == [
        ("rotated/live.jsonl:2", "not readable OTLP/JSON")
    ]
    assert ("loyalty", "order-events") in by_edge(batch.records)  # line 5, after the broken line


async def test_only_new_or_changed_files_are_parsed_again(exports: Path, parses: list[str]) -> None:
    traces = otlp(exports)
    first = await traces.fetch_topology(*HOUR_BEFORE)
    assert sorted(parses) == ["batch.json", "late.json", "live.jsonl", "old.json"]
    parses.clear()
    assert await traces.fetch_topology(*HOUR_BEFORE) is first
    assert parses == []
    with (exports / "rotated" / "live.jsonl").open("a", encoding="utf-8") as live:
        live.write(lines(call("t10", "checkout", "payment", at(9, 56), 40)))
    grown = by_edge((await traces.fetch_topology(*HOUR_BEFORE)).records)
    assert parses == ["live.jsonl"]
    assert grown[("checkout", "payment")].stats.requests == 2  # type: ignore[union-attr]
    (exports / "rotated" / "new.jsonl").write_text(lines(call("t11", "checkout", "shipping", at(9, 57), 30)))
    added = by_edge((await traces.fetch_topology(*HOUR_BEFORE)).records)
    assert parses == ["live.jsonl", "new.jsonl"]
    assert ("checkout", "shipping") in added and ("frontend", "checkout") in added


async def test_a_file_that_disappears_is_forgotten(exports: Path, parses: list[str]) -> None:
    traces = otlp(exports)
    await traces.fetch_topology(*HOUR_BEFORE)
    parses.clear()
    (exports / "batch.json").unlink()
    edges = by_edge((await traces.fetch_topology(*HOUR_BEFORE)).records)
    assert ("frontend", "checkout") not in edges and ("checkout", "payment") in edges
    assert parses == []


async def test_a_window_moving_on_lets_go_of_older_spans_and_an_earlier_window_reads_again(
    exports: Path, parses: list[str]
) -> None:
    traces = otlp(exports)
    first = await traces.fetch_topology(*HOUR_BEFORE)
    parses.clear()
    moved = by_edge((await traces.fetch_topology(at(9, 45), at(10, 45))).records)
    assert parses == []
    assert moved[("frontend", "checkout")].stats.requests == 3  # type: ignore[union-attr]
    again = await traces.fetch_topology(*HOUR_BEFORE)
    assert sorted(parses) == ["batch.json", "late.json", "live.jsonl", "old.json"]
    assert [(d.caller, d.callee, d.stats) for d in again.records] == [
        (d.caller, d.callee, d.stats) for d in first.records
    ]


async def test_the_pattern_chooses_which_files_are_exports(exports: Path) -> None:
    batch = await otlp(exports, pattern="rotated/*.jsonl").fetch_topology(*HOUR_BEFORE)
    assert ("frontend", "checkout") not in by_edge(batch.records)
    assert ("checkout", "payment") in by_edge(batch.records)
    with pytest.raises(ValidationError, match="relative to path"):
        OtlpSettings(name="otel", type="otlp", path=exports, pattern="/var/otel/*.json")


async def test_edges_carry_provenance_naming_the_connector_and_the_folder(exports: Path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    batch = await otlp(exports).fetch_topology(*HOUR_BEFORE)
    provenances = {d.provenance for d in batch.records}
    assert len(provenances) == 1
    (provenance,) = provenances
    assert provenance.source == "otel" and provenance.ref == exports.resolve().as_posix()
    assert before <= provenance.fetched_at <= datetime.now(UTC)
    assert all(d.kind == "observed" for d in batch.records)


async def test_check_counts_the_matching_files_and_when_they_were_written_without_parsing_them(
    exports: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, written in [("old.json", at(9, 15)), ("batch.json", at(9, 30)), ("late.json", at(9, 45))]:
        os.utime(exports / name, (written.timestamp(), written.timestamp()))
    os.utime(exports / "rotated" / "live.jsonl", (at(9, 40).timestamp(), at(9, 40).timestamp()))

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("check parsed a file")

    monkeypatch.setattr(trace_files, "read_spans", refuse)
    health = await otlp(exports).check()
    assert health.ok and health.latency_ms is not None
    assert health.detail.endswith("4 files match '**/*.json*', written 2026-11-27T09:15:00Z to 2026-11-27T09:45:00Z")


async def test_check_fails_when_no_file_matches_or_the_folder_is_gone(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    traces = otlp(folder)
    empty = await traces.check()
    assert not empty.ok and "no files match '**/*.json*'" in empty.detail
    folder.rmdir()
    gone = await traces.check()
    assert not gone.ok and "does not exist" in gone.detail


async def test_the_path_must_be_an_existing_folder_relative_to_the_config_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"path: folder .*absent does not exist"):
        otlp(tmp_path / "absent")
    (tmp_path / "config").mkdir()
    (tmp_path / "exports").mkdir()
    config_file = tmp_path / "config" / "opscontext.yaml"
    config_file.write_text("connectors:\n  - {name: otel, type: otlp, path: ../exports}\n", encoding="utf-8")
    (traces,) = build_connectors(load_config(config_file, environ={}))
    assert isinstance(traces, OtlpConnector) and traces.root == (tmp_path / "exports").resolve()
    assert traces.capabilities == {Capability.TOPOLOGY, Capability.TRACES}
    config_file.write_text("connectors:\n  - {name: otel, type: otlp, path: ../missing}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        build_connectors(load_config(config_file, environ={}))
    assert caught.value.problems == [f"connectors[0]: path: folder {(tmp_path / 'missing').resolve()} does not exist"]


async def test_the_connector_is_registered_under_its_entry_point() -> None:
    assert installed_connector_types()["otlp"] is OtlpConnector


async def test_the_example_config_reads_the_demo_traces_as_the_files_connector_does() -> None:
    config = load_config(EXAMPLES / "config" / "otlp.yaml", environ={})
    traces = next(c for c in build_connectors(config) if isinstance(c, OtlpConnector))
    demo = FilesConnector(
        FilesSettings(name="acme-shop", type="files", path=Path("acme-shop")), ConnectorContext(base_dir=EXAMPLES)
    )
    ours = await traces.fetch_topology(*HOUR_BEFORE)
    theirs = await demo.fetch_topology(*HOUR_BEFORE)
    assert len(ours.records) > 20 and ours.problems == ()
    assert [(d.caller, d.callee, d.relation, d.stats) for d in ours.records] == [
        (d.caller, d.callee, d.relation, d.stats) for d in theirs.records
    ]
