"""The `slack` connector's config: one way to post, an incoming webhook or a bot token.

The webhook URL is the credential itself (whoever has it can post to the channel), so it is a
`SecretStr`, it is checked without ever being echoed, and errors about it name the key only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, ConfigDict, Field, SecretStr, field_validator, model_validator

from opscontext_mcp.protocols import HttpConnectorSettings

WEBHOOK_HOST = "hooks.slack.com"
WEBHOOK_PATH = "/services/"


class SlackSettings(HttpConnectorSettings):
    # pydantic puts the raw input in its error text; for `webhook_url` that input is the secret.
    model_config = ConfigDict(hide_input_in_errors=True)

    base_url: AnyHttpUrl = AnyHttpUrl("https://slack.com/api")
    """The Web API, used with `token`."""
    webhook_url: SecretStr | None = None
    """An incoming webhook, `https://hooks.slack.com/services/T…/B…/…`; posts only to the channel it was made for."""
    channel: str | None = Field(default=None, min_length=1)
    """With `token`: the channel (id like `C0123456789`, or name) a message goes to when it names none."""

    @field_validator("webhook_url")
    @classmethod
    def _webhook_on_slack_only(cls, url: SecretStr | None) -> SecretStr | None:
        """Only Slack's webhook host is accepted, so a typo in the config cannot send incident text elsewhere."""
        if url is None:
            return None
        value = url.get_secret_value().strip()
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError:
            parts, port = None, None
        if (
            parts is None
            or parts.scheme != "https"
            or parts.hostname != WEBHOOK_HOST
            or port not in (None, 443)
            or parts.username is not None
            or not parts.path.startswith(WEBHOOK_PATH)
            or len(parts.path) <= len(WEBHOOK_PATH)
        ):
            raise ValueError(f"expected an incoming webhook URL, https://{WEBHOOK_HOST}{WEBHOOK_PATH}T…/B…/…")
        return SecretStr(value)

    @model_validator(mode="after")
    def _one_way_to_post(self) -> SlackSettings:
        if (self.webhook_url is None) == (self.token is None):
            found = "both" if self.token is not None else "neither"
            raise ValueError(
                "give exactly one of webhook_url (an incoming webhook) or token (a bot token for chat.postMessage); "
                f"found {found}"
            )
        if self.username is not None:
            raise ValueError("Slack takes webhook_url or token, not username and password")
        if self.webhook_url is not None and self.channel is not None:
            raise ValueError("channel applies to token mode: a webhook posts only to the channel it was created for")
        return self
