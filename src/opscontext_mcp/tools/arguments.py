"""Argument parsing shared by tools; failures are `ToolError`s the model can act on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from opscontext_mcp.analysis.common import UnknownService, require_service
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.schemas import tidy
from opscontext_mcp.snapshot import ServiceEntry, Snapshot

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_LOOKBACK = timedelta(days=366)


def arg(**constraints: Any) -> Any:
    """A tool parameter's Field, published without generated titles or null noise."""
    return Field(json_schema_extra=tidy, **constraints)


async def current_snapshot(runtime: Runtime) -> Snapshot:
    """The snapshot to answer from; if none could ever be built, a readable reason."""
    try:
        return await runtime.snapshot()
    except Exception as exc:  # no snapshot at all is the one failure no answer can degrade around
        raise ToolError(f"no data could be assembled from the configured sources: {type(exc).__name__}: {exc}") from exc


def service_argument(snapshot: Snapshot, name: str) -> ServiceEntry:
    try:
        return require_service(snapshot, name)
    except UnknownService as exc:
        raise ToolError(str(exc)) from None


def time_argument(value: str, now: datetime, field: str) -> datetime:
    """An RFC 3339 time, or a duration back from now such as `90m`, `6h`, `2d`."""
    match = _DURATION.match(value)
    if match:
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
        if seconds > MAX_LOOKBACK.total_seconds():
            raise ToolError(
                f"{field}: {value!r} reaches back more than {MAX_LOOKBACK.days} days; ask for a shorter window"
            )
        return now - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ToolError(
            f"{field}: expected an RFC 3339 time (2026-11-27T09:00:00Z) or a duration like 90m, 6h, 2d; got {value!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
