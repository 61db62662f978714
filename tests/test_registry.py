from __future__ import annotations

from pathlib import Path

import pytest
from opscontext_connectors.files import FilesConnector

from opscontext_mcp.config import ConfigError, parse_config
from opscontext_mcp.protocols import Capability, ConnectorContext, ConnectorSettings, Health
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
    with pytest.raises(TypeError, match="lists alerts but does not implement AlertProvider"):
        build_connectors(config, {"liar": _Liar})  # type: ignore[dict-item]
