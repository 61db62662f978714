"""What both ways of posting share: the text Slack gets, sending it at most once, and failures.

A post is not idempotent. Sent again after Slack already acted on it, a status update shows
twice in the incident channel, in front of exactly the people who need the updates clear. So
a post is tried again only when Slack surely did not act on it:

- 429: Slack refused it before posting; the next attempt waits as Retry-After asks;
- a connection that could not be opened (ConnectError, ConnectTimeout, PoolTimeout): nothing was sent.

Anything that can happen after the request left — a read or write timeout, a dropped
connection, a 5xx (a gateway can give up after Slack posted) — is not retried: the failed
delivery says the message may have been posted, so a person looks before posting again.
That is why posts do not go through `HttpSource.request_json`, which retries all of those
(and sends form data, where Slack wants JSON); they use its client, secrets and sleep.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

from opscontext_mcp.model import Delivery, StatusMessage

from ..http import HttpSource, pause_before_retry, retry_after

TEXT_LIMIT = 40_000
"""Slack cuts `text` longer than this; cutting it ourselves keeps the marker visible."""
TRUNCATED = "\n… [cut here: the update is longer than Slack's 40,000-character limit]"
JSON_UTF8 = {"Content-Type": "application/json; charset=utf-8"}
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
MAYBE_POSTED = "the message may have been posted, so it was not sent again; look in the channel before posting it again"
ERROR_CODE = re.compile(r"[a-z0-9_]{1,80}")

HINTS = {
    "channel_not_found": "the channel does not exist, or the bot cannot see it (invite it to a private channel)",
    "not_in_channel": "invite the bot to the channel",
    "is_archived": "the channel is archived",
    "channel_is_archived": "the channel is archived",
    "action_prohibited": "a Slack admin has restricted posting to this channel",
    "invalid_auth": "check the bot token",
    "not_authed": "check the bot token",
    "token_revoked": "the bot token was revoked",
    "msg_too_long": "the message is too long for Slack",
}
"""What to do about the error codes a responder can fix, for both the Web API and webhooks."""


class PostFailed(Exception):
    """A post that got no answer to read. The message is safe to show and says whether it may have been posted."""


def status_text(message: StatusMessage) -> str:
    """The update as Slack shows it: the incident id first, cut to Slack's limit with a marker saying so.

    `&`, `<` and `>` are escaped as Slack asks, so text that came from upstream data (an alert's
    summary, a service name) can never become a mention such as `<!channel>` or a disguised link.
    """
    text = f"[{message.incident_id}] {message.text}" if message.incident_id else message.text
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if len(text) <= TEXT_LIMIT:
        return text
    return text[: TEXT_LIMIT - len(TRUNCATED)] + TRUNCATED


async def send(http: HttpSource, url: str, payload: Mapping[str, Any]) -> httpx.Response:
    """Slack's answer to one post, the last 429 if it kept limiting; `PostFailed` when there is no answer."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    attempt = 0
    while True:
        try:
            response = await http.client().post(url, content=body, headers=JSON_UTF8)
        except NEVER_SENT as exc:
            if attempt >= http.settings.retries:
                raise PostFailed(
                    f"cannot connect to Slack ({type(exc).__name__}, {attempt + 1} attempts); the message was not posted"
                ) from None
            wait = None
        except httpx.TimeoutException as exc:
            seconds = http.settings.timeout_seconds
            raise PostFailed(
                f"no answer from Slack within {seconds:g} s ({type(exc).__name__}); {MAYBE_POSTED}"
            ) from None
        except httpx.RequestError as exc:
            raise PostFailed(f"the connection to Slack failed ({type(exc).__name__}); {MAYBE_POSTED}") from None
        else:
            if response.status_code != 429 or attempt >= http.settings.retries:
                return response
            wait = retry_after(response)
        pause = pause_before_retry(wait, attempt, http.settings.max_retry_wait_seconds)
        if pause is None:  # Slack asked for longer than we may wait: the 429 is the answer
            return response
        await http.context.sleep(pause)
        attempt += 1


def error_code(value: Any) -> str | None:
    """A Slack error code (`channel_not_found`); anything else, such as a proxy's HTML page, is not one."""
    code = value.strip() if isinstance(value, str) else ""
    return code if ERROR_CODE.fullmatch(code) else None


def failed(http: HttpSource, response: httpx.Response, code: str | None, hint: str | None = None) -> Delivery:
    """A failed delivery from an error answer: the code Slack gave, and whether the message may be posted."""
    status = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    said = f"{code}, {status}" if code else status
    hint = hint or HINTS.get(code or "")
    if response.status_code >= 500:
        error = f"Slack failed ({said}); {MAYBE_POSTED}"
    elif response.status_code == 429:
        asked = retry_after(response)
        if asked is not None and asked > http.settings.max_retry_wait_seconds:
            wait = f"asks to wait {asked:g} s, longer than max_retry_wait_seconds"
        else:
            wait = "still was after the retries"
        error = f"Slack is limiting posts ({said}) and {wait}; the message was not posted"
    else:
        error = f"Slack refused the message ({said})" + (f": {hint}" if hint else "")
    return Delivery(ok=False, error=http.scrub(error))


def unreadable(http: HttpSource, response: httpx.Response) -> Delivery:
    """A success status with a body that does not say the post worked: it may or may not have."""
    return Delivery(
        ok=False, error=http.scrub(f"Slack answered HTTP {response.status_code} without saying ok; {MAYBE_POSTED}")
    )
