"""Smartscape service entities as observed `calls` dependencies, and which services run where.

A service's `fromRelationships.calls` lists the services it calls, its `toRelationships.calls`
the services that call it, so most edges are read twice, once from each end; each is kept
once, with the entity it was first read from as its provenance. Smartscape says that a call
was seen, not how many: the edges carry no traffic numbers. Dynatrace draws `calls` between
services (a database is a service too); a call to anything else is left out with a
warning, since the join only knows services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opscontext_mcp.model import Dependency, DependencyKind, Provenance
from opscontext_mcp.protocols import Batch, Problem

from ..values import each, mapping, text
from .values import Stub, service_ref, stub, stubs

CALLS = "calls"
RUNS_ON = {"PROCESS_GROUP": "runsOn", "PROCESS_GROUP_INSTANCE": "runsOnProcessGroupInstance", "HOST": "runsOnHost"}
"""The relation from a service to each kind of entity it runs on, as `fromRelationships` names it."""


def entity_key(item: dict[str, Any]) -> str | None:
    return text(item.get("entityId"))


def named_entity(item: dict[str, Any], names: dict[str, str]) -> Stub:
    """The entity a record describes; its display name is remembered for the join."""
    entity = stub({"id": item.get("entityId"), "type": item.get("type"), "name": item.get("displayName")})
    if entity is None:
        raise ValueError("an entity needs an entityId")
    if entity.name:
        names[service_ref(entity.id)] = entity.name
    return entity


@dataclass
class TopologyReader:
    source: str
    fetched_at: datetime
    problems: list[Problem]
    edges: dict[tuple[str, str], Dependency] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def read(self, entities: list[Any]) -> Batch[Dependency]:
        each(entities, "entities", self.problems, self._entity, key=entity_key)
        return Batch(
            records=tuple(self.edges.values()), problems=tuple(self.problems), service_names=tuple(self.names.items())
        )

    def _entity(self, item: dict[str, Any]) -> None:
        entity = named_entity(item, self.names)
        callees = stubs(mapping(item.get("fromRelationships")).get(CALLS))
        callers = stubs(mapping(item.get("toRelationships")).get(CALLS))
        left_out = [other for other in (*callees, *callers) if not other.is_service]
        if left_out:
            shown = ", ".join(f"{other.id} ({other.type or 'no type'})" for other in left_out[:5])
            self.problems.append(
                Problem(
                    location=f"entities/{entity.id}",
                    reason=f"calls between a service and {len(left_out)} entities that are not services "
                    f"were left out: {shown}",
                    severity="warning",
                )
            )
        provenance = Provenance(source=self.source, fetched_at=self.fetched_at, ref=entity.id)
        pairs = [(entity.id, callee.id) for callee in callees if callee.is_service]
        pairs += [(caller.id, entity.id) for caller in callers if caller.is_service]
        for caller, callee in pairs:
            if (caller, callee) not in self.edges:
                self.edges[caller, callee] = Dependency(
                    caller=service_ref(caller),
                    callee=service_ref(callee),
                    kind=DependencyKind.OBSERVED,
                    relation=CALLS,
                    provenance=provenance,
                )


def services_running_on(entities: list[Any], problems: list[Problem], names: dict[str, str]) -> dict[str, list[str]]:
    """For each entity id: the services that are it, or run on it (a process group, its instance, a host)."""
    found: dict[str, dict[str, None]] = {}

    def index(item: dict[str, Any]) -> None:
        service = named_entity(item, names)
        found.setdefault(service.id, {})[service.id] = None
        relations = mapping(item.get("fromRelationships"))
        for relation in RUNS_ON.values():
            for place in stubs(relations.get(relation)):
                found.setdefault(place.id, {})[service.id] = None

    each(entities, "entities", problems, index, key=entity_key)
    return {place: list(services) for place, services in found.items()}
