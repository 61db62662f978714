"""Issue 4's acceptance through a real MCP client: real Alertmanager and Prometheus, GitHub over respx.

The catalog comes from the demo folder; alerts from a real Alertmanager the test posts to;
observed dependencies from a real Prometheus scraping servicegraph metrics the test serves, named
as OpenTelemetry names services (`checkoutservice`); deployments from GitHub, mocked with respx
while requests to the loopback servers pass through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import respx
from mcp import Client

from opscontext_mcp.config import parse_config
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.server import build_runtime, build_server
from tests.conftest import EXAMPLES, call
from tests.connectors.dynatrace.routes import route_topology as route_dynatrace_topology
from tests.connectors.support import fixture
from tests.realservers import Server, alertmanager, prometheus, stop
from tests.servicegraph import Edge, Exporter, serving

pytestmark = pytest.mark.anyio

GROWING = 4
EDGES = (
    Edge("frontend", "checkoutservice", "", requests=10, failed=0, durations={0.1: 10}),
    Edge("checkoutservice", "paymentservice", "", requests=20, failed=4, durations={0.25: 10, 0.5: 10}),
)
ALERTMANAGER_CONFIG = "route: {receiver: default}\nreceivers: [{name: default}]\n"
GITHUB = "https://api.github.com"
DYNATRACE = "https://abc12345.live.dynatrace.com"
JAEGER = "http://jaeger-query:16686"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """One Prometheus for the module, holding every growing sample of the exporter."""
    exporter = Exporter(EDGES, wanted=GROWING + 2, growing=GROWING)
    async with serving(exporter) as port:
        config = (
            "global: {scrape_interval: 250ms, scrape_timeout: 250ms}\n"
            f"scrape_configs: [{{job_name: otelcol, static_configs: [{{targets: ['127.0.0.1:{port}']}}]}}]\n"
        )
        async with prometheus(tmp_path_factory.mktemp("prometheus"), config) as server:
            with anyio.fail_after(20):
                await exporter.served.wait()
            yield server.url


@dataclass
class Estate:
    runtime: Runtime
    alertmanager: Server
    started: datetime


async def post_alerts(url: str, now: datetime) -> None:
    def alert(name: str, service: str, severity: str, minutes_ago: int) -> dict[str, Any]:
        return {
            "labels": {"alertname": name, "service": service, "severity": severity},
            "annotations": {"summary": f"{name} on {service}"},
            "startsAt": (now - timedelta(minutes=minutes_ago)).isoformat(),
            "generatorURL": f"http://prometheus.example/graph?alert={name}",
        }

    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.post(
            "/api/v2/alerts",
            json=[
                alert("PaymentErrorRateHigh", "paymentservice", "critical", 12),
                alert("CheckoutLatencyHigh", "checkout", "warning", 9),
                alert("ShippingQuoteLatencyHigh", "shipping", "warning", 40),
            ],
        )
        answer.raise_for_status()
        silence = await http.post(
            "/api/v2/silences",
            json={
                "matchers": [{"name": "alertname", "value": "ShippingQuoteLatencyHigh", "isRegex": False}],
                "startsAt": now.isoformat(),
                "endsAt": (now + timedelta(hours=1)).isoformat(),
                "createdBy": "test",
                "comment": "known: carrier API maintenance",
            },
        )
        silence.raise_for_status()


def github(router: respx.MockRouter, now: datetime) -> None:
    deployment = {
        "id": 7001,
        "sha": "9f1c2a4b7d3e5f60718293a4b5c6d7e8f9012345",
        "ref": "v2.14.0",
        "environment": "production",
        "description": "Deploy payment v2.14.0",
        "creator": {"login": "release-bot"},
        "created_at": (now - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_at": (now - timedelta(minutes=19)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "statuses_url": f"{GITHUB}/repos/acme/payment/deployments/7001/statuses",
        "url": f"{GITHUB}/repos/acme/payment/deployments/7001",
    }
    status = {
        "id": 1,
        "state": "success",
        "created_at": deployment["updated_at"],
        "log_url": "https://github.com/acme/payment/actions/runs/1",
    }
    router.get(f"{GITHUB}/repos/acme/payment/deployments").mock(return_value=httpx.Response(200, json=[deployment]))
    router.get(f"{GITHUB}/repos/acme/payment/deployments/7001/statuses").mock(
        return_value=httpx.Response(200, json=[status])
    )


@pytest.fixture
async def estate(prometheus_url: str, tmp_path: Path) -> AsyncIterator[Estate]:
    now = datetime.now(UTC)
    async with alertmanager(tmp_path, ALERTMANAGER_CONFIG) as server:
        await post_alerts(server.url, now)
        config = parse_config(
            {
                "connectors": [
                    {"name": "acme-shop", "type": "files", "path": "acme-shop", "only": ["catalog", "oncall"]},
                    {"name": "alertmanager", "type": "alertmanager", "base_url": server.url},
                    {"name": "prometheus", "type": "prometheus", "base_url": prometheus_url},
                    {"name": "github", "type": "github", "token": "${GITHUB_TOKEN}", "repositories": ["acme/payment"]},
                ],
                "cache": {"telemetry_window_minutes": 10},
            },
            base_dir=EXAMPLES,
            environ={"GITHUB_TOKEN": "gh-test-token"},
            check_connectors=True,
        )
        with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
            router.route(host="127.0.0.1").pass_through()
            github(router, now)
            yield Estate(runtime=build_runtime(config), alertmanager=server, started=now)


async def test_alerts_observed_dependencies_and_changes_answer_from_the_real_sources_with_provenance(
    estate: Estate,
) -> None:
    async with Client(build_server(runtime=estate.runtime)) as client:
        alerts = await call(client, "active_alerts", service="checkout")
        everywhere = await call(client, "active_alerts")
        neighbours = await call(client, "dependency_neighbours", service="checkout", direction="dependencies")
        changes = await call(client, "what_changed", service="checkout", since="1h")

    assert [(a["name"], a["service"], a["hop"], a["state"]) for a in alerts["alerts"]] == [
        ("CheckoutLatencyHigh", "checkout", 0, "active"),
        ("PaymentErrorRateHigh", "payment", 1, "active"),  # `paymentservice` on the alert is the catalog's payment
        ("ShippingQuoteLatencyHigh", "shipping", 1, "suppressed"),  # silenced: shown after the firing ones
    ]
    assert {a["provenance"]["source"] for a in everywhere["alerts"]} == {"alertmanager"}
    muted = next(a for a in everywhere["alerts"] if a["name"] == "ShippingQuoteLatencyHigh")
    assert muted["state"] == "suppressed" and len(muted["silenced_by"]) == 1
    assert (everywhere["firing"], everywhere["suppressed"]) == (2, 1)

    payment = next(n for n in neighbours["dependencies"] if n["id"] == "payment")
    edge = payment["edge"]
    assert edge["declared_in"] and edge["declared_in"][0].startswith("acme-shop:")
    assert edge["observed_by"] == ["prometheus"]
    traffic = edge["traffic"]
    stored = 20 * GROWING
    assert stored <= traffic["requests"] <= stored * (1 + 1.1 / GROWING)
    assert traffic["error_ratio"] == pytest.approx(0.2, abs=0.02)
    assert traffic["p50_ms"] == pytest.approx(250) and traffic["per_second"] > 0
    observed_only = {n["id"] for n in neighbours["dependencies"] if n["edge"]["observed"]}
    assert observed_only == {"payment"}

    [deploy] = [c for c in changes["changes"] if c["provenance"]["source"] == "github"]
    assert (deploy["service"], deploy["hop"], deploy["version"], deploy["author"]) == (
        "payment",
        1,
        "v2.14.0",
        "release-bot",
    )
    assert deploy["id"] == "acme/payment#7001" and "succeeded" in deploy["summary"]
    consulted = {(s["source"], s["status"]) for s in changes["freshness"]["sources"]}
    assert ("github", "ok") in consulted


async def test_with_alertmanager_stopped_alerts_are_served_stale_since_the_last_read_and_the_rest_stays_fresh(
    estate: Estate,
) -> None:
    async with Client(build_server(runtime=estate.runtime)) as client:
        before = await call(client, "active_alerts")
        await stop(estate.alertmanager)
        await estate.runtime.cache.refresh()
        after = await call(client, "active_alerts")
        neighbours = await call(client, "dependency_neighbours", service="checkout", direction="dependencies")

    assert [a["name"] for a in after["alerts"]] == [a["name"] for a in before["alerts"]]
    [state] = [s for s in after["freshness"]["sources"] if s["source"] == "alertmanager"]
    last_good = datetime.fromisoformat(state["fetched_at"])
    assert state["status"] == "stale" and "cannot connect" in state["error"]
    assert estate.started - timedelta(seconds=1) <= last_good <= datetime.now(UTC)
    assert any(
        w.startswith("alertmanager (alerts) is failing") and "serving its data from" in w
        for w in after["freshness"]["warnings"]
    )
    prometheus_state = [s["status"] for s in neighbours["freshness"]["sources"] if s["source"] == "prometheus"]
    assert prometheus_state == ["ok"]
    assert any(n["edge"].get("observed_by") == ["prometheus"] for n in neighbours["dependencies"])


REPLAYED = datetime(2026, 11, 27, 10, tzinfo=UTC)
TOPOLOGY_SOURCES = {
    "dynatrace": {"type": "dynatrace", "base_url": DYNATRACE, "token": "dt0c01.test"},
    "jaeger": {"type": "jaeger", "base_url": JAEGER},
    "otlp": {"type": "otlp", "path": "acme-shop/traces"},
}


@pytest.mark.parametrize("source", sorted(TOPOLOGY_SOURCES))
async def test_an_edge_the_catalog_declares_and_telemetry_observes_is_one_edge_with_both_provenances(
    source: str,
) -> None:
    router = respx.Router(assert_all_mocked=True)
    route_dynatrace_topology(router)
    router.get(f"{JAEGER}/api/dependencies").mock(
        return_value=httpx.Response(200, json=fixture("jaeger", "dependencies.json"))
    )
    config = parse_config(
        {
            "now": REPLAYED.isoformat(),
            "connectors": [
                {"name": "acme-shop", "type": "files", "path": "acme-shop", "only": ["catalog"]},
                {"name": source, **TOPOLOGY_SOURCES[source]},
            ],
        },
        base_dir=EXAMPLES,
        environ={},
        check_connectors=True,
    )
    runtime = build_runtime(config, transport=httpx.MockTransport(router.async_handler))
    async with Client(build_server(runtime=runtime)) as client:
        answer = await call(client, "dependency_neighbours", service="checkout", direction="dependencies")

    edge = next(n["edge"] for n in answer["dependencies"] if n["id"] == "payment")
    assert edge["declared"] and edge["observed"]
    assert [ref.split(":")[0] for ref in edge["declared_in"]] == ["acme-shop"]
    assert edge["observed_by"] == [source]
    assert [s["status"] for s in answer["freshness"]["sources"] if s["source"] == source] == ["ok"]


PAYMENT_SLO = """\
apiVersion: openslo/v1
kind: SLO
metadata: {name: payment-calls-ok}
spec:
  service: payment
  budgetingMethod: Occurrences
  timeWindow: [{duration: 30d, isRolling: true}]
  objectives: [{target: 0.999}]
  indicator:
    metadata: {name: payment-calls}
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: prometheus, spec: {query: 'traces_service_graph_request_failed_total{server="paymentservice"}'}}}
        total: {metricSource: {type: prometheus, spec: {query: 'traces_service_graph_request_total{server="paymentservice"}'}}}
"""


async def test_an_slo_on_prometheus_counters_is_measured_by_the_real_prometheus_over_each_tier_window(
    prometheus_url: str, tmp_path: Path
) -> None:
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos" / "payment.yaml").write_text(PAYMENT_SLO, encoding="utf-8")
    config = parse_config(
        {
            "connectors": [
                {"name": "acme-shop", "type": "files", "path": str(EXAMPLES / "acme-shop"), "only": ["catalog"]},
                {"name": "slos", "type": "files", "path": "."},
                {"name": "prometheus", "type": "prometheus", "base_url": prometheus_url},
            ]
        },
        base_dir=tmp_path,
        environ={},
        check_connectors=True,
    )
    async with Client(build_server(config)) as client:
        answer = await call(client, "slo_status", service="payment")

    (slo,) = answer["slos"]
    assert (slo["measured_by"], slo["source_type"], slo["status"], slo["alert"]) == (
        "prometheus",
        "prometheus",
        "burning",
        "page-fast",
    )
    fast = slo["tiers"][0]
    assert (fast["long"]["window"], fast["short"]["window"]) == ("1h", "5m")
    # 4 of every 20 calls into paymentservice fail: 20% errors against a 0.1% budget is burn 200.
    assert fast["long"]["error_ratio"] == pytest.approx(0.2, abs=0.01)
    assert fast["long"]["burn"] == pytest.approx(200, rel=0.05) and fast["firing"] is True
    assert fast["long"]["events"] >= 20 * GROWING
    assert slo["budget"]["remaining"] < 0  # a 30-day budget burnt at 200 is long overspent
