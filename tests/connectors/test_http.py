from __future__ import annotations

import httpx
import pytest
import respx
from opscontext_connectors.http import HttpSource, UpstreamError, segment

from opscontext_mcp.protocols import HttpConnectorSettings
from tests.connectors.support import http_context

pytestmark = pytest.mark.anyio

BASE = "https://upstream.example"


def source(router: respx.Router, **settings: object) -> tuple[HttpSource, list[float]]:
    context, waits = http_context(router)
    config = HttpConnectorSettings(name="up", type="x", base_url=BASE, token="t0ken", **settings)  # type: ignore[arg-type]
    return HttpSource(config, context, headers={"Authorization": "Bearer t0ken"}), waits.seconds


async def test_a_429_waits_as_long_as_retry_after_asks_then_succeeds() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/things").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(503),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    http, waits = source(router)
    body, response = await http.get_json("/things", params={"limit": 5})
    assert body == {"ok": True} and response.status_code == 200
    assert waits == [7.0, 1.0]
    assert route.call_count == 3
    assert route.calls.last.request.headers["authorization"] == "Bearer t0ken"
    assert route.calls.last.request.url.params["limit"] == "5"


async def test_backoff_waits_never_exceed_the_configured_cap_and_retries_run_out() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/slow").mock(return_value=httpx.Response(503, json={"error": {"message": "maintenance"}}))
    http, waits = source(router, retries=3, max_retry_wait_seconds=1.5)
    with pytest.raises(UpstreamError) as caught:
        await http.get_json("/slow")
    assert waits == [0.5, 1.0, 1.5]
    assert caught.value.status == 503
    assert str(caught.value) == "GET https://upstream.example/slow: 503 Service Unavailable: maintenance"


async def test_a_retry_after_longer_than_the_cap_is_not_retried_early_and_says_when_to_come_back() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/slow").mock(
        return_value=httpx.Response(503, headers={"Retry-After": "3600"}, json={"error": {"message": "maintenance"}})
    )
    http, waits = source(router, retries=2, max_retry_wait_seconds=4)
    with pytest.raises(UpstreamError) as caught:
        await http.get_json("/slow")
    assert route.call_count == 1 and waits == []
    assert caught.value.status == 503
    assert str(caught.value) == (
        "GET https://upstream.example/slow: 503 Service Unavailable: maintenance "
        "(asked to retry after 3600 s, longer than max_retry_wait_seconds; not retried)"
    )


async def test_authentication_failures_are_not_retried_and_never_echo_the_token() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/me").mock(return_value=httpx.Response(401, json={"error": {"message": "Invalid token t0ken"}}))
    http, waits = source(router)
    with pytest.raises(UpstreamError) as caught:
        await http.get_json("/me", params={"token": "t0ken"})
    assert route.call_count == 1 and waits == []
    assert (
        str(caught.value)
        == "GET https://upstream.example/me: 401 Unauthorized (check the token or credentials): Invalid token ***"
    )


async def test_timeouts_and_refused_connections_are_retried_then_reported() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/flaky").mock(
        side_effect=[httpx.ConnectTimeout("slow"), httpx.ConnectError("refused"), httpx.ReadTimeout("slow")]
    )
    http, waits = source(router, retries=2)
    with pytest.raises(
        UpstreamError, match=r"GET https://upstream.example/flaky: no answer within 10 s \(ReadTimeout\)"
    ):
        await http.get_json("/flaky")
    assert waits == [0.5, 1.0]


async def test_a_body_that_is_not_json_is_an_upstream_error() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/html").mock(return_value=httpx.Response(200, text="<html>login</html>"))
    http, _ = source(router)
    with pytest.raises(UpstreamError, match="answered 200 with a body that is not JSON"):
        await http.get_json("/html")


async def test_the_client_reopens_after_being_closed() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/ping").mock(return_value=httpx.Response(200, json=[]))
    http, _ = source(router)
    await http.get_json("/ping")
    await http.aclose()
    body, _ = await http.get_json("/ping")
    assert body == []


def test_ids_put_in_a_path_cannot_escape_their_segment() -> None:
    assert segment("../../admin?x=1#y") == "..%2F..%2Fadmin%3Fx%3D1%23y"
    assert segment("P7XK2") == "P7XK2"
    for dots in (".", "..", " .. ", ""):
        with pytest.raises(ValueError, match="not an id that can be put in a URL path"):
            segment(dots)


@pytest.mark.parametrize("header", ["nan", "inf", "-inf"])
async def test_a_retry_after_that_is_not_a_finite_number_falls_back_to_backoff(header: str) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/busy").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": header}), httpx.Response(200, json={})]
    )
    http, waits = source(router)
    assert (await http.get_json("/busy"))[0] == {}
    assert waits == [0.5]


def test_a_base_url_carrying_credentials_is_refused_so_they_never_reach_a_message() -> None:
    with pytest.raises(ValueError, match="must not carry credentials"):
        HttpConnectorSettings(name="up", type="x", base_url="https://svc:hunter2@upstream.example")  # type: ignore[arg-type]


async def test_a_secret_obtained_at_run_time_is_scrubbed_from_errors_too() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/me").mock(return_value=httpx.Response(400, json={"error": {"message": "bad session abc123tok"}}))
    http, _ = source(router)
    http.add_secret("abc123tok")
    with pytest.raises(UpstreamError) as caught:
        await http.get_json("/me")
    assert "abc123tok" not in str(caught.value) and "bad session ***" in str(caught.value)
