from __future__ import annotations

import re
from pathlib import Path

import yaml
from opscontext_connectors.slack import SlackSettings

from opscontext_mcp.config import parse_config

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "config" / "slack.yaml"


def _entry(text: str, environ: dict[str, str]) -> SlackSettings:
    config = parse_config(yaml.safe_load(text), base_dir=EXAMPLE.parent, environ=environ)
    return SlackSettings.model_validate(next(e for e in config.connectors if e["type"] == "slack"))


def test_the_documented_example_posts_with_a_bot_token_to_a_default_channel() -> None:
    settings = _entry(EXAMPLE.read_text(encoding="utf-8"), {"SLACK_BOT_TOKEN": "xoxb-example"})

    assert settings.token is not None and settings.token.get_secret_value() == "xoxb-example"
    assert settings.webhook_url is None and settings.channel


def test_the_documented_webhook_alternative_is_valid_once_uncommented_in_place_of_the_token() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = re.sub(r"^    (token|channel): .*\n", "", text, flags=re.MULTILINE)
    text = re.sub(r"^    # (webhook_url: )", r"    \1", text, flags=re.MULTILINE)
    webhook = "https://hooks.slack.com/services/T0ACME0001/B0HOOK0001/XXXX"

    settings = _entry(text, {"SLACK_WEBHOOK_URL": webhook})

    assert settings.token is None
    assert settings.webhook_url is not None and settings.webhook_url.get_secret_value() == webhook
