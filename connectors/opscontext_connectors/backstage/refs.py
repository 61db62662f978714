"""Backstage entity references (`[kind:][namespace/]name`) and tolerant field readers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EntityRef:
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}"


def parse_ref(value: Any, default_kind: str, default_namespace: str) -> EntityRef | None:
    """`[kind:][namespace/]name` or `{kind, namespace, name}`, case-insensitive; None if unusable."""
    if isinstance(value, dict):
        name = value.get("name")
        if not isinstance(name, str) or not name:
            return None
        kind = str(value.get("kind") or default_kind)
        namespace = str(value.get("namespace") or default_namespace)
        return EntityRef(kind.lower(), namespace.lower(), name.lower())
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    kind, _, rest = text.partition(":") if ":" in text else (default_kind, "", text)
    namespace, _, name = rest.partition("/") if "/" in rest else (default_namespace, "", rest)
    if not name:
        return None
    return EntityRef(kind.lower(), namespace.lower(), name.lower())


def mapping(value: Any) -> dict[Any, Any]:
    """A field that should be a mapping; anything else counts as absent."""
    return value if isinstance(value, dict) else {}


def ref_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
