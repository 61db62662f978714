"""Posting through an incoming webhook: the URL is the credential, and fixes the channel.

Slack answers a webhook in plain text: `ok` with 200, otherwise an error code with its status
(400 `invalid_payload` / `no_text`, 403 `action_prohibited`, 404 `channel_not_found`,
410 `channel_is_archived`, 500 `rollup_error`, 429 with Retry-After).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from opscontext_mcp.model import Delivery, StatusMessage
from opscontext_mcp.protocols import ConnectorContext, Health

from ..http import HttpSource
from .posting import PostFailed, error_code, failed, send, status_text, unreadable
from .settings import SlackSettings


class Webhook:
    def __init__(self, settings: SlackSettings, context: ConnectorContext) -> None:
        assert settings.webhook_url is not None
        self.url = settings.webhook_url
        self.http = HttpSource(settings, context, secrets=[self.url])
        # The path alone is as secret as the URL; an error page may echo just that.
        self.http.add_secret(urlsplit(self.url.get_secret_value()).path)

    async def check(self) -> Health:
        """Slack offers no way to test a webhook without posting to the channel, so it is not tried."""
        return Health(ok=True, detail="incoming webhook configured; not probed (testing it would post to the channel)")

    async def post(self, message: StatusMessage) -> Delivery:
        if message.channel is not None:
            return Delivery(
                ok=False,
                error=f"cannot post to {message.channel!r}: this connector posts through an incoming webhook, "
                "which posts only to the channel it was created for; post without a channel",
            )
        try:
            response = await send(self.http, self.url.get_secret_value(), {"text": status_text(message)})
        except PostFailed as exc:
            return Delivery(ok=False, error=str(exc))
        code = error_code(response.text)
        if response.is_success:
            return Delivery(ok=True) if code == "ok" else unreadable(self.http, response)
        return failed(self.http, response, code)
