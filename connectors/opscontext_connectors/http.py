"""What every built-in HTTP connector shares: one client, retries with backoff, safe errors.

A request that meets a 429, a 5xx or a network failure is tried again (`retries` times),
waiting twice as long each time, or as long as the upstream's Retry-After asks, never more
than `max_retry_wait_seconds`. Every other failure becomes an `UpstreamError` whose message
names the method, the path and the upstream's own explanation — never a header, a token or a
query string.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import anyio
import httpx
from pydantic import SecretStr, model_validator

from opscontext_mcp.protocols import ConnectorContext, Health, HttpConnectorSettings

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
FIRST_BACKOFF_SECONDS = 0.5
PARALLEL_REQUESTS = 8
"""Requests one connector keeps in flight when it fetches many records one by one."""

K = TypeVar("K")
T = TypeVar("T")

Params = Mapping[str, Any] | Sequence[tuple[str, Any]] | None


class UpstreamError(Exception):
    """An upstream failed or answered with an error. The message is safe to show to anyone."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def segment(value: str) -> str:
    """An upstream id made safe to put in a URL path: `/`, `?`, `#` are encoded; `.` and `..` are refused.

    A lone dot segment cannot be encoded away (clients and servers resolve `%2E%2E` too), so
    such an id raises `ValueError`, which callers report against the record.
    """
    if value.strip() in {"", ".", ".."}:
        raise ValueError(f"{value!r} is not an id that can be put in a URL path")
    return quote(value, safe="")


async def gather_bounded(
    keys: Iterable[K], fetch: Callable[[K], Awaitable[T]], limit: int = PARALLEL_REQUESTS
) -> dict[K, T | UpstreamError | ValueError]:
    """`fetch(key)` for every key, `limit` at a time; what each returned, or the error it raised."""
    answers: dict[K, T | UpstreamError | ValueError] = {}
    limiter = anyio.CapacityLimiter(limit)

    async def one(key: K) -> None:
        async with limiter:
            try:
                answers[key] = await fetch(key)
            except (UpstreamError, ValueError) as exc:
                answers[key] = exc

    async with anyio.create_task_group() as group:
        for key in dict.fromkeys(keys):
            group.start_soon(one, key)
    return answers


async def probe(base_url: str, ask: Callable[[], Awaitable[str]]) -> Health:
    """A connector's health check: `ask` makes one cheap request and says what it found."""
    started = time.perf_counter()
    try:
        found = await ask()
    except UpstreamError as exc:
        return Health(ok=False, detail=str(exc))
    return Health(ok=True, detail=f"{base_url}: {found}", latency_ms=(time.perf_counter() - started) * 1000)


class HttpSource:
    """One upstream's HTTP client. Opened lazily, reopened after `aclose`, shared by all its fetches."""

    def __init__(
        self,
        settings: HttpConnectorSettings,
        context: ConnectorContext,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        secrets: Iterable[SecretStr | None] = (),
    ) -> None:
        self.settings = settings
        self.context = context
        self.headers = dict(headers or {})
        self.auth = auth
        self._client: httpx.AsyncClient | None = None
        self._secrets: list[str] = []
        for secret in (settings.token, settings.password, *secrets):
            if secret is not None:
                self.add_secret(secret.get_secret_value())

    @property
    def base_url(self) -> str:
        return str(self.settings.base_url).rstrip("/")

    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=self.headers,
                auth=self.auth,
                timeout=self.settings.timeout_seconds,
                verify=self.settings.verify_tls,
                transport=self.context.transport,
                follow_redirects=False,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def add_secret(self, value: str) -> None:
        """One more value never to pass on, such as an access token obtained at run time."""
        if value and value not in self._secrets:
            self._secrets.append(value)

    def scrub(self, text: str) -> str:
        """Upstreams sometimes echo what they were sent; never pass a secret on."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    async def get_json(
        self, path: str, params: Params = None, headers: Mapping[str, str] | None = None
    ) -> tuple[Any, httpx.Response]:
        return await self.request_json("GET", path, params=params, headers=headers)

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> tuple[Any, httpx.Response]:
        """The decoded JSON body and the response, after retries; `UpstreamError` if that fails."""
        where = f"{method} {self.base_url}{path}"
        attempt = 0
        while True:
            try:
                response = await self.client().request(method, path, params=params, headers=headers, data=data)
            except httpx.TimeoutException as exc:
                failure = UpstreamError(
                    f"{where}: no answer within {self.settings.timeout_seconds:g} s ({type(exc).__name__})"
                )
                wait = None
            except httpx.TransportError as exc:
                failure = UpstreamError(f"{where}: cannot connect ({type(exc).__name__})")
                wait = None
            else:
                if response.status_code < 400:
                    return _decoded(response, where), response
                failure = UpstreamError(self.scrub(f"{where}: {_explain(response)}"), response.status_code)
                if response.status_code not in RETRIED_STATUSES:
                    raise failure
                wait = retry_after(response)
            if attempt >= self.settings.retries:
                raise failure
            pause = pause_before_retry(wait, attempt, self.settings.max_retry_wait_seconds)
            if pause is None:
                raise UpstreamError(f"{failure} {too_long(wait)}", failure.status)
            await self.context.sleep(pause)
            attempt += 1


async def write_once(
    http: HttpSource, method: str, path: str, body: Any, headers: Mapping[str, str] | None = None
) -> tuple[Any, httpx.Response]:
    """One attempt, never retried: an upstream that failed after applying a write (a timeout, a 5xx)
    must not apply it twice. An ambiguous failure says the write may have happened."""
    where = f"{method} {http.base_url}{path}"
    try:
        response = await http.client().request(method, path, json=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise UpstreamError(
            f"{where}: no answer within {http.settings.timeout_seconds:g} s ({type(exc).__name__}); it may have been applied"
        ) from None
    except httpx.ConnectError as exc:
        raise UpstreamError(f"{where}: cannot connect ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise UpstreamError(
            f"{where}: the connection failed ({type(exc).__name__}); it may have been applied"
        ) from None
    if response.status_code >= 400:
        # A gateway's 5xx may come after the upstream applied the write; a 4xx is a refusal.
        maybe = "; it may have been applied" if response.status_code >= 500 else ""
        raise UpstreamError(http.scrub(f"{where}: {_explain(response)}{maybe}"), response.status_code)
    return _decoded(response, where), response


def _decoded(response: httpx.Response, where: str) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UpstreamError(
            f"{where}: answered {response.status_code} with a body that is not JSON", response.status_code
        ) from None


def _explain(response: httpx.Response) -> str:
    """`401 Unauthorized: <the upstream's own message>`, from the error shapes the upstreams use."""
    reason = f"{response.status_code} {response.reason_phrase}".strip()
    hint = {401: " (check the token or credentials)", 403: " (the credentials lack a permission)"}.get(
        response.status_code, ""
    )
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return reason + hint
    message = None
    if isinstance(body, str):
        message = body  # Alertmanager answers a bad request with a bare JSON string
    elif isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message") or error.get("name")
            detail = error.get("detail") or error.get("errors")
            if detail:
                message = f"{message}: {detail}" if message else str(detail)
        elif isinstance(error, str):
            message = error
        message = message or body.get("message")
    return f"{reason}{hint}: {str(message)[:300]}" if message else reason + hint


def pause_before_retry(asked: float | None, attempt: int, cap: float) -> float | None:
    """How long to wait before retry `attempt + 1`: what the upstream asked, else exponential backoff
    capped at `cap`. None when the upstream asked for longer than `cap`: retrying sooner than asked
    would only be refused again, so the caller gives up and says when to come back instead."""
    if asked is not None:
        return asked if asked <= cap else None
    return min(FIRST_BACKOFF_SECONDS * 2**attempt, cap)


def too_long(asked: float | None) -> str:
    return f"(asked to retry after {asked:g} s, longer than max_retry_wait_seconds; not retried)"


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the upstream asked us to wait: `Retry-After: 30` or an HTTP date."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


class BearerOrBasicSettings(HttpConnectorSettings):
    """An upstream with no auth of its own (Alertmanager, Prometheus, Jaeger as they ship), whose proxy may
    want a bearer token or Basic credentials: one of them, not both."""

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> BearerOrBasicSettings:
        if self.token is not None and self.username is not None:
            raise ValueError("authenticate one way: token (bearer) or username + password (Basic), not both")
        return self


def bearer_or_basic(settings: HttpConnectorSettings) -> tuple[dict[str, str], httpx.Auth | None]:
    """JSON headers with the bearer token, or Basic auth, whichever the settings give."""
    headers = {"Accept": "application/json"}
    if settings.token is not None:
        headers["Authorization"] = f"Bearer {settings.token.get_secret_value()}"
        return headers, None
    if settings.username is not None and settings.password is not None:
        return headers, httpx.BasicAuth(settings.username, settings.password.get_secret_value())
    return headers, None
