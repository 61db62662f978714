"""Triage the demo incident the way an assistant would, over stdio, and check the answers.

    .venv/bin/python examples/quickstart.py

Starts `opscontext-mcp serve` (the bundled demo) as a subprocess, asks the questions a
responder asks first, prints what it learned, and exits non-zero if an answer is wrong.
"""

from __future__ import annotations

import sys

import anyio
from mcp import Client, StdioServerParameters


async def main() -> None:
    server = StdioServerParameters(command=sys.executable, args=["-m", "opscontext_mcp", "serve"])
    async with Client(server) as client:
        context = (await client.call_tool("service_context", {"service": "checkoutservice"})).structured_content
        owner = context["ownership"]["owner"]
        on_call = context["ownership"]["on_call_now"][0]["person"]
        print(
            f"{context['service']['id']} (tier {context['service']['tier']}) is owned by {owner['name']}; "
            f"on call now: {on_call['display_name']} ({on_call['phone']})"
        )
        assert owner["name"] == "team-checkout"

        firing = [a["name"] + (" (silenced)" if a["state"] == "suppressed" else "") for a in context["alerts"]["items"]]
        print(f"firing here and in its dependencies: {', '.join(firing)}")
        assert "PaymentLatencyHigh" in firing

        changes = (await client.call_tool("what_changed", {"service": "checkout", "since": "1h"})).structured_content
        suspect = next(c for c in changes["changes"] if c["kind"] == "deploy" and c["service"] == "payment")
        print(
            f"suspect change: {suspect['id']} {suspect['summary']!r} {suspect['minutes_before_now']} min ago, "
            f"{suspect['hop']} hop away via {' -> '.join(suspect['path'])}"
        )
        assert suspect["id"] == "chg-payment-2140"

        runbook = (await client.call_tool("matching_runbook", {"alert": "PaymentLatencyHigh"})).structured_content
        best = runbook["matches"][0]
        print(f"runbook: {best['title']} — section '{best['section']['heading']}' ({best['uri']})")
        assert best["uri"] == "runbook://acme-shop/payments/payment-latency-errors"

        escalation = (await client.call_tool("who_owns", {"service": "payment"})).structured_content["escalation"]
        path = [
            f"+{level['after_minutes']} min: {', '.join(t['display'] for t in level['targets'])}"
            for level in escalation["levels"]
        ]
        print("escalation for payment: " + "; ".join(path))
        assert escalation["levels"][-1]["targets"][0]["kind"] == "vendor"
    print("quickstart: all answers check out")


if __name__ == "__main__":
    anyio.run(main)
