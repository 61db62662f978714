"""Backstage descriptor YAML (catalog-info.yaml) files into catalog records.

Reads every `*.yaml`/`*.yml` below the catalog folder plus whatever Location entities
target inside the connector's root; each entity is mapped by the shared Backstage mapping.
Invalid entities and dangling Location targets are reported as problems.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from opscontext_mcp.protocols import CatalogData

from ..backstage.entities import CatalogBuilder, read_entity

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader


def read_catalog(root: Path, catalog_dir: Path, source: str, fetched_at: datetime) -> CatalogData:
    catalog = CatalogBuilder(source=source, fetched_at=fetched_at)
    root = root.resolve()
    pending = sorted(p for pattern in ("*.yaml", "*.yml") for p in catalog_dir.rglob(pattern) if p.is_file())
    read: set[Path] = set()
    while pending:
        path = pending.pop(0).resolve()
        if path in read:
            continue
        read.add(path)
        for target in _read_file(catalog, root, path):
            if target not in read:
                pending.append(target)
    return catalog.data()


def _read_file(catalog: CatalogBuilder, root: Path, path: Path) -> Iterator[Path]:
    """Parse one descriptor file; yields the local files its Location entities target."""
    location = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
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
        location_spec = read_entity(catalog, document, where)
        if location_spec is not None:
            yield from _location_targets(catalog, root, location_spec, where, path.parent)


def _location_targets(
    catalog: CatalogBuilder, root: Path, spec: dict[str, Any], where: str, directory: Path
) -> Iterator[Path]:
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
        if not path.is_relative_to(root):
            catalog.problem(where, f"Location target {target} is outside the connector folder; not followed")
        elif not path.is_file():
            catalog.problem(where, f"Location target {target} does not exist")
        else:
            yield path
