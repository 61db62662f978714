from __future__ import annotations

import httpx
import pytest
import respx
from opscontext_connectors.http import UpstreamError

from tests.connectors.alertmanager.routes import BASE, alerts, connector, params

pytestmark = pytest.mark.anyio

STATUS = {
    "cluster": {"name": "01HX", "peers": [{"name": "a", "address": "10.0.0.1:9094"}] * 3, "status": "ready"},
    "config": {"original": "receivers:\n- name: pagerduty\n  pagerduty_configs:\n  - routing_key: s3cret-key\n"},
    "uptime": "2026-11-20T08:00:00.000Z",
    "versionInfo": {"branch": "HEAD", "goVersion": "go1.22.5", "revision": "0f3b2a1", "version": "0.27.0"},
}


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_a_refused_or_missing_alert_list_is_not_retried_and_fails_the_fetch(status: int) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/v2/alerts").mock(return_value=httpx.Response(status, text="denied by the proxy"))
    am, waits = connector(router, token="am-s3cret")

    with pytest.raises(UpstreamError, match=rf"^GET {BASE}/api/v2/alerts: {status} ") as caught:
        await am.fetch_alerts()

    assert route.call_count == 1 and waits.seconds == []
    assert caught.value.status == status
    assert "am-s3cret" not in str(caught.value)


async def test_a_rate_limit_waits_as_retry_after_asks_and_a_server_error_backs_off_before_succeeding() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/v2/alerts").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(502),
            httpx.Response(200, json=alerts()),
        ]
    )
    am, waits = connector(router, filters=['service="checkout"'])

    batch = await am.fetch_alerts()

    assert waits.seconds == [7.0, 1.0]
    assert route.call_count == 3 and len(batch.records) == 4
    assert params(route) == list(route.calls[0].request.url.params.multi_items())


async def test_server_errors_past_the_retries_fail_the_fetch_with_the_status() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/v2/alerts").mock(return_value=httpx.Response(503))
    am, waits = connector(router, retries=2)

    with pytest.raises(UpstreamError, match=rf"^GET {BASE}/api/v2/alerts: 503 Service Unavailable$") as caught:
        await am.fetch_alerts()

    assert route.call_count == 3 and waits.seconds == [0.5, 1.0]
    assert caught.value.status == 503


async def test_a_timeout_is_retried_then_reported() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/v2/alerts").mock(side_effect=httpx.ReadTimeout("slow"))
    am, waits = connector(router, retries=1, timeout_seconds=2)

    with pytest.raises(UpstreamError, match=rf"^GET {BASE}/api/v2/alerts: no answer within 2 s \(ReadTimeout\)$"):
        await am.fetch_alerts()

    assert route.call_count == 2 and waits.seconds == [0.5]


async def test_a_body_that_is_not_json_is_an_upstream_error() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/v2/alerts").mock(return_value=httpx.Response(200, text="<html>Sign in to continue</html>"))
    am, _ = connector(router)

    with pytest.raises(UpstreamError, match="answered 200 with a body that is not JSON"):
        await am.fetch_alerts()


@pytest.mark.parametrize("body", [{"alerts": []}, None], ids=["an object", "empty"])
async def test_a_body_that_is_not_an_array_is_an_upstream_error(body: object) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    answer = httpx.Response(200) if body is None else httpx.Response(200, json=body)
    router.get("/api/v2/alerts").mock(return_value=answer)
    am, _ = connector(router)

    with pytest.raises(UpstreamError, match=rf"^GET {BASE}/api/v2/alerts: expected an array of alerts$"):
        await am.fetch_alerts()


async def test_check_says_the_version_and_cluster_status_without_echoing_the_config() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/v2/status").mock(return_value=httpx.Response(200, json=STATUS))
    am, _ = connector(router, token="am-s3cret")

    health = await am.check()

    assert health.ok and health.latency_ms is not None
    assert health.detail == f"{BASE}: Alertmanager 0.27.0, cluster ready with 3 peers"
    assert route.calls.last.request.headers["authorization"] == "Bearer am-s3cret"


async def test_check_of_a_single_alertmanager_says_its_cluster_is_disabled() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    lone = {**STATUS, "cluster": {"peers": [], "status": "disabled"}}
    router.get("/api/v2/status").mock(return_value=httpx.Response(200, json=lone))
    am, _ = connector(router)

    health = await am.check()

    assert health.ok and health.detail == f"{BASE}: Alertmanager 0.27.0, cluster disabled"


async def test_check_fails_with_the_reason_when_the_proxy_refuses_the_credentials() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/v2/status").mock(return_value=httpx.Response(401, json={"message": "invalid credentials"}))
    am, waits = connector(router, username="oncall", password="pa55")

    health = await am.check()

    assert not health.ok and waits.seconds == []
    assert health.detail == (
        f"GET {BASE}/api/v2/status: 401 Unauthorized (check the token or credentials): invalid credentials"
    )


async def test_check_fails_when_the_answer_is_not_an_alertmanager_status() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/v2/status").mock(return_value=httpx.Response(200, json={"status": "success", "data": {}}))
    am, _ = connector(router)

    health = await am.check()

    assert not health.ok
    assert health.detail == f"GET {BASE}/api/v2/status: answered without an Alertmanager status"


async def test_closing_releases_the_client_and_a_later_fetch_opens_it_again() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/v2/status").mock(return_value=httpx.Response(200, json=STATUS))
    am, _ = connector(router)

    await am.check()
    await am.aclose()

    assert (await am.check()).ok
