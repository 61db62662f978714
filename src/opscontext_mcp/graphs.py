"""The dependency map as people look at it: Mermaid, Graphviz DOT, JSON, and SVG through Graphviz.

Edges say where they come from: solid when declared and observed, dashed when only declared
(documentation telemetry does not confirm), bold when only observed (a dependency no catalog
declares). Services with firing alerts are marked. A service's map is its neighbourhood:
everything within `depth` hops, both ways.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime

from opscontext_mcp.analysis.alerts import is_active, is_firing
from opscontext_mcp.analysis.topology import walk
from opscontext_mcp.snapshot import Edge, Snapshot

ALERTING_FILL, ALERTING_LINE = "#fde2e1", "#c0392b"
OBSERVED_ONLY = "#1f6feb"
SVG_TIMEOUT_SECONDS = 60


class GraphvizFailed(RuntimeError):
    """Graphviz could not draw the map; the message says why."""


class GraphvizMissing(GraphvizFailed):
    pass


@dataclass(frozen=True)
class Map:
    nodes: list[str]
    edges: list[tuple[str, str, Edge]]
    alerting: set[str]


def dependency_map(snapshot: Snapshot, now: datetime, service: str | None = None, depth: int = 1) -> Map:
    if service is None:
        nodes = sorted(snapshot.services)
    else:
        near = {service}
        near |= set(walk(snapshot, service, "dependencies", depth)) | set(walk(snapshot, service, "dependents", depth))
        nodes = sorted(near)
    kept = set(nodes)
    edges = [
        (caller, callee, data["edge"])
        for caller in nodes
        for callee, data in sorted(snapshot.graph.succ[caller].items())
        if callee in kept
    ]
    alerting = {
        item.service_id
        for item in snapshot.alerts
        if item.service_id in kept and is_firing(item) and is_active(item, now)
    }
    return Map(nodes=nodes, edges=edges, alerting={s for s in alerting if s is not None})


def mermaid(snapshot: Snapshot, graph: Map) -> str:
    ids = {name: f"n{index}" for index, name in enumerate(graph.nodes)}
    lines = [
        "flowchart LR",
        "  %% solid: declared and observed · dashed: declared only · bold: observed only · red: alerts firing",
        f"  classDef alerting fill:{ALERTING_FILL},stroke:{ALERTING_LINE},stroke-width:2px",
    ]
    for name in graph.nodes:
        label = "<br/>".join(_mermaid_text(part) for part in _label(snapshot, name))
        lines.append(f'  {ids[name]}["{label}"]')
    for caller, callee, edge in graph.edges:
        arrow = "-->" if edge.declared and edge.observed else ("-.->" if edge.declared else "==>")
        lines.append(f"  {ids[caller]} {arrow} {ids[callee]}")
    for index, (_, _, edge) in enumerate(graph.edges):
        if edge.observed and not edge.declared:
            lines.append(f"  linkStyle {index} stroke:{OBSERVED_ONLY}")
    if graph.alerting:
        lines.append(f"  class {','.join(ids[name] for name in sorted(graph.alerting))} alerting")
    return "\n".join(lines) + "\n"


def dot(snapshot: Snapshot, graph: Map) -> str:
    lines = [
        "digraph dependencies {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for name in graph.nodes:
        extra = f', fillcolor="{ALERTING_FILL}", color="{ALERTING_LINE}", penwidth=2' if name in graph.alerting else ""
        label = _dot_text("\n".join(_label(snapshot, name)))
        lines.append(f'  "{_dot_text(name)}" [label="{label}"{extra}];')
    for caller, callee, edge in graph.edges:
        if edge.declared and edge.observed:
            style = "style=solid"
        elif edge.declared:
            style = "style=dashed"
        else:
            style = f'style=bold, color="{OBSERVED_ONLY}"'
        lines.append(f'  "{_dot_text(caller)}" -> "{_dot_text(callee)}" [{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def as_json(snapshot: Snapshot, graph: Map) -> str:
    nodes = []
    for name in graph.nodes:
        entry = snapshot.services[name]
        owner = entry.owner
        nodes.append(
            {
                "id": name,
                "kind": entry.kind.value,
                "title": entry.title,
                "tier": entry.tier,
                "owner": owner.name if owner else None,
                "alerting": name in graph.alerting,
            }
        )
    edges = []
    for caller, callee, edge in graph.edges:
        traffic = edge.traffic
        stats = traffic.stats if traffic is not None else None
        edges.append(
            {
                "caller": caller,
                "callee": callee,
                "declared": bool(edge.declared),
                "observed": bool(edge.observed),
                "declared_in": sorted({d.provenance.source for d in edge.declared}),
                "observed_by": sorted({d.provenance.source for d in edge.observed}),
                "requests": stats.requests if stats else None,
                "error_ratio": round(stats.error_ratio, 4) if stats else None,
            }
        )
    return json.dumps({"nodes": nodes, "edges": edges}, indent=2) + "\n"


def svg(dot_text: str) -> bytes:
    """The DOT drawn by Graphviz's `dot` (Debian: apt-get install graphviz)."""
    binary = shutil.which("dot")
    if binary is None:
        raise GraphvizMissing("SVG needs Graphviz's dot on the PATH (Debian: apt-get install graphviz)")
    try:
        done = subprocess.run(
            [binary, "-Tsvg"], input=dot_text.encode(), capture_output=True, timeout=SVG_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise GraphvizFailed(f"dot did not finish within {SVG_TIMEOUT_SECONDS} s") from None
    if done.returncode != 0:
        raise GraphvizFailed(f"dot failed ({done.returncode}): {done.stderr.decode(errors='replace')[:500]}")
    return done.stdout


def _label(snapshot: Snapshot, name: str) -> list[str]:
    entry = snapshot.services[name]
    facts = [f"tier {entry.tier}" if entry.tier is not None else None, entry.owner.name if entry.owner else None]
    if entry.kind.value == "observed":
        facts.append("not in any catalog")
    detail = ", ".join(f for f in facts if f)
    return [name, detail] if detail else [name]


def _mermaid_text(text: str) -> str:
    """Mermaid entity codes (`#` first, as they start with it): a name cannot end the label, open markup,
    start a comment or directive (`%%`), or break the line."""
    for raw, code in (("#", "#35;"), ("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("%", "#37;")):
        text = text.replace(raw, code)
    return " ".join(text.splitlines())


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
