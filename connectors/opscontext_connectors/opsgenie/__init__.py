"""The `opsgenie` connector: schedules, who holds them, and escalations.

    connectors:
      - name: opsgenie
        type: opsgenie
        token: ${OPSGENIE_API_KEY}          # an API key with read access
        base_url: https://api.eu.opsgenie.com   # EU accounts; the default is api.opsgenie.com

`GET /v2/schedules`, then each schedule's `GET /v2/schedules/{id}/timeline` for the next
`horizon_days`. Where a timeline cannot be had, the schedule's `GET /v2/schedules/{id}/on-calls`
says who is on call now, and only that: the shift is shown from now to an hour on and reported
as having unknown bounds. `GET /v2/escalations` gives the escalation policies. A list whose
body links a `paging.next` page on the same host is followed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import anyio
from pydantic import AnyHttpUrl, Field, SecretStr

from opscontext_mcp.model import EscalationPolicy, Provenance, Schedule
from opscontext_mcp.protocols import (
    Capability,
    ConnectorContext,
    ConnectorSettings,
    Health,
    HttpConnectorSettings,
    OnCallData,
    Problem,
)

from ..http import HttpSource, UpstreamError, segment
from .mapping import (
    BOUNDS_UNKNOWN_FOR,
    escalation_policy,
    listed,
    mapping,
    schedule_from_oncalls,
    schedule_from_timeline,
    text,
)

PARALLEL_REQUESTS = 8


class OpsgenieSettings(HttpConnectorSettings):
    base_url: AnyHttpUrl = AnyHttpUrl("https://api.opsgenie.com")
    token: SecretStr  # type: ignore[assignment]  # the API key: required here
    horizon_days: int = Field(default=7, ge=1, le=90)
    """How far ahead schedule timelines are read."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class OpsgenieConnector:
    Settings: ClassVar[type[ConnectorSettings]] = OpsgenieSettings
    capabilities = frozenset({Capability.ONCALL})

    def __init__(
        self, settings: ConnectorSettings, context: ConnectorContext, clock: Callable[[], datetime] | None = None
    ) -> None:
        assert isinstance(settings, OpsgenieSettings)
        self.name = settings.name
        self.settings = settings
        self.clock = clock or context.now
        """Windows are measured from the analysis clock; provenance says when data was really fetched."""
        headers = {"Authorization": f"GenieKey {settings.token.get_secret_value()}", "Accept": "application/json"}
        self.http = HttpSource(settings, context, headers=headers)

    async def check(self) -> Health:
        started = time.perf_counter()
        try:
            body, _ = await self.http.get_json("/v2/schedules")
        except UpstreamError as exc:
            return Health(ok=False, detail=str(exc))
        visible = len(listed(mapping(body).get("data")))
        return Health(
            ok=True,
            detail=f"{self.http.base_url}: key accepted, {visible} schedules visible",
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_oncall(self) -> OnCallData:
        now = self.clock()
        problems: list[Problem] = []
        found = await self._list("/v2/schedules", problems)
        schedules = [s for i, s in enumerate(found) if self._usable(s, f"schedules[{i}]", problems)]
        timelines = await self._timelines(schedules, now)
        built: list[Schedule] = []
        for item in schedules:
            schedule = await self._schedule(item, timelines[str(item["id"])], now, problems)
            if schedule is not None:
                built.append(schedule)
        policies: list[EscalationPolicy] = []
        for index, item in enumerate(await self._list("/v2/escalations", problems)):
            if not self._usable(item, f"escalations[{index}]", problems):
                continue
            provenance = Provenance(source=self.name, fetched_at=_utc_now(), ref=str(item["id"]))
            try:
                policies.append(escalation_policy(item, provenance, problems))
            except ValueError as exc:
                problems.append(Problem(location=f"escalations/{item['name']}", reason=str(exc)))
        return OnCallData(schedules=tuple(built), policies=tuple(policies), problems=tuple(problems))

    async def _schedule(
        self, item: dict[str, Any], timeline: dict[str, Any] | str, now: datetime, problems: list[Problem]
    ) -> Schedule | None:
        """From the timeline; else who `/on-calls` says is on call now, and only that; else nothing."""
        provenance = Provenance(source=self.name, fetched_at=_utc_now(), ref=str(item["id"]))
        if isinstance(timeline, dict):
            return schedule_from_timeline(item, timeline, provenance, problems)
        where = f"schedules/{item['name']}"
        try:
            body, _ = await self.http.get_json(
                f"/v2/schedules/{segment(str(item['id']))}/on-calls",
                params={"scheduleIdentifierType": "id", "flat": "false", "date": _utc_text(now)},
            )
        except UpstreamError as exc:
            problems.append(Problem(location=where, reason=f"{timeline}; who is on call now is unknown too: {exc}"))
            return None
        until = _utc_text(now + BOUNDS_UNKNOWN_FOR)
        reason = f"{timeline}; shift bounds unknown: who is on call now is shown until {until}, and nobody after"
        problems.append(Problem(location=where, reason=reason, severity="warning"))
        return schedule_from_oncalls(item, mapping(mapping(body).get("data")), now, provenance)

    @staticmethod
    def _usable(item: Any, location: str, problems: list[Problem]) -> bool:
        if isinstance(item, dict) and text(item.get("id")) and text(item.get("name")):
            return True
        problems.append(
            Problem(location=location, reason=f"expected an object with an id and a name, got {item!r:.120}")
        )
        return False

    async def _timelines(self, schedules: list[dict[str, Any]], now: datetime) -> dict[str, dict[str, Any] | str]:
        """Each schedule's final timeline by id, or why it could not be had; a few requests at a time."""
        answers: dict[str, dict[str, Any] | str] = {}
        limiter = anyio.CapacityLimiter(PARALLEL_REQUESTS)
        params = {
            "identifierType": "id",
            "date": _utc_text(now),
            "interval": self.settings.horizon_days,
            "intervalUnit": "days",
        }

        async def fetch(schedule_id: str) -> None:
            async with limiter:
                try:
                    body, _ = await self.http.get_json(f"/v2/schedules/{segment(schedule_id)}/timeline", params=params)
                except UpstreamError as exc:
                    answers[schedule_id] = f"timeline unavailable: {exc}"
                    return
            final = mapping(mapping(body).get("data")).get("finalTimeline")
            answers[schedule_id] = final if isinstance(final, dict) else "timeline unavailable: no finalTimeline"

        async with anyio.create_task_group() as group:
            for schedule in schedules:
                group.start_soon(fetch, str(schedule["id"]))
        return answers

    async def _list(self, path: str, problems: list[Problem]) -> list[Any]:
        """A list under `data`, and the pages `paging.next` links, while they stay on this host."""
        found: list[Any] = []
        params: list[tuple[str, str]] | None = None
        seen: set[str] = set()
        while True:
            body, _ = await self.http.get_json(path, params=params)
            items = mapping(body).get("data")
            if not isinstance(items, list):
                raise UpstreamError(f"GET {self.http.base_url}{path}: expected an object with a data list")
            found.extend(items)
            following = text(mapping(mapping(body).get("paging")).get("next"))
            if not items or following is None or following in seen:
                return found
            seen.add(following)
            link, base = urlsplit(following), urlsplit(self.http.base_url)
            elsewhere = link.netloc and (link.scheme, link.netloc) != (base.scheme, base.netloc)
            if elsewhere or not link.path.startswith(base.path):
                problems.append(
                    Problem(
                        location=path, reason="the next page lies outside base_url; not followed", severity="warning"
                    )
                )
                return found
            path, params = link.path[len(base.path) :], parse_qsl(link.query)
