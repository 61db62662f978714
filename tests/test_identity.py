from __future__ import annotations

import pytest

from opscontext_mcp.identity import ServiceIndex, normalise


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("PaymentService", "payment"),
        ("payment-svc", "payment"),
        ("Payment Service", "payment"),
        ("paymentservice", "payment"),
        ("component:default/payment", "payment"),
        ("payment-gateway", "paymentgateway"),
        ("api-gateway", "apigateway"),
        ("service", "service"),
        ("adservice", "ad"),
    ],
)
def test_names_normalise_to_one_key(name: str, expected: str) -> None:
    assert normalise(name) == expected


def build() -> ServiceIndex:
    index = ServiceIndex()
    index.add("payment", "payment", "backstage", "id")
    index.add("payment", "P7XK2", "backstage", "external-id")
    index.add("payment-gateway", "payment-gateway", "backstage", "id")
    index.add("user", "user", "backstage", "id")
    index.add("user-svc", "user-svc", "cmdb", "id")
    return index


def test_exact_names_external_ids_and_normalised_names_resolve() -> None:
    index = build()
    assert index.resolve("payment").id == "payment"
    assert index.resolve("p7xk2").via == "external-id"
    assert index.resolve("PaymentService").id == "payment"
    assert index.resolve("PaymentService").via == "normalised"
    assert index.resolve("Payment Gateway").id == "payment-gateway"


def test_a_normalised_name_fitting_two_services_resolves_to_neither() -> None:
    resolution = build().resolve("UserService")
    assert resolution.id is None
    assert resolution.ambiguous == ("user", "user-svc")


def test_unknown_names_get_close_suggestions() -> None:
    suggestions = [sid for sid, _, _ in build().suggest("paymnt")]
    assert suggestions[0] == "payment"
    assert "user" not in suggestions[:2]


def test_aliases_are_listed_once_per_source_and_name() -> None:
    index = build()
    index.add("payment", "Payment", "backstage", "name")
    index.add("payment", "payment-svc", "cmdb", "name")
    listed = [(a.source, a.name) for a in index.aliases["payment"]]
    assert listed == [("backstage", "payment"), ("backstage", "P7XK2"), ("cmdb", "payment-svc")]


def test_a_services_own_id_beats_another_services_equal_name() -> None:
    index = ServiceIndex()
    index.add("payment", "payment", "backstage", "id")
    index.add("other/payment", "other/payment", "backstage", "id")
    index.add("other/payment", "payment", "backstage", "name")
    index.add("resource:payment", "resource:payment", "backstage", "id")
    index.add("resource:payment", "payment", "backstage", "name")
    assert index.resolve("payment").id == "payment"
    assert index.resolve("other/payment").id == "other/payment"


def test_equally_strong_claims_stay_ambiguous() -> None:
    index = ServiceIndex()
    index.add("a", "shared-name", "one", "name")
    index.add("b", "shared-name", "two", "name")
    assert index.resolve("shared-name").ambiguous == ("a", "b")
