"""Backstage descriptor YAML (catalog-info.yaml) into catalog records.

Reads every `*.yaml`/`*.yml` below the catalog folder plus whatever Location entities
target inside the connector's root. Invalid entities and dangling Location targets are
reported as problems; nothing here raises for bad data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

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

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader


@dataclass
class _Catalog:
    root: Path
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


def read_catalog(root: Path, catalog_dir: Path, source: str, fetched_at: datetime) -> CatalogData:
    catalog = _Catalog(root=root.resolve(), source=source, fetched_at=fetched_at)
    pending = sorted(p for pattern in ("*.yaml", "*.yml") for p in catalog_dir.rglob(pattern) if p.is_file())
    read: set[Path] = set()
    while pending:
        path = pending.pop(0).resolve()
        if path in read:
            continue
        read.add(path)
        for target in _read_file(catalog, path):
            if target not in read:
                pending.append(target)
    _link_apis(catalog)
    return CatalogData(
        services=tuple(catalog.services),
        teams=tuple(catalog.teams),
        people=tuple(catalog.people),
        systems=tuple(catalog.systems),
        dependencies=tuple(catalog.dependencies),
        problems=tuple(catalog.problems),
    )


def _relative(catalog: _Catalog, path: Path) -> str:
    try:
        return path.relative_to(catalog.root).as_posix()
    except ValueError:
        return path.as_posix()


def _read_file(catalog: _Catalog, path: Path) -> Iterator[Path]:
    """Parse one descriptor file; yields the local files its Location entities target."""
    location = _relative(catalog, path)
    try:
        documents = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Loader))
    except (OSError, UnicodeDecodeError) as exc:
        catalog.problem(location, f"cannot read file: {exc}")
        return
    except yaml.YAMLError as exc:
        catalog.problem(location, f"not valid YAML: {' '.join(str(exc).split())}")
        return
    for index, document in enumerate(documents, start=1):
        where = location if len(documents) == 1 else f"{location}#{index}"
        if document is None:
            continue
        yield from _read_entity(catalog, document, where, path.parent)


def _read_entity(catalog: _Catalog, entity: Any, where: str, directory: Path) -> Iterator[Path]:
    if not isinstance(entity, dict):
        catalog.problem(where, "expected an entity mapping with apiVersion, kind, metadata, spec")
        return
    api_version, kind = entity.get("apiVersion"), entity.get("kind")
    metadata = entity.get("metadata")
    spec = entity.get("spec") or {}
    if not isinstance(api_version, str) or not isinstance(kind, str) or not isinstance(metadata, dict):
        catalog.problem(where, "missing apiVersion, kind or metadata")
        return
    if not isinstance(spec, dict):
        catalog.problem(where, "spec must be a mapping")
        return
    name = metadata.get("name")
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > 63:
        catalog.problem(
            where,
            f"invalid {kind} name {name!r}: names are 1-63 characters of [a-zA-Z0-9] separated by single - _ or .",
        )
        return
    namespace = metadata.get("namespace") or "default"
    if not isinstance(namespace, str) or not _NAMESPACE.match(namespace):
        catalog.problem(where, f"invalid namespace {namespace!r} on {kind} {name!r}")
        return
    kind_key = kind.lower()
    if kind_key == "location":
        yield from _location_targets(catalog, spec, where, directory)
        return
    ref = EntityRef(kind_key, namespace.lower(), name.lower())
    if ref in catalog.seen_entities:
        catalog.problem(
            where, f"duplicate entity {ref}: already defined in {catalog.seen_entities[ref]}; kept the first"
        )
        return
    catalog.seen_entities[ref] = where
    annotations = {str(k): str(v) for k, v in mapping(metadata.get("annotations")).items()}
    try:
        if kind_key in ("component", "resource"):
            _read_service(catalog, ref, metadata, spec, annotations, where)
        elif kind_key == "group":
            _read_group(catalog, ref, metadata, spec, annotations, where)
        elif kind_key == "user":
            _read_user(catalog, ref, spec, annotations, where)
        elif kind_key == "system":
            owner = parse_ref(spec.get("owner"), "group", ref.namespace)
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


def _location_targets(catalog: _Catalog, spec: dict[str, Any], where: str, directory: Path) -> Iterator[Path]:
    targets = spec.get("targets") or []
    if spec.get("target"):
        targets = [spec["target"], *targets]
    if not isinstance(targets, list):
        catalog.problem(where, "Location spec.targets must be a list")
        return
    for target in targets:
        if not isinstance(target, str):
            catalog.problem(where, f"Location target {target!r} is not a string")
            continue
        if re.match(r"^[a-z][a-z0-9+.-]*://", target):
            catalog.problem(where, f"remote Location target not followed by the files connector: {target}", "warning")
            continue
        path = (directory / target).resolve()
        if not path.is_relative_to(catalog.root):
            catalog.problem(where, f"Location target {target} is outside the connector folder; not followed")
        elif not path.is_file():
            catalog.problem(where, f"Location target {target} does not exist")
        else:
            yield path


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


def _read_service(
    catalog: _Catalog,
    ref: EntityRef,
    metadata: dict[str, Any],
    spec: dict[str, Any],
    annotations: dict[str, str],
    where: str,
) -> None:
    owner = parse_ref(spec.get("owner"), "group", ref.namespace)
    if owner is None:
        catalog.problem(where, f"{ref} has no spec.owner", "warning")
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
    for target in ref_list(spec.get("dependsOn")):
        _declare(catalog, ref, target, "dependsOn", where, reverse=False)
    for target in ref_list(spec.get("dependencyOf")):
        _declare(catalog, ref, target, "dependencyOf", where, reverse=True)
    for api in ref_list(spec.get("providesApis")):
        api_ref = parse_ref(api, "api", ref.namespace)
        if api_ref is not None:
            catalog.provided_apis.setdefault(api_ref, []).append(ref)
    for api in ref_list(spec.get("consumesApis")):
        api_ref = parse_ref(api, "api", ref.namespace)
        if api_ref is not None:
            catalog.consumed_apis.append((ref, api_ref, where))


def _declare(catalog: _Catalog, ref: EntityRef, target: Any, relation: str, where: str, *, reverse: bool) -> None:
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


def _link_apis(catalog: _Catalog) -> None:
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
    catalog: _Catalog,
    ref: EntityRef,
    metadata: dict[str, Any],
    spec: dict[str, Any],
    annotations: dict[str, str],
    where: str,
) -> None:
    profile = mapping(spec.get("profile"))
    parent = parse_ref(spec.get("parent"), "group", ref.namespace)
    members = [parse_ref(m, "user", ref.namespace) for m in ref_list(spec.get("members"))]
    catalog.teams.append(
        Team(
            name=metadata["name"],
            namespace=ref.namespace,
            title=profile.get("displayName") or metadata.get("title"),
            type=spec.get("type"),
            email=profile.get("email"),
            chat_channel=next((annotations[key] for key in _CHAT_ANNOTATIONS if key in annotations), None),
            parent=parent.name if parent else None,
            members=tuple(m.name for m in members if m is not None),
            links=_links(metadata),
            provenance=catalog.provenance(where),
        )
    )


def _read_user(
    catalog: _Catalog, ref: EntityRef, spec: dict[str, Any], annotations: dict[str, str], where: str
) -> None:
    profile = mapping(spec.get("profile"))
    groups = [parse_ref(g, "group", ref.namespace) for g in ref_list(spec.get("memberOf"))]
    catalog.people.append(
        Person(
            name=ref.name,
            namespace=ref.namespace,
            display_name=(profile.get("displayName") or "").strip() or None,
            email=profile.get("email"),
            phone=annotations.get("opscontext.io/phone"),
            teams=tuple(g.name for g in groups if g is not None),
            provenance=catalog.provenance(where),
        )
    )
