from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from opscontext_mcp.cache import SnapshotCache
from opscontext_mcp.clock import Clock
from opscontext_mcp.config import CacheSettings, parse_config
from opscontext_mcp.protocols import CatalogData
from tests.fakes import FakeConnector, declared, observed, service

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)


class ManualClock:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def make(*connectors: FakeConnector, ttl: float = 60, timeout: float = 5) -> tuple[SnapshotCache, ManualClock]:
    ticks = ManualClock()
    settings = CacheSettings(ttl_seconds=ttl, fetch_timeout_seconds=timeout)
    return SnapshotCache(connectors, settings, Clock(NOW), monotonic=ticks), ticks


def catalog() -> FakeConnector:
    return FakeConnector("cat", catalog=CatalogData(services=(service("checkout"), service("payment"))))


async def test_concurrent_first_requests_share_one_refresh() -> None:
    connector = catalog()
    cache, _ = make(connector)
    results = []

    async def ask() -> None:
        results.append(await cache.get())

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(ask)
    assert connector.calls == 1
    assert cache.refresh_count == 1
    assert all(r is results[0] for r in results)


async def test_a_snapshot_is_reused_until_its_ttl_expires() -> None:
    connector = catalog()
    cache, ticks = make(connector, ttl=60)
    first = await cache.get()
    ticks.value += 59
    assert await cache.get() is first
    ticks.value += 2
    assert await cache.get() is not first
    assert connector.calls == 2


async def test_a_failing_source_keeps_serving_its_last_good_data_marked_stale_and_recovers() -> None:
    connector = catalog()
    telemetry = FakeConnector("otel", topology=[observed("checkout", "payment")])
    cache, _ = make(connector, telemetry)
    await cache.refresh()
    connector.fail_with = ConnectionError("503 Service Unavailable")
    degraded = await cache.refresh()
    assert sorted(degraded.services) == ["checkout", "payment"]
    status = {s.source: s for s in degraded.statuses}
    assert status["cat"].status == "stale" and status["cat"].error == "ConnectionError: 503 Service Unavailable"
    assert status["cat"].fetched_at is not None and status["cat"].last_attempt_at >= status["cat"].fetched_at
    assert status["otel"].status == "ok"
    assert ("checkout", "payment") in degraded.graph.edges
    connector.fail_with = None
    recovered = await cache.refresh()
    assert {s.source: s.status for s in recovered.statuses} == {"cat": "ok", "otel": "ok"}


async def test_a_source_that_never_answered_is_failed_and_the_others_still_serve() -> None:
    broken = FakeConnector("cat", catalog=CatalogData(services=(service("checkout"),)))
    broken.fail_with = RuntimeError("boom")
    cache, _ = make(broken, FakeConnector("otel", topology=[observed("a", "b")]))
    snapshot = await cache.refresh()
    assert {s.source: s.status for s in snapshot.statuses} == {"cat": "failed", "otel": "ok"}
    assert ("a", "b") in snapshot.graph.edges


async def test_a_hanging_source_times_out_instead_of_stalling_the_answer() -> None:
    connector = catalog()
    cache, _ = make(connector, timeout=0.05)
    await cache.refresh()
    connector.hang = True
    with anyio.fail_after(5):
        snapshot = await cache.refresh()
    [status] = snapshot.statuses
    assert status.status == "stale"
    assert (
        status.error == "the fetch did not finish within 0.05 s, every page and retry included (fetch_timeout_seconds)"
    )


async def test_with_a_task_group_an_expired_snapshot_is_served_while_one_refresh_runs_behind() -> None:
    connector = catalog()
    cache, ticks = make(connector, ttl=60)
    first = await cache.get()
    ticks.value += 120
    async with anyio.create_task_group() as group:
        cache.attach(group)
        assert await cache.get() is first
        assert await cache.get() is first
        with anyio.fail_after(5):
            second = await cache.refresh()
        cache.detach(group)
    assert second is not first
    assert connector.calls == 2


async def test_a_refresh_that_changed_nothing_keeps_the_joined_data_and_updates_freshness() -> None:
    connector = catalog()
    cache, _ = make(connector)
    first = await cache.refresh()
    first.derive("probe", lambda: "computed once")
    second = await cache.refresh()
    assert second is not first and second.graph is first.graph
    assert second.derive("probe", lambda: "computed again") == "computed once"
    assert second.statuses[0].last_attempt_at >= first.statuses[0].last_attempt_at
    connector.catalog = CatalogData(services=(service("checkout"),))
    third = await cache.refresh()
    assert third.graph is not first.graph and sorted(third.services) == ["checkout"]


def test_upstream_errors_lose_credentials_and_query_strings_before_anyone_sees_them() -> None:
    from opscontext_mcp.cache import redact

    text = "HTTPStatusError: 401 for url 'https://bot:hunter2@api.example.com/v2/x?token=abc&page=2#frag' (see https://docs)"
    assert redact(text) == "HTTPStatusError: 401 for url 'https://api.example.com/v2/x' (see https://docs)"


async def test_a_failing_sources_error_is_stored_redacted() -> None:
    connector = catalog()
    connector.fail_with = ConnectionError("cannot reach https://user:pw@cmdb.example/api?key=s3cret")
    cache, _ = make(connector)
    snapshot = await cache.refresh()
    assert snapshot.statuses[0].error == "ConnectionError: cannot reach https://cmdb.example/api"


async def test_a_refresh_cancelled_midway_releases_its_waiters() -> None:
    connector = catalog()
    connector.hang = True
    cache, _ = make(connector, timeout=30)
    async with anyio.create_task_group() as group:
        group.start_soon(cache.refresh)
        group.start_soon(cache.refresh)
        with anyio.fail_after(5):
            while connector.calls == 0:
                await anyio.lowlevel.checkpoint()
        group.cancel_scope.cancel()
    connector.hang = False
    with anyio.fail_after(5):
        snapshot = await cache.refresh()
    assert sorted(snapshot.services) == ["checkout", "payment"]


async def test_a_replaced_snapshot_is_freed_without_waiting_for_the_cycle_collector() -> None:
    import gc
    import weakref

    from opscontext_mcp.analysis import prepare
    from opscontext_mcp.analysis.context import service_context

    connector = FakeConnector(
        "cat",
        catalog=CatalogData(
            services=(service("checkout"), service("payment")),
            dependencies=(declared("component:default/checkout", "component:default/payment"),),
        ),
    )
    cache, _ = make(connector)
    cache.prepare = prepare
    first = await cache.refresh()
    assert service_context(first, first.services["checkout"], NOW).dependencies.total == 1
    graph = weakref.ref(first.graph)
    del first
    connector.catalog = CatalogData(services=(service("cart"),))
    gc.disable()
    try:
        await cache.refresh()
        assert graph() is None
    finally:
        gc.enable()


async def test_a_connector_given_its_own_fetch_deadline_times_out_by_it_while_others_keep_the_cache_default(
    tmp_path: Path,
) -> None:
    config = parse_config(
        {
            "connectors": [
                {"name": "cat", "type": "files", "path": ".", "fetch_timeout_seconds": 0.05},
                {"name": "otel", "type": "files", "path": "."},
            ],
            "cache": {"fetch_timeout_seconds": 30},
        },
        base_dir=tmp_path,
        environ={},
        check_connectors=True,
    )
    slow = catalog()
    slow.hang = True
    cache = SnapshotCache.for_config([slow, FakeConnector("otel", topology=[observed("a", "b")])], config, Clock(NOW))
    assert cache.deadlines == {"cat": 0.05, "otel": 30}
    with anyio.fail_after(5):
        snapshot = await cache.refresh()
    statuses = {s.source: (s.status, s.error) for s in snapshot.statuses}
    assert statuses["otel"] == ("ok", None)
    assert statuses["cat"][0] == "failed" and "within 0.05 s" in str(statuses["cat"][1])
