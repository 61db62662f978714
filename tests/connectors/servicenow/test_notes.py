from __future__ import annotations

import json

import httpx
import pytest

from tests.connectors.servicenow.support import TABLE, connector, params, router

pytestmark = pytest.mark.anyio

SYS_ID = "9d385017c611228701d22104cc95c371"


async def test_a_work_note_is_patched_onto_the_incident_by_sys_id() -> None:
    routes = router()
    route = routes.patch(f"{TABLE}/incident/{SYS_ID}").mock(
        return_value=httpx.Response(200, json={"result": {"sys_id": SYS_ID, "number": "INC0012345"}})
    )
    servicenow, _ = connector(routes)

    delivery = await servicenow.add_note(SYS_ID, "Rollback done")

    assert delivery.ok and delivery.ref == SYS_ID
    assert json.loads(route.calls.last.request.content) == {"work_notes": "Rollback done"}
    assert route.calls.last.request.headers["authorization"].startswith("Basic ")


async def test_an_incident_number_is_looked_up_with_a_safe_query_then_patched() -> None:
    routes = router()
    lookup = routes.get(f"{TABLE}/incident").mock(
        return_value=httpx.Response(200, json={"result": [{"sys_id": SYS_ID}]})
    )
    patch = routes.patch(f"{TABLE}/incident/{SYS_ID}").mock(return_value=httpx.Response(200, json={"result": {}}))
    servicenow, _ = connector(routes)

    delivery = await servicenow.add_note("INC0012345", "Rollback done")

    assert delivery.ok and patch.call_count == 1
    assert params(lookup)[0]["sysparm_query"] == "number=INC0012345"


async def test_a_reference_that_is_neither_a_sys_id_nor_a_number_is_refused_without_a_request() -> None:
    servicenow, _ = connector(router())

    delivery = await servicenow.add_note("INC1^ORactive=true", "x")

    assert not delivery.ok
    assert delivery.error == "'INC1^ORactive=true' is neither an incident sys_id nor an incident number like INC0012345"


async def test_a_refused_work_note_is_not_retried() -> None:
    routes = router()
    route = routes.patch(f"{TABLE}/incident/{SYS_ID}").mock(
        return_value=httpx.Response(
            403, json={"error": {"message": "Operation against file 'incident' was aborted for s3cret-pw"}}
        )
    )
    servicenow, waits = connector(routes)

    delivery = await servicenow.add_note(SYS_ID, "Rollback done")

    assert not delivery.ok and route.call_count == 1 and waits.seconds == []
    assert "403" in (delivery.error or "") and "s3cret-pw" not in (delivery.error or "")
