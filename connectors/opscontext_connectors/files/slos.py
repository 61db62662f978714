"""OpenSLO v1 documents and user journeys from the `slos/` folder.

Every `*.yaml`/`*.yml` below `slos/` holds OpenSLO v1 documents, several per file separated by
`---`. SLO and SLI documents are read; DataSource documents only lend their `spec.type` to metric
sources that name them without a type; the other OpenSLO kinds (AlertPolicy, AlertCondition,
AlertNotificationTarget, Service) are accepted and ignored. An SLO's indicator is inline
(`spec.indicator`) or an SLI document named by `spec.indicatorRef`, in any file. Only the first
objective of an SLO is evaluated.

`slos/journeys.yaml` holds the journeys: a list (or a mapping with a `journeys:` list) of
{name, entry, slo, description}.

A document that cannot be used becomes a problem at `slos/<file>#<metadata.name or position>`
naming the key path and what was expected; the rest is served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import ValidationError

from opscontext_mcp.model import (
    SLO,
    Indicator,
    Journey,
    MetricSource,
    MetricValue,
    Provenance,
)
from opscontext_mcp.protocols import Problem, SLOData

from .openslo import (
    API_VERSION,
    JOURNEYS_FILE,
    OPENSLO_KINDS,
    CalendarIn,
    JourneyIn,
    QueryIn,
    SLIIn,
    SLOIn,
)
from .records import describe, each_record, record_lists

T = TypeVar("T")


@dataclass(frozen=True)
class _Document:
    where: str
    location: str
    kind: str
    name: str | None
    body: dict[str, Any]


def read_slos(slo_dir: Path, root: Path, source: str, fetched_at: datetime) -> SLOData:
    problems: list[Problem] = []
    journeys_path = slo_dir / JOURNEYS_FILE
    paths = sorted(p for p in slo_dir.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml"))
    documents = [d for path in paths if path != journeys_path for d in _documents(path, root, problems)]
    data_sources = {
        d.name: kind
        for d in documents
        if d.kind == "DataSource" and d.name and isinstance(kind := _spec(d).get("type"), str)
    }
    slis: dict[str, dict[str, Any] | None] = {}  # None: named, but unusable; its SLOs say so
    for document in _unique(documents, "SLI", problems):
        parsed = _attempt(document, problems, SLIIn.model_validate, document.body)
        slis[document.name or ""] = (
            None if parsed is None else _attempt(document, problems, _indicator, parsed, "", data_sources)
        )
    slos = []
    for document in _unique(documents, "SLO", problems):
        built = _attempt(document, problems, _slo, document, slis, data_sources, problems, source, fetched_at)
        if built is not None:
            slos.append(built)
    journeys = _journeys(journeys_path, root, {s.name for s in slos}, problems, source, fetched_at)
    return SLOData(slos=tuple(slos), journeys=journeys, problems=tuple(problems))


def _documents(path: Path, root: Path, problems: list[Problem]) -> list[_Document]:
    location = path.relative_to(root).as_posix()
    try:
        loaded = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(Problem(location=location, reason=f"cannot parse: {' '.join(str(exc).split())}"))
        return []
    documents = []
    for index, body in enumerate(loaded, start=1):
        if body is None:
            continue
        if not isinstance(body, dict):
            problems.append(
                Problem(
                    location=f"{location}#{index}",
                    reason="expected an OpenSLO document: apiVersion, kind, metadata, spec",
                )
            )
            continue
        metadata = body.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        name = name if isinstance(name, str) and name else None
        where = f"{location}#{name or index}"
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if api_version != API_VERSION:
            problems.append(
                Problem(location=where, reason=f"apiVersion: expected {API_VERSION}, got {api_version!r:.60}")
            )
        elif kind not in OPENSLO_KINDS:
            problems.append(
                Problem(location=where, reason=f"kind: expected one of {', '.join(OPENSLO_KINDS)}, got {kind!r:.60}")
            )
        else:
            documents.append(_Document(where=where, location=location, kind=kind, name=name, body=body))
    return documents


def _spec(document: _Document) -> dict[str, Any]:
    spec = document.body.get("spec")
    return spec if isinstance(spec, dict) else {}


def _unique(documents: list[_Document], kind: str, problems: list[Problem]) -> list[_Document]:
    """The documents of one kind; a second one of the same name is a problem (names are references)."""
    first: dict[str, _Document] = {}
    kept = []
    for document in documents:
        if document.kind != kind:
            continue
        if document.name is not None and document.name in first:
            reason = f"metadata.name: {kind} {document.name!r} is already defined at {first[document.name].where}"
            problems.append(Problem(location=document.where, reason=reason))
            continue
        if document.name is not None:
            first[document.name] = document
        kept.append(document)
    return kept


def _attempt(document: _Document, problems: list[Problem], build: Callable[..., T], *args: Any) -> T | None:
    """`build(*args)`, or None when it fails: the failure becomes a problem of the document."""
    try:
        return build(*args)
    except ValidationError as exc:
        problems.append(Problem(location=document.where, reason=describe(exc)))
    except ValueError as exc:
        problems.append(Problem(location=document.where, reason=str(exc)))
    return None


def _metric_source(query: QueryIn, path: str, data_sources: dict[str, str]) -> MetricSource:
    given = query.metricSource
    source_type = given.type or data_sources.get(given.metricSourceRef or "")
    if not source_type:
        expected = (
            f"DataSource {given.metricSourceRef!r} to be in slos/ with a spec.type"
            if given.metricSourceRef
            else "a source type (e.g. prometheus, traces) or a metricSourceRef naming a DataSource"
        )
        raise ValueError(f"{path}.metricSource.type: expected {expected}")
    spec: dict[str, MetricValue] = given.spec
    return MetricSource(type=source_type.lower(), ref=given.metricSourceRef, spec=spec)


def _indicator(sli: SLIIn, prefix: str, data_sources: dict[str, str]) -> dict[str, Any]:
    """Indicator fields of an SLI; a threshold's op and value come later, from the SLO's objective."""
    spec = f"{prefix}spec"

    def source(query: QueryIn | None, path: str) -> MetricSource | None:
        return None if query is None else _metric_source(query, path, data_sources)

    fields: dict[str, Any] = {"name": sli.metadata.name}
    if sli.spec.thresholdMetric is not None:
        fields |= {"kind": "threshold", "metric": source(sli.spec.thresholdMetric, f"{spec}.thresholdMetric")}
        return fields
    ratio = sli.spec.ratioMetric
    assert ratio is not None
    fields |= {"kind": "ratio", "counter": ratio.counter, "raw_type": ratio.rawType}
    for part in ("good", "bad", "total", "raw"):
        fields[part] = source(getattr(ratio, part), f"{spec}.ratioMetric.{part}")
    return fields


def _percent(value: float) -> float:
    # Decimal, so that targetPercent 99.9 is the target 0.999 and not 0.9990000000000001.
    return float(Decimal(repr(value)) / 100)


def _calendar_start(calendar: CalendarIn) -> datetime | None:
    path = "spec.timeWindow.0.calendar"
    zone = None
    if calendar.timeZone is not None:
        try:
            zone = ZoneInfo(calendar.timeZone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{path}.timeZone: expected an IANA time zone name such as Europe/Berlin, got {calendar.timeZone!r:.60}"
            ) from None
    start = calendar.startTime
    if start is None:
        return None
    if start.tzinfo is not None:
        return start.astimezone(zone) if zone else start
    if zone is None:
        raise ValueError(f"{path}.timeZone: expected an IANA time zone name to place startTime {start.isoformat()} in")
    return start.replace(tzinfo=zone)


def _slo(
    document: _Document,
    slis: dict[str, dict[str, Any] | None],
    data_sources: dict[str, str],
    problems: list[Problem],
    source: str,
    fetched_at: datetime,
) -> SLO:
    def warn(reason: str) -> None:
        problems.append(Problem(location=document.where, reason=reason, severity="warning"))

    parsed = SLOIn.model_validate(document.body)
    spec = parsed.spec
    if spec.indicator is not None:
        indicator = _indicator(spec.indicator, "spec.indicator.", data_sources)
    elif spec.indicatorRef not in slis:
        raise ValueError(f"spec.indicatorRef: expected the name of an SLI in slos/, got {spec.indicatorRef!r}")
    elif (resolved := slis[spec.indicatorRef]) is None:
        raise ValueError(f"spec.indicatorRef: SLI {spec.indicatorRef!r} cannot be used (see its problem)")
    else:
        indicator = resolved

    objective = spec.objectives[0]
    if len(spec.objectives) > 1:
        warn(f"spec.objectives: {len(spec.objectives)} objectives; only the first is evaluated")
    if indicator["kind"] == "threshold":
        if objective.op is None or objective.value is None:
            raise ValueError("spec.objectives.0: a thresholdMetric indicator needs op (lt, lte, gt, gte) and value")
        indicator = indicator | {"op": objective.op, "value": objective.value}
    elif objective.op is not None or objective.value is not None:
        warn("spec.objectives.0: op and value are ignored for a ratioMetric indicator")

    slice_target, slice_window = objective.timeSliceTarget, objective.timeSliceWindow
    if spec.budgetingMethod == "Occurrences":
        if slice_target is not None or slice_window is not None:
            warn("spec.objectives.0: timeSliceTarget and timeSliceWindow are ignored with Occurrences budgeting")
        slice_target = slice_window = None
    elif slice_window is None:
        raise ValueError(f"spec.objectives.0.timeSliceWindow: required with budgetingMethod {spec.budgetingMethod}")
    elif spec.budgetingMethod == "Timeslices" and slice_target is None:
        raise ValueError("spec.objectives.0.timeSliceTarget: required with budgetingMethod Timeslices")

    window = spec.timeWindow[0]
    target = objective.target if objective.target is not None else _percent(objective.targetPercent or 0)
    return SLO(
        name=parsed.metadata.name,
        display_name=parsed.metadata.displayName,
        description=spec.description,
        service=spec.service,
        target=target,
        objective=objective.displayName,
        period=window.duration,
        rolling=window.isRolling if window.isRolling is not None else window.calendar is None,
        calendar_start=_calendar_start(window.calendar) if window.calendar else None,
        time_zone=window.calendar.timeZone if window.calendar else None,
        budgeting_method=spec.budgetingMethod,
        time_slice_target=slice_target,
        time_slice_window=slice_window,
        indicator=Indicator(**indicator),
        provenance=Provenance(source=source, fetched_at=fetched_at, ref=f"{document.location}#{parsed.metadata.name}"),
    )


def _journeys(
    path: Path, root: Path, slo_names: set[str], problems: list[Problem], source: str, fetched_at: datetime
) -> tuple[Journey, ...]:
    if not path.is_file():
        return ()
    location = path.relative_to(root).as_posix()

    def build(item: dict[str, Any], where: str) -> Journey:
        parsed = JourneyIn.model_validate(item)
        ref = f"{location}#{parsed.name}"
        return Journey(**parsed.model_dump(), provenance=Provenance(source=source, fetched_at=fetched_at, ref=ref))

    journeys: dict[str, Journey] = {}
    for where, items in record_lists(
        [path], root, problems, "journeys", "a list of journeys (or a mapping with a journeys list)"
    ):
        for journey in each_record(items, where, problems, build):
            ref = journey.provenance.ref or location
            if journey.name in journeys:
                problems.append(Problem(location=ref, reason=f"name: journey {journey.name!r} is already defined"))
                continue
            if journey.slo not in slo_names:
                reason = f"slo: no usable SLO named {journey.slo!r} in slos/; the journey is served without one"
                problems.append(Problem(location=ref, reason=reason, severity="warning"))
            journeys[journey.name] = journey
    return tuple(journeys.values())
