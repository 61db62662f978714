"""GitHub deployments, with their latest status, as deploy changes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from opscontext_mcp.model import Change, Provenance

from ..values import mapping, parse_time, required_time, text

FULL_SHA = re.compile(r"[0-9a-f]{40}")
SHORT_SHA = 7
FAILED_STATES = frozenset({"failure", "error"})
OUTCOMES = {
    "success": "succeeded",
    "failure": "failed",
    "error": "failed with an error",
    "inactive": "is inactive (superseded by a later deploy)",
}
"""How a status reads in a summary; any other state (pending, queued, in_progress, …) reads as `is <state>`."""
_LONG_AGO = datetime.min.replace(tzinfo=UTC)


def service_ref(repository: str) -> str:
    """`github:acme/checkout`: how the join knows a catalog entity annotated `github.com/project-slug: acme/checkout`."""
    return f"github:{repository}"


def repository_name(repository: str) -> str:
    """`checkout` for `acme/checkout`: the name a repository without a catalog annotation is joined by."""
    return repository.split("/", 1)[1]


def web_url(api_url: str) -> str:
    """Where people browse what the API serves: api.github.com → github.com, https://ghes/api/v3 → https://ghes."""
    parts = urlsplit(api_url)
    if parts.path.rstrip("/").endswith("/api/v3"):
        return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/").removesuffix("/api/v3"), "", ""))
    return urlunsplit((parts.scheme, parts.netloc.removeprefix("api."), parts.path.rstrip("/"), "", ""))


@dataclass(frozen=True)
class Deployment:
    """A deployment inside the window: what is needed to ask for its statuses and to describe it."""

    repository: str
    environment: str
    id: str
    created_at: datetime
    item: dict[str, Any]


def created_at(item: Any) -> datetime | None:
    """When a listed deployment was created, or None when it cannot be told (that record is reported elsewhere)."""
    try:
        return parse_time(mapping(item).get("created_at"), "created_at")
    except ValueError:
        return None


def read_deployment(
    item: dict[str, Any], repository: str, environment: str, since: datetime, until: datetime
) -> Deployment | None:
    """The deployment if it was created in [since, until]; None if outside; `ValueError` if unusable."""
    deployment_id = text(item.get("id"))
    if deployment_id is None:
        raise ValueError("a deployment needs an id")
    at = required_time(item.get("created_at"), "created_at")
    if not since <= at <= until:
        return None
    return Deployment(repository, text(item.get("environment")) or environment, deployment_id, at, item)


def latest_status(statuses: list[Any]) -> dict[str, Any] | None:
    """The newest status by `created_at`, then by id: GitHub does not promise the list's order."""

    def newness(entry: tuple[int, dict[str, Any]]) -> tuple[datetime, int, int]:
        index, status = entry
        status_id = status.get("id")
        number = status_id if isinstance(status_id, int) and not isinstance(status_id, bool) else -1
        return created_at(status) or _LONG_AGO, number, -index

    found = [(index, status) for index, status in enumerate(statuses) if isinstance(status, dict)]
    return max(found, key=newness)[1] if found else None


def change_from_deployment(
    deployment: Deployment, status: dict[str, Any] | None, source: str, fetched_at: datetime, web: str
) -> Change:
    item = deployment.item
    ref, sha = text(item.get("ref")), text(item.get("sha"))
    short_sha = sha[:SHORT_SHA] if sha else None
    if ref and FULL_SHA.fullmatch(ref):
        ref = ref[:SHORT_SHA]
    owner, name = deployment.repository.split("/", 1)
    return Change(
        id=f"{deployment.repository}#{deployment.id}",
        service=service_ref(deployment.repository),
        kind="deploy",
        summary=_summary(ref, short_sha, deployment.environment, text(item.get("description")), status),
        at=deployment.created_at,
        author=text(mapping(item.get("creator")).get("login")),
        version=ref or short_sha,
        link=_link(status) or f"{web}/{quote(owner, safe='')}/{quote(name, safe='')}/deployments",
        provenance=Provenance(source=source, fetched_at=fetched_at, ref=text(item.get("url")) or deployment.id),
    )


def _summary(
    ref: str | None, short_sha: str | None, environment: str, description: str | None, status: dict[str, Any] | None
) -> str:
    """`Deploy of v1.4.2 (3f2a9c1) to production succeeded — Deploy 1.4.2`; a failure says so, and why."""
    if ref and short_sha and not short_sha.startswith(ref):
        what = f"{ref} ({short_sha})"
    else:
        what = ref or short_sha
    summary = f"Deploy of {what} to {environment}" if what else f"Deploy to {environment}"
    state = text(mapping(status).get("state"))
    if state is None:
        summary += " has no status yet"
    else:
        summary += " " + OUTCOMES.get(state, f"is {state.replace('_', ' ')}")
        reason = text(mapping(status).get("description"))
        if state in FAILED_STATES and reason:
            summary += f": {reason}"
    return f"{summary} — {description}" if description else summary


def _link(status: dict[str, Any] | None) -> str | None:
    """The run that deployed it (`log_url`, formerly `target_url`), else the deployed environment."""
    found = mapping(status)
    return text(found.get("log_url")) or text(found.get("target_url")) or text(found.get("environment_url"))
