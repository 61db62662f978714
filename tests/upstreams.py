"""Acme Shop's Backstage, ServiceNow and PagerDuty, served through respx by examples/upstreams/serve.py.

respx catches each request to the real hosts and hands it to the stand-in app that a manual run
serves (`/backstage/…`, `/servicenow/…`, `/pagerduty/…`), so the suite exercises that app too.
`down[system]` makes a system answer with that status (or time out, with "timeout") until it is
cleared; a timeout is raised at once, never waited for.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType

import httpx
import respx

from tests.conftest import EXAMPLES

HOSTS = {
    "backstage.acme.example": "backstage",
    "acme.service-now.example": "servicenow",
    "api.pagerduty.com": "pagerduty",
}


def stand_in() -> ModuleType:
    """examples/upstreams/serve.py, loaded as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location("acme_upstreams", EXAMPLES / "upstreams" / "serve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Upstreams:
    def __init__(self) -> None:
        self.down: dict[str, str] = {}
        self.requests: list[httpx.Request] = []
        self._app = httpx.ASGITransport(app=stand_in().app)
        self.router = respx.Router(assert_all_mocked=True)
        for host in HOSTS:
            self.router.route(host=host).mock(side_effect=self.answer)

    async def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        system = HOSTS[request.url.host]
        failure = self.down.get(system)
        if failure == "timeout":
            raise httpx.ReadTimeout("no answer", request=request)
        if failure:
            return httpx.Response(int(failure), json={"error": {"message": f"{system} is down"}})
        forwarded = httpx.Request(
            request.method,
            request.url.copy_with(scheme="http", host="stand-in", port=None, path=f"/{system}{request.url.path}"),
            headers=request.headers,
            content=request.content,
        )
        response = await self._app.handle_async_request(forwarded)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content)
