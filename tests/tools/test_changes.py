from __future__ import annotations

import pytest
from mcp import Client

from tests.conftest import call, call_error

pytestmark = pytest.mark.anyio


async def test_the_bad_payment_deploy_surfaces_for_checkout_with_its_hop_distance(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "what_changed", service="checkout", since="2h", include_dependencies=True)
    deploy = next(c for c in answer["changes"] if c["id"] == "chg-payment-2140")
    assert deploy["service"] == "payment"
    assert deploy["hop"] == 1 and deploy["path"] == ["checkout", "payment"]
    assert deploy["minutes_before_now"] == 22
    assert deploy["version"] == "2.14.0"
    times = [c["at"] for c in answer["changes"]]
    assert times == sorted(times, reverse=True)
    assert answer["since"] == "2026-11-27T08:00:00Z" and answer["until"] == "2026-11-27T10:00:00Z"


async def test_without_dependencies_only_the_service_itself_is_searched(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        answer = await call(client, "what_changed", service="checkout", since="2d", include_dependencies=False)
        with_dependencies = await call(client, "what_changed", service="checkout", since="2d")
    assert answer["depth"] == 0
    assert answer["changes"], "the demo has checkout changes in the last two days"
    assert {c["service"] for c in answer["changes"]} == {"checkout"}
    assert all(c["hop"] == 0 and c["path"] == ["checkout"] for c in answer["changes"])
    assert with_dependencies["total"] > answer["total"]


async def test_kinds_limit_and_totals_drill_down(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        everything = await call(client, "what_changed", since="1d", limit=200)
        deploys = await call(client, "what_changed", since="1d", kinds=["deploy"], limit=3)
    assert everything["total"] == len(everything["changes"]) and not everything["truncated"]
    assert deploys["total"] == everything["by_kind"]["deploy"]
    assert len(deploys["changes"]) == 3 and deploys["truncated"]
    assert {c["kind"] for c in deploys["changes"]} == {"deploy"}
    assert all("hop" not in c for c in everything["changes"])


async def test_a_bad_window_is_a_readable_error(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        assert "since: expected an RFC 3339 time" in await call_error(client, "what_changed", since="yesterday")
        assert "must be before until" in await call_error(
            client, "what_changed", since="2026-11-27T09:00:00Z", until="2026-11-27T08:00:00Z"
        )


async def test_an_absurd_duration_is_refused_readably_and_a_long_window_warns(demo_server) -> None:  # type: ignore[no-untyped-def]
    async with Client(demo_server) as client:
        message = await call_error(client, "what_changed", since="99999999999999999999d")
        long_window = await call(client, "what_changed", since="30d")
    assert "reaches back more than 366 days" in message
    assert any("cache.change_lookback_hours" in w for w in long_window["freshness"]["warnings"])
