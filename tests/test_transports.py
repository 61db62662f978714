"""The server as users run it: a subprocess over stdio, streamable HTTP and SSE."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
import httpx2
import pytest
from anyio.abc import Process
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from opscontext_mcp.transports import is_loopback

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-test-token"
_LISTENING = re.compile(rb"Uvicorn running on http://127\.0\.0\.1:(\d+)")


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCONTEXT_")}
    return {**env, **extra}


@asynccontextmanager
async def running(*args: str, token: str | None = TOKEN) -> AsyncIterator[tuple[str, list[bytes]]]:
    """Start `opscontext-mcp serve` on a free loopback port; yield its base URL and its stderr so far."""
    env = server_env(**({"OPSCONTEXT_TOKEN": token} if token else {}))
    command = [sys.executable, "-m", "opscontext_mcp", "serve", "--port", "0", *args]
    process: Process = await anyio.open_process(command, env=env)
    stderr: list[bytes] = []
    try:
        async with anyio.create_task_group() as group:
            port = anyio.Event()
            found: list[str] = []

            async def drain() -> None:
                assert process.stderr is not None
                async for chunk in process.stderr:
                    stderr.append(chunk)
                    match = _LISTENING.search(b"".join(stderr))
                    if match and not port.is_set():
                        found.append(match.group(1).decode())
                        port.set()

            group.start_soon(drain)
            with anyio.fail_after(30):
                await port.wait()
            yield f"http://127.0.0.1:{found[0]}", stderr
            group.cancel_scope.cancel()
    finally:
        process.terminate()
        with anyio.move_on_after(10):
            await process.wait()


async def test_stdio_serves_the_demo_to_a_real_client() -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "opscontext_mcp", "serve"], env=server_env())
    async with Client(params) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        answer = await client.call_tool("who_owns", {"service": "checkout"})
    assert {
        "find_service",
        "who_owns",
        "service_context",
        "what_changed",
        "dependency_neighbours",
        "blast_radius",
        "matching_runbook",
    } <= tools
    assert answer.structured_content["owner"]["name"] == "team-checkout"


async def test_streamable_http_requires_the_bearer_token_when_one_is_set() -> None:
    async with running("--transport", "http") as (url, stderr):
        async with httpx.AsyncClient(base_url=url) as http:
            health = await http.get("/healthz")
            refused = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
            wrong = await http.post("/mcp", json={}, headers={"Authorization": "Bearer nope"})
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as authed:
            async with Client(streamable_http_client(f"{url}/mcp", http_client=authed)) as client:
                answer = await client.call_tool("blast_radius", {"service": "orders-db"})
    assert health.status_code == 200
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert answer.structured_content["total"] == 4
    assert TOKEN.encode() not in b"".join(stderr)


async def test_sse_serves_with_the_token_and_refuses_without() -> None:
    async with running("--transport", "sse") as (url, _):
        async with httpx.AsyncClient(base_url=url) as http:
            refused = await http.get("/sse")
        async with Client(sse_client(f"{url}/sse", headers={"Authorization": f"Bearer {TOKEN}"})) as client:
            answer = await client.call_tool("find_service", {"query": "PaymentService"})
    assert refused.status_code == 401
    assert answer.structured_content["resolved"] == "payment"


async def test_without_a_token_loopback_http_is_open() -> None:
    async with running("--transport", "http", token=None) as (url, _):
        async with Client(f"{url}/mcp") as client:
            answer = await client.call_tool("find_service", {"query": "cart"})
    assert answer.structured_content["resolved"] == "cart"


async def test_binding_beyond_loopback_without_a_token_is_refused_at_start_up() -> None:
    result = await anyio.run_process(
        [sys.executable, "-m", "opscontext_mcp", "serve", "--transport", "http", "--host", "0.0.0.0"],
        env=server_env(),
        check=False,
    )
    assert result.returncode == 2
    assert b"refusing to listen on 0.0.0.0 without a token" in result.stderr
    assert result.stdout == b""


def test_loopback_addresses_are_recognised() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.5", "example.com", "::"))
