from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from opscontext_connectors.files.runbooks import read_runbooks

AT = datetime(2026, 11, 27, 10, tzinfo=UTC)

RUNBOOK = """---
title: Payment latency
services: [payment, PaymentService]
failure_modes: [gateway timeouts, connection pool exhaustion]
alerts: PaymentLatencyHigh
last_exercised: 2026-10-15
owner: team-payments
---
# Payment latency

Read this first.

## Symptoms

p99 above 2 s.

## Diagnosis

```bash
## not a heading inside a fence
kubectl -n shop logs deploy/payment
```

## Symptoms

Duplicate heading gets its own anchor.
"""


def test_front_matter_and_sections_are_read(write_tree: Callable[..., Path]) -> None:
    root = write_tree({"runbooks/payments/latency.md": RUNBOOK})
    batch = read_runbooks(root / "runbooks", root, "docs", AT)
    [runbook] = batch.records
    assert runbook.id == "payments/latency"
    assert runbook.title == "Payment latency"
    assert runbook.services == ("payment", "PaymentService")
    assert runbook.alerts == ("PaymentLatencyHigh",)
    assert runbook.last_exercised == date(2026, 10, 15)
    assert runbook.summary == "Read this first."
    assert [s.anchor for s in runbook.sections] == ["symptoms", "diagnosis", "symptoms-1"]
    assert "## not a heading inside a fence" in runbook.sections[1].text
    assert runbook.provenance.ref == "runbooks/payments/latency.md"


def test_a_runbook_without_front_matter_takes_its_title_from_the_heading(write_tree: Callable[..., Path]) -> None:
    root = write_tree({"runbooks/plain.md": "# Restart the world\n\n## Steps\n\nDo it.\n"})
    [runbook] = read_runbooks(root / "runbooks", root, "docs", AT).records
    assert (runbook.title, runbook.services, runbook.last_exercised) == ("Restart the world", (), None)


def test_broken_front_matter_is_reported_and_other_runbooks_load(write_tree: Callable[..., Path]) -> None:
    root = write_tree(
        {
            "runbooks/good.md": RUNBOOK,
            "runbooks/yaml.md": "---\ntitle: [oops\n---\nbody\n",
            "runbooks/list.md": "---\n- a\n- b\n---\nbody\n",
            "runbooks/date.md": "---\ntitle: t\nlast_exercised: last tuesday\n---\nbody\n",
        }
    )
    batch = read_runbooks(root / "runbooks", root, "docs", AT)
    assert [r.id for r in batch.records] == ["good"]
    reasons = {p.location: p.reason for p in batch.problems}
    assert reasons["runbooks/yaml.md"].startswith("front matter is not valid YAML")
    assert reasons["runbooks/list.md"].startswith("front matter must be a mapping")
    assert (
        reasons["runbooks/date.md"]
        == "front matter last_exercised: expected a date like 2026-11-01, got 'last tuesday'"
    )
