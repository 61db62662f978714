"""Task rows as records: `change_request` → Change, `incident` → Incident."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opscontext_mcp.model import Change, Incident
from opscontext_mcp.protocols import Problem

from ..values import Skipped
from .query import EncodedQuery
from .records import Origin, each_row, required, service_ref
from .values import Row, display, moment, ref, value

CHANGE_TABLE = "change_request"
INCIDENT_TABLE = "incident"
CHANGE_FIELDS = (
    "sys_id",
    "number",
    "short_description",
    "state",
    "type",
    "risk",
    "cmdb_ci",
    "business_service",
    "assigned_to",
    "requested_by",
    "work_start",
    "start_date",
    "sys_updated_on",
)
INCIDENT_FIELDS = (
    "sys_id",
    "number",
    "short_description",
    "state",
    "priority",
    "active",
    "cmdb_ci",
    "business_service",
    "opened_at",
    "resolved_at",
    "closed_at",
)
CHANGE_MOMENTS = ("work_start", "start_date", "sys_updated_on")
"""When a change happened: actual start, else planned start, else its last update."""
INCIDENT_STATES = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}
"""The base system's labels, for rows read without display values."""
_ENDED = {"resolved", "closed", "canceled", "cancelled"}


def changes_query(since: datetime) -> EncodedQuery:
    """Changes any of whose moments is at or after `since` (the exact window is applied to `at` after reading).

    A union of per-field windows needs `^NQ`, which instances apply unevenly to the rest of a
    query; one `^OR` group on the lower bound reads a little more and stays unambiguous.
    """
    query = EncodedQuery().where(CHANGE_MOMENTS[0], ">=", since)
    for field in CHANGE_MOMENTS[1:]:
        query.or_where(field, ">=", since)
    return query.order_by("sys_updated_on", descending=True)


def incidents_query(since: datetime) -> EncodedQuery:
    """Incidents opened since `since`, and every one still active however old."""
    return (
        EncodedQuery()
        .where("opened_at", ">=", since)
        .or_where("active", "=", "true")
        .order_by("opened_at", descending=True)
    )


def map_changes(
    rows: list[Any], origin: Origin, since: datetime, until: datetime, problems: list[Problem], names: dict[str, str]
) -> list[Change]:
    """Changes in the window, on their CI (else their business service) as `servicenow:<sys_id>`, named in `names`."""

    def build(row: Row, sys_id: str) -> Change | None:
        number = required(row, "number")
        at = next((m for m in (moment(row, field) for field in CHANGE_MOMENTS) if m is not None), None)
        if at is None:
            raise ValueError(f"{number} has no {', '.join(CHANGE_MOMENTS)}")
        if not since <= at <= until:
            return None
        service = service_ref(ref(row, "cmdb_ci"), names) or service_ref(ref(row, "business_service"), names)
        if service is None:
            raise Skipped(f"{number} names no configuration item or business service")
        description = display(row, "short_description")
        return Change(
            id=number,
            service=service,
            kind="change_request",
            summary=f"{number}: {description}" if description else number,
            at=at,
            author=ref(row, "assigned_to").display or ref(row, "requested_by").display,
            risk=display(row, "risk"),
            link=origin.url(CHANGE_TABLE, sys_id),
            provenance=origin.provenance(CHANGE_TABLE, sys_id),
        )

    return [change for _, change in each_row(CHANGE_TABLE, rows, problems, build)]


def map_incidents(rows: list[Any], origin: Origin, problems: list[Problem], names: dict[str, str]) -> list[Incident]:
    def build(row: Row, sys_id: str) -> Incident:
        number = required(row, "number")
        opened_at = moment(row, "opened_at")
        if opened_at is None:
            raise ValueError(f"{number} has no opened_at")
        status = _state(row)
        is_open = value(row, "active") == "true" and status.lower() not in _ENDED
        services = (service_ref(ref(row, "cmdb_ci"), names), service_ref(ref(row, "business_service"), names))
        return Incident(
            id=number,
            title=display(row, "short_description") or number,
            status=status,
            open=is_open,
            severity=display(row, "priority"),
            services=tuple(dict.fromkeys(s for s in services if s)),
            opened_at=opened_at,
            resolved_at=moment(row, "resolved_at") or (None if is_open else moment(row, "closed_at")),
            link=origin.url(INCIDENT_TABLE, sys_id),
            provenance=origin.provenance(INCIDENT_TABLE, sys_id),
        )

    return [incident for _, incident in each_row(INCIDENT_TABLE, rows, problems, build)]


def _state(row: Row) -> str:
    stored, shown = value(row, "state"), display(row, "state")
    if stored is None:
        return "Unknown"
    if shown != stored:
        return shown or stored
    return INCIDENT_STATES.get(stored, stored)
