from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from opscontext_mcp.analysis.journeys import EntrySpec, attribute, entries, measure
from opscontext_mcp.traces import CLIENT, SERVER, Span

T0 = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
T0_NS = int(T0.timestamp()) * 1_000_000_000
CHECKOUT = EntrySpec(service="frontend", span_name="POST /cart/checkout", max_duration_ms=1000)


def span(
    trace: str,
    span_id: str,
    service: str,
    kind: int,
    start_ms: float,
    duration_ms: float,
    parent: str = "",
    error: bool = False,
    name: str = "call",
    **attributes: Any,
) -> Span:
    start = T0_NS + int(start_ms * 1e6)
    return Span(trace, span_id, parent, service, name, kind, start, start + int(duration_ms * 1e6), error, attributes)


def checkout(
    trace: str, at_ms: float, payment_ms: float, user: str | None, failed: bool = False, gateway: bool = True
) -> list[Span]:
    """frontend → checkout → payment → (uninstrumented) payment-gateway; everything else takes 50 ms of own time."""
    attributes = {"enduser.id": user} if user else {}
    total = 100 + payment_ms
    spans = [
        span(trace, "f", "frontend", SERVER, at_ms, total, error=failed, name="POST /cart/checkout", **attributes),
        span(trace, "c", "checkout", SERVER, at_ms + 25, total - 50, parent="f", error=failed),
        span(trace, "p", "payment", SERVER, at_ms + 50, payment_ms, parent="c", error=failed),
    ]
    if gateway:
        call = span(trace, "g", "payment", CLIENT, at_ms + 55, payment_ms - 10, parent="p", error=failed)
        call.attributes["peer.service"] = "payment-gateway"
        spans.append(call)
    return spans


def test_requests_and_users_are_counted_good_and_bad_with_the_user_key_said() -> None:
    spans = [
        *checkout("t1", 0, 200, "ana"),
        *checkout("t2", 1000, 3000, "ana"),  # slow: ana is affected, once
        *checkout("t3", 2000, 200, "ben"),
        *checkout("t4", 3000, 200, "cy", failed=True),
        *checkout("t5", 4000, 200, None),
    ]
    window = (T0, T0 + timedelta(minutes=15))
    requests = entries(spans, CHECKOUT, *window)
    counts = measure(requests, CHECKOUT, *window)
    assert (counts.requests, counts.bad, counts.failed, counts.slow) == (5, 2, 1, 1)
    assert (counts.user_key, counts.users, counts.affected_users, counts.requests_without_user) == (
        "enduser.id",
        3,
        2,
        1,
    )
    assert counts.affected_share == 2 / 3 and counts.bad_ratio == 2 / 5
    assert counts.first_request == T0 and counts.last_request == T0 + timedelta(seconds=4)


def test_without_user_ids_the_share_is_of_requests_and_says_so() -> None:
    spans = [*checkout("t1", 0, 200, None), *checkout("t2", 10, 5000, None)]
    counts = measure(entries(spans, CHECKOUT, T0, T0 + timedelta(minutes=1)), CHECKOUT, T0, T0 + timedelta(minutes=1))
    assert counts.user_key is None and counts.affected_share == 0.5


def test_requests_outside_the_window_or_of_another_span_name_are_not_the_journeys() -> None:
    spans = [*checkout("t1", -1000, 200, "ana"), *checkout("t2", 0, 200, "ben")]
    spans.append(span("t3", "x", "frontend", SERVER, 10, 5, name="GET /"))
    assert [s.trace_id for s in entries(spans, CHECKOUT, T0, T0 + timedelta(minutes=1))] == ["t2"]


def test_slow_requests_are_explained_by_the_service_whose_own_time_grew_naming_the_peer_it_waited_on() -> None:
    spans = [s for i in range(5) for s in checkout(f"g{i}", i * 100, 200, f"u{i}")]
    spans += [s for i in range(3) for s in checkout(f"s{i}", 1000 + i * 100, 3200, f"v{i}")]
    requests = entries(spans, CHECKOUT, T0, T0 + timedelta(minutes=1))
    payment, *rest = attribute(spans, requests, CHECKOUT)
    assert payment.service == "payment" and payment.share > 0.99 and payment.failed_origin == 0
    assert payment.waiting_on == ("payment-gateway",)
    assert payment.excess_ms == 3000.0  # 3190 ms of own time against 190 ms in good requests
    assert all(c.share < 0.01 for c in rest)


def test_a_failed_request_is_explained_by_its_deepest_failing_span() -> None:
    spans = [*checkout("ok", 0, 200, "ana"), *checkout("bad", 500, 200, "ben", failed=True)]
    requests = entries(spans, CHECKOUT, T0, T0 + timedelta(minutes=1))
    (origin,) = attribute(spans, requests, CHECKOUT)
    assert (origin.service, origin.share, origin.failed_origin, origin.waiting_on) == (
        "payment",
        1.0,
        1,
        ("payment-gateway",),
    )
