from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from opscontext_connectors.files import FilesConnector, FilesSettings
from opscontext_connectors.files.slos import read_slos
from pydantic import ValidationError

from opscontext_mcp.model import SLO, Indicator, MetricSource, Provenance
from opscontext_mcp.protocols import Capability, ConnectorContext, SLOData, SLOProvider
from tests.conftest import EXAMPLES

AT = datetime(2026, 11, 27, 10, tzinfo=UTC)
DEMO = EXAMPLES / "acme-shop"


def read(root: Path) -> SLOData:
    return read_slos(root / "slos", root, "local", AT)


def traces(span_name: str, **good: Any) -> dict[str, Any]:
    return {"metricSource": {"type": "traces", "spec": {"service": "frontend", "span_name": span_name, **good}}}


def sli(name: str, **ratio: Any) -> dict[str, Any]:
    ratio = ratio or {"good": traces("GET /", errors="bad"), "total": traces("GET /")}
    return {"apiVersion": "openslo/v1", "kind": "SLI", "metadata": {"name": name}, "spec": {"ratioMetric": ratio}}


def slo(name: str, **spec: Any) -> dict[str, Any]:
    body = {
        "service": "frontend",
        "indicatorRef": "home-ok",
        "timeWindow": [{"duration": "28d", "isRolling": True}],
        "budgetingMethod": "Occurrences",
        "objectives": [{"target": 0.999}],
        **spec,
    }
    return {"apiVersion": "openslo/v1", "kind": "SLO", "metadata": {"name": name}, "spec": body}


def test_the_demo_slos_and_journeys_load_without_problems() -> None:
    data = read(DEMO)
    assert data.problems == ()
    slos = {s.name: s for s in data.slos}
    assert sorted(slos) == [
        "add-to-cart-latency",
        "browse-product-latency",
        "checkout-availability-latency",
        "login-availability",
        "payment-charge-availability",
    ]
    checkout = slos["checkout-availability-latency"]
    assert (checkout.service, checkout.target, checkout.period, checkout.rolling) == (
        "frontend",
        0.995,
        timedelta(days=28),
        True,
    )
    assert checkout.budgeting_method == "Occurrences"
    assert checkout.indicator.name == "checkout-requests-ok-within-1s"
    assert checkout.indicator.kind == "ratio"
    assert checkout.indicator.good == MetricSource(
        type="traces",
        spec={"service": "frontend", "span_name": "POST /cart/checkout", "max_duration_ms": 1000, "errors": "bad"},
    )
    assert checkout.indicator.total == MetricSource(
        type="traces", spec={"service": "frontend", "span_name": "POST /cart/checkout"}
    )
    assert checkout.provenance.ref == "slos/frontend.yaml#checkout-availability-latency"
    assert slos["add-to-cart-latency"].target == 0.999
    assert slos["login-availability"].indicator.good is not None
    assert slos["login-availability"].indicator.good.spec == {
        "service": "frontend",
        "span_name": "POST /login",
        "errors": "bad",
    }
    payment = slos["payment-charge-availability"]
    assert payment.service == "payment" and payment.indicator.counter
    assert payment.indicator.good is not None and payment.indicator.good.type == "prometheus"
    assert payment.indicator.good.ref == "prometheus"
    assert "{{window}}" in str(payment.indicator.good.spec["query"])
    assert [(j.name, j.entry, j.slo) for j in data.journeys] == [
        ("checkout", "frontend", "checkout-availability-latency"),
        ("browse", "frontend", "browse-product-latency"),
        ("add-to-cart", "frontend", "add-to-cart-latency"),
        ("login", "frontend", "login-availability"),
    ]
    assert data.journeys[0].provenance.ref == "slos/journeys.yaml#checkout"


def test_the_demo_journeys_measure_the_frontend_entry_spans_the_traces_hold() -> None:
    spans = {
        (s.indicator.total.spec["service"], s.indicator.total.spec["span_name"])
        for s in read(DEMO).slos
        if s.indicator.total is not None and s.indicator.total.type == "traces"
    }
    text = "".join(p.read_text(encoding="utf-8") for p in (DEMO / "traces").glob("*.json"))
    assert {service for service, _ in spans} == {"frontend"}
    for _, span_name in spans:
        assert f'"name": "{span_name}"' in text or f'"name":"{span_name}"' in text


def test_an_indicator_ref_finds_the_sli_in_another_file_and_percent_targets_are_exact(
    write_tree: Callable[..., Path],
) -> None:
    root = write_tree(
        {
            "slos/slis.yaml": [sli("home-ok")],
            "slos/slos.yaml": [slo("home", objectives=[{"displayName": "Home OK", "targetPercent": 99.95}])],
        }
    )
    data = read(root)
    assert data.problems == ()
    [home] = data.slos
    assert home.target == 0.9995 and home.objective == "Home OK"
    assert home.indicator.name == "home-ok"
    assert home.indicator.good == MetricSource(
        type="traces", spec={"service": "frontend", "span_name": "GET /", "errors": "bad"}
    )


def test_a_threshold_slo_carries_its_objectives_op_and_value_in_the_indicator(
    write_tree: Callable[..., Path],
) -> None:
    latency = slo(
        "p99-latency",
        indicatorRef=None,
        indicator={
            "metadata": {"name": "frontend-p99"},
            "spec": {"thresholdMetric": {"metricSource": {"type": "Dynatrace", "spec": {"query": "p99"}}}},
        },
        budgetingMethod="Timeslices",
        objectives=[{"op": "lte", "value": 800, "target": 0.99, "timeSliceTarget": 1, "timeSliceWindow": 5}],
    )
    del latency["spec"]["indicatorRef"]
    root = write_tree({"slos/latency.yaml": [latency]})
    data = read(root)
    assert data.problems == ()
    [p99] = data.slos
    indicator = p99.indicator
    assert (indicator.name, indicator.kind, indicator.op, indicator.value) == (
        "frontend-p99",
        "threshold",
        "lte",
        800.0,
    )
    assert indicator.metric == MetricSource(type="dynatrace", spec={"query": "p99"})
    assert p99.budgeting_method == "Timeslices"
    assert (p99.time_slice_target, p99.time_slice_window) == (1.0, timedelta(minutes=5))


def test_durations_use_the_openslo_shorthand_and_calendar_windows_keep_their_start(
    write_tree: Callable[..., Path],
) -> None:
    calendar = {"duration": "1M", "calendar": {"startTime": "2026-11-01 00:00:00", "timeZone": "Europe/Berlin"}}
    root = write_tree(
        {
            "slos/x.yaml": [
                sli("home-ok"),
                slo("month", timeWindow=[calendar]),
                slo("quarter", timeWindow=[{"duration": "1Q", "isRolling": True}]),
                slo("year", timeWindow=[{"duration": "1Y", "isRolling": True}]),
                slo("fortnight", timeWindow=[{"duration": "2w", "isRolling": True}]),
                slo(
                    "ratio-slices",
                    budgetingMethod="RatioTimeslices",
                    objectives=[{"target": 0.99, "timeSliceWindow": "1h"}],
                ),
            ]
        }
    )
    data = read(root)
    assert data.problems == ()
    slos = {s.name: s for s in data.slos}
    month = slos["month"]
    assert (month.period, month.rolling, month.time_zone) == (timedelta(days=30), False, "Europe/Berlin")
    assert month.calendar_start == datetime(2026, 11, 1, tzinfo=ZoneInfo("Europe/Berlin"))
    assert month.calendar_start is not None and month.calendar_start.utcoffset() == timedelta(hours=1)
    assert slos["quarter"].period == timedelta(days=90)
    assert slos["year"].period == timedelta(days=365)
    assert slos["fortnight"].period == timedelta(days=14)
    assert slos["ratio-slices"].time_slice_window == timedelta(hours=1)


def test_each_malformed_document_is_a_problem_naming_the_key_path_and_the_rest_is_served(
    write_tree: Callable[..., Path],
) -> None:
    no_target = slo("no-target", objectives=[{"displayName": "?"}])
    two_windows = slo("two-windows", timeWindow=[{"duration": "28d"}, {"duration": "7d"}])
    root = write_tree(
        {
            "slos/ok.yaml": [sli("home-ok"), slo("fine")],
            "slos/bad.yaml": [
                {**slo("future"), "apiVersion": "openslo/v2alpha"},
                no_target,
                slo("dangling", indicatorRef="nope"),
                slo("forever", timeWindow=[{"duration": "28 days", "isRolling": True}]),
                two_windows,
                slo("no-method", budgetingMethod="Weekly"),
                slo("slices", budgetingMethod="Timeslices", objectives=[{"target": 0.99, "timeSliceWindow": "1m"}]),
                sli("total-only", total=traces("GET /")),
                slo("uses-broken", indicatorRef="total-only"),
                sli("untyped", good={"metricSource": {"spec": {"q": "a"}}}, total=traces("GET /")),
                sli("nested", good={"metricSource": {"type": "x", "spec": {"q": {"a": 1}}}}, total=traces("GET /")),
                {"apiVersion": "openslo/v1", "kind": "Dashboard", "metadata": {"name": "board"}},
                {"apiVersion": "openslo/v1", "kind": "SLO", "metadata": {}, "spec": {}},
                slo("fine"),
            ],
            "slos/list.yaml": "- just a list\n",
            "slos/broken.yaml": "kind: [",
        }
    )
    data = read(root)
    assert [s.name for s in data.slos] == ["fine"]
    reasons = {p.location: p.reason for p in data.problems}
    assert all(p.severity == "error" for p in data.problems)
    assert reasons == {
        "slos/bad.yaml#future": "apiVersion: expected openslo/v1, got 'openslo/v2alpha'",
        "slos/bad.yaml#no-target": (
            "spec.objectives.0: expected target (0 < t < 1) or targetPercent (0 < p < 100), exactly one"
        ),
        "slos/bad.yaml#dangling": "spec.indicatorRef: expected the name of an SLI in slos/, got 'nope'",
        "slos/bad.yaml#forever": (
            "spec.timeWindow.0.duration: expected a duration shorthand: a whole number and one of m, h, d, w, M, Q,"
            " Y (e.g. 28d), got '28 days'"
        ),
        "slos/bad.yaml#two-windows": "spec.timeWindow: expected exactly one item, got 2",
        "slos/bad.yaml#no-method": "spec.budgetingMethod: Input should be 'Occurrences', 'Timeslices' or 'RatioTimeslices'",
        "slos/bad.yaml#slices": "spec.objectives.0.timeSliceTarget: required with budgetingMethod Timeslices",
        "slos/bad.yaml#total-only": "spec.ratioMetric: expected good or bad beside total",
        "slos/bad.yaml#uses-broken": "spec.indicatorRef: SLI 'total-only' cannot be used (see its problem)",
        "slos/bad.yaml#untyped": (
            "spec.ratioMetric.good.metricSource.type: expected a source type (e.g. prometheus, traces)"
            " or a metricSourceRef naming a DataSource"
        ),
        "slos/bad.yaml#nested": (
            "spec.ratioMetric.good.metricSource.spec: q: expected a string, a number, true/false or a list of strings"
        ),
        "slos/bad.yaml#board": (
            "kind: expected one of SLO, SLI, DataSource, AlertPolicy, AlertCondition, AlertNotificationTarget,"
            " Service, got 'Dashboard'"
        ),
        "slos/bad.yaml#13": "metadata.name: Field required; spec.service: Field required; spec.timeWindow: Field required",
        "slos/ok.yaml#fine": "metadata.name: SLO 'fine' is already defined at slos/bad.yaml#fine",
        "slos/list.yaml#1": "expected an OpenSLO document: apiVersion, kind, metadata, spec",
        "slos/broken.yaml": reasons["slos/broken.yaml"],
    }
    assert reasons["slos/broken.yaml"].startswith("cannot parse: ")


def test_other_openslo_kinds_are_accepted_and_a_datasource_lends_its_type(write_tree: Callable[..., Path]) -> None:
    prometheus = {"metricSource": {"metricSourceRef": "prom", "spec": {"query": "sum(rate(x[{{window}}]))"}}}
    root = write_tree(
        {
            "slos/all.yaml": [
                {
                    "apiVersion": "openslo/v1",
                    "kind": "DataSource",
                    "metadata": {"name": "prom"},
                    "spec": {"type": "Prometheus"},
                },
                {"apiVersion": "openslo/v1", "kind": "Service", "metadata": {"name": "frontend"}, "spec": {}},
                {"apiVersion": "openslo/v1", "kind": "AlertPolicy", "metadata": {"name": "page"}, "spec": {}},
                sli("home-ok", bad=prometheus, total=prometheus),
                slo("home"),
            ]
        }
    )
    data = read(root)
    assert data.problems == ()
    [home] = data.slos
    assert home.indicator.bad == MetricSource(type="prometheus", ref="prom", spec={"query": "sum(rate(x[{{window}}]))"})
    assert home.indicator.good is None


def test_only_the_first_objective_is_used_and_the_others_are_a_warning(write_tree: Callable[..., Path]) -> None:
    root = write_tree({"slos/x.yaml": [sli("home-ok"), slo("home", objectives=[{"target": 0.99}, {"target": 0.999}])]})
    data = read(root)
    [home] = data.slos
    assert home.target == 0.99
    assert [(p.location, p.reason, p.severity) for p in data.problems] == [
        ("slos/x.yaml#home", "spec.objectives: 2 objectives; only the first is evaluated", "warning")
    ]


def test_a_journey_naming_an_unknown_slo_is_served_with_a_warning(write_tree: Callable[..., Path]) -> None:
    root = write_tree(
        {
            "slos/x.yaml": [sli("home-ok"), slo("home")],
            "slos/journeys.yaml": [
                {"name": "browse", "entry": "frontend", "slo": "home", "description": "Look around"},
                {"name": "pay", "entry": "frontend", "slo": "payments"},
                {"name": "login", "entry": "frontend"},
                {"name": "browse", "entry": "frontend", "slo": "home"},
            ],
        }
    )
    data = read(root)
    assert [(j.name, j.slo, j.description) for j in data.journeys] == [
        ("browse", "home", "Look around"),
        ("pay", "payments", None),
    ]
    assert [(p.location, p.reason, p.severity) for p in data.problems] == [
        ("slos/journeys.yaml[2]", "slo: Field required", "error"),
        (
            "slos/journeys.yaml#pay",
            "slo: no usable SLO named 'payments' in slos/; the journey is served without one",
            "warning",
        ),
        ("slos/journeys.yaml#browse", "name: journey 'browse' is already defined", "error"),
    ]


def test_journeys_may_sit_under_a_journeys_key(write_tree: Callable[..., Path]) -> None:
    root = write_tree({"slos/journeys.yaml": {"journeys": [{"name": "pay", "entry": "frontend", "slo": "x"}]}})
    data = read(root)
    assert [j.name for j in data.journeys] == ["pay"]
    assert [p.severity for p in data.problems] == ["warning"]


@pytest.mark.anyio
async def test_the_files_connector_serves_slos_when_the_folder_has_them(write_tree: Callable[..., Path]) -> None:
    root = write_tree({"slos/x.yaml": [sli("home-ok"), slo("home")], "changes/a.yaml": []})
    files = FilesConnector(FilesSettings(name="local", type="files", path=root), ConnectorContext(base_dir=Path("/")))
    assert Capability.SLO in files.capabilities
    assert isinstance(files, SLOProvider)
    first = await files.fetch_slos()
    assert [s.name for s in first.slos] == ["home"]
    assert first.slos[0].provenance.source == "local"
    again = await files.fetch_slos()
    assert again is first
    without = write_tree({"other/changes.yaml": []}) / "other"
    bare = FilesConnector(FilesSettings(name="b", type="files", path=without), ConnectorContext(base_dir=Path("/")))
    assert Capability.SLO not in bare.capabilities


def test_the_records_refuse_what_openslo_does_not_allow() -> None:
    traces_source = MetricSource(type="traces")
    with pytest.raises(ValidationError, match="good \\+ total, bad \\+ total, or raw \\+ raw_type"):
        Indicator(name="x", kind="ratio", good=traces_source, bad=traces_source, total=traces_source)
    with pytest.raises(ValidationError, match="needs metric, op and value"):
        Indicator(name="x", kind="threshold", metric=traces_source, op="lt")
    ratio = Indicator(name="x", kind="ratio", raw=traces_source, raw_type="failure")
    provenance = Provenance(source="local", fetched_at=AT)
    with pytest.raises(ValidationError, match="Timeslices budgeting needs a time_slice_target"):
        SLO(
            name="s",
            service="frontend",
            target=0.99,
            period=timedelta(days=28),
            budgeting_method="Timeslices",
            time_slice_window=timedelta(minutes=1),
            indicator=ratio,
            provenance=provenance,
        )
