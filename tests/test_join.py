from __future__ import annotations

from datetime import UTC, datetime

from opscontext_mcp.join import SnapshotInputs, build_snapshot
from opscontext_mcp.model import Alert, Change
from tests.fakes import declared, observed, prov, resource, service

BUILT = datetime(2026, 11, 27, 10, tzinfo=UTC)


def test_declared_and_observed_edges_for_one_pair_merge_into_one_edge_with_both_provenances() -> None:
    inputs = SnapshotInputs(
        built_at=BUILT,
        services=[service("checkout"), service("payment")],
        dependencies=[
            declared("component:default/checkout", "component:default/payment"),
            observed("checkoutservice", "PaymentService"),
        ],
    )
    snapshot = build_snapshot(inputs)
    assert list(snapshot.graph.edges) == [("checkout", "payment")]
    edge = snapshot.edge("checkout", "payment")
    assert [d.provenance.source for d in edge.declared] == ["cat"]
    assert [d.provenance.source for d in edge.observed] == ["otel"]
    assert edge.traffic is not None and edge.traffic.stats.requests == 100


def test_observed_endpoints_no_catalog_knows_become_observed_services() -> None:
    snapshot = build_snapshot(
        SnapshotInputs(built_at=BUILT, services=[service("cart")], dependencies=[observed("cartservice", "redis-cart")])
    )
    assert snapshot.services["redis-cart"].kind == "observed"
    assert ("cart", "redis-cart") in snapshot.graph.edges


def test_the_same_service_in_two_catalogs_is_one_service_and_owner_disagreement_is_a_conflict() -> None:
    inputs = SnapshotInputs(
        built_at=BUILT,
        services=[
            resource("orders-db", owner="group:default/team-platform"),
            service("payment", external_ids={"pagerduty": "P7XK2"}),
            resource("orders-database", source="cmdb", owner="group:default/team-checkout", title="Orders Database"),
            service("payment-svc", source="cmdb", title="Payment Service"),
            service("ledger", source="cmdb"),
        ],
        aliases={"orders-db": ["orders-database"]},
    )
    snapshot = build_snapshot(inputs)
    assert sorted(snapshot.services) == ["ledger", "orders-db", "payment"]
    assert [r.provenance.source for r in snapshot.services["payment"].records] == ["cat", "cmdb"]
    assert snapshot.resolve("P7XK2").id == "payment"
    assert snapshot.resolve("Payment Service").id == "payment"


def test_aliases_join_records_that_names_alone_cannot() -> None:
    inputs = SnapshotInputs(
        built_at=BUILT,
        services=[
            resource("orders-db", owner="group:default/team-platform"),
            resource("orders-database", source="cmdb", owner="group:default/team-checkout"),
        ],
        aliases={"orders-db": ["orders-database"]},
    )
    entry = build_snapshot(inputs).services["orders-db"]
    assert entry.owner.name == "team-platform"
    assert [(c.name, c.provenance.source) for c in entry.owner_conflicts] == [("team-checkout", "cmdb")]


def test_names_nothing_resolves_are_reported_not_dropped() -> None:
    inputs = SnapshotInputs(
        built_at=BUILT,
        services=[service("cart", owner="group:default/ghosts")],
        changes=[Change(id="1", service="warehouse", kind="deploy", summary="s", at=BUILT, provenance=prov("ci"))],
        alerts=[Alert(name="Down", service="cartservice", starts_at=BUILT, provenance=prov("am"))],
        aliases={"nowhere": ["x"]},
    )
    snapshot = build_snapshot(inputs)
    reported = {(u.what, u.name) for u in snapshot.unresolved}
    assert reported == {("owner", "group:default/ghosts"), ("change service", "warehouse"), ("alias", "nowhere")}
    assert snapshot.alerts[0].service_id == "cart"
    assert snapshot.changes[0].service_id is None


def test_records_refuse_times_without_a_timezone() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="timezone"):
        Change(id="1", service="cart", kind="deploy", summary="s", at=datetime(2026, 11, 27, 9), provenance=prov("ci"))


def test_team_spellings_join_by_rule_or_by_alias_so_only_real_disagreements_are_conflicts() -> None:
    from opscontext_mcp.model import Team

    def owned_by(*claims: tuple[str, str]) -> SnapshotInputs:
        return SnapshotInputs(
            built_at=BUILT,
            services=[service("payment", source=source, owner=owner) for source, owner in claims],
            teams=[
                Team(name="team-payments", provenance=prov("cat")),
                Team(name="team-platform", provenance=prov("cat")),
            ],
            team_aliases={"team-platform": ["Platform Engineering"]},
        )

    spelled = build_snapshot(owned_by(("cat", "group:default/team-payments"), ("cmdb", "group:default/Payments Team")))
    assert spelled.services["payment"].owner_conflicts == ()
    aliased = build_snapshot(
        owned_by(("cat", "group:default/team-platform"), ("cmdb", "group:default/Platform Engineering"))
    )
    assert aliased.services["payment"].owner_conflicts == ()
    assert aliased.teams[aliased.team_names.key("Platform Engineering")].name == "team-platform"
    real = build_snapshot(owned_by(("cat", "group:default/team-payments"), ("cmdb", "group:default/team-platform")))
    assert [c.name for c in real.services["payment"].owner_conflicts] == ["team-platform"]


def test_a_user_owner_named_by_email_in_one_source_and_by_name_in_another_is_one_owner() -> None:
    from opscontext_mcp.model import Person

    inputs = SnapshotInputs(
        built_at=BUILT,
        services=[
            service("ledger", owner="user:default/ana"),
            service("ledger", source="cmdb", owner="user:default/Ana@Example.com"),
        ],
        people=[Person(name="ana", email="ana@example.com", provenance=prov("cat"))],
    )
    snapshot = build_snapshot(inputs)
    entry = snapshot.services["ledger"]
    assert (entry.owner.kind, entry.owner.name) == ("user", "ana")
    assert entry.owner_conflicts == ()
    assert [u for u in snapshot.unresolved if u.what == "owner"] == []


def test_a_group_name_holding_a_slash_is_kept_whole_so_a_real_disagreement_stays_a_conflict() -> None:
    inputs = SnapshotInputs(
        built_at=BUILT,
        services=[
            service("payment", owner="group:default/team-payments"),
            service("payment", source="cmdb", owner="group:default/Finance / Payments"),
        ],
    )
    entry = build_snapshot(inputs).services["payment"]
    assert [c.name for c in entry.owner_conflicts] == ["Finance / Payments"]


def test_an_upstream_ref_no_catalog_annotates_joins_by_the_name_that_upstream_gives_it() -> None:
    inputs = SnapshotInputs(
        built_at=BUILT,
        services=[service("checkout"), service("payment", external_ids={"pagerduty": "P7XK2"})],
        changes=[
            Change(id=str(n), service=ref, kind="deploy", summary="s", at=BUILT, provenance=prov("pd"))
            for n, ref in enumerate(("pagerduty:P7XK2", "pagerduty:PCHK01", "pagerduty:PGONE"))
        ],
        service_names=[
            ("pd", "pagerduty:P7XK2", "Checkout"),  # an annotation outranks the name
            ("pd", "pagerduty:PCHK01", "Checkout Service"),
            ("pd", "pagerduty:PGONE", "Warehouse"),
        ],
    )
    snapshot = build_snapshot(inputs)
    assert {c.change.id: c.service_id for c in snapshot.changes} == {"0": "payment", "1": "checkout", "2": None}
    assert [u.name for u in snapshot.unresolved if u.what == "change service"] == ["Warehouse (pagerduty:PGONE)"]


def test_slos_join_their_service_and_journeys_their_entry_and_slo_by_name_reporting_what_is_missing() -> None:
    from datetime import timedelta

    from opscontext_mcp.model import SLO, Indicator, Journey, MetricSource

    source = MetricSource(type="traces", spec={"service": "frontend"})
    slo = SLO(
        name="checkout-ok",
        service="Frontend",
        target=0.995,
        period=timedelta(days=28),
        indicator=Indicator(name="ok", kind="ratio", good=source, total=source),
        provenance=prov("slos", "slos/frontend.yaml#checkout-ok"),
    )
    journeys = [
        Journey(name="checkout", entry="frontend", slo="checkout-ok", provenance=prov("slos")),
        Journey(name="search", entry="search-ui", slo="search-fast", provenance=prov("slos", "journeys#search")),
    ]
    snapshot = build_snapshot(
        SnapshotInputs(built_at=BUILT, services=[service("frontend")], slos=[slo], journeys=journeys)
    )
    (resolved,) = snapshot.slos
    assert resolved.service_id == "frontend"
    checkout, search = snapshot.journeys
    assert checkout.entry_id == "frontend" and checkout.slo is resolved
    assert search.entry_id is None and search.slo is None
    missing = {(u.what, u.name) for u in snapshot.unresolved if u.what.startswith("journey")}
    assert missing == {("journey SLO", "search-fast"), ("journey entry", "search-ui")}
