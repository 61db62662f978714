from __future__ import annotations

import httpx
import pytest
import respx
from opscontext_connectors.http import UpstreamError
from opscontext_connectors.opsgenie import OpsgenieSettings
from pydantic import ValidationError

from tests.connectors.opsgenie.routes import BASE, KEY, body, opsgenie, route_fixtures

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_a_refused_or_missing_schedule_list_is_not_retried_and_fails_the_fetch(status: int) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/v2/schedules").mock(
        return_value=httpx.Response(status, json={"message": "Key is not authorized", "took": 0.001})
    )
    og, waits = opsgenie(router)

    with pytest.raises(UpstreamError) as caught:
        await og.fetch_oncall()

    assert route.call_count == 1 and waits.seconds == []
    assert caught.value.status == status and "Key is not authorized" in str(caught.value)
    assert KEY not in str(caught.value)


async def test_a_rate_limit_waits_as_retry_after_asks_and_a_server_error_backs_off_before_succeeding() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_fixtures(router)
    routes["escalations"].mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}, json={"message": "Too many requests"}),
            httpx.Response(500),
            httpx.Response(200, json=body("escalations.json")),
        ]
    )
    og, waits = opsgenie(router)

    data = await og.fetch_oncall()

    assert waits.seconds == [3.0, 1.0]
    assert routes["escalations"].call_count == 3 and len(data.policies) == 2


async def test_an_escalation_list_that_keeps_failing_fails_the_fetch_after_its_retries() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_fixtures(router)
    routes["escalations"].mock(return_value=httpx.Response(503))
    og, waits = opsgenie(router, retries=2)

    with pytest.raises(UpstreamError, match="GET https://api.opsgenie.com/v2/escalations: 503"):
        await og.fetch_oncall()

    assert waits.seconds == [0.5, 1.0]


async def test_a_timeout_is_retried_then_reported() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/v2/schedules").mock(side_effect=httpx.ConnectTimeout("slow"))
    og, waits = opsgenie(router, retries=1, timeout_seconds=3)

    with pytest.raises(UpstreamError, match=r"/v2/schedules: no answer within 3 s \(ConnectTimeout\)"):
        await og.fetch_oncall()

    assert route.call_count == 2 and waits.seconds == [0.5]


async def test_a_body_that_is_not_json_or_has_no_data_list_is_an_upstream_error() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/v2/schedules").mock(return_value=httpx.Response(200, text="{not json"))
    og, _ = opsgenie(router)

    with pytest.raises(UpstreamError, match="answered 200 with a body that is not JSON"):
        await og.fetch_oncall()
    route.mock(return_value=httpx.Response(200, json={"data": {"id": "one"}}))
    with pytest.raises(UpstreamError, match="expected an object with a data list"):
        await og.fetch_oncall()


async def test_check_is_ok_when_opsgenie_accepts_the_key_and_says_how_many_schedules_it_sees() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/v2/schedules").mock(return_value=httpx.Response(200, json=body("schedules.json")))
    og, _ = opsgenie(router)

    health = await og.check()

    assert health.ok and health.detail == "https://api.opsgenie.com: key accepted, 2 schedules visible"
    assert route.calls.last.request.headers["authorization"] == f"GenieKey {KEY}"


async def test_check_fails_with_opsgenies_reason_when_the_key_is_refused() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/v2/schedules").mock(return_value=httpx.Response(401, json={"message": "Could not authenticate"}))
    og, waits = opsgenie(router)

    health = await og.check()

    assert not health.ok and waits.seconds == []
    assert health.detail == (
        "GET https://api.opsgenie.com/v2/schedules: 401 Unauthorized (check the token or credentials): "
        "Could not authenticate"
    )


async def test_closing_releases_the_client_and_a_later_check_opens_it_again() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/v2/schedules").mock(return_value=httpx.Response(200, json={"data": []}))
    og, _ = opsgenie(router)

    await og.check()
    await og.aclose()

    assert (await og.check()).ok


def test_settings_need_the_api_key_and_default_to_the_us_api() -> None:
    with pytest.raises(ValidationError, match="token"):
        OpsgenieSettings(name="og", type="opsgenie")
    settings = OpsgenieSettings(name="og", type="opsgenie", token="k", base_url="https://api.eu.opsgenie.com")
    assert str(settings.base_url) == "https://api.eu.opsgenie.com/"
    assert str(OpsgenieSettings(name="og", type="opsgenie", token="k").base_url) == "https://api.opsgenie.com/"
    assert settings.horizon_days == 7
