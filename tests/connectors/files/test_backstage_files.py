from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opscontext_connectors.backstage.refs import parse_ref
from opscontext_connectors.files.backstage import read_catalog

from tests.conftest import BACKSTAGE_EXAMPLES

AT = datetime(2026, 11, 27, 10, tzinfo=UTC)


def component(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-x", **spec},
    }


def test_entity_references_fill_kind_and_namespace_from_context() -> None:
    assert str(parse_ref("team-a", "group", "default")) == "group:default/team-a"
    assert str(parse_ref("default/team-a", "group", "other")) == "group:default/team-a"
    assert str(parse_ref("User:Guest", "group", "default")) == "user:default/guest"
    assert str(parse_ref({"kind": "Resource", "name": "db"}, "component", "ns")) == "resource:ns/db"
    assert parse_ref("", "group", "default") is None


def test_multi_document_files_and_api_relations_become_declared_dependencies(write_tree: Callable[..., Path]) -> None:
    root = write_tree(
        {
            "catalog/shop.yaml": [
                component("checkout", dependsOn=["resource:orders-db"], consumesApis=["payment-api"]),
                component("payment", providesApis=["payment-api"]),
                {
                    "apiVersion": "backstage.io/v1alpha1",
                    "kind": "API",
                    "metadata": {"name": "payment-api"},
                    "spec": {"type": "grpc", "lifecycle": "production", "owner": "team-x", "definition": "x"},
                },
                {
                    "apiVersion": "backstage.io/v1alpha1",
                    "kind": "Resource",
                    "metadata": {"name": "orders-db"},
                    "spec": {"type": "database", "owner": "team-x"},
                },
                component("web", dependencyOf=[]),
                {
                    "apiVersion": "backstage.io/v1alpha1",
                    "kind": "Resource",
                    "metadata": {"name": "cdn"},
                    "spec": {"type": "cdn", "owner": "team-x", "dependencyOf": ["component:web"]},
                },
            ]
        }
    )
    data = read_catalog(root, root / "catalog", "bs", AT)
    edges = {(d.caller, d.callee, d.relation) for d in data.dependencies}
    assert edges == {
        ("component:default/checkout", "resource:default/orders-db", "dependsOn"),
        ("component:default/checkout", "component:default/payment", "consumesApi:payment-api"),
        ("component:default/web", "resource:default/cdn", "dependencyOf"),
    }
    assert {s.name for s in data.services} == {"checkout", "payment", "orders-db", "web", "cdn"}
    assert all(d.provenance.ref == "catalog/shop.yaml#" + d.provenance.ref.split("#")[1] for d in data.dependencies)
    assert not data.problems


def test_bad_entities_are_reported_and_the_rest_is_kept(write_tree: Callable[..., Path]) -> None:
    root = write_tree(
        {
            "catalog/good.yaml": [component("good")],
            "catalog/bad-name.yaml": [component("not valid")],
            "catalog/broken.yaml": "kind: Component\nmetadata: [unclosed\n",
            "catalog/dup.yaml": [component("good")],
            "catalog/odd.yaml": [{"apiVersion": "backstage.io/v1alpha1", "kind": "Gadget", "metadata": {"name": "g"}}],
            "catalog/scalar.yaml": "just a string\n",
        }
    )
    data = read_catalog(root, root / "catalog", "bs", AT)
    assert [s.name for s in data.services] == ["good"]
    reasons = {p.location: p.reason for p in data.problems}
    assert "invalid Component name 'not valid'" in reasons["catalog/bad-name.yaml"]
    assert reasons["catalog/broken.yaml"].startswith("not valid YAML")
    assert "duplicate entity component:default/good" in reasons["catalog/good.yaml"] + reasons.get(
        "catalog/dup.yaml", ""
    )
    assert "kind 'Gadget' is not used" in reasons["catalog/odd.yaml"]
    assert reasons["catalog/scalar.yaml"].startswith("expected an entity mapping")


def test_location_targets_are_followed_inside_the_root_only(write_tree: Callable[..., Path]) -> None:
    root = write_tree(
        {
            "catalog/catalog-info.yaml": [
                {
                    "apiVersion": "backstage.io/v1alpha1",
                    "kind": "Location",
                    "metadata": {"name": "all"},
                    "spec": {
                        "targets": [
                            "../extra/more.yaml",
                            "./missing.yaml",
                            "../../../etc/passwd",
                            "https://example.com/x.yaml",
                        ]
                    },
                }
            ],
            "extra/more.yaml": [component("from-location")],
        }
    )
    data = read_catalog(root, root / "catalog", "bs", AT)
    assert [s.name for s in data.services] == ["from-location"]
    reasons = sorted(p.reason for p in data.problems)
    assert any("./missing.yaml does not exist" in r for r in reasons)
    assert any("outside the connector folder" in r for r in reasons)
    assert any(r.startswith("remote Location target not followed") for r in reasons)


def test_groups_users_tier_vendor_and_external_ids_are_read(write_tree: Callable[..., Path]) -> None:
    service = component("payment")
    service["metadata"].update(
        labels={"tier": "tier-1"},
        annotations={"pagerduty.com/service-id": "P7XK2", "opscontext.io/vendor": "stripe"},
    )
    root = write_tree(
        {
            "catalog/all.yaml": [
                service,
                {
                    "apiVersion": "backstage.io/v1alpha1",
                    "kind": "Group",
                    "metadata": {"name": "team-x", "annotations": {"slack.com/channel-name": "#team-x"}},
                    "spec": {
                        "type": "team",
                        "profile": {"displayName": "Team X", "email": "x@example.com"},
                        "children": [],
                        "members": ["ann"],
                    },
                },
                {
                    "apiVersion": "backstage.io/v1alpha1",
                    "kind": "User",
                    "metadata": {"name": "Bob"},
                    "spec": {"profile": {"displayName": "Bob B"}, "memberOf": ["team-x"]},
                },
            ]
        }
    )
    data = read_catalog(root, root / "catalog", "bs", AT)
    [payment] = data.services
    assert (payment.tier, payment.vendor, payment.external_ids) == (1, "stripe", {"pagerduty": "P7XK2"})
    assert payment.owner == "group:default/team-x"
    [team] = data.teams
    assert (team.title, team.email, team.chat_channel, team.members) == ("Team X", "x@example.com", "#team-x", ("ann",))
    [bob] = data.people
    assert (bob.name, bob.display_name, bob.teams) == ("bob", "Bob B", ("team-x",))


def test_the_public_backstage_example_catalog_loads_with_its_real_flaws(tmp_path: Path) -> None:
    shutil.copytree(BACKSTAGE_EXAMPLES, tmp_path / "catalog")
    data = read_catalog(tmp_path, tmp_path / "catalog", "backstage-examples", AT)
    owners = {s.name: s.owner for s in data.services if s.kind == "component"}
    assert len(owners) == 23
    assert owners["artist-lookup"] == "group:default/team-a"
    assert owners["different-namespace"] == "group:default/team-a"
    assert owners["petstore"] == "group:default/sre"
    assert ("component:default/artist-lookup", "resource:default/artists-db") in {
        (d.caller, d.callee) for d in data.dependencies
    }
    problems = [p.reason for p in data.problems]
    assert any("invalid Component name 'invalid component'" in p for p in problems)
    assert any("./all-ai-resources.yaml does not exist" in p for p in problems)
    assert any("remote Location target not followed" in p for p in problems)
    assert {p.name for p in data.people} >= {"breanna.davison", "guest"}


def test_fields_of_the_wrong_shape_cost_only_their_own_entity(write_tree: Callable[..., Path]) -> None:
    odd_annotations = component("odd-annotations")
    odd_annotations["metadata"]["annotations"] = ["not", "a", "mapping"]
    odd_labels = component("odd-labels")
    odd_labels["metadata"]["labels"] = "tier-1"
    odd_group = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": "odd-team"},
        "spec": {"type": "team", "profile": "oops", "children": []},
    }
    broken_spec = component("broken-spec")
    broken_spec["spec"]["dependsOn"] = [{"kind": "Component"}]
    root = write_tree({"catalog/all.yaml": [component("good"), odd_annotations, odd_labels, odd_group, broken_spec]})
    data = read_catalog(root, root / "catalog", "bs", AT)
    assert {s.name for s in data.services} == {"good", "odd-annotations", "odd-labels", "broken-spec"}
    assert next(s for s in data.services if s.name == "odd-annotations").annotations == {}
    assert [t.name for t in data.teams] == ["odd-team"]
    assert any("unusable dependsOn reference" in p.reason for p in data.problems)
