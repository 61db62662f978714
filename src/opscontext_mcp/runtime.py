"""What a server holds for its lifetime: the clock, the connectors and the snapshot cache."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio

from opscontext_mcp.analysis import prepare
from opscontext_mcp.cache import SnapshotCache
from opscontext_mcp.clock import Clock
from opscontext_mcp.config import AppConfig
from opscontext_mcp.protocols import Connector
from opscontext_mcp.snapshot import Snapshot
from opscontext_mcp.store import IncidentStore, UnknownIncident, exists

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: AppConfig
    connectors: Sequence[Connector]
    clock: Clock
    cache: SnapshotCache = field(init=False)
    _open: int = field(default=0, init=False, repr=False)
    _store: IncidentStore | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.cache = SnapshotCache.for_config(self.connectors, self.config, self.clock, prepare=prepare)

    async def snapshot(self) -> Snapshot:
        return await self.cache.get()

    @property
    def store(self) -> IncidentStore:
        """The incident store, opened on first use. With writes disabled a SQLite store that does not exist is
        not created (nor migrated): reading about incidents then says there are none."""
        if self._store is None:
            url, base = self.config.store.url, self.config.base_dir
            if not self.config.writes.enabled and not exists(url, base):
                raise UnknownIncident("no incident store: writes are disabled here and no store exists yet")
            self._store = IncidentStore(url, base_dir=base)
        return self._store

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Runtime]:
        """Keep the runtime open: warm the cache, refresh it in the background, close connectors at the end.

        Nested entries share the work: the CLI opens it for the whole process, and each MCP session
        opens it again through the server's lifespan, so a client that disconnects never closes the
        connectors or cancels a refresh others are waiting on. Only the outermost exit closes them.
        """
        self._open += 1
        try:
            async with anyio.create_task_group() as group:
                self.cache.attach(group)
                if self.cache.refresh_count == 0:
                    group.start_soon(self._warm)
                try:
                    yield self
                finally:
                    self.cache.detach(group)
                    group.cancel_scope.cancel()
        finally:
            self._open -= 1
            if self._open == 0:
                await self._close_connectors()

    async def _warm(self) -> None:
        try:
            await self.cache.refresh()
        except Exception:
            logger.exception("initial snapshot build failed; the first request will retry")

    async def _close_connectors(self) -> None:
        if self._store is not None:
            self._store.close()
        for connector in self.connectors:
            try:
                await connector.aclose()
            except Exception:
                logger.exception("closing connector %s failed", connector.name)
