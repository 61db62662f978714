"""Dynatrace's own values: entity references, entity ids and millisecond timestamps."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..values import mapping, text

SERVICE = "SERVICE"


def service_ref(entity_id: str) -> str:
    """How a Dynatrace service is named to the join: as catalogs annotate it (`dynatrace.com/dynatrace-entity-id`)."""
    return f"dynatrace:{entity_id}"


@dataclass(frozen=True)
class Stub:
    """A reference to an entity: its id, its type and, where Dynatrace gave one, its name."""

    id: str
    type: str
    name: str | None = None

    @property
    def is_service(self) -> bool:
        return self.type == SERVICE


def stub(value: Any) -> Stub | None:
    """An entity reference in either shape Dynatrace uses, or None when it names no entity.

    Relationships list `{id, type}`; problems and events nest it, `{entityId: {id, type}, name}`.
    The type, when absent, is the id's prefix (`SERVICE-…` is a service).
    """
    found = mapping(value)
    nested = found.get("entityId")
    if isinstance(nested, dict):
        entity_id, entity_type = text(nested.get("id")), text(nested.get("type"))
    else:
        entity_id, entity_type = text(nested) or text(found.get("id")), text(found.get("type"))
    if entity_id is None:
        return None
    if entity_type is None and "-" in entity_id:
        entity_type = entity_id.rsplit("-", 1)[0]
    return Stub(id=entity_id, type=(entity_type or "").upper(), name=text(found.get("name")))


def stubs(value: Any) -> list[Stub]:
    """The usable references of a list, each once, in order."""
    found: dict[str, Stub] = {}
    for item in value if isinstance(value, list) else ():
        if (reference := stub(item)) is not None:
            found.setdefault(reference.id, reference)
    return list(found.values())


def moment(value: Any, field: str) -> datetime | None:
    """A UTC millisecond timestamp; None when absent or negative (`endTime: -1` means "still open")."""
    if value is None:
        return None
    epoch_ms = number(value)
    if epoch_ms is None:
        raise ValueError(f"{field}: expected milliseconds since the epoch, got {value!r:.60}")
    if epoch_ms < 0:
        return None
    try:
        return datetime.fromtimestamp(epoch_ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{field}: {value!r:.60} is not a time") from None


def required_moment(value: Any, field: str) -> datetime:
    found = moment(value, field)
    if found is None:
        raise ValueError(f"{field} is missing")
    return found


def milliseconds(at: datetime) -> int:
    """The form every `from`/`to` here is sent in: UTC milliseconds, which no Dynatrace version misreads."""
    return round(at.timestamp() * 1000)


def number(value: Any) -> float | None:
    """A finite number, or None; Dynatrace sends numbers, a proxy in between may have made them text."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)
