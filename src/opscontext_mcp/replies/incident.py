"""What the incident write tools return."""

from __future__ import annotations

from datetime import datetime

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
    note: str | None = None
