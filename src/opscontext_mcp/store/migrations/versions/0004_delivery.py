"""When a declaration, a status update or a timeline event reached the channel or the ITSM.

A write retried with its key sends again only what never arrived.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = {
    "incidents": ("posted_at",),
    "status_updates": ("posted_at", "mirrored_at"),
    "timeline_events": ("mirrored_at",),
}


def upgrade() -> None:
    for table, names in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name in names:
                batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table, names in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name in names:
                batch.drop_column(name)
