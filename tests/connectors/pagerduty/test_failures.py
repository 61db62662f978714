from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import respx
from opscontext_connectors.http import UpstreamError
from opscontext_connectors.pagerduty import PagerDutySettings
from pydantic import ValidationError

from tests.connectors.pagerduty.routes import BASE, NOW, TOKEN, body, pagerduty, params, route_oncall_fixtures

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_a_refused_or_missing_list_is_not_retried_and_fails_the_fetch(status: int) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/incidents").mock(
        return_value=httpx.Response(status, json={"error": {"message": "Access Denied", "code": 2010}})
    )
    pd, waits = pagerduty(router)

    with pytest.raises(UpstreamError) as caught:
        await pd.fetch_incidents(NOW - timedelta(days=1))

    assert route.call_count == 1 and waits.seconds == []
    assert caught.value.status == status
    assert TOKEN not in str(caught.value)


async def test_a_rate_limit_waits_as_retry_after_asks_and_a_server_error_backs_off_before_succeeding() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/change_events").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {"message": "Rate Limit Exceeded"}}),
            httpx.Response(502),
            httpx.Response(200, json=body("change_events.json")),
        ]
    )
    pd, waits = pagerduty(router)

    batch = await pd.fetch_changes(NOW - timedelta(days=1), NOW)

    assert waits.seconds == [7.0, 1.0]
    assert route.call_count == 3 and len(batch.records) == 4
    assert params(route, 0) == params(route, 2)


async def test_a_server_error_on_one_policy_fails_the_fetch_rather_than_serving_part_of_it() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_oncall_fixtures(router)
    routes["PEP0001"].mock(return_value=httpx.Response(503))
    pd, waits = pagerduty(router, retries=2)

    with pytest.raises(UpstreamError, match="/escalation_policies/PEP0001: 503"):
        await pd.fetch_oncall()

    assert routes["PEP0001"].call_count == 3 and waits.seconds == [0.5, 1.0]
    assert routes["oncalls"].call_count == 0


async def test_a_timeout_is_retried_then_reported() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/services").mock(side_effect=httpx.ReadTimeout("slow"))
    pd, waits = pagerduty(router, retries=1, timeout_seconds=2)

    with pytest.raises(UpstreamError, match=r"GET https://api.pagerduty.com/services: no answer within 2 s"):
        await pd.fetch_oncall()

    assert route.call_count == 2 and waits.seconds == [0.5]


async def test_a_body_that_is_not_json_or_lacks_its_list_is_an_upstream_error() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/incidents").mock(return_value=httpx.Response(200, text="<html>maintenance</html>"))
    router.get("/change_events").mock(return_value=httpx.Response(200, json={"error": "nope"}))
    pd, _ = pagerduty(router)

    with pytest.raises(UpstreamError, match="answered 200 with a body that is not JSON"):
        await pd.fetch_incidents(NOW - timedelta(days=1))
    with pytest.raises(UpstreamError, match="expected an object with a change_events list"):
        await pd.fetch_changes(NOW - timedelta(days=1), NOW)


async def test_check_is_ok_when_pagerduty_accepts_the_token() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    page = {"users": [{"id": "PUSER01", "type": "user", "name": "Ana Ops"}], "limit": 1, "offset": 0, "more": True}
    route = router.get("/users").mock(return_value=httpx.Response(200, json=page))
    pd, _ = pagerduty(router)

    health = await pd.check()

    assert health.ok and health.detail == "https://api.pagerduty.com: token accepted"
    assert health.latency_ms is not None
    assert params(route) == {"limit": ["1"]}
    assert route.calls.last.request.headers["authorization"] == f"Token token={TOKEN}"


async def test_check_fails_with_pagerdutys_reason_when_the_token_is_refused() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/users").mock(
        return_value=httpx.Response(401, json={"error": {"message": "Authentication Failed", "code": 2006}})
    )
    pd, waits = pagerduty(router)

    health = await pd.check()

    assert not health.ok and waits.seconds == []
    assert health.detail == (
        "GET https://api.pagerduty.com/users: 401 Unauthorized (check the token or credentials): Authentication Failed"
    )


async def test_closing_releases_the_client_and_a_later_fetch_opens_it_again() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/users").mock(return_value=httpx.Response(200, json={"users": []}))
    pd, _ = pagerduty(router)

    await pd.check()
    await pd.aclose()

    assert (await pd.check()).ok


def test_settings_need_a_token_and_default_to_the_public_api() -> None:
    with pytest.raises(ValidationError, match="token"):
        PagerDutySettings(name="pd", type="pagerduty")
    settings = PagerDutySettings(name="pd", type="pagerduty", token="t")
    assert str(settings.base_url) == "https://api.pagerduty.com/"
    assert (settings.page_size, settings.horizon_days, settings.service_ids) == (100, 7, [])
    with pytest.raises(ValidationError, match="page_size"):
        PagerDutySettings(name="pd", type="pagerduty", token="t", page_size=500)
