"""Table API reads through the shared `HttpSource`: authentication and offset paging.

OAuth uses the password grant of `POST /oauth_token.do`; the access token is fetched when
missing, again shortly before `expires_in` runs out, and once more when a read meets a 401
(the instance may revoke tokens early). Pages are followed while they come back full and the
upstream says there are more (`Link: …; rel="next"`, `X-Total-Count`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import anyio
import httpx
from opscontext_connectors.http import HttpSource, UpstreamError, segment, write_once

from opscontext_mcp.protocols import ConnectorContext

from .query import EncodedQuery
from .settings import ServiceNowSettings
from .values import value

TOKEN_PATH = "/oauth_token.do"
TOKEN_EARLY_SECONDS = 60.0
"""Renew a token this long before it expires (at most a tenth of its lifetime)."""


def _source(settings: ServiceNowSettings, context: ConnectorContext, auth: httpx.Auth | None) -> HttpSource:
    """The shared client, also keeping the OAuth client secret (and, once fetched, the access token) out of messages."""
    headers = {"Accept": "application/json"}
    if settings.token is not None:
        headers["Authorization"] = f"Bearer {settings.token.get_secret_value()}"
    return HttpSource(settings, context, headers=headers, auth=auth, secrets=(settings.client_secret,))


class _OAuthTokens:
    def __init__(self, http: HttpSource, form: Mapping[str, str]) -> None:
        self._http = http
        self._form = dict(form)
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = anyio.Lock()

    async def bearer(self) -> str:
        async with self._lock:
            token = self._token
            if token is None or time.monotonic() >= self._expires_at:
                token = await self._fetch()
            return token

    async def renew(self, rejected: str) -> str:
        """A token to replace one the upstream refused (unless a concurrent read renewed it already)."""
        async with self._lock:
            token = self._token
            if token is None or token == rejected:
                token = await self._fetch()
            return token

    async def _fetch(self) -> str:
        body, _ = await self._http.request_json("POST", TOKEN_PATH, data=self._form)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise UpstreamError(f"POST {self._http.base_url}{TOKEN_PATH}: answered without an access_token")
        lifetime = _number(body.get("expires_in"))
        if lifetime is None:
            self._expires_at = math.inf
        else:
            self._expires_at = time.monotonic() + lifetime - min(TOKEN_EARLY_SECONDS, lifetime / 10)
        self._http.add_secret(token)
        self._token = token
        return token


class TableClient:
    def __init__(self, settings: ServiceNowSettings, context: ConnectorContext) -> None:
        method = settings.auth_method
        basic = None
        if method == "basic":
            assert settings.username is not None and settings.password is not None
            basic = httpx.BasicAuth(settings.username, settings.password.get_secret_value())
        self.http = _source(settings, context, basic)
        self.page_size = settings.page_size
        self._tokens: _OAuthTokens | None = None
        if method == "oauth":
            assert settings.client_id and settings.client_secret and settings.username and settings.password
            form = {
                "grant_type": "password",
                "client_id": settings.client_id,
                "client_secret": settings.client_secret.get_secret_value(),
                "username": settings.username,
                "password": settings.password.get_secret_value(),
            }
            self._tokens = _OAuthTokens(self.http, form)

    @property
    def base_url(self) -> str:
        return self.http.base_url

    async def aclose(self) -> None:
        await self.http.aclose()

    async def get(self, path: str, params: Mapping[str, str]) -> tuple[Any, httpx.Response]:
        if self._tokens is None:
            return await self.http.get_json(path, params)
        token = await self._tokens.bearer()
        try:
            return await self.http.get_json(path, params, headers=_bearer(token))
        except UpstreamError as exc:
            if exc.status != 401:
                raise
        token = await self._tokens.renew(token)
        return await self.http.get_json(path, params, headers=_bearer(token))

    async def write(self, method: str, path: str, body: Any) -> tuple[Any, httpx.Response]:
        """One write, never repeated after an ambiguous failure; a 401 (not applied) renews the OAuth token once."""
        if self._tokens is None:
            return await write_once(self.http, method, path, body)
        token = await self._tokens.bearer()
        try:
            return await write_once(self.http, method, path, body, headers=_bearer(token))
        except UpstreamError as exc:
            if exc.status != 401:
                raise
        token = await self._tokens.renew(token)
        return await write_once(self.http, method, path, body, headers=_bearer(token))

    async def rows(self, table: str, fields: tuple[str, ...], query: EncodedQuery) -> list[Any]:
        """Every row of `table` matching `query`, page by page; a row repeated by a shifting page is kept once."""
        path = f"/api/now/table/{segment(table)}"
        rows: list[Any] = []
        seen: set[str] = set()
        offset = 0
        while True:
            params = {
                "sysparm_query": query.encode(),
                "sysparm_fields": ",".join(fields),
                "sysparm_display_value": "all",
                "sysparm_limit": str(self.page_size),
                "sysparm_offset": str(offset),
            }
            body, response = await self.get(path, params)
            page = body.get("result") if isinstance(body, dict) else None
            if not isinstance(page, list):
                raise UpstreamError(f"GET {self.base_url}{path}: answered without a result list", response.status_code)
            fresh = 0
            for row in page:
                sys_id = value(row, "sys_id") if isinstance(row, dict) else None
                if sys_id is not None:
                    if sys_id in seen:
                        continue
                    seen.add(sys_id)
                rows.append(row)
                fresh += 1
            offset += len(page)
            if not fresh or not _more(response, len(page), self.page_size, offset):
                return rows


def _more(response: httpx.Response, count: int, limit: int, fetched: int) -> bool:
    if count < limit:
        return False
    total = _number(response.headers.get("x-total-count"))
    if total is not None and fetched >= total:
        return False
    if "link" in response.headers:
        return "next" in response.links
    return True


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _number(raw: Any) -> float | None:
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None
