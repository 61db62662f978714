from __future__ import annotations

import pytest
import yaml
from mcp import Client

from tests.conftest import EXAMPLES, call, call_error

pytestmark = pytest.mark.anyio


def catalog_components() -> dict[str, str]:
    """Component name → spec.owner, read straight from the demo's YAML."""
    owners = {}
    for path in (EXAMPLES / "acme-shop" / "catalog").rglob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document and document.get("kind") == "Component":
                owners[document["metadata"]["name"]] = document["spec"]["owner"]
    return owners


async def test_every_demo_component_gets_its_owning_team(demo_server) -> None:  # type: ignore[no-untyped-def]
    components = catalog_components()
    assert len(components) >= 16
    async with Client(demo_server) as client:
        for name, owner in components.items():
            answer = await call(client, "who_owns", service=name)
            assert answer["owner"]["name"] == owner, name
            assert answer["owner"]["team"]["email"], name
            assert answer["owner"]["provenance"]["source"] == "acme-shop"


async def test_who_owns_gives_on_call_now_and_next_and_the_escalation_path(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "who_owns", service="PaymentService")
    assert answer["service"]["id"] == "payment"
    assert answer["owner"]["team"]["chat_channel"] == "#team-payments"
    now = {entry["schedule"]: entry["person"]["name"] for entry in answer["on_call_now"]}
    assert now["payments-primary"] == "priya.raman"
    nxt = {entry["schedule"]: (entry["person"]["name"], entry["start"]) for entry in answer["on_call_next"]}
    assert nxt["payments-primary"] == ("lucas.martin", "2026-11-27T17:00:00Z")
    levels = answer["escalation"]["levels"]
    assert [level["after_minutes"] for level in levels] == [0, 15, 30, 45]
    assert levels[0]["targets"][0]["on_call"]["name"] == "priya.raman"
    assert levels[1]["targets"][0]["name"] == "marta.lopez"
    vendor = levels[3]["targets"][0]
    assert (vendor["kind"], vendor["name"], vendor["display"]) == ("vendor", "stripe", "vendor stripe")
    assert vendor["contact"] == "https://status.stripe.example/bridge"
    assert {s["capability"] for s in answer["freshness"]["sources"]} == {"catalog", "oncall"}


async def test_an_ownership_conflict_between_sources_is_reported_with_both_claims(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "who_owns", service="orders-db")
    assert answer["owner"]["name"] == "team-platform"
    assert answer["owner"]["provenance"]["source"] == "acme-shop"
    [conflict] = answer["conflicts"]
    assert conflict["name"] == "team-checkout"
    assert conflict["provenance"]["source"] == "cmdb-export"


async def test_find_service_names_the_service_behind_any_alias(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "find_service", query="Payment Service")
        fuzzy = await call(client, "find_service", query="paymnt")
    assert answer["resolved"] == "payment"
    sources = {(a["source"], a["name"]) for a in answer["matches"][0]["aliases"]}
    assert ("acme-shop", "P7XK2") in sources
    assert ("cmdb-export", "payment-svc") in sources
    assert "resolved" not in fuzzy
    assert fuzzy["matches"][0]["id"] == "payment"


async def test_an_unknown_service_is_a_readable_error_with_suggestions(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        message = await call_error(client, "who_owns", service="chekout")
    assert "Unknown service 'chekout'" in message
    assert "Did you mean: checkout" in message


async def test_service_context_answers_every_section_with_provenance(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        context = await call(client, "service_context", service="checkout")
    assert context["service"]["id"] == "checkout"
    assert {p["source"] for p in context["service"]["provenance"]} == {"acme-shop", "cmdb-export"}
    assert context["ownership"]["status"] == "ok" and context["ownership"]["owner"]["name"] == "team-checkout"
    assert context["ownership"]["escalation"]["policy"]
    for section in ("dependencies", "dependents"):
        assert context[section]["status"] == "ok"
        for item in context[section]["items"]:
            assert item["edge"]["declared_in"] or item["edge"]["observed_by"], item
    assert {i["id"] for i in context["dependencies"]["items"]} >= {"payment", "cart", "orders"}
    deploy = next(c for c in context["changes"]["items"] if c["id"] == "chg-payment-2140")
    assert deploy["hop"] == 1 and deploy["provenance"]["ref"].startswith("changes/")
    alert_names = {a["name"] for a in context["alerts"]["items"]}
    assert {"CheckoutLatencyHigh", "PaymentLatencyHigh"} <= alert_names
    assert [g["primary_contributor"]["service"] for g in context["alerts"]["groups"]] == ["payment"]
    assert context["runbook"]["best"]["services"] == ["checkout"]
    assert context["slo"]["status"] == "empty"  # no SLO names checkout, no journey enters by it
    assert context["slo"]["note"] == "no SLO covers this service or a journey entering by it"
    assert context["incidents"]["status"] == "not_available"
    assert context["incidents"]["note"] == "no configured source provides incidents"
    consulted = {(s["source"], s["capability"]) for s in context["freshness"]["sources"]}
    assert ("acme-shop", "topology") in consulted and ("cmdb-export", "catalog") in consulted
    assert context["freshness"]["as_of"] == "2026-11-27T10:00:00Z"


async def test_service_context_of_a_journeys_entry_shows_its_slos_burning_first(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        context = await call(client, "service_context", service="frontend")
    section = context["slo"]
    assert section["status"] == "ok" and section["total"] == 4
    assert section["note"] == "1 of 4 burning; slo_status has every window"
    burning = section["items"][0]
    assert (burning["name"], burning["status"], burning["alert"], burning["journeys"]) == (
        "checkout-availability-latency",
        "burning",
        "page-fast",
        ["checkout"],
    )
    assert burning["burn"] == 51.06 and burning["target"] == 0.995
