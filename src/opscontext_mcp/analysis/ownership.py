"""Who owns a service, who is on call for it now and next, and its escalation path."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from opscontext_mcp.model import EscalationPolicy, Schedule, Shift
from opscontext_mcp.replies import (
    EscalationView,
    LevelView,
    OnCallView,
    OwnerView,
    PersonView,
    TargetView,
    TeamView,
)
from opscontext_mcp.snapshot import OwnerClaim, ServiceEntry, Snapshot

MEMBERS_SHOWN = 8


def person_view(snapshot: Snapshot, name: str) -> PersonView:
    views: dict[str, PersonView] = snapshot.derive("person-views", dict)
    view = views.get(name)
    if view is None:
        person = snapshot.people.get(name.lower())
        if person is None:
            view = PersonView(name=name)
        else:
            view = PersonView(
                name=person.name, display_name=person.display_name, email=person.email, phone=person.phone
            )
        views[name] = view
    return view


def team_view(snapshot: Snapshot, name: str, members_shown: int = MEMBERS_SHOWN) -> TeamView:
    key = snapshot.team_names.key(name)
    team = snapshot.teams.get(key)
    members = snapshot.team_members.get(key, ())
    shown = [person_view(snapshot, member) for member in members[:members_shown]]
    if team is None:
        return TeamView(name=name, members=shown, members_total=len(members))
    return TeamView(
        name=team.name,
        title=team.title,
        email=team.email,
        chat_channel=team.chat_channel,
        members=shown,
        members_total=len(members),
    )


def owner_view(snapshot: Snapshot, claim: OwnerClaim, members_shown: int = MEMBERS_SHOWN) -> OwnerView:
    if claim.kind == "user":
        person = person_view(snapshot, claim.name)
        return OwnerView(kind="user", name=claim.name, person=person, provenance=claim.provenance)
    team = team_view(snapshot, claim.name, members_shown)
    return OwnerView(kind=claim.kind, name=claim.name, team=team, provenance=claim.provenance)


def shift_at(schedule: Schedule, at: datetime) -> Shift | None:
    """The shift holding the schedule at `at`; where shifts overlap, the latest to start (an override)."""
    running = [s for s in schedule.shifts if s.start <= at < s.end]
    return max(running, key=lambda s: s.start) if running else None


def next_shift(schedule: Schedule, at: datetime) -> Shift | None:
    """Who holds the schedule next after whoever holds it at `at`, from the hand-over until they hand on.

    Hand-overs happen where any shift starts or ends, so the person whose shift an override
    interrupts is next once the override ends (Ana 09–17, Bo 12–14: at 13:00 Ana is next, 14–17).
    """
    current = shift_at(schedule, at)
    moments = sorted({t for s in schedule.shifts for t in (s.start, s.end) if t > at})
    for position, moment in enumerate(moments):
        holder = shift_at(schedule, moment)
        if holder is None or (current is not None and holder.user == current.user):
            continue
        end = holder.end
        for later in moments[position + 1 :]:
            after = shift_at(schedule, later)
            if after is None or after.user != holder.user:
                end = later
                break
        if (moment, end) == (holder.start, holder.end):
            return holder
        return Shift(user=holder.user, start=moment, end=end)
    return None


def owning_team(entry: ServiceEntry) -> str | None:
    owner = entry.owner
    return owner.name if owner and owner.kind == "group" else None


def schedules_for(snapshot: Snapshot, entry: ServiceEntry) -> list[Schedule]:
    """The owning team's schedules, and those its escalation policy pages first (how PagerDuty links them)."""
    team = owning_team(entry)
    schedules = list(snapshot.schedules_by_team.get(snapshot.team_names.key(team), ())) if team else []
    policy = policy_for(snapshot, entry)
    if policy is not None and policy.levels:
        for target in policy.levels[0].targets:
            schedule = snapshot.schedules.get(target.name) if target.kind == "schedule" else None
            if schedule is not None and schedule not in schedules:
                schedules.append(schedule)
    return schedules


@dataclass
class OnCall:
    now: list[OnCallView] = field(default_factory=list)
    next: list[OnCallView] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def on_call(snapshot: Snapshot, entry: ServiceEntry, at: datetime) -> OnCall:
    """Who holds each of the owning team's schedules now, who takes over next, and gaps worth saying."""
    found = OnCall()
    for schedule in schedules_for(snapshot, entry):
        current, following = shift_at(schedule, at), next_shift(schedule, at)
        for shift, bucket in ((current, found.now), (following, found.next)):
            if shift is not None:
                bucket.append(
                    OnCallView(
                        schedule=schedule.name,
                        person=person_view(snapshot, shift.user),
                        start=shift.start,
                        end=shift.end,
                        provenance=schedule.provenance,
                    )
                )
        if current is None:
            found.notes.append(f"nobody holds schedule {schedule.name} now")
        elif following is None:
            found.notes.append(f"schedule {schedule.name} has no shift after {current.end:%Y-%m-%dT%H:%M:%SZ}")
    return found


def policy_for(snapshot: Snapshot, entry: ServiceEntry) -> EscalationPolicy | None:
    """A policy naming the service wins over one that applies to its owning team."""
    named = snapshot.policy_by_service.get(entry.id)
    if named is not None:
        return named
    team = owning_team(entry)
    return snapshot.policy_by_team.get(snapshot.team_names.key(team)) if team else None


ESCALATION_VIEWS_KEPT = 4096


def escalation_view(snapshot: Snapshot, policy: EscalationPolicy, started_at: datetime) -> EscalationView:
    """The policy's levels, with schedule targets resolved to who holds them when each level applies.

    Kept per snapshot and start time: during an incident every call asks for the same few policies.
    """
    views: dict[tuple[str, str, datetime], EscalationView] = snapshot.derive("escalation-views", dict)
    key = (policy.provenance.source, policy.name, started_at)
    view = views.get(key)
    if view is None:
        if len(views) >= ESCALATION_VIEWS_KEPT:
            views.clear()
        view = views[key] = _escalation_view(snapshot, policy, started_at)
    return view


def _escalation_view(snapshot: Snapshot, policy: EscalationPolicy, started_at: datetime) -> EscalationView:
    levels = []
    for number, level in enumerate(policy.levels, start=1):
        applies_at = started_at.timestamp() + level.after_minutes * 60
        targets = []
        for target in level.targets:
            if target.kind == "schedule":
                schedule = snapshot.schedules.get(target.name)
                shift = shift_at(schedule, datetime.fromtimestamp(applies_at, started_at.tzinfo)) if schedule else None
                person = person_view(snapshot, shift.user) if shift else None
                targets.append(
                    TargetView(
                        kind="schedule",
                        name=target.name,
                        display=f"on call for {target.name}"
                        + (f": {person.display_name or person.name}" if person else " (nobody)"),
                        contact=(person.phone or person.email) if person else None,
                        on_call=person,
                    )
                )
            elif target.kind == "user":
                person = person_view(snapshot, target.name)
                targets.append(
                    TargetView(
                        kind="user",
                        name=target.name,
                        display=person.display_name or person.name,
                        contact=person.phone or person.email,
                    )
                )
            elif target.kind == "team":
                team = team_view(snapshot, target.name)
                targets.append(
                    TargetView(
                        kind="team",
                        name=target.name,
                        display=team.title or team.name,
                        contact=team.chat_channel or team.email,
                    )
                )
            else:
                vendor = snapshot.vendors.get(target.name)
                contact = vendor.contact if vendor else None
                targets.append(
                    TargetView(
                        kind="vendor",
                        name=target.name,
                        display=f"vendor {target.name}",
                        contact=(contact.bridge or contact.phone or contact.support_portal) if contact else None,
                    )
                )
        levels.append(LevelView(level=number, after_minutes=level.after_minutes, targets=targets))
    return EscalationView(policy=policy.name, levels=levels, provenance=policy.provenance)
