"""What the incident write tools return."""

from __future__ import annotations

from datetime import datetime

from opscontext_mcp.model import Provenance
from opscontext_mcp.replies import Freshness, LevelView
from opscontext_mcp.schemas import Reply


class IncidentView(Reply):
    id: str
    uri: str
    """`incident://{id}`: the status doc."""
    title: str
    severity: str
    status: str
    services: list[str]
    declared_at: datetime
    resolved_at: datetime | None = None
    roles: dict[str, str]
    """Role → who holds it; unassigned roles are left out."""
    itsm_incident: str | None = None
    next_update_due: datetime | None = None
    update_overdue_minutes: int | None = None
    events: int
    updates: int


class WriteReply(Reply):
    incident: IncidentView
    stored: bool
    """False when the idempotency key was seen before: nothing new was written."""
    posted: bool | None = None
    """Whether the channel got the message; None when no notify connector is configured."""
    mirrored: bool | None = None
    """Whether the ITSM incident got the note; None when there is none to mirror to."""
    note: str | None = None


class CulpritView(Reply):
    service: str
    group: int
    """The alert group (active_alerts) it is the primary contributor of."""
    vendor: str | None = None
    """The vendor that runs it, if one does."""
    failing_vendor_dependencies: list[str] = []
    """Vendor-run services its calls fail into (at least 5% of observed calls)."""
    evidence: list[str]


class VendorEngagementView(Reply):
    vendor: str
    engage: bool
    """Whether the engagement criteria decided before the outage hold now."""
    reasons: list[str]
    bridge: str | None = None
    phone: str | None = None
    support_portal: str | None = None
    email: str | None = None
    provenance: Provenance


class EscalationStatusReply(Reply):
    incident: str | None = None
    services: list[str]
    started_at: datetime
    elapsed_minutes: int
    resolved: bool
    policy: str | None = None
    current_level: int | None = None
    engaged: list[LevelView]
    """Every level that already applies: who should be engaged by now."""
    next_level: LevelView | None = None
    next_at: datetime | None = None
    next_in_minutes: int | None = None
    culprit: CulpritView | None = None
    vendors: list[VendorEngagementView] = []
    next_update_due: datetime | None = None
    """For an incident: when its next status update is owed, by its severity's cadence."""
    update_overdue_minutes: int | None = None
    recommendation: str
    freshness: Freshness
