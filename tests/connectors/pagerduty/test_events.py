from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
import respx

from tests.connectors.pagerduty.routes import BASE, NOW, body, pagerduty, params

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
    deploy = batch.records[0]
    assert deploy.model_dump(exclude={"provenance"}) == {
        "id": "01ABCDEFXYZ",
        "service": "PSVC001",
        "kind": "deploy",
        "summary": "Deploy checkout 1.4.2",
        "at": datetime(2026, 11, 27, 9, 38, tzinfo=UTC),
        "author": "ci-pipeline",
        "version": "1.4.2",
        "link": "https://ci.example.com/run/77",
        "risk": None,
    }
    assert deploy.provenance.source == "pd" and deploy.provenance.ref == "01ABCDEFXYZ"


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

    assert len(batch.records) == 3
    assert [(p.location, p.reason) for p in batch.problems] == [
        ("change_events/01ABCDEFXZ2", "the change event names no service")
    ]


async def test_service_ids_keep_only_the_change_events_of_those_services_and_teams_are_asked_for() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/change_events").mock(return_value=httpx.Response(200, json=body("change_events.json")))
    pd, _ = pagerduty(router, service_ids=["PSVC003"], team_ids=["PTEAM01"])

    batch = await pd.fetch_changes(NOW - timedelta(days=1), NOW)

    assert params(route)["team_ids[]"] == ["PTEAM01"]
    assert [(c.id, c.service) for c in batch.records] == [("01ABCDEFXYZ", "PSVC003"), ("01ABCDEFXZ1", "PSVC003")]
    assert batch.problems == ()


async def test_incidents_are_asked_for_in_every_status_newest_first_with_repeated_array_params() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/incidents").mock(return_value=httpx.Response(200, json=body("incidents.json")))
    pd, _ = pagerduty(router, service_ids=["PSVC001", "PSVC002"], team_ids=["PTEAM01"])

    await pd.fetch_incidents(NOW - timedelta(days=7))

    assert params(route) == {
        "statuses[]": ["triggered", "acknowledged", "resolved"],
        "since": ["2026-11-20T10:00:00Z"],
        "until": ["2026-11-27T10:00:00Z"],
        "sort_by": ["created_at:desc"],
        "service_ids[]": ["PSVC001", "PSVC002"],
        "team_ids[]": ["PTEAM01"],
        "limit": ["100"],
        "offset": ["0"],
    }
    assert "statuses%5B%5D=triggered&statuses%5B%5D=acknowledged" in str(route.calls.last.request.url)


async def test_incidents_carry_their_number_priority_or_urgency_and_resolution() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/incidents").mock(return_value=httpx.Response(200, json=body("incidents.json")))
    pd, _ = pagerduty(router)

    batch = await pd.fetch_incidents(NOW - timedelta(days=7))

    first, resolved, unnumbered = batch.records
    assert first.model_dump(exclude={"provenance"}) == {
        "id": "PD-1234",
        "title": "High error rate on checkout",
        "status": "triggered",
        "open": True,
        "severity": "P2",
        "services": ("PSVC001",),
        "opened_at": datetime(2026, 11, 27, 9, 42, 5, tzinfo=UTC),
        "resolved_at": None,
        "link": "https://acme.pagerduty.com/incidents/PINC001",
    }
    assert (resolved.id, resolved.open, resolved.severity) == ("PD-1230", False, "low")
    assert resolved.resolved_at == datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
    assert (unnumbered.id, unnumbered.status, unnumbered.open) == ("PINC003", "acknowledged", True)
    assert batch.problems == ()


async def test_an_incident_without_a_creation_time_is_a_problem_while_the_rest_load() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    incidents = body("incidents.json")
    del incidents["incidents"][1]["created_at"]
    router.get("/incidents").mock(return_value=httpx.Response(200, json=incidents))
    pd, _ = pagerduty(router)

    batch = await pd.fetch_incidents(NOW - timedelta(days=7))

    assert [i.id for i in batch.records] == ["PD-1234", "PINC003"]
    assert [(p.location, p.reason) for p in batch.problems] == [("incidents/PINC002", "created_at is missing")]


async def test_a_window_starting_after_the_real_clock_still_asks_for_a_range_pagerduty_accepts() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/incidents").mock(return_value=httpx.Response(200, json={"incidents": [], "more": False}))
    pd, _ = pagerduty(router)

    await pd.fetch_incidents(NOW + timedelta(days=1))

    assert (params(route)["since"], params(route)["until"]) == (["2026-11-28T10:00:00Z"], ["2026-11-28T10:01:00Z"])


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
    router.get("/incidents").mock(return_value=httpx.Response(200, json=incidents))
    pd, _ = pagerduty(router)

    batch = await pd.fetch_incidents(NOW - timedelta(days=7))

    assert [(i.id, i.resolved_at) for i in batch.records] == [("PD-1230", datetime(2026, 11, 26, 15, 45, tzinfo=UTC))]
    assert [(p.location, p.reason) for p in batch.problems] == [
        ("incidents/PINC001", "an incident needs an id or number, a status and a title"),
        ("incidents/PINC003", "created_at: expected an ISO-8601 time, got 1764230400"),
        ("incidents/3", "an incident needs an id or number, a status and a title"),
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
