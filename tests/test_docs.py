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


def test_every_kind_of_gap_is_found_on_a_small_estate_with_its_weight() -> None:
    from datetime import date, timedelta

    from opscontext_mcp.analysis.gaps import documentation_gaps
    from opscontext_mcp.model import Runbook

    def runbook(name: str, services: tuple[str, ...], exercised: date | None, alerts: tuple[str, ...] = ()) -> Runbook:
        return Runbook(
            id=name,
            title=name,
            services=services,
            alerts=alerts,
            last_exercised=exercised,
            provenance=prov("docs", name),
        )

    alerts = [
        Alert(
            name="EdgeCertExpiring", service="edge", starts_at=NOW - timedelta(days=200), provenance=prov("am", "a1")
        ),
        Alert(name="diskfull", service="edge", starts_at=NOW, provenance=prov("am", "a2")),  # api's runbook answers it
    ]
    ghost = [Alert(name="Down", service="ghost", starts_at=NOW, provenance=prov("am", f"g{i}")) for i in range(3)]
    snapshot = build_snapshot(
        SnapshotInputs(
            built_at=NOW,
            services=[
                service("edge", tier=0),
                service("api", tier=1, owner=None),
                service("db", tier=3),
                *(service(f"caller-{i}", tier=2) for i in range(10)),
            ],
            dependencies=[
                *(declared(f"component:default/caller-{i}", "component:default/edge") for i in range(10)),
                declared("component:default/edge", "component:default/api"),
                observed("edge", "db"),
                observed("api", "cdn"),
            ],
            runbooks=[
                runbook("shared", ("db", "api"), date(2025, 1, 1), ("DiskFull",)),
                runbook("never", ("edge",), None),
                *(runbook(f"c{i}", (f"caller-{i}",), date(2026, 11, 1)) for i in range(10)),
            ],
            alerts=[*alerts, *ghost],
        )
    )
    found = {(g.kind, g.service): g for g in documentation_gaps(snapshot, NOW, timedelta(days=90))}
    assert set(found) == {
        ("no_owner", "api"),
        ("runbook_never_exercised", "edge"),
        ("runbook_stale", "api"),  # shared by db (tier 3) and api (tier 1): charged to the more critical
        ("alert_without_runbook", "edge"),  # still firing for 200 days; no runbook for edge or a neighbour answers it
        ("declared_not_observed", "edge"),  # edge's observed calls go to db, never to api
        ("observed_not_declared", "edge"),
        ("missing_from_catalog", "cdn"),
        ("missing_from_catalog", "ghost"),  # three alerts, one finding
    }
    assert found[("runbook_stale", "api")].services == ("db", "api")
    assert found[("no_owner", "api")].severity == "critical"  # high, tier 1
    assert found[("runbook_never_exercised", "edge")].severity == "critical"  # medium, tier 0, 10 dependents
    assert found[("missing_from_catalog", "ghost")].evidence == ("3 alerts: am:g0, am:g1, am:g2",)


def test_hostile_service_names_stay_inside_their_mermaid_label() -> None:
    snapshot = build_snapshot(
        SnapshotInputs(built_at=NOW, services=[service("x%%{init: {'theme':'dark'}}%%"), service("y#quot;")])
    )
    text = mermaid(snapshot, dependency_map(snapshot, NOW))
    assert "%%{" not in text and "#35;quot;" in text
    assert len([line for line in text.splitlines() if line.startswith("  n")]) == 2


def test_a_graphviz_that_fails_is_a_one_line_error_with_exit_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 3\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    assert main(["export-graph", "--config", str(DEMO_CONFIG), "--format", "svg"]) == 2
    assert "dot failed (3): syntax error in line 1" in capsys.readouterr().err
