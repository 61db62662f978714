from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from mcp import Client

import opscontext_mcp.cache
from opscontext_mcp.clock import Clock
from opscontext_mcp.protocols import CatalogData
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.server import build_server
from tests.conftest import files_config
from tests.fakes import FakeConnector, service

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)


def runtime_with(tmp_path: Path, connector: FakeConnector) -> Runtime:
    return Runtime(config=files_config(tmp_path), connectors=[connector], clock=Clock(NOW))


async def test_sessions_come_and_go_without_closing_connectors_a_process_holds_open(tmp_path: Path) -> None:
    connector = FakeConnector("cat", catalog=CatalogData(services=(service("checkout"),)))
    runtime = runtime_with(tmp_path, connector)
    server = build_server(runtime=runtime)
    async with runtime.running():
        async with Client(server) as first:
            assert (await first.call_tool("find_service", {"query": "checkout"})).structured_content[
                "resolved"
            ] == "checkout"
        async with Client(server) as second:
            assert not (await second.call_tool("who_owns", {"service": "checkout"})).is_error
        assert connector.closed == 0
    assert connector.closed == 1
    assert connector.calls == 1


async def test_without_a_process_the_last_session_closes_the_connectors(tmp_path: Path) -> None:
    connector = FakeConnector("cat", catalog=CatalogData(services=(service("checkout"),)))
    server = build_server(runtime=runtime_with(tmp_path, connector))
    async with Client(server) as client:
        await client.call_tool("find_service", {"query": "checkout"})
        assert connector.closed == 0
    assert connector.closed == 1


async def test_when_no_snapshot_can_be_built_tools_say_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(inputs: object) -> None:
        raise RuntimeError("join exploded")

    monkeypatch.setattr(opscontext_mcp.cache, "build_snapshot", broken)
    server = build_server(runtime=runtime_with(tmp_path, FakeConnector("cat", catalog=CatalogData())))
    async with Client(server) as client:
        result = await client.call_tool("who_owns", {"service": "checkout"})
    assert result.is_error
    assert (
        "no data could be assembled from the configured sources: RuntimeError: join exploded" in result.content[0].text
    )
