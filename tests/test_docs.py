"""Living documentation: the gaps found from the data, the dependency map, and the audit for CI."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mcp import Client

from opscontext_mcp.cli import main
from opscontext_mcp.graphs import dependency_map, dot, mermaid, svg
from opscontext_mcp.join import SnapshotInputs, build_snapshot
from opscontext_mcp.model import Alert
from tests.conftest import BACKSTAGE_EXAMPLES, DEMO_CONFIG, call
from tests.fakes import declared, observed, prov, service

pytestmark = pytest.mark.anyio
GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)


async def test_the_demos_planted_documentation_flaws_are_found_with_evidence_and_nothing_else(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "documentation_gaps")
        ad = await call(client, "documentation_gaps", service="ad")
        serious = await call(client, "documentation_gaps", min_severity="high")
        resource = json.loads((await client.read_resource("docs://gaps")).contents[0].text)
    found = {(g["kind"], g["service"]) for g in answer["gaps"]}
    assert found == {
        ("owner_conflict", "orders-db"),
        ("no_runbook", "ad"),
        ("runbook_stale", "shipping"),
        ("declared_not_observed", "recommendation"),
        ("observed_not_declared", "recommendation"),
    }
    gaps = {g["kind"]: g for g in answer["gaps"]}
    assert gaps["owner_conflict"]["evidence"] == [
        "acme-shop says group:team-platform (catalog/resources/orders-db.yaml)",
        "cmdb-export says group:team-checkout (catalog/cmdb-export.yaml#4)",
    ]
    assert gaps["owner_conflict"]["severity"] == "high"  # tier 1 raises it
    assert (
        gaps["runbook_stale"]["summary"] == "runbook fulfilment/shipping-email last exercised 393 days ago (2025-10-30)"
    )
    assert gaps["declared_not_observed"]["summary"] == (
        "recommendation declares a dependency on ad that telemetry never observed"
    )
    assert gaps["observed_not_declared"]["evidence"] == ["48 requests observed by acme-shop"]
    assert gaps["no_runbook"]["severity"] == "low"  # tier 3 lowers it
    assert [g["kind"] for g in ad["gaps"]] == ["no_runbook"]
    assert [g["kind"] for g in serious["gaps"]] == ["owner_conflict"] and serious["total"] == 1
    assert resource["total"] == 5 and resource["by_severity"] == {"high": 1, "low": 3, "info": 1}


def test_the_backstage_example_catalog_audits_cleanly_and_reports_its_real_gaps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(BACKSTAGE_EXAMPLES, tmp_path / "env" / "catalog")
    config = tmp_path / "c.yaml"
    config.write_text("connectors:\n  - {name: examples, type: files, path: ./env}\n", encoding="utf-8")
    assert main(["audit", "--config", str(config), "--format", "json"]) == 0
    gaps = json.loads(capsys.readouterr().out)
    kinds = {g["kind"] for g in gaps}
    no_runbook = {g["service"] for g in gaps if g["kind"] == "no_runbook"}
    assert kinds == {"no_runbook"}  # no runbooks, traces or alerts in that catalog: only that can be judged
    assert {"artist-lookup", "playback-order", "www-artist"} <= no_runbook
    assert all(g["sources"] == ["examples"] for g in gaps)


def test_the_audit_fails_at_the_chosen_severity_for_ci(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--config", str(DEMO_CONFIG), "--fail-on", "high"]) == 1
    report = capsys.readouterr().out
    assert main(["audit", "--config", str(DEMO_CONFIG), "--fail-on", "critical"]) == 0
    assert report.startswith("# Documentation audit, 2026-11-27 10:00 UTC\n\n5 gaps: 1 high, 3 low, 1 info.")
    assert "| high | owner_conflict | orders-db |" in report


def small_estate():  # type: ignore[no-untyped-def]
    """web → api (declared and observed), api → db (declared only), api → cache (observed only); api alerting."""
    alert = Alert(name="ApiLatencyHigh", service="api", starts_at=NOW, provenance=prov("am", "fp1"))
    return build_snapshot(
        SnapshotInputs(
            built_at=NOW,
            services=[service("web", tier=1), service("api", tier=2), service('db"<x>', tier=2), service("cache")],
            dependencies=[
                declared("component:default/web", "component:default/api"),
                observed("web", "api"),
                declared("component:default/api", 'component:default/db"<x>'),
                observed("api", "cache"),
            ],
            alerts=[alert],
        )
    )


def test_mermaid_and_dot_match_their_golden_files() -> None:
    snapshot = small_estate()
    drawn = dependency_map(snapshot, NOW)
    assert mermaid(snapshot, drawn) == (GOLDEN / "small.mmd").read_text(encoding="utf-8")
    assert dot(snapshot, drawn) == (GOLDEN / "small.dot").read_text(encoding="utf-8")
    around_db = dependency_map(snapshot, NOW, 'db"<x>')
    assert around_db.nodes == ["api", 'db"<x>'] and around_db.alerting == {"api"}


def test_graphviz_draws_the_svg_and_it_parses_with_every_service_in_it() -> None:
    snapshot = small_estate()
    drawn = svg(dot(snapshot, dependency_map(snapshot, NOW)))
    root = ElementTree.fromstring(drawn)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    titles = {element.text for element in root.iter("{http://www.w3.org/2000/svg}title")}
    assert {"web", "api", 'db"<x>', "cache", "web->api", "api->cache"} <= titles


def test_export_graph_writes_the_demo_map_in_each_format(tmp_path: Path) -> None:
    for fmt in ("mermaid", "dot", "json", "svg"):
        target = tmp_path / f"map.{fmt}"
        assert main(["export-graph", "--config", str(DEMO_CONFIG), "--format", fmt, "--output", str(target)]) == 0
    assert (tmp_path / "map.mermaid").read_text().startswith("flowchart LR")
    nodes = json.loads((tmp_path / "map.json").read_text())["nodes"]
    assert len(nodes) == 22 and {n["id"] for n in nodes if n["alerting"]} == {
        "payment",
        "checkout",
        "frontend",
        "redis-cart",
    }
    ElementTree.fromstring((tmp_path / "map.svg").read_bytes())
    assert main(["export-graph", "--config", str(DEMO_CONFIG), "--service", "nope"]) == 2


def test_the_readmes_map_shows_the_demo_as_export_graph_draws_it_now(tmp_path: Path) -> None:
    target = tmp_path / "map.svg"
    assert main(["export-graph", "--config", str(DEMO_CONFIG), "--format", "svg", "--output", str(target)]) == 0

    def titles(svg_bytes: bytes) -> set[str | None]:
        root = ElementTree.fromstring(svg_bytes)
        return {element.text for element in root.iter("{http://www.w3.org/2000/svg}title")}

    committed = (Path(__file__).parents[1] / "docs" / "dependency-map.svg").read_bytes()
    assert titles(committed) == titles(target.read_bytes())  # regenerate with the README's command if not
