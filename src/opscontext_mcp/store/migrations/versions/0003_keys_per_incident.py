"""Idempotency keys of roles, events and updates are unique per incident, not across all incidents.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("incident_roles", "timeline_events", "status_updates")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_idempotency_key", type_="unique")
            batch.create_unique_constraint(f"uq_{table}_incident_id", ["incident_id", "idempotency_key"])


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_incident_id", type_="unique")
            batch.create_unique_constraint(f"uq_{table}_idempotency_key", ["idempotency_key"])
