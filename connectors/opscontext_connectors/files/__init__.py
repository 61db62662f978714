"""The `files` connector: a folder of standard formats (see DESIGN.md, "the local files connector").

    connectors:
      - name: acme-shop
        type: files
        path: ./acme-shop          # relative to the config file

Capabilities are those whose files exist: catalog/, oncall.yaml, runbooks/, changes/,
alerts/, traces/, slos/ (OpenSLO v1 SLO and SLI documents, and journeys.yaml) — or just those listed
under `only:`. A refresh re-reads a capability's files only when one of them changed
(path, size or modification time), so a large estate costs little between edits; traces/ (OTLP/JSON documents or
JSON Lines, `.json` or `.jsonl`) is kept per file, and only a changed file is read again.

Observed dependencies count the spans that start within the telemetry window asked for; each edge's
stats carry that window clipped to the spans found in it (see `otlp.derive_dependencies`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import anyio.to_thread

from opscontext_mcp.model import Alert, Change, Dependency, Runbook
from opscontext_mcp.protocols import (
    Batch,
    Capability,
    CatalogData,
    ConnectorContext,
    ConnectorSettings,
    Health,
    OnCallData,
    SLOData,
)
from opscontext_mcp.traces import Span

from .backstage import read_catalog
from .otlp import TraceFiles
from .records import read_alerts, read_changes, read_oncall
from .runbooks import read_runbooks
from .slos import read_slos

T = TypeVar("T")


class FilesSettings(ConnectorSettings):
    path: Path
    only: list[Capability] | None = None
    """Use just these capabilities of the folder (e.g. `[runbooks]` when another source owns the catalog)."""


class FilesConnector:
    Settings: ClassVar[type[ConnectorSettings]] = FilesSettings

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        assert isinstance(settings, FilesSettings)
        self.name = settings.name
        self.root = (context.base_dir / settings.path).resolve()
        if not self.root.is_dir():
            raise ValueError(f"path: folder {self.root} does not exist")
        present = self._present()
        self.capabilities = frozenset(c for c in present if settings.only is None or c in settings.only)
        self._memo: dict[str, tuple[tuple[Any, ...], Any]] = {}
        self._traces = TraceFiles(self.root, lambda: self._files("traces", ".json", ".jsonl"), self.name, "traces/")

    def _present(self) -> list[Capability]:
        found = []
        if (self.root / "catalog").is_dir():
            found.append(Capability.CATALOG)
        if (self.root / "oncall.yaml").is_file():
            found.append(Capability.ONCALL)
        if (self.root / "runbooks").is_dir():
            found.append(Capability.RUNBOOKS)
        if (self.root / "changes").is_dir():
            found.append(Capability.CHANGES)
        if (self.root / "alerts").is_dir():
            found.append(Capability.ALERTS)
        if (self.root / "traces").is_dir():
            found += [Capability.TOPOLOGY, Capability.TRACES]
        if (self.root / "slos").is_dir():
            found.append(Capability.SLO)
        return found

    async def check(self) -> Health:
        started = time.perf_counter()
        if not self.root.is_dir():
            return Health(ok=False, detail=f"folder {self.root} does not exist")
        present = sorted(self._present())
        detail = f"{self.root}: {', '.join(present) if present else 'no known files'}"
        return Health(ok=bool(present), detail=detail, latency_ms=(time.perf_counter() - started) * 1000)

    async def aclose(self) -> None:
        return None

    def _files(self, folder: str, *suffixes: str) -> list[Path]:
        base = self.root / folder
        return sorted(p for p in base.rglob("*") if p.is_file() and p.suffix in suffixes)

    async def _read(self, key: str, files: Callable[[], list[Path]], read: Callable[[datetime], T]) -> T:
        """`read` in a worker thread, unless the files it depends on are unchanged since last time."""

        def signature() -> tuple[Any, ...]:
            found = []
            for path in files():
                try:
                    stat = path.stat()
                except FileNotFoundError:  # rotated away since it was listed: the read will not see it either
                    continue
                found.append((str(path), stat.st_mtime_ns, stat.st_size))
            return tuple(found)

        current = await anyio.to_thread.run_sync(signature)
        cached = self._memo.get(key)
        if cached is not None and cached[0] == current:
            return cached[1]
        fetched_at = datetime.now(UTC)
        result = await anyio.to_thread.run_sync(read, fetched_at)
        self._memo[key] = (current, result)
        return result

    def _descriptor_files(self) -> list[Path]:
        # Location targets may sit anywhere below the root, so any YAML there counts.
        return self._files(".", ".yaml", ".yml")

    async def fetch_catalog(self) -> CatalogData:
        return await self._read(
            "catalog", self._descriptor_files, lambda at: read_catalog(self.root, self.root / "catalog", self.name, at)
        )

    async def fetch_oncall(self) -> OnCallData:
        path = self.root / "oncall.yaml"
        return await self._read("oncall", lambda: [path], lambda at: read_oncall(path, self.root, self.name, at))

    async def fetch_runbooks(self) -> Batch[Runbook]:
        return await self._read(
            "runbooks",
            lambda: self._files("runbooks", ".md"),
            lambda at: read_runbooks(self.root / "runbooks", self.root, self.name, at),
        )

    async def fetch_changes(self, since: datetime, until: datetime) -> Batch[Change]:
        def files() -> list[Path]:
            return self._files("changes", ".yaml", ".yml", ".json")

        everything = await self._read("changes", files, lambda at: read_changes(files(), self.root, self.name, at))
        return Batch(
            records=tuple(c for c in everything.records if since <= c.at <= until), problems=everything.problems
        )

    async def fetch_alerts(self) -> Batch[Alert]:
        def files() -> list[Path]:
            return self._files("alerts", ".json")

        return await self._read("alerts", files, lambda at: read_alerts(files(), self.root, self.name, at))

    async def fetch_topology(self, since: datetime, until: datetime) -> Batch[Dependency]:
        return await anyio.to_thread.run_sync(self._traces.dependencies, since, until)

    async def fetch_spans(self, since: datetime, until: datetime) -> Batch[Span]:
        return await anyio.to_thread.run_sync(self._traces.spans, since, until)

    async def fetch_slos(self) -> SLOData:
        return await self._read(
            "slos",
            lambda: self._files("slos", ".yaml", ".yml"),
            lambda at: read_slos(self.root / "slos", self.root, self.name, at),
        )
