from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from mcp import Client, MCPError
from mcp.types import ResourceTemplateReference

from opscontext_mcp.server import build_server
from tests.conftest import BACKSTAGE_EXAMPLES, files_config

pytestmark = pytest.mark.anyio


async def test_service_resource_is_the_service_context_as_json(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        result = await client.read_resource("service://paymentservice")
    context = json.loads(result.contents[0].text)
    assert context["service"]["id"] == "payment"
    assert context["ownership"]["owner"]["name"] == "team-payments"


async def test_an_unknown_service_resource_is_not_found_with_suggestions(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        with pytest.raises(MCPError, match="Did you mean: payment"):
            await client.read_resource("service://paymnt")


async def test_runbook_resources_render_markdown_and_ids_cannot_escape(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        result = await client.read_resource("runbook://acme-shop/payments/payment-latency-errors")
        text = result.contents[0].text
        assert text.startswith("# ")
        assert "- services: payment" in text and "\n## " in text
        for hostile in (
            "runbook://../../../../etc/passwd",
            "runbook://acme-shop/../../oncall",
            "runbook:///etc/passwd",
        ):
            with pytest.raises(MCPError):
                await client.read_resource(hostile)


async def test_completion_offers_service_ids_and_runbook_ids(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        services = await client.complete(
            ResourceTemplateReference(type="ref/resource", uri="service://{+name}"), {"name": "pay", "value": "pay"}
        )
        runbooks = await client.complete(
            ResourceTemplateReference(type="ref/resource", uri="runbook://{+id}"),
            {"name": "id", "value": "acme-shop/pay"},
        )
    assert services.completion.values == ["payment", "payment-gateway"]
    assert runbooks.completion.values == [
        "acme-shop/payments/fraud-check",
        "acme-shop/payments/payment-latency-errors",
        "acme-shop/payments/stripe-gateway-outage",
    ]


async def test_sources_report_health_problems_and_unresolved_names_of_a_real_catalog(tmp_path: Path) -> None:
    shutil.copytree(BACKSTAGE_EXAMPLES, tmp_path / "catalog")
    server = build_server(files_config(tmp_path))
    async with Client(server) as client:
        report = json.loads((await client.read_resource("opscontext://sources")).contents[0].text)
        owner = await client.call_tool("who_owns", {"service": "artist-lookup"})
        radius = await client.call_tool("blast_radius", {"service": "artists-db"})
    assert report["connectors"] == [{"name": "local", "capabilities": ["catalog"]}]
    assert report["records"]["services"] == 24
    reasons = [p["reason"] for p in report["problems"]]
    assert any("invalid Component name 'invalid component'" in r for r in reasons)
    assert any("Location target ./all-ai-resources.yaml does not exist" in r for r in reasons)
    assert ("owner", "group:default/sre") in {(u["what"], u["name"]) for u in report["unresolved"]}
    assert owner.structured_content["owner"]["name"] == "team-a"
    assert {d["id"] for d in radius.structured_content["dependents"]} == {
        "artist-lookup",
        "www-artist",
        "dream11-svc",
        "demo-service",
    }
