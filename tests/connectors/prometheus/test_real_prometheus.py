"""The connector against Debian's real Prometheus, scraping servicegraph metrics served by the test.

The exporter (tests/servicegraph.py) shows what the collector's Prometheus exporter would for a
few edges; once it has served scrape GROWING + 2, every growing sample is stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import anyio.abc
import pytest
from opscontext_connectors.http import UpstreamError
from opscontext_connectors.prometheus import PrometheusConnector, PrometheusSettings

from opscontext_mcp.protocols import ConnectorContext, MetricQuery, Problem
from tests.connectors.support import Waits
from tests.realservers import prometheus
from tests.servicegraph import Edge, Exporter, serving

pytestmark = pytest.mark.anyio

GROWING = 4
SCRAPE_INTERVAL = "250ms"
BOUNDS = (0.05, 0.1, 0.25, 0.5)
SCRAPE_TIMEOUT_SECONDS = 20


EDGES = (
    Edge("frontend", "checkout", "", requests=10, failed=1, durations={0.1: 5, 0.25: 4, 0.5: 1}),
    Edge("checkout", "payment", "", requests=20, failed=5, durations={0.25: 10, 0.5: 10}),
    Edge("checkout", "orders-db", "database", requests=30, failed=0, durations={0.05: 30}),
    Edge("user", "frontend", "virtual_node", requests=12, failed=0, durations={0.1: 12}),
    Edge("checkout", "unknown", "virtual_node", requests=4, failed=0, durations={0.05: 4}),
)


@dataclass(frozen=True)
class Scraped:
    url: str
    target: str
    """The exporter's host:port, which Prometheus labels its series with as `instance`."""
    since: datetime
    until: datetime


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def scraped(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scraped]:
    """One Prometheus for the module, holding every growing sample of the exporter."""
    exporter = Exporter(EDGES, wanted=GROWING + 2, growing=GROWING)
    since = datetime.now(UTC) - timedelta(seconds=2)
    async with serving(exporter) as port:
        config = (
            f"global: {{scrape_interval: {SCRAPE_INTERVAL}, scrape_timeout: {SCRAPE_INTERVAL}}}\n"
            "scrape_configs:\n"
            f"  - {{job_name: otelcol, static_configs: [{{targets: ['127.0.0.1:{port}']}}]}}\n"
        )
        async with prometheus(Path(tmp_path_factory.mktemp("prometheus")), config) as server:
            with anyio.fail_after(SCRAPE_TIMEOUT_SECONDS):
                await exporter.served.wait()
            yield Scraped(url=server.url, target=f"127.0.0.1:{port}", since=since, until=datetime.now(UTC))


def connector(url: str) -> tuple[PrometheusConnector, Waits]:
    waits = Waits()
    settings = PrometheusSettings(name="prometheus", type="prometheus", base_url=url)
    return PrometheusConnector(settings, ConnectorContext(base_dir=Path("."), sleep=waits)), waits


async def test_servicegraph_edges_read_from_prometheus_carry_the_exporters_counts_and_latency(scraped: Scraped) -> None:
    prom, waits = connector(scraped.url)

    batch = await prom.fetch_topology(scraped.since, scraped.until)
    await prom.aclose()

    edges = {(d.caller, d.callee): d for d in batch.records}
    assert set(edges) == {("frontend", "checkout"), ("checkout", "payment"), ("checkout", "orders-db")}
    assert {pair: d.relation for pair, d in edges.items()} == {
        ("frontend", "checkout"): "calls",
        ("checkout", "payment"): "calls",
        ("checkout", "orders-db"): "database",
    }
    expected = {
        ("frontend", "checkout"): (100, 375, 475),
        ("checkout", "payment"): (250, 475, 495),
        ("checkout", "orders-db"): (25, 47.5, 49.5),
    }
    for edge in EDGES[:3]:
        stats = edges[edge.client, edge.server].stats
        assert stats is not None
        # increase() starts at the zero sample and extrapolates at most 1.1 scrape intervals past the last one;
        # the samples it reads span at least GROWING intervals.
        stored = edge.requests * GROWING
        assert stored <= stats.requests <= stored * (1 + 1.1 / GROWING)
        assert abs(stats.errors - stats.requests * edge.failed / edge.requests) <= 1
        assert (stats.p50_ms, stats.p95_ms, stats.p99_ms) == pytest.approx(expected[edge.client, edge.server])
        assert (stats.window_start, stats.window_end) == (scraped.since, scraped.until)
    provenance = edges["checkout", "payment"].provenance
    assert provenance.source == "prometheus"
    assert provenance.ref is not None and provenance.ref.startswith(f"{scraped.url}/graph?g0.expr=sum%28increase")
    assert batch.problems == (
        Problem(
            location='traces_service_graph_request_total/{client="checkout",connection_type="virtual_node",server="unknown"}',
            reason="checkout calls a peer its spans do not name; add peer.service or server.address to them",
            severity="warning",
        ),
    )
    assert waits.seconds == []


async def test_instant_and_range_queries_return_the_scraped_series_with_their_labels(scraped: Scraped) -> None:
    prom, _ = connector(scraped.url)

    instant = await prom.query_metrics(
        MetricQuery(expr='traces_service_graph_request_total{client="checkout"}', at=scraped.until)
    )
    ranged = await prom.query_metrics(
        MetricQuery(
            expr='traces_service_graph_request_total{client="frontend"}',
            at=scraped.until,
            range=scraped.until - scraped.since,
            step=timedelta(milliseconds=250),
        )
    )
    await prom.aclose()

    by_server = {s.labels["server"]: s for s in instant.records}
    assert set(by_server) == {"payment", "orders-db", "unknown"}
    assert by_server["payment"].labels == {
        "__name__": "traces_service_graph_request_total",
        "client": "checkout",
        "server": "payment",
        "instance": scraped.target,
        "job": "otelcol",
    }
    assert [value for _, value in by_server["orders-db"].points] == [30.0 * GROWING]
    (series,) = ranged.records
    assert (series.labels["client"], series.labels["server"]) == ("frontend", "checkout")
    values = [value for _, value in series.points]
    assert set(values) <= {10.0 * n for n in range(GROWING + 1)}
    assert values == sorted(values) and values[-1] == 10.0 * GROWING and len(values) > GROWING
    times = [moment for moment, _ in series.points]
    assert scraped.since < times[0] and times[-1] <= scraped.until
    assert (instant.problems, ranged.problems) == ((), ())


async def test_a_bad_expression_is_refused_with_prometheus_own_words(scraped: Scraped) -> None:
    prom, waits = connector(scraped.url)

    with pytest.raises(UpstreamError) as caught:
        await prom.query_metrics(MetricQuery(expr="sum(rate(traces_service_graph_request_total[5m])", at=scraped.until))
    await prom.aclose()

    message = str(caught.value)
    assert message.startswith(f'POST {scraped.url}/api/v1/query: 400 Bad Request: invalid parameter "query"')
    assert "parse error" in message
    assert caught.value.status == 400 and waits.seconds == []


async def test_check_names_the_prometheus_version_that_answers(scraped: Scraped) -> None:
    prom, _ = connector(scraped.url)

    health = await prom.check()
    await prom.aclose()

    assert health.ok and health.detail.startswith(f"{scraped.url}: Prometheus 2.")
