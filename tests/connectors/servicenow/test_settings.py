from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.connectors.servicenow.support import settings


def test_username_and_password_mean_basic_auth() -> None:
    config = settings()
    assert config.auth_method == "basic"
    assert config.page_size == 500
    assert config.service_tables == ["cmdb_ci_service", "cmdb_ci_appl"]


def test_a_token_alone_means_bearer_auth() -> None:
    assert settings(username=None, password=None, token="t0ken").auth_method == "bearer"


def test_client_credentials_with_username_and_password_mean_oauth() -> None:
    config = settings(client_id="opscontext", client_secret="cl1ent-s3cret")
    assert config.auth_method == "oauth"
    assert "cl1ent-s3cret" not in repr(config) and "s3cret-pw" not in repr(config)


def test_no_way_to_authenticate_is_refused_with_the_ways_named() -> None:
    with pytest.raises(ValidationError, match=r"authenticate exactly one way: username \+ password .* found none"):
        settings(username=None, password=None)


def test_a_token_beside_username_and_password_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"found token and username \+ password"):
        settings(token="t0ken")


def test_a_client_id_without_its_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="client_id and client_secret go together"):
        settings(client_id="opscontext")


def test_oauth_without_username_and_password_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"also needs username and password \(password grant\)"):
        settings(username=None, password=None, client_id="opscontext", client_secret="cl1ent-s3cret")


def test_oauth_beside_a_token_is_refused() -> None:
    with pytest.raises(ValidationError, match="found token and client_id"):
        settings(token="t0ken", client_id="opscontext", client_secret="cl1ent-s3cret")


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(ValidationError, match="token is empty"):
        settings(username=None, password=None, token="  ")


def test_an_empty_password_is_refused() -> None:
    with pytest.raises(ValidationError, match="username and password must not be empty"):
        settings(password="")


@pytest.mark.parametrize("table", ["cmdb_ci_service/../sys_user", "CMDB_CI", "cmdb ci"])
def test_service_tables_must_be_table_names(table: str) -> None:
    with pytest.raises(ValidationError, match="is not a table name"):
        settings(service_tables=[table])
