"""Benchmark: every read tool on a generated 10,000-service estate, in memory and over stdio.

    .venv/bin/python -m bench.run            # prints the table
    .venv/bin/python -m bench.run --write    # and records it in bench/results.md

Reports snapshot build time (cold, and a refresh with unchanged files), peak RSS, the
bytes of tools/list, and p50/p99 of each read tool next to a no-op tool registered on the
same server, measured through the real MCP client.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from pydantic import BaseModel

from bench.generate import JOURNEYS, generate
from opscontext_mcp.analysis import prepare
from opscontext_mcp.cache import SnapshotCache
from opscontext_mcp.clock import Clock
from opscontext_mcp.config import AppConfig, parse_config
from opscontext_mcp.registry import build_connectors
from opscontext_mcp.server import build_server

HERE = Path(__file__).resolve().parent
ENV_DIR = HERE / "out" / "env10k"
GENERATOR_VERSION = "3"
SYMPTOMS = ["high latency", "connection pool exhaustion", "disk full", "replication lag", "queue backlog", "bad deploy"]


def ensure_environment(services: int) -> Path:
    root = ENV_DIR if services == 10_000 else HERE / "out" / f"env{services}"
    marker = root / ".generated"
    expected = f"{GENERATOR_VERSION}:{services}"
    if not marker.exists() or marker.read_text() != expected:
        started = time.perf_counter()
        facts = generate(root, services=services)
        marker.write_text(expected)
        print(f"generated {facts} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return root


def config_for(root: Path) -> AppConfig:
    raw = {"connectors": [{"name": "generated", "type": "files", "path": str(root)}], "now": "2026-11-27T10:00:00Z"}
    return parse_config(raw, base_dir=root, environ={})


def bench_server(root: Path):  # type: ignore[no-untyped-def]
    server = build_server(config_for(root))

    @server.tool()
    def noop() -> str:
        """Does nothing and answers plain text."""
        return "ok"

    @server.tool()
    def noop_structured() -> Ack:
        """Does nothing and answers a one-field structured result, like every read tool's shape."""
        return Ack(ok=True)

    return server


class Ack(BaseModel):
    ok: bool


def argument_makers(root: Path, seed: int = 11) -> dict[str, Callable[[], dict[str, Any]]]:
    rng = random.Random(seed)
    names = [
        line.split("name: ")[1]
        for line in (root / "catalog" / "all.yaml").read_text().splitlines()
        if line.startswith("  name: ") and not line.startswith("  name: team-")
    ]

    def some() -> str:
        return rng.choice(names)

    def typo() -> str:
        name = some()
        cut = rng.randrange(len(name))
        return name if rng.random() < 0.5 else name[:cut] + name[cut + 1 :]

    return {
        "noop": lambda: {},
        "noop_structured": lambda: {},
        "find_service": lambda: {"query": typo()},
        "who_owns": lambda: {"service": some()},
        "service_context": lambda: {"service": some()},
        "what_changed": lambda: {"service": some(), "since": "24h"},
        "dependency_neighbours": lambda: {"service": some()},
        "blast_radius": lambda: {"service": some()},
        "matching_runbook": lambda: {"service": some(), "symptom": rng.choice(SYMPTOMS)},
        "active_alerts": lambda: {"service": some()} if rng.random() < 0.5 else {},
        "slo_status": lambda: {"journey": f"journey-{rng.randrange(JOURNEYS)}"},
        "impact_summary": lambda: {"journey": f"journey-{rng.randrange(JOURNEYS)}"},
        "escalation_status": lambda: {"service": some()},
        "documentation_gaps": lambda: {"service": some()},
    }


async def measure(
    client: Client, makers: dict[str, Callable[[], dict[str, Any]]], calls: int
) -> dict[str, list[float]]:
    """Round-robin over the tools, so machine noise lands on every tool alike."""
    timings: dict[str, list[float]] = {tool: [] for tool in makers}
    for _ in range(calls):
        for tool, make in makers.items():
            arguments = make()
            started = time.perf_counter()
            result = await client.call_tool(tool, arguments)
            timings[tool].append((time.perf_counter() - started) * 1000)
            if result.is_error and "Unknown service" not in result.content[0].text:
                raise RuntimeError(f"{tool}({arguments}) failed: {result.content[0].text}")
    return timings


def quantile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q * 100) - 1]


async def snapshot_timings(root: Path) -> tuple[float, float, int, int]:
    config = config_for(root)
    cache = SnapshotCache(build_connectors(config), config.cache, Clock(config.now), prepare=prepare)
    started = time.perf_counter()
    snapshot = await cache.refresh()
    cold = time.perf_counter() - started
    started = time.perf_counter()
    await cache.refresh()
    warm = time.perf_counter() - started
    return cold, warm, len(snapshot.services), snapshot.graph.number_of_edges()


async def run(services: int, calls: int, stdio_calls: int) -> str:
    root = ensure_environment(services)
    makers = argument_makers(root)

    server = bench_server(root)
    async with Client(server) as client:
        listed = await client.list_tools()
        wire = [
            t.model_dump(by_alias=True, mode="json", exclude_none=True)
            for t in listed.tools
            if not t.name.startswith("noop")
        ]
        tools_bytes, tools_count = len(json.dumps(wire, separators=(",", ":")).encode()), len(wire)
        await client.call_tool("who_owns", makers["who_owns"]())
        memory = await measure(client, makers, calls)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cold, warm, nodes, edges = await snapshot_timings(root)

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "bench.run", "--serve", str(services)], cwd=str(HERE.parent)
    )
    async with Client(params, read_timeout_seconds=600) as client:
        await client.call_tool("who_owns", makers["who_owns"]())
        stdio = await measure(client, argument_makers(root), stdio_calls)

    baseline = statistics.median(stdio["noop_structured"])
    lines = [
        f"# Benchmark: {nodes:,} services, {edges:,} edges",
        "",
        f"Machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{_cpus()} CPUs. {calls} calls per tool in memory, {stdio_calls} over stdio, round-robin over the tools; "
        "arguments drawn at random (seeded) over all services; find_service gets a typo half the time. "
        "Two no-op tools on the same server: `noop` answers plain text, `noop_structured` a one-field "
        "structured result; every read tool answers structured content, so ratios are against the latter.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| snapshot build, cold (parse every file, join, graph, indices) | {cold:.2f} s |",
        f"| snapshot refresh, files unchanged | {warm:.2f} s |",
        f"| peak RSS: one server with its snapshot and an in-memory client | {peak_rss:.0f} MB |",
        f"| tools/list ({tools_count} read tools, compact JSON) | {tools_bytes:,} bytes |",
        "",
        "| tool | in memory p50 ms | p99 ms | stdio p50 ms | p99 ms | stdio p50 ÷ structured no-op p50 |",
        "|---|---|---|---|---|---|",
    ]
    for tool in makers:
        m, s = memory[tool], stdio[tool]
        lines.append(
            f"| {tool} | {statistics.median(m):.2f} | {quantile(m, 0.99):.2f} | {statistics.median(s):.2f} | "
            f"{quantile(s, 0.99):.2f} | {statistics.median(s) / baseline:.2f}× |"
        )
    return "\n".join(lines) + "\n"


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.run")
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--stdio-calls", type=int, default=200)
    parser.add_argument("--write", action="store_true", help="record the table in bench/results.md")
    parser.add_argument("--serve", type=int, metavar="SERVICES", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        bench_server(ensure_environment(args.serve)).run("stdio")
        return
    table = anyio.run(run, args.services, args.calls, args.stdio_calls)
    print(table)
    if args.write:
        (HERE / "results.md").write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
