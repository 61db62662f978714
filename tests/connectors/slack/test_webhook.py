from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from opscontext_mcp.model import Delivery, StatusMessage
from tests.connectors.slack.routes import UPDATE, WEBHOOK, posted, router, webhook

pytestmark = pytest.mark.anyio

SECRET_PATH = urlsplit(WEBHOOK).path


async def test_an_update_is_posted_as_json_to_the_webhook_without_an_auth_header() -> None:
    routes = router()
    route = routes.post(WEBHOOK).mock(return_value=httpx.Response(200, text="ok"))
    slack, _ = webhook(routes)

    delivery = await slack.post_status(UPDATE)

    assert delivery == Delivery(ok=True)
    request = route.calls.last.request
    assert str(request.url) == WEBHOOK
    assert "Authorization" not in request.headers
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert posted(route) == {
        "text": "[INC-42] Checkout latency is degrading for 42% of users — payment service is primary contributor."
    }


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (400, "invalid_payload", "Bad Request"),
        (400, "no_text", "Bad Request"),
        (403, "action_prohibited", "Forbidden"),
        (404, "channel_not_found", "Not Found"),
        (410, "channel_is_archived", "Gone"),
    ],
)
async def test_a_plain_text_error_is_a_failed_delivery_naming_slack_s_error_without_the_url(
    status: int, code: str, reason: str
) -> None:
    routes = router()
    route = routes.post(WEBHOOK).mock(return_value=httpx.Response(status, text=code))
    slack, waits = webhook(routes)

    delivery = await slack.post_status(UPDATE)

    assert not delivery.ok and delivery.error is not None
    assert delivery.error.startswith(f"Slack refused the message ({code}, HTTP {status} {reason})")
    assert SECRET_PATH not in delivery.error
    assert route.call_count == 1 and waits.seconds == []


async def test_an_error_page_echoing_the_webhook_url_is_not_passed_on() -> None:
    routes = router()
    routes.post(WEBHOOK).mock(return_value=httpx.Response(502, text=f"<html>bad gateway for {WEBHOOK}</html>"))
    slack, _ = webhook(routes)

    delivery = await slack.post_status(UPDATE)

    assert delivery.error is not None and delivery.error.startswith("Slack failed (HTTP 502 Bad Gateway); ")
    assert SECRET_PATH not in delivery.error and "hooks.slack.com" not in delivery.error


async def test_a_server_error_is_not_retried_because_slack_may_have_posted_before_failing() -> None:
    routes = router()
    route = routes.post(WEBHOOK).mock(return_value=httpx.Response(500, text="rollup_error"))
    slack, waits = webhook(routes)

    delivery = await slack.post_status(UPDATE)

    assert route.call_count == 1 and waits.seconds == []
    assert delivery.error is not None
    assert delivery.error.startswith("Slack failed (rollup_error, HTTP 500 Internal Server Error); ")
    assert "may have been posted" in delivery.error


async def test_a_rate_limit_is_retried_after_the_wait_slack_asks_for() -> None:
    routes = router()
    route = routes.post(WEBHOOK).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}, text="rate_limited"),
            httpx.Response(429, headers={"Retry-After": "4"}, text="rate_limited"),
            httpx.Response(200, text="ok"),
        ]
    )
    slack, waits = webhook(routes)

    delivery = await slack.post_status(UPDATE)

    assert delivery.ok and route.call_count == 3 and waits.seconds == [2.0, 4.0]


async def test_a_timeout_after_sending_is_a_failed_delivery_and_the_update_is_not_posted_again() -> None:
    routes = router()
    route = routes.post(WEBHOOK).mock(side_effect=httpx.ReadTimeout("slow"))
    slack, waits = webhook(routes, timeout_seconds=4)

    delivery = await slack.post_status(UPDATE)

    assert route.call_count == 1 and waits.seconds == []
    assert delivery.error == (
        "no answer from Slack within 4 s (ReadTimeout); the message may have been posted, so it was not sent again; "
        "look in the channel before posting it again"
    )


async def test_a_webhook_that_cannot_be_reached_is_retried_then_failed_without_naming_its_url() -> None:
    routes = router()
    route = routes.post(WEBHOOK).mock(side_effect=httpx.ConnectError(f"cannot reach {WEBHOOK}"))
    slack, waits = webhook(routes, retries=2)

    delivery = await slack.post_status(UPDATE)

    assert route.call_count == 3 and waits.seconds == [0.5, 1.0]
    assert delivery.error == "cannot connect to Slack (ConnectError, 3 attempts); the message was not posted"


async def test_a_success_status_without_ok_is_not_taken_for_a_posted_message() -> None:
    routes = router()
    routes.post(WEBHOOK).mock(return_value=httpx.Response(200, text="<html>captive portal</html>"))
    slack, _ = webhook(routes)

    delivery = await slack.post_status(UPDATE)

    assert not delivery.ok and delivery.error is not None and "may have been posted" in delivery.error


async def test_a_message_for_another_channel_is_refused_because_a_webhook_posts_only_to_its_own() -> None:
    routes = router()
    route = routes.post(WEBHOOK).mock(return_value=httpx.Response(200, text="ok"))
    slack, _ = webhook(routes)

    delivery = await slack.post_status(StatusMessage(channel="C0PAYMENTS1", text="Mitigated."))

    assert (
        not delivery.ok and delivery.error is not None and "posts only to the channel it was created" in delivery.error
    )
    assert route.call_count == 0


async def test_check_says_the_webhook_is_configured_and_was_not_probed_without_posting() -> None:
    routes = router()
    route = routes.post(WEBHOOK).mock(return_value=httpx.Response(200, text="ok"))
    slack, _ = webhook(routes)

    health = await slack.check()

    assert health.ok and "configured" in health.detail and "not probed" in health.detail
    assert SECRET_PATH not in health.detail
    assert route.call_count == 0


async def test_the_webhook_url_shows_in_no_repr_of_the_connector_or_its_settings() -> None:
    slack, _ = webhook(router())

    shown = [repr(slack), repr(slack.poster), repr(slack.poster.http.settings), str(slack.poster.http.settings)]

    assert all(SECRET_PATH not in text for text in shown)
    assert "webhook_url=SecretStr('**********')" in shown[2]
