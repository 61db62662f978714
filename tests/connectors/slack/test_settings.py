from __future__ import annotations

from typing import Any

import pytest
from opscontext_connectors.slack import SlackConnector, SlackSettings
from pydantic import ValidationError

from opscontext_mcp.registry import settings_problems
from tests.connectors.slack.routes import TOKEN, WEBHOOK


def settings(**keys: Any) -> SlackSettings:
    return SlackSettings(name="slack", type="slack", **keys)


def problems(**keys: Any) -> list[str]:
    """What a user is told about a config entry with these keys."""
    return settings_problems([{"name": "slack", "type": "slack", **keys}], types={"slack": SlackConnector})[0]


def test_a_webhook_alone_is_enough() -> None:
    config = settings(webhook_url=WEBHOOK)
    assert config.webhook_url is not None and config.webhook_url.get_secret_value() == WEBHOOK
    assert config.token is None


def test_a_token_without_a_default_channel_is_accepted_for_messages_that_name_their_channel() -> None:
    config = settings(token=TOKEN)
    assert config.channel is None and str(config.base_url) == "https://slack.com/api"


@pytest.mark.parametrize(
    ("keys", "found"), [({}, "neither"), ({"webhook_url": WEBHOOK, "token": TOKEN}, "both")], ids=["none", "both"]
)
def test_exactly_one_of_webhook_url_and_token_is_required(keys: dict[str, Any], found: str) -> None:
    assert problems(**keys) == [
        "connectors[0]: give exactly one of webhook_url (an incoming webhook) or token (a bot token for "
        f"chat.postMessage); found {found}"
    ]


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.slack.com/services/T0ACME0001/B0HOOK0001/s3cretW3bhookPath",
        "https://hooks.slack.co/services/T0ACME0001/B0HOOK0001/s3cretW3bhookPath",
        "https://hooks.slack.com.attacker.example/services/T0ACME0001/B0HOOK0001/s3cretW3bhookPath",
        "https://hooks.slack.com@attacker.example/services/T0ACME0001/B0HOOK0001/s3cretW3bhookPath",
        "https://hooks.slack.com:8443/services/T0ACME0001/B0HOOK0001/s3cretW3bhookPath",
        "https://hooks.slack.com/workflows/T0ACME0001/s3cretW3bhookPath",
        "https://hooks.slack.com/services/",
        "set-in-the-environment-s3cretW3bhookPath",
    ],
)
def test_a_webhook_url_elsewhere_than_slack_s_webhook_host_is_refused_without_echoing_it(url: str) -> None:
    assert problems(webhook_url=url) == [
        "connectors[0].webhook_url: expected an incoming webhook URL, https://hooks.slack.com/services/T…/B…/…"
    ]
    with pytest.raises(ValidationError) as caught:
        settings(webhook_url=url)
    assert "s3cretW3bhookPath" not in str(caught.value)


def test_a_default_channel_beside_a_webhook_is_refused_because_the_webhook_fixes_the_channel() -> None:
    assert problems(webhook_url=WEBHOOK, channel="C0INCIDENT1") == [
        "connectors[0]: channel applies to token mode: a webhook posts only to the channel it was created for"
    ]


def test_username_and_password_are_refused() -> None:
    assert problems(token=TOKEN, username="bot", password="pw") == [
        "connectors[0]: Slack takes webhook_url or token, not username and password"
    ]


def test_no_error_about_another_key_echoes_the_webhook_url() -> None:
    with pytest.raises(ValidationError) as caught:
        settings(webhook_url=WEBHOOK, retries=-1)
    assert "s3cretW3bhookPath" not in str(caught.value)
    assert all("s3cretW3bhookPath" not in line for line in problems(webhook_url=WEBHOOK, retries=-1))
