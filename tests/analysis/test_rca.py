from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from opscontext_mcp.analysis.rca import (
    Evidence,
    Signal,
    analyse,
    group_signals,
    rank_contributors,
)
from opscontext_mcp.analysis.symptoms import is_internal_symptom

T0 = datetime(2026, 11, 27, 9, 40, tzinfo=UTC)


class Calls:
    """A topology from caller → callees pairs."""

    def __init__(self, *edges: tuple[str, str]) -> None:
        self.down: dict[str, list[str]] = {}
        self.up: dict[str, list[str]] = {}
        for caller, callee in edges:
            self.down.setdefault(caller, []).append(callee)
            self.up.setdefault(callee, []).append(caller)

    def dependencies(self, service: str) -> Iterable[str]:
        return self.down.get(service, ())

    def dependents(self, service: str) -> Iterable[str]:
        return self.up.get(service, ())


SHOP = Calls(
    ("web", "checkout"), ("checkout", "payment"), ("payment", "gateway"), ("checkout", "cart"), ("cart", "redis")
)


def signal(service: str, minutes: float, name: str = "LatencyHigh", severity: str = "critical") -> Signal:
    return Signal(
        key=f"{service}-{name}-{minutes}",
        service=service,
        name=name,
        onset=T0 + timedelta(minutes=minutes),
        severity=severity,
        internal=is_internal_symptom(name),
    )


def keys(groups: list[list[Signal]]) -> list[list[str]]:
    return [[s.service for s in group] for group in groups]


def test_alerts_on_connected_services_within_the_window_form_one_group_by_chained_onsets() -> None:
    # web is 20 min after payment but 10 after checkout: the chain holds. search is connected to nothing.
    signals = [signal("payment", 0), signal("checkout", 10), signal("web", 20), signal("search", 1)]
    assert keys(group_signals(signals, SHOP)) == [["payment", "checkout", "web"], ["search"]]


def test_onsets_further_apart_than_the_window_make_separate_groups() -> None:
    signals = [signal("payment", 0), signal("checkout", 16)]
    assert keys(group_signals(signals, SHOP)) == [["payment"], ["checkout"]]
    assert keys(group_signals(signals, SHOP, timedelta(minutes=20))) == [["payment", "checkout"]]


def test_one_quiet_service_between_two_alerting_ones_does_not_split_them_but_two_do() -> None:
    # checkout is quiet: web and payment are joined through it. redis is two quiet hops from payment.
    assert keys(group_signals([signal("payment", 0), signal("web", 3)], SHOP)) == [["payment", "web"]]
    assert keys(group_signals([signal("payment", 0), signal("redis", 3)], SHOP)) == [["payment"], ["redis"]]


def test_the_deepest_alerting_service_with_a_change_just_before_is_the_primary_contributor() -> None:
    signals = [signal("payment", 0), signal("checkout", 2), signal("web", 5)]
    evidence = Evidence(changes={"payment": [(T0 - timedelta(minutes=4), "chg-1")], "web": [(T0, "chg-web")]})
    ranked = rank_contributors(signals, SHOP, evidence)
    primary = ranked[0]
    assert primary.service == "payment" and primary.change == (T0 - timedelta(minutes=4), "chg-1")
    assert "3 of 3 alerting services depend on it (itself included)" in primary.evidence
    assert "first to alert" in primary.evidence
    assert "change chg-1 4 min before its first alert" in primary.evidence
    web = next(c for c in ranked if c.service == "web")
    assert "something it depends on alerted first or at once: checkout, payment" in web.evidence
    checkout = next(c for c in ranked if c.service == "checkout")
    assert ranked.index(checkout) > ranked.index(primary) and checkout.score < primary.score - 3


def test_an_internal_symptom_beats_an_earlier_external_one_on_a_caller() -> None:
    # checkout's latency alert fires first, but cart reports its own memory exhausted and checkout calls cart.
    signals = [signal("checkout", 0), signal("cart", 1, "CartMemoryHigh"), signal("cart", 2)]
    ranked = rank_contributors(signals, SHOP, Evidence())
    assert ranked[0].service == "cart" and ranked[0].internal
    assert "internal symptom: CartMemoryHigh" in ranked[0].evidence


def test_a_quiet_dependency_that_calls_fail_into_outranks_its_callers_showing_inherited_symptoms() -> None:
    signals = [signal("payment", 0), signal("checkout", 1), signal("web", 2)]
    evidence = Evidence(
        edge_errors={("checkout", "payment"): 0.2, ("payment", "gateway"): 0.3, ("web", "checkout"): 0.2}
    )
    ranked = rank_contributors(signals, SHOP, evidence)
    assert ranked[0].service == "gateway" and not ranked[0].alerting
    assert "calls into it fail 30%, its own calls out not observed" in ranked[0].evidence
    payment = next(c for c in ranked if c.service == "payment")
    assert "its own calls out fail 30%, at least as often as calls into it: symptoms look inherited" in payment.evidence


def test_a_quiet_dependency_its_callers_reach_without_failing_is_ranked_as_observed_healthy() -> None:
    signals = [signal("payment", 0)]
    ranked = rank_contributors(signals, SHOP, Evidence(edge_errors={("payment", "gateway"): 0.0}))
    assert [c.service for c in ranked] == ["payment", "gateway"]
    assert "calls into it succeed (0% fail)" in ranked[1].evidence


@pytest.mark.parametrize(
    ("name", "labels", "internal"),
    [
        ("RedisCartMemoryHigh", None, True),
        ("KubePodCrashLooping", None, True),
        ("NodeFilesystemSpaceFillingUp", None, True),
        ("HighCPUUsage", None, True),
        ("CheckoutLatencyHigh", None, False),
        ("PaymentErrorRateHigh", None, False),
        ("CheckoutSLOBurnRateHigh", None, False),
        ("PaymentLatencyHigh", {"symptom": "internal"}, True),
    ],
)
def test_internal_symptoms_are_told_from_the_alert_name_or_a_symptom_label(
    name: str, labels: dict[str, str] | None, internal: bool
) -> None:
    assert is_internal_symptom(name, labels) is internal


def test_groups_come_most_severe_first_and_the_answer_is_the_same_whatever_the_input_order() -> None:
    signals = [
        signal("redis", 30, "RedisMemoryHigh", "warning"),
        signal("payment", 0),
        signal("checkout", 2),
    ]
    first = analyse(signals, SHOP, Evidence())
    again = analyse(list(reversed(signals)), SHOP, Evidence())
    assert [g.services for g in first] == [("payment", "checkout"), ("redis",)]
    assert [(g.services, [c.service for c in g.candidates]) for g in first] == [
        (g.services, [c.service for c in g.candidates]) for g in again
    ]
    assert first[0].primary is not None and first[0].primary.service == "payment"


def test_a_group_with_two_signs_of_an_incident_outranks_a_lone_alert_one_severity_up() -> None:
    lone = signal("redis", 30, "RedisLatencyHigh", "critical")
    # cart: its own memory and its callers' latency (two detectors agree), and a deploy 10 minutes before.
    incident = [signal("cart", 0, "CartMemoryHigh", "warning"), signal("cart", 1, "CartLatencyHigh", "warning")]
    evidence = Evidence(changes={"cart": [(T0 - timedelta(minutes=10), "deploy-cart")]})
    assert [g.services for g in analyse([lone, *incident], SHOP, evidence)] == [("cart",), ("redis",)]
    # Without the deploy, one sign raises it one level only: the critical alert comes first.
    assert [g.services for g in analyse([lone, *incident], SHOP, Evidence())] == [("redis",), ("cart",)]
    # Two lone alerts of one severity and no signs: the better explained first, though it fired later.
    later = signal("redis", 50, "RedisMemoryHigh", "critical")  # an internal symptom weighs more
    earlier = signal("web", 40, "WebLatencyHigh", "critical")
    assert [g.services for g in analyse([earlier, later], SHOP, Evidence())] == [("redis",), ("web",)]


def test_many_callers_of_one_quiet_hub_alerting_together_are_one_group_explained_by_the_hub() -> None:
    callers = [f"caller-{i}" for i in range(300)]
    hub = Calls(*((caller, "auth") for caller in callers))
    signals = [signal(caller, i / 60) for i, caller in enumerate(callers)]  # a second apart
    (group,) = analyse(signals, hub, Evidence())
    assert len(group.services) == 300 and group.primary is not None and group.primary.service == "auth"
    assert group.primary.evidence[:2] == (
        "300 of 300 alerting services depend on it (itself included)",
        "no alert of its own; nothing it depends on is alerting",
    )
