"""Resources: service://, runbook://, incident://, docs://gaps, graph://dependencies[/{name}], opscontext://sources."""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import Completion, ResourceTemplateReference

from opscontext_mcp.analysis.common import UnknownService, freshness, require_service
from opscontext_mcp.analysis.context import service_context
from opscontext_mcp.analysis.incident import status_doc
from opscontext_mcp.graphs import dependency_map, mermaid
from opscontext_mcp.model import Runbook
from opscontext_mcp.protocols import Capability
from opscontext_mcp.runtime import Runtime
from opscontext_mcp.snapshot import Snapshot, runbook_key
from opscontext_mcp.store import UnknownIncident
from opscontext_mcp.tools.docs import gaps_reply

LISTED_PROBLEMS = 500
COMPLETIONS = 50


def register_resources(server: MCPServer, runtime: Runtime) -> None:
    @server.resource(
        "service://{+name}", mime_type="application/json", description="service_context of one service, as JSON"
    )
    async def service_resource(name: str) -> str:
        snapshot = await current(runtime)
        try:
            entry = require_service(snapshot, name)
        except UnknownService as exc:
            raise ResourceNotFoundError(str(exc)) from None
        return service_context(snapshot, entry, runtime.clock.now()).model_dump_json(exclude_none=True)

    @server.resource(
        "runbook://{+id}",
        mime_type="text/markdown",
        description="One runbook as Markdown; ids come from matching_runbook",
    )
    async def runbook_resource(id: str) -> str:
        snapshot = await current(runtime)
        item = snapshot.runbooks_by_key.get(id)
        if item is None:
            raise ResourceNotFoundError(f"no runbook with id {id!r}; matching_runbook lists ids")
        return render_runbook(item.runbook, item.service_ids)

    @server.resource(
        "incident://{id}",
        mime_type="text/markdown",
        description="An incident's single status doc: summary, roles, status, next update due, updates, timeline",
    )
    async def incident_resource(id: str) -> str:
        try:
            store = runtime.store
            record = await store.run(store.record, id)
        except UnknownIncident as exc:
            raise ResourceNotFoundError(str(exc)) from None
        return status_doc(record, runtime.config.incidents.update_cadence_minutes, runtime.clock.now())

    @server.resource(
        "docs://gaps",
        mime_type="application/json",
        description="documentation_gaps for the whole estate, as JSON",
    )
    async def gaps_resource() -> str:
        snapshot = await current(runtime)
        return gaps_reply(runtime, snapshot, runtime.clock.now(), None, "info", 10_000).model_dump_json(
            exclude_none=True
        )

    @server.resource(
        "graph://dependencies",
        mime_type="text/vnd.mermaid",
        description="The dependency map as Mermaid: declared/observed edges styled apart, alerting services marked",
    )
    async def graph_resource() -> str:
        snapshot = await current(runtime)
        return mermaid(snapshot, dependency_map(snapshot, runtime.clock.now()))

    @server.resource(
        "graph://dependencies/{+name}",
        mime_type="text/vnd.mermaid",
        description="One service's neighbourhood (one hop both ways) as Mermaid",
    )
    async def service_graph_resource(name: str) -> str:
        snapshot = await current(runtime)
        try:
            entry = require_service(snapshot, name)
        except UnknownService as exc:
            raise ResourceNotFoundError(str(exc)) from None
        return mermaid(snapshot, dependency_map(snapshot, runtime.clock.now(), entry.id))

    @server.resource(
        "opscontext://sources",
        mime_type="application/json",
        description="Health and freshness of every source, records it could not use, names nothing resolves",
    )
    async def sources_resource() -> str:
        snapshot = await current(runtime)
        return json.dumps(sources_report(snapshot, runtime), default=str)

    @server.completion()
    async def complete(ref: Any, argument: Any, context: Any) -> Completion | None:
        if not isinstance(ref, ResourceTemplateReference):
            return None
        snapshot = await current(runtime)
        prefix = argument.value.lower()
        if ref.uri == "service://{+name}":
            names = sorted(sid for sid in snapshot.services if sid.startswith(prefix))
        elif ref.uri == "runbook://{+id}":
            names = sorted(key for key in snapshot.runbooks_by_key if key.lower().startswith(prefix))
        else:
            return None
        return Completion(values=names[:COMPLETIONS], total=len(names), has_more=len(names) > COMPLETIONS)


async def current(runtime: Runtime) -> Snapshot:
    try:
        return await runtime.snapshot()
    except Exception as exc:  # no snapshot at all: say why instead of a bare "Error reading resource"
        raise ResourceError(
            f"no data could be assembled from the configured sources: {type(exc).__name__}: {exc}"
        ) from exc


def sources_report(snapshot: Snapshot, runtime: Runtime) -> dict[str, Any]:
    now = runtime.clock.now()
    status = freshness(snapshot, now, *Capability)
    problems = [
        {"source": p.source, "capability": p.capability.value, **p.problem.model_dump()} for p in snapshot.problems
    ]
    unresolved = [
        {"source": u.source, "what": u.what, "name": u.name, "reason": u.reason, "ref": u.ref}
        for u in snapshot.unresolved
    ]
    counts = {
        "services": len(snapshot.services),
        "edges": snapshot.graph.number_of_edges(),
        "teams": len(snapshot.teams),
        "people": len(snapshot.people),
        "runbooks": len(snapshot.runbooks),
        "changes": len(snapshot.changes),
        "alerts": len(snapshot.alerts),
    }
    return {
        "connectors": [{"name": c.name, "capabilities": sorted(c.capabilities)} for c in runtime.connectors],
        "freshness": status.model_dump(mode="json"),
        "records": counts,
        "problems": problems[:LISTED_PROBLEMS],
        "problems_total": len(problems),
        "unresolved": unresolved[:LISTED_PROBLEMS],
        "unresolved_total": len(unresolved),
    }


def render_runbook(runbook: Runbook, service_ids: tuple[str, ...]) -> str:
    lines = [f"# {runbook.title}", ""]
    facts = [f"id: {runbook_key(runbook)}", f"services: {', '.join(service_ids) or 'none resolved'}"]
    if runbook.failure_modes:
        facts.append(f"failure modes: {'; '.join(runbook.failure_modes)}")
    if runbook.alerts:
        facts.append(f"alerts: {', '.join(runbook.alerts)}")
    facts.append(f"last exercised: {runbook.last_exercised or 'never'}")
    if runbook.owner:
        facts.append(f"owner: {runbook.owner}")
    facts.append(f"source: {runbook.provenance.source} {runbook.provenance.ref or ''}".rstrip())
    lines += [f"- {fact}" for fact in facts]
    if runbook.summary:
        lines += ["", runbook.summary]
    for section in runbook.sections:
        lines += ["", f"## {section.heading}", "", section.text]
    return "\n".join(lines) + "\n"
