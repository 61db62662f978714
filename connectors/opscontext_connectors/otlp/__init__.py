"""The `otlp` connector: observed dependencies from a folder of OTLP/JSON trace exports.

    connectors:
      - name: otel-traces
        type: otlp
        path: /var/lib/otelcol/traces   # relative to the config file
        pattern: "**/*.json*"          # the default: .json and .jsonl, subfolders included

Any folder of exports will do: what the OpenTelemetry Collector's file exporter writes (JSON
Lines, one ExportTraceServiceRequest per line, rotated files beside the live one) or whole
OTLP/JSON documents. Edges are derived as the `files` connector derives them from traces/
(servicegraph rules, virtual nodes, consumer → queue; see files/otlp.py), and with the same
window rule: a request counts when the span that measures it starts within [since, until), and
each edge's stats carry that window clipped to the spans found in it — from the earliest start
to the latest end — so a folder holding ten minutes of a sixty-minute window reports its rate
over those ten minutes. Edges with no request in the window are absent.

Parsed spans are kept per file and a file is parsed again only when its modification time or
size changes; a file being appended to is therefore read again whole, which the exporter's
rotation (`rotation.max_megabytes`) keeps bounded.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import ClassVar

import anyio.to_thread
from pydantic import field_validator

from opscontext_mcp.model import Dependency
from opscontext_mcp.protocols import Batch, Capability, ConnectorContext, ConnectorSettings, Health
from opscontext_mcp.traces import Span

from ..files.otlp import TraceFiles
from ..values import utc_text


class OtlpSettings(ConnectorSettings):
    path: Path
    """The folder of exports, relative to the config file's folder."""
    pattern: str = "**/*.json*"
    """Which files under `path` are exports: a glob relative to it (`**/` reaches into subfolders)."""

    @field_validator("pattern")
    @classmethod
    def _a_relative_glob(cls, pattern: str) -> str:
        if not pattern.strip() or PurePath(pattern).is_absolute():
            raise ValueError("must be a non-empty glob relative to path, such as **/*.json*")
        return pattern


class OtlpConnector:
    Settings: ClassVar[type[ConnectorSettings]] = OtlpSettings
    capabilities = frozenset({Capability.TOPOLOGY, Capability.TRACES})

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        assert isinstance(settings, OtlpSettings)
        self.name = settings.name
        self.pattern = settings.pattern
        self.root = (context.base_dir / settings.path).resolve()
        if not self.root.is_dir():
            raise ValueError(f"path: folder {self.root} does not exist")
        self._traces = TraceFiles(self.root, self._exports, self.name, ref=self.root.as_posix())

    def _exports(self) -> list[Path]:
        return sorted(p for p in self.root.glob(self.pattern) if p.is_file())

    async def check(self) -> Health:
        """How many files match and when they were written; nothing is parsed."""
        started = time.perf_counter()
        health = await anyio.to_thread.run_sync(self._look)
        return dataclasses.replace(health, latency_ms=(time.perf_counter() - started) * 1000)

    def _look(self) -> Health:
        if not self.root.is_dir():
            return Health(ok=False, detail=f"folder {self.root} does not exist")
        versions = self._traces.versions()
        if not versions:
            return Health(ok=False, detail=f"{self.root}: no files match {self.pattern!r}")
        written = sorted(datetime.fromtimestamp(mtime_ns / 1e9, tz=UTC) for mtime_ns, _ in versions.values())
        return Health(
            ok=True,
            detail=f"{self.root}: {len(versions)} files match {self.pattern!r}, "
            f"written {utc_text(written[0])} to {utc_text(written[-1])}",
        )

    async def aclose(self) -> None:
        return None

    async def fetch_topology(self, since: datetime, until: datetime) -> Batch[Dependency]:
        return await anyio.to_thread.run_sync(self._traces.dependencies, since, until)

    async def fetch_spans(self, since: datetime, until: datetime) -> Batch[Span]:
        return await anyio.to_thread.run_sync(self._traces.spans, since, until)
