"""Ranks runbooks for a service, a symptom and/or an alert, and says why each one matched.

Signals, strongest first: the runbook's front matter lists the alert; it covers the
service (the one asked about, or the alert's); then Okapi BM25 text relevance of the
query (symptom words, the alert's name and summary) against the runbook's title and
failure modes and against each `##` section — the best section is returned.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import numpy as np

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


class _Index:
    """Runbooks as units laid out runbook by runbook (front unit, then sections), with BM25 postings.

    Scoring is vectorised: a query's postings are summed per unit with one bincount, and the
    best section per runbook comes from one reduceat, so a query over thousands of runbooks
    costs about as much as reading its postings.
    """

    def __init__(self, runbooks: tuple[ResolvedRunbook, ...]) -> None:
        units: list[_Unit] = []
        self.by_alert: dict[str, list[int]] = {}
        self.by_service: dict[str, list[int]] = {}
        for position, item in enumerate(runbooks):
            runbook = item.runbook
            for alert in runbook.alerts:
                self.by_alert.setdefault(alert.lower(), []).append(position)
            for service_id in item.service_ids:
                self.by_service.setdefault(service_id, []).append(position)
            front = tokens(runbook.title) + [t for mode in runbook.failure_modes for t in tokens(mode)]
            units.append(_Unit(position, None, Counter(front)))
            for number, section in enumerate(runbook.sections):
                units.append(_Unit(position, number, Counter(tokens(section.heading) * 2 + tokens(section.text))))
        self.units = units
        self.runbooks = len(runbooks)
        self.fronts = [n for n, unit in enumerate(units) if unit.section is None]
        """Unit number of each runbook's front unit; its sections follow it."""
        self.front_units = np.array(self.fronts, dtype=np.int64)
        self.unit_runbook = np.array([unit.runbook for unit in units], dtype=np.int64)
        keys = [runbook_key(item.runbook) for item in runbooks]
        self.key_rank = np.argsort(np.argsort(np.array(keys, dtype=object))) if keys else np.zeros(0, dtype=np.int64)
        lengths = np.array([sum(unit.terms.values()) for unit in units], dtype=np.float64)
        average = float(lengths.mean()) if len(units) else 1.0
        norms = _K1 * (1 - _B + _B * lengths / average) if len(units) else lengths
        self.norms = norms.tolist()
        self.idf: dict[str, float] = {}
        grouped: dict[str, tuple[list[int], list[int]]] = {}
        for number, unit in enumerate(units):
            for term, count in unit.terms.items():
                numbers, counts = grouped.setdefault(term, ([], []))
                numbers.append(number)
                counts.append(count)
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, (numbers, counts) in grouped.items():
            where = np.array(numbers, dtype=np.int64)
            tf = np.array(counts, dtype=np.float64)
            idf = self.idf[term] = math.log(1 + (len(units) - len(numbers) + 0.5) / (len(numbers) + 0.5))
            self.postings[term] = (where, idf * tf * (_K1 + 1) / (tf + norms[where]))

    def score(self, number: int, query: list[str]) -> float:
        """BM25 of one unit."""
        terms, norm = self.units[number].terms, self.norms[number]
        total = 0.0
        for term in query:
            count = terms.get(term)
            if count:
                total += self.idf[term] * count * (_K1 + 1) / (count + norm)
        return total

    def unit_scores(self, query: list[str]) -> np.ndarray | None:
        found = [self.postings[t] for t in dict.fromkeys(query) if t in self.postings]
        if not found:
            return None
        where = np.concatenate([w for w, _ in found])
        weight = np.concatenate([v for _, v in found])
        return np.bincount(where, weights=weight, minlength=len(self.units))


def runbook_index(snapshot: Snapshot) -> _Index:
    return snapshot.derive("runbook_index", lambda: _Index(snapshot.runbooks))


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
    only_covering: bool = False,
) -> tuple[list[RunbookMatch], int]:
    """Ranked runbooks with reasons, capped at `limit`, plus how many matched at all.

    `only_covering` keeps to runbooks that cover one of `service_ids` or answer one of the alerts.
    """
    index = runbook_index(snapshot)
    if not index.runbooks:
        return [], 0
    query = list(dict.fromkeys(tokens(query_text)))
    alerted = {position: name for name in alert_names for position in index.by_alert.get(name.lower(), ())}
    covering = {position for sid in service_ids for position in index.by_service.get(sid, ())}
    if only_covering:
        ranked, total = _rank_within(index, covering | set(alerted), alerted, covering, query, limit)
    else:
        ranked, total = _rank_all(index, alerted, covering, query, limit)
    matches = []
    for position, score, section_unit in ranked:
        item = snapshot.runbooks[position]
        reasons = []
        if position in alerted:
            reasons.append(f"answers alert {alerted[position]} (front matter alerts)")
        covered = [sid for sid in service_ids if sid in item.service_ids]
        if covered:
            reasons.append(f"covers service {', '.join(covered)}")
        front_terms = [t for t in query if t in index.units[index.fronts[position]].terms]
        if front_terms:
            reasons.append(_front_reason(item, front_terms))
        section = None
        if section_unit is not None:
            section = index.units[section_unit].section
            terms = [t for t in query if t in index.units[section_unit].terms]
            reasons.append(f"section '{item.runbook.sections[section].heading}' matches: {', '.join(terms)}")
        matches.append(_match_view(item, score, reasons, section, now))
    return matches, total


Ranked = list[tuple[int, float, int | None]]
"""(runbook position, score, unit number of its best section or None)."""


def _rank_all(
    index: _Index, alerted: dict[int, str], covering: set[int], query: list[str], limit: int
) -> tuple[Ranked, int]:
    """Every runbook, scored at once with numpy."""
    totals = np.zeros(index.runbooks)
    totals[list(alerted)] += ALERT_WEIGHT
    totals[list(covering)] += SERVICE_WEIGHT
    scores = index.unit_scores(query)
    best_section = None
    if scores is not None:
        sections = scores.copy()
        sections[index.front_units] = 0.0
        best_section = np.maximum.reduceat(sections, index.front_units)
        totals += FRONT_WEIGHT * scores[index.front_units] + best_section
    candidates = np.flatnonzero(totals > 0)
    order = candidates[np.lexsort((index.key_rank[candidates], -totals[candidates]))][:limit]
    ranked: Ranked = []
    for position in (int(p) for p in order):
        section_unit = None
        if scores is not None and best_section is not None and best_section[position] > 0:
            first = index.fronts[position] + 1
            last = index.fronts[position + 1] if position + 1 < index.runbooks else len(index.units)
            section_unit = first + int(np.argmax(scores[first:last]))
        ranked.append((position, float(totals[position]), section_unit))
    return ranked, len(candidates)


def _rank_within(
    index: _Index, positions: set[int], alerted: dict[int, str], covering: set[int], query: list[str], limit: int
) -> tuple[Ranked, int]:
    """A handful of runbooks (a service's own), scored term by term without touching the rest."""
    scored = []
    for position in positions:
        total = ALERT_WEIGHT * (position in alerted) + SERVICE_WEIGHT * (position in covering)
        first = index.fronts[position]
        last = index.fronts[position + 1] if position + 1 < index.runbooks else len(index.units)
        best: tuple[float, int | None] = (0.0, None)
        for number in range(first, last):
            unit_score = index.score(number, query)
            if number == first:
                total += FRONT_WEIGHT * unit_score
            elif unit_score > best[0]:
                best = (unit_score, number)
        scored.append((position, total + best[0], best[1]))
    scored = [row for row in scored if row[1] > 0]
    scored.sort(key=lambda row: (-row[1], int(index.key_rank[row[0]])))
    return scored[:limit], len(scored)


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
