"""Pure functions over a snapshot: no I/O, `now` always passed in."""

from __future__ import annotations

from opscontext_mcp.snapshot import Snapshot

SNAPSHOT_INDICES = (
    "changes_by_service",
    "alerts_by_service",
    "runbooks_by_service",
    "runbooks_by_key",
    "vendor_by_service",
    "policy_by_service",
    "policy_by_team",
    "schedules_by_team",
)


def prepare(snapshot: Snapshot) -> None:
    """Build the per-snapshot indices answers use, so no responder's call pays for them."""
    from opscontext_mcp.analysis.runbooks import runbook_index

    for name in SNAPSHOT_INDICES:
        getattr(snapshot, name)
    runbook_index(snapshot)
    snapshot.index.prepare()
