"""Error-budget arithmetic: burn rates, budget left, and the multiwindow, multi-burn-rate alert tiers.

Pure functions after the SRE Workbook, chapter 5 "Alerting on SLOs":

- burn rate = error ratio / (1 - SLO target): how fast the budget goes, relative to spending
  exactly all of it over the SLO period (burn 1);
- budget consumed = burn rate x window / period (a share of the whole budget);
- time to exhaustion = budget left x period / burn rate.

With a 99.9 % target over 30 days (720 h), 1.44 % errors is burn 14.4; one hour of it spends
14.4 x 1 h / 720 h = 2 % of the budget, and a full budget lasts 720 h / 14.4 = 50 h.

Counts come from the caller (traces, PromQL, Dynatrace): this module never measures anything.
Nothing is rounded here; replies round for display.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Literal


@dataclass(frozen=True)
class Counts:
    """Events in a window: `good` of `total` (for time slices: good slices of slices with traffic)."""

    good: float
    total: float
    requests: float | None = None
    """For time slices: the events the slices were made of, which the minimum-traffic guard counts."""

    @property
    def traffic(self) -> float:
        """What the minimum-traffic guard weighs: the events, also when they were counted in slices."""
        return self.total if self.requests is None else self.requests

    @property
    def bad(self) -> float:
        return self.total - self.good

    @property
    def sli(self) -> float | None:
        """good / total; None without traffic."""
        return self.good / self.total if self.total > 0 else None

    @property
    def error_ratio(self) -> float | None:
        """bad / total; None without traffic."""
        return self.bad / self.total if self.total > 0 else None


def burn_rate(error_ratio: float, target: float) -> float:
    """How many times faster than sustainable the budget is spent: error_ratio / (1 - target).

    Burn 1 spends exactly the whole budget over the SLO period (Workbook, "Alerting on SLOs").
    """
    return error_ratio / (1 - target)


def budget_consumed(burn: float, window: timedelta, period: timedelta) -> float:
    """The share of the whole period's budget spent by burning at `burn` for `window`: burn x window / period."""
    return burn * (window / period)


def time_to_exhaustion(burn: float, remaining_fraction: float, period: timedelta) -> timedelta | None:
    """How long until the budget left (a share of the whole) is gone at this burn: remaining x period / burn.

    None when nothing burns (burn <= 0); zero when the budget is already spent.
    """
    if burn <= 0:
        return None
    return period * max(remaining_fraction, 0.0) / burn


@dataclass(frozen=True)
class BurnTier:
    """One row of the multiwindow, multi-burn-rate alert table."""

    name: str
    severity: Literal["page", "ticket"]
    long: timedelta
    short: timedelta
    threshold: float
    """The burn rate both windows must exceed."""
    budget_fraction: float
    """The share of the budget the long window spends when burning exactly at the threshold."""


@dataclass(frozen=True)
class _TierShape:
    name: str
    severity: Literal["page", "ticket"]
    budget: Fraction
    window: Fraction
    """Long window / period."""


# The Workbook table for 30 days (720 h): 1 h at 14.4 spends 2 %, 6 h at 6 spends 5 %, 3 d at 1 spends 10 %.
_WORKBOOK_TIERS = (
    _TierShape("page-fast", "page", Fraction(2, 100), Fraction(1, 720)),
    _TierShape("page-slow", "page", Fraction(5, 100), Fraction(6, 720)),
    _TierShape("ticket", "ticket", Fraction(10, 100), Fraction(72, 720)),
)
_SHORT_WINDOW_DIVISOR = 12


def alert_tiers(period: timedelta) -> tuple[BurnTier, ...]:
    """The Workbook's multiwindow, multi-burn-rate alert tiers, scaled to an SLO period.

    The Workbook's table is for 30 days: page on 1 h / 5 min at burn 14.4 (2 % of the budget),
    page on 6 h / 30 min at 6 (5 %), ticket on 3 d / 6 h at 1 (10 %). Scaling keeps the budget
    shares and each long window's share of the period (1/720, 6/720, 72/720); the short window is
    1/12 of the long one. The threshold is budget x period / long = budget / (long / period), in
    which the period cancels: the thresholds are 14.4, 6 and 1 for every period, and only the
    windows scale (28 days: 56 min / 4 min 40 s, 5 h 36 min / 28 min, 67 h 12 min / 5 h 36 min).
    The target does not enter either: a burn rate is already relative to the budget.
    """
    tiers = []
    for shape in _WORKBOOK_TIERS:
        long = period * shape.window.numerator / shape.window.denominator
        tiers.append(
            BurnTier(
                name=shape.name,
                severity=shape.severity,
                long=long,
                short=long / _SHORT_WINDOW_DIVISOR,
                threshold=float(shape.budget / shape.window),
                budget_fraction=float(shape.budget),
            )
        )
    return tuple(tiers)


@dataclass(frozen=True)
class WindowBurn:
    """The burn over one window of a tier."""

    window: timedelta
    counts: Counts
    error_ratio: float | None
    """None without traffic."""
    burn: float | None
    """None without traffic."""
    insufficient: bool
    """Fewer events than the minimum: the window cannot make its tier fire."""


@dataclass(frozen=True)
class TierResult:
    tier: BurnTier
    long: WindowBurn
    short: WindowBurn
    firing: bool
    """Both windows burn faster than the threshold, each with enough traffic."""
    insufficient: bool
    """A window had too little traffic to judge: the tier does not fire, whatever its burn."""
    note: str | None = None
    """Why a tier with insufficient traffic cannot fire, in words."""


def evaluate(
    tiers: Sequence[BurnTier], measure: Callable[[timedelta], Counts], target: float, min_events: float
) -> tuple[TierResult, ...]:
    """Each tier's burn on its long and short window, and whether it fires.

    A tier fires when the burn rate exceeds its threshold on BOTH windows (Workbook, approach 6:
    the long window carries significance, the short one lets the alert reset soon after recovery).
    A window with fewer than `min_events` events never fires: on low traffic a handful of errors
    is a large ratio and would page for nothing (the Workbook's minimum-traffic guard).
    `measure(window)` counts the events of the window ending now; each window is measured once.
    """
    measured: dict[timedelta, WindowBurn] = {}

    def window_burn(window: timedelta) -> WindowBurn:
        if window not in measured:
            counts = measure(window)
            ratio = counts.error_ratio
            measured[window] = WindowBurn(
                window=window,
                counts=counts,
                error_ratio=ratio,
                burn=None if ratio is None else burn_rate(ratio, target),
                insufficient=counts.traffic < min_events,
            )
        return measured[window]

    results = []
    for tier in tiers:
        long, short = window_burn(tier.long), window_burn(tier.short)
        thin = [w for w in (long, short) if w.insufficient]
        burning = all(w.burn is not None and _exceeds(w.burn, tier.threshold) for w in (long, short))
        note = None
        if thin:
            note = "insufficient traffic: " + "; ".join(
                f"{w.counts.traffic:g} events in {duration_text(w.window)}, fewer than {min_events:g}" for w in thin
            )
        results.append(
            TierResult(
                tier=tier, long=long, short=short, firing=burning and not thin, insufficient=bool(thin), note=note
            )
        )
    return tuple(results)


def _exceeds(burn: float, threshold: float) -> bool:
    # Floating point puts a burn meant to equal the threshold a hair either side of it (0.1 errors on
    # a 0.9 target is burn 1.0000000000000002): "exceeds" means clearly above, as the Workbook's `>`.
    return burn > threshold and not math.isclose(burn, threshold, rel_tol=1e-9)


def duration_text(window: timedelta) -> str:
    """`4m 40s`, `5h 36m`, `28d`: a window as people write it."""
    seconds = int(window.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{v}{unit}" for v, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if v]
    return " ".join(parts) or "0s"


@dataclass(frozen=True)
class BudgetStatus:
    counts: Counts
    sli: float | None
    """good / total over the period; None without traffic."""
    consumed: float
    """The share of the period's budget spent: bad / (total x (1 - target)); 0 without traffic."""

    @property
    def remaining(self) -> float:
        """1 - consumed: negative when the budget is overspent."""
        return 1 - self.consumed


def budget_status(counts_over_period: Counts, target: float) -> BudgetStatus:
    """The SLI and the error budget left, from the counts over the SLO period.

    The budget is the share of events allowed to be bad, (1 - target) x total; what is consumed is
    bad / that, which is the burn rate over the whole period (budget_consumed with window = period).
    Counts covering only part of the period give the budget of the events seen.
    """
    ratio = counts_over_period.error_ratio
    return BudgetStatus(
        counts=counts_over_period,
        sli=counts_over_period.sli,
        consumed=0.0 if ratio is None else burn_rate(ratio, target),
    )


def timeslice_counts(slices: Sequence[Counts], slice_target: float) -> Counts:
    """Timeslices budgeting: good = slices whose good/total reaches `slice_target`, total = slices with traffic.

    The SLI is then the share of good slices (OpenSLO `Timeslices`, `timeSliceTarget`); a slice
    without traffic is neither good nor bad.
    """
    with_traffic = [s for s in slices if s.total > 0]
    return Counts(
        good=float(sum(1 for s in with_traffic if s.good / s.total >= slice_target)),
        total=float(len(with_traffic)),
        requests=sum(s.total for s in with_traffic),
    )


def ratio_timeslice_counts(slices: Sequence[Counts]) -> Counts:
    """RatioTimeslices budgeting: the mean of per-slice ratios, as good = sum of ratios, total = slices with traffic.

    Every slice weighs the same whatever its traffic (OpenSLO `RatioTimeslices`); a slice without
    traffic has no ratio and is left out.
    """
    ratios = [s.good / s.total for s in slices if s.total > 0]
    return Counts(good=sum(ratios), total=float(len(ratios)), requests=sum(s.total for s in slices))
