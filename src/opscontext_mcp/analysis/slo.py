"""SLO status from measured counts: the SLI, each alert tier's burn on its two windows, the budget left.

Counting is the measuring side's (traces here, PromQL or Dynatrace through `measure`); this module
turns counts per window into the answer. Which windows: every tier's long and short window, scaled
to the SLO's period (`burn.alert_tiers`), and the period itself for the budget.

A source that holds less history than a window (a folder of traces covering the last hour, asked
for a 28-day budget) is measured over what it holds, and the answer says how much of the window
that was: an error ratio over the data there is the best estimate of the window's, but a budget
computed from one hour of a 28-day period is not the period's budget, and says so.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from opscontext_mcp.analysis.burn import (
    Counts,
    TierResult,
    WindowBurn,
    alert_tiers,
    budget_status,
    duration_text,
    evaluate,
    ratio_timeslice_counts,
    time_to_exhaustion,
    timeslice_counts,
)
from opscontext_mcp.analysis.journeys import EntrySpec, entries
from opscontext_mcp.model import SLO, Indicator, MetricSource
from opscontext_mcp.replies.slo import BudgetView, SLOView, TierView, WindowView
from opscontext_mcp.snapshot import ResolvedSLO
from opscontext_mcp.traces import Span, from_ns, ns

TRACE_LOOKBACK = timedelta(hours=6)
"""How far back trace-based SLIs and journeys read spans: longer windows are measured over this much."""
MIN_EVENTS = 5
"""The minimum-traffic guard: a window with fewer events cannot make its tier fire."""
MIN_COVERAGE = 0.5
"""A window the source's data covers less of cannot make its tier fire."""
WHOLE_PERIOD = 0.99
"""Coverage of the period from which the budget left is known."""
SEVERITY_ORDER = {"page": 0, "ticket": 1}
_WINDOW_PLACEHOLDER = re.compile(r"\{\{\s*\.?window\s*\}\}")
_SELECTOR = re.compile(r"^\s*[a-zA-Z_:][a-zA-Z0-9_:]*\s*(\{[^{}]*\})?\s*$")


class Unmeasurable(ValueError):
    """An SLI this server cannot count (a shape or source it does not evaluate); the message says why."""


@dataclass(frozen=True)
class Measurement:
    """Counts per window, ending at `until`, and the stretch of time the source's data covered."""

    until: datetime
    counts: Mapping[timedelta, Counts]
    covered_from: datetime | None = None
    """The earliest data the source held, when it holds less than the longest window."""
    notes: tuple[str, ...] = ()
    """What the measuring side could not do (a window the upstream refused), for the answer to say."""

    def coverage(self, window: timedelta) -> float:
        """The share of `window` (ending at `until`) the data covered, 0 to 1."""
        if self.covered_from is None:
            return 1.0
        covered = self.until - max(self.covered_from, self.until - window)
        return max(min(covered / window, 1.0), 0.0)


@dataclass(frozen=True)
class Assessment:
    slo: SLO
    tiers: tuple[TierResult, ...]
    sli: float | None
    """good / total over the period, or over the part of it the data covered."""
    covered: timedelta
    """How much of the period the counts cover (all of it for a metrics source)."""
    budget_spent: float | None
    """The share of the whole period's budget spent within `covered`."""
    budget_remaining: float | None
    """1 - spent, when the data covers the whole period; unknown otherwise."""
    exhausted_in: timedelta | None
    """At the current burn (the shortest long window with traffic), from the budget left, or from a whole
    budget when what is left is unknown."""
    firing: TierResult | None
    """The most severe tier firing, if any."""


def windows_for(slo: SLO) -> list[timedelta]:
    """Every window the assessment needs: each tier's long and short one, and the whole period."""
    found = {slo.period}
    for tier in alert_tiers(slo.period):
        found.update((tier.long, tier.short))
    return sorted(found)


def trace_spec(indicator: Indicator) -> EntrySpec:
    """The journey entry spans a `type: traces` ratio SLI counts, from its good and total sources' spec."""
    if indicator.kind != "ratio" or indicator.good is None or indicator.total is None:
        raise Unmeasurable("a traces SLI is a ratio of good to total entry spans")
    total, good = indicator.total.spec, indicator.good.spec
    service = total.get("service")
    if not isinstance(service, str) or not service:
        raise Unmeasurable("a traces SLI's total needs spec.service (the entry spans' service.name)")
    span_name = total.get("span_name")
    limit = good.get("max_duration_ms")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int | float)):
        raise Unmeasurable(f"spec.max_duration_ms must be a number of milliseconds, got {limit!r}")
    return EntrySpec(
        service=service,
        span_name=span_name if isinstance(span_name, str) and span_name else None,
        max_duration_ms=float(limit) if limit is not None else None,
        errors_bad=good.get("errors", "bad") == "bad",
    )


def trace_counts(slo: SLO, requests: Sequence[Span], spec: EntrySpec, until: datetime) -> dict[timedelta, Counts]:
    """Each window's counts (`windows_for(slo)`, ending at `until`) from the entry spans starting in it.

    Occurrences counts requests. Timeslices counts slices of `time_slice_window`: a slice is good when
    its share of good requests reaches `time_slice_target`; RatioTimeslices averages the slices' shares.
    Either way a slice without requests is neither good nor bad.
    """
    until_ns = ns(until)
    ordered = sorted(requests, key=lambda s: s.start_ns)
    found = {}
    for window in windows_for(slo):
        since_ns = until_ns - int(window.total_seconds() * 1e9)
        inside = [s for s in ordered if since_ns <= s.start_ns < until_ns]
        if slo.budgeting_method == "Occurrences" or slo.time_slice_window is None:
            found[window] = Counts(good=float(sum(spec.is_good(s) for s in inside)), total=float(len(inside)))
            continue
        width = int(slo.time_slice_window.total_seconds() * 1e9)
        slices: dict[int, list[bool]] = {}
        for span in inside:
            slices.setdefault((until_ns - 1 - span.start_ns) // width, []).append(spec.is_good(span))
        per_slice = [Counts(good=float(sum(goods)), total=float(len(goods))) for goods in slices.values()]
        if slo.budgeting_method == "Timeslices":
            found[window] = timeslice_counts(per_slice, slo.time_slice_target or 1.0)
        else:
            found[window] = ratio_timeslice_counts(per_slice)
    return found


def trace_measurement(slo: SLO, spans: Sequence[Span], spec: EntrySpec, until: datetime) -> Measurement:
    """Counts per window from spans read over the trace lookback, and the stretch of it they covered."""
    since = until - min(max(windows_for(slo)), TRACE_LOOKBACK)
    earliest = min((s.start_ns for s in spans), default=None)
    covered_from = max(since, from_ns(earliest)) if earliest is not None else until
    return Measurement(until, trace_counts(slo, entries(spans, spec, since, until), spec, until), covered_from)


def promql(source: MetricSource, window: timedelta, counter: bool) -> str:
    """A query answering one number: the events of `source` over `window`.

    A `{{window}}` placeholder in the query is replaced by the window (`[{{window}}]` ranges, as Sloth
    writes them); otherwise a counter's plain selector is wrapped in `increase(…[window])`, and any
    other expression is summed over a subquery of the window.
    """
    query = source.spec.get("query")
    if not isinstance(query, str) or not query.strip():
        raise Unmeasurable("a prometheus metric source needs spec.query")
    span = prometheusduration_text(window)
    if _WINDOW_PLACEHOLDER.search(query):
        return f"sum({_WINDOW_PLACEHOLDER.sub(span, query)})"
    if counter and _SELECTOR.match(query):
        return f"sum(increase({query.strip()}[{span}]))"
    if counter:
        return f"sum(increase(({query})[{span}:]))"
    return f"sum(sum_over_time(({query})[{span}:]))"


def prometheusduration_text(window: timedelta) -> str:
    return f"{int(window.total_seconds())}s"


def assess(slo: SLO, measurement: Measurement, min_events: float = MIN_EVENTS) -> Assessment:
    """Tiers, SLI and budget from counts per window (`windows_for(slo)`, each present or missing).

    A window the data covers less than MIN_COVERAGE of cannot make its tier fire: a long window
    carries the alert's significance, and an hour of traces is not three days of them.
    """
    empty = Counts(good=0.0, total=0.0)
    results = tuple(
        _covered(result, measurement)
        for result in evaluate(
            alert_tiers(slo.period), lambda w: measurement.counts.get(w, empty), slo.target, min_events
        )
    )
    period = measurement.counts.get(slo.period, empty)
    covered = slo.period * measurement.coverage(slo.period)
    budget = budget_status(period, slo.target)
    spent = budget.consumed * (covered / slo.period) if budget.sli is not None else None
    whole = measurement.coverage(slo.period) >= WHOLE_PERIOD
    remaining = 1 - spent if spent is not None and whole else None
    burn = _current_burn(results, measurement)
    firing = sorted(
        (r for r in results if r.firing), key=lambda r: (SEVERITY_ORDER[r.tier.severity], -r.tier.threshold)
    )
    return Assessment(
        slo=slo,
        tiers=results,
        sli=budget.sli,
        covered=covered,
        budget_spent=spent,
        budget_remaining=remaining,
        exhausted_in=time_to_exhaustion(burn, 1.0 if remaining is None else remaining, slo.period) if burn else None,
        firing=firing[0] if firing else None,
    )


def _covered(result: TierResult, measurement: Measurement) -> TierResult:
    thin = [w for w in (result.long, result.short) if measurement.coverage(w.window) < MIN_COVERAGE]
    if not thin:
        return result
    said = "; ".join(
        f"the data covers {measurement.coverage(w.window):.0%} of the {duration_text(w.window)} window" for w in thin
    )
    note = f"{result.note}; {said}" if result.note else said
    return dataclasses.replace(result, firing=False, insufficient=True, note=note)


def _current_burn(results: Sequence[TierResult], measurement: Measurement) -> float | None:
    """The burn over the shortest long window with enough traffic and data: the best "now" the tiers give."""
    for result in sorted(results, key=lambda r: r.tier.long):
        long = result.long
        if long.burn is not None and not long.insufficient and measurement.coverage(long.window) >= MIN_COVERAGE:
            return long.burn
    return None


def slo_view(
    resolved: ResolvedSLO,
    journeys: Sequence[str],
    assessment: Assessment | None,
    measurement: Measurement | None,
    measured_by: str | None,
    source_type: str,
    error: str | None,
) -> SLOView:
    slo = resolved.slo
    base = {
        "name": slo.name,
        "title": slo.display_name,
        "service": resolved.service_id,
        "journeys": list(journeys),
        "target": slo.target,
        "period_days": round(slo.period / timedelta(days=1), 3),
        "budgeting_method": slo.budgeting_method,
        "measured_by": measured_by,
        "source_type": source_type,
        "provenance": slo.provenance,
    }
    if assessment is None or measurement is None:
        return SLOView(**base, status="unavailable", note=error or "not measured")
    notes = list(measurement.notes)
    sliced = slo.budgeting_method != "Occurrences" and slo.time_slice_window is not None
    if sliced and source_type == "traces":
        notes.append(f"events are {duration_text(slo.time_slice_window)} slices ({slo.budgeting_method})")
    elif slo.budgeting_method != "Occurrences":
        notes.append(f"{slo.budgeting_method} budgeting is approximated by counting events (Occurrences)")
    if not slo.rolling:
        notes.append("a calendar window, evaluated as the rolling window of its length ending now")
    if assessment.budget_remaining is None and assessment.sli is not None:
        notes.append(
            f"the data covers {duration_text(assessment.covered)} of the {duration_text(slo.period)} period: "
            "the budget spent is within that, what is left before it unknown"
            + (" (time to exhaustion assumes a whole budget: an upper bound)" if assessment.exhausted_in else "")
        )
    elif measurement.covered_from is None and assessment.sli is not None:
        notes.append(f"the {source_type} source is taken to hold the whole period; its retention is not checked")
    ceiling = 1 / (1 - slo.target)
    unreachable = [r.tier.name for r in assessment.tiers if r.tier.threshold >= ceiling]
    if unreachable:
        notes.append(
            f"at a {slo.target:.4g} target the burn cannot exceed {ceiling:.3g}: {', '.join(unreachable)} can never fire"
        )
    status = "burning" if assessment.firing else ("no_traffic" if assessment.sli is None else "ok")
    return SLOView(
        **base,
        status=status,
        alert=assessment.firing.tier.name if assessment.firing else None,
        sli=None if assessment.sli is None else round(assessment.sli, 5),
        budget=_budget_view(assessment),
        tiers=[_tier_view(result, measurement) for result in assessment.tiers],
        note="; ".join(notes) or None,
    )


def _budget_view(assessment: Assessment) -> BudgetView:
    spent, left = assessment.budget_spent, assessment.budget_remaining
    return BudgetView(
        covered=duration_text(assessment.covered),
        spent=None if spent is None else round(spent, 4),
        remaining=None if left is None else round(left, 4),
        exhausted_in_hours=None
        if assessment.exhausted_in is None
        else round(assessment.exhausted_in / timedelta(hours=1), 2),
    )


def _tier_view(result: TierResult, measurement: Measurement) -> TierView:
    def window(burn: WindowBurn) -> WindowView:
        coverage = measurement.coverage(burn.window)
        return WindowView(
            window=duration_text(burn.window),
            events=round(burn.counts.total, 2),
            bad=round(burn.counts.bad, 2),
            error_ratio=None if burn.error_ratio is None else round(burn.error_ratio, 5),
            burn=None if burn.burn is None else round(burn.burn, 2),
            coverage=round(coverage, 3) if coverage < 0.999 else None,
        )

    return TierView(
        tier=result.tier.name,
        severity=result.tier.severity,
        threshold=round(result.tier.threshold, 2),
        budget_share=result.tier.budget_fraction,
        long=window(result.long),
        short=window(result.short),
        firing=result.firing,
        note=result.note,
    )
