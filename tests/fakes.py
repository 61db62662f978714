"""An in-memory connector obeying the real protocols, with failures on demand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio

from opscontext_mcp.model import (
    Alert,
    Change,
    Dependency,
    DependencyKind,
    EntityKind,
    Incident,
    Provenance,
    Runbook,
    Service,
    TrafficStats,
)
from opscontext_mcp.protocols import Batch, Capability, CatalogData, Health, OnCallData

FETCHED = datetime(2026, 11, 27, 9, 59, tzinfo=UTC)


def prov(source: str, ref: str | None = None) -> Provenance:
    return Provenance(source=source, fetched_at=FETCHED, ref=ref)


def service(name: str, source: str = "cat", owner: str | None = "group:default/team-x", **fields: Any) -> Service:
    return Service(name=name, owner=owner, provenance=prov(source, f"{name}.yaml"), **fields)


def resource(name: str, source: str = "cat", **fields: Any) -> Service:
    return service(name, source, kind=EntityKind.RESOURCE, **fields)


def declared(caller: str, callee: str, source: str = "cat") -> Dependency:
    return Dependency(caller=caller, callee=callee, kind=DependencyKind.DECLARED, provenance=prov(source))


def observed(caller: str, callee: str, requests: int = 100, errors: int = 0, source: str = "otel") -> Dependency:
    stats = TrafficStats(
        requests=requests,
        errors=errors,
        window_start=datetime(2026, 11, 27, 9, tzinfo=UTC),
        window_end=datetime(2026, 11, 27, 10, tzinfo=UTC),
        p50_ms=10.0,
        p95_ms=40.0,
        p99_ms=90.0,
    )
    return Dependency(
        caller=caller,
        callee=callee,
        kind=DependencyKind.OBSERVED,
        relation="calls",
        stats=stats,
        provenance=prov(source),
    )


class FakeConnector:
    """Serves fixed payloads; `fail_with` makes every fetch raise it, `hang` makes every fetch wait forever."""

    def __init__(
        self,
        name: str,
        catalog: CatalogData | None = None,
        topology: list[Dependency] | None = None,
        changes: list[Change] | None = None,
        alerts: list[Alert] | None = None,
        runbooks: list[Runbook] | None = None,
        oncall: OnCallData | None = None,
        incidents: list[Incident] | None = None,
    ) -> None:
        self.name = name
        self.catalog, self.topology, self.changes = catalog, topology, changes
        self.alerts, self.runbooks, self.oncall, self.incidents = alerts, runbooks, oncall, incidents
        present = {
            Capability.CATALOG: catalog,
            Capability.TOPOLOGY: topology,
            Capability.CHANGES: changes,
            Capability.ALERTS: alerts,
            Capability.RUNBOOKS: runbooks,
            Capability.ONCALL: oncall,
            Capability.INCIDENTS: incidents,
        }
        self.capabilities = frozenset(c for c, v in present.items() if v is not None)
        self.fail_with: Exception | None = None
        self.hang = False
        self.calls = 0
        self.closed = 0

    async def _serve(self, value: Any) -> Any:
        self.calls += 1
        if self.hang:
            await anyio.Event().wait()
        if self.fail_with is not None:
            raise self.fail_with
        return value

    async def check(self) -> Health:
        return Health(ok=self.fail_with is None, detail="fake")

    async def aclose(self) -> None:
        self.closed += 1

    async def fetch_catalog(self) -> CatalogData:
        return await self._serve(self.catalog)

    async def fetch_topology(self, since: datetime, until: datetime) -> Batch[Dependency]:
        return await self._serve(Batch(records=tuple(self.topology or ())))

    async def fetch_changes(self, since: datetime, until: datetime) -> Batch[Change]:
        return await self._serve(Batch(records=tuple(c for c in self.changes or () if since <= c.at <= until)))

    async def fetch_alerts(self) -> Batch[Alert]:
        return await self._serve(Batch(records=tuple(self.alerts or ())))

    async def fetch_runbooks(self) -> Batch[Runbook]:
        return await self._serve(Batch(records=tuple(self.runbooks or ())))

    async def fetch_oncall(self) -> OnCallData:
        return await self._serve(self.oncall)

    async def fetch_incidents(self, since: datetime) -> Batch[Incident]:
        return await self._serve(Batch(records=tuple(i for i in self.incidents or () if i.opened_at >= since)))
