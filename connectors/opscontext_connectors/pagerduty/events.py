"""PagerDuty change events and incidents as changes and incidents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from opscontext_mcp.model import Change, ChangeKind, Incident, Provenance

from ..values import listed, mapping, parse_time, required_time, text
from .oncall import service_ref
from .values import name_of, ref_of

CHANGE_KINDS: dict[str, ChangeKind] = {
    "deploy": "deploy",
    "deployment": "deploy",
    "release": "deploy",
    "config": "config",
    "configuration": "config",
    "feature_flag": "feature_flag",
    "flag": "feature_flag",
    "infra": "infra",
    "infrastructure": "infra",
    "change_request": "change_request",
}
"""What senders put in `custom_details.kind` / `type`; anything else is a deploy, the common case."""


def changes_from_event(
    item: dict[str, Any], source: str, fetched_at: datetime, wanted: Sequence[str], names: dict[str, str]
) -> list[Change]:
    """One change per service the event touches (of the `wanted` ones, when some are), named as PagerDuty names them."""
    services = {}
    for reference in listed(item.get("services")):
        if service_id := text(mapping(reference).get("id")):
            services[service_id] = name_of(reference)
    if wanted:
        services = {sid: name for sid, name in services.items() if sid in wanted}
        if not services:
            return []
    change_id, summary = text(item.get("id")), text(item.get("summary"))
    if change_id is None or summary is None:
        raise ValueError("a change event needs an id and a summary")
    if not services:
        raise ValueError("the change event names no service")
    details = mapping(item.get("custom_details"))
    links = [mapping(link) for link in listed(item.get("links"))]
    at = required_time(item.get("timestamp"), "timestamp")
    changes = []
    for service_id, name in services.items():
        ref = service_ref(service_id)
        if name:
            names[ref] = name
        changes.append(
            Change(
                id=change_id if len(services) == 1 else f"{change_id}/{service_id}",
                service=ref,
                kind=_kind(details),
                summary=summary,
                at=at,
                author=text(item.get("source")),
                version=text(details.get("version")) or text(details.get("build_number")),
                link=text(links[0].get("href")) if links else None,
                provenance=Provenance(source=source, fetched_at=fetched_at, ref=change_id),
            )
        )
    return changes


def _kind(details: dict[str, Any]) -> ChangeKind:
    for key in ("kind", "type"):
        word = text(details.get(key))
        if word:
            kind = CHANGE_KINDS.get(word.lower().replace("-", "_").replace(" ", "_"))
            if kind is not None:
                return kind
    return "deploy"


def incident_from_pagerduty(item: dict[str, Any], source: str, fetched_at: datetime, names: dict[str, str]) -> Incident:
    number, upstream_id = text(item.get("incident_number")), text(item.get("id"))
    status = text(item.get("status"))
    title = text(item.get("title")) or text(item.get("summary"))
    if (number or upstream_id) is None or status is None or title is None:
        raise ValueError("an incident needs an id or number, a status and a title")
    resolved_at = parse_time(item.get("resolved_at"), "resolved_at")
    if resolved_at is None and status == "resolved":
        resolved_at = parse_time(item.get("last_status_change_at"), "last_status_change_at")
    service_id = text(mapping(item.get("service")).get("id"))
    service = service_ref(service_id) if service_id else None
    if service and (name := name_of(item.get("service"))):
        names[service] = name
    return Incident(
        id=f"PD-{number}" if number else str(upstream_id),
        title=title,
        status=status,
        open=status != "resolved",
        severity=name_of(item.get("priority")) or text(item.get("urgency")),
        services=(service,) if service else (),
        opened_at=required_time(item.get("created_at"), "created_at"),
        resolved_at=resolved_at,
        link=text(item.get("html_url")),
        provenance=Provenance(source=source, fetched_at=fetched_at, ref=ref_of(item)),
    )
