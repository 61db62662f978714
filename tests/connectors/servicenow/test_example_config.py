from __future__ import annotations

from pathlib import Path

import yaml
from opscontext_connectors.servicenow import ServiceNowSettings

from opscontext_mcp.config import parse_config

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "config" / "servicenow.yaml"


def test_the_documented_example_config_is_valid_servicenow_settings() -> None:
    raw = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    config = parse_config(raw, base_dir=EXAMPLE.parent, environ={"SERVICENOW_PASSWORD": "pw"})
    entry = next(e for e in config.connectors if e["type"] == "servicenow")
    settings = ServiceNowSettings.model_validate(entry)
    assert settings.auth_method == "basic"
    assert settings.password is not None and settings.password.get_secret_value() == "pw"
    assert settings.service_tables == ["cmdb_ci_service", "cmdb_ci_appl"]
