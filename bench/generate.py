"""A generated environment for the benchmark: N services, ~5N edges, in the files connector's formats.

Layered like a real estate: edge services call mid-tier services, which call shared
platform services and data stores; popularity is skewed (a few stores have thousands of
transitive dependents). 80% of edges are declared in the catalog, 20% of those also show
in traces, and a further slice is observed only. Deterministic for a given seed.
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)
FAILURE_MODES = [
    "high latency",
    "elevated error rate",
    "connection pool exhaustion",
    "memory leak",
    "disk full",
    "certificate expiry",
    "dependency timeout",
    "cache stampede",
    "replication lag",
    "queue backlog",
    "bad deploy",
    "config drift",
    "thread starvation",
    "rate limited",
    "dns failures",
]
OPS_WORDS = (
    "timeout retry pool latency saturation leak restart rollback failover throttle backlog shard replica index "
    "kubectl logs deploy pod node cpu memory disk network dns tls certificate expiry error rate budget burn "
    "alert dashboard grafana prometheus query histogram quantile p99 p50 upstream downstream gateway proxy "
    "ingress egress cache redis postgres kafka consumer producer lag partition leader election quorum "
    "connection socket thread heap gc pause oom killed evicted scale replicas autoscaler hpa limit request "
    "config flag feature canary bluegreen release version migration schema lock deadlock vacuum wal "
    "snapshot backup restore page escalate vendor support bridge incident commander status update"
).split()
SYNTHETIC_WORDS = 5000
JOURNEYS = 200
"""Journeys, each entering by a traced service with an SLO on its spans."""


def generate(root: Path, services: int = 10_000, edges_per_service: float = 5.0, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    teams = [f"team-{i:03d}" for i in range(max(services // 25, 5))]
    layers = {"edge": int(services * 0.05), "mid": int(services * 0.65), "platform": int(services * 0.12)}
    layers["store"] = services - sum(layers.values())
    names: dict[str, list[str]] = {layer: [f"{layer}-{i:05d}" for i in range(count)] for layer, count in layers.items()}
    order = ["edge", "mid", "platform", "store"]
    weights = {layer: [1.0 / (i + 1) ** 0.8 for i in range(len(names[layer]))] for layer in order}

    edges: set[tuple[str, str]] = set()
    target = int(services * edges_per_service)
    callers = names["edge"] + names["mid"] + names["platform"]
    while len(edges) < target:
        caller = rng.choice(callers)
        layer = caller.split("-")[0]
        below = order[order.index(layer) + 1 :]
        if layer == "mid" and rng.random() < 0.3:
            below = ["mid"]
        callee_layer = rng.choice(below)
        callee = rng.choices(names[callee_layer], weights[callee_layer])[0]
        if callee != caller and not (callee_layer == "mid" and callee < caller):
            edges.add((caller, callee))
    ordered = sorted(edges)
    rng.shuffle(ordered)
    declared = ordered[: int(len(ordered) * 0.8)]
    observed = ordered[int(len(ordered) * 0.64) :]

    owner = {name: rng.choice(teams) for layer in order for name in names[layer]}
    depends: dict[str, list[str]] = {}
    for caller, callee in declared:
        depends.setdefault(caller, []).append(callee)

    documents = []
    for team in teams:
        documents.append(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Group",
                "metadata": {"name": team},
                "spec": {"type": "team", "profile": {"email": f"{team}@example.com"}, "children": []},
            }
        )
        for person in range(5):
            documents.append(
                {
                    "apiVersion": "backstage.io/v1alpha1",
                    "kind": "User",
                    "metadata": {"name": f"{team}-p{person}"},
                    "spec": {"profile": {"displayName": f"Person {person} of {team}"}, "memberOf": [team]},
                }
            )
    for layer in order:
        for name in names[layer]:
            kind = "Resource" if layer == "store" else "Component"
            spec = {"type": "database" if kind == "Resource" else "service", "owner": owner[name]}
            if kind == "Component":
                spec["lifecycle"] = "production"
            if name in depends:
                spec["dependsOn"] = [
                    f"{'resource' if d.startswith('store') else 'component'}:{d}" for d in depends[name]
                ]
            documents.append(
                {
                    "apiVersion": "backstage.io/v1alpha1",
                    "kind": kind,
                    "metadata": {
                        "name": name,
                        "labels": {"tier": str(1 + order.index(layer) % 3)},
                        "annotations": {"pagerduty.com/service-id": f"P{abs(hash(name)) % 10**7:07d}"},
                    },
                    "spec": spec,
                }
            )
    (root / "catalog").mkdir(exist_ok=True)
    (root / "catalog" / "all.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")

    start = NOW - timedelta(days=7)
    oncall = {"schedules": [], "escalation_policies": [], "vendors": []}
    for team in teams:
        shifts = [
            {"user": f"{team}-p{(i % 5)}", "start": start + timedelta(days=i), "end": start + timedelta(days=i + 1)}
            for i in range(14)
        ]
        oncall["schedules"].append({"name": f"{team}-primary", "team": team, "shifts": shifts})
        oncall["escalation_policies"].append(
            {
                "name": team,
                "teams": [team],
                "levels": [
                    {"after_minutes": 0, "targets": [f"schedule:{team}-primary"]},
                    {"after_minutes": 15, "targets": [f"user:{team}-p0"]},
                    {"after_minutes": 30, "targets": [f"user:{teams[0]}-p0"]},
                ],
            }
        )
    (root / "oncall.yaml").write_text(yaml.safe_dump(oncall, sort_keys=False), encoding="utf-8")

    (root / "runbooks").mkdir(exist_ok=True)
    runbook_count = services // 5
    # Word frequencies follow Zipf's law, as in natural text: a few words everywhere, most rare.
    vocabulary = OPS_WORDS + [f"w{n:04d}" for n in range(SYNTHETIC_WORDS)]
    rng.shuffle(vocabulary)
    cumulative = list(itertools.accumulate(1.0 / rank for rank in range(1, len(vocabulary) + 1)))
    for i in range(runbook_count):
        covered = rng.sample(callers + names["store"], 3)
        modes = rng.sample(FAILURE_MODES, 3)
        body = "\n\n".join(
            f"## {mode.capitalize()}\n\n" + " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=80))
            for mode in modes
        )
        front = yaml.safe_dump(
            {
                "title": f"Runbook {i} for {covered[0]}",
                "services": covered,
                "failure_modes": modes,
                "alerts": [f"{covered[0].title().replace('-', '')}{m.title().replace(' ', '')}" for m in modes[:1]],
                "last_exercised": (NOW - timedelta(days=rng.randint(1, 400))).date(),
                "owner": owner[covered[0]],
            }
        )
        (root / "runbooks" / f"rb-{i:05d}.md").write_text(
            f"---\n{front}---\n# Runbook {i}\n\n{body}\n", encoding="utf-8"
        )

    all_names = callers + names["store"]
    changes = [
        {
            "id": f"chg-{i}",
            "service": rng.choice(all_names),
            "kind": rng.choice(["deploy", "config", "feature_flag", "infra"]),
            "summary": f"change {i}",
            "author": f"{rng.choice(teams)}-p1",
            "at": (NOW - timedelta(minutes=rng.randint(1, 7 * 24 * 60))).isoformat().replace("+00:00", "Z"),
        }
        for i in range(services * 2)
    ]
    (root / "changes").mkdir(exist_ok=True)
    (root / "changes" / "week.json").write_text(json.dumps(changes), encoding="utf-8")

    alerts = [
        {
            "labels": {
                "alertname": f"Alert{i % 40}",
                "service": rng.choice(all_names),
                "severity": rng.choice(["critical", "warning"]),
            },
            "annotations": {"summary": "generated"},
            "startsAt": (NOW - timedelta(minutes=rng.randint(1, 120))).isoformat(),
            "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
        }
        for i in range(services // 10)
    ]
    (root / "alerts").mkdir(exist_ok=True)
    (root / "alerts" / "am.json").write_text(json.dumps(alerts), encoding="utf-8")

    _write_traces(root, observed, rng)
    journeys = _write_slos(root, sorted({callee for _, callee in observed}), rng)
    return {
        "services": services,
        "declared": len(declared),
        "observed": len(observed),
        "edges": len(ordered),
        "runbooks": runbook_count,
        "changes": len(changes),
        "alerts": len(alerts),
        "teams": len(teams),
        "journeys": journeys,
    }


def _write_traces(root: Path, observed: list[tuple[str, str]], rng: random.Random) -> None:
    spans_by_service: dict[str, list[dict[str, object]]] = {}
    base = int((NOW - timedelta(minutes=30)).timestamp() * 1e9)
    for number, (caller, callee) in enumerate(observed):
        for request in range(2):
            trace = f"{number:016x}{request:016x}"
            start = base + rng.randint(0, 1_700_000_000_000)
            duration = int(rng.lognormvariate(3, 0.6) * 1e6)
            error = rng.random() < 0.01
            spans_by_service.setdefault(caller, []).append(
                {
                    "traceId": trace,
                    "spanId": f"{number:08x}{request:04x}0001",
                    "kind": 3,
                    "name": "call",
                    "startTimeUnixNano": str(start),
                    "endTimeUnixNano": str(start + duration),
                    "status": {"code": 2 if error else 0},
                }
            )
            spans_by_service.setdefault(callee, []).append(
                {
                    "traceId": trace,
                    "spanId": f"{number:08x}{request:04x}0002",
                    "parentSpanId": f"{number:08x}{request:04x}0001",
                    "kind": 2,
                    "name": "serve",
                    "startTimeUnixNano": str(start + 1000),
                    "endTimeUnixNano": str(start + duration - 1000),
                }
            )
    resource_spans = [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
            "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}],
        }
        for service, spans in spans_by_service.items()
    ]
    (root / "traces").mkdir(exist_ok=True)
    (root / "traces" / "spans.json").write_text(json.dumps({"resourceSpans": resource_spans}), encoding="utf-8")


def _write_slos(root: Path, entries: list[str], rng: random.Random, count: int = JOURNEYS) -> int:
    """`count` journeys, each entering by a service with SERVER spans, each with a trace SLO on them."""
    chosen = rng.sample(entries, min(count, len(entries)))
    documents = []
    for service in chosen:
        source = {"type": "traces", "spec": {"service": service, "span_name": "serve"}}
        good = {"type": "traces", "spec": {"service": service, "span_name": "serve", "max_duration_ms": 40}}
        documents.append(
            {
                "apiVersion": "openslo/v1",
                "kind": "SLO",
                "metadata": {"name": f"{service}-fast"},
                "spec": {
                    "service": service,
                    "budgetingMethod": "Occurrences",
                    "timeWindow": [{"duration": "28d", "isRolling": True}],
                    "objectives": [{"target": 0.99}],
                    "indicator": {
                        "metadata": {"name": f"{service}-requests"},
                        "spec": {"ratioMetric": {"good": {"metricSource": good}, "total": {"metricSource": source}}},
                    },
                },
            }
        )
    (root / "slos").mkdir(exist_ok=True)
    (root / "slos" / "slos.yaml").write_text(yaml.safe_dump_all(documents), encoding="utf-8")
    journeys = [
        {"name": f"journey-{i}", "entry": service, "slo": f"{service}-fast"} for i, service in enumerate(chosen)
    ]
    (root / "slos" / "journeys.yaml").write_text(yaml.safe_dump(journeys), encoding="utf-8")
    return len(journeys)
