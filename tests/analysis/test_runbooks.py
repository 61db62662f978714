from __future__ import annotations

from datetime import UTC, date, datetime

from opscontext_mcp.analysis.runbooks import match_runbooks, services_mentioned, tokens
from opscontext_mcp.join import SnapshotInputs, build_snapshot
from opscontext_mcp.model import Runbook, RunbookSection
from tests.fakes import prov, service

NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)


def runbook(
    rid: str,
    services: tuple[str, ...],
    modes: tuple[str, ...] = (),
    alerts: tuple[str, ...] = (),
    sections: dict[str, str] | None = None,
    exercised: date | None = date(2026, 11, 1),
) -> Runbook:
    return Runbook(
        id=rid,
        title=rid.replace("-", " "),
        services=services,
        failure_modes=modes,
        alerts=alerts,
        last_exercised=exercised,
        sections=tuple(RunbookSection(heading=h, anchor=h.lower(), text=t) for h, t in (sections or {}).items()),
        provenance=prov("docs", f"runbooks/{rid}.md"),
    )


def snapshot():  # type: ignore[no-untyped-def]
    return build_snapshot(
        SnapshotInputs(
            built_at=NOW,
            services=[service("payment"), service("cart")],
            runbooks=[
                runbook(
                    "payment-latency",
                    ("payment",),
                    ("gateway timeouts", "connection pool exhaustion"),
                    ("PaymentLatencyHigh",),
                    {"Diagnosis": "Check the Stripe connection pool.", "Rollback": "helm rollback payment"},
                ),
                runbook(
                    "cart-redis",
                    ("cart",),
                    ("redis memory full",),
                    ("RedisCartMemoryHigh",),
                    {"Eviction": "Redis evicts keys when memory is full; payment is not involved."},
                ),
                runbook(
                    "generic", (), ("high latency",), (), {"Timeouts": "timeouts everywhere, timeouts"}, exercised=None
                ),
            ],
        )
    )


def test_tokens_split_camel_case_drop_stop_words_and_stem() -> None:
    assert tokens("PaymentLatencyHigh on the gateways, timing out") == [
        "payment",
        "latency",
        "high",
        "gateway",
        "tim",
        "out",
    ]


def test_an_alert_the_front_matter_answers_outranks_text_matches() -> None:
    matches, total = match_runbooks(
        snapshot(), NOW, alert_names=("RedisCartMemoryHigh",), query_text="payment timeouts"
    )
    assert matches[0].id == "docs/cart-redis"
    assert matches[0].reasons[0] == "answers alert RedisCartMemoryHigh (front matter alerts)"
    assert total == 3


def test_text_relevance_names_the_failure_mode_and_the_best_section() -> None:
    [best, *_], _ = match_runbooks(snapshot(), NOW, query_text="stripe connection pool exhausted")
    assert best.id == "docs/payment-latency"
    assert best.reasons[0].startswith("failure mode 'connection pool exhaustion' matches: connection, pool")
    assert best.section.heading == "Diagnosis"
    assert best.reasons[-1] == "section 'Diagnosis' matches: stripe, connection, pool"
    assert not best.stale and best.days_since_exercised == 26


def test_only_covering_keeps_to_the_services_runbooks_and_never_exercised_is_stale() -> None:
    matches, total = match_runbooks(snapshot(), NOW, service_ids=("cart",), query_text="payment", only_covering=True)
    assert [m.id for m in matches] == ["docs/cart-redis"] and total == 1
    [generic], _ = match_runbooks(snapshot(), NOW, query_text="timeouts everywhere", limit=1)
    assert generic.id == "docs/generic" and generic.stale and generic.days_since_exercised is None


def test_service_names_inside_free_text_are_recognised() -> None:
    assert services_mentioned(snapshot(), "paymentservice p99 is 5s, cart fine") == ("payment", "cart")
