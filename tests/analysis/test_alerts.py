from __future__ import annotations

from datetime import UTC, datetime

from opscontext_mcp.analysis.alerts import active_alerts
from opscontext_mcp.join import SnapshotInputs, build_snapshot
from opscontext_mcp.model import Alert
from tests.fakes import declared, prov, service

NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)


def alert(name: str, on: str, state: str = "active", fingerprint: str | None = None, source: str = "am") -> Alert:
    return Alert(
        name=name,
        service=on,
        state=state,  # type: ignore[arg-type]
        starts_at=datetime(2026, 11, 27, 9, 40, tzinfo=UTC),
        fingerprint=fingerprint,
        provenance=prov(source, fingerprint),
    )


def snapshot(*alerts: Alert):  # type: ignore[no-untyped-def]
    return build_snapshot(
        SnapshotInputs(
            built_at=NOW,
            services=[service("checkout"), service("payment")],
            dependencies=[declared("component:default/checkout", "component:default/payment")],
            alerts=list(alerts),
        )
    )


def test_an_unprocessed_alert_fires_and_only_silenced_or_inhibited_ones_count_as_suppressed() -> None:
    found = active_alerts(
        snapshot(
            alert("Muted", "checkout", "suppressed", "f1"),
            alert("JustArrived", "checkout", "unprocessed", "f2"),
            alert("Firing", "payment", "active", "f3"),
        ),
        None,
        0,
        NOW,
        10,
    )
    assert (found.total, found.firing, found.suppressed) == (3, 2, 1)
    assert [a.name for a in found.shown] == ["Firing", "JustArrived", "Muted"]  # same onset: by name
    assert found.by_service == {"checkout": 1, "payment": 1}


def test_one_upstream_alert_on_several_services_is_listed_once_at_the_nearest() -> None:
    problem = [alert("Failure rate increase", on, "active", "P-1", source="dt") for on in ("payment", "checkout")]
    other_source = alert("Failure rate increase", "payment", "active", "P-1", source="other")
    found = active_alerts(snapshot(*problem, other_source), snapshot(*problem).services["checkout"], 1, NOW, 10)
    assert [(a.service, a.hop, a.provenance.source) for a in found.shown] == [
        ("checkout", 0, "dt"),
        ("payment", 1, "other"),
    ]
    assert (found.total, found.firing) == (2, 2)
