"""slo_status and impact_summary."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Annotated

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult

from opscontext_mcp.analysis.alerts import AlertGroups, alert_groups
from opscontext_mcp.analysis.common import freshness
from opscontext_mcp.analysis.impact import impact_view
from opscontext_mcp.analysis.journeys import EntrySpec, attribute, entries, measure
from opscontext_mcp.analysis.slo import (
    SEVERITY_ORDER,
    TRACE_LOOKBACK,
    Unmeasurable,
    assess,
    slo_view,
    trace_measurement,
    trace_spec,
    windows_for,
)
from opscontext_mcp.measure import SLOMeasurement, SpanReads, measure_slo, spans
from opscontext_mcp.model import SLO
from opscontext_mcp.protocols import Capability
from opscontext_mcp.replies import Freshness
from opscontext_mcp.replies.context import SLOSummary
from opscontext_mcp.replies.slo import ImpactReply, ImpactView, SLOStatusReply, SLOView
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.schemas import published
from opscontext_mcp.snapshot import ResolvedJourney, ResolvedSLO, ServiceEntry, Snapshot
from opscontext_mcp.tools import READ_ONLY, reply
from opscontext_mcp.tools.arguments import arg, current_snapshot, service_argument
from opscontext_mcp.traces import Span

CONSULTED = (Capability.SLO, Capability.CATALOG)


def register(server: MCPServer, runtime: Runtime) -> None:
    @server.tool(annotations=READ_ONLY)
    async def slo_status(
        service: Annotated[str | None, arg(description="Its SLOs and its journeys'", max_length=300)] = None,
        journey: Annotated[str | None, arg(max_length=200)] = None,
        limit: Annotated[int, arg(ge=1, le=50)] = 10,
    ) -> Annotated[CallToolResult, published(SLOStatusReply)]:
        """SLOs now: SLI, burn rate on each multiwindow alert tier (which fires), error budget left and time to exhaustion. Burning first."""
        snapshot = await current_snapshot(runtime)
        now = runtime.clock.now()
        entry = service_argument(snapshot, service) if service else None
        chosen = slos_of(snapshot, entry, _journey_argument(snapshot, journey) if journey else None)
        status = freshness(snapshot, now, *CONSULTED)
        views = await slo_views(runtime, snapshot, chosen, now, status)
        return reply(
            SLOStatusReply(
                service=entry.id if entry else None,
                journey=journey,
                slos=views[:limit],
                total=len(views),
                truncated=len(views) > limit,
                burning=sum(v.status == "burning" for v in views),
                freshness=status,
            )
        )

    @server.tool(annotations=READ_ONLY)
    async def impact_summary(
        journey: Annotated[str | None, arg(description="Omit for every journey", max_length=200)] = None,
        window_minutes: Annotated[int, arg(ge=5, le=360)] = 30,
        limit: Annotated[int, arg(ge=1, le=20)] = 5,
    ) -> Annotated[CallToolResult, published(ImpactReply)]:
        """Per user journey, from its traces: share of users failing it now, the primary contributor service, and the numbers behind the sentence."""
        snapshot = await current_snapshot(runtime)
        now = runtime.clock.now()
        chosen = [_journey_argument(snapshot, journey)] if journey else list(snapshot.journeys)
        if not chosen:
            raise ToolError("no journeys are defined: add slos/journeys.yaml (name, entry, slo) to a files source")
        since = now - timedelta(minutes=window_minutes)
        lookback = max([now - since, *(windows_for(j.slo.slo)[-1] for j in chosen if j.slo)])
        prefer = chosen[0].journey.provenance.source  # the source slo_status reads the journey's SLO from
        asked = await spans(runtime, now - min(lookback, TRACE_LOOKBACK), now, prefer=prefer)
        status = freshness(snapshot, now, *CONSULTED)
        if asked.value is None:
            status.warnings.append(f"traces unavailable, so no journey is measured: {asked.error}")
        elif asked.problems:
            status.warnings.append(f"{asked.source}: {asked.problems} trace problems (see opscontext://sources)")
        groups = alert_groups(snapshot, now)
        views = [_impact(snapshot, item, asked.value, asked.error, since, now, groups) for item in chosen]
        views.sort(key=lambda v: (-v.affected_share, v.journey))
        return reply(
            ImpactReply(journeys=views[:limit], total=len(views), truncated=len(views) > limit, freshness=status)
        )


def _journey_argument(snapshot: Snapshot, name: str) -> ResolvedJourney:
    wanted = name.strip().lower()
    for journey in snapshot.journeys:
        if journey.journey.name.lower() == wanted:
            return journey
    known = ", ".join(j.journey.name for j in snapshot.journeys) or "none are defined"
    raise ToolError(f"Unknown journey {name!r}. Journeys: {known}.")


async def slo_views(
    runtime: Runtime, snapshot: Snapshot, chosen: list[ResolvedSLO], now: datetime, status: Freshness
) -> list[SLOView]:
    """Each SLO measured now (concurrently), most urgent first; a source that failed is a warning in `status`."""
    measured = await _measure_all(runtime, chosen, now)
    views = [_view(snapshot, item, measured[item.slo.name, item.slo.provenance.source]) for item in chosen]
    views.sort(key=_urgency)
    _warn(status, measured.values())
    return views


def slos_of(snapshot: Snapshot, entry: ServiceEntry | None, journey: ResolvedJourney | None) -> list[ResolvedSLO]:
    if journey is not None:
        return [journey.slo] if journey.slo else []
    if entry is None:
        return list(snapshot.slos)
    through = {j.slo.slo.name for j in snapshot.journeys if j.slo and j.entry_id == entry.id}
    return [s for s in snapshot.slos if s.service_id == entry.id or s.slo.name in through]


async def _measure_all(
    runtime: Runtime, chosen: list[ResolvedSLO], now: datetime
) -> dict[tuple[str, str], SLOMeasurement]:
    found: dict[tuple[str, str], SLOMeasurement] = {}
    reads = SpanReads(runtime)

    async def one(item: ResolvedSLO) -> None:
        found[item.slo.name, item.slo.provenance.source] = await measure_slo(runtime, item.slo, now, reads)

    async with anyio.create_task_group() as group:
        for item in chosen:
            group.start_soon(one, item)
    return found


def _view(snapshot: Snapshot, item: ResolvedSLO, measured: SLOMeasurement) -> SLOView:
    journeys = [j.journey.name for j in snapshot.journeys if j.slo is item]
    assessment = assess(item.slo, measured.measurement) if measured.measurement is not None else None
    return slo_view(
        item, journeys, assessment, measured.measurement, measured.source, measured.source_type, measured.error
    )


def _urgency(view: SLOView) -> tuple[int, int, float, str]:
    state = {"burning": 0, "ok": 1, "no_traffic": 2, "unavailable": 3}[view.status]
    tier = next((t for t in view.tiers if t.tier == view.alert), None)
    severity = SEVERITY_ORDER[tier.severity] if tier else 2
    fastest = max((t.long.burn or 0.0 for t in view.tiers), default=0.0)
    return state, severity, -fastest, view.name


def _warn(status: Freshness, measured: Iterable[SLOMeasurement]) -> None:
    for item in measured:
        if item.error and item.source:
            status.warnings.append(f"{item.source} ({item.source_type}): {item.error}")


def _impact(
    snapshot: Snapshot,
    journey: ResolvedJourney,
    span_list: list[Span] | None,
    trace_error: str | None,
    since: datetime,
    now: datetime,
    groups: AlertGroups,
) -> ImpactView:
    slo = journey.slo.slo if journey.slo else None
    try:
        if slo is None:
            raise Unmeasurable(f"it names SLO {journey.journey.slo!r}, which no source defines")
        spec = trace_spec(slo.indicator)
        if span_list is None:
            raise Unmeasurable(f"traces unavailable: {trace_error}")
    except Unmeasurable as exc:
        # One journey that cannot be measured leaves the others' answers whole.
        unmeasured = measure([], EntrySpec(service=""), since, now)
        view = impact_view(snapshot, journey, unmeasured, [], groups, None)
        return view.model_copy(
            update={"sentence": f"{journey.journey.name}: not measured from traces", "note": str(exc)}
        )
    requests = entries(span_list, spec, since, now)
    counts = measure(requests, spec, since, now)
    contributions = attribute(span_list, requests, spec) if counts.bad else []
    return impact_view(snapshot, journey, counts, contributions, groups, _slo_alert(slo, span_list, spec, now))


def _slo_alert(slo: SLO, span_list: list[Span], spec: EntrySpec, now: datetime) -> str | None:
    """The SLO tier the same spans make fire, so the sentence and slo_status agree."""
    assessment = assess(slo, trace_measurement(slo, span_list, spec, now))
    return assessment.firing.tier.name if assessment.firing else None


def slo_summary(view: SLOView) -> SLOSummary:
    fastest = next((t for t in view.tiers if t.long.burn is not None), None)
    return SLOSummary(
        name=view.name,
        status=view.status,
        alert=view.alert,
        sli=view.sli,
        target=view.target,
        burn=fastest.long.burn if fastest else None,
        journeys=view.journeys,
        note=view.note if view.status == "unavailable" else None,
    )
