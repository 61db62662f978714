"""One service, many names: the index that maps every name a source uses to one canonical id.

Resolution order, strongest first: the canonical id itself, names/titles/entity refs a
catalog gave, other systems' ids from annotations, the config alias map; then names
normalised (case, separators, camelCase and a trailing "service"/"svc" ignored). A
normalised key that fits several services resolves to none of them and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from rapidfuzz import fuzz, process, utils

Via = Literal["id", "name", "external-id", "alias", "normalised"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")
_REF_PREFIX = re.compile(r"^[a-z]+:(?:[a-z0-9-]+/)?", re.IGNORECASE)
_GENERIC_SUFFIXES = ("service", "svc")
SHORTLIST_CUTOFF = 40
"""Names less similar than this (0–100, edit-distance ratio) are never suggested."""


@lru_cache(maxsize=1 << 16)
def normalise(name: str) -> str:
    """`PaymentService`, `payment-svc`, `Payment Service`, `component:default/payment` → `payment`."""
    text = _REF_PREFIX.sub("", name.strip())
    tokens = [t for t in _SEPARATORS.split(_CAMEL.sub(" ", text).lower()) if t]
    while len(tokens) > 1 and tokens[-1] in _GENERIC_SUFFIXES:
        tokens.pop()
    joined = "".join(tokens)
    for suffix in _GENERIC_SUFFIXES:
        if len(tokens) == 1 and joined.endswith(suffix) and len(joined) > len(suffix) + 1:
            return joined[: -len(suffix)]
    return joined


@lru_cache(maxsize=1 << 12)
def team_key(name: str) -> str:
    """`team-payments`, `Payments Team`, `group:default/payments` → `payments`: one team, many spellings."""
    text = _REF_PREFIX.sub("", name.strip())
    tokens = [t for t in _SEPARATORS.split(_CAMEL.sub(" ", text).lower()) if t]
    while len(tokens) > 1 and tokens[0] == "team":
        tokens.pop(0)
    while len(tokens) > 1 and tokens[-1] == "team":
        tokens.pop()
    return "".join(tokens)


@dataclass(frozen=True)
class TeamNames:
    """Team spellings joined by `team_key`, plus the config's `team_aliases` for names no rule can join."""

    aliases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, aliases: dict[str, list[str]]) -> TeamNames:
        return cls({team_key(name): team_key(canonical) for canonical, names in aliases.items() for name in names})

    def key(self, name: str) -> str:
        found = team_key(name)
        return self.aliases.get(found, found)


@dataclass(frozen=True)
class Alias:
    source: str
    name: str
    via: Via


@dataclass(frozen=True)
class Resolution:
    id: str | None
    via: Via | None = None
    ambiguous: tuple[str, ...] = ()


_RANK: dict[Via, int] = {"id": 0, "name": 1, "external-id": 2, "alias": 3}
_MEMO_LIMIT = 1 << 16


@dataclass
class ServiceIndex:
    """Built once per snapshot; read-only afterwards.

    An exact key may name several services (a namespaced twin, a Resource sharing a
    Component's name, an alias equal to another's name); the strongest claim wins — a
    service's own id over a name, over another system's id, over an alias — and only a
    tie between equally strong claims is ambiguous.
    """

    _exact: dict[str, dict[str, int]] = field(default_factory=dict)
    _normal: dict[str, set[str]] = field(default_factory=dict)
    aliases: dict[str, list[Alias]] = field(default_factory=dict)
    _choices: list[str] | None = None
    _choice_ids: list[str] | None = None
    _memo: dict[str, Resolution] = field(default_factory=dict)

    def add(self, service_id: str, name: str, source: str, via: Via, *, listed: bool = True) -> None:
        """Index `name` for `service_id`; `listed` names also show as aliases in answers."""
        key = name.strip().lower()
        if not key:
            return
        owners = self._exact.setdefault(key, {})
        owners[service_id] = min(owners.get(service_id, _RANK[via]), _RANK[via])
        norm = normalise(name)
        if norm:
            self._normal.setdefault(norm, set()).add(service_id)
        known = self.aliases.setdefault(service_id, [])
        if listed and all(a.source != source or a.name.lower() != key for a in known):
            known.append(Alias(source=source, name=name, via=via))
        self._choices = None
        self._memo.clear()

    def resolve(self, name: str) -> Resolution:
        found = self._memo.get(name)
        if found is None:
            found = self._resolve(name)
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[name] = found
        return found

    def _resolve(self, name: str) -> Resolution:
        key = name.strip().lower()
        owners = self._exact.get(key)
        if owners is None and _REF_PREFIX.match(key):
            owners = self._exact.get(_REF_PREFIX.sub("", key))
        if owners:
            best = min(owners.values())
            winners = sorted(sid for sid, rank in owners.items() if rank == best)
            if len(winners) == 1:
                return Resolution(winners[0], next(via for via, rank in _RANK.items() if rank == best))
            return Resolution(None, ambiguous=tuple(winners))
        norm = normalise(name)
        candidates = self._normal.get(norm) if norm else None
        if not candidates:
            return Resolution(None)
        if len(candidates) == 1:
            return Resolution(next(iter(candidates)), "normalised")
        return Resolution(None, ambiguous=tuple(sorted(candidates)))

    def prepare(self) -> None:
        """Build the list `suggest` searches (once; `add` invalidates it)."""
        if self._choices is None:
            pairs = sorted(
                {
                    (a.name.lower(), sid)
                    for sid, aliases in self.aliases.items()
                    for a in aliases
                    if a.via != "external-id"
                }
            )
            self._choices = [name for name, _ in pairs]
            self._choice_ids = [sid for _, sid in pairs]

    def suggest(self, query: str, limit: int = 5) -> list[tuple[str, str, float]]:
        """Closest known names: (service id, the name that matched, score 0–100).

        A cheap edit-distance pass over every listed name picks candidates; a weighted ratio that
        also credits partial and reordered matches ranks them. Other systems' ids are left out.
        """
        self.prepare()
        assert self._choices is not None and self._choice_ids is not None
        text = query.strip().lower()
        shortlist = process.extract(
            text, self._choices, scorer=fuzz.ratio, processor=None, limit=limit * 8, score_cutoff=SHORTLIST_CUTOFF
        )
        best: dict[str, tuple[str, str, float]] = {}
        for name, _, position in shortlist:
            service_id = self._choice_ids[position]
            score = float(fuzz.WRatio(text, name, processor=utils.default_process))
            if service_id not in best or score > best[service_id][2]:
                best[service_id] = (service_id, name, score)
        return sorted(best.values(), key=lambda item: (-item[2], item[0]))[:limit]
