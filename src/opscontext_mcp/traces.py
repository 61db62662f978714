"""Spans as trace-reading connectors hand them over: the smallest shape trace analysis needs.

Trace sources (a folder of OTLP/JSON exports today) keep only the attributes analysis reads:
peer and messaging names for dependencies, `enduser.id` / `session.id` for the users a journey
touched, `http.route` and the response status. Spans are plain slotted dataclasses rather than
pydantic records: a busy hour is hundreds of thousands of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER = 1, 2, 3, 4, 5
"""OpenTelemetry span kinds, by their OTLP numbers."""

PEER_ATTRIBUTES = (
    "peer.service",
    "db.namespace",
    "db.name",
    "server.address",
    "net.peer.name",
    "db.system.name",
    "db.system",
)
"""Attributes that name the other side of a CLIENT span, most specific first."""
QUEUE_ATTRIBUTES = ("peer.service", "messaging.destination.name", "messaging.destination")
"""Attributes that name the queue or topic of a PRODUCER or CONSUMER span."""


@dataclass(slots=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str
    """Empty for a root span."""
    service: str
    """The `service.name` of the resource that emitted it."""
    name: str
    kind: int
    start_ns: int
    end_ns: int
    error: bool
    attributes: dict[str, Any]

    @property
    def duration_ms(self) -> float:
        return max(self.end_ns - self.start_ns, 0) / 1e6


def peer_of(span: Span) -> str | None:
    """The service, database or queue a CLIENT or PRODUCER span calls, as its attributes name it."""
    keys = QUEUE_ATTRIBUTES if span.kind == PRODUCER else PEER_ATTRIBUTES
    for key in keys:
        value = span.attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ns(moment: datetime) -> int:
    """A moment in Unix nanoseconds, as spans carry their times (exact to the microsecond)."""
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def from_ns(nanoseconds: int) -> datetime:
    return datetime.fromtimestamp(nanoseconds / 1e9, tz=UTC)
