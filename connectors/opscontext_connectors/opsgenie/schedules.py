"""Opsgenie schedules, their timelines and escalations as schedules and escalation policies.

An escalation rule's delay counts from the alert's creation (a rule at 10 minutes and one at
20 minutes notify at 10 and 20, not 10 and 30), so a level's minutes are the rule's delay as
given. Rules with the same delay are one level. Every part of an answer that Opsgenie does
not document firmly is read tolerantly: a missing piece is a problem, never a guess.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from opscontext_mcp.model import EscalationLevel, EscalationPolicy, EscalationTarget, Provenance, Schedule, Shift
from opscontext_mcp.protocols import Problem

from ..values import listed, mapping, required_time, text

MINUTES_PER_UNIT = {"minutes": 1, "hours": 60, "days": 24 * 60}
BOUNDS_UNKNOWN_FOR = timedelta(hours=1)
"""How long a shift read from `/on-calls` is shown to last: it says who is on call now, not until when."""


def owner_team(item: dict[str, Any]) -> str | None:
    return text(mapping(item.get("ownerTeam")).get("name"))


def schedule_from_timeline(
    item: dict[str, Any], timeline: dict[str, Any], provenance: Provenance, problems: list[Problem]
) -> Schedule:
    """Every period of the final timeline whose recipient is a person becomes a shift."""
    name = str(text(item.get("name")))
    shifts: dict[tuple[str, datetime, datetime], Shift] = {}
    for rotation in listed(timeline.get("rotations")):
        for period in listed(mapping(rotation).get("periods")):
            recipient = mapping(mapping(period).get("recipient"))
            kind, user = text(recipient.get("type")), text(recipient.get("name"))
            if kind not in (None, "user"):
                continue  # a team, an escalation or nobody ("none") holds this stretch: no person to name
            try:
                if user is None:
                    raise ValueError("a period names no recipient")
                start = required_time(period.get("startDate"), "startDate")
                end = required_time(period.get("endDate"), "endDate")
                if end <= start:
                    raise ValueError(f"the period of {user} ends before it starts")
            except ValueError as exc:
                problems.append(Problem(location=f"schedules/{name}/timeline", reason=str(exc), severity="warning"))
                continue
            shifts.setdefault((user, start, end), Shift(user=user, start=start, end=end))
    return Schedule(
        name=name,
        team=owner_team(item),
        shifts=tuple(sorted(shifts.values(), key=lambda s: (s.start, s.user))),
        provenance=provenance,
    )


def schedule_from_oncalls(
    item: dict[str, Any], oncalls: dict[str, Any], now: datetime, provenance: Provenance
) -> Schedule:
    """Who is on call now, shown as holding the schedule for the next hour; who follows is not known."""
    users = dict.fromkeys(_participant_users(listed(oncalls.get("onCallParticipants"))))
    users.update(dict.fromkeys(u for u in map(text, listed(oncalls.get("onCallRecipients"))) if u))
    return Schedule(
        name=str(text(item.get("name"))),
        team=owner_team(item),
        shifts=tuple(Shift(user=user, start=now, end=now + BOUNDS_UNKNOWN_FOR) for user in users),
        provenance=provenance,
    )


def _participant_users(participants: list[Any]) -> list[str]:
    """Users on call, also those inside a team or escalation participant (which nest their own)."""
    found = []
    for participant in map(mapping, participants):
        if text(participant.get("type")) == "user" and (name := text(participant.get("name"))):
            found.append(name)
        found.extend(_participant_users(listed(participant.get("onCallParticipants"))))
    return found


def escalation_policy(item: dict[str, Any], provenance: Provenance, problems: list[Problem]) -> EscalationPolicy:
    name = str(text(item.get("name")))
    levels: dict[int, list[EscalationTarget]] = {}
    for number, rule in enumerate(map(mapping, listed(item.get("rules"))), start=1):
        minutes = _delay_minutes(rule.get("delay"), number)
        target = _target(mapping(rule.get("recipient")))
        if target is None:
            problems.append(
                Problem(
                    location=f"escalations/{name}",
                    reason=f"rule {number}: recipient {rule.get('recipient')!r} is not a named user, schedule or team; skipped",
                    severity="warning",
                )
            )
            continue
        if target not in levels.setdefault(minutes, []):
            levels[minutes].append(target)
    if not levels:
        raise ValueError("no rule has a usable recipient")
    team = owner_team(item)
    return EscalationPolicy(
        name=name,
        teams=(team,) if team else (),
        levels=tuple(
            EscalationLevel(after_minutes=minutes, targets=tuple(targets))
            for minutes, targets in sorted(levels.items())
        ),
        provenance=provenance,
    )


def _delay_minutes(delay: Any, number: int) -> int:
    if delay is None:
        return 0  # Opsgenie leaves the delay out of a rule that notifies at once
    delay = mapping(delay)
    amount, unit = delay.get("timeAmount"), text(delay.get("timeUnit")) or "minutes"
    per_unit = MINUTES_PER_UNIT.get(unit.lower())
    number_of_units = isinstance(amount, int | float) and not isinstance(amount, bool) and 0 <= amount < math.inf
    if not number_of_units or per_unit is None:
        raise ValueError(f"rule {number}: delay {delay!r} is not a time in minutes, hours or days")
    return round(amount * per_unit)


def _target(recipient: dict[str, Any]) -> EscalationTarget | None:
    kind = text(recipient.get("type"))
    if kind == "user":
        user = text(recipient.get("username")) or text(recipient.get("name"))
        return EscalationTarget(kind="user", name=user) if user else None
    if kind in ("schedule", "team") and (name := text(recipient.get("name"))):
        return EscalationTarget(kind=kind, name=name)  # type: ignore[arg-type]
    return None
