"""Reading Table API values: every value is a string, and a field comes in one of several shapes.

With `sysparm_display_value=all` a field is `{"display_value": …, "value": …}` (references add
`link`); without it a field is the bare value, a reference its bare sys_id; an empty reference
may be `""` instead of an object. Every reader here accepts all of those.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..values import text

Row = dict[str, Any]


@dataclass(frozen=True)
class Ref:
    """A reference field: the referenced sys_id and, when the upstream sent it, its display value."""

    sys_id: str | None
    display: str | None

    @property
    def label(self) -> str | None:
        """The display value, else the bare sys_id (other sources know CIs by sys_id too)."""
        return self.display or self.sys_id


def value(row: Row, field: str) -> str | None:
    """The stored value (a sys_id for a reference; UTC for a date), or None when empty."""
    raw = row.get(field)
    if isinstance(raw, dict):
        return text(raw.get("value"))
    return text(raw)


def display(row: Row, field: str) -> str | None:
    """The display value, else the stored value, or None when empty."""
    raw = row.get(field)
    if isinstance(raw, dict):
        return text(raw.get("display_value")) or text(raw.get("value"))
    return text(raw)


def ref(row: Row, field: str) -> Ref:
    """A reference in any of its shapes; `Ref(None, None)` when empty or absent."""
    raw = row.get(field)
    if isinstance(raw, dict):
        link = text(raw.get("link"))
        sys_id = text(raw.get("value")) or (link.rstrip("/").rpartition("/")[2] if link else None)
        return Ref(sys_id=sys_id or None, display=text(raw.get("display_value")))
    return Ref(sys_id=text(raw), display=None)


def moment(row: Row, field: str) -> datetime | None:
    """A date-time field's stored value (`YYYY-MM-DD HH:MM:SS`, UTC) as an aware datetime.

    The display value is in the reading user's time zone, so it is never used.
    """
    stored = value(row, field)
    if stored is None:
        return None
    try:
        parsed = datetime.fromisoformat(stored)
    except ValueError:
        raise ValueError(f"{field}: {stored!r} is not a date-time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
