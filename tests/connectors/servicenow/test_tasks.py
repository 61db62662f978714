"""change_request → changes and incident → incidents: windows, moments in UTC, references in every shape."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opscontext_mcp.model import Change, Incident, Provenance
from opscontext_mcp.protocols import Batch, Problem
from tests.connectors.servicenow.support import BASE, TABLE, connector, page, params, router, table_fixture

pytestmark = pytest.mark.anyio

SINCE = datetime(2026, 11, 26, tzinfo=UTC)
NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)


async def read_changes() -> tuple[Batch[Change], list[dict[str, str]]]:
    routes = router()
    route = routes.get(f"{TABLE}/change_request").mock(return_value=page(table_fixture("change_request")))
    source, _ = connector(routes)
    return await source.fetch_changes(SINCE, NOW), params(route)


async def read_incidents() -> tuple[Batch[Incident], list[dict[str, str]]]:
    routes = router()
    route = routes.get(f"{TABLE}/incident").mock(return_value=page(table_fixture("incident")))
    source, _ = connector(routes)
    return await source.fetch_incidents(SINCE), params(route)


def by_id(records: tuple[Change, ...] | tuple[Incident, ...]) -> dict[str, Change | Incident]:
    return {r.id: r for r in records}


def named(batch: Batch[Change] | Batch[Incident], *refs: str) -> tuple[str, ...]:
    """The names the instance gave the CIs these refs point at (what the join falls back on)."""
    names = dict(batch.service_names)
    return tuple(names.get(ref, ref) for ref in refs)


async def test_changes_touched_since_the_window_start_are_read_newest_first() -> None:
    _, sent = await read_changes()
    assert sent[0]["sysparm_query"] == (
        "work_start>=2026-11-26 00:00:00^ORstart_date>=2026-11-26 00:00:00^ORsys_updated_on>=2026-11-26 00:00:00"
        "^ORDERBYDESCsys_updated_on"
    )
    assert sent[0]["sysparm_fields"] == (
        "sys_id,number,short_description,state,type,risk,cmdb_ci,business_service,assigned_to,requested_by,"
        "work_start,start_date,sys_updated_on"
    )


async def test_a_change_happens_at_its_actual_start_read_as_utc() -> None:
    batch, _ = await read_changes()
    url = f"{BASE}/nav_to.do?uri=change_request.do?sys_id=a7c9e1f3b5d74a2c9e0b4d6f8a1c3e57"
    change = by_id(batch.records)["CHG0031207"]
    assert change.model_dump(exclude={"provenance"}) == {
        "id": "CHG0031207",
        "service": "servicenow:71e0b3d95a2c48f6e9d4a1c7b38f0e25",
        "kind": "change_request",
        "summary": "CHG0031207: Orders DB minor version upgrade 15.6 → 15.8",
        "at": datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
        "author": "Mei Tanaka",
        "version": None,
        "link": url,
        "risk": "Moderate",
    }
    assert change.provenance == Provenance(source="servicenow", fetched_at=change.provenance.fetched_at, ref=url)
    assert named(batch, change.service) == ("Orders Database",)


async def test_a_change_not_yet_started_happens_at_its_planned_start_on_its_business_service() -> None:
    batch, _ = await read_changes()
    change = by_id(batch.records)["CHG0031230"]
    assert (*named(batch, change.service), change.at, change.author, change.risk) == (
        "Payment Service",
        datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
        "Fatima Haddad",
        "Low",
    )


async def test_a_change_worked_on_before_the_window_is_left_out_though_updated_in_it() -> None:
    batch, _ = await read_changes()
    assert sorted(by_id(batch.records)) == ["CHG0031207", "CHG0031230"]


async def test_a_change_naming_no_ci_or_service_is_skipped_with_a_warning_and_a_bad_date_is_a_problem() -> None:
    batch, _ = await read_changes()
    assert batch.problems == (
        Problem(
            location="change_request/c9e1a3b5d7f94c4e1a2d6f8b0c3e5a79",
            reason="CHG0031244 names no configuration item or business service",
            severity="warning",
        ),
        Problem(
            location="change_request/e1a3c5d7f9b14e6a3c4f8b0d2e5a7c91",
            reason="work_start: 'last Tuesday' is not a date-time",
        ),
    )


async def test_incidents_opened_in_the_window_or_still_active_are_read_newest_first() -> None:
    _, sent = await read_incidents()
    assert sent[0]["sysparm_query"] == "opened_at>=2026-11-26 00:00:00^ORactive=true^ORDERBYDESCopened_at"
    assert sent[0]["sysparm_fields"] == (
        "sys_id,number,short_description,state,priority,active,cmdb_ci,business_service,opened_at,resolved_at,closed_at"
    )


async def test_an_active_incident_in_progress_is_open_with_its_priority_as_severity_and_both_services() -> None:
    batch, _ = await read_incidents()
    url = f"{BASE}/nav_to.do?uri=incident.do?sys_id=c9e1a3b5d7f94c4e1a2d6f8b0c3e5a79"
    assert by_id(batch.records)["INC0019876"].model_dump(exclude={"provenance"}) == {
        "id": "INC0019876",
        "title": "Customers cannot complete checkout (card payments failing)",
        "status": "In Progress",
        "open": True,
        "severity": "1 - Critical",
        "services": ("servicenow:8b14e0c6a93f4d27b5e1c08d62fa9e31", "servicenow:3f9a2c71d4e81b05a6c2e9f0b7d41a58"),
        "opened_at": datetime(2026, 11, 27, 9, 47, 12, tzinfo=UTC),
        "resolved_at": None,
        "link": url,
    }
    assert named(batch, *by_id(batch.records)["INC0019876"].services) == ("Checkout Service", "Payment Service")


async def test_a_resolved_incident_is_not_open_while_it_is_still_active() -> None:
    batch, _ = await read_incidents()
    incident = by_id(batch.records)["INC0019544"]
    assert (incident.status, incident.open, named(batch, *incident.services)) == ("Resolved", False, ("Cart Service",))
    assert incident.resolved_at == datetime(2026, 11, 20, 15, 3, 11, tzinfo=UTC)


async def test_an_incident_read_without_display_values_gets_the_base_state_label_and_ci_sys_id() -> None:
    batch, _ = await read_incidents()
    incident = by_id(batch.records)["INC0019880"]
    assert (incident.status, incident.open, incident.severity) == ("Closed", False, "4")
    assert incident.services == ("servicenow:71e0b3d95a2c48f6e9d4a1c7b38f0e25",)
    assert named(batch, *incident.services) == incident.services  # no display value: the sys_id alone
    assert incident.resolved_at == datetime(2026, 11, 27, 9, 15, 30, tzinfo=UTC)


async def test_an_incident_without_an_opening_time_is_a_problem_and_the_rest_load() -> None:
    batch, _ = await read_incidents()
    assert sorted(by_id(batch.records)) == ["INC0019544", "INC0019876", "INC0019880"]
    assert batch.problems == (
        Problem(location="incident/a3c5e7f9b1d34a8c5e6b0d2f4a7c9e13", reason="INC0019881 has no opened_at"),
    )


async def test_a_row_that_is_not_a_record_is_a_problem() -> None:
    routes = router()
    routes.get(f"{TABLE}/incident").mock(return_value=page(["INC0000001", {"number": "INC0000002"}]))
    source, _ = connector(routes)
    batch = await source.fetch_incidents(SINCE)
    assert batch.records == ()
    assert [p.location for p in batch.problems] == ["incident[0]", "incident[1]"]


async def test_a_change_outside_the_window_is_left_out_without_a_warning_even_when_it_names_no_ci() -> None:
    old = dict(table_fixture("change_request")[2], work_start={"display_value": "", "value": "2026-11-20 07:00:00"})
    routes = router()
    routes.get(f"{TABLE}/change_request").mock(return_value=page([old]))
    source, _ = connector(routes)
    assert await source.fetch_changes(SINCE, NOW) == Batch()
