"""A stand-in for the OpenTelemetry Collector's Prometheus exporter: servicegraph metrics that grow.

Each counter starts at zero and grows by its edge's increments on each of the first `growing`
scrapes. Prometheus commits a scrape after reading it, so once the exporter has served scrape
`growing + 2`, the samples 0, 1×, …, growing× are all stored and queryable. The exporter sets
an event then: tests wait on it (bounded), never on a timer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import anyio.abc

BOUNDS = (0.05, 0.1, 0.25, 0.5)
"""Latency histogram bucket bounds, in seconds."""


@dataclass(frozen=True)
class Edge:
    client: str
    server: str
    connection_type: str
    requests: int
    failed: int
    durations: dict[float, int]
    """Requests per scrape by the upper bound of their latency bucket."""

    def labels(self) -> str:
        return f'client="{self.client}",server="{self.server}",connection_type="{self.connection_type}"'


@dataclass
class Exporter:
    """Serves `edges`, each counter growing by its edge's increments on each of the first `growing` scrapes."""

    edges: tuple[Edge, ...]
    wanted: int
    """The scrape after which `served` is set."""
    growing: int
    scrapes: int = 0

    def __post_init__(self) -> None:
        self.served = anyio.Event()

    def page(self, times: int) -> str:
        """Every series in the text format, after `times` rounds of increments."""
        lines = [
            "# TYPE traces_service_graph_request_total counter",
            *(f"traces_service_graph_request_total{{{e.labels()}}} {e.requests * times}" for e in self.edges),
            "# TYPE traces_service_graph_request_failed_total counter",
            *(
                f"traces_service_graph_request_failed_total{{{e.labels()}}} {e.failed * times}"
                for e in self.edges
                if e.failed
            ),
        ]
        for side in ("server", "client"):
            name = f"traces_service_graph_request_{side}_seconds"
            lines.append(f"# TYPE {name} histogram")
            for edge in self.edges:
                below = 0
                for bound in BOUNDS:
                    below += edge.durations.get(bound, 0)
                    lines.append(f'{name}_bucket{{{edge.labels()},le="{bound}"}} {below * times}')
                lines.append(f'{name}_bucket{{{edge.labels()},le="+Inf"}} {edge.requests * times}')
                lines.append(f"{name}_count{{{edge.labels()}}} {edge.requests * times}")
        return "\n".join(lines) + "\n"

    async def answer(self, stream: anyio.abc.SocketStream) -> None:
        async with stream:
            request = b""
            try:
                while b"\r\n\r\n" not in request:
                    request += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return
            self.scrapes += 1
            page = self.page(min(self.scrapes - 1, self.growing)).encode()
            head = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {len(page)}\r\n"
            await stream.send(head.encode() + b"Connection: close\r\n\r\n" + page)
            if self.scrapes >= self.wanted:
                self.served.set()


@asynccontextmanager
async def serving(exporter: Exporter) -> AsyncIterator[int]:
    """The exporter on a free loopback port, until the block ends."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, exporter.answer)
        yield port
        group.cancel_scope.cancel()
