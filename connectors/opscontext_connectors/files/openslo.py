"""OpenSLO v1 documents as written: the input shapes `slos` validates them against.

The models use OpenSLO's own key names (camelCase aliases), so a validation error names the key
path the author wrote, e.g. `spec.timeWindow.0.duration`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from opscontext_mcp.model import BudgetingMethod, ComparisonOp

API_VERSION = "openslo/v1"
OPENSLO_KINDS = ("SLO", "SLI", "DataSource", "AlertPolicy", "AlertCondition", "AlertNotificationTarget", "Service")
JOURNEYS_FILE = "journeys.yaml"

_SHORTHAND = re.compile(r"([1-9][0-9]*)([mhdwMQY])")
_UNITS = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
    "M": timedelta(days=30),
    "Q": timedelta(days=90),
    "Y": timedelta(days=365),
}


def parse_duration(value: Any) -> timedelta:
    """An OpenSLO duration shorthand (`5m`, `28d`, `1M`); a month is 30 days, a quarter 90, a year 365."""
    match = _SHORTHAND.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise PydanticCustomError(
            "duration",
            "expected a duration shorthand: a whole number and one of m, h, d, w, M, Q, Y (e.g. 28d), got {value}",
            {"value": repr(value)[:40]},
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def slice_window(value: Any) -> timedelta:
    # OpenSLO: "Default interpretation of unit if specified as a number in minutes."
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return timedelta(minutes=value)
    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
SliceWindow = Annotated[timedelta, BeforeValidator(slice_window)]


def _invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("openslo", message)


class _In(BaseModel):
    # OpenSLO documents carry more than evaluation needs (labels, annotations, alertPolicies, …).
    model_config = ConfigDict(extra="ignore")


class _Metadata(_In):
    name: str = Field(min_length=1)
    displayName: str | None = None


class MetricSourceIn(_In):
    metricSourceRef: str | None = None
    type: str | None = None
    spec: dict[str, Any] = Field(default_factory=dict)

    @field_validator("spec")
    @classmethod
    def _flat_values(cls, spec: dict[str, Any]) -> dict[str, Any]:
        for key, value in spec.items():
            flat = isinstance(value, str | int | float | bool)
            if not flat and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise PydanticCustomError(
                    "metric_spec",
                    "{key}: expected a string, a number, true/false or a list of strings",
                    {"key": str(key)},
                )
        return spec


class QueryIn(_In):
    metricSource: MetricSourceIn


class RatioIn(_In):
    counter: bool = False
    good: QueryIn | None = None
    bad: QueryIn | None = None
    total: QueryIn | None = None
    raw: QueryIn | None = None
    rawType: Literal["success", "failure"] | None = None

    @model_validator(mode="after")
    def _openslo_shape(self) -> RatioIn:
        numerator = self.good is not None or self.bad is not None
        if self.raw is not None or self.rawType is not None:
            if numerator or self.total is not None:
                raise _invalid("raw cannot be used together with good, bad or total")
            if self.raw is None or self.rawType is None:
                raise _invalid("raw and rawType (success or failure) go together")
        elif self.good is not None and self.bad is not None:
            raise _invalid("expected good or bad beside total, not both")
        elif not numerator and self.total is None:
            raise _invalid("expected good + total, bad + total, or raw + rawType")
        elif not numerator:
            raise _invalid("expected good or bad beside total")
        elif self.total is None:
            raise _invalid("expected total beside good or bad")
        return self


class SLISpecIn(_In):
    thresholdMetric: QueryIn | None = None
    ratioMetric: RatioIn | None = None

    @model_validator(mode="after")
    def _one_metric(self) -> SLISpecIn:
        if (self.thresholdMetric is None) == (self.ratioMetric is None):
            raise _invalid("expected either thresholdMetric or ratioMetric")
        return self


class SLIIn(_In):
    metadata: _Metadata
    spec: SLISpecIn


class CalendarIn(_In):
    startTime: datetime | None = None
    timeZone: str | None = None


class TimeWindowIn(_In):
    duration: Duration
    isRolling: bool | None = None
    calendar: CalendarIn | None = None


class ObjectiveIn(_In):
    displayName: str | None = None
    op: ComparisonOp | None = None
    value: float | None = None
    target: float | None = Field(default=None, gt=0, lt=1)
    targetPercent: float | None = Field(default=None, gt=0, lt=100)
    timeSliceTarget: float | None = Field(default=None, gt=0, le=1)
    timeSliceWindow: SliceWindow | None = None
    indicator: Any = None
    indicatorRef: Any = None

    @model_validator(mode="after")
    def _one_target(self) -> ObjectiveIn:
        if self.indicator is not None or self.indicatorRef is not None:
            raise _invalid("composite SLOs (an indicator per objective) are not supported")
        if (self.target is None) == (self.targetPercent is None):
            raise _invalid("expected target (0 < t < 1) or targetPercent (0 < p < 100), exactly one")
        return self


class SLOSpecIn(_In):
    description: str | None = None
    service: str
    indicator: SLIIn | None = None
    indicatorRef: str | None = None
    timeWindow: list[TimeWindowIn]
    budgetingMethod: BudgetingMethod
    objectives: list[ObjectiveIn] = Field(min_length=1)

    @field_validator("timeWindow", mode="before")
    @classmethod
    def _exactly_one_window(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) != 1:
            raise PydanticCustomError("time_window", "expected exactly one item, got {count}", {"count": len(value)})
        return value

    @model_validator(mode="after")
    def _one_indicator(self) -> SLOSpecIn:
        if (self.indicator is None) == (self.indicatorRef is None):
            raise _invalid("expected either indicator (inline) or indicatorRef (an SLI's name)")
        return self


class SLOIn(_In):
    metadata: _Metadata
    spec: SLOSpecIn


class JourneyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    entry: str
    slo: str
    description: str | None = None
