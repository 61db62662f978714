from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opscontext_mcp.config import ConfigError, default_config_path, load_config, parse_config
from tests.conftest import EXAMPLES


def test_env_references_are_replaced_and_defaults_apply(tmp_path: Path) -> None:
    raw = {
        "connectors": [
            {"name": "c", "type": "files", "path": "${DATA_DIR}/x", "note": "${MISSING:-fallback}", "cost": "$$5"}
        ],
    }
    config = parse_config(raw, base_dir=tmp_path, environ={"DATA_DIR": "/srv"})
    assert config.connectors[0]["path"] == "/srv/x"
    assert config.connectors[0]["note"] == "fallback"
    assert config.connectors[0]["cost"] == "$5"


def test_a_missing_environment_variable_names_the_key_path(tmp_path: Path) -> None:
    raw = {"connectors": [{"name": "bs", "type": "backstage", "token": "${BACKSTAGE_TOKEN}"}]}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, base_dir=tmp_path, environ={})
    assert caught.value.problems == ["connectors[0].token: environment variable BACKSTAGE_TOKEN is not set"]


def test_an_unknown_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    raw = {"connectors": [{"name": "c", "type": "files"}], "cahce": {"ttl_seconds": 5}}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, base_dir=tmp_path, environ={})
    [problem] = caught.value.problems
    assert problem.startswith("cahce: unknown key (did you mean 'cache'?)")


def test_a_wrong_type_names_the_nested_key_and_what_was_expected(tmp_path: Path) -> None:
    raw = {"connectors": [{"name": "c", "type": "files"}], "cache": {"ttl_seconds": "fast"}}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, base_dir=tmp_path, environ={})
    [problem] = caught.value.problems
    assert problem.startswith("cache.ttl_seconds: Input should be a valid number")
    assert "'fast'" in problem


def test_connector_entries_need_a_unique_name_and_a_type(tmp_path: Path) -> None:
    raw = {"connectors": [{"name": "a", "type": "files"}, {"name": "a", "type": "files"}, {"type": "files"}]}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, base_dir=tmp_path, environ={})
    assert caught.value.problems == ["connectors[1].name: 'a' is used by another connector"]


def test_a_fixed_clock_must_carry_a_timezone(tmp_path: Path) -> None:
    good = parse_config(
        {"connectors": [{"name": "a", "type": "files"}], "now": "2026-11-27T10:00:00Z"}, base_dir=tmp_path
    )
    assert good.now == datetime(2026, 11, 27, 10, tzinfo=UTC)
    with pytest.raises(ConfigError) as caught:
        parse_config({"connectors": [{"name": "a", "type": "files"}], "now": "2026-11-27T10:00:00"}, base_dir=tmp_path)
    assert caught.value.problems[0].startswith("now: ")
    assert "timezone" in caught.value.problems[0]


def test_load_config_reports_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "absent.yaml", environ={})
    broken = tmp_path / "broken.yaml"
    broken.write_text("connectors: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken, environ={})
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping at the top level"):
        load_config(scalar, environ={})


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    config_file = tmp_path / "conf" / "c.yaml"
    config_file.parent.mkdir()
    config_file.write_text("connectors: [{name: a, type: files, path: ./data}]\n", encoding="utf-8")
    config = load_config(config_file, environ={})
    assert config.base_dir == config_file.parent.resolve()
    assert config.source == str(config_file)


def test_without_a_path_the_environment_variable_then_the_demo_is_used(tmp_path: Path) -> None:
    chosen = tmp_path / "chosen.yaml"
    chosen.write_text("connectors: [{name: mine, type: files, path: .}]\n", encoding="utf-8")
    assert load_config(None, environ={"OPSCONTEXT_CONFIG": str(chosen)}).connectors[0]["name"] == "mine"
    demo = load_config(None, environ={})
    assert demo.source == str(default_config_path())
    assert [c["name"] for c in demo.connectors] == ["acme-shop", "cmdb-export"]


def test_a_config_file_reports_top_level_and_connector_problems_together(tmp_path: Path) -> None:
    config_file = tmp_path / "c.yaml"
    config_file.write_text(
        "connectors:\n  - {name: a, type: files, path: .}\n  - {name: b, type: files, pth: .}\ncache: {ttl_seconds: -1}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config_file, environ={})
    assert caught.value.problems[0].startswith("cache.ttl_seconds: Input should be greater than 0")
    assert "connectors[1].path: Field required" in caught.value.problems
    assert any(p.startswith("connectors[1].pth: unknown key (did you mean 'path'?)") for p in caught.value.problems)


@pytest.mark.parametrize("example", sorted((EXAMPLES / "config").glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_config_loads_with_its_connector_settings_checked(example: Path) -> None:
    # only the variables without a default: those a user must set
    needed = set(re.findall(r"\$\{([A-Z0-9_]+)\}", example.read_text(encoding="utf-8")))
    config = load_config(example, environ={name: "set-in-the-environment" for name in needed})
    assert config.connectors and all(entry["type"] for entry in config.connectors)
    for entry in config.connectors:
        assert config.fetch_timeout(entry["name"]) > 0
