"""Metric queries: a `MetricQuery` as `/metrics/query` parameters, and its answer as series.

A query for one value (`range` None) asks for the last `INSTANT_WINDOW` folded into one point
(`resolution=Inf`): Dynatrace has no instant queries. A range query asks for the step as a
resolution, in whole minutes, Dynatrace's finest. Each data entry is one series, labelled with
its `dimensionMap` and the metric id (`metric`), and, where a dimension is a service, that
service as the join names it (`service`); a null value is a gap, not a zero.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from opscontext_mcp.model import Provenance, Series
from opscontext_mcp.protocols import MetricQuery, Problem

from ..values import each, listed, mapping, text
from .values import milliseconds, number, required_moment, service_ref

INSTANT_WINDOW = timedelta(minutes=5)
SERVICE_DIMENSION = "dt.entity.service"
SERVICE_NAME_DIMENSION = "dt.entity.service.name"
"""Added by the `:names` transformation; it names the service for the join."""


def query_params(query: MetricQuery, mz_selector: str | None) -> list[tuple[str, str | int]]:
    start = query.at - (query.range if query.range is not None else INSTANT_WINDOW)
    params: list[tuple[str, str | int]] = [
        ("metricSelector", query.expr),
        ("from", milliseconds(start)),
        ("to", milliseconds(query.at)),
    ]
    if query.range is None:
        params.append(("resolution", "Inf"))
    elif query.step is not None:
        params.append(("resolution", resolution(query.step)))
    if mz_selector:
        params.append(("mzSelector", mz_selector))
    return params


def resolution(step: timedelta) -> str:
    """`5m`, `2h`, `1d`: the step in whole minutes (at least one), in the largest unit that divides it."""
    minutes = max(1, math.ceil(step.total_seconds() / 60))
    for unit, size in (("d", 24 * 60), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def series_from_result(
    item: dict[str, Any], source: str, fetched_at: datetime, problems: list[Problem], names: dict[str, str]
) -> list[Series]:
    metric_id = text(item.get("metricId"))
    if metric_id is None:
        raise ValueError("a result needs a metricId")
    provenance = Provenance(source=source, fetched_at=fetched_at, ref=metric_id)

    def series(data: dict[str, Any]) -> Series:
        labels = {str(key): found for key, value in mapping(data.get("dimensionMap")).items() if (found := text(value))}
        if service := labels.get(SERVICE_DIMENSION):
            labels["service"] = service_ref(service)
            if name := labels.get(SERVICE_NAME_DIMENSION):
                names[labels["service"]] = name
        labels["metric"] = metric_id
        return Series(labels=labels, points=_points(data), provenance=provenance)

    return each(listed(item.get("data")), f"result/{metric_id}/data", problems, series, key=lambda _: None)


def _points(data: dict[str, Any]) -> tuple[tuple[datetime, float], ...]:
    timestamps, values = data.get("timestamps"), data.get("values")
    if not isinstance(timestamps, list) or not isinstance(values, list) or len(timestamps) != len(values):
        raise ValueError("expected timestamps and values, two lists of the same length")
    points = []
    for index, (timestamp, value) in enumerate(zip(timestamps, values, strict=True)):
        if value is None:
            continue
        found = number(value)
        if found is None:
            raise ValueError(f"values[{index}]: {value!r:.40} is not a number")
        points.append((required_moment(timestamp, f"timestamps[{index}]"), found))
    return tuple(points)
