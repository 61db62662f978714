from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from opscontext_mcp.model import EscalationTarget, Shift
from tests.connectors.pagerduty.routes import BASE, NOW, TOKEN, body, pagerduty, params, route_oncall_fixtures

pytestmark = pytest.mark.anyio


def levels(policy) -> list[tuple[int, list[str]]]:  # type: ignore[no-untyped-def]
    return [(level.after_minutes, [f"{t.kind}:{t.name}" for t in level.targets]) for level in policy.levels]


async def test_on_call_asks_for_services_each_policy_once_and_their_oncalls_with_v2_headers() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True, assert_all_called=True)
    routes = route_oncall_fixtures(router)
    pd, waits = pagerduty(router)

    await pd.fetch_oncall()

    assert params(routes["services"]) == {
        "include[]": ["escalation_policies", "teams"],
        "limit": ["100"],
        "offset": ["0"],
    }
    assert routes["PEP0001"].call_count == 1 and routes["PEP0002"].call_count == 1
    assert params(routes["oncalls"]) == {
        "include[]": ["users"],
        "since": ["2026-11-27T10:00:00Z"],
        "until": ["2026-12-04T10:00:00Z"],
        "escalation_policy_ids[]": ["PEP0001", "PEP0002"],
        "limit": ["100"],
        "offset": ["0"],
    }
    for route in routes.values():
        headers = route.calls.last.request.headers
        assert headers["authorization"] == f"Token token={TOKEN}"
        assert headers["accept"] == "application/vnd.pagerduty+json;version=2"
    assert waits.seconds == []


async def test_escalation_levels_start_at_the_sum_of_the_earlier_rules_delays_and_loops_are_kept_once() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_oncall_fixtures(router)
    pd, _ = pagerduty(router)

    before = datetime.now(UTC).replace(microsecond=0)
    data = await pd.fetch_oncall()

    checkout = next(p for p in data.policies if p.name == "Checkout EP")
    assert levels(checkout) == [
        (0, ["schedule:Checkout Primary"]),
        (30, ["user:bo.lead@example.com"]),
        (40, ["user:Cy Director", "schedule:Checkout Secondary"]),
    ]
    assert checkout.services == ("pagerduty:PSVC001", "pagerduty:PSVC003")
    assert checkout.teams == ("Checkout",)
    assert checkout.provenance.source == "pd"
    assert checkout.provenance.ref == "https://acme.pagerduty.com/escalation_policies/PEP0001"
    assert checkout.provenance.fetched_at >= before  # real fetch time, even with the analysis clock pinned


async def test_user_targets_are_joined_to_emails_from_the_oncalls_users_and_fall_back_to_the_name() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_oncall_fixtures(router)
    pd, _ = pagerduty(router)

    data = await pd.fetch_oncall()

    finance = next(p for p in data.policies if p.name == "Finance EP")
    assert finance.levels[0].targets == (EscalationTarget(kind="user", name="di@example.com"),)
    checkout = next(p for p in data.policies if p.name == "Checkout EP")
    assert EscalationTarget(kind="user", name="Cy Director") in checkout.levels[2].targets


async def test_schedules_hold_the_oncalls_shifts_by_email_with_the_policys_first_team() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_oncall_fixtures(router)
    pd, _ = pagerduty(router)

    data = await pd.fetch_oncall()

    schedules = {s.name: s for s in data.schedules}
    assert set(schedules) == {"Checkout Primary", "Checkout Secondary"}
    primary = schedules["Checkout Primary"]
    assert primary.team == "Checkout"
    assert [(s.user, s.start.isoformat(), s.end.isoformat()) for s in primary.shifts] == [
        ("ana@example.com", "2026-11-27T08:00:00+00:00", "2026-11-27T20:00:00+00:00"),
        ("eve@example.com", "2026-11-27T20:00:00+00:00", "2026-11-28T08:00:00+00:00"),
    ]
    assert primary.provenance.ref == "https://acme.pagerduty.com/schedules/PSCHED1"


async def test_only_a_schedule_a_policy_pages_first_is_its_teams_on_call_and_services_keep_their_names() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_oncall_fixtures(router)
    pd, _ = pagerduty(router)

    data = await pd.fetch_oncall()

    teams = {s.name: s.team for s in data.schedules}
    assert teams == {"Checkout Primary": "Checkout", "Checkout Secondary": None}  # level 3: paged, not on call
    assert dict(data.service_names) == {
        "pagerduty:PSVC001": "checkout",
        "pagerduty:PSVC002": "ledger",
        "pagerduty:PSVC003": "checkout-batch",
    }


async def test_same_named_schedules_of_two_teams_stay_apart_and_each_policy_pages_its_own() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_oncall_fixtures(router)
    finance = body("escalation_policies/PEP0002.json")
    finance["escalation_policy"]["escalation_rules"][0]["targets"] = [
        {"id": "PSCHED9", "type": "schedule_reference", "summary": "Checkout Primary"}
    ]
    routes["PEP0002"].mock(return_value=httpx.Response(200, json=finance))
    oncalls = body("oncalls.json")
    oncalls["oncalls"][5]["schedule"] = {"id": "PSCHED9", "type": "schedule_reference", "summary": "Checkout Primary"}
    routes["oncalls"].mock(return_value=httpx.Response(200, json=oncalls))
    pd, _ = pagerduty(router)

    data = await pd.fetch_oncall()

    schedules = {s.name: (s.team, [shift.user for shift in s.shifts]) for s in data.schedules}
    assert schedules["Checkout Primary (Checkout)"] == ("Checkout", ["ana@example.com", "eve@example.com"])
    assert schedules["Checkout Primary (Finance)"] == ("Finance", ["di@example.com"])
    policies = {p.name: levels(p)[0] for p in data.policies}
    assert policies == {
        "Checkout EP": (0, ["schedule:Checkout Primary (Checkout)"]),
        "Finance EP": (0, ["schedule:Checkout Primary (Finance)"]),
    }
    assert [(p.location, p.severity) for p in data.problems if "share this name" in p.reason] == [
        ("schedules/Checkout Primary", "warning")
    ]


async def test_a_permanent_on_call_holds_its_schedule_from_now_to_the_end_of_the_horizon() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_oncall_fixtures(router)
    pd, _ = pagerduty(router, horizon_days=3)

    data = await pd.fetch_oncall()

    secondary = next(s for s in data.schedules if s.name == "Checkout Secondary")
    assert secondary.shifts == (Shift(user="fay@example.com", start=NOW, end=NOW + timedelta(days=3)),)
    assert params(routes["oncalls"])["until"] == ["2026-11-30T10:00:00Z"]


async def test_a_policy_without_teams_takes_its_services_teams() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_oncall_fixtures(router)
    pd, _ = pagerduty(router)

    data = await pd.fetch_oncall()

    finance = next(p for p in data.policies if p.name == "Finance EP")
    assert finance.teams == ("Finance",)
    assert finance.services == ("pagerduty:PSVC002",)


async def test_a_target_pagerduty_cannot_page_as_a_person_or_schedule_is_reported_and_its_level_left_out() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_oncall_fixtures(router)
    pd, _ = pagerduty(router)

    data = await pd.fetch_oncall()

    finance = next(p for p in data.policies if p.name == "Finance EP")
    assert levels(finance) == [(0, ["user:di@example.com"])]
    reasons = [(p.location, p.severity, p.reason) for p in data.problems]
    assert ("escalation_policies/PEP0002", "warning", "rule 2 has no usable target; its level is left out") in reasons
    assert any("webhook_reference" in reason for _, _, reason in reasons)


async def test_service_ids_serve_only_those_services_and_name_the_ones_pagerduty_does_not_know() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_oncall_fixtures(router)
    pd, _ = pagerduty(router, service_ids=["PSVC002", "PGONE99"], team_ids=["PTEAM02", "PTEAM09"])

    data = await pd.fetch_oncall()

    assert params(routes["services"])["team_ids[]"] == ["PTEAM02", "PTEAM09"]
    assert routes["PEP0001"].call_count == 0
    assert params(routes["oncalls"])["escalation_policy_ids[]"] == ["PEP0002"]
    assert [p.name for p in data.policies] == ["Finance EP"]
    assert any(p.location == "services/PGONE99" and p.severity == "warning" for p in data.problems)


async def test_a_policy_that_is_gone_is_a_problem_and_everything_else_still_loads() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_oncall_fixtures(router)
    routes["PEP0002"].mock(return_value=httpx.Response(404, json={"error": {"message": "Not Found", "code": 2100}}))
    pd, waits = pagerduty(router)

    data = await pd.fetch_oncall()

    assert routes["PEP0002"].call_count == 1 and waits.seconds == []
    assert [p.name for p in data.policies] == ["Checkout EP"]
    assert params(routes["oncalls"])["escalation_policy_ids[]"] == ["PEP0001"]
    (problem,) = [p for p in data.problems if p.location == "escalation_policies/PEP0002"]
    assert "404 Not Found: Not Found" in problem.reason


async def test_a_policy_id_is_escaped_into_its_path_segment() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    services = body("services.json")
    services["services"] = services["services"][:1]
    services["services"][0]["escalation_policy"]["id"] = "../users?x"
    router.get("/services").mock(return_value=httpx.Response(200, json=services))
    policy = router.get(path__regex=r"^/escalation_policies/").mock(
        return_value=httpx.Response(200, json=body("escalation_policies/PEP0001.json"))
    )
    router.get("/oncalls").mock(return_value=httpx.Response(200, json={"oncalls": [], "more": False}))
    pd, _ = pagerduty(router)

    await pd.fetch_oncall()

    assert policy.calls.last.request.url.raw_path == b"/escalation_policies/..%2Fusers%3Fx"


async def test_a_malformed_on_call_or_policy_is_skipped_as_a_problem_while_the_rest_loads() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_oncall_fixtures(router)
    oncalls = copy.deepcopy(body("oncalls.json"))
    oncalls["oncalls"][1]["start"] = "tomorrow"
    oncalls["oncalls"].append("not an on-call")
    routes["oncalls"].mock(return_value=httpx.Response(200, json=oncalls))
    broken = body("escalation_policies/PEP0002.json")
    broken["escalation_policy"]["escalation_rules"][0]["escalation_delay_in_minutes"] = "soon"
    routes["PEP0002"].mock(return_value=httpx.Response(200, json=broken))
    pd, _ = pagerduty(router)

    data = await pd.fetch_oncall()

    assert [p.name for p in data.policies] == ["Checkout EP"]
    primary = next(s for s in data.schedules if s.name == "Checkout Primary")
    assert [s.user for s in primary.shifts] == ["ana@example.com"]
    errors = {(p.location, p.reason) for p in data.problems if p.severity == "error"}
    assert errors == {
        ("escalation_policies/PEP0002", "rule 1: escalation_delay_in_minutes 'soon' is not a number of minutes"),
        ("oncalls[1]", "start: 'tomorrow' is not an ISO-8601 time"),
        ("oncalls[6]", "expected an object, got 'not an on-call'"),
    }


async def test_lists_are_paged_by_offset_until_more_is_false() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    services = body("services.json")["services"]

    def page(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        chunk = (services + services[:1])[offset : offset + 2]
        return httpx.Response(200, json={"services": chunk, "limit": 2, "offset": offset, "more": offset < 4})

    pages = router.get("/services").mock(side_effect=page)
    router.get(path__regex=r"^/escalation_policies/PEP000[12]$").mock(
        side_effect=lambda request: httpx.Response(
            200, json=body(f"escalation_policies/{request.url.path.rsplit('/', 1)[1]}.json")
        )
    )
    router.get("/oncalls").mock(return_value=httpx.Response(200, json={"oncalls": [], "more": False}))
    pd, _ = pagerduty(router, page_size=2)

    data = await pd.fetch_oncall()

    assert pages.call_count == 3
    assert [(params(pages, i)["offset"], params(pages, i)["limit"]) for i in range(3)] == [
        (["0"], ["2"]),
        (["2"], ["2"]),
        (["4"], ["2"]),
    ]
    assert params(pages, 2)["include[]"] == ["escalation_policies", "teams"]
    assert sorted(p.name for p in data.policies) == ["Checkout EP", "Finance EP"]


async def test_an_empty_page_ends_paging_even_when_more_says_otherwise() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    pages = router.get("/services").mock(
        side_effect=[
            httpx.Response(200, json={"services": body("services.json")["services"][1:2], "more": True}),
            httpx.Response(200, json={"services": [], "more": True}),
        ]
    )
    router.get("/escalation_policies/PEP0002").mock(
        return_value=httpx.Response(200, json=body("escalation_policies/PEP0002.json"))
    )
    router.get("/oncalls").mock(return_value=httpx.Response(200, json={"oncalls": [], "more": False}))
    pd, _ = pagerduty(router)

    data = await pd.fetch_oncall()

    assert pages.call_count == 2
    assert params(pages, 1)["offset"] == ["1"]
    assert [p.name for p in data.policies] == ["Finance EP"]


async def test_services_without_an_id_or_an_escalation_policy_are_reported_and_the_rest_served() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_oncall_fixtures(router)
    services = body("services.json")
    services["services"][1]["escalation_policy"] = None
    services["services"].insert(0, {"type": "service", "name": "no id"})
    routes["services"].mock(return_value=httpx.Response(200, json=services))
    pd, _ = pagerduty(router)

    data = await pd.fetch_oncall()

    assert [p.name for p in data.policies] == ["Checkout EP"]
    assert routes["PEP0002"].call_count == 0
    assert [(p.location, p.severity, p.reason) for p in data.problems] == [
        ("services[0]", "error", "expected a service with an id"),
        ("services/PSVC002", "warning", "the service has no escalation policy"),
    ]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"policy": {}}, "expected an object with an escalation_policy"),
        ({"escalation_policy": {"id": "PEP0002", "escalation_rules": []}}, "the escalation policy has no name"),
        (
            {"escalation_policy": {"id": "PEP0002", "name": "Finance EP"}},
            "the escalation policy has no escalation_rules",
        ),
        (
            {
                "escalation_policy": {
                    "id": "PEP0002",
                    "name": "F",
                    "escalation_rules": [{"escalation_delay_in_minutes": 5}],
                }
            },
            "no escalation rule has a usable target",
        ),
    ],
)
async def test_a_policy_answer_that_cannot_be_read_is_a_problem_naming_the_policy(answer: dict, reason: str) -> None:  # type: ignore[type-arg]
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_oncall_fixtures(router)
    routes["PEP0002"].mock(return_value=httpx.Response(200, json=answer))
    pd, _ = pagerduty(router)

    data = await pd.fetch_oncall()

    assert [p.name for p in data.policies] == ["Checkout EP"]
    assert ("escalation_policies/PEP0002", reason) in [(p.location, p.reason) for p in data.problems]


async def test_an_on_call_without_a_user_or_ending_before_it_starts_is_a_problem() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_oncall_fixtures(router)
    oncalls = body("oncalls.json")
    oncalls["oncalls"][0]["end"] = "2026-11-27T07:00:00Z"
    oncalls["oncalls"][1]["user"] = {"id": "PUSER05", "type": "user_reference"}
    routes["oncalls"].mock(return_value=httpx.Response(200, json=oncalls))
    pd, _ = pagerduty(router)

    data = await pd.fetch_oncall()

    primary = next(s for s in data.schedules if s.name == "Checkout Primary")
    assert primary.shifts == ()
    assert [(p.location, p.reason) for p in data.problems if p.severity == "error"] == [
        ("oncalls[0]", "the on-call of ana@example.com ends before it starts"),
        ("oncalls[1]", "the on-call names no schedule or no user"),
    ]


async def test_paging_stops_at_pagerdutys_offset_cap_and_says_the_list_was_cut() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    event = body("change_events.json")["change_events"][1]

    def page(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        events = [{**event, "id": f"EV{offset + n}"} for n in range(100)]
        return httpx.Response(200, json={"change_events": events, "more": True})

    pages = router.get("/change_events").mock(side_effect=page)
    pd, _ = pagerduty(router)

    batch = await pd.fetch_changes(NOW - timedelta(days=1), NOW)

    assert pages.call_count == 100
    assert params(pages)["offset"] == ["9900"]
    assert len(batch.records) == 10_000
    assert [(p.location, p.severity, p.reason) for p in batch.problems] == [
        ("/change_events", "warning", "only the first 10000 change_events were read")
    ]


async def test_a_page_pagerduty_sends_again_is_kept_once_and_ends_paging() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    events = body("change_events.json")["change_events"][:2]
    pages = router.get("/change_events").mock(
        side_effect=lambda request: httpx.Response(200, json={"change_events": events, "more": True})
    )
    pd, _ = pagerduty(router)

    batch = await pd.fetch_changes(NOW - timedelta(days=1), NOW)

    assert pages.call_count == 2
    assert sorted({c.provenance.ref for c in batch.records}) == ["01ABCDEFXYZ", "01ABCDEFXZ0"]
    assert len(batch.records) == 3  # the first event is on two services
    assert [(p.location, p.reason) for p in batch.problems] == [
        ("/change_events", "PagerDuty sent a page again; paging stopped")
    ]
