"""Acme Shop as PagerDuty sees it (examples/upstreams/pagerduty) gives the answers oncall.yaml gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
import yaml
from mcp import Client
from opscontext_connectors.files import FilesConnector
from opscontext_connectors.pagerduty import PagerDutyConnector

from opscontext_mcp.config import parse_config
from opscontext_mcp.registry import build_connectors
from opscontext_mcp.server import build_server
from tests.conftest import EXAMPLES, call
from tests.connectors.pagerduty.routes import BASE, NOW, pagerduty
from tests.connectors.support import Waits

pytestmark = pytest.mark.anyio

RECORDED = EXAMPLES / "upstreams" / "pagerduty"


def recorded_pagerduty() -> respx.Router:
    """Answers every GET from the recorded file for its path, as examples/upstreams/serve.py does."""
    router = respx.Router(base_url=BASE, assert_all_mocked=True)

    def answer(request: httpx.Request) -> httpx.Response:
        file = RECORDED / f"{request.url.path.strip('/')}.json"
        if not file.is_file():
            return httpx.Response(404, json={"error": {"message": "Not Found"}})
        return httpx.Response(200, json=json.loads(file.read_text(encoding="utf-8")))

    router.get(path__regex=r".*").mock(side_effect=answer)
    return router


async def test_the_recorded_account_maps_to_the_demos_policies_shifts_changes_and_incidents() -> None:
    pd, _ = pagerduty(recorded_pagerduty())

    oncall = await pd.fetch_oncall()
    changes = await pd.fetch_changes(NOW - timedelta(days=1), NOW)
    incidents = await pd.fetch_incidents(NOW - timedelta(days=7))

    assert oncall.problems == () and changes.problems == () and incidents.problems == ()
    payments = next(p for p in oncall.policies if p.name == "Payments")
    assert (payments.services, payments.teams) == (("pagerduty:P7XK2",), ("Payments",))
    assert [(level.after_minutes, [t.name for t in level.targets]) for level in payments.levels] == [
        (0, ["Payments Primary"]),
        (15, ["marta.lopez@acme-shop.example"]),
        (30, ["sam.okafor@acme-shop.example"]),
    ]
    primary = next(s for s in oncall.schedules if s.name == "Payments Primary")
    assert [(s.user.split("@")[0], s.start.isoformat()) for s in primary.shifts][:3] == [
        ("priya.raman", "2026-11-24T17:00:00+00:00"),
        ("lucas.martin", "2026-11-27T17:00:00+00:00"),
        ("fatima.haddad", "2026-12-01T09:00:00+00:00"),
    ]
    deploy = next(c for c in changes.records if c.service == "pagerduty:P7XK2")
    assert (deploy.kind, deploy.version, deploy.author, deploy.at) == (
        "deploy",
        "2.14.0",
        "github-actions",
        datetime(2026, 11, 27, 9, 38, tzinfo=UTC),
    )
    assert deploy.link == "https://github.com/acme/payment/releases/tag/v2.14.0"
    latest, yesterday = incidents.records
    assert (latest.id, latest.status, latest.open, latest.severity, latest.services) == (
        "PD-4821",
        "triggered",
        True,
        "P1",
        ("pagerduty:P7XK2",),
    )
    assert latest.opened_at == datetime(2026, 11, 27, 9, 42, 5, tzinfo=UTC)
    assert (yesterday.id, yesterday.open) == ("PD-4817", False)


def test_the_recorded_oncalls_agree_with_oncall_yaml() -> None:
    on_file = yaml.safe_load((EXAMPLES / "acme-shop" / "oncall.yaml").read_text(encoding="utf-8"))
    recorded = json.loads((RECORDED / "oncalls.json").read_text(encoding="utf-8"))["oncalls"]
    names = {"Payments Primary": "payments-primary", "Checkout Primary": "checkout-primary"}
    names["Storefront Primary"] = "storefront-primary"
    expected = {
        (schedule["name"], shift["user"], shift["start"], shift["end"])
        for schedule in on_file["schedules"]
        for shift in schedule["shifts"]
        if schedule["name"] in names.values() and shift["end"] > NOW
    }
    seen = {
        (
            names[o["schedule"]["summary"]],
            o["user"]["email"].split("@")[0],
            *(datetime.fromisoformat(o[k]) for k in ("start", "end")),
        )
        for o in recorded
        if o["schedule"] and datetime.fromisoformat(o["start"]) < datetime(2026, 12, 4, 9, tzinfo=UTC)
    }
    assert seen == expected


async def test_who_owns_payment_answers_from_pagerduty_as_it_does_from_oncall_yaml(demo_server) -> None:  # type: ignore[no-untyped-def]
    config = parse_config(
        yaml.safe_load((EXAMPLES / "config" / "pagerduty.yaml").read_text(encoding="utf-8")),
        base_dir=EXAMPLES / "config",
        environ={"PAGERDUTY_TOKEN": "demo-token"},
    )
    connectors = build_connectors(
        config,
        types={"files": FilesConnector, "pagerduty": PagerDutyConnector},
        transport=httpx.MockTransport(recorded_pagerduty().async_handler),
        sleep=Waits(),
    )
    async with Client(build_server(config, connectors=connectors, now=NOW)) as client:
        answer = await call(client, "who_owns", service="payment")
        sources = json.loads((await client.read_resource("opscontext://sources")).contents[0].text)
    async with Client(demo_server) as client:
        demo = await call(client, "who_owns", service="payment")

    def people(entries: list[dict], schedule: str) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
        return [
            (e["person"]["name"], e["person"]["display_name"], e["start"]) for e in entries if e["schedule"] == schedule
        ]

    # PagerDuty only knows schedules an escalation policy pages; oncall.yaml also lists payments-secondary.
    assert [e["schedule"] for e in answer["on_call_now"]] == ["Payments Primary"]
    for moment in ("on_call_now", "on_call_next"):
        assert people(answer[moment], "Payments Primary") == people(demo[moment], "payments-primary")
    assert people(answer["on_call_now"], "Payments Primary") == [("priya.raman", "Priya Raman", "2026-11-24T17:00:00Z")]
    assert answer["on_call_now"][0]["schedule"] == "Payments Primary"
    assert answer["on_call_now"][0]["provenance"]["source"] == "pagerduty"
    levels = answer["escalation"]["levels"]
    assert [level["after_minutes"] for level in levels] == [0, 15, 30]
    assert [level["after_minutes"] for level in demo["escalation"]["levels"]][:3] == [0, 15, 30]
    assert levels[0]["targets"][0]["on_call"]["name"] == "priya.raman"
    assert [level["targets"][0]["display"] for level in levels[1:]] == ["Marta López", "Sam Okafor"]
    # Every PagerDuty service id, team name and email joined something the catalog knows.
    assert (sources["unresolved"], sources["problems"]) == ([], [])
    assert answer["escalation"]["provenance"]["ref"] == "https://acme-shop.pagerduty.com/escalation_policies/PEPAY7N"
