"""A stand-in for Backstage, ServiceNow and PagerDuty, serving Acme Shop's recorded answers.

    .venv/bin/python examples/upstreams/serve.py --port 9400

Each system lives under its own prefix (http://127.0.0.1:9400/backstage, /servicenow,
/pagerduty) and answers from the JSON files next to this script, shaped like the real APIs;
Backstage's `filter` and `fields` and PagerDuty's `statuses[]` are honoured, other parameters
ignored. Requests without an Authorization header get 401. The test suite drives this same app
(tests/upstreams.py). To watch the server degrade and recover:

    curl -X POST 'http://127.0.0.1:9400/_fail/pagerduty?status=503'   # or status=timeout
    curl -X POST  http://127.0.0.1:9400/_recover/pagerduty
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import sys
from pathlib import Path
from typing import Any

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HERE = Path(__file__).resolve().parent
SYSTEMS = ("backstage", "servicenow", "pagerduty")
failing: dict[str, str] = {}


def _file_for(system: str, path: str) -> Path | None:
    """The recorded answer for a request path, never a file outside this system's folder."""
    folder = (HERE / system).resolve()
    if system == "backstage" and path == "api/catalog/entities/by-query":
        candidate = folder / "entities.json"
    elif system == "servicenow" and path.startswith("api/now/table/"):
        candidate = folder / f"{path.removeprefix('api/now/table/')}.json"
    elif system == "pagerduty":
        candidate = folder / f"{path}.json"
    else:
        return None
    candidate = candidate.resolve()
    return candidate if candidate.is_relative_to(folder) and candidate.is_file() else None


async def upstream(request: Request) -> Response:
    system, path = request.path_params["system"], request.path_params["path"].strip("/")
    if system not in SYSTEMS:
        return JSONResponse({"error": {"message": f"no such system {system}"}}, status_code=404)
    mode = failing.get(system)
    if mode == "timeout":
        await anyio.sleep_forever()
    if mode:
        return JSONResponse({"error": {"message": f"{system} is down (simulated)"}}, status_code=int(mode))
    if system == "servicenow" and path == "oauth_token.do":
        return JSONResponse({"access_token": "demo-access", "token_type": "Bearer", "expires_in": 1800})
    if "authorization" not in request.headers:
        return JSONResponse({"error": {"message": "authentication required"}}, status_code=401)
    if system == "pagerduty" and path in ("abilities", "users/me"):
        return JSONResponse({"abilities": ["teams", "read_only_users"]})
    file = _file_for(system, path)
    if file is None:
        return JSONResponse({"error": {"message": "No Record found", "detail": path}}, status_code=404)
    body: Any = json.loads(file.read_text(encoding="utf-8"))
    query = request.query_params
    if system == "backstage":
        body = entities_page(
            body["items"],
            filters=query.getlist("filter"),
            cursor=query.get("cursor"),
            limit=int(query.get("limit") or 20),
            fields=query.get("fields"),
        )
    elif system == "pagerduty" and path == "incidents" and query.getlist("statuses[]"):
        body = {**body, "incidents": [i for i in body["incidents"] if i.get("status") in query.getlist("statuses[]")]}
    return JSONResponse(body)


def entities_page(
    entities: list[dict[str, Any]], *, filters: list[str], cursor: str | None, limit: int, fields: str | None
) -> dict[str, Any]:
    """One page of `/entities/by-query`; a cursor carries the filters and the offset, as Backstage's does."""
    filters, offset = json.loads(base64.urlsafe_b64decode(cursor)) if cursor else (filters, 0)
    items = [e for e in entities if _matches(e, filters)]
    page = items[offset : offset + limit]
    if fields:
        page = [_project(e, fields.split(",")) for e in page]
    info = {}
    if offset + limit < len(items):
        info["nextCursor"] = base64.urlsafe_b64encode(json.dumps([filters, offset + limit]).encode()).decode()
    return {"items": page, "totalItems": len(items), "pageInfo": info}


def _value(entity: dict[str, Any], dotted: str) -> Any:
    found: Any = entity
    for key in dotted.split("."):
        found = found.get(key) if isinstance(found, dict) else None
    return found


def _matches(entity: dict[str, Any], filters: list[str]) -> bool:
    """Backstage's semantics: separate filters are ORed, `a=b,c=d` within one are ANDed, `key` alone means it exists."""
    if not filters:
        return True
    for one in filters:
        conditions = [c.partition("=") for c in one.split(",")]
        if all(
            (_value(entity, key.strip()) is not None)
            if not eq
            else str(_value(entity, key.strip())).lower() == wanted.strip().lower()
            for key, eq, wanted in conditions
        ):
            return True
    return False


def _project(entity: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """Only the named fields (dotted paths), as `fields=kind,metadata.name` returns them."""
    kept: dict[str, Any] = {}
    for dotted in fields:
        value = _value(entity, dotted.strip())
        if value is None:
            continue
        *parents, last = dotted.strip().split(".")
        target = kept
        for key in parents:
            target = target.setdefault(key, {})
        target[last] = value
    return kept


async def fail(request: Request) -> Response:
    system = request.path_params["system"]
    failing[system] = request.query_params.get("status", "503")
    return JSONResponse({"failing": failing})


async def recover(request: Request) -> Response:
    failing.pop(request.path_params["system"], None)
    return JSONResponse({"failing": failing})


app = Starlette(
    routes=[
        Route("/_fail/{system}", fail, methods=["POST"]),
        Route("/_recover/{system}", recover, methods=["POST"]),
        Route("/{system}/{path:path}", upstream, methods=["GET", "POST"]),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9400)
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None)


if __name__ == "__main__":
    main()
