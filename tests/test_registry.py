from __future__ import annotations

from pathlib import Path

import pytest
from opscontext_connectors.files import FilesConnector

from opscontext_mcp.config import ConfigError, parse_config
from opscontext_mcp.protocols import Capability, ConnectorContext, ConnectorSettings, Health, HttpConnectorSettings
from opscontext_mcp.registry import build_connectors, installed_connector_types


def test_the_builtin_files_connector_is_found_through_the_entry_point_group() -> None:
    assert installed_connector_types()["files"] is FilesConnector


def test_an_unknown_connector_type_lists_what_is_installed(tmp_path: Path) -> None:
    config = parse_config({"connectors": [{"name": "x", "type": "fils", "path": "."}]}, base_dir=tmp_path)
    with pytest.raises(ConfigError) as caught:
        build_connectors(config)
    [problem] = caught.value.problems
    assert problem.startswith("connectors[0].type: unknown connector type 'fils' (did you mean 'files'?)")
    assert "installed: " in problem and "files" in problem


def test_connector_settings_errors_carry_the_entry_index(tmp_path: Path) -> None:
    config = parse_config(
        {"connectors": [{"name": "ok", "type": "files", "path": "."}, {"name": "bad", "type": "files", "pth": "."}]},
        base_dir=tmp_path,
    )
    with pytest.raises(ConfigError) as caught:
        build_connectors(config)
    assert "connectors[1].path: Field required" in caught.value.problems
    assert any(p.startswith("connectors[1].pth: unknown key (did you mean 'path'?)") for p in caught.value.problems)


class _Liar:
    """Claims the alerts capability without implementing fetch_alerts."""

    class Settings(ConnectorSettings):
        pass

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        self.name = settings.name
        self.capabilities = frozenset({Capability.ALERTS})

    async def check(self) -> Health:
        return Health(ok=True, detail="")

    async def aclose(self) -> None:
        return None


def test_a_connector_must_implement_every_capability_it_lists(tmp_path: Path) -> None:
    config = parse_config({"connectors": [{"name": "liar", "type": "liar"}]}, base_dir=tmp_path)
    with pytest.raises(ConfigError) as caught:
        build_connectors(config, {"liar": _Liar})  # type: ignore[dict-item]
    assert (
        "connectors[0].type: connector type 'liar' lists alerts but does not implement AlertProvider"
        in caught.value.problems[0]
    )


def test_a_files_connector_pointing_nowhere_is_a_config_error(tmp_path: Path) -> None:
    config = parse_config({"connectors": [{"name": "docs", "type": "files", "path": "./missing"}]}, base_dir=tmp_path)
    with pytest.raises(ConfigError) as caught:
        build_connectors(config)
    assert caught.value.problems == [f"connectors[0]: path: folder {tmp_path / 'missing'} does not exist"]


class _Http:
    Settings = HttpConnectorSettings

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        self.name = settings.name
        self.settings = settings
        self.capabilities = frozenset()

    async def check(self) -> Health:
        return Health(ok=True, detail="")

    async def aclose(self) -> None:
        return None


def test_http_settings_keep_secrets_out_of_reprs_and_errors(tmp_path: Path) -> None:
    config = parse_config(
        {"connectors": [{"name": "bs", "type": "http", "base_url": "https://backstage.example", "token": "${TOKEN}"}]},
        base_dir=tmp_path,
        environ={"TOKEN": "s3cret-value"},
    )
    [connector] = build_connectors(config, {"http": _Http})  # type: ignore[dict-item]
    assert connector.settings.token.get_secret_value() == "s3cret-value"  # type: ignore[attr-defined]
    assert "s3cret-value" not in repr(connector.settings) and "s3cret-value" not in str(connector.settings)  # type: ignore[attr-defined]
    bad = parse_config(
        {"connectors": [{"name": "bs", "type": "http", "base_url": "not a url", "token": 12345, "username": "u"}]},
        base_dir=tmp_path,
    )
    with pytest.raises(ConfigError) as caught:
        build_connectors(bad, {"http": _Http})  # type: ignore[dict-item]
    text = "\n".join(caught.value.problems)
    assert "connectors[0].base_url: Input should be a valid URL" in text
    assert "connectors[0].token" in text and "12345" not in text
