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

from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

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

from ..http import HttpSource, UpstreamError, gather_bounded, probe, segment
from ..values import listed, mapping, text, utc_now, utc_text
from .schedules import BOUNDS_UNKNOWN_FOR, escalation_policy, schedule_from_oncalls, schedule_from_timeline


class OpsgenieSettings(HttpConnectorSettings):
    base_url: AnyHttpUrl = AnyHttpUrl("https://api.opsgenie.com")
    token: SecretStr  # type: ignore[assignment]  # the API key: required here
    horizon_days: int = Field(default=7, ge=1, le=90)
    """How far ahead schedule timelines are read."""


class OpsgenieConnector:
    Settings: ClassVar[type[ConnectorSettings]] = OpsgenieSettings
    capabilities = frozenset({Capability.ONCALL})

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        assert isinstance(settings, OpsgenieSettings)
        self.name = settings.name
        self.settings = settings
        self.clock = context.now
        """Windows are measured from the analysis clock; provenance says when data was really fetched."""
        headers = {"Authorization": f"GenieKey {settings.token.get_secret_value()}", "Accept": "application/json"}
        self.http = HttpSource(settings, context, headers=headers)

    async def check(self) -> Health:
        async def schedules() -> str:
            body, _ = await self.http.get_json("/v2/schedules")
            return f"key accepted, {len(listed(mapping(body).get('data')))} schedules visible"

        return await probe(self.http.base_url, schedules)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_oncall(self) -> OnCallData:
        now = self.clock()
        problems: list[Problem] = []
        found = await self._list("/v2/schedules", problems)
        schedules = {str(s["id"]): s for i, s in enumerate(found) if self._usable(s, f"schedules[{i}]", problems)}
        timelines = await gather_bounded(schedules, lambda schedule_id: self._timeline(schedule_id, now))
        without = [schedule_id for schedule_id, answer in timelines.items() if not isinstance(answer, dict)]
        oncalls = await gather_bounded(without, lambda schedule_id: self._oncalls(schedule_id, now))
        built: list[Schedule] = []
        for schedule_id, item in schedules.items():
            provenance = Provenance(source=self.name, fetched_at=utc_now(), ref=schedule_id)
            timeline = timelines[schedule_id]
            if isinstance(timeline, dict):
                built.append(schedule_from_timeline(item, timeline, provenance, problems))
                continue
            where, answer = f"schedules/{item['name']}", oncalls[schedule_id]
            if isinstance(answer, Exception):
                problems.append(
                    Problem(location=where, reason=f"{timeline}; who is on call now is unknown too: {answer}")
                )
                continue
            until = utc_text(now + BOUNDS_UNKNOWN_FOR)
            reason = f"{timeline}; shift bounds unknown: who is on call now is shown until {until}, and nobody after"
            problems.append(Problem(location=where, reason=reason, severity="warning"))
            built.append(schedule_from_oncalls(item, answer, now, provenance))
        policies: list[EscalationPolicy] = []
        for index, item in enumerate(await self._list("/v2/escalations", problems)):
            if not self._usable(item, f"escalations[{index}]", problems):
                continue
            provenance = Provenance(source=self.name, fetched_at=utc_now(), ref=str(item["id"]))
            try:
                policies.append(escalation_policy(item, provenance, problems))
            except ValueError as exc:
                problems.append(Problem(location=f"escalations/{item['name']}", reason=str(exc)))
        return OnCallData(schedules=tuple(built), policies=tuple(policies), problems=tuple(problems))

    async def _timeline(self, schedule_id: str, now: datetime) -> dict[str, Any] | str:
        """The schedule's final timeline over the horizon, or why it could not be had."""
        params = {"identifierType": "id", "date": utc_text(now), "interval": self.settings.horizon_days}
        try:
            body, _ = await self.http.get_json(
                f"/v2/schedules/{segment(schedule_id)}/timeline", params={**params, "intervalUnit": "days"}
            )
        except (UpstreamError, ValueError) as exc:
            return f"timeline unavailable: {exc}"
        final = mapping(mapping(body).get("data")).get("finalTimeline")
        return final if isinstance(final, dict) else "timeline unavailable: no finalTimeline"

    async def _oncalls(self, schedule_id: str, now: datetime) -> dict[str, Any]:
        """Who `/on-calls` says holds the schedule now: the fallback when its timeline cannot be had."""
        body, _ = await self.http.get_json(
            f"/v2/schedules/{segment(schedule_id)}/on-calls",
            params={"scheduleIdentifierType": "id", "flat": "false", "date": utc_text(now)},
        )
        return mapping(mapping(body).get("data"))

    @staticmethod
    def _usable(item: Any, location: str, problems: list[Problem]) -> bool:
        if isinstance(item, dict) and text(item.get("id")) and text(item.get("name")):
            return True
        problems.append(
            Problem(location=location, reason=f"expected an object with an id and a name, got {item!r:.120}")
        )
        return False

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
