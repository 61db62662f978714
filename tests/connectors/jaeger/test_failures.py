from __future__ import annotations

import httpx
import pytest
import respx
from opscontext_connectors.http import UpstreamError
from opscontext_connectors.jaeger import JaegerSettings
from pydantic import ValidationError

from tests.connectors.jaeger.routes import BASE, NOW, SINCE, body, jaeger

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_a_refused_or_missing_dependency_view_is_not_retried_and_fails_the_fetch(status: int) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/dependencies").mock(return_value=httpx.Response(status, text="denied"))
    connector, waits = jaeger(router, token="jaeger-s3cret")

    with pytest.raises(UpstreamError) as caught:
        await connector.fetch_topology(SINCE, NOW)

    assert route.call_count == 1 and waits.seconds == []
    assert caught.value.status == status and "jaeger-s3cret" not in str(caught.value)


async def test_a_rate_limit_waits_as_retry_after_asks_and_a_server_error_backs_off_before_succeeding() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/dependencies").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(503),
            httpx.Response(200, json=body("dependencies.json")),
        ]
    )
    connector, waits = jaeger(router)

    batch = await connector.fetch_topology(SINCE, NOW)

    assert waits.seconds == [3.0, 1.0]
    assert route.call_count == 3 and len(batch.records) == 5
    assert route.calls[0].request.url == route.calls[2].request.url


async def test_a_server_error_that_outlasts_the_retries_fails_the_fetch() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    answer = {"data": None, "total": 0, "limit": 0, "offset": 0, "errors": [{"code": 500, "msg": "no such index"}]}
    route = router.get("/api/dependencies").mock(return_value=httpx.Response(500, json=answer))
    connector, waits = jaeger(router, retries=2)

    with pytest.raises(UpstreamError, match=r"GET http://jaeger-query:16686/api/dependencies: 500") as caught:
        await connector.fetch_topology(SINCE, NOW)

    assert route.call_count == 3 and waits.seconds == [0.5, 1.0]
    assert caught.value.status == 500


async def test_errors_instead_of_data_are_an_upstream_error_naming_them() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    answer = {"data": None, "errors": [{"code": 500, "msg": "dependency store unavailable"}]}
    router.get("/api/dependencies").mock(return_value=httpx.Response(200, json=answer))
    connector, _ = jaeger(router)

    with pytest.raises(UpstreamError, match="Jaeger answered with errors: dependency store unavailable"):
        await connector.fetch_topology(SINCE, NOW)


async def test_a_timeout_is_retried_then_reported() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/dependencies").mock(side_effect=httpx.ConnectTimeout("slow"))
    connector, waits = jaeger(router, retries=1, timeout_seconds=2)

    with pytest.raises(UpstreamError, match=r"GET http://jaeger-query:16686/api/dependencies: no answer within 2 s"):
        await connector.fetch_topology(SINCE, NOW)

    assert route.call_count == 2 and waits.seconds == [0.5]


async def test_a_body_that_is_not_json_is_an_upstream_error() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/dependencies").mock(return_value=httpx.Response(200, text="<!doctype html><title>Jaeger UI"))
    connector, _ = jaeger(router)

    with pytest.raises(UpstreamError, match="answered 200 with a body that is not JSON"):
        await connector.fetch_topology(SINCE, NOW)


@pytest.mark.parametrize(
    "answer",
    [body("dependencies.json")["data"], {"dependencies": []}, {"data": {"parent": "frontend"}}],
    ids=["bare list", "no data", "data not a list"],
)
async def test_an_answer_without_a_data_list_is_an_upstream_error(answer: object) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/dependencies").mock(return_value=httpx.Response(200, json=answer))
    connector, _ = jaeger(router)

    with pytest.raises(UpstreamError, match="/api/dependencies: expected an object with a data list"):
        await connector.fetch_topology(SINCE, NOW)


async def test_check_is_ok_counting_the_services_jaeger_traces() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/services").mock(return_value=httpx.Response(200, json=body("services.json")))
    connector, _ = jaeger(router)

    health = await connector.check()

    assert health.ok and health.detail == "http://jaeger-query:16686: 8 services traced"
    assert health.latency_ms is not None and route.call_count == 1


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(502, text="Bad Gateway"), "GET http://jaeger-query:16686/api/services: 502 Bad Gateway"),
        (httpx.Response(200, text="<html>"), "answered 200 with a body that is not JSON"),
        (httpx.Response(200, json=["frontend"]), "expected an object with a data list"),
    ],
    ids=["server error", "not json", "wrong shape"],
)
async def test_check_fails_saying_why(answer: httpx.Response, reason: str) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/services").mock(return_value=answer)
    connector, _ = jaeger(router, retries=0)

    health = await connector.check()

    assert not health.ok and reason in health.detail


async def test_closing_releases_the_client_and_a_later_fetch_opens_it_again() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/services").mock(return_value=httpx.Response(200, json=body("services.json")))
    connector, _ = jaeger(router)

    await connector.check()
    await connector.aclose()

    assert (await connector.check()).ok


def test_settings_need_a_base_url_and_one_way_to_authenticate_at_most() -> None:
    with pytest.raises(ValidationError, match="base_url"):
        JaegerSettings(name="jaeger", type="jaeger")
    settings = JaegerSettings(name="jaeger", type="jaeger", base_url=BASE)
    assert (settings.token, settings.username) == (None, None)
    with pytest.raises(ValidationError, match="authenticate one way"):
        JaegerSettings(name="jaeger", type="jaeger", base_url=BASE, token="t", username="ops", password="pw")
