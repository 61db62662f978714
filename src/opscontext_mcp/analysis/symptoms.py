"""What an alert says about itself: an internal or an external symptom, and how severe it is."""

from __future__ import annotations

import re
from collections.abc import Mapping

_INTERNAL_WORDS = frozenset(
    "cpu memory mem oom oomkilled heap gc disk filesystem inode inodes volume saturation saturated throttling"
    " throttled restart restarts restarting crashloop crashlooping crash evicted socket sockets pool threadpool"
    " threads descriptors fd down unhealthy lag replication connections".split()
)
_SEVERITY_RANKS = {
    **dict.fromkeys(("critical", "page", "p1", "sev1", "emergency"), 4),
    **dict.fromkeys(("error", "high", "major", "p2", "sev2"), 3),
    **dict.fromkeys(("warning", "medium", "minor", "p3", "sev3"), 2),
    **dict.fromkeys(("info", "low"), 1),
    "none": 0,
}
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def is_internal_symptom(name: str, labels: Mapping[str, str] | None = None) -> bool:
    """Whether an alert reports the service's own resources (CPU, memory, disk, restarts, pools) rather
    than what its users see (latency, errors, availability). A `symptom: internal|external` label decides
    when present; otherwise the words of the alert name do."""
    declared = (labels or {}).get("symptom", "").strip().lower()
    if declared in ("internal", "external"):
        return declared == "internal"
    words = {word.lower() for word in _WORD.findall(name.replace("_", " ").replace("-", " "))}
    return bool(words & _INTERNAL_WORDS)


def severity_rank(severity: str | None) -> int:
    """Higher is worse; an unknown severity ranks as a warning."""
    return _SEVERITY_RANKS.get((severity or "").strip().lower(), 2)
