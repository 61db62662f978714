"""What slo_status and impact_summary return."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from opscontext_mcp.model import Provenance
from opscontext_mcp.replies import Freshness
from opscontext_mcp.schemas import Reply


class WindowView(Reply):
    window: str
    events: float
    bad: float
    error_ratio: float | None = None
    burn: float | None = None
    coverage: float | None = None
    """The share of the window the source's data covered, when less than all of it."""


class TierView(Reply):
    tier: str
    severity: Literal["page", "ticket"]
    threshold: float
    """The burn rate both windows must exceed."""
    budget_share: float
    """The share of the budget the long window spends at the threshold."""
    long: WindowView
    short: WindowView
    firing: bool
    note: str | None = None


class BudgetView(Reply):
    covered: str
    """How much of the period the data covers: all of it, or the traces' last hours."""
    spent: float | None = None
    """The share of the whole period's error budget spent within `covered`."""
    remaining: float | None = None
    """Of the whole period's budget; known only when the data covers the period. Negative: overspent."""
    exhausted_in_hours: float | None = None
    """At the current burn, from what is left (from a whole budget when that is unknown)."""


class SLOView(Reply):
    name: str
    title: str | None = None
    service: str | None = None
    journeys: list[str] = []
    target: float
    period_days: float
    budgeting_method: str
    status: Literal["burning", "ok", "no_traffic", "unavailable"]
    alert: str | None = None
    """The most severe tier firing: `page-fast`, `page-slow` or `ticket`."""
    sli: float | None = None
    budget: BudgetView | None = None
    tiers: list[TierView] = []
    measured_by: str | None = None
    source_type: str
    note: str | None = None
    provenance: Provenance


class SLOStatusReply(Reply):
    service: str | None = None
    journey: str | None = None
    slos: list[SLOView]
    total: int
    truncated: bool
    burning: int
    freshness: Freshness


class ContributionView(Reply):
    service: str
    share: float
    """Of the bad requests it explains."""
    failed_origin: int
    excess_ms: float
    waiting_on: list[str] = []


class AlertGroupCheck(Reply):
    group: int
    primary_contributor: str | None = None
    agrees: bool


class ImpactView(Reply):
    journey: str
    entry: str | None = None
    slo: str | None = None
    sentence: str
    since: datetime
    until: datetime
    aspect: Literal["latency", "errors", "latency and errors"] | None = None
    requests: int
    bad_requests: int
    failed: int
    slow: int
    counted_by: Literal["enduser.id", "session.id", "requests"]
    users: int | None = None
    affected_users: int | None = None
    affected_share: float
    primary_contributor: ContributionView | None = None
    other_contributors: list[ContributionView] = []
    alert_group: AlertGroupCheck | None = None
    slo_alert: str | None = None
    note: str | None = None


class ImpactReply(Reply):
    journeys: list[ImpactView]
    total: int
    truncated: bool
    freshness: Freshness
