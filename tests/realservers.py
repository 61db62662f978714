"""Real Prometheus and Alertmanager (Debian's packages), started by the tests on loopback ports.

Each server runs in a temporary folder of its own and is ready when its log says so: the start
waits on that line (bounded), never on a timer. `make test` installs the packages; a missing
binary fails the test with that hint rather than skipping it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.abc
import pytest
from anyio.streams.text import TextReceiveStream

PROMETHEUS_READY = "Server is ready to receive web requests."
ALERTMANAGER_READY = 'msg="Listening on"'
START_TIMEOUT_SECONDS = 30


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is not installed: `make test` installs it (apt-get install prometheus prometheus-alertmanager)"
        )
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    url: str
    folder: Path
    process: anyio.abc.Process
    log: list[str] = field(default_factory=list)


@asynccontextmanager
async def serving(args: Sequence[str], ready: str, url: str, folder: Path) -> AsyncIterator[Server]:
    """Run `args` until the block ends; enter once a log line contains `ready`."""
    process = await anyio.open_process(list(args), cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Server(url=url, folder=folder, process=process)
    started = anyio.Event()

    async def read_log() -> None:
        assert process.stderr is not None
        async for chunk in TextReceiveStream(process.stderr):
            for line in chunk.splitlines():
                server.log.append(line)
                if ready in line:
                    started.set()

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(read_log)
            try:
                with anyio.fail_after(START_TIMEOUT_SECONDS):
                    await started.wait()
            except TimeoutError:
                tail = "\n".join(server.log[-20:])
                pytest.fail(f"{args[0]} did not get ready within {START_TIMEOUT_SECONDS} s:\n{tail}")
            yield server
            group.cancel_scope.cancel()
    finally:
        await stop(server)


async def stop(server: Server) -> None:
    """Stop the server (also mid-test, to see a source go down); a second call does nothing."""
    if server.process.returncode is None:
        server.process.terminate()
        with anyio.move_on_after(10):
            await server.process.wait()
        if server.process.returncode is None:
            server.process.kill()
            await server.process.wait()


@asynccontextmanager
async def prometheus(folder: Path, config: str) -> AsyncIterator[Server]:
    """A Prometheus with `config` as its prometheus.yml, on a free loopback port."""
    (folder / "prometheus.yml").write_text(config, encoding="utf-8")
    port = free_port()
    args = [
        binary("prometheus"),
        "--config.file=prometheus.yml",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    async with serving(args, PROMETHEUS_READY, f"http://127.0.0.1:{port}", folder) as server:
        yield server


@asynccontextmanager
async def alertmanager(folder: Path, config: str) -> AsyncIterator[Server]:
    """An Alertmanager with `config` as its alertmanager.yml, clustering off, on a free loopback port."""
    (folder / "alertmanager.yml").write_text(config, encoding="utf-8")
    port = free_port()
    args = [
        binary("prometheus-alertmanager"),
        "--config.file=alertmanager.yml",
        f"--storage.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    async with serving(args, ALERTMANAGER_READY, f"http://127.0.0.1:{port}", folder) as server:
        yield server
