from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from opscontext_mcp.model import Shift
from tests.connectors.opsgenie.routes import BASE, KEY, NOW, PAYMENTS, body, opsgenie, params, route_fixtures

pytestmark = pytest.mark.anyio


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def levels(policy) -> list[tuple[int, list[str]]]:  # type: ignore[no-untyped-def]
    return [(level.after_minutes, [f"{t.kind}:{t.name}" for t in level.targets]) for level in policy.levels]


async def test_on_call_reads_schedules_each_timeline_over_the_horizon_and_escalations_with_the_genie_key() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_fixtures(router)
    og, waits = opsgenie(router, horizon_days=5)

    await og.fetch_oncall()

    assert params(routes["payments"]) == {
        "identifierType": ["id"],
        "date": ["2026-11-27T10:00:00Z"],
        "interval": ["5"],
        "intervalUnit": ["days"],
    }
    assert routes["checkout"].call_count == 1 and routes["oncalls"].call_count == 0
    for name in ("schedules", "payments", "checkout", "escalations"):
        assert routes[name].call_count == 1
        assert routes[name].calls.last.request.headers["authorization"] == f"GenieKey {KEY}"
    assert params(routes["schedules"]) == {} and waits.seconds == []


async def test_timeline_periods_of_people_become_shifts_of_the_schedule_of_the_owner_team() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_fixtures(router)
    og, _ = opsgenie(router)

    data = await og.fetch_oncall()

    payments = next(s for s in data.schedules if s.name == "payments_schedule")
    assert payments.team == "Payments"
    assert payments.provenance.source == "og" and payments.provenance.ref == PAYMENTS
    assert [(s.user.split("@")[0], s.start, s.end) for s in payments.shifts] == [
        ("priya.raman", utc("2026-11-24T17:00"), utc("2026-11-27T17:00")),
        ("lucas.martin", utc("2026-11-27T17:00"), utc("2026-12-01T09:00")),
        ("fatima.haddad", utc("2026-11-28T09:00"), utc("2026-11-28T13:00")),
    ]
    assert [(p.location, p.severity, p.reason) for p in data.problems if "timeline" in p.location] == [
        ("schedules/payments_schedule/timeline", "warning", "endDate is missing")
    ]
    checkout = next(s for s in data.schedules if s.name == "checkout_schedule")
    assert (checkout.team, checkout.shifts) == ("checkout_team", ())


async def test_escalation_delays_count_from_the_alerts_creation_not_from_the_rule_before() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_fixtures(router)
    og, _ = opsgenie(router)

    data = await og.fetch_oncall()

    payments = next(p for p in data.policies if p.name == "payments_escalation")
    assert levels(payments) == [
        (0, ["schedule:payments_schedule"]),
        (15, ["user:marta.lopez@acme-shop.example"]),
        (30, ["user:sam.okafor@acme-shop.example", "team:Payments"]),
        (60, ["team:platform_team"]),
    ]
    assert (payments.teams, payments.services) == (("Payments",), ())
    assert payments.provenance.ref == "9a441055-b9a9-4c4b-8a21-7bcd1f7c2e11"


async def test_a_recipient_without_a_name_is_reported_and_the_rest_of_its_escalation_kept() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_fixtures(router)
    og, _ = opsgenie(router)

    data = await og.fetch_oncall()

    checkout = next(p for p in data.policies if p.name == "checkout_escalation")
    assert levels(checkout) == [(0, ["schedule:checkout_schedule"])]
    (problem,) = [p for p in data.problems if p.location == "escalations/checkout_escalation"]
    assert problem.severity == "warning" and problem.reason.startswith("rule 2: recipient")


async def test_without_a_timeline_who_is_on_call_now_holds_the_schedule_for_an_hour_with_bounds_reported_unknown() -> (
    None
):
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_fixtures(router)
    routes["checkout"].mock(return_value=httpx.Response(404, json={"message": "Schedule not found", "took": 0.0}))
    og, waits = opsgenie(router)

    data = await og.fetch_oncall()

    assert routes["checkout"].call_count == 1 and waits.seconds == []
    assert params(routes["oncalls"]) == {
        "scheduleIdentifierType": ["id"],
        "flat": ["false"],
        "date": ["2026-11-27T10:00:00Z"],
    }
    checkout = next(s for s in data.schedules if s.name == "checkout_schedule")
    hour = NOW + timedelta(hours=1)
    assert checkout.shifts == (
        Shift(user="diego.alvarez@acme-shop.example", start=NOW, end=hour),
        Shift(user="kenji.watanabe@acme-shop.example", start=NOW, end=hour),
    )
    (problem,) = [p for p in data.problems if p.location == "schedules/checkout_schedule"]
    assert problem.severity == "warning"
    assert "404 Not Found: Schedule not found" in problem.reason and "shift bounds unknown" in problem.reason


async def test_a_timeline_answer_without_a_final_timeline_counts_as_unavailable() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_fixtures(router)
    routes["checkout"].mock(return_value=httpx.Response(200, json={"data": {"startDate": "2026-11-27T10:00:00Z"}}))
    og, _ = opsgenie(router)

    data = await og.fetch_oncall()

    assert routes["oncalls"].call_count == 1
    checkout = next(s for s in data.schedules if s.name == "checkout_schedule")
    assert [s.user for s in checkout.shifts] == ["diego.alvarez@acme-shop.example", "kenji.watanabe@acme-shop.example"]
    assert any("no finalTimeline" in p.reason for p in data.problems)


async def test_a_schedule_opsgenie_can_say_nothing_about_is_left_out_as_an_error_and_invents_nobody() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_fixtures(router)
    routes["checkout"].mock(return_value=httpx.Response(403, json={"message": "Forbidden"}))
    routes["oncalls"].mock(return_value=httpx.Response(403, json={"message": "Forbidden"}))
    og, _ = opsgenie(router)

    data = await og.fetch_oncall()

    assert [s.name for s in data.schedules] == ["payments_schedule"]
    (problem,) = [p for p in data.problems if p.location == "schedules/checkout_schedule"]
    assert problem.severity == "error" and "who is on call now is unknown too" in problem.reason


async def test_a_schedule_id_is_escaped_into_its_path_segment() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/v2/schedules").mock(
        return_value=httpx.Response(200, json={"data": [{"id": "../escalations?x", "name": "odd"}]})
    )
    timeline = router.get(path__regex=r"^/v2/schedules/.+/timeline$").mock(
        return_value=httpx.Response(200, json={"data": {"finalTimeline": {}}})
    )
    router.get("/v2/escalations").mock(return_value=httpx.Response(200, json={"data": []}))
    og, _ = opsgenie(router)

    await og.fetch_oncall()

    assert timeline.calls.last.request.url.raw_path.startswith(b"/v2/schedules/..%2Fescalations%3Fx/timeline?")


async def test_malformed_schedules_and_escalations_are_skipped_as_problems_while_the_rest_load() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_fixtures(router)
    schedules = body("schedules.json")
    schedules["data"].insert(0, {"id": "no-name"})
    routes["schedules"].mock(return_value=httpx.Response(200, json=schedules))
    escalations = body("escalations.json")
    escalations["data"][1]["rules"][0]["delay"] = {"timeAmount": "soon", "timeUnit": "minutes"}
    escalations["data"].append(["not", "an", "escalation"])
    routes["escalations"].mock(return_value=httpx.Response(200, json=escalations))
    og, _ = opsgenie(router)

    data = await og.fetch_oncall()

    assert sorted(s.name for s in data.schedules) == ["checkout_schedule", "payments_schedule"]
    assert [p.name for p in data.policies] == ["payments_escalation"]
    errors = sorted((p.location, p.reason) for p in data.problems if p.severity == "error")
    assert errors == [
        (
            "escalations/checkout_escalation",
            "rule 1: delay {'timeAmount': 'soon', 'timeUnit': 'minutes'} is not a time in minutes, hours or days",
        ),
        ("escalations[2]", "expected an object with an id and a name, got ['not', 'an', 'escalation']"),
        ("schedules[0]", "expected an object with an id and a name, got {'id': 'no-name'}"),
    ]


async def test_lists_follow_paging_next_links_absolute_or_relative_across_pages() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    escalations = body("escalations.json")["data"]
    pages = router.get("/v2/escalations").mock(
        side_effect=[
            httpx.Response(
                200, json={"data": escalations[:1], "paging": {"next": f"{BASE}/v2/escalations?offset=1&limit=1"}}
            ),
            httpx.Response(200, json={"data": escalations[1:], "paging": {"next": "/v2/escalations?offset=2&limit=1"}}),
            httpx.Response(200, json={"data": [escalations[0] | {"id": "third", "name": "third"}], "paging": {}}),
        ]
    )
    router.get("/v2/schedules").mock(return_value=httpx.Response(200, json={"data": []}))
    og, _ = opsgenie(router)

    data = await og.fetch_oncall()

    assert pages.call_count == 3
    assert [params(pages, i) for i in range(3)] == [
        {},
        {"offset": ["1"], "limit": ["1"]},
        {"offset": ["2"], "limit": ["1"]},
    ]
    assert all(call.request.headers["authorization"] == f"GenieKey {KEY}" for call in pages.calls)
    assert [p.name for p in data.policies] == ["payments_escalation", "checkout_escalation", "third"]


async def test_a_next_page_on_another_host_is_not_followed_so_the_key_never_leaves() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/v2/schedules").mock(
        return_value=httpx.Response(
            200,
            json={
                "data": body("schedules.json")["data"][:1],
                "paging": {"next": "https://evil.example/v2/schedules?offset=1"},
            },
        )
    )
    router.get(f"/v2/schedules/{PAYMENTS}/timeline").mock(
        return_value=httpx.Response(200, json=body("timeline_payments.json"))
    )
    router.get("/v2/escalations").mock(return_value=httpx.Response(200, json={"data": []}))
    og, _ = opsgenie(router)

    data = await og.fetch_oncall()

    assert [s.name for s in data.schedules] == ["payments_schedule"]
    assert any(p.location == "/v2/schedules" and "outside base_url" in p.reason for p in data.problems)


async def test_paging_stops_at_an_empty_page_or_a_link_already_followed() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    again = {"paging": {"next": f"{BASE}/v2/escalations?offset=1"}}
    pages = router.get("/v2/escalations").mock(
        side_effect=[
            httpx.Response(200, json={"data": body("escalations.json")["data"][:1], **again}),
            httpx.Response(200, json={"data": body("escalations.json")["data"][1:], **again}),
        ]
    )
    router.get("/v2/schedules").mock(return_value=httpx.Response(200, json={"data": [], **again}))
    og, _ = opsgenie(router)

    data = await og.fetch_oncall()

    assert pages.call_count == 2 and len(data.policies) == 2


async def test_timeline_periods_that_cannot_be_read_are_warnings_and_the_rest_are_shifts() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_fixtures(router)
    timeline = body("timeline_payments.json")
    timeline["data"]["finalTimeline"]["rotations"].append(
        {
            "name": "odd",
            "periods": [
                {"startDate": "2026-11-29T09:00:00Z", "endDate": "2026-11-29T10:00:00Z", "recipient": {"type": "user"}},
                {"startDate": "2026-11-29T09:00:00", "endDate": "2026-11-29T10:00:00Z", "recipient": {"name": "a@x"}},
                {"startDate": "someday", "endDate": "2026-11-29T10:00:00Z", "recipient": {"name": "b@x"}},
                {"startDate": "2026-11-29T10:00:00Z", "endDate": "2026-11-29T09:00:00Z", "recipient": {"name": "c@x"}},
                {"startDate": "2026-11-30T09:00:00Z", "endDate": "2026-11-30T10:00:00Z", "recipient": {"name": "d@x"}},
            ],
        }
    )
    routes["payments"].mock(return_value=httpx.Response(200, json=timeline))
    og, _ = opsgenie(router)

    data = await og.fetch_oncall()

    payments = next(s for s in data.schedules if s.name == "payments_schedule")
    assert [s.user for s in payments.shifts][-1] == "d@x"
    assert [p.reason for p in data.problems if p.location == "schedules/payments_schedule/timeline"] == [
        "endDate is missing",
        "a period names no recipient",
        "startDate: '2026-11-29T09:00:00' has no timezone",
        "startDate: 'someday' is not an ISO-8601 time",
        "the period of c@x ends before it starts",
    ]


async def test_an_escalation_without_a_usable_recipient_or_with_a_delay_in_weeks_is_a_problem() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_fixtures(router)
    escalations = body("escalations.json")
    escalations["data"][0]["rules"] = [{"recipient": {"type": "team"}}]
    escalations["data"][1]["rules"].append({"delay": {"timeAmount": 2, "timeUnit": "weeks"}, "recipient": {}})
    escalations["data"].append({"id": "e3", "name": "named", "rules": [{"recipient": {"type": "user", "name": "zoe"}}]})
    routes["escalations"].mock(return_value=httpx.Response(200, json=escalations))
    og, _ = opsgenie(router)

    data = await og.fetch_oncall()

    assert [(p.name, p.teams, levels(p)) for p in data.policies] == [("named", (), [(0, ["user:zoe"])])]
    errors = [(p.location, p.reason) for p in data.problems if p.severity == "error"]
    assert errors == [
        ("escalations/payments_escalation", "no rule has a usable recipient"),
        (
            "escalations/checkout_escalation",
            "rule 3: delay {'timeAmount': 2, 'timeUnit': 'weeks'} is not a time in minutes, hours or days",
        ),
    ]
