"""A Slack connector wired to a respx router, in either mode, and what the tests read back from a post."""

from __future__ import annotations

import json
from typing import Any

import respx
from opscontext_connectors.slack import SlackConnector, SlackSettings

from opscontext_mcp.model import StatusMessage
from tests.connectors.support import Waits, fixture, http_context

API = "https://slack.com/api"
TOKEN = "xoxb-1111-s3cret-bot-token"
WEBHOOK = "https://hooks.slack.com/services/T0ACME0001/B0HOOK0001/s3cretW3bhookPath"
CHANNEL = "C0INCIDENT1"
UPDATE = StatusMessage(
    incident_id="INC-42",
    text="Checkout latency is degrading for 42% of users — payment service is primary contributor.",
)


def router() -> respx.Router:
    return respx.Router(assert_all_mocked=True)


def web_api(routes: respx.Router, **settings: Any) -> tuple[SlackConnector, Waits]:
    """A connector posting with a bot token; `channel` is its default unless `settings` say otherwise."""
    return _connector(routes, {"token": TOKEN, "channel": CHANNEL, **settings})


def webhook(routes: respx.Router, **settings: Any) -> tuple[SlackConnector, Waits]:
    return _connector(routes, {"webhook_url": WEBHOOK, **settings})


def _connector(routes: respx.Router, settings: dict[str, Any]) -> tuple[SlackConnector, Waits]:
    context, waits = http_context(routes)
    return SlackConnector(SlackSettings(name="slack", type="slack", **settings), context), waits


def body(name: str) -> Any:
    return fixture("slack", name)


def posted(route: respx.Route, index: int = -1) -> Any:
    """The JSON one call to a route sent."""
    return json.loads(route.calls[index].request.content)
