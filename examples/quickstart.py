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

        group = context["alerts"]["groups"][0]
        primary = group["primary_contributor"]
        print(
            f"alert group {group['group']}: {group['alerts']} alerts on {', '.join(group['services'])}; "
            f"primary contributor {primary['service']} ({'; '.join(primary['evidence'][2:5])})"
        )
        assert primary["service"] == "payment"

        impact = (await client.call_tool("impact_summary", {"journey": "checkout"})).structured_content
        checkout = impact["journeys"][0]
        print(f"impact: {checkout['sentence']} ({checkout['affected_users']} of {checkout['users']} users, 30 min)")
        assert checkout["primary_contributor"]["service"] == "payment" and checkout["alert_group"]["agrees"]

        slos = (await client.call_tool("slo_status", {"journey": "checkout"})).structured_content["slos"][0]
        fast = slos["tiers"][0]
        print(
            f"SLO {slos['name']}: {slos['status']} on {slos['alert']} "
            f"(burn {fast['long']['burn']} over {fast['long']['window']}, {fast['short']['burn']} over {fast['short']['window']})"
        )
        assert slos["alert"] == "page-fast"

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
