"""RCAEval's service-level metrics: AC@k and Avg@k over ranked candidates, and a random ranker's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

K = 5


def hit_at(ranking: Sequence[str], root: str, k: int) -> bool:
    return root in ranking[:k]


def ac_at(rankings: Sequence[Sequence[str]], roots: Sequence[str], k: int) -> float:
    """Share of cases whose root is among the first k of its ranking."""
    if not rankings:
        return 0.0
    return sum(hit_at(r, root, k) for r, root in zip(rankings, roots, strict=True)) / len(rankings)


def avg_at(rankings: Sequence[Sequence[str]], roots: Sequence[str], k: int = K) -> float:
    """Mean of AC@1 … AC@k."""
    return sum(ac_at(rankings, roots, j) for j in range(1, k + 1)) / k


def chance_ac_at(universe: int, root_inside: bool, k: int) -> float:
    """Expected AC@k of a uniformly random ranking of `universe` services."""
    if not root_inside or universe == 0:
        return 0.0
    return min(k, universe) / universe


@dataclass(frozen=True)
class Scores:
    ac1: float
    ac3: float
    avg5: float

    @classmethod
    def of(cls, rankings: Sequence[Sequence[str]], roots: Sequence[str]) -> Scores:
        return cls(ac_at(rankings, roots, 1), ac_at(rankings, roots, 3), avg_at(rankings, roots))

    @classmethod
    def chance(cls, universes: Sequence[tuple[int, bool]]) -> Scores:
        """Mean expected scores of a random ranking; each case is (universe size, root in it)."""
        n = max(len(universes), 1)

        def mean(k: int) -> float:
            return sum(chance_ac_at(size, inside, k) for size, inside in universes) / n

        return cls(mean(1), mean(3), sum(mean(k) for k in range(1, K + 1)) / K)
