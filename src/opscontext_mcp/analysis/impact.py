"""The impact sentence: how many users a journey is failing now, and which service is the primary contributor.

"checkout latency is degrading for 44% of users — payment service is primary contributor": the
share comes from the journey's entry spans over the recent window (`journeys.measure`), the
contributor from the bad requests' traces (`journeys.attribute`), cross-checked with the alert
group on the journey's path, and every number behind the sentence is returned beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from opscontext_mcp.analysis.alerts import AlertGroups
from opscontext_mcp.analysis.journeys import Contribution, JourneyCounts
from opscontext_mcp.analysis.topology import walk
from opscontext_mcp.replies.slo import AlertGroupCheck, ContributionView, ImpactView
from opscontext_mcp.snapshot import ResolvedJourney, Snapshot

OTHER_CONTRIBUTORS_SHOWN = 3


def aspect_of(counts: JourneyCounts) -> str | None:
    """What is failing: latency when most bad requests were only slow, errors when most failed."""
    if not counts.bad:
        return None
    if counts.slow and counts.failed and min(counts.slow, counts.failed) / counts.bad >= 0.4:
        return "latency and errors"
    return "latency" if counts.slow >= counts.failed else "errors"


def sentence(name: str, counts: JourneyCounts, contributor: str | None, minutes: int) -> str:
    if not counts.requests:
        return f"no {name} requests in the last {minutes} min: nothing to measure"
    if not counts.bad:
        return f"{name} is healthy: none of {counts.requests} requests in the last {minutes} min failed or was slow"
    share = round(counts.affected_share * 100)
    whom = "users" if counts.user_key else "requests"
    said = f"{name} {aspect_of(counts)} is degrading for {share}% of {whom}"
    return f"{said} — {contributor} service is primary contributor" if contributor else said


def impact_view(
    snapshot: Snapshot,
    journey: ResolvedJourney,
    counts: JourneyCounts,
    contributions: Sequence[Contribution],
    groups: AlertGroups,
    slo_alert: str | None,
) -> ImpactView:
    views = [_contribution_view(snapshot, c) for c in contributions]
    primary = views[0] if views and counts.bad else None
    minutes = int((counts.until - counts.since).total_seconds() // 60)
    name = journey.journey.name
    return ImpactView(
        journey=name,
        entry=journey.entry_id,
        slo=journey.journey.slo,
        sentence=sentence(name, counts, primary.service if primary else None, minutes),
        since=counts.since,
        until=counts.until,
        aspect=aspect_of(counts),  # type: ignore[arg-type]
        requests=counts.requests,
        bad_requests=counts.bad,
        failed=counts.failed,
        slow=counts.slow,
        counted_by=counts.user_key or "requests",  # type: ignore[arg-type]
        users=counts.users if counts.user_key else None,
        affected_users=counts.affected_users if counts.user_key else None,
        affected_share=round(counts.affected_share, 4),
        primary_contributor=primary,
        other_contributors=views[1 : 1 + OTHER_CONTRIBUTORS_SHOWN] if primary else [],
        alert_group=_alert_check(snapshot, journey, primary, groups) if primary else None,
        slo_alert=slo_alert,
        note=_note(counts),
    )


def _contribution_view(snapshot: Snapshot, contribution: Contribution) -> ContributionView:
    return ContributionView(
        service=_canonical(snapshot, contribution.service),
        share=round(contribution.share, 4),
        failed_origin=contribution.failed_origin,
        excess_ms=contribution.excess_ms,
        waiting_on=[_canonical(snapshot, peer) for peer in contribution.waiting_on],
    )


def _alert_check(
    snapshot: Snapshot, journey: ResolvedJourney, primary: ContributionView, groups: AlertGroups
) -> AlertGroupCheck | None:
    """The first alert group on the journey's path (its entry and what that depends on), and whether its
    primary contributor is the one the traces name."""
    path = {primary.service}
    if journey.entry_id is not None and journey.entry_id in snapshot.graph:
        path |= {journey.entry_id, *walk(snapshot, journey.entry_id, "dependencies", None)}
    for number, group in enumerate(groups.groups, 1):
        if path & set(group.services):
            named = group.primary.service if group.primary else None
            return AlertGroupCheck(group=number, primary_contributor=named, agrees=named == primary.service)
    return None


def _canonical(snapshot: Snapshot, name: str) -> str:
    """The canonical id for a span's service name, or the name when no source knows it."""
    return snapshot.resolve(name).id or name


def _note(counts: JourneyCounts) -> str | None:
    notes = []
    if counts.user_key is None and counts.requests:
        notes.append("entry spans carry no enduser.id or session.id: the share is of requests")
    elif counts.requests_without_user:
        notes.append(f"{counts.requests_without_user} requests carried no {counts.user_key} and count only as requests")
    return "; ".join(notes) or None
