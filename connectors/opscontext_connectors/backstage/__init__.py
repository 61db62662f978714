"""The `backstage` connector: the software catalog's API, with its computed relations.

    connectors:
      - name: backstage
        type: backstage
        base_url: https://backstage.example.com
        token: ${BACKSTAGE_TOKEN}          # a static external-access token; omit for guest access

Reads `GET /api/catalog/entities/by-query` for the kinds it needs (one `filter` per kind:
separate filters are ORed), following `pageInfo.nextCursor` until it is absent. With a
cursor the catalog ignores filters, so later pages send only the cursor and the limit.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import Field

from opscontext_mcp.protocols import (
    Capability,
    CatalogData,
    ConnectorContext,
    ConnectorSettings,
    Health,
    HttpConnectorSettings,
)

from ..http import HttpSource, UpstreamError
from .entities import CatalogBuilder, read_entity

ENTITIES_PATH = "/api/catalog/entities/by-query"
DEFAULT_FILTERS = ("kind=component", "kind=resource", "kind=system", "kind=group", "kind=user", "kind=api")


class BackstageSettings(HttpConnectorSettings):
    filters: list[str] = Field(default_factory=lambda: list(DEFAULT_FILTERS))
    """Catalog filters, ORed; e.g. `kind=component,spec.lifecycle=production`."""
    page_size: int = Field(default=500, ge=1, le=10_000)


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
        started = time.perf_counter()
        try:
            body, _ = await self.http.get_json(ENTITIES_PATH, params={"limit": 1})
        except UpstreamError as exc:
            return Health(ok=False, detail=str(exc))
        total = body.get("totalItems") if isinstance(body, dict) else None
        detail = f"{self.http.base_url}: catalog answers" + (f", {total} entities" if total is not None else "")
        return Health(ok=True, detail=detail, latency_ms=(time.perf_counter() - started) * 1000)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_catalog(self) -> CatalogData:
        catalog = CatalogBuilder(source=self.name, fetched_at=datetime.now(UTC))
        params: list[tuple[str, str | int]] = [("filter", f) for f in self.settings.filters]
        params.append(("limit", self.settings.page_size))
        while True:
            body, _ = await self.http.get_json(ENTITIES_PATH, params=params)
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise UpstreamError(f"GET {self.http.base_url}{ENTITIES_PATH}: expected an object with an items list")
            for entity in items:
                read_entity(catalog, entity, _where(entity))
            cursor = (body.get("pageInfo") or {}).get("nextCursor")
            if not cursor:
                return catalog.data()
            params = [("cursor", cursor), ("limit", self.settings.page_size)]


def _where(entity: object) -> str:
    """The entity's ref, where it has one, as the provenance of what it says."""
    if isinstance(entity, dict):
        metadata = entity.get("metadata") if isinstance(entity.get("metadata"), dict) else {}
        kind, name = entity.get("kind"), metadata.get("name")
        if isinstance(kind, str) and isinstance(name, str):
            return f"{kind.lower()}:{metadata.get('namespace') or 'default'}/{name}"
    return "entity without kind or name"
