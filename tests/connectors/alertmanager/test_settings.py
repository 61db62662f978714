from __future__ import annotations

import pytest
from opscontext_connectors.alertmanager import AlertmanagerSettings
from opscontext_connectors.alertmanager.mapping import SERVICE_LABELS
from pydantic import ValidationError

BASE = "http://alertmanager:9093"


def settings(**fields: object) -> AlertmanagerSettings:
    return AlertmanagerSettings(name="am", type="alertmanager", base_url=BASE, **fields)


@pytest.mark.parametrize(
    "matcher",
    [
        'service="checkout"',
        'service=~"checkout|payment"',
        "env!=staging",
        'team !~ "ops-.*"',
        'summary="say \\"hi\\""',
        "empty=",
        r'letters=~"\pL+"',
    ],
)
def test_matchers_alertmanager_accepts_are_kept_as_written(matcher: str) -> None:
    assert settings(filters=[matcher]).filters == [matcher]


@pytest.mark.parametrize(
    ("matcher", "reason"),
    [
        ('service~="checkout"', "is not a matcher"),
        ("service: checkout", "is not a matcher"),
        ('{service="checkout"}', "is not a matcher"),
        ('1service="checkout"', "is not a matcher"),
        ('service="checkout', "opens a double quote it does not close"),
        ('service="check"out"', "unescaped double quote"),
        ('service=~"(checkout|payment"', "is not a valid regular expression: missing \\)"),
    ],
)
def test_a_matcher_with_a_typo_is_a_config_error_naming_the_key(matcher: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason) as caught:
        settings(filters=['env="prod"', matcher])

    [error] = caught.value.errors()
    assert error["loc"] == ("filters", 1)


def test_a_receiver_that_is_not_a_regex_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ValidationError, match="not a valid regular expression") as caught:
        settings(receiver="team-(payments")

    assert [error["loc"] for error in caught.value.errors()] == [("receiver",)]
    assert settings(receiver="team-(payments|checkout)").receiver == "team-(payments|checkout)"


def test_a_token_and_a_username_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="authenticate one way"):
        settings(token="t", username="u", password="p")


def test_service_labels_default_to_the_shared_order_and_must_name_a_label() -> None:
    assert settings().service_labels == list(SERVICE_LABELS)
    assert (settings().filters, settings().receiver) == ([], None)
    with pytest.raises(ValidationError, match="service_labels"):
        settings(service_labels=[])
    with pytest.raises(ValidationError, match="must not be empty"):
        settings(service_labels=["service", " "])
