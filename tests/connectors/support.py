"""Connectors under test talk to a respx router through the real httpx stack; waits are recorded, not slept."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import respx

from opscontext_mcp.protocols import ConnectorContext

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@dataclass
class Waits:
    seconds: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def http_context(router: respx.Router, now: datetime | None = None) -> tuple[ConnectorContext, Waits]:
    """A context whose HTTP goes to `router`, whose waits are recorded, and whose clock is fixed at `now` if given."""
    waits = Waits()
    context = ConnectorContext(base_dir=Path("."), transport=httpx.MockTransport(router.async_handler), sleep=waits)
    if now is not None:
        context = dataclasses.replace(context, now=lambda: now)
    return context, waits


def fixture(system: str, name: str) -> Any:
    return json.loads((FIXTURES / system / name).read_text(encoding="utf-8"))
