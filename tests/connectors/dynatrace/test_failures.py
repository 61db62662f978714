from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import respx
from opscontext_connectors.dynatrace import DynatraceSettings
from opscontext_connectors.http import UpstreamError
from pydantic import ValidationError

from opscontext_mcp.protocols import MetricQuery
from tests.connectors.dynatrace.routes import BASE, NOW, TOKEN, body, dynatrace, params, route_events, route_topology

pytestmark = pytest.mark.anyio

DENIED = {
    "error": {
        "code": 403,
        "message": "Token is missing required scope. Use one of: problems.read",
    }
}


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_a_refused_or_missing_list_is_not_retried_and_fails_the_fetch_without_the_token(status: int) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/v2/problems").mock(return_value=httpx.Response(status, json=DENIED))
    dt, waits = dynatrace(router)

    with pytest.raises(UpstreamError, match="Token is missing required scope") as caught:
        await dt.fetch_alerts()

    assert route.call_count == 1 and waits.seconds == []
    assert caught.value.status == status
    assert TOKEN not in str(caught.value) and "Api-Token" not in str(caught.value)


async def test_a_rate_limit_waits_as_retry_after_asks_and_a_server_error_backs_off_before_succeeding() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/v2/problems").mock(
        side_effect=[
            httpx.Response(
                429, headers={"Retry-After": "4"}, json={"error": {"code": 429, "message": "Too Many Requests"}}
            ),
            httpx.Response(503),
            httpx.Response(200, json=body("problems.json")),
        ]
    )
    dt, waits = dynatrace(router)

    batch = await dt.fetch_alerts()

    assert waits.seconds == [4.0, 1.0]
    assert route.call_count == 3 and len(batch.records) == 4
    assert params(route, 0) == params(route, 2)


async def test_a_server_error_on_a_later_page_fails_the_fetch_rather_than_serving_part_of_it() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/v2/entities").mock(
        side_effect=[httpx.Response(200, json=body("entities-1.json")), *[httpx.Response(500)] * 3]
    )
    dt, waits = dynatrace(router, retries=2)

    with pytest.raises(UpstreamError, match=r"GET https://abc12345.live.dynatrace.com/api/v2/entities: 500"):
        await dt.fetch_topology(NOW - timedelta(hours=1), NOW)

    assert route.call_count == 4 and waits.seconds == [0.5, 1.0]


async def test_a_timeout_is_retried_then_reported() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/v2/events").mock(side_effect=httpx.ReadTimeout("slow"))
    dt, waits = dynatrace(router, retries=1, timeout_seconds=2)

    with pytest.raises(
        UpstreamError, match=r"GET https://abc12345.live.dynatrace.com/api/v2/events: no answer within 2 s"
    ):
        await dt.fetch_changes(NOW - timedelta(hours=1), NOW)

    assert route.call_count == 2 and waits.seconds == [0.5]


async def test_a_failing_service_lookup_fails_the_changes_fetch() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_events(router, CUSTOM_DEPLOYMENT=body("events-deployment.json"))
    router.get("/api/v2/entities").mock(return_value=httpx.Response(403, json=DENIED))
    dt, _ = dynatrace(router)

    with pytest.raises(UpstreamError, match="/api/v2/entities: 403"):
        await dt.fetch_changes(NOW - timedelta(hours=1), NOW)


async def test_a_body_that_is_not_json_is_an_upstream_error() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/v2/problems").mock(return_value=httpx.Response(200, text="<html>Dynatrace maintenance</html>"))
    dt, _ = dynatrace(router)

    with pytest.raises(UpstreamError, match="answered 200 with a body that is not JSON"):
        await dt.fetch_alerts()


@pytest.mark.parametrize("answer", [{"error": "nope"}, {"entities": {"SERVICE-1": {}}}, ["SERVICE-1"]])
async def test_a_list_body_of_the_wrong_shape_is_an_upstream_error(answer: object) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/v2/entities").mock(return_value=httpx.Response(200, json=answer))
    router.get("/api/v2/metrics/query").mock(return_value=httpx.Response(200, json=answer))
    dt, _ = dynatrace(router)

    with pytest.raises(UpstreamError, match="expected an object whose `entities` is a list"):
        await dt.fetch_topology(NOW - timedelta(hours=1), NOW)
    with pytest.raises(UpstreamError, match="expected an object whose `result` is a list"):
        await dt.query_metrics(MetricQuery(expr="builtin:service.response.time", at=NOW))


async def test_check_is_ok_when_the_token_may_read_the_selected_services() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    page = body("entities-1.json") | {"totalCount": 5}
    route = router.get("/api/v2/entities").mock(return_value=httpx.Response(200, json=page))
    dt, _ = dynatrace(router)

    health = await dt.check()

    assert health.ok and health.detail == f"{BASE}: token accepted, 5 services match the entity selector"
    assert health.latency_ms is not None
    assert params(route) == {"entitySelector": ['type("SERVICE")'], "pageSize": ["1"]}
    assert route.calls.last.request.headers["authorization"] == f"Api-Token {TOKEN}"


async def test_check_fails_with_dynatraces_reason_when_the_token_is_refused() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/v2/entities").mock(
        return_value=httpx.Response(401, json={"error": {"code": 401, "message": "Token Authentication failed"}})
    )
    dt, waits = dynatrace(router)

    health = await dt.check()

    assert not health.ok and waits.seconds == []
    assert health.detail == (
        f"GET {BASE}/api/v2/entities: 401 Unauthorized (check the token or credentials): Token Authentication failed"
    )


async def test_check_fails_when_the_environment_answers_something_else() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/v2/entities").mock(return_value=httpx.Response(200, json={"status": "ok"}))
    dt, _ = dynatrace(router)

    health = await dt.check()

    assert not health.ok and health.detail.endswith("expected an object whose `entities` is a list")


async def test_a_managed_environment_keeps_its_path_before_the_api() -> None:
    managed = "https://dynatrace.acme.example/e/5f0c2a17-8e3b-4d6a-9c1e-2b7f4e8a0d31"
    router = respx.Router(base_url=managed, assert_all_mocked=True)
    route = route_topology(router)
    dt, _ = dynatrace(router, base_url=managed)

    await dt.fetch_topology(NOW - timedelta(hours=1), NOW)

    assert route.calls[0].request.url.path == "/e/5f0c2a17-8e3b-4d6a-9c1e-2b7f4e8a0d31/api/v2/entities"


async def test_closing_releases_the_client_and_a_later_fetch_opens_it_again() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/v2/entities").mock(return_value=httpx.Response(200, json={"entities": [], "totalCount": 0}))
    dt, _ = dynatrace(router)

    await dt.check()
    await dt.aclose()

    assert (await dt.check()).ok


def test_settings_need_an_environment_and_a_token_and_default_to_every_service() -> None:
    with pytest.raises(ValidationError, match="base_url"):
        DynatraceSettings(name="dt", type="dynatrace", token="t")
    with pytest.raises(ValidationError, match="token"):
        DynatraceSettings(name="dt", type="dynatrace", base_url=BASE)
    settings = DynatraceSettings(name="dt", type="dynatrace", base_url=BASE, token="t")
    assert settings.services == 'type("SERVICE")'
    assert (settings.problem_lookback_minutes, settings.change_event_types, settings.page_size) == (
        120,
        ["CUSTOM_DEPLOYMENT", "CUSTOM_CONFIGURATION"],
        200,
    )


def test_settings_refuse_the_api_url_and_a_selector_that_leaves_no_room_for_ids() -> None:
    with pytest.raises(ValidationError, match="without /api/v2"):
        DynatraceSettings(name="dt", type="dynatrace", base_url=f"{BASE}/api/v2", token="t")
    with pytest.raises(ValidationError, match="longer than 1000 characters"):
        DynatraceSettings(name="dt", type="dynatrace", base_url=BASE, token="t", tags=["x" * 600, "y" * 600])
    with pytest.raises(ValidationError, match="entity_selector must not be empty"):
        DynatraceSettings(name="dt", type="dynatrace", base_url=BASE, token="t", entity_selector=" ")
