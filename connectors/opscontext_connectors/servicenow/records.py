"""What every mapping shares: provenance and links into the instance, and one bad row never stopping the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import ValidationError

from opscontext_mcp.model import Provenance
from opscontext_mcp.protocols import Problem

from .values import Row, value

T = TypeVar("T")


class Skipped(Exception):
    """A row that is well formed but cannot be served; reported as a warning, not an error."""


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
    built = []
    for index, row in enumerate(rows):
        sys_id = value(row, "sys_id") if isinstance(row, dict) else None
        where = f"{table}/{sys_id}" if sys_id else f"{table}[{index}]"
        if sys_id is None:
            problems.append(Problem(location=where, reason="not a record with a sys_id"))
            continue
        try:
            record = build(row, sys_id)
        except Skipped as exc:
            problems.append(Problem(location=where, reason=str(exc), severity="warning"))
        except ValidationError as exc:
            problems.append(Problem(location=where, reason=_describe(exc)))
        except (ValueError, TypeError) as exc:
            problems.append(Problem(location=where, reason=str(exc)))
        else:
            if record is not None:
                built.append((sys_id, record))
    return built


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or 'record'}: {error['msg']}" for error in exc.errors()[:3]
    )
