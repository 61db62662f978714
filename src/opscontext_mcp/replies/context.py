"""What service_context returns: one section per question a responder asks first."""

from __future__ import annotations

from typing import Literal

from opscontext_mcp.model import Provenance
from opscontext_mcp.replies import (
    AlertGroupView,
    AlertView,
    AliasView,
    ChangeView,
    EscalationView,
    Freshness,
    IncidentView,
    NeighbourView,
    OnCallView,
    OwnerView,
    RunbookMatch,
    SectionNote,
    ServiceRef,
)
from opscontext_mcp.schemas import Reply


class ServiceSummary(ServiceRef):
    description: str | None = None
    type: str | None = None
    lifecycle: str | None = None
    system: str | None = None
    domain: str | None = None
    vendor: str | None = None
    aliases: list[AliasView]
    provenance: list[Provenance]


class OwnershipSection(SectionNote):
    owner: OwnerView | None = None
    conflicts: list[OwnerView] = []
    on_call_now: list[OnCallView] = []
    on_call_next: list[OnCallView] = []
    escalation: EscalationView | None = None


class NeighbourSection(SectionNote):
    items: list[NeighbourView] = []
    total: int = 0
    truncated: bool = False


class ChangeSection(SectionNote):
    window_hours: float
    items: list[ChangeView] = []
    total: int = 0
    truncated: bool = False


class AlertSection(SectionNote):
    groups: list[AlertGroupView] = []
    """The root-cause groups of these alerts, with their primary contributors."""
    items: list[AlertView] = []
    total: int = 0
    truncated: bool = False


class IncidentSection(SectionNote):
    items: list[IncidentView] = []
    total: int = 0
    truncated: bool = False


class RunbookPick(SectionNote):
    best: RunbookMatch | None = None
    candidates: int = 0


class SLOSummary(Reply):
    name: str
    status: Literal["burning", "ok", "no_traffic", "unavailable"]
    alert: str | None = None
    """The most severe burn-rate tier firing."""
    sli: float | None = None
    target: float
    burn: float | None = None
    """Over the fastest tier's long window."""
    journeys: list[str] = []
    note: str | None = None


class SLOSection(SectionNote):
    items: list[SLOSummary] = []
    total: int = 0


class ServiceContextReply(Reply):
    service: ServiceSummary
    ownership: OwnershipSection
    dependencies: NeighbourSection
    dependents: NeighbourSection
    changes: ChangeSection
    alerts: AlertSection
    runbook: RunbookPick
    slo: SLOSection
    incidents: IncidentSection
    freshness: Freshness
