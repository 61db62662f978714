"""The `slack` connector: posts incident status updates, through an incoming webhook or a bot token.

    connectors:
      - name: slack
        type: slack
        token: ${SLACK_BOT_TOKEN}          # a bot token (xoxb-…) with chat:write; the bot is in the channel
        channel: C0123456789               # where a message goes when it names no channel
      # or, instead of token and channel:
      #   webhook_url: ${SLACK_WEBHOOK_URL} # https://hooks.slack.com/services/…; posts to its own channel

With a token, `check()` asks `auth.test`; a webhook cannot be tried without posting, so its
check only says it is configured. A failed post is a `Delivery` with `ok=False` and a reason
that is safe to show, never an exception; see `posting.py` for which failures are retried.
"""

from __future__ import annotations

from typing import ClassVar

from opscontext_mcp.model import Delivery, StatusMessage
from opscontext_mcp.protocols import Capability, ConnectorContext, ConnectorSettings, Health

from .settings import SlackSettings
from .web_api import WebApi
from .webhook import Webhook


class SlackConnector:
    Settings: ClassVar[type[ConnectorSettings]] = SlackSettings
    capabilities = frozenset({Capability.NOTIFY})

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        assert isinstance(settings, SlackSettings)
        self.name = settings.name
        self.poster = Webhook(settings, context) if settings.webhook_url is not None else WebApi(settings, context)

    async def check(self) -> Health:
        return await self.poster.check()

    async def aclose(self) -> None:
        await self.poster.http.aclose()

    async def post_status(self, message: StatusMessage) -> Delivery:
        return await self.poster.post(message)
