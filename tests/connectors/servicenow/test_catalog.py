"""CMDB → catalog: CIs as services, groups as teams, "Depends on" relations as declared dependencies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import respx

from opscontext_mcp.model import DependencyKind, EntityKind, Link
from opscontext_mcp.protocols import CatalogData, Problem
from tests.connectors.servicenow.support import BASE, TABLE, connector, page, params, router, table_fixture

pytestmark = pytest.mark.anyio

PAYMENT_SERVICE = "3f9a2c71d4e81b05a6c2e9f0b7d41a58"
UNNAMED_CI = "f5b7d9a1c3e54f7b9d1a4c6e8b0d2f35"
CATALOG_TABLES = ("sys_user_group", "cmdb_ci_service", "cmdb_ci_appl", "cmdb_rel_ci")


def serve_catalog(routes: respx.Router) -> dict[str, respx.Route]:
    return {t: routes.get(f"{TABLE}/{t}").mock(return_value=page(table_fixture(t))) for t in CATALOG_TABLES}


async def read_catalog(**overrides: object) -> tuple[CatalogData, dict[str, respx.Route], respx.Router]:
    routes = router()
    served = serve_catalog(routes)
    source, _ = connector(routes, **overrides)
    return await source.fetch_catalog(), served, routes


async def test_groups_then_each_ci_table_then_relations_are_read_with_explicit_fields() -> None:
    _, served, routes = await read_catalog(ci_filter="operational_status!=6")
    assert [c.request.url.path for c in routes.calls] == [f"{TABLE}/{t}" for t in CATALOG_TABLES]
    queries = {t: params(route)[0]["sysparm_query"] for t, route in served.items()}
    assert queries == {
        "sys_user_group": "active=true^ORDERBYsys_id",
        "cmdb_ci_service": "operational_status!=6^ORDERBYsys_id",
        "cmdb_ci_appl": "operational_status!=6^ORDERBYsys_id",
        # only relations between CIs of the classes served, not the whole CMDB's
        "cmdb_rel_ci": "type.name=Depends on::Used by"
        "^parent.sys_class_nameINcmdb_ci_db_instance,cmdb_ci_service,cmdb_ci_service_discovered"
        "^child.sys_class_nameINcmdb_ci_db_instance,cmdb_ci_service,cmdb_ci_service_discovered^ORDERBYsys_id",
    }
    assert params(served["cmdb_rel_ci"])[0]["sysparm_fields"] == "sys_id,parent,child,type"
    assert params(served["sys_user_group"])[0]["sysparm_fields"] == "sys_id,name,email,manager,manager.email,parent"
    ci_fields = params(served["cmdb_ci_service"])[0]["sysparm_fields"].split(",")
    assert {"name", "busines_criticality", "support_group", "managed_by.email"} <= set(ci_fields)
    assert all(p["sysparm_display_value"] == "all" for r in served.values() for p in params(r))


async def test_a_ci_becomes_a_service_with_tier_status_support_group_and_a_link_to_its_form() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    catalog, _, _ = await read_catalog()
    payment = next(s for s in catalog.services if s.name == "Payment Service")
    url = f"{BASE}/nav_to.do?uri=cmdb_ci_service.do?sys_id={PAYMENT_SERVICE}"
    assert payment.model_dump(exclude={"provenance"}) == {
        "name": "Payment Service",
        "kind": EntityKind.COMPONENT,
        "namespace": "default",
        "title": "Payment Service",
        "description": "Card payment processing for the online shop.",
        "type": "service",
        "lifecycle": "operational",
        "tier": 1,
        "owner": "group:default/Payments",
        "system": None,
        "vendor": None,
        "tags": (),
        "links": (Link(url=url, title="ServiceNow CI").model_dump(),),
        "annotations": {
            "servicenow.com/ci-sys-id": PAYMENT_SERVICE,
            "servicenow.com/ci-class": "cmdb_ci_service_discovered",
            "servicenow.com/support-group": "Payments",
        },
        "external_ids": {"servicenow": PAYMENT_SERVICE},
    }
    assert payment.provenance.source == "servicenow" and payment.provenance.ref == url
    assert payment.provenance.fetched_at >= before


async def test_an_empty_support_group_falls_back_to_the_assignment_group_given_as_a_bare_sys_id() -> None:
    catalog, _, _ = await read_catalog()
    checkout = next(s for s in catalog.services if s.name == "Checkout Service")
    assert checkout.owner == "group:default/Checkout"
    assert "servicenow.com/support-group" not in checkout.annotations
    assert checkout.tier == 2


async def test_a_ci_without_groups_is_owned_by_its_manager_named_by_email() -> None:
    catalog, _, _ = await read_catalog()
    frontend = next(s for s in catalog.services if s.name == "Frontend Web")
    assert frontend.owner == "user:default/alice.chen@acme-shop.example"
    assert (frontend.tier, frontend.description, frontend.lifecycle) == (None, None, "non-operational")


async def test_a_reference_with_only_a_display_value_still_names_the_owner() -> None:
    catalog, _, _ = await read_catalog()
    legacy = next(s for s in catalog.services if s.name == "Legacy Loyalty")
    assert legacy.owner == "user:default/Mateo Silva"
    assert (legacy.tier, legacy.lifecycle) == (None, "retired")


async def test_a_database_instance_ci_is_a_resource_of_type_database() -> None:
    catalog, _, _ = await read_catalog()
    orders = next(s for s in catalog.services if s.name == "Orders Database")
    assert (orders.kind, orders.type, orders.owner) == (EntityKind.RESOURCE, "database", "group:default/Checkout")
    assert orders.provenance.ref == f"{BASE}/nav_to.do?uri=cmdb_ci_appl.do?sys_id=71e0b3d95a2c48f6e9d4a1c7b38f0e25"


async def test_a_ci_without_a_name_is_a_problem_and_every_other_ci_is_served() -> None:
    catalog, _, _ = await read_catalog()
    assert sorted(s.name for s in catalog.services) == [
        "Checkout Service",
        "Frontend Web",
        "Legacy Loyalty",
        "Orders Database",
        "Payment Service",
    ]
    assert Problem(location=f"cmdb_ci_service/{UNNAMED_CI}", reason="name is empty") in catalog.problems


async def test_groups_become_teams_with_their_email_parent_and_manager_as_member() -> None:
    catalog, _, _ = await read_catalog()
    payments, checkout = catalog.teams
    assert (payments.name, payments.email, payments.parent, payments.members) == (
        "Payments",
        "payments@acme-shop.example",
        "Engineering",
        ("fatima.haddad@acme-shop.example",),
    )
    assert (checkout.name, checkout.email, checkout.parent, checkout.members) == ("Checkout", None, None, ())
    assert payments.provenance.ref == f"{BASE}/nav_to.do?uri=sys_user_group.do?sys_id=4a8d2e61f03b4c97a5e1d9c6b72f0e83"


async def test_depends_on_relations_point_from_the_parent_ci_to_the_child_ci() -> None:
    catalog, _, _ = await read_catalog()
    edges = [(d.caller, d.callee, d.kind, d.relation) for d in catalog.dependencies]
    assert edges == [
        ("Checkout Service", "Payment Service", DependencyKind.DECLARED, "Depends on"),
        ("Checkout Service", "Orders Database", DependencyKind.DECLARED, "Depends on"),
    ]
    assert catalog.dependencies[0].provenance.ref == (
        f"{BASE}/nav_to.do?uri=cmdb_rel_ci.do?sys_id=2b4d6f8a0c1e43a5b7d9f1c3e5a7b9d2"
    )


async def test_relations_to_unserved_cis_or_without_a_child_are_reported_and_runs_on_is_ignored() -> None:
    catalog, _, _ = await read_catalog()
    relation_problems = [p for p in catalog.problems if p.location.startswith("cmdb_rel_ci")]
    assert relation_problems == [
        Problem(location="cmdb_rel_ci/8b0d2f4a6c7e49ab1d3f5c7e9a1b3d58", reason="parent or child is empty"),
        Problem(
            location="cmdb_rel_ci",
            reason="1 'Depends on::Used by' relations name a CI not served from cmdb_ci_service, cmdb_ci_appl; left out",
            severity="warning",
        ),
    ]


async def test_a_ci_read_from_a_parent_and_a_child_table_is_served_once() -> None:
    routes = router()
    served = serve_catalog(routes)
    discovered = [r for r in table_fixture("cmdb_ci_service") if r["name"]["value"] == "Payment Service"]
    child = routes.get(f"{TABLE}/cmdb_ci_service_discovered").mock(return_value=page(discovered))
    source, _ = connector(routes, service_tables=["cmdb_ci_service", "cmdb_ci_service_discovered"])
    catalog = await source.fetch_catalog()
    assert [s.name for s in catalog.services].count("Payment Service") == 1
    assert child.call_count == 1 and served["cmdb_ci_appl"].call_count == 0
    assert not [p for p in catalog.problems if "CIs have this name" in p.reason]


async def test_two_cis_of_one_name_are_both_served_and_reported() -> None:
    routes = router()
    served = serve_catalog(routes)
    twin = dict(table_fixture("cmdb_ci_appl")[0], sys_id={"display_value": "0" * 32, "value": "0" * 32})
    served["cmdb_ci_appl"].mock(return_value=page([*table_fixture("cmdb_ci_appl"), twin]))
    source, _ = connector(routes)
    catalog = await source.fetch_catalog()
    assert [s.name for s in catalog.services].count("Orders Database") == 2
    assert Problem(location="CI 'Orders Database'", reason="2 CIs have this name", severity="warning") in (
        catalog.problems
    )
