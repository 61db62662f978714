from __future__ import annotations

import json

import httpx
import pytest
import respx

from tests.connectors.pagerduty.routes import BASE, TOKEN, pagerduty

pytestmark = pytest.mark.anyio

NOTE = {"note": {"id": "PWL7QXS", "content": "Rollback done", "created_at": "2026-11-27T10:05:00Z"}}


async def test_a_note_is_posted_once_as_the_configured_user_with_the_token() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.post("/incidents/Q1ABCDEF/notes").mock(return_value=httpx.Response(201, json=NOTE))
    pd, _ = pagerduty(router, from_email="opscontext@acme.example")

    delivery = await pd.add_note("Q1ABCDEF", "Rollback done")

    assert delivery.ok and delivery.ref == "PWL7QXS"
    request = route.calls.last.request
    assert json.loads(request.content) == {"note": {"content": "Rollback done"}}
    assert request.headers["from"] == "opscontext@acme.example"
    assert request.headers["authorization"] == f"Token token={TOKEN}"


@pytest.mark.parametrize(
    ("answer", "maybe"),
    [
        (httpx.Response(503), True),
        (httpx.ReadTimeout("slow"), True),
        (httpx.Response(400, json={"error": {"message": "Invalid token pd-s3cret"}}), False),
    ],
    ids=["503", "timeout", "400"],
)
async def test_a_failed_note_is_not_retried_and_says_whether_it_may_have_been_written(
    answer: httpx.Response | Exception, maybe: bool
) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    mock = {"side_effect": answer} if isinstance(answer, Exception) else {"return_value": answer}
    route = router.post("/incidents/Q1ABCDEF/notes").mock(**mock)
    pd, waits = pagerduty(router, from_email="opscontext@acme.example")

    delivery = await pd.add_note("Q1ABCDEF", "Rollback done")

    assert not delivery.ok and route.call_count == 1 and waits.seconds == []
    assert ("may have been applied" in (delivery.error or "")) is maybe
    assert TOKEN not in (delivery.error or "")


async def test_without_a_from_email_no_note_is_attempted_and_the_reason_is_given() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    pd, _ = pagerduty(router)

    delivery = await pd.add_note("Q1ABCDEF", "Rollback done")

    assert delivery == type(delivery)(
        ok=False, error="pd: from_email is needed to write notes (PagerDuty's From header)"
    )


async def test_an_incident_id_that_is_a_dot_segment_is_refused_before_any_request() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    pd, _ = pagerduty(router, from_email="opscontext@acme.example")

    delivery = await pd.add_note("..", "x")

    assert not delivery.ok and "'..' is not an id that can be put in a URL path" in (delivery.error or "")
