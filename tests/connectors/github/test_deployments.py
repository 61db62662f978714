from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from tests.connectors.github.routes import (
    BASE,
    NOW,
    SINCE,
    TOKEN,
    answer_statuses,
    body,
    github,
    links,
    requested,
    route_checkout,
    status_ids,
)

pytestmark = pytest.mark.anyio


async def test_deployments_in_the_window_become_deploy_changes_of_the_repository() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_checkout(router)
    gh, _ = github(router)

    batch = await gh.fetch_changes(SINCE, NOW)

    assert [change.id for change in batch.records] == [
        "acme/checkout#104",
        "acme/checkout#103",
        "acme/checkout#102",
        "acme/checkout#100",
    ]
    deploy = batch.records[0]
    assert deploy.model_dump(exclude={"provenance"}) == {
        "id": "acme/checkout#104",
        "service": "github:acme/checkout",
        "kind": "deploy",
        "summary": "Deploy of v1.4.2 (3f2a9c1) to production succeeded — Deploy 1.4.2",
        "at": datetime(2026, 11, 27, 9, 38, tzinfo=UTC),
        "author": "ci-bot",
        "version": "v1.4.2",
        "link": "https://github.com/acme/checkout/actions/runs/7711",
        "risk": None,
    }
    assert deploy.provenance.source == "gh"
    assert deploy.provenance.ref == "https://api.github.com/repos/acme/checkout/deployments/104"


async def test_the_repository_is_named_for_the_join_by_its_project_slug_ref_and_its_name() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_checkout(router)
    gh, _ = github(router)

    batch = await gh.fetch_changes(SINCE, NOW)

    assert batch.service_names == (("github:acme/checkout", "checkout"),)


async def test_requests_carry_the_bearer_token_and_githubs_media_type_and_api_version() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_checkout(router)
    gh, _ = github(router)

    await gh.fetch_changes(SINCE, NOW)

    for route in routes.values():
        for call in route.calls:
            headers = call.request.headers
            assert headers["authorization"] == f"Bearer {TOKEN}"
            assert headers["accept"] == "application/vnd.github+json"
            assert headers["x-github-api-version"] == "2022-11-28"
    first = routes["first"].calls[0].request.url.params
    assert dict(first) == {"environment": "production", "per_page": "100"}
    assert {dict(call.request.url.params)["per_page"] for call in routes["statuses"].calls} == {"100"}


async def test_paging_follows_the_link_header_until_a_page_reaches_deployments_older_than_the_window() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_checkout(router)
    gh, _ = github(router)

    batch = await gh.fetch_changes(SINCE, NOW)

    assert routes["first"].call_count == 1
    assert requested(routes["later"], "page") == ["2", "3"]
    assert requested(routes["later"], "environment") == ["production", "production"]
    assert "acme/checkout#99" not in {change.id for change in batch.records}


async def test_only_deployments_in_the_window_have_their_statuses_read() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_checkout(router)
    gh, _ = github(router)

    await gh.fetch_changes(SINCE, NOW)

    # 105 was created after `until` (a replayed incident), 99 before `since`, 101 has no usable time
    assert status_ids(routes["statuses"]) == ["100", "102", "103", "104"]


async def test_a_failed_deploy_is_still_a_change_and_its_summary_says_it_failed_and_why() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_checkout(router)
    gh, _ = github(router)

    batch = await gh.fetch_changes(SINCE, NOW)

    failed = next(change for change in batch.records if change.id == "acme/checkout#103")
    assert failed.summary == (
        "Deploy of v1.4.1 (9d8e7f6) to production failed: Health checks failed: /healthz answered 503 — Deploy 1.4.1"
    )
    assert (failed.author, failed.link) == ("mateo-silva", "https://github.com/acme/checkout/actions/runs/7698")


async def test_the_latest_status_is_the_newest_by_time_whatever_order_github_lists_them_in() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_checkout(router)
    gh, _ = github(router)

    batch = await gh.fetch_changes(SINCE, NOW)

    commit = next(change for change in batch.records if change.id == "acme/checkout#102")
    assert commit.summary == "Deploy of 77aa41c to production succeeded"
    assert (commit.version, commit.link) == ("77aa41c", "https://checkout.acme.example")


async def test_statuses_created_in_the_same_second_are_ordered_by_id() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/repos/acme/checkout/deployments").mock(
        return_value=httpx.Response(200, json=body("deployments-page1.json")[1:2])
    )
    statuses = body("statuses/104.json")
    statuses[0].update(created_at=statuses[1]["created_at"], id=statuses[1]["id"] - 1)
    router.get("/repos/acme/checkout/deployments/104/statuses").mock(return_value=httpx.Response(200, json=statuses))
    gh, _ = github(router)

    batch = await gh.fetch_changes(SINCE, NOW)

    assert batch.records[0].summary == "Deploy of v1.4.2 (3f2a9c1) to production is in progress — Deploy 1.4.2"


async def test_a_deploy_with_no_link_of_its_own_links_the_repositorys_deployments_page() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_checkout(router)
    gh, _ = github(router)

    batch = await gh.fetch_changes(SINCE, NOW)

    superseded = next(change for change in batch.records if change.id == "acme/checkout#100")
    assert superseded.summary == (
        "Deploy of main (5e4d3c2) to production is inactive (superseded by a later deploy) — Deploy main"
    )
    assert superseded.link == "https://github.com/acme/checkout/deployments"


async def test_a_deployment_with_no_status_yet_is_a_change_that_says_so() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    router.get("/repos/acme/checkout/deployments").mock(
        return_value=httpx.Response(200, json=body("deployments-page1.json")[1:2])
    )
    router.get("/repos/acme/checkout/deployments/104/statuses").mock(return_value=httpx.Response(200, json=[]))
    gh, _ = github(router)

    batch = await gh.fetch_changes(SINCE, NOW)

    assert batch.records[0].summary == "Deploy of v1.4.2 (3f2a9c1) to production has no status yet — Deploy 1.4.2"
    assert batch.problems == ()


async def test_a_malformed_deployment_is_a_problem_while_the_others_load() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_checkout(router)
    page = [*body("deployments-page1.json"), "not a deployment", {"ref": "main", "created_at": "2026-11-27T09:00:00Z"}]
    routes["first"].mock(return_value=httpx.Response(200, json=page, headers=links(2)))
    gh, _ = github(router)

    batch = await gh.fetch_changes(SINCE, NOW)

    assert len(batch.records) == 4
    assert [(p.location, p.reason, p.severity) for p in batch.problems] == [
        ("acme/checkout/deployments[3]", "expected an object, got 'not a deployment'", "error"),
        ("acme/checkout/deployments[4]", "a deployment needs an id", "error"),
        ("acme/checkout/deployments/101", "created_at: '26/11/2026 21:00' is not an ISO-8601 time", "error"),
    ]


async def test_a_deployment_a_later_page_repeats_is_one_change() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_checkout(router)
    # a deploy between two page reads shifts the list: page 2 starts with page 1's last deployment
    shifted = [body("deployments-page1.json")[-1], *body("deployments-page2.json")]
    routes["later"].side_effect = lambda request: (
        httpx.Response(200, json=shifted, headers=links(3))
        if request.url.params["page"] == "2"
        else httpx.Response(200, json=body("deployments-page3.json"))
    )
    gh, _ = github(router)

    batch = await gh.fetch_changes(SINCE, NOW)

    assert [change.id for change in batch.records].count("acme/checkout#103") == 1
    assert routes["statuses"].call_count == 4


async def test_every_repository_and_environment_is_asked_for_and_each_repository_named() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    lists = router.get(path__regex=r"^/repos/acme/[a-z-]+/deployments$").mock(return_value=httpx.Response(200, json=[]))
    gh, _ = github(
        router, repositories=["acme/checkout", "acme/payment-gateway"], environments=["production", "eu-prod"]
    )

    batch = await gh.fetch_changes(SINCE, NOW)

    asked = sorted((call.request.url.path, call.request.url.params["environment"]) for call in lists.calls)
    assert asked == [
        ("/repos/acme/checkout/deployments", "eu-prod"),
        ("/repos/acme/checkout/deployments", "production"),
        ("/repos/acme/payment-gateway/deployments", "eu-prod"),
        ("/repos/acme/payment-gateway/deployments", "production"),
    ]
    assert batch.records == ()
    assert batch.service_names == (
        ("github:acme/checkout", "checkout"),
        ("github:acme/payment-gateway", "payment-gateway"),
    )


async def test_github_enterprise_is_read_under_api_v3_and_deploys_link_to_its_web_pages() -> None:
    ghes = "https://github.acme.example/api/v3"
    router = respx.Router(base_url=ghes, assert_all_mocked=True)
    first = body("deployments-page1.json")[2:]
    pages = router.get("/repos/acme/checkout/deployments").mock(
        side_effect=[
            httpx.Response(200, json=first, headers=links(2, url=f"{ghes}/repos/acme/checkout/deployments")),
            httpx.Response(200, json=body("deployments-page3.json")),
        ]
    )
    router.get(path__regex=r"/deployments/\d+/statuses$").mock(return_value=httpx.Response(200, json=[]))
    gh, _ = github(router, base_url=ghes)

    batch = await gh.fetch_changes(SINCE, NOW)

    assert [str(call.request.url) for call in pages.calls] == [
        f"{ghes}/repos/acme/checkout/deployments?environment=production&per_page=100",
        f"{ghes}/repos/acme/checkout/deployments?environment=production&per_page=100&page=2",
    ]
    assert {change.link for change in batch.records} == {"https://github.acme.example/acme/checkout/deployments"}


async def test_a_next_page_on_another_host_is_not_followed_and_is_reported() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_checkout(router)
    routes["first"].mock(
        return_value=httpx.Response(
            200, json=body("deployments-page1.json"), headers=links(2, url="https://elsewhere.example/deployments")
        )
    )
    gh, _ = github(router)

    batch = await gh.fetch_changes(SINCE, NOW)

    assert routes["later"].call_count == 0
    assert [change.id for change in batch.records] == ["acme/checkout#104", "acme/checkout#103"]
    assert [(p.location, p.reason, p.severity) for p in batch.problems] == [
        ("acme/checkout/deployments", "the next page lies outside base_url; not followed", "warning")
    ]


async def test_a_status_list_that_is_gone_leaves_the_deploy_a_change_with_a_warning() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    routes = route_checkout(router)
    answer_statuses(routes["statuses"], "103", httpx.Response(404, json={"message": "Not Found"}))
    gh, _ = github(router)

    batch = await gh.fetch_changes(SINCE, NOW)

    gone = next(change for change in batch.records if change.id == "acme/checkout#103")
    assert gone.summary == "Deploy of v1.4.1 (9d8e7f6) to production has no status yet — Deploy 1.4.1"
    assert [(p.location, p.severity) for p in batch.problems if "status" in p.reason] == [
        ("acme/checkout/deployments/103", "warning")
    ]
    assert "404 Not Found" in batch.problems[-1].reason


async def test_the_window_comes_from_the_arguments_not_the_clock() -> None:
    router = respx.Router(base_url=BASE, assert_all_mocked=True)
    route_checkout(router)
    gh, _ = github(router)

    batch = await gh.fetch_changes(datetime(2026, 11, 27, 8, tzinfo=UTC), NOW + timedelta(hours=1))

    assert [change.id for change in batch.records] == ["acme/checkout#105", "acme/checkout#104", "acme/checkout#103"]
    assert batch.records[0].summary == "Deploy of v1.5.0 (8c1d2e3) to production is queued — Deploy 1.5.0"
