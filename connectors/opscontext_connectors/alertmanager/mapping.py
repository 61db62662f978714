"""What Alertmanager's JSON means: an alert (API v2 list or webhook shape alike) and its status.

`GET /api/v2/alerts` says what Alertmanager makes of an alert now in `status.state`
(unprocessed | active | suppressed, with the silences and inhibiting alerts behind a
suppression); the webhook payload says `status: firing | resolved`. The files connector reads
recorded exports of either shape with this same mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from opscontext_mcp.model import Alert, AlertState, Provenance

from ..values import listed, mapping, parse_time, required_time, text

SERVICE_LABELS = ("service", "app", "app_kubernetes_io_name", "job", "container")
"""Labels that name the service an alert is about, the first one present winning (a convention only)."""

STATES: dict[str, AlertState] = {
    "firing": "active",
    "resolved": "resolved",
    "active": "active",
    "suppressed": "suppressed",
    "unprocessed": "unprocessed",
}


def alert_from_alertmanager(
    item: dict[str, Any],
    source: str,
    fetched_at: datetime,
    ref: str | None,
    service_labels: Sequence[str] = SERVICE_LABELS,
) -> Alert:
    """The alert, or `ValueError` when it has no alertname or no usable start."""
    labels = {str(key): str(value) for key, value in mapping(item.get("labels")).items()}
    annotations = {str(key): str(value) for key, value in mapping(item.get("annotations")).items()}
    name = labels.get("alertname")
    if not name:
        raise ValueError("alert has no alertname label")
    status = item.get("status")
    if isinstance(status, dict):
        # `mutedBy` (v0.28+) repeats these and adds time intervals; the state already says muted.
        silenced = _ids(status.get("silencedBy"))
        inhibited = _ids(status.get("inhibitedBy"))
        said = text(status.get("state")) or "active"
    else:
        silenced, inhibited = (), ()
        said = text(status) or "firing"
    # A state this code does not know (a newer Alertmanager's) still shows the alert: muted when
    # something mutes it, else firing, since hiding an alert is the worse mistake at 3 a.m.
    state = STATES.get(said, "suppressed" if silenced or inhibited else "active")
    return Alert(
        name=name,
        service=next((labels[key] for key in service_labels if labels.get(key)), None),
        severity=labels.get("severity"),
        state=state,
        starts_at=required_time(item.get("startsAt"), "startsAt"),
        ends_at=_end(item.get("endsAt")),
        fingerprint=text(item.get("fingerprint")),
        summary=annotations.get("summary") or annotations.get("description"),
        labels=labels,
        annotations=annotations,
        silenced_by=silenced,
        inhibited_by=inhibited,
        link=text(item.get("generatorURL")),
        provenance=Provenance(source=source, fetched_at=fetched_at, ref=ref),
    )


def alert_key(item: dict[str, Any]) -> str | None:
    """What a problem with the alert calls it: its fingerprint, else its alertname."""
    return text(item.get("fingerprint")) or text(mapping(item.get("labels")).get("alertname"))


def describe_status(body: Any) -> str | None:
    """`Alertmanager 0.27.0, cluster ready with 3 peers` from `GET /api/v2/status`; None if it is not one.

    The body also holds the running config, secrets included: nothing else of it is read.
    """
    version = text(mapping(mapping(body).get("versionInfo")).get("version"))
    cluster = mapping(mapping(body).get("cluster"))
    state = text(cluster.get("status"))
    if version is None and state is None:
        return None
    found = f"Alertmanager {version or '(version not given)'}, cluster {state or 'status not given'}"
    peers = len(listed(cluster.get("peers")))
    return f"{found} with {peers} peer{'s' * (peers != 1)}" if peers else found


def _end(value: Any) -> datetime | None:
    """When the alert ended or will time out; Go's zero time (`0001-01-01T00:00:00Z`) means no end.

    A firing alert's future `endsAt` is only when Alertmanager will resolve it unless it is sent
    again: analysis counts an alert as firing while `ends_at` is absent or still ahead.
    """
    moment = parse_time(value or None, "endsAt")
    return moment if moment is not None and moment.year > 1 else None


def _ids(value: Any) -> tuple[str, ...]:
    return tuple(found for found in (text(entry) for entry in listed(value)) if found)
