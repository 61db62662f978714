from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from opscontext_connectors.alertmanager.mapping import alert_from_alertmanager, describe_status

AT = datetime(2026, 11, 27, 10, tzinfo=UTC)


def webhook_alert(**fields: Any) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": "HighErrorRate", "service": "checkout", "severity": "page"},
        "annotations": {"summary": "5xx > 5%"},
        "startsAt": "2026-11-27T09:04:05.123456789Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=x",
        "fingerprint": "1a2b3c4d5e6f7a8b",
        **fields,
    }


def test_a_firing_webhook_alert_with_go_zero_time_has_no_end() -> None:
    alert = alert_from_alertmanager(webhook_alert(), "am", AT, "1a2b3c4d5e6f7a8b")

    assert alert.state == "active" and alert.ends_at is None
    assert alert.starts_at == datetime(2026, 11, 27, 9, 4, 5, 123456, tzinfo=UTC)
    assert (alert.service, alert.severity, alert.summary) == ("checkout", "page", "5xx > 5%")


def test_a_resolved_webhook_alert_keeps_when_it_ended() -> None:
    alert = alert_from_alertmanager(webhook_alert(status="resolved", endsAt="2026-11-27T09:30:00Z"), "am", AT, None)

    assert alert.state == "resolved" and alert.ends_at == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def test_a_firing_alerts_future_end_is_kept_without_making_it_resolved() -> None:
    item = webhook_alert(status={"state": "active"}, endsAt="2026-11-27T10:04:00.000Z")

    alert = alert_from_alertmanager(item, "am", AT, None)

    assert alert.state == "active" and alert.ends_at == datetime(2026, 11, 27, 10, 4, tzinfo=UTC)


@pytest.mark.parametrize("ends_at", [None, ""], ids=["absent", "empty"])
def test_an_absent_or_empty_end_is_no_end(ends_at: str | None) -> None:
    assert alert_from_alertmanager(webhook_alert(endsAt=ends_at), "am", AT, None).ends_at is None


def test_an_unknown_state_is_suppressed_when_something_mutes_it_and_muted_by_is_tolerated() -> None:
    item = webhook_alert(status={"state": "muted", "silencedBy": None, "inhibitedBy": ["fp1", 7], "mutedBy": ["ti"]})

    alert = alert_from_alertmanager(item, "am", AT, None)

    assert alert.state == "suppressed"
    assert (alert.silenced_by, alert.inhibited_by) == ((), ("fp1", "7"))


def test_an_unknown_state_with_nothing_muting_it_fires_rather_than_hides() -> None:
    alert = alert_from_alertmanager(webhook_alert(status={"state": "pending-review"}), "am", AT, None)

    assert alert.state == "active"


def test_an_alert_with_an_end_that_is_not_a_time_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="^endsAt: 'soon' is not an ISO-8601 time$"):
        alert_from_alertmanager(webhook_alert(endsAt="soon"), "am", AT, None)


def test_the_status_summary_is_none_for_a_body_that_is_not_an_alertmanager_status() -> None:
    assert describe_status({"cluster": {"status": "settling", "peers": [{"name": "a"}]}}) == (
        "Alertmanager (version not given), cluster settling with 1 peer"
    )
    assert describe_status(["not", "a", "status"]) is None
