"""Encoded queries (`sysparm_query`) built so that no value can add or change a condition.

`^` separates conditions (`^OR`, `^NQ`, `^ORDERBY…` too) and `=` ends a field name, so a value
holding either could smuggle in a condition of its own, and the instance runs a value starting
with `javascript:` as a server-side script: such values are refused, never escaped (the encoding
has no escape). Only the trusted config file may add a raw fragment (`ci_filter`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

Operator = Literal["=", "!=", ">=", "<="]

_FIELD = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*")
_FORBIDDEN = ("^", "=", "\n", "\r")


class UnsafeQueryValue(ValueError):
    """A value that would change the meaning of an encoded query."""


def literal(value: str) -> str:
    """`value` as it may stand on the right of an operator, or `UnsafeQueryValue`."""
    for character in _FORBIDDEN:
        if character in value:
            raise UnsafeQueryValue(f"refusing {value!r} in an encoded query: it contains {character!r}")
    if value.strip().lower().startswith("javascript:"):
        raise UnsafeQueryValue(f"refusing {value!r} in an encoded query: the instance would run it as a script")
    return value


def timestamp(moment: datetime) -> str:
    """`YYYY-MM-DD HH:MM:SS` in UTC, the way the Table API stores and compares dates."""
    if moment.tzinfo is None:
        raise ValueError("refusing a naive datetime in an encoded query: give a timezone")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _field(name: str) -> str:
    if not _FIELD.fullmatch(name):
        raise UnsafeQueryValue(f"refusing {name!r} as a field name in an encoded query")
    return name


class EncodedQuery:
    """Conditions joined by AND; `or_where` adds an alternative to the condition before it."""

    def __init__(self) -> None:
        self._conditions: list[str] = []
        self._fragments: list[str] = []
        self._order: list[str] = []

    def where(self, field: str, operator: Operator, value: str | datetime) -> EncodedQuery:
        self._conditions.append(self._condition(field, operator, value))
        return self

    def where_in(self, field: str, values: list[str]) -> EncodedQuery:
        """`field` is one of `values` (none may hold a comma, which separates them)."""
        if not values:
            raise ValueError("where_in needs at least one value")
        for item in values:
            if "," in item:
                raise UnsafeQueryValue(f"refusing {item!r} in an IN list: it contains ','")
        self._conditions.append(f"{_field(field)}IN{','.join(literal(item) for item in values)}")
        return self

    def or_where(self, field: str, operator: Operator, value: str | datetime) -> EncodedQuery:
        if not self._conditions:
            raise ValueError("or_where needs a condition before it")
        self._conditions.append("OR" + self._condition(field, operator, value))
        return self

    def trusted(self, fragment: str | None) -> EncodedQuery:
        """Append a fragment from the config file as it is (an operator's own filter)."""
        if fragment and fragment.strip("^ "):
            self._fragments.append(fragment.strip("^ "))
        return self

    def order_by(self, field: str, *, descending: bool = False) -> EncodedQuery:
        self._order.append(("ORDERBYDESC" if descending else "ORDERBY") + _field(field))
        return self

    def encode(self) -> str:
        return "^".join([*self._conditions, *self._fragments, *self._order])

    @staticmethod
    def _condition(field: str, operator: Operator, value: str | datetime) -> str:
        text = timestamp(value) if isinstance(value, datetime) else literal(value)
        return f"{_field(field)}{operator}{text}"
