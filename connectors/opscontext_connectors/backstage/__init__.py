"""The `backstage` connector: the software catalog's API, with its computed relations.

    connectors:
      - name: backstage
        type: backstage
        base_url: https://backstage.example.com
        token: ${BACKSTAGE_TOKEN}          # a static external-access token; omit for guest access

Reads `GET /api/catalog/entities/by-query` for the kinds it needs (one `filter` per kind:
separate filters are ORed), following `pageInfo.nextCursor` until it is absent. With a
cursor the catalog ignores filters, so later pages send only the cursor, the limit and the
fields. API entities are asked for by their names only: their `spec.definition` (a whole
OpenAPI document) is not needed and can be megabytes. A cursor seen before, or more than
`max_pages` pages, ends the read with a problem rather than looping.
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import Field

from opscontext_mcp.protocols import (
    Capability,
    CatalogData,
    ConnectorContext,
    ConnectorSettings,
    Health,
    HttpConnectorSettings,
    Problem,
)

from ..http import HttpSource, UpstreamError, probe
from ..values import utc_now
from .entities import CatalogBuilder, read_entity

ENTITIES_PATH = "/api/catalog/entities/by-query"
DEFAULT_FILTERS = ("kind=component", "kind=resource", "kind=system", "kind=group", "kind=user", "kind=api")
API_FIELDS = "apiVersion,kind,metadata.name,metadata.namespace"
"""All an API entity is read for: that it exists, so `providesApis`/`consumesApis` can name it."""
_API_FILTER = re.compile(r"(?:^|,)\s*kind\s*=\s*api\s*(?:,|$)", re.IGNORECASE)


class BackstageSettings(HttpConnectorSettings):
    filters: list[str] = Field(default_factory=lambda: list(DEFAULT_FILTERS))
    """Catalog filters, ORed; e.g. `kind=component,spec.lifecycle=production`."""
    page_size: int = Field(default=500, ge=1, le=10_000)
    max_pages: int = Field(default=1000, ge=1)
    """A guard against a catalog that never stops paging."""


class BackstageConnector:
    Settings: ClassVar[type[ConnectorSettings]] = BackstageSettings
    capabilities = frozenset({Capability.CATALOG})

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        assert isinstance(settings, BackstageSettings)
        self.name = settings.name
        self.settings = settings
        headers = {"Accept": "application/json"}
        if settings.token is not None:
            headers["Authorization"] = f"Bearer {settings.token.get_secret_value()}"
        self.http = HttpSource(settings, context, headers=headers)

    async def check(self) -> Health:
        async def entities() -> str:
            body, _ = await self.http.get_json(ENTITIES_PATH, params={"limit": 1})
            total = body.get("totalItems") if isinstance(body, dict) else None
            return "catalog answers" + (f", {total} entities" if total is not None else "")

        return await probe(self.http.base_url, entities)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_catalog(self) -> CatalogData:
        catalog = CatalogBuilder(source=self.name, fetched_at=utc_now())
        apis = [f for f in self.settings.filters if _API_FILTER.search(f)]
        others = [f for f in self.settings.filters if f not in apis]
        for filters, fields in ((others, None), (apis, API_FIELDS)):
            if filters:
                await self._read(catalog, filters, fields)
        return catalog.data()

    async def _read(self, catalog: CatalogBuilder, filters: list[str], fields: str | None) -> None:
        """Every page of one query into `catalog`."""
        extra: list[tuple[str, str | int]] = [("limit", self.settings.page_size)]
        if fields:
            extra.append(("fields", fields))
        params: list[tuple[str, str | int]] = [*(("filter", f) for f in filters), *extra]
        seen: set[str] = set()
        for _ in range(self.settings.max_pages):
            body, _ = await self.http.get_json(ENTITIES_PATH, params=params)
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise UpstreamError(f"GET {self.http.base_url}{ENTITIES_PATH}: expected an object with an items list")
            for entity in items:
                read_entity(catalog, entity, _where(entity))
            cursor = (body.get("pageInfo") or {}).get("nextCursor")
            if not cursor:
                return
            if not isinstance(cursor, str) or cursor in seen:
                catalog.problems.append(_cut(f"the catalog sent the cursor {str(cursor)[:40]!r} again"))
                return
            seen.add(cursor)
            params = [("cursor", cursor), *extra]
        catalog.problems.append(_cut(f"more than max_pages ({self.settings.max_pages}) pages"))


def _cut(why: str) -> Problem:
    return Problem(location=ENTITIES_PATH, reason=f"{why}; paging stopped, the catalog may be incomplete")


def _where(entity: object) -> str:
    """The entity's ref, where it has one, as the provenance of what it says."""
    if isinstance(entity, dict):
        metadata = entity.get("metadata") if isinstance(entity.get("metadata"), dict) else {}
        kind, name = entity.get("kind"), metadata.get("name")
        if isinstance(kind, str) and isinstance(name, str):
            return f"{kind.lower()}:{metadata.get('namespace') or 'default'}/{name}"
    return "entity without kind or name"
