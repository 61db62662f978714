"""The connector against Debian's real `prometheus-alertmanager`: alerts, a silence and an inhibition set up through its API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from opscontext_connectors.alertmanager import AlertmanagerConnector, AlertmanagerSettings
from opscontext_connectors.http import UpstreamError

from opscontext_mcp.model import Alert
from opscontext_mcp.protocols import Batch, ConnectorContext
from tests.connectors.support import Waits
from tests.realservers import Server, alertmanager, stop

pytestmark = pytest.mark.anyio

CONFIG = """
route:
  receiver: default
  group_by: [alertname, service]
  routes:
    - receiver: team-payments
      matchers: ['service="payment"']
receivers:
  - name: default
  - name: team-payments
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [service]
"""
SETTLE_SECONDS = 5


@dataclass
class Seeded:
    server: Server
    started: datetime
    silence_id: str


def alert(name: str, started: datetime, ended: datetime | None = None, **labels: str) -> dict[str, Any]:
    posted: dict[str, Any] = {
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} summary"},
        "startsAt": started.isoformat(),
        "generatorURL": f"http://prometheus:9090/graph?g0.expr={name}",
    }
    if ended is not None:
        posted["endsAt"] = ended.isoformat()
    return posted


async def seed(server: Server) -> Seeded:
    """Post the alerts and silence the cart one, as Prometheus and a responder would."""
    now = datetime.now(UTC)
    started = (now - timedelta(minutes=10)).replace(microsecond=now.microsecond // 1000 * 1000)
    alerts = [
        {
            **alert("CheckoutErrors", started, service="checkout", severity="critical"),
            "annotations": {"summary": "5xx > 5%", "runbook_url": "https://runbooks.example/checkout"},
        },
        alert("CheckoutLatency", started, service="checkout", severity="warning"),
        alert("CartRestarts", started, service="cart", severity="warning"),
        alert("PaymentDown", started, service="payment", severity="critical"),
        alert("ShippingSlow", started, job="shipping", severity="info"),
        alert("CheckoutDeployFailed", now - timedelta(hours=2), now - timedelta(hours=1), service="checkout"),
    ]
    silence = {
        "matchers": [{"name": "alertname", "value": "CartRestarts", "isRegex": False, "isEqual": True}],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
        "createdBy": "responder",
        "comment": "cart is being redeployed",
    }
    async with httpx.AsyncClient(base_url=server.url) as client:
        (await client.post("/api/v2/alerts", json=alerts)).raise_for_status()
        answer = await client.post("/api/v2/silences", json=silence)
        answer.raise_for_status()
    return Seeded(server=server, started=started, silence_id=answer.json()["silenceID"])


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[Seeded]:
    async with alertmanager(tmp_path, CONFIG) as server:
        yield await seed(server)


def connector(server: Server, **settings: Any) -> tuple[AlertmanagerConnector, Waits]:
    waits = Waits()
    config = AlertmanagerSettings(name="am", type="alertmanager", base_url=server.url, **settings)
    return AlertmanagerConnector(config, ConnectorContext(base_dir=Path("."), sleep=waits)), waits


async def read_until(am: AlertmanagerConnector, settled: Callable[[dict[str, Alert]], bool]) -> Batch[Alert]:
    """Read again until `settled` holds: the inhibitor learns of new alerts in the background."""
    with anyio.fail_after(SETTLE_SECONDS):
        while True:
            batch = await am.fetch_alerts()
            if settled({found.name: found for found in batch.records}):
                return batch


async def test_firing_alerts_come_with_their_labels_annotations_service_severity_and_link(seeded: Seeded) -> None:
    am, waits = connector(seeded.server)

    batch = await am.fetch_alerts()
    await am.aclose()

    by_name = {found.name: found for found in batch.records}
    errors = by_name["CheckoutErrors"]
    assert (errors.state, errors.service, errors.severity) == ("active", "checkout", "critical")
    assert errors.labels == {"alertname": "CheckoutErrors", "service": "checkout", "severity": "critical"}
    assert errors.annotations == {"summary": "5xx > 5%", "runbook_url": "https://runbooks.example/checkout"}
    assert errors.summary == "5xx > 5%" and errors.link == "http://prometheus:9090/graph?g0.expr=CheckoutErrors"
    assert errors.starts_at == seeded.started
    assert errors.ends_at is not None and errors.ends_at > datetime.now(UTC)  # auto-extended, not a resolution
    assert errors.fingerprint and errors.provenance.ref == errors.fingerprint
    shipping = by_name["ShippingSlow"]
    assert (shipping.state, shipping.service, shipping.severity) == ("active", "shipping", "info")
    assert batch.problems == () and waits.seconds == []


async def test_the_silenced_alert_is_suppressed_by_the_silence_that_covers_it(seeded: Seeded) -> None:
    am, _ = connector(seeded.server)

    by_name = {found.name: found for found in (await am.fetch_alerts()).records}
    await am.aclose()

    cart = by_name["CartRestarts"]
    assert (cart.state, cart.silenced_by, cart.inhibited_by) == ("suppressed", (seeded.silence_id,), ())
    assert by_name["PaymentDown"].state == "active" and by_name["PaymentDown"].silenced_by == ()


async def test_the_inhibited_alert_is_suppressed_by_the_fingerprint_of_the_alert_inhibiting_it(seeded: Seeded) -> None:
    am, _ = connector(seeded.server)

    batch = await read_until(am, lambda by_name: bool(by_name["CheckoutLatency"].inhibited_by))
    await am.aclose()

    by_name = {found.name: found for found in batch.records}
    latency, errors = by_name["CheckoutLatency"], by_name["CheckoutErrors"]
    assert latency.state == "suppressed" and latency.silenced_by == ()
    assert latency.inhibited_by == (errors.fingerprint,)
    assert errors.state == "active" and errors.inhibited_by == ()
    assert by_name["CartRestarts"].inhibited_by == ()  # a warning, but no critical alert for cart


async def test_an_alert_posted_as_already_ended_is_not_served(seeded: Seeded) -> None:
    am, _ = connector(seeded.server)

    batch = await am.fetch_alerts()
    await am.aclose()

    assert sorted(found.name for found in batch.records) == [
        "CartRestarts",
        "CheckoutErrors",
        "CheckoutLatency",
        "PaymentDown",
        "ShippingSlow",
    ]


async def test_filters_and_the_receiver_narrow_what_alertmanager_serves(seeded: Seeded) -> None:
    by_filter, _ = connector(seeded.server, filters=['service=~"checkout|cart"', 'severity!="critical"'])
    by_receiver, _ = connector(seeded.server, receiver="team-.*")

    filtered = await by_filter.fetch_alerts()
    routed = await by_receiver.fetch_alerts()
    await by_filter.aclose()
    await by_receiver.aclose()

    assert sorted(found.name for found in filtered.records) == ["CartRestarts", "CheckoutLatency"]
    assert [found.name for found in routed.records] == ["PaymentDown"]


async def test_check_says_the_version_and_that_clustering_is_off(seeded: Seeded) -> None:
    am, _ = connector(seeded.server)

    health = await am.check()
    await am.aclose()

    assert health.ok
    assert health.detail.startswith(f"{seeded.server.url}: Alertmanager 0.")
    assert health.detail.endswith(", cluster disabled")


async def test_an_alertmanager_stopped_mid_test_fails_the_fetch_naming_the_connection_failure(seeded: Seeded) -> None:
    am, waits = connector(seeded.server, retries=1)
    assert len((await am.fetch_alerts()).records) == 5

    await stop(seeded.server)

    with pytest.raises(UpstreamError) as caught:
        await am.fetch_alerts()
    await am.aclose()
    assert str(caught.value) == f"GET {seeded.server.url}/api/v2/alerts: cannot connect (ConnectError)"
    assert caught.value.status is None and waits.seconds == [0.5]
