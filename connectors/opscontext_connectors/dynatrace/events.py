"""Deployment and configuration events as changes, one per service they touch.

An event is attached to one entity. CI tools attach deployments to where the code runs (a
process group, one of its instances, a host) as often as to a service, so an event on such an
entity is a change of every service running there; the connector asks Smartscape which those
are. The version is the deployment's `dt.event.deployment.version` (or its release build
version), the link its `ci_back_link`; an `author` or `user` property, which CI integrations
commonly add, names who made the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opscontext_mcp.model import Change, ChangeKind, Provenance

from ..values import Skipped, listed, mapping, text
from .selectors import entity_id
from .topology import RUNS_ON
from .values import Stub, required_moment, service_ref, stub

CHANGE_KINDS: dict[str, ChangeKind] = {
    "CUSTOM_DEPLOYMENT": "deploy",
    "CUSTOM_CONFIGURATION": "config",
    "MARKED_FOR_TERMINATION": "infra",
}
"""The event types that are changes, and the kind of change each is."""
VERSION_PROPERTIES = ("dt.event.deployment.version", "dt.event.deployment.release_build_version")
LINK_PROPERTIES = ("dt.event.deployment.ci_back_link",)
AUTHOR_PROPERTIES = ("author", "user")


def event_key(item: dict[str, Any]) -> str | None:
    return text(item.get("eventId"))


@dataclass(frozen=True)
class ChangeEvent:
    """An event read and checked, waiting to learn which services it touched."""

    event_id: str
    kind: ChangeKind
    summary: str
    at: datetime
    entity: Stub
    properties: dict[str, str]

    @classmethod
    def read(cls, item: dict[str, Any], queried_type: str) -> ChangeEvent:
        event_id, title = text(item.get("eventId")), text(item.get("title"))
        if event_id is None or title is None:
            raise ValueError("an event needs an eventId and a title")
        event_type = text(item.get("eventType")) or queried_type
        kind = CHANGE_KINDS.get(event_type)
        if kind is None:
            raise Skipped(f"a {event_type} event is not a change")
        entity = stub(item.get("entityId"))
        if entity is None:
            raise ValueError("the event names no entity")
        entity_id(entity.id)
        if not entity.is_service and entity.type not in RUNS_ON:
            raise Skipped(
                f"the event is on {entity.id} ({entity.type or 'no type'}), which neither is nor runs a service"
            )
        return cls(
            event_id=event_id,
            kind=kind,
            summary=title,
            at=required_moment(item.get("startTime"), "startTime"),
            entity=entity,
            properties=_properties(item.get("properties")),
        )

    def changes(self, services: list[str], source: str, fetched_at: datetime) -> list[Change]:
        provenance = Provenance(source=source, fetched_at=fetched_at, ref=self.event_id)
        return [
            Change(
                id=self.event_id if len(services) == 1 else f"{self.event_id}/{service}",
                service=service_ref(service),
                kind=self.kind,
                summary=self.summary,
                at=self.at,
                author=self._first(AUTHOR_PROPERTIES),
                version=self._first(VERSION_PROPERTIES),
                link=self._first(LINK_PROPERTIES),
                provenance=provenance,
            )
            for service in services
        ]

    def _first(self, keys: tuple[str, ...]) -> str | None:
        return next((self.properties[key] for key in keys if key in self.properties), None)


def _properties(value: Any) -> dict[str, str]:
    """Properties as a map: a list of `{key, value}` as events are read, or a map as they are sent."""
    pairs = [(mapping(item).get("key"), mapping(item).get("value")) for item in listed(value)]
    pairs += list(mapping(value).items())
    found: dict[str, str] = {}
    for key, raw in pairs:
        if isinstance(key, str) and (found_value := text(raw)) is not None:
            found.setdefault(key, found_value)
    return found
