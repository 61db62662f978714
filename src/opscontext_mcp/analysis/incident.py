"""The single status doc of an incident, and when its next update is due.

One place the process lives: who holds each role, where things stand, when the next update is
owed (from the severity's cadence, counted from the last update or the declaration), and the
scribe's timeline. Rendered as Markdown for `incident://{id}` and for the channel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from opscontext_mcp.store import ROLES
from opscontext_mcp.store.records import IncidentRecord

TIMELINE_SHOWN = 50
UPDATES_SHOWN = 5


@dataclass(frozen=True)
class Cadence:
    every: timedelta | None
    """None when the severity has no cadence, or the incident is resolved."""
    due: datetime | None
    overdue_by: timedelta | None
    """How late the next update is; None when it is not late."""


def cadence(record: IncidentRecord, minutes: Mapping[str, int], now: datetime) -> Cadence:
    incident = record.incident
    every = minutes.get(incident.severity)
    if every is None or incident.resolved_at is not None:
        return Cadence(None, None, None)
    last = max((u.at for u in record.updates), default=incident.declared_at)
    due = last + timedelta(minutes=every)
    return Cadence(timedelta(minutes=every), due, now - due if now > due else None)


def status_doc(record: IncidentRecord, minutes: Mapping[str, int], now: datetime) -> str:
    incident = record.incident
    when = cadence(record, minutes, now)
    open_for = int(((incident.resolved_at or now) - incident.declared_at).total_seconds() // 60)
    lines = [
        f"# {incident.id}: {incident.title}",
        "",
        f"**Severity** {incident.severity} · **Status** {incident.status} · declared {_clock(incident.declared_at)}"
        + (f", resolved {_clock(incident.resolved_at)}" if incident.resolved_at else f", open {open_for} min"),
        "",
        f"**Services** {', '.join(incident.services) or '—'}",
    ]
    if incident.summary:
        lines += ["", f"**Summary** {incident.summary}"]
    if incident.channel:
        lines += ["", f"**Channel** {incident.channel}"]
    lines += ["", "## Roles", ""]
    for role in ROLES:
        holder = record.roles.get(role)
        name = role.replace("_", " ")
        lines.append(
            f"- {name}: {holder.person} (since {_clock(holder.assigned_at)})" if holder else f"- {name}: **unassigned**"
        )
    lines += ["", "## Next update", ""]
    if when.due is None:
        lines.append("none due" + (" (resolved)" if incident.resolved_at else f" (no cadence for {incident.severity})"))
    elif when.overdue_by is not None:
        late = math.ceil(when.overdue_by / timedelta(minutes=1))
        lines.append(
            f"**OVERDUE** by {late} min: due {_clock(when.due)} (every {_minutes(when.every)} for {incident.severity})"
        )
    else:
        left = int((when.due - now).total_seconds() // 60)
        lines.append(f"due {_clock(when.due)}, in {left} min (every {_minutes(when.every)} for {incident.severity})")
    lines += ["", "## Status updates", ""]
    shown = list(reversed(record.updates))[:UPDATES_SHOWN]
    lines += [f"- {_clock(u.at)} [{u.status}] {u.text}" for u in shown] or ["none yet"]
    if len(record.updates) > len(shown):
        lines.append(f"- … {len(record.updates) - len(shown)} earlier")
    lines += ["", "## Timeline", ""]
    events = record.events[-TIMELINE_SHOWN:]
    if len(record.events) > len(events):
        lines.append(f"- … {len(record.events) - len(events)} earlier events")
    lines += [f"- {_clock(e.at)} {e.who} ({e.kind}): {e.what}" for e in events] or ["nothing logged yet"]
    return "\n".join(lines) + "\n"


def _clock(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _minutes(span: timedelta | None) -> str:
    return f"{int(span.total_seconds() // 60)} min" if span else "—"
