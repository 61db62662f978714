from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
import respx

from tests.connectors.pagerduty.routes import BASE, NOW, body, pagerduty, params, route_incidents

pytestmark = pytest.mark.anyio

CET = timezone(timedelta(hours=1))


async def test_change_events_are_asked_for_in_utc_and_become_changes() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/change_events").mock(return_value=httpx.Response(200, json=body("change_events.json")))
    pd, _ = pagerduty(router)

    batch = await pd.fetch_changes(datetime(2026, 11, 27, 1, tzinfo=CET), NOW)

    assert params(route) == {
        "since": ["2026-11-27T00:00:00Z"],
        "until": ["2026-11-27T10:00:00Z"],
        "limit": ["100"],
        "offset": ["0"],
    }
    deploy, same_on_payments = batch.records[:2]
    assert deploy.model_dump(exclude={"provenance"}) == {
        "id": "01ABCDEFXYZ/PSVC001",
        "service": "pagerduty:PSVC001",
        "kind": "deploy",
        "summary": "Deploy checkout 1.4.2",
        "at": datetime(2026, 11, 27, 9, 38, tzinfo=UTC),
        "author": "ci-pipeline",
        "version": "1.4.2",
        "link": "https://ci.example.com/run/77",
        "risk": None,
    }
    assert deploy.provenance.source == "pd" and deploy.provenance.ref == "01ABCDEFXYZ"
    assert (same_on_payments.id, same_on_payments.service) == ("01ABCDEFXYZ/PSVC003", "pagerduty:PSVC003")
    assert same_on_payments.summary == deploy.summary and same_on_payments.provenance.ref == "01ABCDEFXYZ"


async def test_a_change_event_on_several_services_is_a_change_of_each_named_as_pagerduty_names_it() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    events = body("change_events.json")
    events["change_events"][0]["services"] = [
        {"id": "PSVC001", "type": "service_reference", "summary": "Checkout API"},
        {"id": "PSVC003", "type": "service_reference", "summary": "Payments"},
    ]
    router.get("/change_events").mock(return_value=httpx.Response(200, json=events))
    pd, _ = pagerduty(router)

    batch = await pd.fetch_changes(NOW - timedelta(days=1), NOW)

    assert [c.service for c in batch.records if c.provenance.ref == "01ABCDEFXYZ"] == [
        "pagerduty:PSVC001",
        "pagerduty:PSVC003",
    ]
    assert dict(batch.service_names) == {"pagerduty:PSVC001": "Checkout API", "pagerduty:PSVC003": "Payments"}


async def test_the_change_kind_comes_from_custom_details_and_is_a_deploy_otherwise() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/change_events").mock(return_value=httpx.Response(200, json=body("change_events.json")))
    pd, _ = pagerduty(router)

    batch = await pd.fetch_changes(NOW - timedelta(days=1), NOW)

    found = {c.id: (c.kind, c.version, c.at, c.link) for c in batch.records}
    assert found["01ABCDEFXZ0"] == ("feature_flag", None, datetime(2026, 11, 27, 7, tzinfo=UTC), None)
    assert found["01ABCDEFXZ1"] == ("deploy", "78", datetime(2026, 11, 27, 6, 15, tzinfo=UTC), None)


async def test_a_change_event_without_a_service_is_a_problem_while_the_rest_load() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/change_events").mock(return_value=httpx.Response(200, json=body("change_events.json")))
    pd, _ = pagerduty(router)

    batch = await pd.fetch_changes(NOW - timedelta(days=1), NOW)

    assert len(batch.records) == 4
    assert [(p.location, p.reason) for p in batch.problems] == [
        ("change_events/01ABCDEFXZ2", "the change event names no service")
    ]


async def test_service_ids_keep_only_the_change_events_of_those_services_and_teams_are_asked_for() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/change_events").mock(return_value=httpx.Response(200, json=body("change_events.json")))
    pd, _ = pagerduty(router, service_ids=["PSVC003"], team_ids=["PTEAM01"])

    batch = await pd.fetch_changes(NOW - timedelta(days=1), NOW)

    assert params(route)["team_ids[]"] == ["PTEAM01"]
    assert [(c.id, c.service) for c in batch.records] == [
        ("01ABCDEFXYZ", "pagerduty:PSVC003"),
        ("01ABCDEFXZ1", "pagerduty:PSVC003"),
    ]
    assert batch.problems == ()


async def test_open_incidents_are_asked_for_however_old_and_resolved_ones_within_the_window() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/incidents").mock(return_value=httpx.Response(200, json={"incidents": [], "more": False}))
    pd, _ = pagerduty(router, service_ids=["PSVC001", "PSVC002"], team_ids=["PTEAM01"])

    await pd.fetch_incidents(NOW - timedelta(days=7))

    scope = {"service_ids[]": ["PSVC001", "PSVC002"], "team_ids[]": ["PTEAM01"], "limit": ["100"], "offset": ["0"]}
    assert params(route, 0) == {
        "statuses[]": ["triggered", "acknowledged"],
        "date_range": ["all"],
        "sort_by": ["created_at:desc"],
        **scope,
    }
    assert params(route, 1) == {
        "statuses[]": ["resolved"],
        "since": ["2026-11-20T10:00:00Z"],
        "until": ["2026-11-27T10:00:00Z"],
        "sort_by": ["created_at:desc"],
        **scope,
    }
    assert "statuses%5B%5D=triggered&statuses%5B%5D=acknowledged" in str(route.calls[0].request.url)


async def test_an_incident_open_for_longer_than_the_lookback_is_still_served_and_one_read_twice_shows_once() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    incidents = body("incidents.json")["incidents"]
    forgotten = {**incidents[0], "id": "POLD001", "incident_number": 1001, "created_at": "2026-05-01T08:00:00Z"}
    just_resolved = {**incidents[1], "id": incidents[0]["id"]}  # resolved between the two reads
    route = router.get("/incidents").mock(
        side_effect=[
            httpx.Response(200, json={"incidents": [incidents[0], forgotten], "more": False}),
            httpx.Response(200, json={"incidents": [just_resolved, incidents[1]], "more": False}),
        ]
    )
    pd, _ = pagerduty(router)

    batch = await pd.fetch_incidents(NOW - timedelta(days=7))

    assert route.call_count == 2
    assert [(i.id, i.open) for i in batch.records] == [("PD-1234", True), ("PD-1001", True), ("PD-1230", False)]


async def test_a_lookback_beyond_six_months_asks_for_six_months_and_says_so() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/incidents").mock(return_value=httpx.Response(200, json={"incidents": [], "more": False}))
    pd, _ = pagerduty(router)

    batch = await pd.fetch_incidents(NOW - timedelta(days=365))

    assert params(route, 1)["since"] == ["2026-05-31T10:00:00Z"]
    assert [(p.location, p.severity) for p in batch.problems] == [("/incidents", "warning")]
    assert "at most 180 days" in batch.problems[0].reason


async def test_incidents_carry_their_number_priority_or_urgency_and_resolution() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_incidents(router, body("incidents.json"))
    pd, _ = pagerduty(router)

    batch = await pd.fetch_incidents(NOW - timedelta(days=7))

    first, unnumbered, resolved = batch.records  # the open ones, then those resolved in the window
    assert first.model_dump(exclude={"provenance"}) == {
        "id": "PD-1234",
        "title": "High error rate on checkout",
        "status": "triggered",
        "open": True,
        "severity": "P2",
        "services": ("pagerduty:PSVC001",),
        "opened_at": datetime(2026, 11, 27, 9, 42, 5, tzinfo=UTC),
        "resolved_at": None,
        "link": "https://acme.pagerduty.com/incidents/PINC001",
    }
    assert (resolved.id, resolved.open, resolved.severity) == ("PD-1230", False, "low")
    assert resolved.resolved_at == datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
    assert (unnumbered.id, unnumbered.status, unnumbered.open) == ("PINC003", "acknowledged", True)
    assert dict(batch.service_names) == {"pagerduty:PSVC001": "checkout", "pagerduty:PSVC002": "ledger"}
    assert batch.problems == ()


async def test_an_incident_without_a_creation_time_is_a_problem_while_the_rest_load() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    incidents = body("incidents.json")
    del incidents["incidents"][1]["created_at"]
    route_incidents(router, incidents)
    pd, _ = pagerduty(router)

    batch = await pd.fetch_incidents(NOW - timedelta(days=7))

    assert [i.id for i in batch.records] == ["PD-1234", "PINC003"]
    assert [(p.location, p.reason) for p in batch.problems] == [("incidents/PINC002", "created_at is missing")]


async def test_a_window_starting_after_the_real_clock_still_asks_for_a_range_pagerduty_accepts() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/incidents").mock(return_value=httpx.Response(200, json={"incidents": [], "more": False}))
    pd, _ = pagerduty(router)

    await pd.fetch_incidents(NOW + timedelta(days=1))

    resolved = params(route, 1)
    assert (resolved["since"], resolved["until"]) == (["2026-11-28T10:00:00Z"], ["2026-11-28T10:01:00Z"])


async def test_incidents_without_what_they_need_are_problems_and_a_resolution_time_can_come_from_the_last_change() -> (
    None
):
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    incidents = body("incidents.json")
    resolved = incidents["incidents"][1]
    resolved["resolved_at"], resolved["last_status_change_at"] = None, "2026-11-26T15:45:00Z"
    incidents["incidents"][0]["title"] = incidents["incidents"][0]["summary"] = None
    incidents["incidents"][2]["created_at"] = 1764230400
    incidents["incidents"].append({"incident_number": True, "status": "triggered", "title": "?"})
    route_incidents(router, incidents)
    pd, _ = pagerduty(router)

    batch = await pd.fetch_incidents(NOW - timedelta(days=7))

    assert [(i.id, i.resolved_at) for i in batch.records] == [("PD-1230", datetime(2026, 11, 26, 15, 45, tzinfo=UTC))]
    assert [(p.location, p.reason) for p in batch.problems] == [
        ("incidents/PINC001", "an incident needs an id or number, a status and a title"),
        ("incidents/PINC003", "created_at: expected an ISO-8601 time, got 1764230400"),
        ("incidents[2]", "an incident needs an id or number, a status and a title"),
    ]


async def test_a_change_event_without_a_summary_is_a_problem() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    events = body("change_events.json")
    del events["change_events"][0]["summary"]
    router.get("/change_events").mock(return_value=httpx.Response(200, json=events))
    pd, _ = pagerduty(router)

    batch = await pd.fetch_changes(NOW - timedelta(days=1), NOW)

    assert ("change_events/01ABCDEFXYZ", "a change event needs an id and a summary") in [
        (p.location, p.reason) for p in batch.problems
    ]
