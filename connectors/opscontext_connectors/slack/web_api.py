"""Posting with a bot token through the Web API: `chat.postMessage`, and `auth.test` to check the token.

Slack answers HTTP 200 even when it refuses (`{"ok": false, "error": "channel_not_found"}`),
so only `"ok": true` counts as posted.
"""

from __future__ import annotations

from typing import Any

import httpx

from opscontext_mcp.model import Delivery, StatusMessage
from opscontext_mcp.protocols import ConnectorContext, Health

from ..http import HttpSource, UpstreamError, probe
from ..values import mapping, text
from .posting import HINTS, PostFailed, error_code, failed, send, status_text, unreadable
from .settings import SlackSettings


class WebApi:
    def __init__(self, settings: SlackSettings, context: ConnectorContext) -> None:
        assert settings.token is not None
        self.channel = settings.channel
        self.http = HttpSource(
            settings, context, headers={"Authorization": f"Bearer {settings.token.get_secret_value()}"}
        )

    async def check(self) -> Health:
        async def auth_test() -> str:
            # auth.test changes nothing, so HttpSource may retry it however it failed.
            body, _ = await self.http.request_json("POST", "/auth.test")
            answer = mapping(body)
            if answer.get("ok") is not True:
                code = error_code(answer.get("error")) or "no ok in the answer"
                hint = HINTS.get(code)
                raise UpstreamError(
                    self.http.scrub(f"POST {self.http.base_url}/auth.test: {code}" + (f" ({hint})" if hint else ""))
                )
            bot, team = text(answer.get("user")), text(answer.get("team"))
            return "token accepted" + (f" for {bot}" if bot else "") + (f" in {team}" if team else "")

        return await probe(self.http.base_url, auth_test)

    async def post(self, message: StatusMessage) -> Delivery:
        channel = message.channel or self.channel
        if channel is None:
            return Delivery(
                ok=False, error="no channel to post to: the message names none and the connector has no `channel`"
            )
        try:
            response = await send(self.http, "/chat.postMessage", {"channel": channel, "text": status_text(message)})
        except PostFailed as exc:
            return Delivery(ok=False, error=str(exc))
        answer = _json_object(response)
        if response.is_success and answer.get("ok") is True:
            posted_in = text(answer.get("channel")) or channel
            ts = text(answer.get("ts"))
            return Delivery(ok=True, ref=f"{posted_in}:{ts}" if ts else posted_in)
        if response.is_success and answer.get("ok") is not False:
            return unreadable(self.http, response)
        code = error_code(answer.get("error"))
        needed = text(answer.get("needed"))
        hint = f"the bot token lacks the scope {needed}" if code == "missing_scope" and needed else None
        return failed(self.http, response, code, hint)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; a body that is not one (a proxy's page) reads as empty."""
    try:
        return mapping(response.json())
    except ValueError:
        return {}
