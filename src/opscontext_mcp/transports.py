"""SSE and streamable HTTP: loopback by default, a bearer token required anywhere else."""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import Literal

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_ENV_VAR = "OPSCONTEXT_TOKEN"
HEALTH_PATH = "/healthz"


class UnsafeBinding(Exception):
    """Refused at start-up: a non-loopback address without a token."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BearerTokenGate:
    """Every HTTP request but the health probe needs `Authorization: Bearer <token>`; else 401."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == HEALTH_PATH:
            await _respond(send, 200, {"status": "ok"})
            return
        if self.token is not None:
            header = next((value for key, value in scope["headers"] if key == b"authorization"), b"")
            scheme, _, presented = header.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(presented.strip(), self.token):
                await _respond(
                    send, 401, {"error": "unauthorized", "detail": "send Authorization: Bearer <token>"}, bearer=True
                )
                return
        await self.app(scope, receive, send)


async def _respond(send: Send, status: int, body: dict[str, str], *, bearer: bool = False) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if bearer:
        headers.append((b"www-authenticate", b'Bearer realm="opscontext-mcp"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def http_app(
    server: MCPServer, transport: Literal["sse", "http"], host: str, token: str | None, stateless: bool = False
) -> ASGIApp:
    if not is_loopback(host) and not token:
        raise UnsafeBinding(
            f"refusing to listen on {host} without a token: set {TOKEN_ENV_VAR} (clients then send "
            "Authorization: Bearer <token>), or bind 127.0.0.1"
        )
    security = _rebinding_protection(host) if is_loopback(host) else None
    if transport == "sse":
        app = server.sse_app(host=host, transport_security=security)
    else:
        app = server.streamable_http_app(
            host=host, stateless_http=stateless, json_response=stateless, transport_security=security
        )
    return BearerTokenGate(app, token)


def _rebinding_protection(host: str) -> TransportSecuritySettings:
    """Host/Origin checks for every loopback form; the SDK turns them on only for the three usual ones."""
    bound = host if host.startswith("[") or ":" not in host else f"[{host}]"
    hosts = sorted({f"{bound}:*", "127.0.0.1:*", "localhost:*", "[::1]:*"})
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"http://{h}" for h in hosts],
    )


async def serve_http(app: ASGIApp, host: str, port: int) -> None:
    # log_config=None: uvicorn's own config would send access logs to stdout.
    config = uvicorn.Config(app, host=host.strip("[]"), port=port, log_config=None, lifespan="on")
    await uvicorn.Server(config).serve()
