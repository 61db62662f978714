from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opscontext_mcp.analysis.burn import Counts
from opscontext_mcp.analysis.journeys import EntrySpec
from opscontext_mcp.analysis.slo import Measurement, Unmeasurable, assess, promql, trace_counts, windows_for
from opscontext_mcp.model import SLO, Indicator, MetricSource
from opscontext_mcp.traces import SERVER, Span
from tests.fakes import prov

NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)
SPEC = EntrySpec(service="web", max_duration_ms=100)
TRACES = MetricSource(type="traces", spec={"service": "web"})


def slo(method: str = "Occurrences", **fields: object) -> SLO:
    return SLO(
        name="web-fast",
        service="web",
        target=0.99,
        period=timedelta(days=30),
        budgeting_method=method,  # type: ignore[arg-type]
        indicator=Indicator(name="web", kind="ratio", good=TRACES, total=TRACES),
        provenance=prov("slos"),
        **fields,  # type: ignore[arg-type]
    )


def request(seconds_before: float, duration_ms: float) -> Span:
    start = int((NOW - timedelta(seconds=seconds_before)).timestamp() * 1e9)
    return Span("t", f"s{seconds_before}", "", "web", "GET /", SERVER, start, start + int(duration_ms * 1e6), False, {})


def test_the_windows_of_a_30_day_slo_are_the_workbooks_and_the_period() -> None:
    minutes = [w / timedelta(minutes=1) for w in windows_for(slo())]
    assert minutes == [5, 30, 60, 360, 4320, 43200]


def test_occurrences_count_requests_and_timeslices_count_minutes_that_met_the_slice_target() -> None:
    # Last minute: 3 fast, 1 slow (75% good). The minute before: 2 fast (100%). Five minutes ago: 1 slow.
    requests = [request(10, 50), request(20, 50), request(30, 50), request(40, 500), request(70, 50), request(80, 50)]
    requests.append(request(250, 500))
    five_minutes = timedelta(minutes=5)
    counted = trace_counts(slo(), requests, SPEC, NOW)[five_minutes]
    assert (counted.good, counted.total) == (5, 7)
    sliced = slo("Timeslices", time_slice_target=0.8, time_slice_window=timedelta(minutes=1))
    assert trace_counts(sliced, requests, SPEC, NOW)[five_minutes] == Counts(good=1.0, total=3.0, requests=7)
    averaged = slo("RatioTimeslices", time_slice_window=timedelta(minutes=1))
    assert trace_counts(averaged, requests, SPEC, NOW)[five_minutes] == Counts(good=1.75, total=3.0, requests=7)


@pytest.mark.parametrize(
    ("query", "counter", "expected"),
    [
        ('http_requests_total{code!~"5.."}', True, 'sum(increase(http_requests_total{code!~"5.."}[3600s]))'),
        ("sum(rate(http_requests_total[{{window}}]))", True, "sum(sum(rate(http_requests_total[3600s])))"),
        ("http_requests_total / 2", True, "sum(increase((http_requests_total / 2)[3600s:]))"),
        ("up", False, "sum(sum_over_time((up)[3600s:]))"),
    ],
)
def test_promql_asks_for_the_windows_events_however_the_query_is_written(
    query: str, counter: bool, expected: str
) -> None:
    assert promql(MetricSource(type="prometheus", spec={"query": query}), timedelta(hours=1), counter) == expected


def test_a_prometheus_source_without_a_query_cannot_be_measured() -> None:
    with pytest.raises(Unmeasurable, match="needs spec.query"):
        promql(MetricSource(type="prometheus", spec={}), timedelta(hours=1), True)


def test_a_window_the_data_covers_less_than_half_of_never_fires_and_the_budget_left_stays_unknown() -> None:
    burning = Counts(good=90.0, total=100.0)  # 10% errors on a 1% budget: burn 10 everywhere
    counts = {window: burning for window in windows_for(slo())}
    hour_of_data = assess(slo(), Measurement(NOW, counts, covered_from=NOW - timedelta(hours=1)))
    page_fast, page_slow, ticket = hour_of_data.tiers
    assert not page_fast.firing and page_fast.tier.threshold == pytest.approx(14.4)  # burn 10 is below
    assert page_slow.long.burn == pytest.approx(10) and not page_slow.firing
    assert page_slow.note == "the data covers 17% of the 6h window"
    assert hour_of_data.budget_remaining is None
    assert hour_of_data.budget_spent == pytest.approx(10 / 720)  # burn 10 for 1 h of 720
    everything = assess(slo(), Measurement(NOW, counts))
    assert everything.firing is not None and everything.firing.tier.name == "page-slow"
    assert everything.budget_remaining == pytest.approx(1 - 10)


def test_the_answer_says_which_tiers_a_low_target_can_never_fire_and_that_calendar_windows_roll() -> None:
    from opscontext_mcp.analysis.slo import slo_view
    from opscontext_mcp.snapshot import ResolvedSLO

    loose = slo(rolling=False).model_copy(update={"target": 0.9})
    counts = {window: Counts(good=0.0, total=100.0) for window in windows_for(loose)}  # everything failing
    measurement = Measurement(NOW, counts)
    view = slo_view(ResolvedSLO(loose, "web"), [], assess(loose, measurement), measurement, "prom", "prometheus", None)
    assert view.alert == "page-slow"  # burn 10 exceeds 6 but can never reach 14.4
    assert "at a 0.9 target the burn cannot exceed 10: page-fast can never fire" in (view.note or "")
    assert "a calendar window, evaluated as the rolling window of its length ending now" in (view.note or "")
    assert "the prometheus source is taken to hold the whole period; its retention is not checked" in (view.note or "")
