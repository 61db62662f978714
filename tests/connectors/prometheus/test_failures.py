from __future__ import annotations

import base64
from datetime import timedelta

import httpx
import pytest
import respx
from opscontext_connectors.http import UpstreamError
from opscontext_connectors.prometheus import PrometheusSettings
from pydantic import ValidationError

from opscontext_mcp.protocols import MetricQuery
from tests.connectors.prometheus.routes import BASE, NOW, TOKEN, body, form, prometheus, route_servicegraph

pytestmark = pytest.mark.anyio

UP = MetricQuery(expr="up", at=NOW)


async def test_a_configured_token_is_sent_as_a_bearer_header_on_every_query() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = route_servicegraph(router)
    prom, _ = prometheus(router, token=TOKEN)

    await prom.fetch_topology(NOW - timedelta(minutes=15), NOW)

    assert route.call_count == 5
    assert {call.request.headers["authorization"] for call in route.calls} == {f"Bearer {TOKEN}"}


async def test_a_username_and_password_are_sent_as_basic_credentials_and_nothing_without_them() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.post("/api/v1/query").mock(return_value=httpx.Response(200, json=body("instant.json")))
    behind_proxy, _ = prometheus(router, username="grafana", password=TOKEN)
    open_prometheus, _ = prometheus(router)

    await behind_proxy.query_metrics(UP)
    await open_prometheus.query_metrics(UP)

    basic, anonymous = (call.request.headers for call in route.calls)
    assert basic["authorization"] == "Basic " + base64.b64encode(f"grafana:{TOKEN}".encode()).decode()
    assert "authorization" not in anonymous


@pytest.mark.parametrize(
    ("status", "fixture", "expected"),
    [
        (
            400,
            "bad_data.json",
            '400 Bad Request: invalid parameter "query": 1:34: parse error: unclosed left parenthesis',
        ),
        (
            422,
            "execution.json",
            "422 Unprocessable Entity: query processing would load too many samples into memory in query execution",
        ),
    ],
)
async def test_an_error_envelope_is_not_retried_and_its_error_text_is_shown(
    status: int, fixture: str, expected: str
) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.post("/api/v1/query").mock(return_value=httpx.Response(status, json=body(fixture)))
    prom, waits = prometheus(router, token=TOKEN)

    with pytest.raises(UpstreamError) as caught:
        await prom.query_metrics(MetricQuery(expr="sum(rate(http_requests_total[5m])", at=NOW))

    assert str(caught.value) == f"POST {BASE}/api/v1/query: {expected}"
    assert caught.value.status == status
    assert route.call_count == 1 and waits.seconds == []


async def test_a_rate_limit_and_an_overloaded_prometheus_are_retried_with_the_waits_recorded() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.post("/api/v1/query_range").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, text="too many requests"),
            httpx.Response(503, json={"status": "error", "errorType": "timeout", "error": "query timed out"}),
            httpx.Response(200, json=body("range.json")),
        ]
    )
    prom, waits = prometheus(router)

    batch = await prom.query_metrics(MetricQuery(expr="up", at=NOW, range=timedelta(minutes=30)))

    assert waits.seconds == [7.0, 1.0]
    assert route.call_count == 3 and len(batch.records) == 2
    assert form(route.calls[0]) == form(route.calls[2])


async def test_a_timeout_is_retried_then_reported() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.post("/api/v1/query").mock(side_effect=httpx.ReadTimeout("slow"))
    prom, waits = prometheus(router, retries=1, timeout_seconds=2)

    with pytest.raises(UpstreamError, match=rf"^POST {BASE}/api/v1/query: no answer within 2 s \(ReadTimeout\)$"):
        await prom.query_metrics(UP)

    assert route.call_count == 2 and waits.seconds == [0.5]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx.Response(200, text="<html>login</html>"), "answered 200 with a body that is not JSON"),
        (httpx.Response(200, json=[{"metric": {}}]), "expected a Prometheus API answer with a status, got list"),
        (
            httpx.Response(200, json={"status": "success", "data": {"result": []}}),
            "expected data with a resultType and a result, got an object with result",
        ),
        (
            httpx.Response(200, json={"status": "success", "data": {"resultType": "vector", "result": {}}}),
            "expected a list of series in a vector result",
        ),
        (
            httpx.Response(200, json={"status": "error", "errorType": "bad_data", "error": "unknown function"}),
            "Prometheus refused the query (bad_data): unknown function",
        ),
    ],
)
async def test_a_body_that_is_not_json_or_not_a_query_answer_is_an_upstream_error(
    answer: httpx.Response, message: str
) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.post("/api/v1/query").mock(return_value=answer)
    prom, _ = prometheus(router)

    with pytest.raises(UpstreamError) as caught:
        await prom.query_metrics(UP)

    assert str(caught.value) == f"POST {BASE}/api/v1/query: {message}"


async def test_a_token_that_prometheus_echoes_never_reaches_the_error() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.post("/api/v1/query").mock(
        return_value=httpx.Response(401, json={"status": "error", "error": f"bad token {TOKEN}"})
    )
    prom, _ = prometheus(router, token=TOKEN)

    with pytest.raises(UpstreamError) as caught:
        await prom.query_metrics(UP)

    assert TOKEN not in str(caught.value)
    assert str(caught.value).endswith("401 Unauthorized (check the token or credentials): bad token ***")


async def test_check_says_which_prometheus_version_answers() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/v1/status/buildinfo").mock(return_value=httpx.Response(200, json=body("buildinfo.json")))
    prom, _ = prometheus(router, token=TOKEN)

    health = await prom.check()

    assert health.ok and health.detail == f"{BASE}: Prometheus 2.53.1"
    assert health.latency_ms is not None
    assert route.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_check_is_ok_without_a_version_and_fails_with_the_proxys_reason() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/v1/status/buildinfo").mock(
        side_effect=[
            httpx.Response(200, json={"status": "success", "data": {}}),
            httpx.Response(403, json={"error": "RBAC: access denied"}),
        ]
    )
    prom, waits = prometheus(router)

    found = await prom.check()
    refused = await prom.check()

    assert found.ok and found.detail == f"{BASE}: Prometheus answers, version unknown"
    assert not refused.ok and waits.seconds == []
    assert refused.detail == (
        f"GET {BASE}/api/v1/status/buildinfo: 403 Forbidden (the credentials lack a permission): RBAC: access denied"
    )


async def test_closing_releases_the_client_and_a_later_query_opens_it_again() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.post("/api/v1/query").mock(return_value=httpx.Response(200, json=body("instant.json")))
    prom, _ = prometheus(router)

    await prom.query_metrics(UP)
    await prom.aclose()

    assert len((await prom.query_metrics(UP)).records) == 2


def test_settings_refuse_two_ways_to_authenticate_and_a_prefix_that_is_no_metric_name() -> None:
    with pytest.raises(ValidationError, match="not both"):
        PrometheusSettings(name="p", type="prometheus", base_url=BASE, token="t", username="u", password="p")
    with pytest.raises(ValidationError, match="not the start of a metric name"):
        PrometheusSettings(name="p", type="prometheus", base_url=BASE, metric_prefix='x{job="a"}')
    settings = PrometheusSettings(name="p", type="prometheus", base_url=BASE, matchers=[' {cluster="prod"} ', ""])
    assert (settings.metric_prefix, settings.matchers) == ("traces_service_graph", ['cluster="prod"'])
