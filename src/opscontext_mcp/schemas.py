"""How reply models are published to clients: compact schemas that name nested keys instead of nesting."""

from __future__ import annotations

from functools import cache
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def signature(model: type[BaseModel], depth: int = 0) -> str:
    """`{a, b: {c, d}, e: [{f}]}`: the keys of a nested record, compact enough for tools/list."""
    parts = []
    for name, info in model.model_fields.items():
        nested = _models_in(info.annotation)
        if not nested:
            parts.append(name)
            continue
        inner = signature(nested[0], depth + 1) if depth < 1 else "{…}"
        is_list = get_origin(info.annotation) is list or any(get_origin(a) is list for a in get_args(info.annotation))
        parts.append(f"{name}: [{inner}]" if is_list else f"{name}: {inner}")
    return "{" + ", ".join(parts) + "}"


def tidy(prop: dict[str, Any]) -> None:
    """No generated title, no null default, `anyOf [X, null]` folded into `type: [X, "null"]`."""
    prop.pop("title", None)
    if prop.get("default", 0) is None:
        del prop["default"]
    options = prop.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        other = next(o for o in options if o != {"type": "null"})
        if isinstance(other.get("type"), str):
            del prop["anyOf"]
            prop.update(other)
            prop["type"] = [other["type"], "null"]


def _compact(schema: dict[str, Any]) -> None:
    """A published shape without generated titles or null noise."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        tidy(prop)


class Reply(BaseModel):
    """Base of every tool answer; what tools/list shows of it is `published(...)`."""


@cache
def published(model: type[Reply]) -> type[BaseModel]:
    """The shape a tool publishes, and that the SDK checks its structured output against.

    The reply's own keys with their types; nested records as objects whose description names
    their keys. A deliberate trade: full nested schemas would triple tools/list (about 32 KB for
    seven tools), which clients pay on every connection. Tools build the full reply model, which
    validates everything, so checking nested records again on the way out would only cost time.
    """
    fields: dict[str, Any] = {}
    described_as: dict[type[BaseModel], str] = {}
    for name, info in model.model_fields.items():
        nested = _models_in(info.annotation)
        if not nested:
            fields[name] = (info.annotation, info)
            continue
        seen = described_as.setdefault(nested[0], name)
        is_list = get_origin(info.annotation) is list or any(get_origin(a) is list for a in get_args(info.annotation))
        shape: Any = list[dict[str, Any]] if is_list else dict[str, Any]
        if type(None) in get_args(info.annotation):
            shape = shape | None
        default = ... if info.is_required() else info.get_default(call_default_factory=True)
        description = signature(nested[0]) if seen == name else f"same keys as {seen}"
        fields[name] = (shape, Field(default, description=description, json_schema_extra=_plain_object))
    return create_model(model.__name__, __config__=ConfigDict(json_schema_extra=_compact), **fields)


def _plain_object(prop: dict[str, Any]) -> None:
    tidy(prop)
    prop.pop("additionalProperties", None)
    items = prop.get("items")
    if isinstance(items, dict):
        items.pop("additionalProperties", None)
