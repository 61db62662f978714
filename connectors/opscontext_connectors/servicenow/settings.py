"""The `servicenow` entry of the config file (documented in examples/config/servicenow.yaml)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from opscontext_mcp.protocols import HttpConnectorSettings

AuthMethod = Literal["basic", "bearer", "oauth"]
_TABLE = re.compile(r"[a-z][a-z0-9_]*")


def _given(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value().strip())


class ServiceNowSettings(HttpConnectorSettings):
    """Exactly one way to authenticate: `username` + `password` (Basic), `token` (a bearer token),
    or `client_id` + `client_secret` with `username` + `password` (OAuth password grant)."""

    client_id: str | None = None
    client_secret: SecretStr | None = None
    page_size: int = Field(default=500, ge=1, le=10_000)
    """`sysparm_limit`: rows per request."""
    service_tables: list[str] = Field(default_factory=lambda: ["cmdb_ci_service", "cmdb_ci_appl"], min_length=1)
    """CI tables whose rows become services (a parent table also returns its subclasses' rows)."""
    ci_filter: str | None = None
    """An encoded-query fragment ANDed to every CI table query, e.g. `operational_status=1`."""

    @field_validator("service_tables")
    @classmethod
    def _tables_are_table_names(cls, tables: list[str]) -> list[str]:
        for table in tables:
            if not _TABLE.fullmatch(table):
                raise ValueError(f"{table!r} is not a table name (lower case letters, digits, underscores)")
        return list(dict.fromkeys(tables))

    @model_validator(mode="after")
    def _exactly_one_way_to_authenticate(self) -> ServiceNowSettings:
        if (self.client_id is None) != (self.client_secret is None):
            raise ValueError("client_id and client_secret go together: give both or neither")
        oauth = self.client_id is not None
        if oauth and not (self.client_id and _given(self.client_secret)):
            raise ValueError("client_id and client_secret must not be empty")
        if oauth and not (self.username and _given(self.password)):
            raise ValueError("OAuth (client_id + client_secret) also needs username and password (password grant)")
        ways = [
            way
            for way, used in (
                ("token", self.token is not None),
                ("username + password", self.username is not None and not oauth),
                ("client_id + client_secret", oauth),
            )
            if used
        ]
        if len(ways) != 1:
            found = " and ".join(ways) if ways else "none"
            raise ValueError(
                "authenticate exactly one way: username + password (Basic), token (bearer), or "
                f"client_id + client_secret with username + password (OAuth); found {found}"
            )
        if self.token is not None and not _given(self.token):
            raise ValueError("token is empty")
        if self.username is not None and not (self.username.strip() and _given(self.password)):
            raise ValueError("username and password must not be empty")
        return self

    @property
    def auth_method(self) -> AuthMethod:
        if self.client_id is not None:
            return "oauth"
        return "bearer" if self.token is not None else "basic"
