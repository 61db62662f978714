"""Answers of the Prometheus query API: the envelope, and the series of each result type.

Sample values are strings that may say `NaN` or `±Inf` (a ratio of nothing, a quantile of an
empty histogram). Those points are dropped and a series left without points is left out,
because they mean "no value here". A value that is not a number at all makes its series a
problem while the others load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opscontext_mcp.protocols import Problem

from ..http import UpstreamError
from ..values import Skipped, each, listed, mapping, text
from .promql import literal

RESULT_TYPES = frozenset({"vector", "matrix", "scalar", "string"})


@dataclass(frozen=True)
class Answer:
    result_type: str
    result: Any
    """A list of series for vector and matrix; one `[time, value]` pair for scalar and string."""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sample:
    """One series of an answer: its labels and its finite points, oldest first."""

    labels: dict[str, str]
    points: tuple[tuple[datetime, float], ...]

    @property
    def value(self) -> float:
        """The latest value: the only one of an instant vector's series."""
        return self.points[-1][1]


def read_answer(body: Any, where: str) -> Answer:
    """The `data` of a successful answer; anything else is an `UpstreamError` saying why."""
    if not isinstance(body, dict) or "status" not in body:
        raise UpstreamError(f"{where}: expected a Prometheus API answer with a status, got {_shape(body)}")
    if body["status"] != "success":
        reason = text(body.get("error")) or "no reason given"
        kind = text(body.get("errorType"))
        raise UpstreamError(
            f"{where}: Prometheus refused the query" + (f" ({kind})" if kind else "") + f": {reason[:300]}"
        )
    data = mapping(body.get("data"))
    result_type = data.get("resultType")
    if result_type not in RESULT_TYPES or "result" not in data:
        raise UpstreamError(f"{where}: expected data with a resultType and a result, got {_shape(body.get('data'))}")
    result = data["result"]
    if result_type in ("vector", "matrix") and not isinstance(result, list):
        raise UpstreamError(f"{where}: expected a list of series in a {result_type} result")
    # Newer versions add `infos` beside `warnings`; both say the answer may not be the whole truth.
    notes = [text(note) for note in (*listed(body.get("warnings")), *listed(body.get("infos")))]
    return Answer(result_type=result_type, result=result, warnings=tuple(dict.fromkeys(n for n in notes if n)))


def warnings_of(answer: Answer, location: str) -> list[Problem]:
    return [Problem(location=location, reason=note, severity="warning") for note in answer.warnings]


def samples(answer: Answer, kind: str, problems: list[Problem]) -> list[Sample]:
    """Every usable series of an answer of any result type; the others become problems at `kind/<labels>`."""
    if answer.result_type == "scalar":
        return each([{"value": answer.result}], kind, problems, lambda item: read_series(item, "vector"))
    if answer.result_type == "string":
        problems.append(Problem(location=kind, reason="the query returned a string, not a time series"))
        return []
    return each(answer.result, kind, problems, lambda item: read_series(item, answer.result_type), key=series_name)


def read_series(item: dict[str, Any], result_type: str) -> Sample | None:
    """One series of a vector or matrix result; None when none of its points has a finite value."""
    labels = item.get("metric", {})
    if not isinstance(labels, dict):
        raise ValueError(f"metric: expected an object of labels, got {labels!r:.60}")
    key = "value" if result_type == "vector" else "values"
    if key not in item:
        if "histogram" in item or "histograms" in item:
            raise Skipped("native histogram samples are not read; ask for histogram_quantile() or histogram_count()")
        raise ValueError(f"has no {key}")
    raw = [item[key]] if result_type == "vector" else item[key]
    if not isinstance(raw, list):
        raise ValueError(f"{key}: expected a list of [time, value] pairs, got {raw!r:.60}")
    points = tuple(point for point in (_point(pair) for pair in raw) if point is not None)
    if not points:
        return None
    return Sample(labels={k: v for k, v in ((k, text(v)) for k, v in labels.items()) if v is not None}, points=points)


def series_name(item: dict[str, Any]) -> str | None:
    """A series as PromQL would select it, `up{job="checkout"}`: the name its problems are filed under."""
    labels = mapping(item.get("metric"))
    name = text(labels.get("__name__")) or ""
    rest = ",".join(f"{k}={literal(str(v))}" for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


def _point(pair: Any) -> tuple[datetime, float] | None:
    """`[1700000000.123, "0.5"]` → (time, 0.5); None for NaN and ±Inf; ValueError for anything unusable."""
    if not isinstance(pair, list) or len(pair) != 2:
        raise ValueError(f"expected a [time, value] pair, got {pair!r:.60}")
    stamp, value = pair
    if isinstance(stamp, bool) or not isinstance(stamp, int | float) or not math.isfinite(stamp):
        raise ValueError(f"time {stamp!r:.40} is not unix seconds")
    try:
        moment = datetime.fromtimestamp(stamp, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"time {stamp!r:.40} is out of range") from None
    if not isinstance(value, str):
        raise ValueError(f"value {value!r:.40} is not a number in a string")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"value {value!r:.40} is not a number") from None
    return (moment, number) if math.isfinite(number) else None


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "an object with " + (", ".join(sorted(value)[:5]) or "no keys")
    return type(value).__name__ if value is not None else "nothing"
