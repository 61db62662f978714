from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx

from tests.connectors.dynatrace.routes import (
    BASE,
    CHECKOUT,
    FRONTEND,
    NOW_MS,
    PAYMENT,
    TOKEN,
    body,
    dynatrace,
    params,
)

pytestmark = pytest.mark.anyio

FAILURE_RATE = "-4823640203375712453_1795771500000V2"
LOW_DISK = "-1156902349880123456_1795768200000V2"


async def test_open_problems_of_the_last_two_hours_are_asked_for_with_the_api_token() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/v2/problems").mock(return_value=httpx.Response(200, json=body("problems.json")))
    dt, _ = dynatrace(router)

    await dt.fetch_alerts()

    assert params(route) == {
        "problemSelector": ['status("open")'],
        "from": [str(NOW_MS - 2 * 3600 * 1000)],
        "to": [str(NOW_MS)],
        "pageSize": ["200"],
    }
    assert route.calls.last.request.headers["authorization"] == f"Api-Token {TOKEN}"


async def test_a_problem_is_an_alert_on_its_root_cause_and_each_affected_or_impacted_service() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/api/v2/problems").mock(return_value=httpx.Response(200, json=body("problems.json")))
    dt, _ = dynatrace(router)

    batch = await dt.fetch_alerts()

    payment, checkout, frontend, disk = batch.records
    assert (payment.service, payment.fingerprint) == (f"dynatrace:{PAYMENT}", FAILURE_RATE)
    assert checkout.model_dump(exclude={"provenance"}) == {
        "name": "Failure rate increase",
        "service": f"dynatrace:{CHECKOUT}",
        "severity": "ERROR",
        "state": "active",
        "starts_at": datetime(2026, 11, 27, 9, 25, tzinfo=UTC),
        "ends_at": None,
        "fingerprint": FAILURE_RATE,
        "summary": None,
        "labels": {
            "problemId": FAILURE_RATE,
            "displayId": "P-2611271",
            "status": "OPEN",
            "severityLevel": "ERROR",
            "impactLevel": "SERVICES",
            "root_cause_entity": PAYMENT,
            "affected_entities": CHECKOUT,
            "impacted_entities": f"{CHECKOUT},{FRONTEND}",
        },
        "annotations": {
            "root_cause_entity": "PaymentService",
            "affected_entities": f"CheckoutService ({CHECKOUT})",
            "impacted_entities": f"CheckoutService ({CHECKOUT}), frontend ({FRONTEND})",
        },
        "silenced_by": (),
        "inhibited_by": (),
        "link": f"{BASE}/#problems/problemdetails;pid={FAILURE_RATE}",
    }
    assert checkout.provenance.source == "dt" and checkout.provenance.ref == FAILURE_RATE
    assert (frontend.service, frontend.fingerprint) == (f"dynatrace:{FRONTEND}", FAILURE_RATE)
    assert frontend.labels == checkout.labels
    assert dict(batch.service_names) == {
        f"dynatrace:{CHECKOUT}": "CheckoutService",
        f"dynatrace:{FRONTEND}": "frontend",
        f"dynatrace:{PAYMENT}": "PaymentService",
    }
    assert batch.problems == ()
    assert disk.service is None and disk.name == "Low disk space"
    assert "root_cause_entity" not in disk.labels
    assert disk.labels["affected_entities"] == "HOST-7B8C9D0E1F2A3B41"
    assert disk.annotations["affected_entities"] == "ip-10-0-3-17 (HOST-7B8C9D0E1F2A3B41)"


async def test_a_closed_problem_is_a_resolved_alert_that_ended_at_its_end_time() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    answer = body("problems.json")
    answer["problems"][0] |= {"status": "CLOSED", "endTime": 1795773300000}
    router.get("/api/v2/problems").mock(return_value=httpx.Response(200, json=answer))
    dt, _ = dynatrace(router)

    batch = await dt.fetch_alerts()

    closed = batch.records[0]
    assert closed.state == "resolved" and closed.ends_at == datetime(2026, 11, 27, 9, 55, tzinfo=UTC)
    assert batch.records[-1].state == "active"


async def test_the_zone_and_the_lookback_from_settings_shape_the_problem_query() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/api/v2/problems").mock(return_value=httpx.Response(200, json=body("problems.json")))
    dt, _ = dynatrace(router, management_zone='eu "prod"', problem_lookback_minutes=30)

    await dt.fetch_alerts()

    assert params(route)["problemSelector"] == ['status("open"),managementZones("eu ~"prod~"")']
    assert params(route)["from"] == [str(NOW_MS - 30 * 60 * 1000)]


async def test_a_problem_without_a_usable_start_is_a_problem_while_the_rest_load() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    answer = body("problems.json")
    answer["problems"][0]["startTime"] = "yesterday"
    answer["problems"].append({"problemId": "-1_1V2", "displayId": "P-1", "startTime": NOW_MS})
    answer["problems"].append("not a problem")
    router.get("/api/v2/problems").mock(return_value=httpx.Response(200, json=answer))
    dt, _ = dynatrace(router)

    batch = await dt.fetch_alerts()

    assert [a.fingerprint for a in batch.records] == [LOW_DISK]
    assert [(p.location, p.reason) for p in batch.problems] == [
        ("problems/P-2611271", "startTime: expected milliseconds since the epoch, got 'yesterday'"),
        ("problems/P-1", "a problem needs a problemId and a title"),
        ("problems[3]", "expected an object, got 'not a problem'"),
    ]
