"""The config file: YAML, `${ENV}` secrets, errors that name the key path.

Connector entries need a unique `name` and a `type` here; the rest of each entry is checked
by that connector type's own `Settings` model (see `registry.py`), in the same report when
the config is loaded from a file.
"""

from __future__ import annotations

import difflib
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CONFIG_ENV_VAR = "OPSCONTEXT_CONFIG"
SECRET_KEYS = frozenset({"token", "password", "secret", "api_key", "api_token", "client_secret", "webhook_url"})

_ENV_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(Exception):
    """The config cannot be used. `problems` are `key.path: what was expected` lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid config\n" + "\n".join(f"  - {p}" for p in problems))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CacheSettings(_Section):
    ttl_seconds: float = Field(default=120, gt=0)
    """How long a snapshot is served before it is refreshed."""
    fetch_timeout_seconds: float = Field(default=15, gt=0)
    """How long one source may take to answer before it counts as failing."""
    change_lookback_hours: float = Field(default=168, gt=0)
    """How far back changes are fetched."""
    telemetry_window_minutes: float = Field(default=60, gt=0)
    """The window observed dependencies and their traffic are fetched for."""
    incident_lookback_hours: float = Field(default=168, gt=0)
    """Incidents opened this far back are fetched (open ones, and recently resolved ones)."""


class WritesSettings(_Section):
    enabled: bool = False
    """Write tools (declare_incident, update_incident, log_event, post_status_update) exist only when true."""
    notify: str | None = None
    """The connector (a `notify` one, such as slack) that declarations and status updates are posted through."""
    itsm: str | None = None
    """The connector (servicenow or pagerduty) timeline events and status updates are mirrored to as notes,
    on the ITSM incident each incident names (`itsm_incident`)."""


class IncidentSettings(_Section):
    update_cadence_minutes: dict[str, int] = Field(
        default_factory=lambda: {"SEV1": 15, "SEV2": 30, "SEV3": 60, "SEV4": 240}
    )
    """How often each severity's status doc must be updated; a missed update shows as overdue."""

    @field_validator("update_cadence_minutes")
    @classmethod
    def _positive(cls, cadence: dict[str, int]) -> dict[str, int]:
        wrong = [severity for severity, minutes in cadence.items() if minutes <= 0]
        if wrong:
            raise ValueError(f"minutes must be positive (not for {', '.join(wrong)})")
        return cadence


class DocsSettings(_Section):
    max_age_days: int = Field(default=90, gt=0)
    """A runbook not exercised for longer is stale; alerts seen within it need a runbook that answers them."""


class StoreSettings(_Section):
    url: str = "sqlite:///opscontext.db"


class AppConfig(_Section):
    connectors: list[dict[str, Any]] = Field(min_length=1)
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    """Canonical service name → other names it goes by."""
    team_aliases: dict[str, list[str]] = Field(default_factory=dict)
    """Canonical team name → other names it goes by (`team-payments` and `Payments Team` join without one)."""
    cache: CacheSettings = CacheSettings()
    writes: WritesSettings = WritesSettings()
    incidents: IncidentSettings = IncidentSettings()
    docs: DocsSettings = DocsSettings()
    store: StoreSettings = StoreSettings()
    now: datetime | None = None
    """A fixed clock, for replaying a recorded incident."""
    base_dir: Path = Field(default=Path("."), exclude=True)
    source: str = Field(default="<config>", exclude=True)

    def fetch_timeout(self, connector_name: str) -> float:
        """How long one fetch from this connector may take: its own setting, else the cache's."""
        for entry in self.connectors:
            if entry.get("name") == connector_name and entry.get("fetch_timeout_seconds") is not None:
                return float(entry["fetch_timeout_seconds"])
        return self.cache.fetch_timeout_seconds

    @field_validator("connectors")
    @classmethod
    def _connector_entries_name_their_type(cls, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[str] = set()
        for index, entry in enumerate(entries):
            for key in ("name", "type"):
                if not isinstance(entry.get(key), str) or not entry[key]:
                    raise ValueError(f"connectors[{index}].{key}: expected a non-empty string")
            if entry["name"] in seen:
                raise ValueError(f"connectors[{index}].name: {entry['name']!r} is used by another connector")
            seen.add(entry["name"])
        return entries

    @field_validator("now")
    @classmethod
    def _now_has_timezone(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("expected an RFC 3339 time with a timezone, e.g. 2026-11-27T10:00:00Z")
        return value


def default_config_path() -> Path:
    """The bundled demo: shipped inside the wheel, or `examples/` in a source checkout."""
    packaged = Path(__file__).parent / "_demo" / "demo.yaml"
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parents[2] / "examples" / "demo.yaml"


def load_config(path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> AppConfig:
    """Read, interpolate and validate a config file; `None` means `$OPSCONTEXT_CONFIG` or the demo."""
    env = dict(os.environ) if environ is None else environ
    chosen = Path(path) if path is not None else Path(env[CONFIG_ENV_VAR]) if env.get(CONFIG_ENV_VAR) else None
    file = chosen if chosen is not None else default_config_path()
    source = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [f"cannot read the file: {exc.strerror or exc}"]) from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"not valid YAML: {exc}"]) from exc
    if not isinstance(raw, dict):
        raise ConfigError(source, ["expected a mapping at the top level (connectors:, aliases:, cache:, …)"])
    return parse_config(raw, base_dir=file.resolve().parent, source=source, environ=env, check_connectors=True)


def parse_config(
    raw: dict[str, Any],
    *,
    base_dir: Path,
    source: str = "<config>",
    environ: dict[str, str] | None = None,
    check_connectors: bool = False,
) -> AppConfig:
    """Validate a config mapping; with `check_connectors`, each entry against its connector type too."""
    env = dict(os.environ) if environ is None else environ
    problems: list[str] = []
    interpolated = interpolate_env(raw, env, problems)
    config = None
    try:
        config = AppConfig.model_validate(interpolated)
    except ValidationError as exc:
        problems.extend(describe_validation_error(exc, AppConfig))
    entries = interpolated.get("connectors")
    if check_connectors and isinstance(entries, list):
        from opscontext_mcp.registry import settings_problems

        problems.extend(p for p in settings_problems(entries)[0] if p not in problems)
    if problems or config is None:
        raise ConfigError(source, problems)
    return config.model_copy(update={"base_dir": base_dir, "source": source})


def interpolate_env(value: Any, env: dict[str, str], problems: list[str], path: str = "") -> Any:
    """Replace `${VAR}` / `${VAR:-default}` in every string; `$$` is a literal `$`."""
    if isinstance(value, dict):
        return {key: interpolate_env(item, env, problems, _join(path, key)) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate_env(item, env, problems, f"{path}[{index}]") for index, item in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append(f"{path}: environment variable {name} is not set")
        return ""

    return _ENV_REFERENCE.sub(substitute, value)


def describe_validation_error(exc: ValidationError, model: type[BaseModel], prefix: str = "") -> list[str]:
    """One `key.path: expected …` line per error, never echoing secret values."""
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        path = prefix
        for part in loc:
            path = f"{path}[{part}]" if isinstance(part, int) else _join(path, str(part))
        path = path or "(top level)"
        kind = error["type"]
        if kind == "extra_forbidden":
            known = _known_keys(model, loc[:-1])
            hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            lines.append(f"{path}: unknown key{suggestion}; expected one of: {', '.join(sorted(known))}")
            continue
        if kind == "value_error":
            message = str(error["ctx"]["error"]) if "ctx" in error else error["msg"]
            if re.match(r"^[\w\[\].]+: ", message):
                lines.append(message)
                continue
            lines.append(f"{path}: {message}")
            continue
        message = error["msg"]
        secret = any(str(part) in SECRET_KEYS for part in loc)
        if kind != "missing" and not secret:
            message = f"{message} (got {_shown(error.get('input'))})"
        lines.append(f"{path}: {message}")
    return lines


def _known_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(str(part))
        current = field.annotation if field else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [name for name, info in current.model_fields.items() if not info.exclude]
    return []


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
