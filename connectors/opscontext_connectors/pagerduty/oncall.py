"""PagerDuty services, escalation policies and on-calls as schedules and escalation policies.

A service names one escalation policy. A policy's rules page their targets in order, and a
rule's `escalation_delay_in_minutes` is how long it holds before the next rule is paged, so
level n applies at the sum of the delays of the rules before it. `num_loops` repeats the
rules; the levels are kept once. Who holds a schedule, and until when, comes from `/oncalls`
over the look-ahead window; people are named by email wherever PagerDuty gave one, since
email is what joins them to the catalog's people.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from opscontext_mcp.model import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Person,
    Provenance,
    Schedule,
    Shift,
)
from opscontext_mcp.protocols import OnCallData, Problem

from ..values import each, listed, mapping, parse_time, text
from .values import name_of, ref_of

SCHEDULE_TYPES = frozenset({"schedule_reference", "schedule"})
USER_TYPES = frozenset({"user_reference", "user"})


def service_ref(service_id: str) -> str:
    """How PagerDuty's services are named to the join: by the annotation catalogs carry."""
    return f"pagerduty:{service_id}"


@dataclass
class _ScheduleDraft:
    name: str
    ref: str | None
    team: str | None = None
    """The team of a policy that pages the schedule first: whose on-call it is."""
    shifts: dict[tuple[str, datetime, datetime], Shift] = field(default_factory=dict)


@dataclass
class OnCallReader:
    """Maps what the connector fetched; unusable records become problems, the rest is served.

    Schedules are kept by id: PagerDuty schedule names are not unique ("Primary" in every team),
    so same-named schedules are told apart by their team, or by their id where that is not enough.
    A schedule belongs to a team only where the team's policy pages it first (level 1); a schedule
    only reached at a later level (a manager rotation) is paged by escalation, not on call for it.
    """

    source: str
    now: datetime
    until: datetime
    fetched_at: datetime
    problems: list[Problem] = field(default_factory=list)
    _schedules: dict[str, _ScheduleDraft] = field(default_factory=dict)
    _policy_teams: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _service_names: dict[str, str] = field(default_factory=dict)

    def services_by_policy(self, services: list[Any], wanted: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """The services to serve (all, or those `wanted`), grouped by the policy that pages for them."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        seen: set[str] = set()
        for index, service in enumerate(services):
            service_id = text(service.get("id")) if isinstance(service, dict) else None
            if service_id is None:
                self.problems.append(Problem(location=f"services[{index}]", reason="expected a service with an id"))
                continue
            if wanted and service_id not in wanted:
                continue
            seen.add(service_id)
            if name := name_of(service):
                self._service_names[service_ref(service_id)] = name
            policy_id = text(mapping(service.get("escalation_policy")).get("id"))
            if policy_id is None:
                self._warn(f"services/{service_id}", "the service has no escalation policy")
                continue
            grouped.setdefault(policy_id, []).append(service)
        for missing in (s for s in wanted if s not in seen):
            self._warn(f"services/{missing}", "service_ids names a service PagerDuty did not list")
        return grouped

    def read(
        self,
        policies: dict[str, dict[str, Any]],
        services_by_policy: dict[str, list[dict[str, Any]]],
        oncalls: list[Any],
    ) -> OnCallData:
        emails = _emails_by_user_id(oncalls)
        for policy_id, body in policies.items():
            self._note_schedules(policy_id, body, services_by_policy.get(policy_id, []))
        for oncall in oncalls:
            self._note_oncall_schedule(mapping(oncall))
        names = self._schedule_names()
        built: list[EscalationPolicy] = []
        for policy_id, body in policies.items():
            services = services_by_policy.get(policy_id, [])
            build = partial(self._policy, policy_id=policy_id, services=services, emails=emails, names=names)
            built.extend(each([body], "escalation_policies", self.problems, build))
        each(oncalls, "oncalls", self.problems, partial(self._add_shift, emails=emails))
        schedules = tuple(
            Schedule(
                name=names[key],
                team=draft.team,
                shifts=tuple(sorted(draft.shifts.values(), key=lambda s: (s.start, s.user))),
                provenance=self._provenance(draft.ref),
            )
            for key, draft in self._schedules.items()
        )
        return OnCallData(
            schedules=schedules,
            policies=tuple(built),
            people=self._people(oncalls),
            problems=tuple(self.problems),
            service_names=tuple(self._service_names.items()),
        )

    def _note_schedules(self, policy_id: str, body: dict[str, Any], services: list[dict[str, Any]]) -> None:
        """The policy's team, and every schedule it pages (with that team where it pages it first)."""
        teams = _team_names(listed(body.get("teams"))) or _team_names(
            t for s in services for t in listed(s.get("teams"))
        )
        self._policy_teams[policy_id] = teams
        for number, rule in enumerate(listed(body.get("escalation_rules")), start=1):
            for target in listed(mapping(rule).get("targets")):
                target = mapping(target)
                if text(target.get("type")) in SCHEDULE_TYPES:
                    self._note_schedule(target, teams if number == 1 else ())

    def _note_oncall_schedule(self, oncall: dict[str, Any]) -> None:
        schedule = mapping(oncall.get("schedule"))
        if schedule:
            policy_id = text(mapping(oncall.get("escalation_policy")).get("id")) or ""
            first = oncall.get("escalation_level") == 1
            self._note_schedule(schedule, self._policy_teams.get(policy_id, ()) if first else ())

    def _note_schedule(self, reference: dict[str, Any], teams: tuple[str, ...]) -> None:
        key, name = _schedule_key(reference), name_of(reference)
        if key is None or name is None:
            return
        draft = self._schedules.setdefault(key, _ScheduleDraft(name=name, ref=ref_of(reference)))
        if draft.team is None and teams:
            draft.team = teams[0]

    def _schedule_names(self) -> dict[str, str]:
        """Each schedule's name, made unique: `Primary (Payments)`, or `Primary (PSCHED1)` if teams do not tell."""
        by_name: dict[str, list[str]] = {}
        for key, draft in self._schedules.items():
            by_name.setdefault(draft.name, []).append(key)
        names = {}
        for name, keys in by_name.items():
            if len(keys) == 1:
                names[keys[0]] = name
                continue
            teams = [self._schedules[key].team for key in keys]
            by_team = None not in teams and len(set(teams)) == len(teams)
            for key, team in zip(keys, teams, strict=True):
                names[key] = f"{name} ({team if by_team else key})"
            self._warn(
                f"schedules/{name}",
                f"{len(keys)} schedules share this name; they are told apart as {', '.join(names[k] for k in keys)}",
            )
        return names

    def _people(self, oncalls: list[Any]) -> tuple[Person, ...]:
        """Everyone on call in the window, as PagerDuty knows them (with `include[]=users`)."""
        found: dict[str, Person] = {}
        for oncall in oncalls:
            user = mapping(mapping(oncall).get("user"))
            email = text(user.get("email"))
            if email and email not in found:
                found[email] = Person(
                    name=email,
                    display_name=text(user.get("name")) or text(user.get("summary")),
                    email=email,
                    provenance=self._provenance(ref_of(user)),
                )
        return tuple(found.values())

    def _policy(
        self,
        item: dict[str, Any],
        policy_id: str,
        services: list[dict[str, Any]],
        emails: dict[str, str],
        names: dict[str, str],
    ) -> EscalationPolicy:
        name = name_of(item)
        if name is None:
            raise ValueError("the escalation policy has no name")
        where = f"escalation_policies/{policy_id}"
        rules = item.get("escalation_rules")
        if not isinstance(rules, list) or not rules:
            raise ValueError("the escalation policy has no escalation_rules")
        levels = []
        after = 0
        for number, rule in enumerate(rules, start=1):
            rule = mapping(rule)
            delay = rule.get("escalation_delay_in_minutes")
            if (
                isinstance(delay, bool)
                or not isinstance(delay, int | float)
                or delay < 0
                or not float(delay).is_integer()
            ):
                raise ValueError(f"rule {number}: escalation_delay_in_minutes {delay!r} is not a number of minutes")
            targets = []
            for target in listed(rule.get("targets")):
                found = _target(mapping(target), emails, names)
                if found is None:
                    self._warn(where, f"rule {number}: target {target!r} is neither a schedule nor a user; skipped")
                else:
                    targets.append(found)
            if targets:
                levels.append(EscalationLevel(after_minutes=after, targets=tuple(targets)))
            else:
                self._warn(where, f"rule {number} has no usable target; its level is left out")
            after += int(delay)
        if not levels:
            raise ValueError("no escalation rule has a usable target")
        return EscalationPolicy(
            name=name,
            teams=self._policy_teams.get(policy_id, ()),
            services=tuple(service_ref(str(text(s.get("id")))) for s in services),
            levels=tuple(levels),
            provenance=self._provenance(ref_of(item)),
        )

    def _add_shift(self, item: dict[str, Any], emails: dict[str, str]) -> None:
        schedule = mapping(item.get("schedule"))
        if not schedule:
            return None  # the policy pages this user directly: a user target, not a schedule's shift
        key = _schedule_key(schedule)
        user = _user_name(mapping(item.get("user")), emails)
        if key is None or key not in self._schedules or user is None:
            raise ValueError("the on-call names no schedule or no user")
        # PagerDuty leaves start and end empty for an on-call that never ends.
        start = parse_time(item.get("start"), "start") or self.now
        end = parse_time(item.get("end"), "end") or self.until
        if end <= start:
            raise ValueError(f"the on-call of {user} ends before it starts")
        self._schedules[key].shifts.setdefault((user, start, end), Shift(user=user, start=start, end=end))
        return None

    def _provenance(self, ref: str | None) -> Provenance:
        return Provenance(source=self.source, fetched_at=self.fetched_at, ref=ref)

    def _warn(self, location: str, reason: str) -> None:
        self.problems.append(Problem(location=location, reason=reason, severity="warning"))


def _schedule_key(reference: dict[str, Any]) -> str | None:
    """A schedule's id; a reference without one is known by its name alone."""
    schedule_id = text(reference.get("id"))
    if schedule_id is not None:
        return schedule_id
    name = name_of(reference)
    return f"name:{name}" if name else None


def _target(target: dict[str, Any], emails: dict[str, str], names: dict[str, str]) -> EscalationTarget | None:
    kind = text(target.get("type"))
    if kind in SCHEDULE_TYPES and (key := _schedule_key(target)) in names:
        return EscalationTarget(kind="schedule", name=names[key])
    if kind in USER_TYPES and (user := _user_name(target, emails)):
        return EscalationTarget(kind="user", name=user)
    return None


def _emails_by_user_id(oncalls: list[Any]) -> dict[str, str]:
    """With `include[]=users` every on-call's user carries an email; escalation targets only a summary."""
    found = {}
    for oncall in oncalls:
        user = mapping(mapping(oncall).get("user"))
        user_id, email = text(user.get("id")), text(user.get("email"))
        if user_id and email:
            found[user_id] = email
    return found


def _user_name(user: dict[str, Any], emails: dict[str, str]) -> str | None:
    return text(user.get("email")) or emails.get(text(user.get("id")) or "") or name_of(user)


def _team_names(teams: Iterable[Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for team in teams if (name := name_of(team))))
