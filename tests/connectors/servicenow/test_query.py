from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from opscontext_connectors.servicenow.query import EncodedQuery, UnsafeQueryValue, literal


def test_conditions_join_with_carets_alternatives_with_or_and_ordering_comes_last() -> None:
    query = (
        EncodedQuery()
        .where("opened_at", ">=", datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
        .or_where("active", "=", "true")
        .where("cmdb_ci.name", "=", "Payment Service")
        .order_by("opened_at", descending=True)
    )
    assert query.encode() == (
        "opened_at>=2026-11-27 09:00:00^ORactive=true^cmdb_ci.name=Payment Service^ORDERBYDESCopened_at"
    )


def test_dates_are_written_in_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    query = EncodedQuery().where("sys_updated_on", ">=", datetime(2026, 11, 27, 10, 30, 5, tzinfo=berlin))
    assert query.encode() == "sys_updated_on>=2026-11-27 09:30:05"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        EncodedQuery().where("opened_at", ">=", datetime(2026, 11, 27))


@pytest.mark.parametrize(
    "value",
    [
        "x^ORactive=true",
        "Payment^NQactive=true",
        "Payment Service^ORDERBYname",
        "name=x",
        "Payment\nService",
        "x\r",
        "javascript:gs.getUser()",
        " JavaScript:new GlideRecord('sys_user')",
    ],
)
def test_a_value_that_could_add_or_change_a_condition_is_refused(value: str) -> None:
    with pytest.raises(UnsafeQueryValue, match="refusing"):
        EncodedQuery().where("name", "=", value)
    with pytest.raises(UnsafeQueryValue):
        literal(value)


@pytest.mark.parametrize("field", ["name^ORactive", "name=", "Name", "", "cmdb_ci..name"])
def test_a_field_name_that_is_not_one_is_refused(field: str) -> None:
    with pytest.raises(UnsafeQueryValue, match="as a field name"):
        EncodedQuery().where(field, "=", "x")


def test_the_trusted_config_fragment_is_appended_as_it_is_before_the_ordering() -> None:
    query = EncodedQuery().where("active", "=", "true").trusted("^operational_status=1^ORoperational_status=5")
    assert query.order_by("sys_id").encode() == "active=true^operational_status=1^ORoperational_status=5^ORDERBYsys_id"
    assert EncodedQuery().trusted(None).trusted("").order_by("sys_id").encode() == "ORDERBYsys_id"


def test_an_alternative_needs_a_condition_before_it() -> None:
    with pytest.raises(ValueError, match="needs a condition before it"):
        EncodedQuery().or_where("active", "=", "true")


def test_an_in_list_joins_its_values_with_commas_and_refuses_a_value_holding_one() -> None:
    query = EncodedQuery().where_in("parent.sys_class_name", ["cmdb_ci_service", "cmdb_ci_appl"])
    assert query.encode() == "parent.sys_class_nameINcmdb_ci_service,cmdb_ci_appl"
    with pytest.raises(UnsafeQueryValue, match="IN list"):
        EncodedQuery().where_in("name", ["a,b"])
    with pytest.raises(UnsafeQueryValue, match="refusing"):
        EncodedQuery().where_in("name", ["a^ORactive=true"])
    with pytest.raises(ValueError, match="at least one value"):
        EncodedQuery().where_in("name", [])
