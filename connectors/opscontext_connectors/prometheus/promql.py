"""PromQL text the connector writes: durations, label matchers, instants, and links to the graph page.

Every value from outside (a service name, a configured matcher) reaches Prometheus inside a
PromQL string literal or as a matcher the operator wrote; queries go in a form body, never in
a URL that could be cut or logged with them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlencode


def duration(seconds: float) -> str:
    """A range as PromQL wants it, in whole seconds (at least one): `900s`."""
    return f"{max(1, round(seconds))}s"


def literal(value: str) -> str:
    """A PromQL string literal. PromQL unquotes like Go, which reads every escape JSON writes."""
    return json.dumps(value, ensure_ascii=False)


def matcher(label: str, value: str) -> str:
    return f"{label}={literal(value)}"


def selector(metric: str, matchers: Iterable[str]) -> str:
    """`metric{a="b",c!="d"}`, or the bare name when there is nothing to match."""
    given = [m for m in matchers if m]
    return f"{metric}{{{','.join(given)}}}" if given else metric


def unix(moment: datetime) -> str:
    """An instant as the API's `time`/`start`/`end` parameters take it: unix seconds, to the millisecond."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no timezone; the instant it means is unknown")
    return f"{moment.timestamp():.3f}"


def seconds(value: float) -> str:
    """A step in seconds, as the API's `step` parameter takes it (a float is allowed)."""
    return f"{value:g}"


def graph_link(base_url: str, expr: str) -> str:
    """The Prometheus graph page for `expr`: where a responder sees what the connector saw."""
    return f"{base_url}/graph?{urlencode({'g0.expr': expr})}"
