"""Backstage + ServiceNow + PagerDuty + runbook folder, joined: the acceptance of issue 3, through a real client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from mcp import Client

from opscontext_mcp.config import load_config
from opscontext_mcp.server import build_runtime, build_server
from tests.conftest import DEMO_CONFIG, EXAMPLES, call
from tests.upstreams import Upstreams

pytestmark = pytest.mark.anyio

ENV = {
    "BACKSTAGE_URL": "https://backstage.acme.example",
    "SERVICENOW_URL": "https://acme.service-now.example",
    "PAGERDUTY_URL": "https://api.pagerduty.com",
}


class Recorded:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def joined(upstreams: Upstreams) -> Any:  # noqa: ANN401 - an MCPServer
    config = load_config(EXAMPLES / "config" / "multi-source.yaml", environ=ENV)
    runtime = build_runtime(config, transport=httpx.MockTransport(upstreams.router.async_handler), sleep=Recorded())
    return build_server(runtime=runtime), runtime


async def test_who_owns_joins_catalog_ownership_with_pagerduty_on_call_and_escalation() -> None:
    server, _ = joined(Upstreams())
    async with Client(server) as client:
        answer = await call(client, "who_owns", service="PaymentService")
    assert answer["service"]["id"] == "payment"
    assert (answer["owner"]["name"], answer["owner"]["provenance"]["source"]) == ("team-payments", "backstage")
    assert answer.get("conflicts", []) == []
    [now] = answer["on_call_now"]
    assert (now["schedule"], now["person"]["display_name"], now["end"]) == (
        "Payments Primary",
        "Priya Raman",
        "2026-11-27T17:00:00Z",
    )
    assert now["provenance"]["source"] == "pagerduty"
    assert answer["on_call_next"][0]["person"]["name"] == "lucas.martin"
    levels = answer["escalation"]["levels"]
    assert [level["after_minutes"] for level in levels] == [0, 15, 30]
    assert levels[1]["targets"][0]["display"] == "Marta López"
    assert answer["escalation"]["provenance"]["source"] == "pagerduty"
    consulted = {(s["source"], s["capability"], s["status"]) for s in answer["freshness"]["sources"]}
    assert {("backstage", "catalog", "ok"), ("servicenow", "catalog", "ok"), ("pagerduty", "oncall", "ok")} <= consulted


async def test_owners_that_disagree_across_sources_are_reported_as_conflicts_with_both_claims() -> None:
    server, _ = joined(Upstreams())
    async with Client(server) as client:
        orders = await call(client, "who_owns", service="Orders Database")
        checkout = await call(client, "who_owns", service="checkout")
    assert (orders["owner"]["name"], orders["owner"]["provenance"]["source"]) == ("team-platform", "backstage")
    assert [(c["name"], c["provenance"]["source"]) for c in orders["conflicts"]] == [("Checkout", "servicenow")]
    assert checkout.get("conflicts", []) == []  # "team-checkout" and "Checkout" are one team


async def test_service_context_carries_facts_from_every_source_each_with_its_provenance() -> None:
    server, _ = joined(Upstreams())
    async with Client(server) as client:
        context = await call(client, "service_context", service="checkout")
    assert {p["source"] for p in context["service"]["provenance"]} == {"backstage", "servicenow"}
    assert {a["source"] for a in context["service"]["aliases"]} == {"backstage", "servicenow"}
    edges = {d["id"]: d["edge"] for d in context["dependencies"]["items"]}
    assert edges["orders"]["declared_in"] == ["backstage:component:default/checkout"]
    assert [ref.split(":")[0] for ref in edges["orders-db"]["declared_in"]] == ["servicenow"]  # the CMDB's shortcut
    assert edges["payment"]["observed_by"] == ["acme-shop"]
    incidents = {(i["id"], i["provenance"]["source"]) for i in context["incidents"]["items"]}
    assert incidents == {("INC0019876", "servicenow"), ("PD-4821", "pagerduty")}  # checkout's own, payment's
    changes = {(c["id"], c["provenance"]["source"]) for c in context["changes"]["items"]}
    assert changes == {("CHG0048213", "servicenow"), ("01JDR8W4Z6Q3VKTH2M0P9XN5BC", "pagerduty")}
    assert context["ownership"]["on_call_now"][0]["provenance"]["source"] == "pagerduty"
    assert context["runbook"]["best"]["provenance"]["source"] == "acme-shop"


async def test_records_join_by_annotated_ids_and_by_the_names_upstreams_give_where_nothing_is_annotated() -> None:
    server, runtime = joined(Upstreams())
    async with Client(server) as client:
        checkout = await call(client, "who_owns", service="checkout")
        frontend = await call(client, "find_service", query="Frontend Web")
    # checkout carries no PagerDuty annotation: PagerDuty's "Checkout Service" joins it by name
    assert (checkout["escalation"]["policy"], checkout["escalation"]["provenance"]["source"]) == (
        "Checkout",
        "pagerduty",
    )
    assert [(n["schedule"], n["person"]["name"]) for n in checkout["on_call_now"]] == [
        ("Checkout Primary", "diego.alvarez")
    ]
    # frontend's servicenow.com/ci-sys-id annotation joins the CMDB's "Frontend Web" without an alias
    assert frontend["resolved"] == "frontend"
    snapshot = await runtime.snapshot()
    assert [(r.provenance.source, r.name) for r in snapshot.services["frontend"].records] == [
        ("backstage", "frontend"),
        ("servicenow", "Frontend Web"),
    ]
    assert snapshot.unresolved == () and snapshot.problems == ()


async def test_on_call_has_the_same_shape_from_pagerduty_as_from_oncall_yaml() -> None:
    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: shape(item) for key, item in value.items() if key not in ("freshness", "notes")}
        if isinstance(value, list):
            return [shape(value[0])] if value else []
        return type(value).__name__

    server, _ = joined(Upstreams())
    async with Client(server) as client:
        from_pagerduty = await call(client, "who_owns", service="payment")
    async with Client(build_server(load_config(DEMO_CONFIG, environ={}))) as client:
        from_files = await call(client, "who_owns", service="payment")
    for key in ("on_call_now", "on_call_next"):
        assert shape(from_pagerduty[key][0]) == shape(from_files[key][0])
    assert shape(from_pagerduty["escalation"]["levels"][0]) == shape(from_files["escalation"]["levels"][0])
    assert from_pagerduty["on_call_now"][0]["person"]["name"] == from_files["on_call_now"][0]["person"]["name"]


@pytest.mark.parametrize("failure", ["503", "timeout"])
async def test_an_upstream_that_dies_mid_run_degrades_answers_says_so_and_recovers(failure: str) -> None:
    upstreams = Upstreams()
    server, runtime = joined(upstreams)
    async with Client(server) as client:
        healthy = await call(client, "who_owns", service="payment")
        upstreams.down["pagerduty"] = failure
        await runtime.cache.refresh()
        degraded = await call(client, "who_owns", service="payment")
        context = await call(client, "service_context", service="checkout")
        upstreams.down.clear()
        await runtime.cache.refresh()
        recovered = await call(client, "who_owns", service="payment")
    assert degraded["on_call_now"] == healthy["on_call_now"]
    pagerduty = {s["capability"]: s for s in degraded["freshness"]["sources"] if s["source"] == "pagerduty"}
    assert pagerduty["oncall"]["status"] == "stale"
    assert (
        ("503" in pagerduty["oncall"]["error"]) if failure == "503" else ("no answer" in pagerduty["oncall"]["error"])
    )
    assert any(w.startswith("pagerduty (oncall) is failing") for w in degraded["freshness"]["warnings"])
    assert context["ownership"]["status"] == "degraded" and context["incidents"]["status"] == "degraded"
    assert context["dependencies"]["status"] == "ok"
    assert {s["status"] for s in recovered["freshness"]["sources"]} == {"ok"}
