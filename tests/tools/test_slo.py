from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from mcp import Client

from opscontext_mcp.config import parse_config
from opscontext_mcp.protocols import Batch, Capability, Health
from opscontext_mcp.registry import build_connectors
from opscontext_mcp.server import build_runtime, build_server
from opscontext_mcp.traces import Span
from tests.conftest import EXAMPLES, call, call_error
from tests.connectors.support import fixture

pytestmark = pytest.mark.anyio


async def test_the_checkout_slo_burns_on_the_fast_page_tier_from_the_demo_traces(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "slo_status")
    assert answer["burning"] == 1 and answer["total"] == 5
    checkout = answer["slos"][0]
    assert (checkout["name"], checkout["status"], checkout["alert"]) == (
        "checkout-availability-latency",
        "burning",
        "page-fast",
    )
    assert checkout["service"] == "frontend" and checkout["journeys"] == ["checkout"]
    fast, slow, ticket = checkout["tiers"]
    # 24 of the 94 checkouts of the last 56 min were bad: 0.2553 / 0.005 = burn 51.06; 4 of 9 in the last 4 min 40 s.
    assert (fast["long"]["window"], fast["long"]["events"], fast["long"]["bad"], fast["long"]["burn"]) == (
        "56m",
        94,
        24,
        51.06,
    )
    assert (fast["short"]["window"], fast["short"]["events"], fast["short"]["bad"], fast["short"]["burn"]) == (
        "4m 40s",
        9,
        4,
        88.89,
    )
    assert fast["threshold"] == 14.4 and fast["firing"] is True
    # The traces hold an hour: the 5 h 36 min and 2.8 day windows cannot page however fast they burn.
    assert slow["firing"] is False and slow["note"] == "the data covers 18% of the 5h 36m window"
    assert ticket["firing"] is False and slow["long"]["burn"] > slow["threshold"]
    budget = checkout["budget"]
    assert budget["covered"] == "59m 58s" and "remaining" not in budget
    assert budget["spent"] == pytest.approx(0.0721, abs=1e-4)  # burn 48.48 for 1 h of a 672 h period
    assert "what is left before it unknown" in checkout["note"]
    assert checkout["provenance"]["ref"] == "slos/frontend.yaml#checkout-availability-latency"


async def test_an_slo_whose_source_is_not_configured_is_unavailable_with_the_reason(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "slo_status", service="payment")
    (payment,) = answer["slos"]
    assert payment["status"] == "unavailable" and payment["source_type"] == "prometheus"
    assert payment["note"] == "no configured prometheus source provides metrics"


async def test_slos_are_found_by_journey_and_an_unknown_journey_lists_the_known_ones(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        browse = await call(client, "slo_status", journey="browse")
        message = await call_error(client, "slo_status", journey="chekout")
    assert [s["name"] for s in browse["slos"]] == ["browse-product-latency"] and browse["burning"] == 0
    assert message.endswith("Unknown journey 'chekout'. Journeys: checkout, browse, add-to-cart, login.")


async def test_the_impact_sentence_names_the_share_of_users_and_the_contributor_from_the_traces(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "impact_summary", journey="checkout")
        recent = await call(client, "impact_summary", journey="checkout", window_minutes=15)
    (checkout,) = answer["journeys"]
    assert (
        checkout["sentence"]
        == "checkout latency is degrading for 44% of users — payment service is primary contributor"
    )
    assert (checkout["requests"], checkout["bad_requests"], checkout["failed"], checkout["slow"]) == (53, 24, 3, 21)
    assert (checkout["counted_by"], checkout["users"], checkout["affected_users"]) == ("enduser.id", 50, 22)
    primary = checkout["primary_contributor"]
    assert primary["service"] == "payment" and primary["share"] > 0.95 and primary["waiting_on"] == ["payment-gateway"]
    assert primary["failed_origin"] == 3
    assert checkout["alert_group"] == {"group": 1, "primary_contributor": "payment", "agrees": True}
    assert checkout["slo_alert"] == "page-fast"
    assert recent["journeys"][0]["sentence"].startswith("checkout latency is degrading for 62% of users")


async def test_every_journey_is_summarised_worst_first_and_healthy_ones_say_so(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "impact_summary")
    names = [j["journey"] for j in answer["journeys"]]
    assert names[0] == "checkout" and sorted(names) == ["add-to-cart", "browse", "checkout", "login"]
    login = next(j for j in answer["journeys"] if j["journey"] == "login")
    assert login["sentence"] == "login is healthy: none of 24 requests in the last 30 min failed or was slow"
    assert "primary_contributor" not in login


def without_traces(tmp_path: Path) -> Any:
    """The demo's catalog, alerts and SLOs, its traces folder swapped for one whose exports are all unreadable."""
    traces = tmp_path / "traces"
    traces.mkdir()
    (traces / "broken.json").write_text("{not json", encoding="utf-8")
    raw = {
        "now": "2026-11-27T10:00:00Z",
        "connectors": [
            {
                "name": "acme-shop",
                "type": "files",
                "path": str(EXAMPLES / "acme-shop"),
                "only": ["catalog", "slo", "alerts"],
            },
            {"name": "exports", "type": "otlp", "path": str(traces)},
        ],
    }
    return build_server(parse_config(raw, base_dir=tmp_path))


async def test_traces_that_cannot_be_read_leave_the_slos_measured_as_empty_and_say_so(tmp_path: Path) -> None:
    async with Client(without_traces(tmp_path)) as client:
        status = await call(client, "slo_status", journey="checkout")
        impact = await call(client, "impact_summary", journey="checkout")
    (checkout,) = status["slos"]
    assert checkout["status"] == "no_traffic" and checkout["measured_by"] == "exports"
    assert impact["journeys"][0]["sentence"] == "no checkout requests in the last 30 min: nothing to measure"
    assert any("exports: 1 trace problems" in w for w in impact["freshness"]["warnings"])


DYNATRACE = "https://abc12345.live.dynatrace.com"
GOOD = 'builtin:service.requestCount.total:filter(eq("dt.entity.service","SERVICE-5A1B2C3D4E5F6071")):filter(lt("http.status_code",500))'
TOTAL = 'builtin:service.requestCount.total:filter(eq("dt.entity.service","SERVICE-5A1B2C3D4E5F6071"))'
DYNATRACE_SLO = f"""\
apiVersion: openslo/v1
kind: SLO
metadata: {{name: payment-requests-ok}}
spec:
  service: payment
  budgetingMethod: Occurrences
  timeWindow: [{{duration: 30d, isRolling: true}}]
  objectives: [{{target: 0.999}}]
  indicator:
    metadata: {{name: payment-requests}}
    spec:
      ratioMetric:
        counter: true
        good: {{metricSource: {{type: dynatrace, spec: {{metricSelector: '{GOOD}'}}}}}}
        total: {{metricSource: {{type: dynatrace, spec: {{metricSelector: '{TOTAL}'}}}}}}
"""


async def payment_slos(tmp_path: Path, router: respx.Router, metrics: dict[str, str]) -> dict[str, Any]:
    """slo_status for payment, with the demo catalog, the SLOs written under tmp_path/slos and `metrics`
    (a connector entry) answered by `router`."""
    config = parse_config(
        {
            "now": "2026-11-27T10:00:00Z",
            "connectors": [
                {"name": "acme-shop", "type": "files", "path": str(EXAMPLES / "acme-shop"), "only": ["catalog"]},
                {"name": "slos", "type": "files", "path": "."},
                metrics,
            ],
        },
        base_dir=tmp_path,
        environ={},
    )
    runtime = build_runtime(config, transport=httpx.MockTransport(router.async_handler))
    async with Client(build_server(runtime=runtime)) as client:
        return await call(client, "slo_status", service="payment")


def requests_per_minute(values: list[float]) -> dict[str, Any]:
    timestamps = [1795773600000 - 60_000 * (len(values) - i) for i in range(len(values))]
    return {
        "totalCount": 1,
        "nextPageKey": None,
        "resolution": "1m",
        "result": [
            {
                "metricId": "builtin:service.requestCount.total",
                "data": [{"dimensions": [], "dimensionMap": {}, "timestamps": timestamps, "values": values}],
            }
        ],
    }


async def test_an_slo_on_dynatrace_metrics_sums_each_windows_points_and_burns_on_the_slow_page_tier(
    tmp_path: Path,
) -> None:
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos" / "payment.yaml").write_text(DYNATRACE_SLO, encoding="utf-8")
    router = respx.Router(assert_all_mocked=True)

    def answer(request: httpx.Request) -> httpx.Response:
        good = request.url.params["metricSelector"] == GOOD
        return httpx.Response(200, json=requests_per_minute([495.0, None, 495.0] if good else [500.0, 100.0, 500.0]))  # type: ignore[list-item]

    route = router.get(f"{DYNATRACE}/api/v2/metrics/query").mock(side_effect=answer)
    reply = await payment_slos(
        tmp_path, router, {"name": "dt", "type": "dynatrace", "base_url": DYNATRACE, "token": "dt0c01.test"}
    )

    (slo,) = reply["slos"]
    # 990 good of 1,100 (a null point counts nothing): 10% errors on a 0.1% budget is burn 100.
    fast = slo["tiers"][0]
    assert (fast["long"]["events"], fast["long"]["bad"], fast["long"]["burn"]) == (1100, 110, 100.0)
    assert (slo["status"], slo["alert"], slo["measured_by"]) == ("burning", "page-fast", "dt")
    one_hour = [
        call_.request.url.params
        for call_ in route.calls
        if call_.request.url.params["from"] == str(1795773600000 - 3600_000)
    ]
    assert {p["metricSelector"] for p in one_hour} == {GOOD, TOTAL} and all(
        p["to"] == "1795773600000" for p in one_hour
    )


PROMETHEUS = "http://prometheus.example:9090"
LATENCY = "histogram_quantile(0.95, sum by (le) (rate(http_server_duration_seconds_bucket[5m])))"
THRESHOLD_SLO = f"""\
apiVersion: openslo/v1
kind: SLO
metadata: {{name: payment-p95-fast}}
spec:
  service: payment
  budgetingMethod: Occurrences
  timeWindow: [{{duration: 30d, isRolling: true}}]
  objectives: [{{op: lte, value: 0.3, target: 0.999}}]
  indicator:
    metadata: {{name: payment-p95}}
    spec:
      thresholdMetric:
        metricSource: {{type: prometheus, spec: {{query: '{LATENCY}'}}}}
"""


async def test_a_threshold_slo_on_prometheus_counts_the_minutes_it_held_and_a_refused_window_degrades_only_its_tier(
    tmp_path: Path,
) -> None:
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos" / "payment.yaml").write_text(THRESHOLD_SLO, encoding="utf-8")
    router = respx.Router(assert_all_mocked=True)
    asked: list[dict[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        asked.append(form)
        if float(form["end"]) - float(form["start"]) > 29 * 86400:  # the whole period: too many samples
            return httpx.Response(422, json=fixture("prometheus", "execution.json"))
        values = [[1795773600 - 60 * i, "0.45" if i < 3 else "0.12"] for i in range(10)]  # 3 of 10 minutes slow
        return httpx.Response(
            200,
            json={"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {}, "values": values}]}},
        )

    router.post(f"{PROMETHEUS}/api/v1/query_range").mock(side_effect=answer)
    reply = await payment_slos(tmp_path, router, {"name": "prom", "type": "prometheus", "base_url": PROMETHEUS})

    (slo,) = reply["slos"]
    fast = slo["tiers"][0]
    # 7 of 10 minutes at or under 300 ms: 30% bad against a 0.1% budget is burn 300.
    assert (fast["long"]["events"], fast["long"]["bad"], fast["long"]["burn"]) == (10, 3, 300.0)
    assert (slo["status"], slo["alert"]) == ("burning", "page-fast")
    assert slo["note"].startswith(
        "30d not measured: prom: UpstreamError: POST http://prometheus.example:9090/api/v1/query_range: 422"
    )
    steps = {round((float(f["end"]) - float(f["start"]) + float(f["step"])) / 60): f["step"] for f in asked}
    assert steps[60] == "60" and steps[43200] == "300"  # 30 days at 1-minute steps would be 43,200 points
    assert all(f["query"] == LATENCY for f in asked)


class DownTraces:
    """A trace source that is down: every read fails."""

    name = "tempo"
    capabilities = frozenset({Capability.TRACES})

    async def check(self) -> Health:
        return Health(ok=False, detail="down")

    async def aclose(self) -> None:
        return None

    async def fetch_spans(self, since: datetime, until: datetime) -> Batch[Span]:
        raise ConnectionError("tempo:3200 refused the connection")


async def test_with_the_trace_source_down_impact_and_slos_degrade_with_the_reason_instead_of_failing(
    tmp_path: Path,
) -> None:
    raw = {
        "now": "2026-11-27T10:00:00Z",
        "connectors": [
            {"name": "acme-shop", "type": "files", "path": str(EXAMPLES / "acme-shop"), "only": ["catalog", "slo"]}
        ],
    }
    config = parse_config(raw, base_dir=tmp_path)
    runtime = build_runtime(config, connectors=[*build_connectors(config), DownTraces()])
    async with Client(build_server(runtime=runtime)) as client:
        impact = await call(client, "impact_summary", journey="checkout")
        status = await call(client, "slo_status", journey="checkout")
    (checkout,) = impact["journeys"]
    assert checkout["sentence"] == "checkout: not measured from traces"
    assert checkout["note"] == "traces unavailable: tempo: ConnectionError: tempo:3200 refused the connection"
    assert impact["freshness"]["warnings"] == [
        "traces unavailable, so no journey is measured: tempo: ConnectionError: tempo:3200 refused the connection"
    ]
    (slo,) = status["slos"]
    assert slo["status"] == "unavailable" and slo["measured_by"] == "tempo"
    assert "tempo (traces): tempo: ConnectionError" in status["freshness"]["warnings"][0]
