"""Pieces every answer shares: service lookup with suggestions, references, freshness."""

from __future__ import annotations

from datetime import datetime

from opscontext_mcp.protocols import Capability
from opscontext_mcp.replies import Freshness, ServiceRef, SourceState
from opscontext_mcp.snapshot import ServiceEntry, Snapshot


class UnknownService(LookupError):
    """A name that resolves to no service, or to several; the message says what to try instead."""

    def __init__(self, query: str, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.query = query
        self.suggestions = suggestions


def require_service(snapshot: Snapshot, name: str) -> ServiceEntry:
    resolved = snapshot.resolve(name)
    if resolved.id is not None:
        return snapshot.services[resolved.id]
    if resolved.ambiguous:
        raise UnknownService(
            name,
            f"{name!r} matches several services: {', '.join(resolved.ambiguous)}. Ask again with one of these ids.",
            list(resolved.ambiguous),
        )
    suggestions = [service_id for service_id, _, score in snapshot.index.suggest(name, limit=5) if score >= 50]
    hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else " No similar names are known."
    degraded = [
        f"{s.source} ({s.capability}) is {s.status}: {s.error}"
        for s in snapshot.statuses_for(Capability.CATALOG, Capability.TOPOLOGY)
        if s.status != "ok"
    ]
    if Capability.CATALOG not in snapshot.capabilities_present:
        degraded.append("no configured source provides a catalog")
    caveat = f" Note: {'; '.join(degraded)}." if degraded else ""
    message = f"Unknown service {name!r}.{hint} find_service searches all names and aliases.{caveat}"
    raise UnknownService(name, message, suggestions)


def service_ref(entry: ServiceEntry) -> ServiceRef:
    owner = entry.owner
    return ServiceRef(
        id=entry.id, kind=entry.kind.value, title=entry.title, tier=entry.tier, owner=owner.name if owner else None
    )


def freshness(snapshot: Snapshot, now: datetime, *capabilities: Capability) -> Freshness:
    """The state of every source consulted for `capabilities`, with a warning per degraded one."""
    wall = datetime.now(snapshot.built_at.tzinfo)
    sources = []
    warnings = []
    for status in snapshot.statuses_for(*capabilities):
        age = int((wall - status.fetched_at).total_seconds()) if status.fetched_at else None
        sources.append(
            SourceState(
                source=status.source,
                capability=status.capability.value,
                status=status.status,
                fetched_at=status.fetched_at,
                age_seconds=age,
                error=status.error,
            )
        )
        if status.status == "stale":
            warnings.append(
                f"{status.source} ({status.capability}) is failing: {status.error}; "
                f"serving its data from {status.fetched_at:%Y-%m-%dT%H:%M:%SZ} ({age} s old)"
            )
        elif status.status == "failed":
            warnings.append(f"{status.source} ({status.capability}) is failing and has no data yet: {status.error}")
    for capability in capabilities:
        if capability not in snapshot.capabilities_present:
            warnings.append(f"no configured source provides {capability}")
    return Freshness(
        as_of=now,
        snapshot_age_seconds=max(int((wall - snapshot.built_at).total_seconds()), 0),
        sources=sources,
        warnings=warnings,
    )
