from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from opscontext_mcp.config import AppConfig, parse_config

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
DEMO_CONFIG = EXAMPLES / "demo.yaml"
BACKSTAGE_EXAMPLES = REPO / "tests" / "fixtures" / "backstage-examples"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def write_tree(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    """Write {relative path: str | YAML-able | JSON-able} under tmp_path; returns tmp_path."""

    def write(files: dict[str, Any]) -> Path:
        for name, content in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                path.write_text(content, encoding="utf-8")
            elif name.endswith(".json"):
                path.write_text(json.dumps(content), encoding="utf-8")
            elif (
                isinstance(content, list)
                and name.endswith((".yaml", ".yml"))
                and all(isinstance(d, dict) and "apiVersion" in d for d in content)
            ):
                path.write_text(yaml.safe_dump_all(content), encoding="utf-8")
            else:
                path.write_text(yaml.safe_dump(content), encoding="utf-8")
        return tmp_path

    return write


def files_config(base: Path, **extra: Any) -> AppConfig:
    raw = {"connectors": [{"name": "local", "type": "files", "path": "."}], **extra}
    return parse_config(raw, base_dir=base)


@pytest.fixture(scope="session")
def demo_server():  # type: ignore[no-untyped-def]
    """One server over the bundled demo for the session; each test opens its own client."""
    from opscontext_mcp.config import load_config
    from opscontext_mcp.server import build_server

    return build_server(load_config(DEMO_CONFIG, environ={}))


async def call(client: Any, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured content."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    assert json.loads(result.content[0].text) == _without_nulls(result.structured_content)
    return result.structured_content


async def call_error(client: Any, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    return result.content[0].text


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
