"""Reading PagerDuty's JSON tolerantly: times, reference objects, lists of records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from opscontext_mcp.protocols import Problem

T = TypeVar("T")


def text(value: Any) -> str | None:
    """A non-empty string, or None; numbers become text (ids and build numbers arrive as both)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return (value.strip() or None) if isinstance(value, str) else None


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def name_of(reference: Any) -> str | None:
    """What a reference (`summary`) or an included full object (`name`) calls the thing."""
    found = mapping(reference)
    return text(found.get("name")) or text(found.get("summary"))


def ref_of(item: dict[str, Any]) -> str | None:
    """The record's page in PagerDuty when it gave one, else its id: what provenance points at."""
    return text(item.get("html_url")) or text(item.get("id"))


def parse_time(value: Any, field: str) -> datetime | None:
    """An ISO-8601 time; one without an offset is UTC, as PagerDuty answers when no time_zone is asked."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field}: expected an ISO-8601 time, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{field}: {value!r} is not an ISO-8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def required_time(value: Any, field: str) -> datetime:
    moment = parse_time(value, field)
    if moment is None:
        raise ValueError(f"{field} is missing")
    return moment


def utc_text(moment: datetime) -> str:
    """`2026-11-27T10:00:00Z`: the only form change events accept (another offset is a 400)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def each(items: list[Any], kind: str, problems: list[Problem], build: Callable[[dict[str, Any]], T | None]) -> list[T]:
    """Build every item; one that cannot be used becomes a problem naming it, the rest are kept."""
    built = []
    for index, item in enumerate(items):
        where = f"{kind}/{text(item.get('id')) or index}" if isinstance(item, dict) else f"{kind}[{index}]"
        if not isinstance(item, dict):
            problems.append(Problem(location=where, reason="expected an object"))
            continue
        try:
            record = build(item)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            problems.append(Problem(location=where, reason=str(exc) or type(exc).__name__))
        else:
            if record is not None:
                built.append(record)
    return built
