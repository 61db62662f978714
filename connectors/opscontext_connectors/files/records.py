"""Changes (YAML/JSON lists), Alertmanager API v2 alert JSON and oncall.yaml."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from opscontext_mcp.model import (
    Alert,
    Change,
    ChangeKind,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Provenance,
    Schedule,
    Shift,
    Vendor,
    VendorContact,
    VendorEngagement,
)
from opscontext_mcp.protocols import Batch, OnCallData, Problem

from ..alertmanager.mapping import alert_from_alertmanager

T = TypeVar("T")


def load_structured(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        field = ".".join(str(p) for p in error["loc"]) or "record"
        parts.append(f"{field}: {error['msg']}")
    return "; ".join(parts)


def each_record(
    items: list[Any], location: str, problems: list[Problem], build: Callable[[dict[str, Any], str], T]
) -> list[T]:
    """Build every item; a bad item becomes a problem naming its index, the rest are kept."""
    built = []
    for index, item in enumerate(items):
        where = f"{location}[{index}]"
        if not isinstance(item, dict):
            problems.append(Problem(location=where, reason="expected a mapping"))
            continue
        try:
            built.append(build(item, where))
        except ValidationError as exc:
            problems.append(Problem(location=where, reason=describe(exc)))
        except (ValueError, TypeError) as exc:
            problems.append(Problem(location=where, reason=str(exc)))
        except Exception as exc:  # a record of an unexpected shape is skipped, never the whole file
            problems.append(Problem(location=where, reason=f"unusable record: {type(exc).__name__}: {exc}"))
    return built


class _ChangeIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    service: str
    kind: ChangeKind
    summary: str
    at: datetime
    author: str | None = None
    version: str | None = None
    link: str | None = None
    risk: str | None = None

    @field_validator("id", "service", "version", mode="before")
    @classmethod
    def _scalar_to_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value

    @field_validator("at")
    @classmethod
    def _with_timezone(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("expected an RFC 3339 time with a timezone, e.g. 2026-11-27T09:38:00Z")
        return value


def record_lists(
    paths: list[Path], root: Path, problems: list[Problem], key: str, expected: str
) -> Iterator[tuple[str, list[Any]]]:
    """(location, items) of every file that holds a list of records, or a mapping with one under `key`."""
    for path in paths:
        location = path.relative_to(root).as_posix()
        try:
            document = load_structured(path)
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
            problems.append(Problem(location=location, reason=f"cannot parse: {' '.join(str(exc).split())}"))
            continue
        items = document.get(key) if isinstance(document, dict) else document
        if not isinstance(items, list):
            problems.append(Problem(location=location, reason=f"expected {expected}"))
            continue
        yield location, items


def read_changes(paths: list[Path], root: Path, source: str, fetched_at: datetime) -> Batch[Change]:
    records: list[Change] = []
    problems: list[Problem] = []

    def build(item: dict[str, Any], where: str) -> Change:
        parsed = _ChangeIn.model_validate(item)
        return Change(**parsed.model_dump(), provenance=Provenance(source=source, fetched_at=fetched_at, ref=where))

    for location, items in record_lists(
        paths, root, problems, "changes", "a list of changes (or a mapping with a changes list)"
    ):
        records.extend(each_record(items, location, problems, build))
    return Batch(records=tuple(records), problems=tuple(problems))


def read_alerts(paths: list[Path], root: Path, source: str, fetched_at: datetime) -> Batch[Alert]:
    records: list[Alert] = []
    problems: list[Problem] = []

    def build(item: dict[str, Any], where: str) -> Alert:
        return alert_from_alertmanager(item, source, fetched_at, where)

    for location, items in record_lists(
        paths, root, problems, "alerts", "the GET /api/v2/alerts array or a webhook payload"
    ):
        records.extend(each_record(items, location, problems, build))
    return Batch(records=tuple(records), problems=tuple(problems))


class _ShiftIn(BaseModel):
    user: str
    start: datetime
    end: datetime


class _ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    team: str | None = None
    shifts: list[_ShiftIn] = Field(default_factory=list)


class _LevelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after_minutes: int = Field(ge=0)
    targets: list[str] = Field(min_length=1)


class _PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    teams: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    levels: list[_LevelIn] = Field(min_length=1)


class _VendorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    services: list[str] = Field(default_factory=list)
    contact: VendorContact = VendorContact()
    engage_when: VendorEngagement = VendorEngagement()


def _target(text: str) -> EscalationTarget:
    kind, _, name = text.partition(":")
    if kind not in ("schedule", "user", "team", "vendor") or not name:
        raise ValueError(f"escalation target {text!r}: expected schedule:NAME, user:NAME, team:NAME or vendor:NAME")
    return EscalationTarget(kind=kind, name=name)  # type: ignore[arg-type]


def read_oncall(path: Path, root: Path, source: str, fetched_at: datetime) -> OnCallData:
    location = path.relative_to(root).as_posix()
    problems: list[Problem] = []
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return OnCallData(problems=(Problem(location=location, reason=f"cannot parse: {' '.join(str(exc).split())}"),))
    if not isinstance(document, dict):
        return OnCallData(
            problems=(
                Problem(location=location, reason="expected a mapping with schedules, escalation_policies, vendors"),
            )
        )

    def provenance(where: str) -> Provenance:
        return Provenance(source=source, fetched_at=fetched_at, ref=where)

    def schedule(item: dict[str, Any], where: str) -> Schedule:
        parsed = _ScheduleIn.model_validate(item)
        shifts = []
        for shift in parsed.shifts:
            if shift.start.tzinfo is None or shift.end.tzinfo is None:
                raise ValueError(f"shift of {shift.user}: times need a timezone (…Z)")
            if shift.end <= shift.start:
                raise ValueError(f"shift of {shift.user} ends before it starts")
            shifts.append(Shift(user=shift.user, start=shift.start, end=shift.end))
        return Schedule(
            name=parsed.name,
            team=parsed.team,
            shifts=tuple(sorted(shifts, key=lambda s: s.start)),
            provenance=provenance(where),
        )

    def policy(item: dict[str, Any], where: str) -> EscalationPolicy:
        parsed = _PolicyIn.model_validate(item)
        levels = tuple(
            EscalationLevel(after_minutes=level.after_minutes, targets=tuple(_target(t) for t in level.targets))
            for level in sorted(parsed.levels, key=lambda level: level.after_minutes)
        )
        return EscalationPolicy(
            name=parsed.name,
            teams=tuple(parsed.teams),
            services=tuple(parsed.services),
            levels=levels,
            provenance=provenance(where),
        )

    def vendor(item: dict[str, Any], where: str) -> Vendor:
        parsed = _VendorIn.model_validate(item)
        return Vendor(
            name=parsed.name,
            services=tuple(parsed.services),
            contact=parsed.contact,
            engage_when=parsed.engage_when,
            provenance=provenance(where),
        )

    sections: dict[str, list[Any]] = {}
    for key in ("schedules", "escalation_policies", "vendors"):
        value = document.get(key) or []
        if not isinstance(value, list):
            problems.append(Problem(location=f"{location}:{key}", reason="expected a list"))
            value = []
        sections[key] = value
    for key in set(document) - set(sections):
        problems.append(
            Problem(
                location=f"{location}:{key}",
                reason="unknown section; expected schedules, escalation_policies, vendors",
                severity="warning",
            )
        )
    return OnCallData(
        schedules=tuple(each_record(sections["schedules"], f"{location}:schedules", problems, schedule)),
        policies=tuple(
            each_record(sections["escalation_policies"], f"{location}:escalation_policies", problems, policy)
        ),
        vendors=tuple(each_record(sections["vendors"], f"{location}:vendors", problems, vendor)),
        problems=tuple(problems),
    )
