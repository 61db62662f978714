"""PagerDuty's reference objects: what a reference calls the thing, and where it lives."""

from __future__ import annotations

from typing import Any

from ..values import mapping, text


def name_of(reference: Any) -> str | None:
    """What a reference (`summary`) or an included full object (`name`) calls the thing."""
    found = mapping(reference)
    return text(found.get("name")) or text(found.get("summary"))


def ref_of(item: dict[str, Any]) -> str | None:
    """The record's page in PagerDuty when it gave one, else its id: what provenance points at."""
    return text(item.get("html_url")) or text(item.get("id"))
