from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from opscontext_mcp.cli import main
from tests.conftest import BACKSTAGE_EXAMPLES, DEMO_CONFIG


def test_check_prints_a_health_table_and_a_snapshot_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(DEMO_CONFIG)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["source", "type", "capabilities", "status", "ms", "detail"]
    assert lines[1].split()[:4] == [
        "acme-shop",
        "files",
        "alerts,catalog,changes,oncall,runbooks,slo,topology,traces",
        "ok",
    ]
    assert lines[2].split()[:4] == ["cmdb-export", "files", "catalog", "ok"]
    assert "22 services" in out and "0 problems, 0 unresolved names" in out


def test_check_fails_and_lists_what_a_source_could_not_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(BACKSTAGE_EXAMPLES, tmp_path / "env" / "catalog")
    (tmp_path / "empty").mkdir()
    config = tmp_path / "c.yaml"
    config.write_text(
        "connectors:\n  - {name: examples, type: files, path: ./env}\n  - {name: empty, type: files, path: ./empty}\n",
        encoding="utf-8",
    )
    assert main(["check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "no known files" in out
    assert "invalid Component name 'invalid component'" in out


def test_a_connector_pointing_at_a_missing_folder_is_refused_with_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("connectors:\n  - {name: docs, type: files, path: ./nowhere}\n", encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 2
    assert f"connectors[0]: path: folder {tmp_path / 'nowhere'} does not exist" in capsys.readouterr().err


def test_a_malformed_config_names_the_bad_key_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("connectors:\n  - {name: a, type: files, path: .}\ncache: {ttl_seconds: -1}\n", encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "cache.ttl_seconds: Input should be greater than 0" in err


def test_serve_refuses_an_unknown_connector_type_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("connectors:\n  - {name: a, type: backstge}\n", encoding="utf-8")
    assert main(["serve", "--config", str(config)]) == 2
    assert "connectors[0].type: unknown connector type 'backstge'" in capsys.readouterr().err
