"""What every mapping shares: provenance and links into the instance, and one bad row never stopping the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from opscontext_mcp.model import Provenance
from opscontext_mcp.protocols import Problem

from ..values import each
from .values import Ref, Row, value

T = TypeVar("T")


@dataclass(frozen=True)
class Origin:
    """Where the rows of one fetch come from: the connector's name, the instance and the moment."""

    source: str
    base_url: str
    fetched_at: datetime

    def url(self, table: str, sys_id: str) -> str:
        """The record's form in the instance UI."""
        return f"{self.base_url}/nav_to.do?uri={table}.do?sys_id={quote(sys_id, safe='')}"

    def provenance(self, table: str, sys_id: str) -> Provenance:
        return Provenance(source=self.source, fetched_at=self.fetched_at, ref=self.url(table, sys_id))


def required(row: Row, field: str) -> str:
    text = value(row, field)
    if text is None:
        raise ValueError(f"{field} is empty")
    return text


def each_row(
    table: str, rows: Iterable[Any], problems: list[Problem], build: Callable[[Row, str], T | None]
) -> list[tuple[str, T]]:
    """`build(row, sys_id)` for every row, with its sys_id; a row it cannot build becomes a problem."""

    def with_sys_id(row: Row) -> tuple[str, T] | None:
        sys_id = value(row, "sys_id")
        if sys_id is None:
            raise ValueError("not a record with a sys_id")
        record = build(row, sys_id)
        return None if record is None else (sys_id, record)

    return each(rows, table, problems, with_sys_id, key=lambda row: value(row, "sys_id"))


def service_ref(reference: Ref, names: dict[str, str]) -> str | None:
    """A CI reference as the join knows it (`servicenow:<sys_id>`); its display name is the fallback."""
    if reference.sys_id is None:
        return reference.display
    found = f"servicenow:{reference.sys_id}"
    if reference.display:
        names[found] = reference.display
    return found
