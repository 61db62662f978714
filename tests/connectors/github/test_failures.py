from __future__ import annotations

import httpx
import pytest
import respx
from opscontext_connectors.github import GitHubSettings
from opscontext_connectors.http import UpstreamError
from pydantic import ValidationError

from tests.connectors.github.routes import BASE, NOW, SINCE, TOKEN, answer_statuses, body, github, route_checkout

pytestmark = pytest.mark.anyio

SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"


@pytest.mark.parametrize(
    ("status", "message"),
    [(401, "Bad credentials"), (403, "Resource not accessible by personal access token"), (422, "Validation Failed")],
)
async def test_a_refused_deployment_list_is_not_retried_and_fails_the_fetch(status: int, message: str) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/repos/acme/checkout/deployments").mock(
        return_value=httpx.Response(status, json={"message": message, "documentation_url": DOCS})
    )
    gh, waits = github(router)

    with pytest.raises(UpstreamError) as caught:
        await gh.fetch_changes(SINCE, NOW)

    assert route.call_count == 1 and waits.seconds == []
    assert caught.value.status == status and message in str(caught.value)
    assert TOKEN not in str(caught.value) and "rate-limited" not in str(caught.value)


async def test_a_repository_that_is_not_found_is_a_problem_while_the_others_load() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_checkout(router)
    router.get("/repos/acme/gone/deployments").mock(
        return_value=httpx.Response(404, json={"message": "Not Found", "documentation_url": DOCS})
    )
    gh, _ = github(router, repositories=["acme/gone", "acme/checkout"], environments=["production", "staging"])

    batch = await gh.fetch_changes(SINCE, NOW)

    assert {change.service for change in batch.records} == {"github:acme/checkout"}
    assert [(p.location, p.severity) for p in batch.problems if p.location.startswith("repos/")] == [
        ("repos/acme/gone", "error")
    ]
    assert batch.problems[0].reason == (
        "GET https://api.github.com/repos/acme/gone/deployments: 404 Not Found: Not Found "
        "(the repository does not exist or the token cannot see it)"
    )


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(403, headers={"Retry-After": "60"}, json={"message": SECONDARY, "documentation_url": DOCS}),
        httpx.Response(
            403,
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1795773600"},
            json={"message": "API rate limit exceeded for user ID 5123401.", "documentation_url": DOCS},
        ),
    ],
    ids=["secondary", "primary"],
)
async def test_a_rate_limit_answered_with_403_is_reported_as_rate_limited(answer: httpx.Response) -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/repos/acme/checkout/deployments").mock(return_value=answer)
    gh, waits = github(router)

    with pytest.raises(UpstreamError) as caught:
        await gh.fetch_changes(SINCE, NOW)

    assert str(caught.value) == (
        "GET https://api.github.com/repos/acme/checkout/deployments: rate-limited by GitHub (403); "
        "the token may ask again once the limit resets"
    )
    assert caught.value.status == 403 and route.call_count == 1 and waits.seconds == []


async def test_a_429_waits_as_retry_after_asks_and_a_server_error_backs_off_before_succeeding() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_checkout(router)
    routes["first"].side_effect = [
        httpx.Response(429, headers={"Retry-After": "7"}, json={"message": SECONDARY}),
        httpx.Response(502),
        httpx.Response(200, json=body("deployments-page1.json")[1:3]),
    ]
    gh, waits = github(router)

    batch = await gh.fetch_changes(SINCE, NOW)

    assert waits.seconds == [7.0, 1.0]
    assert routes["first"].call_count == 3 and len(batch.records) == 2
    assert routes["first"].calls[0].request.url == routes["first"].calls[2].request.url


async def test_a_429_that_outlasts_the_retries_is_reported_as_rate_limited() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/repos/acme/checkout/deployments").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "15"}, json={"message": SECONDARY})
    )
    gh, waits = github(router, retries=2, max_retry_wait_seconds=20)

    with pytest.raises(UpstreamError, match=r"rate-limited by GitHub \(429\)"):
        await gh.fetch_changes(SINCE, NOW)

    assert route.call_count == 3 and waits.seconds == [15.0, 15.0]


async def test_a_server_error_on_one_status_list_leaves_that_deployment_with_its_outcome_unknown() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_checkout(router)
    answer_statuses(routes["statuses"], "103", httpx.Response(503))
    gh, waits = github(router, retries=1)

    batch = await gh.fetch_changes(SINCE, NOW)

    assert waits.seconds == [0.5]
    assert [call.request.url.path for call in routes["statuses"].calls].count(
        "/repos/acme/checkout/deployments/103/statuses"
    ) == 2
    unknown = [p for p in batch.problems if p.location == "acme/checkout/deployments/103"]
    assert len(unknown) == 1 and unknown[0].severity == "warning" and "503" in unknown[0].reason
    assert "103" in {change.provenance.ref.rsplit("/", 1)[-1] for change in batch.records if change.provenance.ref}


async def test_one_repository_failing_is_a_problem_while_the_others_load() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_checkout(router)
    router.get("/repos/acme/locked/deployments").mock(
        return_value=httpx.Response(
            403, json={"message": "Resource not accessible by integration", "documentation_url": DOCS}
        )
    )
    gh, _ = github(router, repositories=["acme/locked", "acme/checkout"])

    batch = await gh.fetch_changes(SINCE, NOW)

    assert {change.service for change in batch.records} == {"github:acme/checkout"}
    failed = [p for p in batch.problems if p.location.startswith("repos/acme/locked")]
    assert [(p.location, p.severity) for p in failed] == [
        ("repos/acme/locked/deployments?environment=production", "error")
    ]
    assert "403" in failed[0].reason and "Resource not accessible by integration" in failed[0].reason


async def test_a_timeout_is_retried_then_reported() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/repos/acme/checkout/deployments").mock(side_effect=httpx.ReadTimeout("slow"))
    gh, waits = github(router, retries=1, timeout_seconds=2)

    with pytest.raises(
        UpstreamError, match=r"GET https://api.github.com/repos/acme/checkout/deployments: no answer within 2 s"
    ):
        await gh.fetch_changes(SINCE, NOW)

    assert route.call_count == 2 and waits.seconds == [0.5]


async def test_a_body_that_is_not_json_is_an_upstream_error() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/repos/acme/checkout/deployments").mock(return_value=httpx.Response(200, text="<html>Unicorn!</html>"))
    gh, _ = github(router)

    with pytest.raises(UpstreamError, match="answered 200 with a body that is not JSON"):
        await gh.fetch_changes(SINCE, NOW)


async def test_a_deployment_list_that_is_not_a_list_is_an_upstream_error() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/repos/acme/checkout/deployments").mock(
        return_value=httpx.Response(200, json={"deployments": body("deployments-page1.json")})
    )
    gh, _ = github(router)

    with pytest.raises(UpstreamError, match="/repos/acme/checkout/deployments: expected a list of deployments"):
        await gh.fetch_changes(SINCE, NOW)


async def test_a_status_list_that_is_not_a_list_leaves_the_deployments_outcome_unknown() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_checkout(router)
    answer_statuses(routes["statuses"], "104", httpx.Response(200, json={"statuses": []}))
    gh, _ = github(router)

    batch = await gh.fetch_changes(SINCE, NOW)

    reasons = [p.reason for p in batch.problems if p.location == "acme/checkout/deployments/104"]
    assert len(reasons) == 1 and "expected a list of deployment statuses" in reasons[0]


async def test_check_is_ok_naming_the_first_repository_the_token_sees() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route = router.get("/repos/acme/checkout").mock(return_value=httpx.Response(200, json=body("repository.json")))
    gh, _ = github(router, repositories=["acme/checkout", "acme/payment"])

    health = await gh.check()

    assert health.ok and health.detail == "https://api.github.com: token accepted, acme/checkout visible (private)"
    assert health.latency_ms is not None
    headers = route.calls.last.request.headers
    assert headers["authorization"] == f"Bearer {TOKEN}" and headers["x-github-api-version"] == "2022-11-28"


async def test_check_fails_saying_the_repository_cannot_be_seen() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/repos/acme/checkout").mock(return_value=httpx.Response(404, json={"message": "Not Found"}))
    gh, _ = github(router)

    health = await gh.check()

    assert not health.ok
    assert health.detail == (
        "GET https://api.github.com/repos/acme/checkout: 404 Not Found: Not Found "
        "(acme/checkout does not exist or the token cannot see it)"
    )


async def test_check_fails_with_githubs_reason_when_the_token_is_refused() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/repos/acme/checkout").mock(return_value=httpx.Response(401, json={"message": "Bad credentials"}))
    gh, waits = github(router)

    health = await gh.check()

    assert not health.ok and waits.seconds == []
    assert health.detail == (
        "GET https://api.github.com/repos/acme/checkout: 401 Unauthorized (check the token or credentials): "
        "Bad credentials"
    )


async def test_closing_releases_the_client_and_a_later_fetch_opens_it_again() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/repos/acme/checkout").mock(return_value=httpx.Response(200, json=body("repository.json")))
    gh, _ = github(router)

    await gh.check()
    await gh.aclose()

    assert (await gh.check()).ok


def test_settings_need_a_token_and_repositories_and_default_to_production_on_the_public_api() -> None:
    with pytest.raises(ValidationError, match="token"):
        GitHubSettings(name="gh", type="github", repositories=["acme/checkout"])
    with pytest.raises(ValidationError, match="repositories"):
        GitHubSettings(name="gh", type="github", token="t")
    with pytest.raises(ValidationError, match="at least 1 item"):
        GitHubSettings(name="gh", type="github", token="t", repositories=[])
    settings = GitHubSettings(name="gh", type="github", token="t", repositories=["acme/checkout", "acme/checkout"])
    assert str(settings.base_url) == "https://api.github.com/"
    assert (settings.repositories, settings.environments) == (["acme/checkout"], ["production"])


@pytest.mark.parametrize(
    "repository", ["checkout", "acme/checkout/main", "acme/", "/checkout", "acme/..", "acme/check out"]
)
def test_settings_refuse_a_repository_that_is_not_owner_slash_name(repository: str) -> None:
    with pytest.raises(ValidationError, match="is not owner/name"):
        GitHubSettings(name="gh", type="github", token="t", repositories=[repository])


def test_settings_refuse_an_empty_environment_and_a_password() -> None:
    with pytest.raises(ValidationError, match="environment name must not be empty"):
        GitHubSettings(name="gh", type="github", token="t", repositories=["acme/checkout"], environments=[" "])
    with pytest.raises(ValidationError, match="takes a token, not username and password"):
        GitHubSettings(
            name="gh", type="github", token="t", repositories=["acme/checkout"], username="me", password="pw"
        )
