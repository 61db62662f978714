"""The `pagerduty` connector: on-call, escalation, change events and incidents from REST API v2.

    connectors:
      - name: pagerduty
        type: pagerduty
        token: ${PAGERDUTY_TOKEN}        # a REST API key (read-only is enough)
        service_ids: [P7XK2, PCHK9QZ]    # optional: only these services
        team_ids: [PTEAM01]              # optional: only these teams' services, changes, incidents

On-call: `GET /services` (with their escalation policies and teams), `GET
/escalation_policies/{id}` for each policy those services use, then `GET /oncalls` for those
policies over the next `horizon_days`. Lists are paged with `limit`/`offset` while the body
says `more`; array parameters repeat with `[]` (`include[]=users&include[]=teams`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import anyio
from pydantic import AnyHttpUrl, Field, SecretStr

from opscontext_mcp.model import Change, Incident
from opscontext_mcp.protocols import (
    Batch,
    Capability,
    ConnectorContext,
    ConnectorSettings,
    Health,
    HttpConnectorSettings,
    OnCallData,
    Problem,
)

from ..http import HttpSource, UpstreamError, segment
from .events import change_from_event, incident_from_pagerduty
from .oncall import OnCallReader
from .values import each, mapping, utc_text

ACCEPT = "application/vnd.pagerduty+json;version=2"
POLICY_IDS_PER_REQUEST = 50
"""Policies asked about per `/oncalls` request, so the query string stays well inside URL limits."""
PARALLEL_REQUESTS = 8
MAX_OFFSET = 10_000
"""PagerDuty refuses to page past this offset (UNCONFIRMED); a list that long is reported as cut."""


class PagerDutySettings(HttpConnectorSettings):
    base_url: AnyHttpUrl = AnyHttpUrl("https://api.pagerduty.com")
    token: SecretStr  # type: ignore[assignment]  # required here, optional for HTTP connectors at large
    service_ids: list[str] = Field(default_factory=list)
    """Serve only these services (PagerDuty ids); empty means every service the token sees."""
    team_ids: list[str] = Field(default_factory=list)
    """Ask only for these teams' services, change events and incidents."""
    page_size: int = Field(default=100, ge=1, le=100)
    horizon_days: int = Field(default=7, ge=1, le=90)
    """How far ahead on-call shifts are fetched."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PagerDutyConnector:
    Settings: ClassVar[type[ConnectorSettings]] = PagerDutySettings
    capabilities = frozenset({Capability.ONCALL, Capability.CHANGES, Capability.INCIDENTS})

    def __init__(
        self, settings: ConnectorSettings, context: ConnectorContext, clock: Callable[[], datetime] | None = None
    ) -> None:
        assert isinstance(settings, PagerDutySettings)
        self.name = settings.name
        self.settings = settings
        self.clock = clock or context.now
        """Windows are measured from the analysis clock; provenance says when data was really fetched."""
        headers = {"Authorization": f"Token token={settings.token.get_secret_value()}", "Accept": ACCEPT}
        self.http = HttpSource(settings, context, headers=headers)

    async def check(self) -> Health:
        started = time.perf_counter()
        try:
            await self.http.get_json("/users", params={"limit": 1})
        except UpstreamError as exc:
            return Health(ok=False, detail=str(exc))
        return Health(
            ok=True, detail=f"{self.http.base_url}: token accepted", latency_ms=(time.perf_counter() - started) * 1000
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_oncall(self) -> OnCallData:
        now = self.clock()
        reader = OnCallReader(
            source=self.name, now=now, until=now + timedelta(days=self.settings.horizon_days), fetched_at=_utc_now()
        )
        services = await self._list(
            "/services",
            "services",
            [("include[]", "escalation_policies"), ("include[]", "teams"), *self._teams()],
            reader.problems,
        )
        by_policy = reader.services_by_policy(services, self.settings.service_ids)
        policies = await self._policies(list(by_policy), reader.problems)
        oncalls: list[Any] = []
        policy_ids = list(policies)
        for first in range(0, len(policy_ids), POLICY_IDS_PER_REQUEST):
            chunk = policy_ids[first : first + POLICY_IDS_PER_REQUEST]
            params = [
                ("include[]", "users"),
                ("since", utc_text(reader.now)),
                ("until", utc_text(reader.until)),
                *(("escalation_policy_ids[]", policy_id) for policy_id in chunk),
            ]
            oncalls.extend(await self._list("/oncalls", "oncalls", params, reader.problems))
        return reader.read(policies, by_policy, oncalls)

    async def fetch_changes(self, since: datetime, until: datetime) -> Batch[Change]:
        fetched_at = _utc_now()
        problems: list[Problem] = []
        params = [("since", utc_text(since)), ("until", utc_text(until)), *self._teams()]
        events = await self._list("/change_events", "change_events", params, problems)
        wanted = self.settings.service_ids
        changes = each(
            events, "change_events", problems, lambda item: change_from_event(item, self.name, fetched_at, wanted)
        )
        return Batch(records=tuple(changes), problems=tuple(problems))

    async def fetch_incidents(self, since: datetime) -> Batch[Incident]:
        fetched_at = _utc_now()
        # PagerDuty refuses an empty range.
        until = max(self.clock(), since + timedelta(minutes=1))
        problems: list[Problem] = []
        params = [
            *(("statuses[]", status) for status in ("triggered", "acknowledged", "resolved")),
            ("since", utc_text(since)),
            ("until", utc_text(until)),
            ("sort_by", "created_at:desc"),
            *(("service_ids[]", service_id) for service_id in self.settings.service_ids),
            *self._teams(),
        ]
        items = await self._list("/incidents", "incidents", params, problems)
        incidents = each(
            items, "incidents", problems, lambda item: incident_from_pagerduty(item, self.name, fetched_at)
        )
        return Batch(records=tuple(incidents), problems=tuple(problems))

    def _teams(self) -> list[tuple[str, str]]:
        return [("team_ids[]", team_id) for team_id in self.settings.team_ids]

    async def _list(self, path: str, key: str, params: Sequence[tuple[str, str]], problems: list[Problem]) -> list[Any]:
        """Every page of a classic offset-paged list."""
        found: list[Any] = []
        offset = 0
        while True:
            body, _ = await self.http.get_json(
                path, params=[*params, ("limit", self.settings.page_size), ("offset", offset)]
            )
            items = body.get(key) if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise UpstreamError(f"GET {self.http.base_url}{path}: expected an object with a {key} list")
            found.extend(items)
            offset += len(items)
            if not body.get("more") or not items:
                return found
            if offset >= MAX_OFFSET:
                problems.append(
                    Problem(location=path, reason=f"only the first {offset} {key} were read", severity="warning")
                )
                return found

    async def _policies(self, policy_ids: list[str], problems: list[Problem]) -> dict[str, dict[str, Any]]:
        """Each policy by id, fetched a few at a time; one that is gone or hidden is a problem, not a failure."""
        answers: dict[str, Any] = {}
        limiter = anyio.CapacityLimiter(PARALLEL_REQUESTS)

        async def fetch(policy_id: str) -> None:
            async with limiter:
                try:
                    answers[policy_id], _ = await self.http.get_json(f"/escalation_policies/{segment(policy_id)}")
                except UpstreamError as exc:
                    answers[policy_id] = exc

        async with anyio.create_task_group() as group:
            for policy_id in policy_ids:
                group.start_soon(fetch, policy_id)
        found = {}
        for policy_id in policy_ids:
            answer = answers[policy_id]
            where = f"escalation_policies/{policy_id}"
            if isinstance(answer, UpstreamError):
                if answer.status not in (403, 404):
                    raise answer
                problems.append(Problem(location=where, reason=str(answer)))
            elif not (policy := mapping(mapping(answer).get("escalation_policy"))):
                problems.append(Problem(location=where, reason="expected an object with an escalation_policy"))
            else:
                found[policy_id] = policy
        return found
