"""Davis problems as alerts: one per service the problem affects or impacts.

Every alert of one problem shares its fingerprint (the problemId), so the problem stays one
thing to whoever groups alerts. What Davis worked out about the problem travels with each:

    labels       problemId, displayId, status, severityLevel, impactLevel,
                 root_cause_entity   the root-cause entity's id (absent when Davis named none)
                 affected_entities   ids of every affected entity, comma-separated, any type
                 impacted_entities   ids of every impacted entity, likewise
    annotations  root_cause_entity   the root-cause entity's name
                 affected_entities   `name (id)` of each affected entity, comma-separated
                 impacted_entities   `name (id)` of each impacted entity, likewise

A problem that touches no service (a host's disk, a process group's crashes) is one alert with
no service, so it is still seen. The link is the problem's page in the environment's web UI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from opscontext_mcp.model import Alert, Provenance

from ..values import text
from .values import Stub, moment, required_moment, service_ref, stub, stubs


def problem_key(item: dict[str, Any]) -> str | None:
    return text(item.get("displayId")) or text(item.get("problemId"))


def problem_link(base_url: str, problem_id: str) -> str:
    """The problem's page in the classic web UI, which newer Dynatrace versions redirect to their own."""
    return f"{base_url}/#problems/problemdetails;pid={quote(problem_id, safe='')}"


def alerts_from_problem(
    item: dict[str, Any], source: str, fetched_at: datetime, base_url: str, names: dict[str, str]
) -> list[Alert]:
    problem_id, title = text(item.get("problemId")), text(item.get("title"))
    if problem_id is None or title is None:
        raise ValueError("a problem needs a problemId and a title")
    starts_at = required_moment(item.get("startTime"), "startTime")
    ends_at = moment(item.get("endTime"), "endTime")
    status = (text(item.get("status")) or "").upper()
    affected, impacted = stubs(item.get("affectedEntities")), stubs(item.get("impactedEntities"))
    root_cause = stub(item.get("rootCauseEntity"))
    for entity in (*affected, *impacted, *([root_cause] if root_cause else [])):
        if entity.is_service and entity.name:
            names[service_ref(entity.id)] = entity.name
    labels = {
        "problemId": problem_id,
        "displayId": text(item.get("displayId")),
        "status": status or None,
        "severityLevel": text(item.get("severityLevel")),
        "impactLevel": text(item.get("impactLevel")),
        "root_cause_entity": root_cause.id if root_cause else None,
        "affected_entities": ",".join(entity.id for entity in affected) or None,
        "impacted_entities": ",".join(entity.id for entity in impacted) or None,
    }
    annotations = {
        "root_cause_entity": (root_cause.name or root_cause.id) if root_cause else None,
        "affected_entities": _named(affected),
        "impacted_entities": _named(impacted),
    }
    # Davis' root cause first: the problem is about it even when only its callers show symptoms.
    roots = [root_cause] if root_cause is not None and root_cause.is_service else []
    services = list(dict.fromkeys(entity.id for entity in (*roots, *affected, *impacted) if entity.is_service))
    # CLOSED is final; without a status, an end time says the problem is over.
    resolved = status == "CLOSED" or (status != "OPEN" and ends_at is not None)
    return [
        Alert(
            name=title,
            service=service_ref(service) if service else None,
            severity=text(item.get("severityLevel")),
            state="resolved" if resolved else "active",
            starts_at=starts_at,
            ends_at=ends_at,
            fingerprint=problem_id,
            labels={key: value for key, value in labels.items() if value is not None},
            annotations={key: value for key, value in annotations.items() if value is not None},
            link=problem_link(base_url, problem_id),
            provenance=Provenance(source=source, fetched_at=fetched_at, ref=problem_id),
        )
        for service in services or [None]
    ]


def _named(entities: list[Stub]) -> str | None:
    return ", ".join(f"{entity.name} ({entity.id})" if entity.name else entity.id for entity in entities) or None
