"""Incidents, role assignments, timeline events, status updates, and the incident number.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("services", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=True),
        sa.Column("channel", sa.Text, nullable=True),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.UniqueConstraint("idempotency_key", name="uq_incidents_idempotency_key"),
    )
    for table, columns in (
        (
            "incident_roles",
            [
                sa.Column("role", sa.String(32), nullable=False),
                sa.Column("person", sa.Text, nullable=False),
                sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
            ],
        ),
        (
            "timeline_events",
            [
                sa.Column("at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("who", sa.Text, nullable=False),
                sa.Column("kind", sa.String(32), nullable=False),
                sa.Column("what", sa.Text, nullable=False),
            ],
        ),
        (
            "status_updates",
            [
                sa.Column("at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("status", sa.String(32), nullable=False),
                sa.Column("text", sa.Text, nullable=False),
                sa.Column("posted_to", sa.Text, nullable=True),
            ],
        ),
    ):
        op.create_table(
            table,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("incident_id", sa.String(32), sa.ForeignKey("incidents.id"), nullable=False),
            *columns,
            sa.Column("idempotency_key", sa.String(200), nullable=False),
            sa.UniqueConstraint("idempotency_key", name=f"uq_{table}_idempotency_key"),
        )
        op.create_index(f"ix_{table}_incident_id", table, ["incident_id"])
    op.create_table(
        "incident_counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("incident_counters", "status_updates", "timeline_events", "incident_roles", "incidents"):
        op.drop_table(table)
