from __future__ import annotations

from datetime import UTC, datetime

from opscontext_mcp.analysis.ownership import escalation_view, next_shift, on_call, policy_for, shift_at
from opscontext_mcp.join import SnapshotInputs, build_snapshot
from opscontext_mcp.model import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Person,
    Schedule,
    Shift,
    Team,
    Vendor,
    VendorContact,
)
from tests.fakes import prov, service


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


SCHEDULE = Schedule(
    name="pay-primary",
    team="team-x",
    shifts=(
        Shift(user="ann", start=at(23, 9), end=at(27, 17)),
        Shift(user="ann", start=at(27, 17), end=at(28, 9)),
        Shift(user="bob", start=at(28, 9), end=at(30, 9)),
    ),
    provenance=prov("oncall"),
)


def test_the_shift_at_a_moment_and_the_next_different_person() -> None:
    assert shift_at(SCHEDULE, at(27, 10)).user == "ann"
    assert shift_at(SCHEDULE, at(27, 17)).start == at(27, 17)
    assert next_shift(SCHEDULE, at(27, 10)).user == "bob"
    assert shift_at(SCHEDULE, at(30, 9)) is None
    assert next_shift(SCHEDULE, at(20, 0)).user == "ann"
    assert next_shift(SCHEDULE, at(30, 10)) is None


def test_the_person_an_override_interrupts_is_next_once_the_override_ends() -> None:
    schedule = Schedule(
        name="pay-primary",
        shifts=(
            Shift(user="ann", start=at(27, 9), end=at(27, 17)),
            Shift(user="bob", start=at(27, 12), end=at(27, 14)),  # an override
            Shift(user="cy", start=at(27, 15), end=at(27, 16)),  # another, later
            Shift(user="dee", start=at(27, 17), end=at(28, 9)),
        ),
        provenance=prov("oncall"),
    )
    assert shift_at(schedule, at(27, 13)).user == "bob"
    following = next_shift(schedule, at(27, 13))
    assert (following.user, following.start, following.end) == ("ann", at(27, 14), at(27, 15))
    assert next_shift(schedule, at(27, 10)) == Shift(user="bob", start=at(27, 12), end=at(27, 14))
    assert next_shift(schedule, at(27, 15)).user == "ann"
    assert next_shift(schedule, at(27, 16)).user == "dee"


def snapshot_with(policies: list[EscalationPolicy]):  # type: ignore[no-untyped-def]
    return build_snapshot(
        SnapshotInputs(
            built_at=at(27, 10),
            services=[service("payment"), service("ledger", owner="user:default/ann")],
            teams=[Team(name="team-x", provenance=prov("cat"))],
            people=[
                Person(name="ann", display_name="Ann A", phone="+1-555-0100", provenance=prov("cat")),
                Person(name="bob", email="bob@example.com", provenance=prov("cat")),
            ],
            schedules=[SCHEDULE],
            policies=policies,
            vendors=[Vendor(name="stripe", contact=VendorContact(bridge="https://bridge"), provenance=prov("oncall"))],
        )
    )


def policy(name: str, teams: tuple[str, ...] = (), services: tuple[str, ...] = ()) -> EscalationPolicy:
    return EscalationPolicy(
        name=name,
        teams=teams,
        services=services,
        levels=(
            EscalationLevel(after_minutes=0, targets=(EscalationTarget(kind="schedule", name="pay-primary"),)),
            EscalationLevel(after_minutes=15, targets=(EscalationTarget(kind="user", name="bob"),)),
            EscalationLevel(after_minutes=45, targets=(EscalationTarget(kind="vendor", name="stripe"),)),
        ),
        provenance=prov("oncall"),
    )


def test_a_policy_naming_the_service_wins_over_the_team_policy() -> None:
    snapshot = snapshot_with(
        [policy("team-wide", teams=("team-x",)), policy("payment-only", services=("PaymentService",))]
    )
    assert policy_for(snapshot, snapshot.services["payment"]).name == "payment-only"
    assert policy_for(snapshot, snapshot.services["ledger"]) is None


def test_escalation_targets_resolve_to_people_and_contacts_when_each_level_applies() -> None:
    snapshot = snapshot_with([policy("team-wide", teams=("team-x",))])
    view = escalation_view(snapshot, snapshot.policy_by_team["x"], started_at=at(28, 8))
    first, second, third = view.levels
    assert first.targets[0].on_call.name == "ann" and first.targets[0].contact == "+1-555-0100"
    assert second.after_minutes == 15 and second.targets[0].contact == "bob@example.com"
    assert third.targets[0].kind == "vendor" and third.targets[0].contact == "https://bridge"
    later = escalation_view(snapshot, snapshot.policy_by_team["x"], started_at=at(28, 9))
    assert later.levels[0].targets[0].on_call.name == "bob"


def test_same_named_policies_from_two_sources_keep_their_own_escalation_views() -> None:
    from_pagerduty = EscalationPolicy(
        name="team-wide",
        levels=(EscalationLevel(after_minutes=5, targets=(EscalationTarget(kind="user", name="ann"),)),),
        provenance=prov("pagerduty"),
    )
    snapshot = snapshot_with([policy("team-wide", teams=("team-x",)), from_pagerduty])
    ours, theirs = snapshot.policies
    assert [level.after_minutes for level in escalation_view(snapshot, ours, at(28, 8)).levels] == [0, 15, 45]
    assert [level.after_minutes for level in escalation_view(snapshot, theirs, at(28, 8)).levels] == [5]


def test_on_call_is_read_from_the_owning_teams_schedules() -> None:
    snapshot = snapshot_with([])
    found = on_call(snapshot, snapshot.services["payment"], at(27, 10))
    assert [v.person.display_name for v in found.now] == ["Ann A"]
    assert [(v.person.name, v.start) for v in found.next] == [("bob", at(28, 9))]
    assert found.notes == []
    ending = on_call(snapshot, snapshot.services["payment"], at(29, 10))
    assert ending.next == [] and ending.notes == ["schedule pay-primary has no shift after 2026-11-30T09:00:00Z"]
    gap = on_call(snapshot, snapshot.services["payment"], at(30, 12))
    assert gap.notes == ["nobody holds schedule pay-primary now"]
    unowned = on_call(snapshot, snapshot.services["ledger"], at(27, 10))
    assert (unowned.now, unowned.next) == ([], [])


def test_an_overlapping_shift_is_an_override_and_an_early_handover_is_next() -> None:
    schedule = Schedule(
        name="s",
        shifts=(
            Shift(user="ann", start=at(27, 9), end=at(28, 9)),
            Shift(user="cid", start=at(27, 12), end=at(27, 14)),
            Shift(user="bob", start=at(28, 8), end=at(29, 9)),
        ),
        provenance=prov("oncall"),
    )
    assert shift_at(schedule, at(27, 13)).user == "cid"
    assert shift_at(schedule, at(27, 15)).user == "ann"
    assert next_shift(schedule, at(27, 15)).user == "bob"
    assert next_shift(schedule, at(27, 10)).user == "cid"
