"""A GitHub connector wired to a respx router, and the routes of acme/checkout's three pages of deployments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import respx
from opscontext_connectors.github import GitHubConnector, GitHubSettings

from tests.connectors.support import Waits, fixture, http_context

BASE = "https://api.github.com"
NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)
SINCE = NOW - timedelta(days=1)
TOKEN = "ghp_s3cretT0ken"
PAGES = f"{BASE}/repositories/41872399/deployments"
"""GitHub's next links name the repository by id, not by owner/name."""


def github(router: respx.Router, **settings: Any) -> tuple[GitHubConnector, Waits]:
    context, waits = http_context(router, now=NOW)
    settings.setdefault("repositories", ["acme/checkout"])
    config = GitHubSettings(name="gh", type="github", token=TOKEN, **settings)
    return GitHubConnector(config, context), waits


def body(name: str) -> Any:
    return fixture("github", name)


def links(page: int, last: int = 5, url: str = PAGES) -> dict[str, str]:
    """The Link header of page `page - 1`: next (and prev from page 2 on), last."""
    query = "?environment=production&per_page=100&page="
    found = [f'<{url}{query}{page}>; rel="next"', f'<{url}{query}{last}>; rel="last"']
    if page > 2:
        found.insert(0, f'<{url}{query}{page - 2}>; rel="prev"')
    return {"Link": ", ".join(found)}


def route_checkout(router: respx.Router) -> dict[str, respx.Route]:
    """acme/checkout's production deployments over three pages (the third links a fourth), and their statuses."""
    pages = {
        "2": httpx.Response(200, json=body("deployments-page2.json"), headers=links(3)),
        "3": httpx.Response(200, json=body("deployments-page3.json"), headers=links(4)),
    }

    def statuses(request: httpx.Request, deployment_id: str) -> httpx.Response:
        return httpx.Response(200, json=body(f"statuses/{deployment_id}.json"))

    return {
        "first": router.get("/repos/acme/checkout/deployments").mock(
            return_value=httpx.Response(200, json=body("deployments-page1.json"), headers=links(2))
        ),
        "later": router.get("/repositories/41872399/deployments").mock(
            side_effect=lambda request: pages[request.url.params["page"]]
        ),
        "statuses": router.get(path__regex=r"^/repos/acme/checkout/deployments/(?P<deployment_id>\d+)/statuses$").mock(
            side_effect=statuses
        ),
    }


def answer_statuses(route: respx.Route, deployment_id: str, answer: httpx.Response) -> None:
    """The statuses route of `route_checkout` answering `answer` for one deployment and the fixtures for the rest."""
    fixtures = route.side_effect
    assert callable(fixtures)
    route.side_effect = lambda request, **found: (
        answer if found["deployment_id"] == deployment_id else fixtures(request, **found)
    )


def requested(route: respx.Route, key: str) -> list[str]:
    """One query parameter of every call to a route, in call order."""
    return [call.request.url.params[key] for call in route.calls]


def status_ids(route: respx.Route) -> list[str]:
    """The deployments whose statuses were asked for, sorted: they are asked for in parallel."""
    return sorted(call.request.url.path.split("/")[-2] for call in route.calls)
