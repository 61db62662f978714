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

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import AnyHttpUrl, Field, SecretStr

from opscontext_mcp.model import Change, Delivery, Incident
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

from ..http import HttpSource, UpstreamError, gather_bounded, probe, segment, write_once
from ..values import each, mapping, text, utc_now, utc_text
from .events import changes_from_event, incident_from_pagerduty
from .oncall import OnCallReader

ACCEPT = "application/vnd.pagerduty+json;version=2"
POLICY_IDS_PER_REQUEST = 50
"""Policies asked about per `/oncalls` request, so the query string stays well inside URL limits."""
MAX_OFFSET = 10_000
"""PagerDuty refuses to page past this offset (UNCONFIRMED); a list that long is reported as cut."""
MAX_INCIDENT_RANGE = timedelta(days=180)
"""`/incidents` refuses a since/until range longer than six months."""
OPEN_STATUSES = ("triggered", "acknowledged")
NEWEST_FIRST = ("sort_by", "created_at:desc")


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
    from_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    """The PagerDuty user notes are written as (the `From` header an account token needs)."""


class PagerDutyConnector:
    Settings: ClassVar[type[ConnectorSettings]] = PagerDutySettings
    capabilities = frozenset({Capability.ONCALL, Capability.CHANGES, Capability.INCIDENTS, Capability.NOTES})

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        assert isinstance(settings, PagerDutySettings)
        self.name = settings.name
        self.settings = settings
        self.clock = context.now
        """Windows are measured from the analysis clock; provenance says when data was really fetched."""
        headers = {"Authorization": f"Token token={settings.token.get_secret_value()}", "Accept": ACCEPT}
        self.http = HttpSource(settings, context, headers=headers)

    async def check(self) -> Health:
        async def users() -> str:
            await self.http.get_json("/users", params={"limit": 1})
            return "token accepted"

        return await probe(self.http.base_url, users)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def add_note(self, ref: str, text_: str) -> Delivery:
        """A note on incident `ref` (its PagerDuty id), written once: a failed attempt is not repeated."""
        if self.settings.from_email is None:
            return Delivery(
                ok=False, error=f"{self.name}: from_email is needed to write notes (PagerDuty's From header)"
            )
        try:
            path = f"/incidents/{segment(ref)}/notes"
            body, _ = await write_once(
                self.http, "POST", path, {"note": {"content": text_}}, headers={"From": self.settings.from_email}
            )
        except (UpstreamError, ValueError) as exc:
            return Delivery(ok=False, error=str(exc))
        return Delivery(ok=True, ref=text(mapping(mapping(body).get("note")).get("id")))

    async def fetch_oncall(self) -> OnCallData:
        now = self.clock()
        reader = OnCallReader(
            source=self.name, now=now, until=now + timedelta(days=self.settings.horizon_days), fetched_at=utc_now()
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
            oncalls.extend(await self._list("/oncalls", "oncalls", params, reader.problems, by_id=False))
        return reader.read(policies, by_policy, oncalls)

    async def fetch_changes(self, since: datetime, until: datetime) -> Batch[Change]:
        fetched_at = utc_now()
        problems: list[Problem] = []
        params = [("since", utc_text(since)), ("until", utc_text(until)), *self._teams()]
        events = await self._list("/change_events", "change_events", params, problems)
        wanted = self.settings.service_ids
        names: dict[str, str] = {}
        per_event = each(
            events,
            "change_events",
            problems,
            lambda item: changes_from_event(item, self.name, fetched_at, wanted, names),
        )
        return Batch(
            records=tuple(change for changes in per_event for change in changes),
            problems=tuple(problems),
            service_names=tuple(names.items()),
        )

    async def fetch_incidents(self, since: datetime) -> Batch[Incident]:
        """Every incident still open however old it is, and those resolved since `since`."""
        fetched_at = utc_now()
        problems: list[Problem] = []
        # PagerDuty refuses an empty range, and one longer than six months.
        until = max(self.clock(), since + timedelta(minutes=1))
        if until - since > MAX_INCIDENT_RANGE:
            since = until - MAX_INCIDENT_RANGE
            problems.append(
                Problem(
                    location="/incidents",
                    reason=f"PagerDuty serves at most {MAX_INCIDENT_RANGE.days} days of incidents; "
                    f"resolved ones are read from {utc_text(since)}",
                    severity="warning",
                )
            )
        scope = [*(("service_ids[]", service_id) for service_id in self.settings.service_ids), *self._teams()]
        still_open = [*(("statuses[]", status) for status in OPEN_STATUSES), ("date_range", "all")]
        resolved = [("statuses[]", "resolved"), ("since", utc_text(since)), ("until", utc_text(until))]
        items: list[Any] = []
        seen: set[str] = set()
        for params in (still_open, resolved):
            for item in await self._list("/incidents", "incidents", [*params, NEWEST_FIRST, *scope], problems):
                item_id = text(mapping(item).get("id"))
                if item_id in seen:
                    continue  # resolved between the two reads: shown once, as it was while open
                items.append(item)
                if item_id is not None:
                    seen.add(item_id)
        names: dict[str, str] = {}
        incidents = each(
            items, "incidents", problems, lambda item: incident_from_pagerduty(item, self.name, fetched_at, names)
        )
        return Batch(records=tuple(incidents), problems=tuple(problems), service_names=tuple(names.items()))

    def _teams(self) -> list[tuple[str, str]]:
        return [("team_ids[]", team_id) for team_id in self.settings.team_ids]

    async def _list(
        self, path: str, key: str, params: Sequence[tuple[str, str]], problems: list[Problem], by_id: bool = True
    ) -> list[Any]:
        """Every page of a classic offset-paged list; with `by_id`, a record a later page repeats is kept once."""
        found: list[Any] = []
        seen: set[str] = set()
        offset = 0
        while True:
            body, _ = await self.http.get_json(
                path, params=[*params, ("limit", self.settings.page_size), ("offset", offset)]
            )
            items = body.get(key) if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise UpstreamError(f"GET {self.http.base_url}{path}: expected an object with a {key} list")
            offset += len(items)
            if by_id:
                ids = [text(mapping(item).get("id")) for item in items]
                fresh = [
                    item for item, item_id in zip(items, ids, strict=True) if item_id is None or item_id not in seen
                ]
                seen.update(item_id for item_id in ids if item_id is not None)
                if items and not fresh:
                    problems.append(
                        Problem(location=path, reason="PagerDuty sent a page again; paging stopped", severity="warning")
                    )
                    return found
                items = fresh
            found.extend(items)
            if not body.get("more") or not items:
                return found
            if offset >= MAX_OFFSET:
                problems.append(
                    Problem(location=path, reason=f"only the first {offset} {key} were read", severity="warning")
                )
                return found

    async def _policies(self, policy_ids: list[str], problems: list[Problem]) -> dict[str, dict[str, Any]]:
        """Each policy by id, fetched a few at a time; one that is gone or hidden is a problem, not a failure."""

        async def fetch(policy_id: str) -> Any:
            body, _ = await self.http.get_json(f"/escalation_policies/{segment(policy_id)}")
            return body

        answers = await gather_bounded(policy_ids, fetch)
        found = {}
        for policy_id in policy_ids:
            answer = answers[policy_id]
            where = f"escalation_policies/{policy_id}"
            if isinstance(answer, UpstreamError) and answer.status not in (403, 404):
                raise answer
            if isinstance(answer, UpstreamError | ValueError):
                problems.append(Problem(location=where, reason=str(answer)))
            elif not (policy := mapping(mapping(answer).get("escalation_policy"))):
                problems.append(Problem(location=where, reason="expected an object with an escalation_policy"))
            else:
                found[policy_id] = policy
        return found
