"""The incident store's tables: incidents, their role assignments, timeline events and status updates.

Every write carries an idempotency key, unique per table: a write retried with the same key (a
client that timed out and asked again) finds the row the first attempt stored and adds nothing.
Times are stored as timezone-aware UTC.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
    }
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("title", Text, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("services", Text, nullable=False),  # canonical service ids, comma-separated
    Column("summary", Text, nullable=True),
    Column("channel", Text, nullable=True),
    Column("itsm_ref", Text, nullable=True),  # the incident in the ITSM of record its notes are mirrored to
    Column("posted_at", DateTime(timezone=True), nullable=True),  # when the declaration reached the channel
    Column("declared_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("idempotency_key", String(200), nullable=False, unique=True),
)


def _per_incident(name: str, *columns: Column[object]) -> Table:
    """A table of rows recorded about one incident, each stored once under its idempotency key."""
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("incident_id", String(32), ForeignKey("incidents.id"), nullable=False, index=True),
        *columns,
        Column("idempotency_key", String(200), nullable=False),
        UniqueConstraint("incident_id", "idempotency_key"),  # a key means one write to one incident
    )


roles = _per_incident(
    "incident_roles",
    Column("role", String(32), nullable=False),
    Column("person", Text, nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
)
events = _per_incident(
    "timeline_events",
    Column("at", DateTime(timezone=True), nullable=False),
    Column("who", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("what", Text, nullable=False),
    Column("mirrored_at", DateTime(timezone=True), nullable=True),
)
updates = _per_incident(
    "status_updates",
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("posted_to", Text, nullable=True),
    Column("posted_at", DateTime(timezone=True), nullable=True),
    Column("mirrored_at", DateTime(timezone=True), nullable=True),
)

counters = Table(
    "incident_counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", Integer, nullable=False),
)
"""The next incident number, taken in the same transaction that declares one."""
