"""How the connector talks to the Table API: paging, authentication, failures, the health probe."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest
from opscontext_connectors.http import UpstreamError

from tests.connectors.servicenow.support import BASE, TABLE, connector, page, params, router
from tests.connectors.support import fixture

pytestmark = pytest.mark.anyio

SINCE = datetime(2026, 11, 26, tzinfo=UTC)
INCIDENTS = f"{TABLE}/incident"


def incident(number: int) -> dict[str, object]:
    sys_id = f"{number:032x}"
    return {
        "sys_id": {"display_value": sys_id, "value": sys_id},
        "number": {"display_value": f"INC{number:07d}", "value": f"INC{number:07d}"},
        "short_description": {"display_value": "Slow", "value": "Slow"},
        "state": {"display_value": "New", "value": "1"},
        "active": {"display_value": "true", "value": "true"},
        "opened_at": {"display_value": "2026-11-27 04:00:00", "value": "2026-11-27 09:00:00"},
    }


def token(access_token: str, expires_in: object = 1799) -> httpx.Response:
    return httpx.Response(
        200, json={**fixture("servicenow", "oauth_token.json"), "access_token": access_token, "expires_in": expires_in}
    )


async def test_pages_are_read_by_offset_until_the_link_header_names_no_next_page() -> None:
    routes = router()
    route = routes.get(INCIDENTS).mock(
        side_effect=[
            page([incident(1), incident(2)], links=("first", "next", "last"), total=6),
            page([incident(3), incident(4)], links=("first", "prev", "next", "last"), total=6),
            page([incident(5), incident(6)], links=("first", "prev", "last")),
        ]
    )
    source, _ = connector(routes, page_size=2)
    batch = await source.fetch_incidents(SINCE)
    assert [i.id for i in batch.records] == [f"INC000000{n}" for n in range(1, 7)]
    sent = params(route)
    assert [(p["sysparm_offset"], p["sysparm_limit"]) for p in sent] == [("0", "2"), ("2", "2"), ("4", "2")]
    assert {p["sysparm_display_value"] for p in sent} == {"all"}
    assert {p["sysparm_query"] for p in sent} == {"opened_at>=2026-11-26 00:00:00^ORactive=true^ORDERBYDESCopened_at"}
    assert sent[0]["sysparm_fields"].split(",")[:3] == ["sys_id", "number", "short_description"]


async def test_a_short_page_ends_the_reading_when_there_is_no_link_header() -> None:
    routes = router()
    route = routes.get(INCIDENTS).mock(side_effect=[page([incident(1), incident(2)]), page([incident(3)])])
    source, _ = connector(routes, page_size=2)
    assert len((await source.fetch_incidents(SINCE)).records) == 3
    assert [p["sysparm_offset"] for p in params(route)] == ["0", "2"]


async def test_the_total_count_ends_the_reading_once_every_row_is_in() -> None:
    routes = router()
    route = routes.get(INCIDENTS).mock(
        side_effect=[page([incident(1), incident(2)], total=4), page([incident(3), incident(4)], total=4)]
    )
    source, _ = connector(routes, page_size=2)
    assert len((await source.fetch_incidents(SINCE)).records) == 4
    assert route.call_count == 2


async def test_an_upstream_repeating_a_page_is_read_once_and_not_forever() -> None:
    routes = router()
    route = routes.get(INCIDENTS).mock(return_value=page([incident(1), incident(2)], links=("first", "next")))
    source, _ = connector(routes, page_size=2)
    assert [i.id for i in (await source.fetch_incidents(SINCE)).records] == ["INC0000001", "INC0000002"]
    assert route.call_count == 2


async def test_basic_auth_sends_username_and_password_and_asks_for_json() -> None:
    routes = router()
    route = routes.get(INCIDENTS).mock(return_value=page([]))
    source, _ = connector(routes)
    await source.fetch_incidents(SINCE)
    request = route.calls.last.request
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"svc_opscontext:s3cret-pw").decode()
    assert request.headers["accept"] == "application/json"


async def test_a_static_token_is_sent_as_a_bearer_token() -> None:
    routes = router()
    route = routes.get(INCIDENTS).mock(return_value=page([]))
    source, _ = connector(routes, username=None, password=None, token="st4tic-t0ken")
    await source.fetch_incidents(SINCE)
    assert route.calls.last.request.headers["authorization"] == "Bearer st4tic-t0ken"


OAUTH = {"client_id": "opscontext", "client_secret": "cl1ent-s3cret"}


async def test_oauth_gets_a_token_by_password_grant_and_sends_it_as_bearer_on_every_read() -> None:
    routes = router()
    token_route = routes.post("/oauth_token.do").mock(return_value=token("acc3ss-A"))
    table = routes.get(INCIDENTS).mock(return_value=page([]))
    source, _ = connector(routes, **OAUTH)
    await source.fetch_incidents(SINCE)
    await source.fetch_incidents(SINCE)
    assert token_route.call_count == 1
    form = parse_qs(token_route.calls.last.request.content.decode())
    assert form == {
        "grant_type": ["password"],
        "client_id": ["opscontext"],
        "client_secret": ["cl1ent-s3cret"],
        "username": ["svc_opscontext"],
        "password": ["s3cret-pw"],
    }
    assert token_route.calls.last.request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert [c.request.headers["authorization"] for c in table.calls] == ["Bearer acc3ss-A", "Bearer acc3ss-A"]


async def test_oauth_gets_a_new_token_once_when_a_read_meets_a_401() -> None:
    routes = router()
    token_route = routes.post("/oauth_token.do").mock(side_effect=[token("acc3ss-A"), token("acc3ss-B")])
    table = routes.get(INCIDENTS).mock(side_effect=[httpx.Response(401), page([incident(1)])])
    source, waits = connector(routes, **OAUTH)
    assert len((await source.fetch_incidents(SINCE)).records) == 1
    assert token_route.call_count == 2
    assert [c.request.headers["authorization"] for c in table.calls] == ["Bearer acc3ss-A", "Bearer acc3ss-B"]
    assert waits.seconds == []


async def test_oauth_gives_up_when_the_new_token_is_refused_too() -> None:
    routes = router()
    token_route = routes.post("/oauth_token.do").mock(side_effect=[token("acc3ss-A"), token("acc3ss-B")])
    table = routes.get(INCIDENTS).mock(return_value=httpx.Response(401))
    source, _ = connector(routes, **OAUTH)
    with pytest.raises(UpstreamError) as caught:
        await source.fetch_incidents(SINCE)
    assert caught.value.status == 401
    assert token_route.call_count == 2 and table.call_count == 2


async def test_oauth_gets_a_new_token_when_the_last_one_has_expired() -> None:
    routes = router()
    token_route = routes.post("/oauth_token.do").mock(side_effect=[token("acc3ss-A", "0"), token("acc3ss-B")])
    table = routes.get(INCIDENTS).mock(return_value=page([]))
    source, _ = connector(routes, **OAUTH)
    for _ in range(3):
        await source.fetch_incidents(SINCE)
    assert token_route.call_count == 2
    assert [c.request.headers["authorization"] for c in table.calls] == [
        "Bearer acc3ss-A",
        "Bearer acc3ss-B",
        "Bearer acc3ss-B",
    ]


async def test_a_refused_token_request_is_an_upstream_error_that_echoes_no_secret() -> None:
    routes = router()
    routes.post("/oauth_token.do").mock(
        return_value=httpx.Response(401, json={"error": "access_denied for opscontext/cl1ent-s3cret/s3cret-pw"})
    )
    table = routes.get(INCIDENTS).mock(return_value=page([]))
    source, waits = connector(routes, **OAUTH)
    with pytest.raises(UpstreamError) as caught:
        await source.fetch_incidents(SINCE)
    message = str(caught.value)
    assert message.startswith(f"POST {BASE}/oauth_token.do: 401 Unauthorized")
    assert "cl1ent-s3cret" not in message and "s3cret-pw" not in message and "***" in message
    assert table.call_count == 0 and waits.seconds == []


async def test_a_token_answer_without_an_access_token_is_an_upstream_error() -> None:
    routes = router()
    routes.post("/oauth_token.do").mock(return_value=httpx.Response(200, json={"error": "server_error"}))
    source, _ = connector(routes, **OAUTH)
    with pytest.raises(UpstreamError, match="answered without an access_token"):
        await source.fetch_incidents(SINCE)


@pytest.mark.parametrize(
    ("status", "explained"),
    [
        (401, "401 Unauthorized (check the token or credentials): User Not Authenticated"),
        (403, "403 Forbidden (the credentials lack a permission): User Not Authorized"),
        (404, "404 Not Found: Invalid table incident"),
    ],
)
async def test_client_errors_are_reported_at_once_without_retrying(status: int, explained: str) -> None:
    message = explained.rpartition(": ")[2]
    body = {"error": {"message": message, "detail": None}, "status": "failure"}
    routes = router()
    route = routes.get(INCIDENTS).mock(return_value=httpx.Response(status, json=body))
    source, waits = connector(routes)
    with pytest.raises(UpstreamError) as caught:
        await source.fetch_incidents(SINCE)
    assert str(caught.value) == f"GET {BASE}{INCIDENTS}: {explained}"
    assert caught.value.status == status
    assert route.call_count == 1 and waits.seconds == []


async def test_a_429_waits_as_retry_after_asks_and_a_5xx_backs_off_before_trying_again() -> None:
    routes = router()
    route = routes.get(INCIDENTS).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(503), page([incident(1)])]
    )
    source, waits = connector(routes)
    assert len((await source.fetch_incidents(SINCE)).records) == 1
    assert waits.seconds == [3.0, 1.0]
    assert [p["sysparm_offset"] for p in params(route)] == ["0", "0", "0"]


async def test_a_read_that_keeps_timing_out_is_retried_then_reported() -> None:
    routes = router()
    route = routes.get(INCIDENTS).mock(side_effect=httpx.ReadTimeout("slow"))
    source, waits = connector(routes, retries=2, timeout_seconds=5)
    with pytest.raises(UpstreamError, match=rf"GET {BASE}{INCIDENTS}: no answer within 5 s \(ReadTimeout\)"):
        await source.fetch_incidents(SINCE)
    assert route.call_count == 3 and waits.seconds == [0.5, 1.0]


async def test_a_body_that_is_not_json_is_an_upstream_error() -> None:
    routes = router()
    routes.get(INCIDENTS).mock(return_value=httpx.Response(200, text='{"result": [{"sys_id": '))
    source, _ = connector(routes)
    with pytest.raises(UpstreamError, match="answered 200 with a body that is not JSON"):
        await source.fetch_incidents(SINCE)


async def test_a_json_body_without_a_result_list_is_an_upstream_error() -> None:
    routes = router()
    routes.get(INCIDENTS).mock(return_value=httpx.Response(200, json={"result": {"sys_id": "x"}}))
    source, _ = connector(routes)
    with pytest.raises(UpstreamError, match=f"GET {BASE}{INCIDENTS}: answered without a result list"):
        await source.fetch_incidents(SINCE)


async def test_check_reads_one_group_and_reports_the_instance_healthy() -> None:
    routes = router()
    route = routes.get(f"{TABLE}/sys_user_group").mock(
        return_value=page([{"sys_id": "4a8d2e61f03b4c97a5e1d9c6b72f0e83"}])
    )
    source, _ = connector(routes)
    health = await source.check()
    assert health.ok and health.latency_ms is not None
    assert health.detail == f"{BASE}: Table API readable (basic auth)"
    assert params(route) == [{"sysparm_limit": "1", "sysparm_fields": "sys_id"}]
    assert route.calls.last.request.headers["authorization"].startswith("Basic ")


async def test_check_reports_a_refusing_instance_as_unhealthy_without_the_password() -> None:
    routes = router()
    routes.get(f"{TABLE}/sys_user_group").mock(
        return_value=httpx.Response(401, json={"error": {"message": "User Not Authenticated", "detail": "s3cret-pw"}})
    )
    source, _ = connector(routes)
    health = await source.check()
    assert not health.ok
    assert health.detail == (
        f"GET {BASE}{TABLE}/sys_user_group: 401 Unauthorized (check the token or credentials): "
        "User Not Authenticated: ***"
    )


async def test_a_closed_connector_reads_again_on_its_next_fetch() -> None:
    routes = router()
    route = routes.get(INCIDENTS).mock(return_value=page([incident(1)]))
    source, _ = connector(routes)
    await source.fetch_incidents(SINCE)
    await source.aclose()
    assert len((await source.fetch_incidents(SINCE)).records) == 1
    assert route.call_count == 2
