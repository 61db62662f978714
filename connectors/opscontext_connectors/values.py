"""Reading upstream JSON tolerantly, shared by the built-in connectors.

Every reader accepts any JSON value and answers with the type it promises or "absent", so a
wrong-shaped field never raises where it is read; a record that cannot be used raises
`ValueError` from its mapping, and `each` turns that into a problem naming the record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from opscontext_mcp.protocols import Problem

T = TypeVar("T")


class Skipped(Exception):
    """A record that is well formed but cannot be served; reported as a warning, not an error."""


def text(value: Any) -> str | None:
    """A non-empty string, or None; numbers become text (ids and build numbers arrive as both)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return (value.strip() or None) if isinstance(value, str) else None


def mapping(value: Any) -> dict[str, Any]:
    """A field that should be an object; anything else counts as absent."""
    return value if isinstance(value, dict) else {}


def listed(value: Any) -> list[Any]:
    """A field that should be a list; anything else counts as absent."""
    return value if isinstance(value, list) else []


def parse_time(value: Any, field: str) -> datetime | None:
    """An ISO-8601 time with an offset, or None when absent; one without an offset is refused, not guessed."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field}: expected an ISO-8601 time, got {value!r:.60}")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{field}: {value!r:.60} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{field}: {value!r:.60} has no timezone")
    return moment


def required_time(value: Any, field: str) -> datetime:
    moment = parse_time(value, field)
    if moment is None:
        raise ValueError(f"{field} is missing")
    return moment


def utc_text(moment: datetime) -> str:
    """`2026-11-27T10:00:00Z`: the form every upstream accepts in a query."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> datetime:
    """The real time, for `fetched_at`; windows use the connector context's analysis clock."""
    return datetime.now(UTC)


def each(
    items: Iterable[Any],
    kind: str,
    problems: list[Problem],
    build: Callable[[dict[str, Any]], T | None],
    key: Callable[[dict[str, Any]], str | None] = lambda item: text(item.get("id")),
) -> list[T]:
    """`build(item)` for every object; one that cannot be used becomes a problem at `kind/<key>`.

    Raising `Skipped` makes it a warning. None from `build` drops the item silently.
    """
    built = []
    for index, item in enumerate(items):
        name = key(item) if isinstance(item, dict) else None
        where = f"{kind}/{name}" if name else f"{kind}[{index}]"
        if not isinstance(item, dict):
            problems.append(Problem(location=where, reason=f"expected an object, got {item!r:.60}"))
            continue
        try:
            record = build(item)
        except Skipped as exc:
            problems.append(Problem(location=where, reason=str(exc), severity="warning"))
        except ValidationError as exc:
            problems.append(Problem(location=where, reason=describe(exc)))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            problems.append(Problem(location=where, reason=str(exc) or type(exc).__name__))
        else:
            if record is not None:
                built.append(record)
    return built


def describe(exc: ValidationError) -> str:
    """A model's validation failure in one line: `field.path: message; …` (at most three)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or 'record'}: {error['msg']}" for error in exc.errors()[:3]
    )
