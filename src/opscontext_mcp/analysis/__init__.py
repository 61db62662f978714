"""Pure functions over a snapshot: no I/O, `now` always passed in."""

from __future__ import annotations

from opscontext_mcp.snapshot import COMPUTED_INDICES, Snapshot


def prepare(snapshot: Snapshot) -> None:
    """Build the per-snapshot indices answers use, so no responder's call pays for them."""
    from opscontext_mcp.analysis.runbooks import runbook_index

    for name in COMPUTED_INDICES:
        getattr(snapshot, name)
    runbook_index(snapshot)
    snapshot.index.prepare()
