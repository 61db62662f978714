from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from opscontext_mcp.protocols import MetricQuery, Problem
from tests.connectors.prometheus.routes import BASE, NOW, body, form, prometheus

pytestmark = pytest.mark.anyio

RATIO = 'sum by (client, server) (rate(traces_service_graph_request_failed_total{server="payment"}[5m]))'


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def test_an_instant_query_is_posted_at_its_time_and_each_series_keeps_its_labels() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.post("/api/v1/query").mock(return_value=httpx.Response(200, json=body("instant.json")))
    prom, _ = prometheus(router)

    batch = await prom.query_metrics(MetricQuery(expr="up", at=NOW))

    assert form(route.calls.last) == {"query": ["up"], "time": ["1795773600.000"]}
    assert [(s.labels, s.points) for s in batch.records] == [
        ({"__name__": "up", "job": "checkout", "instance": "10.0.0.1:8080"}, ((NOW, 1.0),)),
        ({"__name__": "up", "job": "payment", "instance": "10.0.0.7:8080"}, ((NOW, 0.0),)),
    ]
    assert batch.problems == ()
    provenance = batch.records[0].provenance
    assert (provenance.source, provenance.ref) == ("prom", f"{BASE}/graph?g0.expr=up")


async def test_a_range_query_drops_points_without_a_finite_value_and_series_left_without_any() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.post("/api/v1/query_range").mock(return_value=httpx.Response(200, json=body("range.json")))
    prom, _ = prometheus(router)

    batch = await prom.query_metrics(MetricQuery(expr=RATIO, at=NOW, range=timedelta(hours=1)))

    assert [(s.labels, s.points) for s in batch.records] == [
        ({"client": "checkout", "server": "payment"}, ((at(1795773000), 0.02), (at(1795773030), 0.31))),
        ({"client": "frontend", "server": "checkout"}, ((at(1795773000), 0.01), (at(1795773030), 0.012))),
    ]
    assert batch.problems == (
        Problem(location='series/{client="checkout",server="orders-db"}', reason="value 'fast' is not a number"),
    )
    assert batch.records[0].provenance.ref is not None
    assert batch.records[0].provenance.ref.startswith(f"{BASE}/graph?g0.expr=sum+by+%28client%2C+server%29")


async def test_a_range_query_without_a_step_asks_for_about_250_points_inside_the_range() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.post("/api/v1/query_range").mock(return_value=httpx.Response(200, json=body("range.json")))
    prom, _ = prometheus(router)

    await prom.query_metrics(MetricQuery(expr=RATIO, at=NOW, range=timedelta(hours=1)))
    await prom.query_metrics(MetricQuery(expr=RATIO, at=NOW, range=timedelta(seconds=90)))

    hour, short = (form(call) for call in route.calls)
    assert hour == {"query": [RATIO], "start": ["1795770015.000"], "end": ["1795773600.000"], "step": ["15"]}
    assert (short["start"], short["end"], short["step"]) == (["1795773511.000"], ["1795773600.000"], ["1"])


async def test_a_range_query_with_a_step_uses_it() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.post("/api/v1/query_range").mock(return_value=httpx.Response(200, json=body("range.json")))
    prom, _ = prometheus(router)

    await prom.query_metrics(MetricQuery(expr=RATIO, at=NOW, range=timedelta(minutes=10), step=timedelta(seconds=30)))
    await prom.query_metrics(
        MetricQuery(expr=RATIO, at=NOW, range=timedelta(seconds=10), step=timedelta(milliseconds=2500))
    )

    ten_minutes, ten_seconds = (form(call) for call in route.calls)
    assert (ten_minutes["start"], ten_minutes["step"]) == (["1795773030.000"], ["30"])
    assert (ten_seconds["start"], ten_seconds["step"]) == (["1795773592.500"], ["2.5"])


@pytest.mark.parametrize(
    ("span", "step", "reason"),
    [(timedelta(0), None, "positive range"), (timedelta(minutes=5), timedelta(seconds=-1), "positive step")],
)
async def test_a_range_or_step_that_is_not_positive_is_refused_before_asking(
    span: timedelta, step: timedelta | None, reason: str
) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    prom, _ = prometheus(router)

    with pytest.raises(ValueError, match=reason):
        await prom.query_metrics(MetricQuery(expr="up", at=NOW, range=span, step=step))


async def test_a_scalar_is_one_series_without_labels() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.post("/api/v1/query").mock(return_value=httpx.Response(200, json=body("scalar.json")))
    prom, _ = prometheus(router)

    batch = await prom.query_metrics(MetricQuery(expr="scalar(avg(up))", at=NOW))

    assert [(s.labels, s.points) for s in batch.records] == [({}, ((NOW, 0.999),))]


async def test_a_string_or_a_native_histogram_is_reported_as_no_time_series() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    histogram = {"count": "3", "sum": "0.6", "buckets": [[0, "0.1", "0.2", "3"]]}
    native = body("instant.json")
    native["data"]["result"][1] = {"metric": {"job": "payment"}, "histogram": [1795773600, histogram]}
    router.post("/api/v1/query").mock(
        side_effect=[
            httpx.Response(200, json={"status": "success", "data": {"resultType": "string", "result": [1, "hi"]}}),
            httpx.Response(200, json=native),
        ]
    )
    prom, _ = prometheus(router)

    text = await prom.query_metrics(MetricQuery(expr='"hi"', at=NOW))
    histograms = await prom.query_metrics(MetricQuery(expr="http_request_duration_seconds", at=NOW))

    assert (text.records, text.problems) == (
        (),
        (Problem(location="series", reason="the query returned a string, not a time series"),),
    )
    assert [s.labels["job"] for s in histograms.records] == ["checkout"]
    assert histograms.problems == (
        Problem(
            location='series/{job="payment"}',
            reason="native histogram samples are not read; ask for histogram_quantile() or histogram_count()",
            severity="warning",
        ),
    )


async def test_prometheus_warnings_are_reported_beside_the_series() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.post("/api/v1/query").mock(return_value=httpx.Response(200, json=body("warnings.json")))
    prom, _ = prometheus(router)

    batch = await prom.query_metrics(MetricQuery(expr="rate(checkout_requests[5m])", at=NOW))

    assert [s.labels for s in batch.records] == [{"job": "checkout"}]
    assert [(p.location, p.severity) for p in batch.problems] == [("/api/v1/query", "warning")]
    assert "might not be a counter" in batch.problems[0].reason


async def test_a_time_without_a_timezone_is_refused_rather_than_read_as_local_time() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    prom, _ = prometheus(router)

    with pytest.raises(ValueError, match="has no timezone"):
        await prom.query_metrics(MetricQuery(expr="up", at=NOW.replace(tzinfo=None)))
