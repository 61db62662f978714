"""Acme Shop's recorded Backstage, ServiceNow and PagerDuty answers, served through respx.

The same files `examples/upstreams/serve.py` serves for a manual run. `down[system]` makes a
system answer 503 (or time out, with "timeout") until it is cleared.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import respx

from tests.conftest import EXAMPLES

UPSTREAMS = EXAMPLES / "upstreams"
HOSTS = {
    "backstage.acme.example": "backstage",
    "acme.service-now.example": "servicenow",
    "api.pagerduty.com": "pagerduty",
}


class Upstreams:
    def __init__(self) -> None:
        self.down: dict[str, str] = {}
        self.requests: list[httpx.Request] = []
        self.router = respx.Router(assert_all_mocked=True)
        for host in HOSTS:
            self.router.route(host=host).mock(side_effect=self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        system = HOSTS[request.url.host]
        failure = self.down.get(system)
        if failure == "timeout":
            raise httpx.ReadTimeout("no answer", request=request)
        if failure:
            return httpx.Response(int(failure), json={"error": {"message": f"{system} is down"}})
        file = _file(system, request.url.path.strip("/"))
        if file is None:
            return httpx.Response(404, json={"error": {"message": "No Record found"}})
        return httpx.Response(200, json=json.loads(file.read_text(encoding="utf-8")))


def _file(system: str, path: str) -> Path | None:
    if system == "backstage":
        candidate = UPSTREAMS / "backstage" / "entities.json"
    elif system == "servicenow":
        candidate = UPSTREAMS / "servicenow" / f"{path.removeprefix('api/now/table/')}.json"
    else:
        candidate = UPSTREAMS / "pagerduty" / f"{path}.json"
    return candidate if candidate.is_file() else None
