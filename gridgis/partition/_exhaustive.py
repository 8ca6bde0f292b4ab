"""Exhaustive search of a small community: a plan with every grid in range, or the proof that
none exists.

The randomised search (:mod:`.regions`) may miss a plan that exists. For a community of a few
units every partition into connected groups can be enumerated: the lowest free unit starts a
group, the group grows through its free neighbours (each connected set is met once), and a
group within ``[lo, hi]`` is fixed before the rest is split the same way. Measures are never
negative, so a growing group stops as soon as it passes the maximum.
"""

from __future__ import annotations

import numpy as np

from .graph import EPS, SizeRule, UnitGraph

__all__ = ["EXHAUSTIVE_MAX_UNITS", "exhaustive_plan", "stranded_unit"]

#: communities with at most this many units are searched exhaustively when the random search fails
EXHAUSTIVE_MAX_UNITS = 14
#: connected groups examined before an exhaustive search gives up (keeps the worst case bounded)
MAX_STEPS = 200_000


def _neighbours(g: UnitGraph, nodes: np.ndarray) -> list[set[int]]:
    pos = {int(u): i for i, u in enumerate(nodes)}
    out: list[set[int]] = [set() for _ in nodes]
    for i, u in enumerate(nodes.tolist()):
        for j in range(g.indptr[u], g.indptr[u + 1]):
            v = int(g.nbr[j])
            if v in pos and v != u:
                out[i].add(pos[v])
    return out


class _Search:
    def __init__(self, g: UnitGraph, nodes: np.ndarray, rule: SizeRule) -> None:
        self.nbr = _neighbours(g, nodes)
        self.meas = np.asarray(g.measures[nodes], dtype=float)
        self.lo = np.asarray(rule.lo, dtype=float)
        self.hi = np.asarray(rule.hi, dtype=float)
        self.steps = 0

    def groups(self, free: frozenset[int], group: frozenset[int], ext: frozenset[int],
               total: np.ndarray):
        """Connected groups containing ``group``, grown only through ``ext`` (each once)."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise TimeoutError
        if (total >= self.lo - EPS).all():
            yield group
        ext_list = sorted(ext)
        for i, v in enumerate(ext_list):
            new_total = total + self.meas[v]
            if (new_total > self.hi + EPS).any():
                continue
            rest = frozenset(ext_list[i + 1:])
            grown = rest | {w for w in self.nbr[v] if w in free and w not in group
                            and w not in ext}
            yield from self.groups(free, group | {v}, grown, new_total)

    def partition(self, free: frozenset[int]) -> list[frozenset[int]] | None:
        if not free:
            return []
        root = min(free)
        ext = frozenset(w for w in self.nbr[root] if w in free)
        for grp in self.groups(free, frozenset([root]), ext, self.meas[root].copy()):
            rest = self.partition(free - grp)
            if rest is not None:
                return [grp, *rest]
        return None


def exhaustive_plan(g: UnitGraph, nodes: np.ndarray, rule: SizeRule
                    ) -> tuple[list[np.ndarray] | None, bool]:
    """Every partition of ``nodes`` into connected groups within ``[lo, hi]``, tried in turn.

    Returns ``(groups, True)`` for the first plan found, ``(None, True)`` when the search was
    exhaustive and no plan exists (a proof), ``(None, False)`` when the community is too big or
    the search passed its step limit.

    Examples
    --------
    >>> g = UnitGraph.chain([269, 269, 269, 252])
    >>> rule = SizeRule(lo=np.array([300.0]), hi=np.array([500.0]), target=400.0)
    >>> exhaustive_plan(g, np.arange(4), rule)
    (None, True)
    >>> plan, done = exhaustive_plan(UnitGraph.chain([200, 150, 250, 100]), np.arange(4), rule)
    >>> [p.tolist() for p in plan]
    [[0, 1], [2, 3]]
    """
    nodes = np.asarray(nodes, dtype=np.int64)
    if len(nodes) == 0 or len(nodes) > EXHAUSTIVE_MAX_UNITS:
        return None, False
    search = _Search(g, nodes, rule)
    try:
        found = search.partition(frozenset(range(len(nodes))))
    except TimeoutError:
        return None, False
    if found is None:
        return None, True
    return [np.sort(nodes[sorted(grp)]) for grp in found], True


def stranded_unit(g: UnitGraph, nodes: np.ndarray, rule: SizeRule) -> int | None:
    """A unit of ``nodes`` that no grid within the rule can hold, or ``None``: below the
    minimum alone, and past the maximum with any of its neighbours (a grid holding it and
    anything else holds one of its neighbours). Its existence proves that the piece has no
    plan, whatever its size.

    Examples
    --------
    >>> rule = SizeRule(lo=np.array([300.0]), hi=np.array([500.0]), target=400.0)
    >>> stranded_unit(UnitGraph.chain([269, 269, 252]), np.arange(3), rule)
    0
    >>> stranded_unit(UnitGraph.chain([269, 100, 269]), np.arange(3), rule) is None
    True
    """
    nodes = np.asarray(nodes, dtype=np.int64)
    inside = np.zeros(g.n, dtype=bool)
    inside[nodes] = True
    lo = np.asarray(rule.lo, dtype=float)
    hi = np.asarray(rule.hi, dtype=float)
    for u in nodes.tolist():
        m = g.measures[u]
        if not (m < lo - EPS).any():
            continue
        nbr = g.nbr[g.indptr[u]:g.indptr[u + 1]]
        nbr = nbr[inside[nbr] & (nbr != u)]
        if len(nbr) and ((m + g.measures[nbr]) > hi + EPS).any(axis=1).all():
            return int(u)
    return None
