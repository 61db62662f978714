"""What documentation_gaps returns."""

from __future__ import annotations

from typing import Literal

from opscontext_mcp.replies import Freshness
from opscontext_mcp.schemas import Reply

Severity = Literal["info", "low", "medium", "high", "critical"]


class GapView(Reply):
    kind: str
    """no_owner, owner_conflict, no_runbook, runbook_never_exercised, runbook_stale, alert_without_runbook,
    declared_not_observed, observed_not_declared or missing_from_catalog."""
    service: str | None = None
    """The service it is charged to (the most critical of `services`)."""
    services: list[str] = []
    """Every service it concerns, when more than one (a runbook shared by several)."""
    severity: Severity
    summary: str
    evidence: list[str]
    sources: list[str]


class GapsReply(Reply):
    gaps: list[GapView]
    total: int
    truncated: bool
    by_kind: dict[str, int]
    by_severity: dict[str, int]
    freshness: Freshness
