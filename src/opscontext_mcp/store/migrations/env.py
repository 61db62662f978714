"""Alembic's entry point for the incident store: it runs on the connection the store hands it."""

from __future__ import annotations

from alembic import context

from opscontext_mcp.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
