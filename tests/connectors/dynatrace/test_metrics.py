from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from opscontext_connectors.dynatrace.metrics import resolution

from opscontext_mcp.protocols import MetricQuery
from tests.connectors.dynatrace.routes import BASE, CHECKOUT, NOW, NOW_MS, PAYMENT, TOKEN, body, dynatrace, params

pytestmark = pytest.mark.anyio

RESPONSE_TIME = 'builtin:service.response.time:avg:names:filter(eq("dt.entity.service.name","Checkout, \\"EU\\""))'


async def test_a_range_query_asks_for_its_window_and_step_and_each_data_entry_is_a_series() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/v2/metrics/query").mock(return_value=httpx.Response(200, json=body("metrics.json")))
    dt, _ = dynatrace(router)

    batch = await dt.query_metrics(
        MetricQuery(expr=RESPONSE_TIME, at=NOW, range=timedelta(minutes=3), step=timedelta(minutes=1))
    )

    assert params(route) == {
        "metricSelector": [RESPONSE_TIME],
        "from": [str(NOW_MS - 3 * 60 * 1000)],
        "to": [str(NOW_MS)],
        "resolution": ["1m"],
    }
    assert route.calls.last.request.headers["authorization"] == f"Api-Token {TOKEN}"
    checkout, payment = batch.records
    assert checkout.labels == {
        "dt.entity.service.name": "CheckoutService",
        "dt.entity.service": CHECKOUT,
        "service": f"dynatrace:{CHECKOUT}",
        "metric": "builtin:service.response.time:avg:names",
    }
    assert checkout.points == (
        (datetime(2026, 11, 27, 9, 58, tzinfo=UTC), 412000.5),
        (datetime(2026, 11, 27, 10, tzinfo=UTC), 398250.0),
    )
    assert len(payment.points) == 3 and payment.labels["service"] == f"dynatrace:{PAYMENT}"
    assert checkout.provenance.source == "dt" and checkout.provenance.ref == "builtin:service.response.time:avg:names"
    assert dict(batch.service_names) == {
        f"dynatrace:{CHECKOUT}": "CheckoutService",
        f"dynatrace:{PAYMENT}": "PaymentService",
    }
    assert batch.problems == ()


async def test_an_instant_query_folds_the_last_five_minutes_into_one_value_within_the_zone() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    answer = {
        "totalCount": 1,
        "nextPageKey": None,
        "resolution": "Inf",
        "result": [
            {
                "metricId": "builtin:service.errors.total.rate",
                "data": [{"dimensions": [], "dimensionMap": {}, "timestamps": [NOW_MS], "values": [0.42]}],
            }
        ],
    }
    route = router.get("/api/v2/metrics/query").mock(return_value=httpx.Response(200, json=answer))
    dt, _ = dynatrace(router, management_zone="prod")

    batch = await dt.query_metrics(MetricQuery(expr="builtin:service.errors.total.rate", at=NOW))

    assert params(route) == {
        "metricSelector": ["builtin:service.errors.total.rate"],
        "from": [str(NOW_MS - 5 * 60 * 1000)],
        "to": [str(NOW_MS)],
        "resolution": ["Inf"],
        "mzSelector": ['mzName("prod")'],
    }
    [series] = batch.records
    assert series.labels == {"metric": "builtin:service.errors.total.rate"}
    assert series.points == ((NOW, 0.42),)


async def test_a_range_query_without_a_step_leaves_the_resolution_to_dynatrace() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/v2/metrics/query").mock(return_value=httpx.Response(200, json=body("metrics.json")))
    dt, _ = dynatrace(router)

    await dt.query_metrics(MetricQuery(expr="builtin:service.requestCount.total", at=NOW, range=timedelta(hours=1)))

    assert "resolution" not in params(route)


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (timedelta(seconds=15), "1m"),
        (timedelta(seconds=90), "2m"),
        (timedelta(hours=2), "2h"),
        (timedelta(days=1), "1d"),
    ],
)
def test_a_step_becomes_a_resolution_in_whole_minutes(step: timedelta, expected: str) -> None:
    assert resolution(step) == expected


async def test_a_malformed_data_entry_is_a_problem_while_the_other_series_load_and_warnings_pass_on() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    answer = body("metrics.json")
    answer["warnings"] = ["The dimension key 'dt.entity.service' has been referenced, but the metric has no such key."]
    data = answer["result"][0]["data"]
    data[0]["values"] = data[0]["values"][:2]
    data.append({"dimensionMap": {}, "timestamps": [NOW_MS], "values": ["fast"]})
    answer["result"].append({"data": []})
    router.get("/api/v2/metrics/query").mock(return_value=httpx.Response(200, json=answer))
    dt, _ = dynatrace(router)

    batch = await dt.query_metrics(MetricQuery(expr="builtin:service.response.time:avg:names", at=NOW))

    assert [s.labels["service"] for s in batch.records] == [f"dynatrace:{PAYMENT}"]
    assert [(p.location, p.reason, p.severity) for p in batch.problems] == [
        (
            "/api/v2/metrics/query",
            "The dimension key 'dt.entity.service' has been referenced, but the metric has no such key.",
            "warning",
        ),
        (
            "result/builtin:service.response.time:avg:names/data[0]",
            "expected timestamps and values, two lists of the same length",
            "error",
        ),
        ("result/builtin:service.response.time:avg:names/data[2]", "values[0]: 'fast' is not a number", "error"),
        ("result[1]", "a result needs a metricId", "error"),
    ]
