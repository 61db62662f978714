"""Write the demo catalog as the Backstage catalog API would return it, relations included.

    .venv/bin/python examples/tools/backstage_api_export.py

Reads examples/acme-shop/catalog/**/*.yaml and writes examples/upstreams/backstage/entities.json,
a `GET /api/catalog/entities/by-query` body: entities with `metadata.uid`/`etag`, refs in the
API's lowercase `kind:namespace/name` form, and the relations the catalog computes (ownedBy,
partOf, dependsOn/dependencyOf, providesApi/apiProvidedBy, consumesApi/apiConsumedBy,
memberOf/hasMember, childOf/parentOf). Deterministic.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

import yaml

EXAMPLES = Path(__file__).resolve().parents[1]
SOURCE = EXAMPLES / "acme-shop" / "catalog"
TARGET = EXAMPLES / "upstreams" / "backstage" / "entities.json"
INVERSE = {
    "ownedBy": "ownerOf",
    "partOf": "hasPart",
    "dependsOn": "dependencyOf",
    "providesApi": "apiProvidedBy",
    "consumesApi": "apiConsumedBy",
    "memberOf": "hasMember",
    "childOf": "parentOf",
}


def ref(value: str, default_kind: str, namespace: str = "default") -> str:
    kind, _, rest = value.partition(":") if ":" in value else (default_kind, "", value)
    space, _, name = rest.partition("/") if "/" in rest else (namespace, "", rest)
    return f"{kind.lower()}:{space.lower()}/{name.lower()}"


def main() -> None:
    entities = []
    for path in sorted(SOURCE.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document and document.get("kind") != "Location":
                entities.append(document)
    relations: dict[str, list[tuple[str, str]]] = defaultdict(list)

    def relate(source: str, kind: str, target: str) -> None:
        relations[source].append((kind, target))
        relations[target].append((INVERSE[kind], source))

    for entity in entities:
        kind, name = entity["kind"].lower(), entity["metadata"]["name"]
        me = f"{kind}:default/{name.lower()}"
        spec = entity.get("spec") or {}
        if spec.get("owner"):
            relate(me, "ownedBy", ref(spec["owner"], "group"))
        if spec.get("system"):
            relate(me, "partOf", ref(spec["system"], "system"))
        if kind == "system" and spec.get("domain"):
            relate(me, "partOf", ref(spec["domain"], "domain"))
        for target in spec.get("dependsOn") or []:
            relate(me, "dependsOn", ref(target, "component"))
        for api in spec.get("providesApis") or []:
            relate(me, "providesApi", ref(api, "api"))
        for api in spec.get("consumesApis") or []:
            relate(me, "consumesApi", ref(api, "api"))
        for group in spec.get("memberOf") or []:
            relate(me, "memberOf", ref(group, "group"))
        if kind == "group" and spec.get("parent"):
            relate(me, "childOf", ref(spec["parent"], "group"))

    items = []
    for entity in entities:
        kind, name = entity["kind"].lower(), entity["metadata"]["name"]
        me = f"{kind}:default/{name.lower()}"
        digest = hashlib.sha256(me.encode()).hexdigest()
        metadata = {
            **entity["metadata"],
            "namespace": "default",
            "uid": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}",
            "etag": digest[32:52],
        }
        metadata.setdefault("annotations", {})["backstage.io/managed-by-location"] = (
            f"url:https://github.com/acme/catalog/blob/main/{kind}s/{name}.yaml"
        )
        items.append(
            {
                "apiVersion": entity["apiVersion"],
                "kind": entity["kind"],
                "metadata": metadata,
                "spec": entity.get("spec") or {},
                "relations": [{"type": t, "targetRef": target} for t, target in sorted(set(relations[me]))],
            }
        )
    items.sort(key=lambda item: (item["kind"], item["metadata"]["name"]))
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    body = {"items": items, "totalItems": len(items), "pageInfo": {}}
    TARGET.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(items)} entities to {TARGET.relative_to(EXAMPLES.parent)}", file=sys.stderr)


if __name__ == "__main__":
    main()
