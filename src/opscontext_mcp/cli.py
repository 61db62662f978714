"""`opscontext-mcp serve|check`. The only module that reads argv and the environment."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio

from opscontext_mcp import __version__
from opscontext_mcp.analysis.gaps import SEVERITIES, Finding, documentation_gaps
from opscontext_mcp.cache import SnapshotCache, redact
from opscontext_mcp.clock import Clock
from opscontext_mcp.config import AppConfig, ConfigError, load_config
from opscontext_mcp.graphs import GraphvizFailed, as_json, dependency_map, dot, mermaid, svg
from opscontext_mcp.protocols import Connector, Health
from opscontext_mcp.registry import build_connectors
from opscontext_mcp.server import build_runtime, build_server
from opscontext_mcp.snapshot import Snapshot
from opscontext_mcp.transports import TOKEN_ENV_VAR, UnsafeBinding, http_app, serve_http

SHOWN_PROBLEMS = 30


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("OPSCONTEXT_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One line per upstream request, URL and query included, is noise at INFO; failures are logged anyway.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        config = load_config(args.config)
        if args.command == "check":
            return anyio.run(check, config)
        if args.command in ("export-graph", "audit"):
            # Exit 1 is the audit's "gaps found": anything that breaks is 2, so CI can tell them apart.
            try:
                return anyio.run(export_graph if args.command == "export-graph" else audit, config, args)
            except Exception as exc:
                print(f"opscontext-mcp {args.command}: {type(exc).__name__}: {redact(str(exc))}", file=sys.stderr)
                return 2
        return serve(config, args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except UnsafeBinding as exc:
        print(f"opscontext-mcp: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opscontext-mcp", description="Operational context for incident response, over MCP."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the MCP server (stdio by default)")
    serve_cmd.add_argument("--config", help="config file (default: $OPSCONTEXT_CONFIG, else the bundled demo)")
    serve_cmd.add_argument("--transport", choices=("stdio", "sse", "http"), default="stdio")
    serve_cmd.add_argument("--host", default="127.0.0.1", help="HTTP/SSE bind address (default 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, default=8000)
    serve_cmd.add_argument("--now", type=_timestamp, help="fixed clock for replaying a recorded incident (RFC 3339)")
    serve_cmd.add_argument(
        "--stateless", action="store_true", help="HTTP: stateless JSON responses, for replicas behind a load balancer"
    )
    check_cmd = commands.add_parser("check", help="validate the config and probe every connector")
    check_cmd.add_argument("--config", help="config file (default: $OPSCONTEXT_CONFIG, else the bundled demo)")
    graph_cmd = commands.add_parser("export-graph", help="write the dependency map (mermaid, dot, json or svg)")
    graph_cmd.add_argument("--config", help="config file (default: $OPSCONTEXT_CONFIG, else the bundled demo)")
    graph_cmd.add_argument("--format", choices=("mermaid", "dot", "json", "svg"), default="mermaid")
    graph_cmd.add_argument("--service", help="only this service's neighbourhood")
    graph_cmd.add_argument("--depth", type=int, default=1, help="hops around --service (default 1)")
    graph_cmd.add_argument("--output", help="file to write (default: standard output)")
    audit_cmd = commands.add_parser("audit", help="report documentation gaps; for CI, fail at a severity")
    audit_cmd.add_argument("--config", help="config file (default: $OPSCONTEXT_CONFIG, else the bundled demo)")
    audit_cmd.add_argument("--format", choices=("md", "json"), default="md")
    audit_cmd.add_argument("--fail-on", choices=SEVERITIES, help="exit 1 when a gap at or above this severity is found")
    return parser


def _timestamp(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("expected an RFC 3339 time with a timezone, e.g. 2026-11-27T10:00:00Z")
    return moment


def serve(config: AppConfig, args: argparse.Namespace) -> int:
    runtime = build_runtime(config, now=args.now)
    server = build_server(runtime=runtime)
    if args.transport == "stdio":
        app = None
    else:
        token = os.environ.get(TOKEN_ENV_VAR) or None
        app = http_app(server, args.transport, args.host, token, stateless=args.stateless)
        logging.getLogger("opscontext_mcp").info(
            "serving %s at http://%s:%d%s (%s)",
            args.transport,
            args.host,
            args.port,
            "/sse" if args.transport == "sse" else "/mcp",
            "bearer token required" if token else "no token: loopback only",
        )

    async def run() -> None:
        async with runtime.running():
            if app is None:
                await server.run_stdio_async()
            else:
                await serve_http(app, args.host, args.port)

    anyio.run(run)
    return 0


async def check(config: AppConfig) -> int:
    """Probe each connector, then build one snapshot and report what it could not use."""
    connectors = build_connectors(config)
    rows = [("source", "type", "capabilities", "status", "ms", "detail")]
    healthy = True
    types = {entry["name"]: entry["type"] for entry in config.connectors}
    for connector in connectors:
        health = await _probe(connector, config.fetch_timeout(connector.name))
        healthy &= health.ok
        rows.append(
            (
                connector.name,
                types[connector.name],
                ",".join(sorted(connector.capabilities)) or "-",
                "ok" if health.ok else "FAIL",
                f"{health.latency_ms:.0f}" if health.latency_ms is not None else "-",
                health.detail,
            )
        )
    _print_table(rows)
    cache = SnapshotCache.for_config(connectors, config, Clock(config.now))
    started = time.perf_counter()
    snapshot = await cache.refresh()
    elapsed = (time.perf_counter() - started) * 1000
    failing = [s for s in snapshot.statuses if s.status != "ok"]
    print(
        f"\nsnapshot in {elapsed:.0f} ms: {len(snapshot.services)} services, {snapshot.graph.number_of_edges()} edges, "
        f"{len(snapshot.runbooks)} runbooks, {len(snapshot.changes)} changes, {len(snapshot.alerts)} alerts; "
        f"{len(snapshot.problems)} problems, {len(snapshot.unresolved)} unresolved names"
    )
    for status in failing:
        print(f"  FAIL {status.source} ({status.capability}): {status.error}")
    for item in snapshot.problems[:SHOWN_PROBLEMS]:
        print(f"  {item.problem.severity:7} {item.source}: {item.problem.location}: {item.problem.reason}")
    for item in snapshot.unresolved[: max(SHOWN_PROBLEMS - len(snapshot.problems), 0)]:
        print(f"  unresolved {item.source}: {item.what} {item.name!r}: {item.reason}")
    hidden = len(snapshot.problems) + len(snapshot.unresolved) - SHOWN_PROBLEMS
    if hidden > 0:
        print(f"  … and {hidden} more (read opscontext://sources for all)")
    for connector in connectors:
        await connector.aclose()
    return 0 if healthy and not failing else 1


async def _probe(connector: Connector, timeout: float) -> Health:
    try:
        with anyio.fail_after(timeout):
            return await connector.check()
    except TimeoutError:
        return Health(ok=False, detail=f"no answer within {timeout:g} s")
    except Exception as exc:  # a probe that raises is a failing source, reported like one
        return Health(ok=False, detail=redact(f"{type(exc).__name__}: {exc}")[:500])


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])


async def _snapshot(config: AppConfig) -> Snapshot:
    connectors = build_connectors(config)
    try:
        return await SnapshotCache.for_config(connectors, config, Clock(config.now)).refresh()
    finally:
        for connector in connectors:
            await connector.aclose()


async def export_graph(config: AppConfig, args: argparse.Namespace) -> int:
    snapshot = await _snapshot(config)
    service = None
    if args.service:
        resolved = snapshot.resolve(args.service)
        if resolved.id is None:
            print(f"opscontext-mcp: unknown service {args.service!r}; find_service lists names", file=sys.stderr)
            return 2
        service = resolved.id
    drawn = dependency_map(snapshot, Clock(config.now).now(), service, args.depth)
    try:
        text = {"mermaid": mermaid, "dot": dot, "json": as_json}.get(args.format, dot)(snapshot, drawn)
        data = svg(text) if args.format == "svg" else text.encode()
    except GraphvizFailed as exc:
        print(f"opscontext-mcp: {exc}", file=sys.stderr)
        return 2
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return 0


async def audit(config: AppConfig, args: argparse.Namespace) -> int:
    snapshot = await _snapshot(config)
    now = Clock(config.now).now()
    gaps = documentation_gaps(snapshot, now, timedelta(days=config.docs.max_age_days))
    if args.format == "json":
        print(json.dumps([dataclasses.asdict(g) for g in gaps], indent=2))
    else:
        print(audit_markdown(gaps, now))
    if args.fail_on is None:
        return 0
    floor = SEVERITIES.index(args.fail_on)
    return 1 if any(SEVERITIES.index(g.severity) >= floor for g in gaps) else 0


def audit_markdown(gaps: Sequence[Finding], now: datetime) -> str:
    lines = [f"# Documentation audit, {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC", ""]
    if not gaps:
        return "\n".join([*lines, "No gaps found."])
    counts = ", ".join(f"{n} {s}" for s in reversed(SEVERITIES) if (n := sum(g.severity == s for g in gaps)))
    lines += [
        f"{len(gaps)} gaps: {counts}.",
        "",
        "| severity | kind | service | finding | evidence |",
        "|---|---|---|---|---|",
    ]
    for gap in gaps:
        cells = (gap.severity, gap.kind, gap.service or "—", gap.summary, "; ".join(gap.evidence))
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    """A Markdown table cell: a `|` or a line break in a name cannot end it."""
    return " ".join(text.replace("|", "\\|").splitlines())
