from __future__ import annotations

import base64
from datetime import UTC, datetime

import httpx
import pytest
import respx

from tests.connectors.alertmanager.routes import BASE, alerts, connector, params, route_alerts

pytestmark = pytest.mark.anyio

EVERY_STATE = [("active", "true"), ("silenced", "true"), ("inhibited", "true"), ("unprocessed", "true")]


async def test_alerts_are_asked_for_in_every_state_with_each_filter_and_the_receiver_as_parameters() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = route_alerts(router)
    filters = ['service=~"checkout|payment"', 'env="prod&stage=1"']
    am, waits = connector(router, filters=filters, receiver="team-(payments|checkout)")

    await am.fetch_alerts()

    assert params(route) == [
        *EVERY_STATE,
        ("filter", filters[0]),
        ("filter", filters[1]),
        ("receiver", "team-(payments|checkout)"),
    ]
    assert "env%3D%22prod%26stage%3D1%22" in str(route.calls.last.request.url)
    assert route.calls.last.request.headers["accept"] == "application/json"
    assert "authorization" not in route.calls.last.request.headers
    assert waits.seconds == []


async def test_without_filters_or_a_receiver_only_the_four_states_are_asked_for() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = route_alerts(router)
    am, _ = connector(router)

    await am.fetch_alerts()

    assert params(route) == EVERY_STATE


async def test_alerts_keep_their_labels_annotations_link_and_fingerprint_as_provenance() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_alerts(router)
    am, _ = connector(router)

    before = datetime.now(UTC).replace(microsecond=0)
    batch = await am.fetch_alerts()

    assert batch.problems == ()
    latency = next(a for a in batch.records if a.name == "PaymentLatencyHigh")
    assert (latency.service, latency.severity, latency.state) == ("paymentservice", "critical", "active")
    assert latency.summary == "paymentservice p99 latency is 5.06s (threshold 1s)"
    assert latency.annotations["runbook_url"] == "https://runbooks.acme-shop.example/payments/payment-latency-errors"
    assert latency.labels["team"] == "team-payments"
    assert latency.starts_at == datetime(2026, 11, 27, 9, 41, 30, 112000, tzinfo=UTC)
    assert latency.ends_at == datetime(2026, 11, 27, 10, 3, 30, 112000, tzinfo=UTC)
    assert latency.link is not None and latency.link.startswith("http://prometheus.monitoring.svc:9090/graph?g0.expr=")
    assert latency.fingerprint == "cc882e493326fd78"
    assert latency.provenance.source == "am" and latency.provenance.ref == "cc882e493326fd78"
    assert latency.provenance.fetched_at >= before  # the real fetch time, though the analysis clock is pinned
    assert (latency.silenced_by, latency.inhibited_by) == ((), ())


async def test_silenced_and_inhibited_alerts_stay_visible_with_state_and_what_suppresses_them() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_alerts(router)
    am, _ = connector(router)

    alerts_by_name = {a.name: a for a in (await am.fetch_alerts()).records}

    inhibited = alerts_by_name["CheckoutLatencyHigh"]
    assert inhibited.state == "suppressed" and inhibited.inhibited_by == ("cc882e493326fd78",)
    assert inhibited.silenced_by == () and inhibited.summary == "checkoutservice p99 latency is 2.4s (threshold 2s)"
    silenced = alerts_by_name["PodCrashLooping"]
    assert silenced.state == "suppressed" and silenced.silenced_by == ("0f6a3c1e-77b2-4d0a-9c1e-5b8f2d7a6e10",)
    assert silenced.link is None
    assert alerts_by_name["Watchdog"].state == "unprocessed"


async def test_the_service_comes_from_the_first_service_label_present_in_the_configured_order() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_alerts(router)

    default, _ = connector(router)
    by_default = {a.name: a.service for a in (await default.fetch_alerts()).records}
    configured, _ = connector(router, service_labels=["container", "team"])
    by_config = {a.name: a.service for a in (await configured.fetch_alerts()).records}

    assert by_default == {
        "PaymentLatencyHigh": "paymentservice",
        "CheckoutLatencyHigh": "checkoutservice",
        "PodCrashLooping": "cartservice",
        "Watchdog": None,
    }
    assert by_config == {
        "PaymentLatencyHigh": "team-payments",
        "CheckoutLatencyHigh": None,
        "PodCrashLooping": "server",
        "Watchdog": None,
    }


async def test_a_configured_token_is_sent_as_a_bearer_token() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = route_alerts(router)
    am, _ = connector(router, token="am-s3cret")

    await am.fetch_alerts()

    assert route.calls.last.request.headers["authorization"] == "Bearer am-s3cret"


async def test_a_configured_username_and_password_are_sent_as_basic_auth() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = route_alerts(router)
    am, _ = connector(router, username="oncall", password="pa:ss")

    await am.fetch_alerts()

    expected = base64.b64encode(b"oncall:pa:ss").decode()
    assert route.calls.last.request.headers["authorization"] == f"Basic {expected}"


async def test_a_malformed_alert_is_skipped_with_a_problem_naming_it_while_the_rest_load() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    broken = [
        {"fingerprint": "0badc0de00000001", "labels": {"severity": "page"}, "startsAt": "2026-11-27T09:00:00Z"},
        {"labels": {"alertname": "NoStart"}, "status": {"state": "active"}},
        {"fingerprint": "0badc0de00000003", "labels": {"alertname": "Naive"}, "startsAt": "2026-11-27T09:00:00"},
        "not an alert",
    ]
    route_alerts(router, [*alerts(), *broken])
    am, _ = connector(router)

    batch = await am.fetch_alerts()

    assert sorted(a.name for a in batch.records) == [
        "CheckoutLatencyHigh",
        "PaymentLatencyHigh",
        "PodCrashLooping",
        "Watchdog",
    ]
    assert {p.location: p.reason for p in batch.problems} == {
        "alerts/0badc0de00000001": "alert has no alertname label",
        "alerts/NoStart": "startsAt is missing",
        "alerts/0badc0de00000003": "startsAt: '2026-11-27T09:00:00' has no timezone",
        "alerts[7]": "expected an object, got 'not an alert'",
    }
    assert all(p.severity == "error" for p in batch.problems)


async def test_an_empty_array_is_no_alerts_and_no_problems() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/v2/alerts").mock(return_value=httpx.Response(200, json=[]))
    am, _ = connector(router)

    batch = await am.fetch_alerts()

    assert (batch.records, batch.problems) == ((), ())
