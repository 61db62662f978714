"""The `github` connector: deployments, with their latest status, as deploy changes.

    connectors:
      - name: github
        type: github
        token: ${GITHUB_TOKEN}                  # read access to deployments (fine-grained: "Deployments: read")
        repositories: [acme/checkout, acme/payment]
        environments: [production]              # the default
        base_url: https://github.example.com/api/v3   # GitHub Enterprise Server; default api.github.com

For each repository and environment, `GET /repos/{owner}/{repo}/deployments?environment=…`,
newest first, following the `Link: <…>; rel="next"` pages while they stay on this host and
until a page reaches deployments older than the window. Then, for each deployment in the
window, `GET /repos/{owner}/{repo}/deployments/{id}/statuses` says how it went. A change is
made for `github:{owner}/{repo}`, the ref a catalog's `github.com/project-slug` annotation
gives; the repository's name is the fallback a catalog without the annotation is joined by.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import partial
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import httpx
from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator

from opscontext_mcp.model import Change
from opscontext_mcp.protocols import (
    Batch,
    Capability,
    ConnectorContext,
    ConnectorSettings,
    Health,
    HttpConnectorSettings,
    Problem,
)

from ..http import HttpSource, Params, UpstreamError, gather_bounded, probe, segment
from ..values import each, mapping, text, utc_now
from .deployments import (
    Deployment,
    change_from_deployment,
    created_at,
    latest_status,
    read_deployment,
    repository_name,
    service_ref,
    web_url,
)

HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
PER_PAGE = 100
"""GitHub's largest page."""
STATUSES_PER_DEPLOYMENT = 100
"""One page of a deployment's statuses: their order is not documented, so the newest is picked by time."""
_REPOSITORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+")


class GitHubSettings(HttpConnectorSettings):
    base_url: AnyHttpUrl = AnyHttpUrl("https://api.github.com")
    token: SecretStr  # type: ignore[assignment]  # required here, optional for HTTP connectors at large
    repositories: list[str] = Field(min_length=1)
    """`owner/name` of each repository whose deployments are changes."""
    environments: list[str] = Field(default_factory=lambda: ["production"], min_length=1)
    """Deployment environments asked for, as GitHub names them (case matters)."""

    @field_validator("repositories")
    @classmethod
    def _owner_slash_name(cls, repositories: list[str]) -> list[str]:
        for repository in repositories:
            if not _REPOSITORY.fullmatch(repository) or repository_name(repository) in {".", ".."}:
                raise ValueError(f"{repository!r} is not owner/name, e.g. acme/checkout")
        return list(dict.fromkeys(repositories))

    @field_validator("environments")
    @classmethod
    def _named(cls, environments: list[str]) -> list[str]:
        if not all(environment.strip() for environment in environments):
            raise ValueError("an environment name must not be empty")
        return list(dict.fromkeys(environment.strip() for environment in environments))

    @model_validator(mode="after")
    def _a_token_not_a_password(self) -> GitHubSettings:
        if self.username is not None:
            raise ValueError("GitHub's API takes a token, not username and password")
        return self


class GitHubConnector:
    Settings: ClassVar[type[ConnectorSettings]] = GitHubSettings
    capabilities = frozenset({Capability.CHANGES})

    def __init__(self, settings: ConnectorSettings, context: ConnectorContext) -> None:
        assert isinstance(settings, GitHubSettings)
        self.name = settings.name
        self.settings = settings
        headers = {"Authorization": f"Bearer {settings.token.get_secret_value()}", **HEADERS}
        self.http = HttpSource(settings, context, headers=headers)

    async def check(self) -> Health:
        repository = self.settings.repositories[0]

        async def first_repository() -> str:
            try:
                body, _ = await self._get(_repository_path(repository))
            except UpstreamError as exc:
                if exc.status == 404:
                    raise UpstreamError(
                        f"{exc} ({repository} does not exist or the token cannot see it)", 404
                    ) from None
                raise
            found = mapping(body)
            visibility = text(found.get("visibility"))
            named = text(found.get("full_name")) or repository
            return f"token accepted, {named} visible" + (f" ({visibility})" if visibility else "")

        return await probe(self.http.base_url, first_repository)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_changes(self, since: datetime, until: datetime) -> Batch[Change]:
        fetched_at = utc_now()
        problems: list[Problem] = []
        wanted = [
            (repository, environment)
            for repository in self.settings.repositories
            for environment in self.settings.environments
        ]
        lists = await gather_bounded(wanted, lambda key: self._deployments(*key, since))
        deployments: dict[tuple[str, str], Deployment] = {}
        missing: set[str] = set()
        failed: list[Exception] = []
        for repository, environment in wanted:
            answer = lists[(repository, environment)]
            if isinstance(answer, UpstreamError) and answer.status == 404:
                if repository not in missing:
                    missing.add(repository)
                    reason = f"{answer} (the repository does not exist or the token cannot see it)"
                    problems.append(Problem(location=f"repos/{repository}", reason=reason))
                continue
            if isinstance(answer, Exception):
                # One repository failing (a 403 on it, 5xx past the retries) leaves the others' deployments.
                failed.append(answer)
                where = f"repos/{repository}/deployments?environment={environment}"
                problems.append(Problem(location=where, reason=f"not read: {answer}"))
                continue
            items, paging_problems = answer
            problems.extend(paging_problems)
            read = partial(read_deployment, repository=repository, environment=environment, since=since, until=until)
            for deployment in each(items, f"{repository}/deployments", problems, read):
                deployments.setdefault((repository, deployment.id), deployment)
        if failed and len(failed) + sum(1 for r, _ in wanted if r in missing) == len(wanted):
            raise failed[0]  # nothing could be read: the source is down, not partly there
        statuses = await gather_bounded(deployments, self._statuses)
        web = web_url(self.http.base_url)
        changes = []
        for key, deployment in deployments.items():
            answer = statuses[key]
            if isinstance(answer, Exception):  # the deployment is still a change; only its outcome is unknown
                where = f"{deployment.repository}/deployments/{deployment.id}"
                problems.append(Problem(location=where, reason=f"status unknown: {answer}", severity="warning"))
                status = None
            else:
                status = latest_status(answer)
            changes.append(change_from_deployment(deployment, status, self.name, fetched_at, web))
        names = tuple(
            (service_ref(repository), repository_name(repository)) for repository in self.settings.repositories
        )
        return Batch(records=tuple(changes), problems=tuple(problems), service_names=names)

    async def _deployments(self, repository: str, environment: str, since: datetime) -> tuple[list[Any], list[Problem]]:
        """The deployments to one environment, newest first, down to the first page that reaches before `since`."""
        path = f"{_repository_path(repository)}/deployments"
        params: list[tuple[str, str]] = [("environment", environment), ("per_page", str(PER_PAGE))]
        found: list[Any] = []
        seen: set[str] = set()
        while True:
            body, response = await self._get(path, params)
            if not isinstance(body, list):
                raise UpstreamError(f"GET {self.http.base_url}{path}: expected a list of deployments")
            found.extend(body)
            following = response.links.get("next", {}).get("url")
            reached = any(moment < since for moment in map(created_at, body) if moment is not None)
            if not body or reached or following is None or following in seen:
                return found, []
            seen.add(following)
            link, base = urlsplit(following), urlsplit(self.http.base_url)
            elsewhere = link.netloc and (link.scheme, link.netloc) != (base.scheme, base.netloc)
            if elsewhere or not (link.path == base.path or link.path.startswith(f"{base.path}/")):
                reason = "the next page lies outside base_url; not followed"
                return found, [Problem(location=f"{repository}/deployments", reason=reason, severity="warning")]
            path, params = link.path[len(base.path) :], parse_qsl(link.query)

    async def _statuses(self, key: tuple[str, str]) -> list[Any]:
        repository, deployment_id = key
        path = f"{_repository_path(repository)}/deployments/{segment(deployment_id)}/statuses"
        body, _ = await self._get(path, {"per_page": STATUSES_PER_DEPLOYMENT})
        if not isinstance(body, list):
            raise UpstreamError(f"GET {self.http.base_url}{path}: expected a list of deployment statuses")
        return body

    async def _get(self, path: str, params: Params = None) -> tuple[Any, httpx.Response]:
        """A GET whose rate-limit refusal says so: GitHub's secondary limit answers 403, which is not retried."""
        try:
            return await self.http.get_json(path, params=params)
        except UpstreamError as exc:
            if exc.status == 429 or (exc.status == 403 and "rate limit" in str(exc).lower()):
                raise UpstreamError(
                    f"GET {self.http.base_url}{path}: rate-limited by GitHub ({exc.status}); "
                    "the token may ask again once the limit resets",
                    exc.status,
                ) from None
            raise


def _repository_path(repository: str) -> str:
    owner, name = repository.split("/", 1)
    return f"/repos/{segment(owner)}/{segment(name)}"
