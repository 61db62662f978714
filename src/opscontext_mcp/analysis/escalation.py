"""Where an unresolved incident stands on its escalation path, and whether a vendor should be engaged.

The path is the service's escalation policy (from the on-call source: oncall.yaml, PagerDuty or
Opsgenie): level n applies `after_minutes` after the start. Everyone on a level that already
applies should be engaged; the next level says who and at what minute. A vendor is engaged on
the criteria decided before the outage (`engage_when`): unresolved past its minutes, and the
culprit among the components it runs. The culprit is the primary contributor of the alert group
on the incident's services, or a vendor-run dependency that its calls fail into: a service
timing out on Stripe is the symptom, Stripe may be the cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from opscontext_mcp.analysis.alerts import alert_groups, rca_evidence
from opscontext_mcp.analysis.ownership import escalation_view, policy_for
from opscontext_mcp.analysis.rca import ERROR_FLOOR
from opscontext_mcp.model import Vendor
from opscontext_mcp.replies import EscalationView, LevelView
from opscontext_mcp.replies.incident import CulpritView, VendorEngagementView
from opscontext_mcp.snapshot import ServiceEntry, Snapshot


@dataclass(frozen=True)
class EscalationState:
    policy: EscalationView | None
    elapsed: timedelta
    engaged: list[LevelView]
    next: LevelView | None
    next_at: datetime | None
    culprit: CulpritView | None
    vendors: list[VendorEngagementView]


def escalation_state(
    snapshot: Snapshot,
    services: Sequence[ServiceEntry],
    started_at: datetime,
    now: datetime,
    resolved: bool,
    alerts_as_of: datetime | None = None,
) -> EscalationState:
    """`alerts_as_of`: the moment the alert data describes, when earlier than `now` (a replayed incident
    asked about later than its data): alerts are judged then, not expired by their projected ends."""
    elapsed = max(now - started_at, timedelta(0))
    policy = next((p for p in (policy_for(snapshot, entry) for entry in services) if p is not None), None)
    view = escalation_view(snapshot, policy, started_at) if policy else None
    minutes = elapsed / timedelta(minutes=1)
    engaged = [level for level in view.levels if level.after_minutes <= minutes] if view else []
    upcoming = [level for level in view.levels if level.after_minutes > minutes] if view and not resolved else []
    following = upcoming[0] if upcoming else None
    culprit = culprit_of(snapshot, [entry.id for entry in services], min(now, alerts_as_of or now))
    return EscalationState(
        policy=view,
        elapsed=elapsed,
        engaged=engaged,
        next=following,
        next_at=started_at + timedelta(minutes=following.after_minutes) if following else None,
        culprit=culprit,
        vendors=vendor_engagement(snapshot, view, culprit, minutes, resolved),
    )


def culprit_of(snapshot: Snapshot, service_ids: Sequence[str], now: datetime) -> CulpritView | None:
    """The primary contributor of the first alert group on these services, and the vendor-run
    dependencies its calls fail into."""
    wanted = set(service_ids)
    for number, group in enumerate(alert_groups(snapshot, now).groups, 1):
        if group.primary is None or not wanted & {*group.services, group.primary.service}:
            continue
        primary = group.primary.service
        errors = rca_evidence(snapshot).edge_errors
        failing = sorted(
            callee
            for callee in (snapshot.graph.succ[primary] if primary in snapshot.graph else ())
            if errors.get((primary, callee), 0.0) >= ERROR_FLOOR and callee in snapshot.vendor_by_service
        )
        return CulpritView(
            service=primary,
            group=number,
            vendor=snapshot.vendor_by_service[primary].name if primary in snapshot.vendor_by_service else None,
            failing_vendor_dependencies=failing,
            evidence=[
                *(f"calls from {primary} into {d} fail {errors[(primary, d)]:.0%}" for d in failing),
                *group.primary.evidence[:4],
            ],
        )
    return None


def vendor_engagement(
    snapshot: Snapshot, policy: EscalationView | None, culprit: CulpritView | None, minutes: float, resolved: bool
) -> list[VendorEngagementView]:
    """Every vendor the culprit implicates or the policy names, with whether its criteria hold now."""
    names: list[str] = []
    if culprit is not None:
        implicated = [culprit.service, *culprit.failing_vendor_dependencies]
        names += [snapshot.vendor_by_service[s].name for s in implicated if s in snapshot.vendor_by_service]
    if policy is not None:
        names += [t.name for level in policy.levels for t in level.targets if t.kind == "vendor"]
    views = []
    for name in dict.fromkeys(names):
        vendor = snapshot.vendors.get(name)
        if vendor is not None:
            views.append(_engagement(snapshot, vendor, culprit, minutes, resolved))
    return views


def _engagement(
    snapshot: Snapshot, vendor: Vendor, culprit: CulpritView | None, minutes: float, resolved: bool
) -> VendorEngagementView:
    rule = vendor.engage_when
    runs = {found for name in vendor.services if (found := snapshot.resolve(name).id) is not None}
    listed = {found for name in rule.primary_contributor_in if (found := snapshot.resolve(name).id) is not None}
    implicated = set()
    if culprit is not None:
        implicated = {culprit.service, *culprit.failing_vendor_dependencies} & (listed or runs)
    reasons = []
    holds = not resolved
    if resolved:
        reasons.append("the incident is resolved")
    if rule.unresolved_minutes is not None:
        late = minutes >= rule.unresolved_minutes
        holds = holds and late
        reasons.append(
            f"unresolved {int(minutes)} min, {'past' if late else 'short of'} the {rule.unresolved_minutes} min threshold"
        )
    if culprit is not None and culprit.service in implicated:
        reasons.append(f"the culprit {culprit.service} is run by {vendor.name}")
    elif implicated:
        reasons.append(
            f"the culprit {culprit.service if culprit else '?'} fails on its calls into "
            f"{', '.join(sorted(implicated))}, which {vendor.name} runs"
        )
    elif culprit is None:
        holds = False
        reasons.append("no culprit known: no alert group on these services (is the alert source down?)")
    else:
        holds = False
        reasons.append(
            f"no culprit in what {vendor.name} runs ({', '.join(sorted(listed or runs)) or 'nothing listed'})"
        )
    contact = vendor.contact
    return VendorEngagementView(
        vendor=vendor.name,
        engage=holds,
        reasons=reasons,
        bridge=contact.bridge,
        phone=contact.phone,
        support_portal=contact.support_portal,
        email=contact.email,
        provenance=vendor.provenance,
    )
