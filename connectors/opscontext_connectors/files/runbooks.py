"""Markdown runbooks with YAML front matter; each `##` section is a matchable unit."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from opscontext_mcp.model import Provenance, Runbook, RunbookSection
from opscontext_mcp.protocols import Batch, Problem

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_FENCE = re.compile(r"^\s*(```|~~~)")


def read_runbooks(runbook_dir: Path, root: Path, source: str, fetched_at: datetime) -> Batch[Runbook]:
    records: list[Runbook] = []
    problems: list[Problem] = []
    for path in sorted(runbook_dir.rglob("*.md")):
        location = path.relative_to(root).as_posix()
        runbook_id = path.relative_to(runbook_dir).with_suffix("").as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(location=location, reason=f"cannot read file: {exc}"))
            continue
        try:
            records.append(
                parse_runbook(text, runbook_id, Provenance(source=source, fetched_at=fetched_at, ref=location))
            )
        except ValueError as exc:
            problems.append(Problem(location=location, reason=str(exc)))
    return Batch(records=tuple(records), problems=tuple(problems))


def parse_runbook(text: str, runbook_id: str, provenance: Provenance) -> Runbook:
    match = _FRONT_MATTER.match(text)
    front: dict[str, Any] = {}
    body = text
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            raise ValueError(f"front matter is not valid YAML: {' '.join(str(exc).split())}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ValueError("front matter must be a mapping (title, services, failure_modes, alerts, …)")
        front = loaded or {}
        body = text[match.end() :]
    heading, summary, sections = split_sections(body)
    services = front.get("services", front.get("service", []))
    try:
        return Runbook(
            id=runbook_id,
            title=str(front.get("title") or heading or runbook_id),
            services=tuple(str(s) for s in _as_list(services)),
            failure_modes=tuple(str(m) for m in _as_list(front.get("failure_modes"))),
            alerts=tuple(str(a) for a in _as_list(front.get("alerts"))),
            last_exercised=_as_date(front.get("last_exercised")),
            owner=front.get("owner"),
            summary=summary,
            sections=tuple(sections),
            url=front.get("url"),
            provenance=provenance,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"front matter {field}: {first['msg']}") from None


def split_sections(body: str) -> tuple[str | None, str, list[RunbookSection]]:
    """The H1 heading, the text before the first `##`, and the `##` sections (code fences respected)."""
    heading: str | None = None
    preamble: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and line.startswith("## "):
            sections.append((line[3:].strip(), []))
            continue
        elif not in_fence and line.startswith("# ") and heading is None and not sections:
            heading = line[2:].strip()
            continue
        (sections[-1][1] if sections else preamble).append(line)
    used: dict[str, int] = {}
    built = []
    for title, lines in sections:
        anchor = _anchor(title)
        count = used.get(anchor, 0)
        used[anchor] = count + 1
        built.append(
            RunbookSection(
                heading=title, anchor=f"{anchor}-{count}" if count else anchor, text="\n".join(lines).strip()
            )
        )
    return heading, "\n".join(preamble).strip(), built


def _anchor(title: str) -> str:
    """GitHub-style heading anchor."""
    return re.sub(r"[^\w\- ]", "", title.lower()).strip().replace(" ", "-")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _as_date(value: Any) -> date | None:
    if value is None or value == "" or value == "never":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"front matter last_exercised: expected a date like 2026-11-01, got {value!r}") from None
