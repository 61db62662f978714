"""The `jaeger` connector: which service called which, as Jaeger's dependency view counted it.

    connectors:
      - name: jaeger
        type: jaeger
        base_url: http://jaeger-query:16686   # the query service (UI port), with its base path if one is set
        # token: ${JAEGER_TOKEN}              # only behind an authenticating proxy: a bearer token,
        # username: ops                       # or username + password (Basic)
        # password: ${JAEGER_PASSWORD}

`GET /api/dependencies?endTs=<unix ms>&lookback=<ms>` over the asked window, the same
internal API Jaeger's UI draws its system architecture view from; `GET /api/services` for
the health check. Edges come only from a dependency store: with Cassandra or Elasticsearch
the spark-dependencies job must run, so an empty answer is reported, not trusted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from opscontext_mcp.model import Dependency, DependencyKind, Provenance, TrafficStats
from opscontext_mcp.protocols import (
    Batch,
    Capability,
    ConnectorContext,
    ConnectorSettings,
    Health,
    Problem,
)

from ..http import BearerOrBasicSettings, HttpSource, UpstreamError, bearer_or_basic, probe
from ..values import each, listed, mapping, text, utc_now

DEPENDENCIES = "/api/dependencies"
SERVICES = "/api/services"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DIGITS = re.compile(r"[0-9]+")
Edge = tuple[str, str]


class JaegerSettings(BearerOrBasicSettings):
    """No auth by default, as Jaeger ships; a proxy in front may want a bearer token or Basic credentials."""


class JaegerConnector:
    Settings: ClassVar[type[ConnectorSettings]] = JaegerSettings
    capabilities = frozenset({Capability.TOPOLOGY})

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        assert isinstance(settings, JaegerSettings)
        self.name = settings.name
        headers, auth = bearer_or_basic(settings)
        self.http = HttpSource(settings, context, headers=headers, auth=auth)

    async def check(self) -> Health:
        async def services() -> str:
            return f"{len(await self._data(SERVICES, None, []))} services traced"

        return await probe(self.http.base_url, services)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_topology(self, since: datetime, until: datetime) -> Batch[Dependency]:
        fetched_at = utc_now()
        problems: list[Problem] = []
        params = {"endTs": _millis(until - EPOCH), "lookback": _millis(until - since)}
        entries = await self._data(DEPENDENCIES, params, problems)
        if not entries:
            reason = (
                "Jaeger counted no calls in the window; with Cassandra or Elasticsearch, has the dependency job run?"
            )
            problems.append(Problem(location=DEPENDENCIES, reason=reason, severity="warning"))
        counts: dict[Edge, int] = {}
        for edge, calls in each(entries, "dependencies", problems, _edge, key=_edge_name):
            counts[edge] = counts.get(edge, 0) + calls
        provenance = Provenance(source=self.name, fetched_at=fetched_at)
        dependencies = tuple(
            Dependency(
                caller=parent,
                callee=child,
                kind=DependencyKind.OBSERVED,
                relation="calls",
                stats=TrafficStats(requests=calls, window_start=since, window_end=until),
                provenance=provenance,
            )
            for (parent, child), calls in counts.items()
        )
        return Batch(records=dependencies, problems=tuple(problems))

    async def _data(self, path: str, params: dict[str, int] | None, problems: list[Problem]) -> list[Any]:
        """The `data` list of Jaeger's response envelope; errors it lists beside data are problems."""
        body, _ = await self.http.get_json(path, params=params)
        envelope = mapping(body)
        errors = [
            self.http.scrub(message)
            for error in listed(envelope.get("errors"))
            if (message := text(mapping(error).get("msg")))
        ]
        data = envelope.get("data")
        if data is None and errors:
            raise UpstreamError(f"GET {self.http.base_url}{path}: Jaeger answered with errors: {'; '.join(errors)}")
        if not isinstance(body, dict) or "data" not in body or not isinstance(data, list | None):
            raise UpstreamError(f"GET {self.http.base_url}{path}: expected an object with a data list")
        problems.extend(Problem(location=path, reason=f"Jaeger: {message}", severity="warning") for message in errors)
        return data or []


def _edge(item: dict[str, Any]) -> tuple[Edge, int] | None:
    """An edge and its calls; None for one not worth an edge (a service calling itself, no calls)."""
    parent, child = text(item.get("parent")), text(item.get("child"))
    if parent is None or child is None:
        raise ValueError("a dependency needs a parent and a child service")
    calls = _count(item.get("callCount"))
    if parent == child or calls == 0:
        return None
    return (parent, child), calls


def _edge_name(item: dict[str, Any]) -> str | None:
    parent, child = text(item.get("parent")), text(item.get("child"))
    return f"{parent}->{child}" if parent and child else None


def _count(value: Any) -> int:
    """A call count: a JSON number, or the decimal string protobuf's JSON makes of a 64-bit integer."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value)
    raise ValueError(f"callCount: expected a count of calls, got {value!r:.60}")


def _millis(span: timedelta) -> int:
    return span // timedelta(milliseconds=1)
