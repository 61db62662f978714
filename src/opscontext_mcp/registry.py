"""Finds connector types through entry points and builds connectors from the config."""

from __future__ import annotations

import dataclasses
import difflib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from functools import cache
from importlib.metadata import entry_points
from typing import Any

import httpx
from pydantic import ValidationError

from opscontext_mcp.clock import Clock
from opscontext_mcp.config import AppConfig, ConfigError, describe_validation_error
from opscontext_mcp.protocols import (
    ENTRY_POINT_GROUP,
    PROVIDER_PROTOCOLS,
    Connector,
    ConnectorContext,
    ConnectorSettings,
    ConnectorType,
)

logger = logging.getLogger(__name__)


@cache
def installed_connector_types() -> dict[str, ConnectorType]:
    """Every connector type registered under the entry-point group, built-ins included."""
    found: dict[str, ConnectorType] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found[entry.name] = entry.load()
        except Exception:  # a broken third-party plugin must not take the server down
            logger.exception("connector type %r (%s) failed to load; skipped", entry.name, entry.value)
    return found


def settings_problems(
    entries: list[dict[str, Any]], types: Mapping[str, ConnectorType] | None = None
) -> tuple[list[str], list[tuple[ConnectorType, ConnectorSettings]]]:
    """Check each connector entry against its type's settings: (problems, validated entries)."""
    available = dict(installed_connector_types() if types is None else types)
    problems: list[str] = []
    validated = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            continue  # the config's own validation reports it
        type_name = entry["type"]
        connector_type = available.get(type_name)
        if connector_type is None:
            hint = difflib.get_close_matches(type_name, list(available), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            problems.append(
                f"connectors[{index}].type: unknown connector type {type_name!r}{suggestion}; "
                f"installed: {', '.join(sorted(available)) or 'none'}"
            )
            continue
        try:
            settings = connector_type.Settings.model_validate(entry)
        except ValidationError as exc:
            problems.extend(describe_validation_error(exc, connector_type.Settings, prefix=f"connectors[{index}]"))
            continue
        validated.append((connector_type, settings))
    return problems, validated


def build_connectors(
    config: AppConfig,
    types: Mapping[str, ConnectorType] | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    now: datetime | None = None,
) -> list[Connector]:
    """Validate each connector entry against its type's settings and create the connectors.

    All entries are checked before any is created, so one config error report lists every problem.
    `transport` replaces the network for every HTTP connector (tests hand in a respx router), `sleep`
    the wait between retries.
    """
    problems, validated = settings_problems(config.connectors, types)
    if problems:
        raise ConfigError(config.source, problems)

    context = ConnectorContext(base_dir=config.base_dir, transport=transport, now=Clock(now or config.now).now)
    if sleep is not None:
        context = dataclasses.replace(context, sleep=sleep)
    connectors = []
    for connector_type, settings in validated:
        index = next(i for i, entry in enumerate(config.connectors) if entry.get("name") == settings.name)
        try:
            connector = connector_type(settings, context)
        except ValueError as exc:
            problems.append(f"connectors[{index}]: {exc}")
            continue
        for capability in connector.capabilities:
            protocol = PROVIDER_PROTOCOLS[capability]
            if not isinstance(connector, protocol):
                problems.append(
                    f"connectors[{index}].type: connector type {settings.type!r} lists {capability} "
                    f"but does not implement {protocol.__name__}; the connector package is broken"
                )
        if not connector.capabilities:
            logger.warning("connector %r provides nothing: check its settings (opscontext-mcp check)", settings.name)
        connectors.append(connector)
    if problems:
        raise ConfigError(config.source, problems)
    return connectors
