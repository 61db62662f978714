"""What the incident store answers: plain rows, times in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class IncidentRow:
    id: str
    title: str
    severity: str
    status: str
    services: tuple[str, ...]
    summary: str | None
    channel: str | None
    itsm_ref: str | None
    declared_at: datetime
    resolved_at: datetime | None
    updated_at: datetime
    posted_at: datetime | None = None
    """When the declaration reached the channel."""


@dataclass(frozen=True)
class RoleRow:
    role: str
    person: str
    assigned_at: datetime


@dataclass(frozen=True)
class EventRow:
    id: int
    at: datetime
    who: str
    kind: str
    what: str
    mirrored_at: datetime | None = None
    """When the note reached the ITSM incident."""


@dataclass(frozen=True)
class UpdateRow:
    id: int
    at: datetime
    status: str
    text: str
    posted_to: str | None
    posted_at: datetime | None = None
    mirrored_at: datetime | None = None


@dataclass(frozen=True)
class IncidentRecord:
    """One incident with everything recorded about it, oldest first."""

    incident: IncidentRow
    roles: dict[str, RoleRow]
    """The current holder of each role."""
    events: tuple[EventRow, ...]
    updates: tuple[UpdateRow, ...]
