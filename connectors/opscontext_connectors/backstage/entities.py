"""Backstage entities (descriptor YAML or catalog API JSON) into catalog records.

Shared by the `files` connector (catalog-info.yaml) and the `backstage` connector (the
catalog API). Where an entity carries `relations` — the catalog API computes them — they are
authoritative for ownership, dependencies, APIs and membership; otherwise `spec` is read.
Invalid entities are reported as problems; nothing here raises for bad data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opscontext_mcp.model import (
    Dependency,
    DependencyKind,
    EntityKind,
    Link,
    Person,
    Provenance,
    Service,
    System,
    Team,
)
from opscontext_mcp.protocols import CatalogData, Problem

from .refs import EntityRef, mapping, parse_ref, ref_list

_NAME = re.compile(r"^[a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*$")
_NAMESPACE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_IGNORED_KINDS = frozenset({"domain", "environment", "template"})
_TIER_PREFIX = re.compile(r"^(?:tier[-_ ]?)?(\d)$", re.IGNORECASE)
_EXTERNAL_ID_ANNOTATIONS = {
    "pagerduty.com/service-id": "pagerduty",
    "dynatrace.com/dynatrace-entity-id": "dynatrace",
    "servicenow.com/ci-sys-id": "servicenow",
    "opsgenie.com/component-selector": "opsgenie",
    "github.com/project-slug": "github",
    "backstage.io/kubernetes-id": "kubernetes",
    "argocd/app-name": "argocd",
}
_CHAT_ANNOTATIONS = ("slack.com/channel-name", "slack.com/channel", "opscontext.io/chat-channel")


@dataclass
class CatalogBuilder:
    """Collects records and problems while entities are read; `data()` links APIs and hands them over."""

    source: str
    fetched_at: datetime
    problems: list[Problem] = field(default_factory=list)
    seen_entities: dict[EntityRef, str] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    systems: list[System] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    provided_apis: dict[EntityRef, list[EntityRef]] = field(default_factory=dict)
    consumed_apis: list[tuple[EntityRef, EntityRef, str]] = field(default_factory=list)
    api_refs: set[EntityRef] = field(default_factory=set)

    def problem(self, location: str, reason: str, severity: str = "error") -> None:
        self.problems.append(Problem(location=location, reason=reason, severity=severity))  # type: ignore[arg-type]

    def provenance(self, location: str) -> Provenance:
        return Provenance(source=self.source, fetched_at=self.fetched_at, ref=location)

    def data(self) -> CatalogData:
        _link_apis(self)
        return CatalogData(
            services=tuple(self.services),
            teams=tuple(self.teams),
            people=tuple(self.people),
            systems=tuple(self.systems),
            dependencies=tuple(self.dependencies),
            problems=tuple(self.problems),
        )


def read_entity(catalog: CatalogBuilder, entity: Any, where: str) -> dict[str, Any] | None:
    """Map one entity; a Location's spec is returned for the caller to follow, anything else is kept."""
    if not isinstance(entity, dict):
        catalog.problem(where, "expected an entity mapping with apiVersion, kind, metadata, spec")
        return None
    api_version, kind = entity.get("apiVersion"), entity.get("kind")
    metadata = entity.get("metadata")
    spec = entity.get("spec") or {}
    if not isinstance(api_version, str) or not isinstance(kind, str) or not isinstance(metadata, dict):
        catalog.problem(where, "missing apiVersion, kind or metadata")
        return None
    if not isinstance(spec, dict):
        catalog.problem(where, "spec must be a mapping")
        return None
    name = metadata.get("name")
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > 63:
        catalog.problem(
            where,
            f"invalid {kind} name {name!r}: names are 1-63 characters of [a-zA-Z0-9] separated by single - _ or .",
        )
        return None
    namespace = metadata.get("namespace") or "default"
    if not isinstance(namespace, str) or not _NAMESPACE.match(namespace):
        catalog.problem(where, f"invalid namespace {namespace!r} on {kind} {name!r}")
        return None
    kind_key = kind.lower()
    if kind_key == "location":
        return spec
    ref = EntityRef(kind_key, namespace.lower(), name.lower())
    if ref in catalog.seen_entities:
        catalog.problem(
            where, f"duplicate entity {ref}: already defined in {catalog.seen_entities[ref]}; kept the first"
        )
        return None
    catalog.seen_entities[ref] = where
    annotations = {str(k): str(v) for k, v in mapping(metadata.get("annotations")).items()}
    try:
        if kind_key in ("component", "resource"):
            _read_service(catalog, ref, entity, annotations, where)
        elif kind_key == "group":
            _read_group(catalog, ref, entity, annotations, where)
        elif kind_key == "user":
            _read_user(catalog, ref, entity, annotations, where)
        elif kind_key == "system":
            owner = _owner(entity, ref)
            catalog.systems.append(
                System(
                    name=name,
                    title=metadata.get("title"),
                    owner=str(owner) if owner else None,
                    domain=spec.get("domain"),
                    provenance=catalog.provenance(where),
                )
            )
        elif kind_key == "api":
            catalog.api_refs.add(ref)
        elif kind_key not in _IGNORED_KINDS:
            catalog.problem(where, f"kind {kind!r} is not used by opscontext; ignored", "warning")
    except Exception as exc:  # one malformed entity must never cost the rest of the catalog
        catalog.seen_entities.pop(ref, None)
        catalog.problem(where, f"unusable {kind} {name!r}: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
    return None


def _links(metadata: dict[str, Any]) -> tuple[Link, ...]:
    links = []
    for item in metadata.get("links") or []:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            links.append(Link(url=item["url"], title=item.get("title"), type=item.get("type") or item.get("icon")))
    return tuple(links)


def _tier(metadata: dict[str, Any], annotations: dict[str, str]) -> int | None:
    labels = mapping(metadata.get("labels"))
    for raw in (labels.get("tier"), annotations.get("opscontext.io/tier")):
        match = _TIER_PREFIX.match(str(raw).strip()) if raw is not None else None
        if match:
            return int(match.group(1))
    return None


def _relations(entity: dict[str, Any], kind: str) -> list[EntityRef] | None:
    """Targets of `relations` of this type, or None when the entity carries no relations at all."""
    relations = entity.get("relations")
    if not isinstance(relations, list):
        return None
    found = []
    for relation in relations:
        if isinstance(relation, dict) and str(relation.get("type", "")).lower() == kind.lower():
            target = parse_ref(relation.get("targetRef") or relation.get("target"), "component", "default")
            if target is not None:
                found.append(target)
    return found


def _owner(entity: dict[str, Any], ref: EntityRef) -> EntityRef | None:
    owned_by = _relations(entity, "ownedBy")
    if owned_by:
        return owned_by[0]
    return parse_ref(mapping(entity.get("spec")).get("owner"), "group", ref.namespace)


def _read_service(
    catalog: CatalogBuilder, ref: EntityRef, entity: dict[str, Any], annotations: dict[str, str], where: str
) -> None:
    metadata, spec = entity["metadata"], mapping(entity.get("spec"))
    owner = _owner(entity, ref)
    if owner is None:
        catalog.problem(where, f"{ref} has no owner", "warning")
    system = parse_ref(spec.get("system"), "system", ref.namespace)
    external_ids = {
        system_name: annotations[key] for key, system_name in _EXTERNAL_ID_ANNOTATIONS.items() if key in annotations
    }
    tags = tuple(str(tag) for tag in ref_list(metadata.get("tags")))
    catalog.services.append(
        Service(
            name=metadata["name"],
            kind=EntityKind.COMPONENT if ref.kind == "component" else EntityKind.RESOURCE,
            namespace=ref.namespace,
            title=metadata.get("title"),
            description=metadata.get("description"),
            type=spec.get("type"),
            lifecycle=spec.get("lifecycle"),
            tier=_tier(metadata, annotations),
            owner=str(owner) if owner else None,
            system=system.name if system else None,
            vendor=annotations.get("opscontext.io/vendor"),
            tags=tags,
            links=_links(metadata),
            annotations=annotations,
            external_ids=external_ids,
            provenance=catalog.provenance(where),
        )
    )
    depends_on = _relations(entity, "dependsOn")
    if depends_on is not None:
        for target in depends_on:
            _declare(catalog, ref, str(target), "dependsOn", where, reverse=False)
        provided = _relations(entity, "providesApi") or []
        consumed = _relations(entity, "consumesApi") or []
    else:
        for target in ref_list(spec.get("dependsOn")):
            _declare(catalog, ref, target, "dependsOn", where, reverse=False)
        for target in ref_list(spec.get("dependencyOf")):
            _declare(catalog, ref, target, "dependencyOf", where, reverse=True)
        provided = [r for r in (parse_ref(a, "api", ref.namespace) for a in ref_list(spec.get("providesApis"))) if r]
        consumed = [r for r in (parse_ref(a, "api", ref.namespace) for a in ref_list(spec.get("consumesApis"))) if r]
    for api_ref in provided:
        catalog.provided_apis.setdefault(api_ref, []).append(ref)
    for api_ref in consumed:
        catalog.consumed_apis.append((ref, api_ref, where))


def _declare(catalog: CatalogBuilder, ref: EntityRef, target: Any, relation: str, where: str, *, reverse: bool) -> None:
    other = parse_ref(target, "component", ref.namespace)
    if other is None:
        catalog.problem(where, f"{ref}: unusable {relation} reference {target!r}")
        return
    caller, callee = (other, ref) if reverse else (ref, other)
    catalog.dependencies.append(
        Dependency(
            caller=str(caller),
            callee=str(callee),
            kind=DependencyKind.DECLARED,
            relation=relation,
            provenance=catalog.provenance(where),
        )
    )


def _link_apis(catalog: CatalogBuilder) -> None:
    """An API consumed by X and provided by Y is a declared dependency X → Y."""
    for consumer, api, where in catalog.consumed_apis:
        if api.kind in ("component", "resource"):
            catalog.problem(
                where,
                f"{consumer} lists {api} in consumesApis, which names a {api.kind}, not an API; "
                "kept as a direct dependency",
                "warning",
            )
            providers = [api]
        else:
            providers = catalog.provided_apis.get(api, [])
            if not providers:
                known = "defined but provided by no component" if api in catalog.api_refs else "not defined"
                catalog.problem(where, f"{consumer} consumes {api}, which is {known}", "warning")
        for provider in providers:
            if provider != consumer:
                catalog.dependencies.append(
                    Dependency(
                        caller=str(consumer),
                        callee=str(provider),
                        kind=DependencyKind.DECLARED,
                        relation=f"consumesApi:{api.name}" if api.kind == "api" else "consumesApi",
                        provenance=catalog.provenance(where),
                    )
                )


def _read_group(
    catalog: CatalogBuilder, ref: EntityRef, entity: dict[str, Any], annotations: dict[str, str], where: str
) -> None:
    metadata, spec = entity["metadata"], mapping(entity.get("spec"))
    profile = mapping(spec.get("profile"))
    parents = _relations(entity, "childOf")
    parent = parents[0] if parents else parse_ref(spec.get("parent"), "group", ref.namespace)
    members = _relations(entity, "hasMember")
    if members is None:
        members = [m for m in (parse_ref(m, "user", ref.namespace) for m in ref_list(spec.get("members"))) if m]
    catalog.teams.append(
        Team(
            name=metadata["name"],
            namespace=ref.namespace,
            title=profile.get("displayName") or metadata.get("title"),
            type=spec.get("type"),
            email=profile.get("email"),
            chat_channel=next((annotations[key] for key in _CHAT_ANNOTATIONS if key in annotations), None),
            parent=parent.name if parent else None,
            members=tuple(m.name for m in members),
            links=_links(metadata),
            provenance=catalog.provenance(where),
        )
    )


def _read_user(
    catalog: CatalogBuilder, ref: EntityRef, entity: dict[str, Any], annotations: dict[str, str], where: str
) -> None:
    spec = mapping(entity.get("spec"))
    profile = mapping(spec.get("profile"))
    groups = _relations(entity, "memberOf")
    if groups is None:
        groups = [g for g in (parse_ref(g, "group", ref.namespace) for g in ref_list(spec.get("memberOf"))) if g]
    catalog.people.append(
        Person(
            name=ref.name,
            namespace=ref.namespace,
            display_name=(profile.get("displayName") or "").strip() or None,
            email=profile.get("email"),
            phone=annotations.get("opscontext.io/phone"),
            teams=tuple(g.name for g in groups),
            provenance=catalog.provenance(where),
        )
    )
