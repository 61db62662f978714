"""The `servicenow` connector: CMDB catalog, change requests and incidents through the Table API.

    connectors:
      - name: servicenow
        type: servicenow
        base_url: https://acme.service-now.com
        username: svc_opscontext
        password: ${SERVICENOW_PASSWORD}

Services are the CIs of `service_tables`, teams the active `sys_user_group` rows, declared
dependencies the "Depends on::Used by" rows of `cmdb_rel_ci` between served CIs (parent depends
on child). Every read asks for display values too (`sysparm_display_value=all`), so names come
with the sys_ids; stored values (UTC dates, choice codes) are what the mapping relies on.
See examples/config/servicenow.yaml for every setting.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import ClassVar

from opscontext_connectors.http import UpstreamError

from opscontext_mcp.model import Change, Incident
from opscontext_mcp.protocols import (
    Batch,
    Capability,
    CatalogData,
    ConnectorContext,
    ConnectorSettings,
    Health,
    Problem,
)

from .catalog import (
    CI_FIELDS,
    DEPENDS_ON,
    GROUP_FIELDS,
    GROUP_TABLE,
    RELATION_FIELDS,
    RELATION_TABLE,
    duplicate_names,
    map_cis,
    map_groups,
    map_relations,
)
from .client import TableClient
from .query import EncodedQuery
from .records import Origin
from .settings import ServiceNowSettings
from .tasks import (
    CHANGE_FIELDS,
    CHANGE_TABLE,
    INCIDENT_FIELDS,
    INCIDENT_TABLE,
    changes_query,
    incidents_query,
    map_changes,
    map_incidents,
)

__all__ = ["ServiceNowConnector", "ServiceNowSettings"]


class ServiceNowConnector:
    Settings: ClassVar[type[ConnectorSettings]] = ServiceNowSettings

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        assert isinstance(settings, ServiceNowSettings)
        self.name = settings.name
        self.capabilities = frozenset({Capability.CATALOG, Capability.CHANGES, Capability.INCIDENTS})
        self.settings = settings
        self.tables = TableClient(settings, context)

    def _origin(self) -> Origin:
        return Origin(source=self.name, base_url=self.tables.base_url, fetched_at=datetime.now(UTC))

    async def check(self) -> Health:
        started = time.perf_counter()
        params = {"sysparm_limit": "1", "sysparm_fields": "sys_id"}
        try:
            await self.tables.get(f"/api/now/table/{GROUP_TABLE}", params)
        except UpstreamError as exc:
            return Health(ok=False, detail=str(exc))
        elapsed = (time.perf_counter() - started) * 1000
        detail = f"{self.tables.base_url}: Table API readable ({self.settings.auth_method} auth)"
        return Health(ok=True, detail=detail, latency_ms=elapsed)

    async def aclose(self) -> None:
        await self.tables.aclose()

    async def fetch_catalog(self) -> CatalogData:
        origin = self._origin()
        problems: list[Problem] = []
        group_rows = await self.tables.rows(
            GROUP_TABLE, GROUP_FIELDS, EncodedQuery().where("active", "=", "true").order_by("sys_id")
        )
        groups = map_groups(group_rows, origin, problems)
        services: dict[str, str] = {}
        records = []
        for table in self.settings.service_tables:
            query = EncodedQuery().trusted(self.settings.ci_filter).order_by("sys_id")
            rows = await self.tables.rows(table, CI_FIELDS, query)
            # A parent table also returns its subclasses' rows: a CI listed twice is served once.
            for sys_id, service in map_cis(table, rows, origin, groups, problems):
                if sys_id not in services:
                    services[sys_id] = service.name
                    records.append(service)
        problems.extend(duplicate_names(records))
        relation_query = EncodedQuery().where("type.name", "=", DEPENDS_ON).order_by("sys_id")
        relation_rows = await self.tables.rows(RELATION_TABLE, RELATION_FIELDS, relation_query)
        dependencies = map_relations(relation_rows, origin, services, self.settings.service_tables, problems)
        return CatalogData(
            services=tuple(records),
            teams=tuple(groups.values()),
            dependencies=tuple(dependencies),
            problems=tuple(problems),
        )

    async def fetch_changes(self, since: datetime, until: datetime) -> Batch[Change]:
        origin = self._origin()
        problems: list[Problem] = []
        rows = await self.tables.rows(CHANGE_TABLE, CHANGE_FIELDS, changes_query(since))
        changes = map_changes(rows, origin, since, until, problems)
        return Batch(records=tuple(changes), problems=tuple(problems))

    async def fetch_incidents(self, since: datetime) -> Batch[Incident]:
        origin = self._origin()
        problems: list[Problem] = []
        rows = await self.tables.rows(INCIDENT_TABLE, INCIDENT_FIELDS, incidents_query(since))
        incidents = map_incidents(rows, origin, problems)
        return Batch(records=tuple(incidents), problems=tuple(problems))
