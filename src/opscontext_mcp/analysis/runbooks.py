"""Ranks runbooks for a service, a symptom and/or an alert, and says why each one matched.

Signals, strongest first: the runbook's front matter lists the alert; it covers the
service (the one asked about, or the alert's); then Okapi BM25 text relevance of the
query (symptom words, the alert's name and summary) against the runbook's title and
failure modes and against each `##` section — the best section is returned.
"""

from __future__ import annotations

import math
import re
import weakref
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from opscontext_mcp.replies import RunbookMatch, RunbookSectionView
from opscontext_mcp.snapshot import ResolvedRunbook, Snapshot, runbook_key

ALERT_WEIGHT = 10.0
SERVICE_WEIGHT = 5.0
FRONT_WEIGHT = 1.5
STALE_AFTER_DAYS = 90
_K1, _B = 1.2, 0.75
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    "a an and are as at be by can do for from has have if in into is it its no not of on or our so than that the "
    "their then there these this to was we were when where which while will with you your".split()
)


def tokens(text: str) -> list[str]:
    """Lower-cased words, camelCase split, stop words dropped, crude suffix stemming."""
    words = _WORD.findall(_CAMEL.sub(" ", text).lower())
    return [_stem(w) for w in words if w not in _STOPWORDS and len(w) > 1]


def _stem(word: str) -> str:
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@dataclass(frozen=True)
class _Unit:
    runbook: int
    section: int | None
    """None: the runbook's front unit (title and failure modes)."""
    terms: Counter[str]
    length: int


class _Index:
    def __init__(self, runbooks: tuple[ResolvedRunbook, ...]) -> None:
        units: list[_Unit] = []
        for position, item in enumerate(runbooks):
            runbook = item.runbook
            front = tokens(runbook.title) + [t for mode in runbook.failure_modes for t in tokens(mode)]
            units.append(_Unit(position, None, Counter(front), len(front)))
            for number, section in enumerate(runbook.sections):
                words = tokens(section.heading) * 2 + tokens(section.text)
                units.append(_Unit(position, number, Counter(words), len(words)))
        self.units = units
        self.average = sum(u.length for u in units) / len(units) if units else 1.0
        frequency: Counter[str] = Counter()
        for unit in units:
            frequency.update(unit.terms.keys())
        total = len(units)
        self.idf = {term: math.log(1 + (total - n + 0.5) / (n + 0.5)) for term, n in frequency.items()}

    def score(self, unit: _Unit, query: list[str]) -> tuple[float, list[str]]:
        score = 0.0
        matched = []
        for term in dict.fromkeys(query):
            count = unit.terms.get(term)
            if not count:
                continue
            norm = count * (_K1 + 1) / (count + _K1 * (1 - _B + _B * unit.length / self.average))
            score += self.idf[term] * norm
            matched.append(term)
        return score, matched


_indexes: weakref.WeakKeyDictionary[Snapshot, _Index] = weakref.WeakKeyDictionary()


def _index_for(snapshot: Snapshot) -> _Index:
    index = _indexes.get(snapshot)
    if index is None:
        index = _indexes[snapshot] = _Index(snapshot.runbooks)
    return index


_NAME_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9._-]{2,}")


def services_mentioned(snapshot: Snapshot, text: str) -> tuple[str, ...]:
    """Services a free-text symptom names, by any of their names ("paymentservice p99 is 5 s" → payment)."""
    found = []
    for word in _NAME_LIKE.findall(text):
        resolved = snapshot.resolve(word.strip("._-"))
        if resolved.id is not None and resolved.id not in found:
            found.append(resolved.id)
    return tuple(found)


def match_runbooks(
    snapshot: Snapshot,
    now: datetime,
    service_ids: tuple[str, ...] = (),
    alert_names: tuple[str, ...] = (),
    query_text: str = "",
    limit: int = 3,
) -> tuple[list[RunbookMatch], int]:
    """Ranked runbooks with reasons, capped at `limit`, plus how many matched at all."""
    index = _index_for(snapshot)
    query = tokens(query_text)
    wanted_alerts = {a.lower(): a for a in alert_names}
    candidates: dict[int, tuple[float, list[str], int | None]] = {}
    for position, item in enumerate(snapshot.runbooks):
        runbook = item.runbook
        score = 0.0
        reasons: list[str] = []
        answered = [a for a in runbook.alerts if a.lower() in wanted_alerts]
        if answered:
            score += ALERT_WEIGHT
            reasons.append(f"answers alert {', '.join(answered)} (front matter alerts)")
        covered = [sid for sid in service_ids if sid in item.service_ids]
        if covered:
            score += SERVICE_WEIGHT
            reasons.append(f"covers service {', '.join(covered)}")
        candidates[position] = (score, reasons, None)
    if query:
        best_section: dict[int, tuple[float, list[str], int]] = {}
        for unit in index.units:
            text_score, matched = index.score(unit, query)
            if not matched:
                continue
            score, reasons, section = candidates[unit.runbook]
            if unit.section is None:
                candidates[unit.runbook] = (
                    score + FRONT_WEIGHT * text_score,
                    [*reasons, _front_reason(snapshot.runbooks[unit.runbook], matched)],
                    section,
                )
            elif text_score > best_section.get(unit.runbook, (0.0, [], 0))[0]:
                best_section[unit.runbook] = (text_score, matched, unit.section)
        for position, (text_score, matched, section) in best_section.items():
            score, reasons, _ = candidates[position]
            heading = snapshot.runbooks[position].runbook.sections[section].heading
            candidates[position] = (
                score + text_score,
                [*reasons, f"section '{heading}' matches: {', '.join(matched)}"],
                section,
            )
    scored = sorted(
        (
            (score, position, reasons, section)
            for position, (score, reasons, section) in candidates.items()
            if score > 0
        ),
        key=lambda row: (-row[0], runbook_key(snapshot.runbooks[row[1]].runbook)),
    )
    matches = [
        _match_view(snapshot.runbooks[position], score, reasons, section, now)
        for score, position, reasons, section in scored[:limit]
    ]
    return matches, len(scored)


def _front_reason(item: ResolvedRunbook, matched: list[str]) -> str:
    runbook = item.runbook
    modes = [mode for mode in runbook.failure_modes if set(tokens(mode)) & set(matched)]
    if modes:
        return f"failure mode {', '.join(repr(m) for m in modes)} matches: {', '.join(matched)}"
    return f"title matches: {', '.join(matched)}"


def _match_view(
    item: ResolvedRunbook, score: float, reasons: list[str], section: int | None, now: datetime
) -> RunbookMatch:
    runbook = item.runbook
    if section is not None:
        chosen = runbook.sections[section]
    else:
        chosen = runbook.sections[0] if runbook.sections else None
    days = (now.date() - runbook.last_exercised).days if runbook.last_exercised else None
    return RunbookMatch(
        id=runbook_key(runbook),
        uri=f"runbook://{runbook_key(runbook)}",
        title=runbook.title,
        services=list(item.service_ids),
        score=round(score, 2),
        reasons=reasons,
        section=RunbookSectionView(heading=chosen.heading, anchor=chosen.anchor, excerpt=_excerpt(chosen.text))
        if chosen
        else None,
        owner=runbook.owner,
        last_exercised=runbook.last_exercised,
        days_since_exercised=days,
        stale=days is None or days > STALE_AFTER_DAYS,
        provenance=runbook.provenance,
    )


def _excerpt(text: str, limit: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + "…"
