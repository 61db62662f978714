"""Argument parsing shared by tools; failures are `ToolError`s the model can act on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from opscontext_mcp.analysis.common import UnknownService, require_service
from opscontext_mcp.replies import tidy
from opscontext_mcp.snapshot import ServiceEntry, Snapshot

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def arg(**constraints: Any) -> Any:
    """A tool parameter's Field, published without generated titles or null noise."""
    return Field(json_schema_extra=tidy, **constraints)


def service_argument(snapshot: Snapshot, name: str) -> ServiceEntry:
    try:
        return require_service(snapshot, name)
    except UnknownService as exc:
        raise ToolError(str(exc)) from None


def time_argument(value: str, now: datetime, field: str) -> datetime:
    """An RFC 3339 time, or a duration back from now such as `90m`, `6h`, `2d`."""
    match = _DURATION.match(value)
    if match:
        return now - timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ToolError(
            f"{field}: expected an RFC 3339 time (2026-11-27T09:00:00Z) or a duration like 90m, 6h, 2d; got {value!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
