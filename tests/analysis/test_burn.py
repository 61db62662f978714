from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from opscontext_mcp.analysis.burn import (
    BurnTier,
    Counts,
    alert_tiers,
    budget_consumed,
    budget_status,
    burn_rate,
    evaluate,
    ratio_timeslice_counts,
    time_to_exhaustion,
    timeslice_counts,
)

THIRTY_DAYS = timedelta(days=30)


def test_one_point_four_four_percent_errors_on_three_nines_burns_at_14_4() -> None:
    assert burn_rate(0.0144, 0.999) == pytest.approx(14.4, rel=1e-12)
    assert burn_rate(0.001, 0.999) == pytest.approx(1.0, rel=1e-12)
    assert burn_rate(0.0, 0.999) == 0.0


def test_an_hour_at_14_4_spends_two_percent_of_a_30_day_budget() -> None:
    assert budget_consumed(14.4, timedelta(hours=1), THIRTY_DAYS) == pytest.approx(0.02, rel=1e-12)
    assert budget_consumed(6, timedelta(hours=6), THIRTY_DAYS) == pytest.approx(0.05, rel=1e-12)
    assert budget_consumed(1, timedelta(days=3), THIRTY_DAYS) == pytest.approx(0.10, rel=1e-12)


def test_a_full_budget_lasts_50_hours_at_14_4_and_half_of_it_25() -> None:
    assert time_to_exhaustion(14.4, 1.0, THIRTY_DAYS) == timedelta(hours=50)
    assert time_to_exhaustion(14.4, 0.5, THIRTY_DAYS) == timedelta(hours=25)
    assert time_to_exhaustion(1.0, 1.0, THIRTY_DAYS) == THIRTY_DAYS


def test_nothing_burning_never_exhausts_and_an_overspent_budget_is_gone_now() -> None:
    assert time_to_exhaustion(0.0, 1.0, THIRTY_DAYS) is None
    assert time_to_exhaustion(-1.0, 1.0, THIRTY_DAYS) is None
    assert time_to_exhaustion(3.0, -0.2, THIRTY_DAYS) == timedelta(0)


def test_the_30_day_tiers_are_the_workbook_table() -> None:
    assert alert_tiers(THIRTY_DAYS) == (
        BurnTier("page-fast", "page", timedelta(hours=1), timedelta(minutes=5), 14.4, 0.02),
        BurnTier("page-slow", "page", timedelta(hours=6), timedelta(minutes=30), 6.0, 0.05),
        BurnTier("ticket", "ticket", timedelta(days=3), timedelta(hours=6), 1.0, 0.1),
    )


def test_28_day_tiers_keep_the_thresholds_and_scale_the_windows() -> None:
    # 28 d = 672 h. Long windows: 672 h/720 = 56 min, x6 = 336 min, x72 = 4032 min; short = long/12.
    assert alert_tiers(timedelta(days=28)) == (
        BurnTier("page-fast", "page", timedelta(minutes=56), timedelta(minutes=4, seconds=40), 14.4, 0.02),
        BurnTier("page-slow", "page", timedelta(hours=5, minutes=36), timedelta(minutes=28), 6.0, 0.05),
        BurnTier("ticket", "ticket", timedelta(hours=67, minutes=12), timedelta(hours=5, minutes=36), 1.0, 0.1),
    )


def test_7_day_tiers_keep_the_thresholds_and_scale_the_windows() -> None:
    # 7 d = 168 h. Long windows: 168 h/720 = 14 min, x6 = 84 min, x72 = 1008 min = 16 h 48 min.
    assert alert_tiers(timedelta(days=7)) == (
        BurnTier("page-fast", "page", timedelta(minutes=14), timedelta(minutes=1, seconds=10), 14.4, 0.02),
        BurnTier("page-slow", "page", timedelta(minutes=84), timedelta(minutes=7), 6.0, 0.05),
        BurnTier("ticket", "ticket", timedelta(hours=16, minutes=48), timedelta(minutes=84), 1.0, 0.1),
    )


def test_each_tier_spends_its_budget_share_when_burning_at_its_threshold_for_its_long_window() -> None:
    for period in (timedelta(days=7), timedelta(days=28), THIRTY_DAYS, timedelta(days=90)):
        for tier in alert_tiers(period):
            assert budget_consumed(tier.threshold, tier.long, period) == pytest.approx(tier.budget_fraction, rel=1e-9)


def _measure(by_window: dict[timedelta, Counts]) -> tuple[Callable[[timedelta], Counts], list[timedelta]]:
    asked: list[timedelta] = []

    def measure(window: timedelta) -> Counts:
        asked.append(window)
        return by_window[window]

    return measure, asked


FAST = BurnTier("page-fast", "page", timedelta(hours=1), timedelta(minutes=5), 14.4, 0.02)


def test_a_tier_fires_only_when_both_windows_burn_faster_than_its_threshold() -> None:
    # 99.9 %: 2 % errors is burn 20, 1 % is burn 10.
    both, _ = _measure({FAST.long: Counts(980, 1000), FAST.short: Counts(98, 100)})
    [result] = evaluate([FAST], both, 0.999, min_events=50)
    assert result.firing and not result.insufficient and result.note is None
    assert result.long.burn == pytest.approx(20.0) and result.short.burn == pytest.approx(20.0)
    assert result.long.error_ratio == pytest.approx(0.02) and result.long.counts == Counts(980, 1000)

    recovered, _ = _measure({FAST.long: Counts(980, 1000), FAST.short: Counts(99, 100)})
    [result] = evaluate([FAST], recovered, 0.999, min_events=50)
    assert not result.firing
    assert result.short.burn == pytest.approx(10.0)

    just_starting, _ = _measure({FAST.long: Counts(990, 1000), FAST.short: Counts(95, 100)})
    [result] = evaluate([FAST], just_starting, 0.999, min_events=50)
    assert not result.firing


def test_a_burn_exactly_at_the_threshold_does_not_fire() -> None:
    ticket = BurnTier("ticket", "ticket", timedelta(days=3), timedelta(hours=6), 1.0, 0.1)
    at_threshold, _ = _measure({ticket.long: Counts(9, 10), ticket.short: Counts(9, 10)})
    [result] = evaluate([ticket], at_threshold, 0.9, min_events=1)
    assert result.long.burn == pytest.approx(1.0)
    assert not result.firing


def test_a_window_with_too_little_traffic_never_fires_and_says_so() -> None:
    thin, _ = _measure({FAST.long: Counts(900, 1000), FAST.short: Counts(5, 8)})
    [result] = evaluate([FAST], thin, 0.999, min_events=10)
    assert result.short.burn == pytest.approx(375.0)
    assert result.short.insufficient and not result.long.insufficient
    assert result.insufficient and not result.firing
    assert result.note == "insufficient traffic: 8 events in 5m, fewer than 10"


def test_a_window_without_traffic_has_no_burn_rate() -> None:
    idle, _ = _measure({FAST.long: Counts(0, 0), FAST.short: Counts(0, 0)})
    [result] = evaluate([FAST], idle, 0.999, min_events=1)
    assert result.long.burn is None and result.long.error_ratio is None
    assert result.insufficient and not result.firing
    assert result.note == "insufficient traffic: 0 events in 1h, fewer than 1; 0 events in 5m, fewer than 1"


def test_each_window_is_measured_once_across_tiers() -> None:
    shared = BurnTier("other", "ticket", timedelta(hours=1), timedelta(minutes=30), 1.0, 0.1)
    measure, asked = _measure({FAST.long: Counts(100, 100), FAST.short: Counts(10, 10), shared.short: Counts(50, 50)})
    results = evaluate([FAST, shared], measure, 0.999, min_events=1)
    assert [r.tier.name for r in results] == ["page-fast", "other"]
    assert sorted(asked) == [timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=1)]


def test_budget_status_is_the_sli_and_the_share_of_budget_left() -> None:
    # 99.5 %: 10 000 events allow 50 bad; 20 bad spend 40 %, 75 bad overspend by half.
    status = budget_status(Counts(9980, 10000), 0.995)
    assert status.sli == pytest.approx(0.998)
    assert status.consumed == pytest.approx(0.4)
    assert status.remaining == pytest.approx(0.6)
    overspent = budget_status(Counts(9925, 10000), 0.995)
    assert overspent.remaining == pytest.approx(-0.5)
    idle = budget_status(Counts(0, 0), 0.995)
    assert idle.sli is None and idle.remaining == 1.0


def test_timeslices_count_good_slices_among_slices_with_traffic() -> None:
    slices = [Counts(99, 100), Counts(100, 100), Counts(90, 100), Counts(0, 0), Counts(19, 20)]
    assert timeslice_counts(slices, 0.95) == Counts(good=3.0, total=4.0, requests=320)
    assert timeslice_counts(slices, 0.99) == Counts(good=2.0, total=4.0, requests=320)


def test_ratio_timeslices_average_the_slice_ratios_whatever_their_traffic() -> None:
    slices = [Counts(1, 2), Counts(1000, 1000), Counts(0, 0), Counts(0, 10)]
    counts = ratio_timeslice_counts(slices)
    assert counts == Counts(good=1.5, total=3.0, requests=1012)
    assert counts.sli == pytest.approx(0.5)


def test_the_minimum_traffic_guard_counts_the_requests_behind_time_slices_not_the_slices() -> None:
    """One 5-minute slice that 3,600 failing requests made is plenty of traffic, though it is one slice."""
    tiers = alert_tiers(timedelta(days=30))
    burnt = timeslice_counts([Counts(0, 3600)], 0.99)
    (fast, *_) = evaluate(tiers[:1], lambda window: burnt, 0.999, 5)
    assert fast.firing and not fast.insufficient
    thin = timeslice_counts([Counts(0, 3)], 0.99)
    (starved, *_) = evaluate(tiers[:1], lambda window: thin, 0.999, 5)
    assert (
        not starved.firing
        and starved.note == "insufficient traffic: 3 events in 1h, fewer than 5; 3 events in 5m, fewer than 5"
    )
