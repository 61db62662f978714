from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from opscontext_connectors.dynatrace import DynatraceSettings
from pydantic import ValidationError

from tests.connectors.dynatrace.routes import (
    BASE,
    CHECKOUT,
    FRAUD_CHECK,
    NOW,
    NOW_MS,
    PAYMENT,
    TOKEN,
    body,
    dynatrace,
    params,
    route_events,
)

pytestmark = pytest.mark.anyio

DAY_MS = 24 * 3600 * 1000
DEPLOY_CHECKOUT = "-2911334855470102313_1795772280000"
PGI = "PROCESS_GROUP_INSTANCE-9C0D1E2F3A4B5C61"


def route_services(router: respx.Router) -> respx.Route:
    return router.get("/api/v2/entities").mock(return_value=httpx.Response(200, json=body("services-running-on.json")))


def fixture_events(router: respx.Router) -> respx.Route:
    return route_events(
        router,
        CUSTOM_DEPLOYMENT=body("events-deployment.json"),
        CUSTOM_CONFIGURATION=body("events-configuration.json"),
    )


async def test_each_change_event_type_is_asked_for_on_its_own_over_the_window() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    events = fixture_events(router)
    route_services(router)
    dt, _ = dynatrace(router)

    await dt.fetch_changes(NOW - timedelta(days=1), NOW)

    window = {"from": [str(NOW_MS - DAY_MS)], "to": [str(NOW_MS)], "pageSize": ["200"]}
    assert [params(events, index) for index in range(events.call_count)] == [
        {"eventSelector": ['eventType("CUSTOM_DEPLOYMENT")'], **window},
        {"eventSelector": ['eventType("CUSTOM_CONFIGURATION")'], **window},
    ]
    assert all(call.request.headers["authorization"] == f"Api-Token {TOKEN}" for call in events.calls)


async def test_events_become_changes_of_the_services_that_are_or_run_where_they_happened() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    fixture_events(router)
    services = route_services(router)
    dt, _ = dynatrace(router)

    batch = await dt.fetch_changes(NOW - timedelta(days=1), NOW)

    assert [params(services, index) for index in range(services.call_count)] == [
        {
            "entitySelector": [f'type("SERVICE"),fromRelationships.runsOnProcessGroupInstance(entityId("{PGI}"))'],
            "fields": ["+fromRelationships"],
            "from": [str(NOW_MS - DAY_MS)],
            "to": [str(NOW_MS)],
            "pageSize": ["200"],
        },
        {
            "entitySelector": [f'type("SERVICE"),entityId("{PAYMENT}")'],
            "fields": ["+fromRelationships"],
            "from": [str(NOW_MS - DAY_MS)],
            "to": [str(NOW_MS)],
            "pageSize": ["200"],
        },
        {
            "entitySelector": ['type("SERVICE"),fromRelationships.runsOn(entityId("PROCESS_GROUP-0A1B2C3D4E5F6A04"))'],
            "fields": ["+fromRelationships"],
            "from": [str(NOW_MS - DAY_MS)],
            "to": [str(NOW_MS)],
            "pageSize": ["200"],
        },
    ]
    deploy, release, config = batch.records
    assert deploy.model_dump(exclude={"provenance"}) == {
        "id": DEPLOY_CHECKOUT,
        "service": f"dynatrace:{CHECKOUT}",
        "kind": "deploy",
        "summary": "Deploy checkout 1.4.2",
        "at": datetime(2026, 11, 27, 9, 38, tzinfo=UTC),
        "author": "jenkins",
        "version": "1.4.2",
        "link": "https://ci.acme-shop.example/run/77",
        "risk": None,
    }
    assert deploy.provenance.source == "dt" and deploy.provenance.ref == DEPLOY_CHECKOUT
    assert (release.service, release.kind, release.version, release.author, release.link) == (
        f"dynatrace:{PAYMENT}",
        "deploy",
        "2.8.0+412",
        None,
        None,
    )
    assert (config.service, config.kind, config.author, config.at) == (
        f"dynatrace:{FRAUD_CHECK}",
        "config",
        "dana@acme-shop.example",
        datetime(2026, 11, 27, 9, 20, tzinfo=UTC),
    )
    assert dict(batch.service_names) == {
        f"dynatrace:{CHECKOUT}": "CheckoutService",
        f"dynatrace:{PAYMENT}": "PaymentService",
        f"dynatrace:{FRAUD_CHECK}": "FraudCheck",
    }
    assert batch.problems == ()


async def test_an_event_on_a_host_running_several_services_is_a_change_of_each() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    answer = body("events-configuration.json")
    answer["events"][0]["entityId"] = {
        "entityId": {"id": "HOST-7B8C9D0E1F2A3B41", "type": "HOST"},
        "name": "ip-10-0-3-17",
    }
    route_events(router, CUSTOM_CONFIGURATION=answer)
    services = body("services-running-on.json")
    services["entities"][1]["fromRelationships"]["runsOnHost"] = [{"id": "HOST-7B8C9D0E1F2A3B41", "type": "HOST"}]
    lookups = router.get("/api/v2/entities").mock(return_value=httpx.Response(200, json=services))
    dt, _ = dynatrace(router)

    batch = await dt.fetch_changes(NOW - timedelta(days=1), NOW)

    assert params(lookups)["entitySelector"] == [
        'type("SERVICE"),fromRelationships.runsOnHost(entityId("HOST-7B8C9D0E1F2A3B41"))'
    ]
    event_id = answer["events"][0]["eventId"]
    assert [(c.id, c.service, c.provenance.ref) for c in batch.records] == [
        (f"{event_id}/{CHECKOUT}", f"dynatrace:{CHECKOUT}", event_id),
        (f"{event_id}/{PAYMENT}", f"dynatrace:{PAYMENT}", event_id),
    ]


async def test_an_event_where_no_selected_service_runs_is_a_warning_and_one_on_another_service_is_left_out() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    fixture_events(router)
    router.get("/api/v2/entities").mock(
        return_value=httpx.Response(200, json={"totalCount": 0, "nextPageKey": None, "entities": []})
    )
    dt, _ = dynatrace(router, management_zone="eu")

    batch = await dt.fetch_changes(NOW - timedelta(days=1), NOW)

    assert batch.records == ()
    assert [(p.location, p.reason, p.severity) for p in batch.problems] == [
        (
            f"events/{DEPLOY_CHECKOUT}",
            f"no service the entity selector selects runs on {PGI} (checkout-7f9)",
            "warning",
        ),
        (
            "events/-5120091183376614520_1795771200000",
            "no service the entity selector selects runs on PROCESS_GROUP-0A1B2C3D4E5F6A04 (fraud-check)",
            "warning",
        ),
    ]


async def test_the_zone_narrows_the_service_lookup_so_other_zones_changes_are_not_served() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_events(router, CUSTOM_DEPLOYMENT=body("events-deployment.json"))
    lookups = route_services(router)
    dt, _ = dynatrace(router, management_zone="prod")

    await dt.fetch_changes(NOW - timedelta(days=1), NOW)

    assert params(lookups)["entitySelector"] == [f'type("SERVICE"),mzName("prod"),entityId("{PAYMENT}")']


async def test_a_malformed_event_or_one_on_an_unusable_entity_is_a_problem_while_the_rest_load() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    answer = body("events-deployment.json")
    good = answer["events"][1]
    answer["events"] = [
        good | {"eventId": "e-no-time", "startTime": None},
        good | {"eventId": "e-inject", "entityId": {"entityId": {"id": 'SERVICE-1"),type("HOST', "type": "SERVICE"}}},
        good | {"eventId": "e-app", "entityId": {"entityId": {"id": "APPLICATION-0D1E2F3A4B5C6D71"}, "name": "web"}},
        good | {"eventId": "e-nowhere", "entityId": None},
        good | {"title": ""},
        good,
    ]
    route_events(router, CUSTOM_DEPLOYMENT=answer)
    lookups = route_services(router)
    dt, _ = dynatrace(router)

    batch = await dt.fetch_changes(NOW - timedelta(days=1), NOW)

    assert [c.service for c in batch.records] == [f"dynatrace:{PAYMENT}"]
    assert [(p.location, p.reason, p.severity) for p in batch.problems] == [
        ("events/e-no-time", "startTime is missing", "error"),
        ("events/e-inject", "'SERVICE-1\"),type(\"HOST' is not a Dynatrace entity id", "error"),
        (
            "events/e-app",
            "the event is on APPLICATION-0D1E2F3A4B5C6D71 (APPLICATION), which neither is nor runs a service",
            "warning",
        ),
        ("events/e-nowhere", "the event names no entity", "error"),
        (f"events/{good['eventId']}", "an event needs an eventId and a title", "error"),
    ]
    assert lookups.call_count == 1


async def test_many_entities_are_looked_up_in_several_requests_so_no_selector_is_too_long() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    template = body("events-configuration.json")["events"][0]
    many = [
        template
        | {"eventId": f"e{n}", "entityId": {"entityId": {"id": f"PROCESS_GROUP-{n:016X}", "type": "PROCESS_GROUP"}}}
        for n in range(120)
    ]
    route_events(router, CUSTOM_CONFIGURATION={"totalCount": 120, "nextPageKey": None, "events": many})
    lookups = route_services(router)
    dt, _ = dynatrace(router)

    await dt.fetch_changes(NOW - timedelta(days=1), NOW)

    selectors = [params(lookups, index)["entitySelector"][0] for index in range(lookups.call_count)]
    assert len(selectors) > 1 and all(len(selector) <= 2000 for selector in selectors)
    assert sum(selector.count('"PROCESS_GROUP-') for selector in selectors) == 120


def test_settings_refuse_an_event_type_that_is_not_a_change() -> None:
    with pytest.raises(ValidationError, match="ERROR_EVENT: not a change event type"):
        DynatraceSettings(name="dt", type="dynatrace", base_url=BASE, token="t", change_event_types=["ERROR_EVENT"])


async def test_an_event_that_started_before_the_window_but_overlaps_it_is_not_a_change_in_it() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    answer = body("events-deployment.json")
    started_ms = [event["startTime"] for event in answer["events"]]
    route_events(router, CUSTOM_DEPLOYMENT=answer, CUSTOM_CONFIGURATION={"events": [], "totalCount": 0})
    route_services(router)
    dt, _ = dynatrace(router)
    since_ms = (min(started_ms) + max(started_ms)) // 2  # the older deployment started before, the newer within

    batch = await dt.fetch_changes(datetime.fromtimestamp(since_ms / 1000, tz=UTC), NOW)

    assert [c.at for c in batch.records] == [datetime.fromtimestamp(max(started_ms) / 1000, tz=UTC)]
