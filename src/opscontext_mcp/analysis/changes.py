"""What changed, here and in what a service depends on, within a window."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from opscontext_mcp.analysis.topology import path_to, walk
from opscontext_mcp.replies import ChangeView
from opscontext_mcp.snapshot import ResolvedChange, ServiceEntry, Snapshot


def change_view(item: ResolvedChange, now: datetime, hop: int | None, path: list[str]) -> ChangeView:
    change = item.change
    return ChangeView(
        id=change.id,
        service=item.service_id or change.service,
        kind=change.kind,
        summary=change.summary,
        at=change.at,
        minutes_before_now=int((now - change.at).total_seconds() // 60),
        hop=hop,
        path=path,
        author=change.author,
        version=change.version,
        risk=change.risk,
        link=change.link,
        provenance=change.provenance,
    )


def changes_near(
    snapshot: Snapshot,
    entry: ServiceEntry | None,
    since: datetime,
    until: datetime,
    depth: int,
    kinds: frozenset[str] | None,
    now: datetime,
    limit: int,
) -> tuple[list[ChangeView], int, dict[str, int]]:
    """Newest first; with a service, its own changes (hop 0) and its dependencies' up to `depth` hops."""

    def wanted(item: ResolvedChange) -> bool:
        change = item.change
        return since <= change.at <= until and (kinds is None or change.kind in kinds)

    if entry is None:
        found = [(item, None, []) for item in snapshot.changes if wanted(item)]
    else:
        reached = walk(snapshot, entry.id, "dependencies", depth) if depth > 0 else {}
        hops = {entry.id: 0} | {node: hop for node, (hop, _) in reached.items()}
        found = []
        for node, hop in hops.items():
            for item in snapshot.changes_by_service.get(node, ()):
                if item.change.at < since:
                    break  # newest first: the rest are older still
                if wanted(item):
                    path = list(reversed(path_to(reached, node, entry.id))) if hop else [entry.id]
                    found.append((item, hop, path))
        found.sort(key=lambda row: (row[0].change.at, row[0].change.id), reverse=True)
    by_kind = Counter(item.change.kind for item, _, _ in found)
    views = [change_view(item, now, hop, path) for item, hop, path in found[:limit]]
    return views, len(found), dict(by_kind.most_common())
