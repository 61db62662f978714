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

import re
from datetime import datetime
from typing import ClassVar

from opscontext_mcp.model import Change, Delivery, Incident
from opscontext_mcp.protocols import (
    Batch,
    Capability,
    CatalogData,
    ConnectorContext,
    ConnectorSettings,
    Health,
    Problem,
)

from ..http import UpstreamError, probe, segment
from ..values import mapping, utc_now
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
from .values import value

__all__ = ["ServiceNowConnector", "ServiceNowSettings"]


SYS_ID = re.compile(r"[0-9a-f]{32}")
INCIDENT_NUMBER = re.compile(r"[A-Z]{2,10}[0-9]{4,12}")


class ServiceNowConnector:
    Settings: ClassVar[type[ConnectorSettings]] = ServiceNowSettings

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        assert isinstance(settings, ServiceNowSettings)
        self.name = settings.name
        self.capabilities = frozenset({Capability.CATALOG, Capability.CHANGES, Capability.INCIDENTS, Capability.NOTES})
        self.settings = settings
        self.tables = TableClient(settings, context)

    def _origin(self) -> Origin:
        return Origin(source=self.name, base_url=self.tables.base_url, fetched_at=utc_now())

    async def check(self) -> Health:
        async def groups() -> str:
            await self.tables.get(f"/api/now/table/{GROUP_TABLE}", {"sysparm_limit": "1", "sysparm_fields": "sys_id"})
            return f"Table API readable ({self.settings.auth_method} auth)"

        return await probe(self.tables.base_url, groups)

    async def aclose(self) -> None:
        await self.tables.aclose()

    async def add_note(self, ref: str, text_: str) -> Delivery:
        """A work note on incident `ref`: its sys_id, or its number (INC0012345), looked up first."""
        try:
            sys_id = ref if SYS_ID.fullmatch(ref) else await self._incident_sys_id(ref)
            path = f"/api/now/table/incident/{segment(sys_id)}"
            body, _ = await self.tables.write("PATCH", path, {"work_notes": text_})
        except (UpstreamError, ValueError) as exc:
            return Delivery(ok=False, error=str(exc))
        return Delivery(ok=True, ref=value(mapping(mapping(body).get("result")), "sys_id") or sys_id)

    async def _incident_sys_id(self, number: str) -> str:
        if not INCIDENT_NUMBER.fullmatch(number):
            raise ValueError(f"{number!r} is neither an incident sys_id nor an incident number like INC0012345")
        rows = await self.tables.rows("incident", ("sys_id",), EncodedQuery().where("number", "=", number))
        found = [value(row, "sys_id") for row in rows if isinstance(row, dict)]
        if len(found) != 1 or found[0] is None:
            raise ValueError(f"incident {number} is not one single incident in ServiceNow ({len(found)} found)")
        return found[0]

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
        # Only relations between CIs of the classes served: the relation table spans the whole CMDB.
        classes = sorted({c for r in records if (c := r.annotations.get("servicenow.com/ci-class"))})
        relation_query = EncodedQuery().where("type.name", "=", DEPENDS_ON)
        if classes and all(r.annotations.get("servicenow.com/ci-class") for r in records):
            relation_query.where_in("parent.sys_class_name", classes).where_in("child.sys_class_name", classes)
        relation_query.order_by("sys_id")
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
        names: dict[str, str] = {}
        changes = map_changes(rows, origin, since, until, problems, names)
        return Batch(records=tuple(changes), problems=tuple(problems), service_names=tuple(names.items()))

    async def fetch_incidents(self, since: datetime) -> Batch[Incident]:
        origin = self._origin()
        problems: list[Problem] = []
        rows = await self.tables.rows(INCIDENT_TABLE, INCIDENT_FIELDS, incidents_query(since))
        names: dict[str, str] = {}
        incidents = map_incidents(rows, origin, problems, names)
        return Batch(records=tuple(incidents), problems=tuple(problems), service_names=tuple(names.items()))
