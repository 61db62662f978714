from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from opscontext_connectors.files.records import read_alerts, read_changes, read_oncall

AT = datetime(2026, 11, 27, 10, tzinfo=UTC)


def test_changes_are_read_and_bad_records_reported(write_tree: Callable[..., Path]) -> None:
    root = write_tree(
        {
            "changes/day.yaml": [
                {
                    "id": "c1",
                    "service": "payment",
                    "kind": "deploy",
                    "summary": "v2",
                    "at": "2026-11-27T09:38:00Z",
                    "version": 2.14,
                },
                {"id": "c2", "service": "payment", "kind": "rollout", "summary": "?", "at": "2026-11-27T09:00:00Z"},
                {"id": "c3", "service": "cart", "kind": "config", "summary": "old", "at": "2026-11-01T09:00:00Z"},
                {"id": "c4", "service": "cart", "kind": "config", "summary": "naive", "at": "2026-11-27T09:00:00"},
                "not a mapping",
            ],
            "changes/more.json": {
                "changes": [
                    {
                        "id": 7,
                        "service": "cart",
                        "kind": "infra",
                        "summary": "node pool",
                        "at": "2026-11-27T08:00:00+00:00",
                    }
                ]
            },
            "changes/bad.yaml": "- [",
        }
    )
    paths = sorted((root / "changes").iterdir())
    batch = read_changes(paths, root, "ci", AT)
    assert sorted(c.id for c in batch.records) == ["7", "c1", "c3"]
    c1 = next(c for c in batch.records if c.id == "c1")
    assert c1.version == "2.14" and c1.provenance.ref == "changes/day.yaml[0]"
    reasons = {p.location: p.reason for p in batch.problems}
    assert "kind" in reasons["changes/day.yaml[1]"]
    assert "timezone" in reasons["changes/day.yaml[3]"]
    assert reasons["changes/day.yaml[4]"] == "expected a mapping"
    assert reasons["changes/bad.yaml"].startswith("cannot parse")


def test_alertmanager_alerts_keep_state_silences_and_the_service_label(write_tree: Callable[..., Path]) -> None:
    root = write_tree(
        {
            "alerts/am.json": [
                {
                    "labels": {"alertname": "PaymentLatencyHigh", "service": "paymentservice", "severity": "critical"},
                    "annotations": {"summary": "p99 > 2s"},
                    "startsAt": "2026-11-27T09:41:30.000Z",
                    "endsAt": "2026-11-27T10:04:30Z",
                    "fingerprint": "a1",
                    "generatorURL": "http://prom/graph",
                    "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
                },
                {
                    "labels": {"alertname": "ShippingSlow", "job": "shipping"},
                    "annotations": {},
                    "startsAt": "2026-11-27T08:55:00Z",
                    "status": {"state": "suppressed", "silencedBy": ["s-1"], "inhibitedBy": []},
                },
                {"labels": {"severity": "page"}, "startsAt": "2026-11-27T09:00:00Z"},
            ],
            "alerts/webhook.json": {
                "alerts": [
                    {
                        "status": "firing",
                        "labels": {"alertname": "X", "app": "cart"},
                        "startsAt": "2026-11-27T09:00:00Z",
                        "endsAt": "0001-01-01T00:00:00Z",
                    }
                ]
            },
        }
    )
    batch = read_alerts(sorted((root / "alerts").iterdir()), root, "am", AT)
    alerts = {a.name: a for a in batch.records}
    assert alerts["PaymentLatencyHigh"].service == "paymentservice"
    assert alerts["PaymentLatencyHigh"].summary == "p99 > 2s"
    assert alerts["ShippingSlow"].service == "shipping"
    assert alerts["ShippingSlow"].state == "suppressed" and alerts["ShippingSlow"].silenced_by == ("s-1",)
    assert alerts["X"].state == "active" and alerts["X"].ends_at is None and alerts["X"].service == "cart"
    assert [p.reason for p in batch.problems] == ["alert has no alertname label"]


ONCALL = """
schedules:
  - name: payments-primary
    team: team-payments
    shifts:
      - {user: bob, start: 2026-11-27T17:00:00Z, end: 2026-11-30T09:00:00Z}
      - {user: alice, start: 2026-11-23T09:00:00Z, end: 2026-11-27T17:00:00Z}
  - name: broken
    shifts: [{user: eve, start: 2026-11-27T17:00:00Z, end: 2026-11-27T09:00:00Z}]
escalation_policies:
  - name: payments
    teams: [team-payments]
    levels:
      - {after_minutes: 15, targets: ["user:marta"]}
      - {after_minutes: 0, targets: ["schedule:payments-primary"]}
      - {after_minutes: 45, targets: ["vendor:stripe"]}
  - name: bad-target
    levels: [{after_minutes: 0, targets: ["pager:42"]}]
vendors:
  - name: stripe
    services: [payment-gateway]
    contact: {bridge: "https://bridge.example"}
    engage_when: {unresolved_minutes: 45, primary_contributor_in: [payment-gateway]}
rotations: []
"""


def test_oncall_yaml_is_read_sorted_and_validated_per_item(write_tree: Callable[..., Path]) -> None:
    root = write_tree({"oncall.yaml": ONCALL})
    data = read_oncall(root / "oncall.yaml", root, "oncall", AT)
    [schedule] = data.schedules
    assert [s.user for s in schedule.shifts] == ["alice", "bob"]
    [policy] = data.policies
    assert [level.after_minutes for level in policy.levels] == [0, 15, 45]
    assert policy.levels[2].targets[0].kind == "vendor"
    [vendor] = data.vendors
    assert vendor.engage_when.unresolved_minutes == 45
    reasons = {p.location: p.reason for p in data.problems}
    assert "ends before it starts" in reasons["oncall.yaml:schedules[1]"]
    assert "escalation target 'pager:42'" in reasons["oncall.yaml:escalation_policies[1]"]
    assert "unknown section" in reasons["oncall.yaml:rotations"]


def test_alerts_of_the_wrong_shape_are_skipped_one_by_one(write_tree: Callable[..., Path]) -> None:
    root = write_tree(
        {
            "alerts/am.json": [
                {"labels": ["alertname", "X"], "startsAt": "2026-11-27T09:00:00Z"},
                {
                    "labels": {"alertname": "Good", "service": "cart"},
                    "annotations": "text",
                    "startsAt": "2026-11-27T09:00:00Z",
                },
                {"labels": {"alertname": "NoStart"}},
                {"labels": {"alertname": "BadTime"}, "startsAt": "yesterday"},
            ]
        }
    )
    batch = read_alerts(sorted((root / "alerts").iterdir()), root, "am", AT)
    assert [a.name for a in batch.records] == ["Good"]
    assert len(batch.problems) == 3
