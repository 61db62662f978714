"""The `alertmanager` connector: the alerts a Prometheus Alertmanager holds now, from API v2.

    connectors:
      - name: alertmanager
        type: alertmanager
        base_url: http://alertmanager:9093
        filters: ['env="prod"', 'service=~"checkout|payment"']   # optional matchers, all must match
        receiver: team-.*                                      # optional: only alerts routed to these receivers

One `GET /api/v2/alerts` (a bare array, no paging) with `active`, `silenced`, `inhibited` and
`unprocessed` all true: a silenced or inhibited alert is served with its state and the silences
or inhibiting alerts behind it, so analysis can show it without letting it drive grouping.
Alertmanager has no auth of its own but often sits behind a proxy: `token` is sent as a bearer
token, `username` + `password` as Basic.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, field_validator

from opscontext_mcp.model import Alert
from opscontext_mcp.protocols import (
    Batch,
    Capability,
    ConnectorContext,
    ConnectorSettings,
    Health,
    Problem,
)

from ..http import BearerOrBasicSettings, HttpSource, UpstreamError, bearer_or_basic, probe
from ..values import each, text, utc_now
from .mapping import SERVICE_LABELS, alert_from_alertmanager, alert_key, describe_status
from .matchers import check_matcher, check_regex

ALERTS_PATH = "/api/v2/alerts"
STATUS_PATH = "/api/v2/status"
EVERY_STATE = (("active", "true"), ("silenced", "true"), ("inhibited", "true"), ("unprocessed", "true"))


class AlertmanagerSettings(BearerOrBasicSettings):
    filters: list[Annotated[str, AfterValidator(check_matcher)]] = Field(default_factory=list)
    """Matchers an alert must all satisfy, each sent as its own `filter` parameter."""
    receiver: Annotated[str, AfterValidator(check_regex)] | None = None
    """A regex on receiver names: only alerts routed to a matching receiver."""
    service_labels: list[str] = Field(default_factory=lambda: list(SERVICE_LABELS), min_length=1)
    """Labels that name an alert's service, the first one present winning."""

    @field_validator("service_labels")
    @classmethod
    def _labels_are_named(cls, labels: list[str]) -> list[str]:
        if not all(label.strip() for label in labels):
            raise ValueError("a service label must not be empty")
        return list(dict.fromkeys(labels))


class AlertmanagerConnector:
    Settings: ClassVar[type[ConnectorSettings]] = AlertmanagerSettings
    capabilities = frozenset({Capability.ALERTS})

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        assert isinstance(settings, AlertmanagerSettings)
        self.name = settings.name
        self.settings = settings
        headers, auth = bearer_or_basic(settings)
        self.http = HttpSource(settings, context, headers=headers, auth=auth)

    async def check(self) -> Health:
        async def status() -> str:
            body, _ = await self.http.get_json(STATUS_PATH)
            found = describe_status(body)
            if found is None:
                raise UpstreamError(f"GET {self.http.base_url}{STATUS_PATH}: answered without an Alertmanager status")
            return found

        return await probe(self.http.base_url, status)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_alerts(self) -> Batch[Alert]:
        fetched_at = utc_now()
        params = [*EVERY_STATE, *(("filter", matcher) for matcher in self.settings.filters)]
        if self.settings.receiver is not None:
            params.append(("receiver", self.settings.receiver))
        body, _ = await self.http.get_json(ALERTS_PATH, params=params)
        if not isinstance(body, list):
            raise UpstreamError(f"GET {self.http.base_url}{ALERTS_PATH}: expected an array of alerts")
        problems: list[Problem] = []
        alerts = each(
            body,
            "alerts",
            problems,
            lambda item: alert_from_alertmanager(
                item, self.name, fetched_at, text(item.get("fingerprint")), self.settings.service_labels
            ),
            key=alert_key,
        )
        return Batch(records=tuple(alerts), problems=tuple(problems))
