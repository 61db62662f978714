from __future__ import annotations

import httpx
import pytest

from opscontext_mcp.model import Delivery, StatusMessage
from tests.connectors.slack.routes import API, CHANNEL, TOKEN, UPDATE, body, posted, router, web_api

pytestmark = pytest.mark.anyio

POST_MESSAGE = f"{API}/chat.postMessage"


async def test_an_update_is_posted_as_json_with_the_bot_token_and_its_ref_is_channel_and_ts() -> None:
    routes = router()
    route = routes.post(POST_MESSAGE).mock(return_value=httpx.Response(200, json=body("chat.postMessage.json")))
    slack, _ = web_api(routes)

    delivery = await slack.post_status(UPDATE)

    assert delivery == Delivery(ok=True, ref="C0INCIDENT1:1700000000.000100")
    request = route.calls.last.request
    assert str(request.url) == "https://slack.com/api/chat.postMessage"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert posted(route) == {
        "channel": CHANNEL,
        "text": "[INC-42] Checkout latency is degrading for 42% of users — payment service is primary contributor.",
    }


async def test_the_channel_a_message_names_wins_over_the_default_and_slack_s_channel_id_is_the_ref() -> None:
    routes = router()
    route = routes.post(POST_MESSAGE).mock(
        return_value=httpx.Response(200, json={"ok": True, "channel": "C0PAYMENTS1", "ts": "1700000001.000200"})
    )
    slack, _ = web_api(routes)

    delivery = await slack.post_status(StatusMessage(channel="#payments-incident", text="Mitigated."))

    assert posted(route) == {"channel": "#payments-incident", "text": "Mitigated."}
    assert delivery.ok and delivery.ref == "C0PAYMENTS1:1700000001.000200"


async def test_without_a_channel_on_the_message_or_the_connector_nothing_is_posted() -> None:
    routes = router()
    route = routes.post(POST_MESSAGE).mock(return_value=httpx.Response(200, json=body("chat.postMessage.json")))
    slack, _ = web_api(routes, channel=None)

    delivery = await slack.post_status(UPDATE)

    assert not delivery.ok and delivery.error is not None and "no channel to post to" in delivery.error
    assert route.call_count == 0


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        ("channel_not_found", "the bot cannot see it"),
        ("not_in_channel", "invite the bot to the channel"),
        ("invalid_auth", "check the bot token"),
    ],
)
async def test_an_ok_false_answer_with_status_200_is_a_failed_delivery_naming_slack_s_error(
    code: str, hint: str
) -> None:
    routes = router()
    route = routes.post(POST_MESSAGE).mock(return_value=httpx.Response(200, json={"ok": False, "error": code}))
    slack, waits = web_api(routes)

    delivery = await slack.post_status(UPDATE)

    assert not delivery.ok and delivery.ref is None
    assert delivery.error is not None and delivery.error.startswith(
        f"Slack refused the message ({code}, HTTP 200 OK): "
    )
    assert hint in delivery.error
    assert route.call_count == 1 and waits.seconds == []


async def test_a_missing_scope_names_the_scope_the_token_needs() -> None:
    routes = router()
    routes.post(POST_MESSAGE).mock(
        return_value=httpx.Response(
            200, json={"ok": False, "error": "missing_scope", "needed": "chat:write", "provided": "channels:read"}
        )
    )
    slack, _ = web_api(routes)

    delivery = await slack.post_status(UPDATE)

    assert (
        delivery.error
        == "Slack refused the message (missing_scope, HTTP 200 OK): the bot token lacks the scope chat:write"
    )


@pytest.mark.parametrize(
    "answer", [httpx.Response(200, json={"channel": CHANNEL}), httpx.Response(200, text="<html>proxy</html>")]
)
async def test_a_success_status_without_ok_true_is_not_taken_for_a_posted_message(answer: httpx.Response) -> None:
    routes = router()
    routes.post(POST_MESSAGE).mock(return_value=answer)
    slack, _ = web_api(routes)

    delivery = await slack.post_status(UPDATE)

    assert not delivery.ok and delivery.error is not None and "may have been posted" in delivery.error


async def test_a_rate_limit_is_retried_after_the_wait_slack_asks_for_with_the_same_message() -> None:
    routes = router()
    route = routes.post(POST_MESSAGE).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}, json={"ok": False, "error": "ratelimited"}),
            httpx.Response(200, json=body("chat.postMessage.json")),
        ]
    )
    slack, waits = web_api(routes)

    delivery = await slack.post_status(UPDATE)

    assert delivery.ok
    assert waits.seconds == [3.0] and route.call_count == 2
    assert posted(route, 0) == posted(route, 1)


@pytest.mark.parametrize(
    ("asked", "calls", "waits", "wording"),
    [
        ("3", 3, [3.0, 3.0], "still was after the retries"),
        ("30", 1, [], "asks to wait 30 s, longer than max_retry_wait_seconds"),
    ],
    ids=["outlasts-the-retries", "asks-longer-than-the-cap"],
)
async def test_a_rate_limit_that_cannot_be_waited_out_is_a_failed_delivery_saying_nothing_was_posted(
    asked: str, calls: int, waits: list[float], wording: str
) -> None:
    routes = router()
    route = routes.post(POST_MESSAGE).mock(
        return_value=httpx.Response(429, headers={"Retry-After": asked}, json={"ok": False, "error": "ratelimited"})
    )
    slack, recorded = web_api(routes, retries=2, max_retry_wait_seconds=5)

    delivery = await slack.post_status(UPDATE)

    assert route.call_count == calls and recorded.seconds == waits
    assert delivery.error == (
        f"Slack is limiting posts (ratelimited, HTTP 429 Too Many Requests) and {wording}; the message was not posted"
    )


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("slow"), httpx.WriteTimeout("slow"), httpx.RemoteProtocolError("dropped")]
)
async def test_a_failure_after_the_request_left_is_not_retried_so_the_update_cannot_post_twice(
    failure: httpx.HTTPError,
) -> None:
    routes = router()
    route = routes.post(POST_MESSAGE).mock(side_effect=failure)
    slack, waits = web_api(routes, retries=3)

    delivery = await slack.post_status(UPDATE)

    assert route.call_count == 1 and waits.seconds == []
    assert not delivery.ok and delivery.error is not None
    assert (
        type(failure).__name__ in delivery.error and "may have been posted, so it was not sent again" in delivery.error
    )


async def test_a_server_error_is_not_retried_because_slack_may_have_posted_before_failing() -> None:
    routes = router()
    route = routes.post(POST_MESSAGE).mock(return_value=httpx.Response(503))
    slack, waits = web_api(routes)

    delivery = await slack.post_status(UPDATE)

    assert route.call_count == 1 and waits.seconds == []
    assert delivery.error is not None and delivery.error.startswith("Slack failed (HTTP 503 Service Unavailable); ")


async def test_a_connection_that_could_not_be_opened_is_retried_because_nothing_was_sent() -> None:
    routes = router()
    route = routes.post(POST_MESSAGE).mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.ConnectTimeout("slow"),
            httpx.Response(200, json=body("chat.postMessage.json")),
        ]
    )
    slack, waits = web_api(routes)

    delivery = await slack.post_status(UPDATE)

    assert delivery.ok and route.call_count == 3 and waits.seconds == [0.5, 1.0]


async def test_a_connection_that_never_opens_is_a_failed_delivery_saying_nothing_was_posted() -> None:
    routes = router()
    routes.post(POST_MESSAGE).mock(side_effect=httpx.ConnectError("refused"))
    slack, waits = web_api(routes, retries=1)

    delivery = await slack.post_status(UPDATE)

    assert waits.seconds == [0.5]
    assert delivery.error == "cannot connect to Slack (ConnectError, 2 attempts); the message was not posted"


async def test_check_asks_auth_test_with_the_token_and_names_the_bot_and_workspace() -> None:
    routes = router()
    route = routes.post(f"{API}/auth.test").mock(return_value=httpx.Response(200, json=body("auth.test.json")))
    slack, _ = web_api(routes)

    health = await slack.check()

    assert health.ok and health.detail == "https://slack.com/api: token accepted for opscontext in Acme Shop"
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_check_fails_naming_slack_s_error_when_the_token_is_refused() -> None:
    routes = router()
    routes.post(f"{API}/auth.test").mock(return_value=httpx.Response(200, json={"ok": False, "error": "invalid_auth"}))
    slack, _ = web_api(routes)

    health = await slack.check()

    assert not health.ok and health.detail == "POST https://slack.com/api/auth.test: invalid_auth (check the bot token)"
