"""Incident command through a real MCP client: declare, roles, timeline, status updates, the status doc."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import respx
import sqlalchemy
from mcp import Client
from mcp.shared.exceptions import MCPError

from opscontext_mcp.clock import Clock
from opscontext_mcp.config import parse_config
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.server import build_runtime, build_server
from tests.conftest import EXAMPLES, call, call_error

pytestmark = pytest.mark.anyio

DECLARED = datetime(2026, 11, 27, 9, 45, tzinfo=UTC)
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SLACK = "https://slack.com/api"


def runtime_for(tmp_path: Path, store_url: str = "sqlite:///incidents.db", **writes: Any) -> Runtime:
    raw = {
        "now": DECLARED.isoformat(),
        "connectors": [
            {"name": "acme-shop", "type": "files", "path": str(EXAMPLES / "acme-shop"), "only": ["catalog", "oncall"]},
            *(
                [{"name": "slack", "type": "slack", "token": "xoxb-test-token", "channel": "C0INCIDENT"}]
                if writes
                else []
            ),
        ],
        "writes": {"enabled": True, **writes},
        "store": {"url": store_url},
    }
    return build_runtime(parse_config(raw, base_dir=tmp_path))


def at(runtime: Runtime, minutes: float) -> None:
    runtime.clock = Clock(DECLARED + timedelta(minutes=minutes))


async def test_with_writes_disabled_no_write_tool_is_listed_and_a_forced_call_is_refused_plainly(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        with pytest.raises(MCPError) as refused:
            await client.call_tool("log_event", {"key": "k", "incident": "INC-1", "what": "x", "who": "me"})
    assert not listed & {"declare_incident", "update_incident", "log_event", "post_status_update"}
    assert "log_event is a write tool and writes are disabled on this server" in str(refused.value)


async def test_a_scripted_incident_keeps_one_status_doc_with_roles_timeline_updates_and_the_update_clock(
    tmp_path: Path,
) -> None:
    runtime = runtime_for(tmp_path)
    async with Client(build_server(runtime=runtime)) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        declared = await call(
            client,
            "declare_incident",
            key="declare-checkout",
            title="Checkout failing for card payments",
            severity="SEV1",
            services=["checkoutservice", "PaymentService"],
            incident_commander="diego.alvarez",
        )
        incident = declared["incident"]["id"]
        at(runtime, 2)
        roles = await call(
            client,
            "update_incident",
            key="roles",
            incident=incident,
            technical_lead="priya.raman",
            comms_lead="marta.lopez",
            scribe="sam.okafor",
            status="identified",
        )
        at(runtime, 3)
        await call(
            client,
            "log_event",
            key="e1",
            incident=incident,
            who="priya.raman",
            kind="finding",
            what="payment v2.14.0 times out calling Stripe since 09:38",
        )
        await call(
            client,
            "log_event",
            key="e2",
            incident=incident,
            who="priya.raman",
            kind="action",
            what="rolling payment back to v2.13.2",
            at="2026-11-27T09:49:00Z",
        )
        at(runtime, 5)
        first = await call(
            client,
            "post_status_update",
            key="u1",
            incident=incident,
            text="Card payments failing for ~40% of checkouts; rollback of payment in progress.",
        )
        at(runtime, 21)  # SEV1: every 15 min, so the update due at 10:05 is a minute late
        late = await call(client, "log_event", key="e3", incident=incident, who="sam.okafor", what="rollback done")
        doc = (await client.read_resource(f"incident://{incident}")).contents[0].text
        retried = await call(client, "log_event", key="e3", incident=incident, who="sam.okafor", what="rollback done")

    assert declared["stored"] and declared["incident"]["uri"] == "incident://INC-1"
    assert declared["incident"]["services"] == ["checkout", "payment"]
    assert roles["incident"]["roles"] == {
        "incident_commander": "diego.alvarez",
        "technical_lead": "priya.raman",
        "comms_lead": "marta.lopez",
        "scribe": "sam.okafor",
    }
    assert first["incident"]["next_update_due"] == "2026-11-27T10:05:00Z" and first["incident"]["updates"] == 1
    assert late["incident"]["update_overdue_minutes"] == 1
    # 3 events logged, the status change, and the 4 role assignments: 8 on the timeline, none twice
    assert retried["stored"] is False and retried["incident"]["events"] == late["incident"]["events"] == 8
    assert "# INC-1: Checkout failing for card payments" in doc
    assert "- incident commander: diego.alvarez" in doc and "- scribe: sam.okafor" in doc
    assert "**OVERDUE** by 1 min: due 2026-11-27 10:05 UTC (every 15 min for SEV1)" in doc
    assert "- 2026-11-27 09:49 UTC priya.raman (action): rolling payment back to v2.13.2" in doc
    assert "[identified] Card payments failing for ~40% of checkouts" in doc
    write = listed["log_event"].annotations
    assert write.read_only_hint is False and write.destructive_hint is False and write.idempotent_hint is True


async def test_an_unknown_service_or_incident_is_a_readable_error(tmp_path: Path) -> None:
    async with Client(build_server(runtime=runtime_for(tmp_path))) as client:
        service = await call_error(
            client, "declare_incident", key="k", title="Broken", severity="SEV2", services=["chekout"]
        )
        incident = await call_error(client, "log_event", key="k2", incident="INC-404", who="me", what="hello")
        severity = await call_error(
            client, "declare_incident", key="k3", title="Broken", severity="P1", services=["checkout"]
        )
    assert "Did you mean: checkout" in service
    assert "no incident 'INC-404' in the store" in incident
    assert "severity must be one of SEV1, SEV2, SEV3, SEV4" in severity


async def test_declarations_and_status_updates_are_posted_to_the_channel_once(tmp_path: Path) -> None:
    runtime_probe = runtime_for(tmp_path, notify="slack")
    router = respx.Router(assert_all_mocked=True)
    route = router.post(f"{SLACK}/chat.postMessage").mock(
        return_value=httpx.Response(200, json={"ok": True, "channel": "C0INCIDENT", "ts": "1795773600.000100"})
    )
    runtime = build_runtime(runtime_probe.config, transport=httpx.MockTransport(router.async_handler))
    async with Client(build_server(runtime=runtime)) as client:
        declared = await call(
            client, "declare_incident", key="d", title="Checkout failing", severity="SEV1", services=["checkout"]
        )
        again = await call(
            client, "declare_incident", key="d", title="Checkout failing", severity="SEV1", services=["checkout"]
        )
        update = await call(client, "post_status_update", key="u", incident="INC-1", text="Rollback in progress.")
    assert (declared["posted"], again.get("posted"), update["posted"]) == (True, None, True)
    assert again["note"] == "a retry: already sent to slack at 09:45 UTC, not sent again"
    assert route.call_count == 2
    bodies = [json.loads(call_.request.content) for call_ in route.calls]
    assert bodies[0]["channel"] == "C0INCIDENT" and "Declared INC-1 (SEV1): Checkout failing" in bodies[0]["text"]
    assert "INC-1 [SEV1, investigating] Rollback in progress." in bodies[1]["text"]
    assert route.calls[0].request.headers["authorization"] == "Bearer xoxb-test-token"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield "sqlite:///incidents.db"
        return
    schema = f"opscontext_mcp_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


async def test_two_clients_logging_500_events_each_at_once_store_1000_exactly_once(
    tmp_path: Path, store_url: str
) -> None:
    runtime = runtime_for(tmp_path, store_url=store_url)
    server = build_server(runtime=runtime)
    async with Client(server) as client:
        await call(client, "declare_incident", key="d", title="Load", severity="SEV3", services=["checkout"])

    async def scribe(name: str) -> None:
        async with Client(server) as client:
            for i in range(500):
                await call(client, "log_event", key=f"{name}-{i}", incident="INC-1", who=name, what=f"event {i}")

    async with anyio.create_task_group() as group:
        group.start_soon(scribe, "scribe-a")
        group.start_soon(scribe, "scribe-b")
    async with Client(server) as client:
        retried = await call(client, "log_event", key="scribe-a-7", incident="INC-1", who="scribe-a", what="event 7")
    store = runtime.store
    events = store.record("INC-1").events
    assert len(events) == 1000 and len({(e.who, e.what) for e in events}) == 1000
    assert retried["stored"] is False and retried["incident"]["events"] == 1000
    store.close()


async def test_timeline_events_and_status_updates_are_mirrored_once_as_notes_on_the_itsm_incident(
    tmp_path: Path,
) -> None:
    raw = {
        "now": DECLARED.isoformat(),
        "connectors": [
            {"name": "acme-shop", "type": "files", "path": str(EXAMPLES / "acme-shop"), "only": ["catalog"]},
            {"name": "pd", "type": "pagerduty", "token": "pd-test-token", "from_email": "opscontext@acme.example"},
        ],
        "writes": {"enabled": True, "itsm": "pd"},
        "store": {"url": "sqlite:///incidents.db"},
    }
    router = respx.Router(assert_all_mocked=False)
    notes = router.post("https://api.pagerduty.com/incidents/Q1ABCDEF/notes").mock(
        return_value=httpx.Response(201, json={"note": {"id": "PN1", "content": "x"}})
    )
    runtime = build_runtime(parse_config(raw, base_dir=tmp_path), transport=httpx.MockTransport(router.async_handler))
    async with Client(build_server(runtime=runtime)) as client:
        declared = await call(
            client,
            "declare_incident",
            key="d",
            title="Checkout failing",
            severity="SEV1",
            services=["checkout"],
            itsm_incident="Q1ABCDEF",
        )
        logged = await call(
            client, "log_event", key="e1", incident="INC-1", who="priya", kind="action", what="rollback"
        )
        retried = await call(
            client, "log_event", key="e1", incident="INC-1", who="priya", kind="action", what="rollback"
        )
        update = await call(client, "post_status_update", key="u1", incident="INC-1", text="Rolled back; watching.")
    assert declared["incident"]["itsm_incident"] == "Q1ABCDEF"
    assert (logged["mirrored"], retried.get("mirrored"), update["mirrored"]) == (True, None, True)
    sent = [json.loads(c.request.content)["note"]["content"] for c in notes.calls]
    assert sent == ["[action] 09:45 priya: rollback", "Status update (investigating): Rolled back; watching."]
    assert all(c.request.headers["from"] == "opscontext@acme.example" for c in notes.calls)


async def test_a_retry_sends_again_only_what_never_reached_the_channel(tmp_path: Path) -> None:
    probe = runtime_for(tmp_path, notify="slack")
    router = respx.Router(assert_all_mocked=True)
    ok = httpx.Response(200, json={"ok": True, "channel": "C0INCIDENT", "ts": "1795773600.000100"})
    route = router.post(f"{SLACK}/chat.postMessage").mock(side_effect=[httpx.Response(503), ok, ok])
    runtime = build_runtime(probe.config, transport=httpx.MockTransport(router.async_handler))
    arguments = {"key": "d", "title": "Checkout failing", "severity": "SEV1", "services": ["checkout"]}
    async with Client(build_server(runtime=runtime)) as client:
        failed = await call(client, "declare_incident", **arguments)
        retried = await call(client, "declare_incident", **arguments)
        again = await call(client, "declare_incident", **arguments)
    assert (failed["stored"], failed["posted"]) == (True, False) and "503" in failed["note"]
    assert (retried["stored"], retried["posted"]) == (False, True)
    assert again.get("posted") is None and again["note"].startswith("a retry: already sent to slack")
    assert route.call_count == 2
