"""Compounds made whole again where a community's plan had to cut some of them.

Where no plan within the rule keeps every compound of a community whole, its compounds are
freed and the community planned like any other (:mod:`._grouping`); :mod:`._gather` then moves
compound units back together as far as boundary moves reach. Some compounds that fit in one
grid may still lie in two. This search takes them one at a time: the compounds whole in the
plan and the one tried are each contracted to a single unit and the community is planned
again; a plan within the rule keeps that compound whole too. So only the compounds that no
plan found keeps whole are cut, not every compound of the community.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from ._graphs import contract_graph
from .graph import EPS, Region, SizeRule, UnitGraph

__all__ = ["cut_cost", "keep_whole", "split_compounds"]

#: a search: plan of a graph for a key naming the attempt (a seed for its random trees)
Search = Callable[[UnitGraph, str], list[Region]]


def _spread(regions: list[Region], group: np.ndarray, n: int) -> dict[int, int]:
    """Regions each compound of ``group`` (per unit, ``-1`` for none) lies in."""
    lab = np.full(n, -1, dtype=np.int64)
    for i, r in enumerate(regions):
        lab[r.nodes] = i
    held = (group >= 0) & (lab >= 0)
    pairs = np.unique(np.stack([group[held], lab[held]], axis=1), axis=0)
    gid, count = np.unique(pairs[:, 0], return_counts=True)
    return dict(zip(gid.tolist(), count.tolist(), strict=True))


def split_compounds(regions: list[Region], group: np.ndarray, n: int) -> set[int]:
    """Compounds of ``group`` (per unit, ``-1`` for none) that lie in more than one region.

    Examples
    --------
    >>> plan = [Region(np.array([0, 1])), Region(np.array([2, 3]))]
    >>> sorted(split_compounds(plan, np.array([4, 4, 4, 6]), 4))
    [4]
    """
    return {c for c, k in _spread(regions, group, n).items() if k > 1}


def _fitting(g: UnitGraph, group: np.ndarray, rule: SizeRule) -> set[int]:
    """Compounds whose totals fit within the maximum of one grid and whose units are one
    connected piece (streets or a community line may part the others)."""
    held = group >= 0
    gid, inv = np.unique(group[held], return_inverse=True)
    tot = np.zeros((len(gid), g.measures.shape[1]))
    np.add.at(tot, inv.reshape(-1), g.measures[held])
    fits = ~(np.isfinite(rule.hi) & (tot > rule.hi + EPS)).any(axis=1)
    return {c for c in gid[fits].tolist() if _connected(g, np.flatnonzero(group == c))}


def _connected(g: UnitGraph, nodes: np.ndarray) -> bool:
    """Whether ``nodes`` form one connected piece of ``g``."""
    return len(g.components(nodes)) == 1


def _totals(g: UnitGraph, group: np.ndarray, c: int) -> float:
    return float(g.measures[group == c, 0].sum())


def _cost(regions: list[Region], group: np.ndarray, fitting: set[int], n: int
          ) -> tuple[int, int]:
    """(compounds that fit but are cut, grids they take beyond one each): lower is better."""
    count = [k for c, k in _spread(regions, group, n).items() if c in fitting]
    return sum(k > 1 for k in count), sum(k - 1 for k in count)


def _flags(g: UnitGraph, regions: list[Region], rule: SizeRule) -> tuple[int, int, float]:
    """(flagged grids, grids flagged for want of a contiguous split, how far all grids are
    from the rule)."""
    sums = np.array([g.measures[r.nodes].sum(axis=0) for r in regions])
    return (sum(bool(r.flag) for r in regions),
            sum(r.cause == "no_contiguous_split" for r in regions),
            float(rule.violation(sums).sum()) if len(regions) else 0.0)


def _worse(a: tuple[int, int, float], b: tuple[int, int, float]) -> bool:
    """Whether flags ``a`` are worse than ``b`` in any respect."""
    return a[0] > b[0] or a[1] > b[1] or a[2] > b[2] + EPS


def cut_cost(g: UnitGraph, regions: list[Region], group: np.ndarray, rule: SizeRule
             ) -> tuple[int, int]:
    """(compounds that fit in one grid but are cut, grids they take beyond one each).

    Examples
    --------
    >>> rule = SizeRule(lo=np.array([1.0]), hi=np.array([5.0]), target=3.0)
    >>> plan = [Region(np.array([0, 1])), Region(np.array([2, 3]))]
    >>> cut_cost(UnitGraph.chain([1, 1, 1, 1]), plan, np.array([4, 4, 4, 6]), rule)
    (1, 1)
    """
    return _cost(regions, group, _fitting(g, group, rule), g.n)


class _Attempts:
    """Plans of the community with a set of compounds kept whole (contracted to one unit)."""

    def __init__(self, g: UnitGraph, group: np.ndarray, rule: SizeRule, search: Search,
                 gather: Callable[[list[Region]], list[Region]], regions: list[Region]):
        self.g, self.group, self.rule = g, group, rule
        self.fitting = _fitting(g, group, rule)
        self.search, self.gather = search, gather
        self.flags = _flags(g, regions, rule)
        self.proven = False

    def plan(self, whole: set[int], name: str) -> list[Region] | None:
        """A plan keeping ``whole`` whole with no more flagged (or unsolved) grids than the
        plan it may replace, or ``None``."""
        merged, owner = contract_graph(self.g, np.where(np.isin(self.group, list(whole)),
                                                        self.group, -1))
        plan = self.search(merged, name)
        if whole == self.fitting and any(r.proven for r in plan):
            self.proven = True  # every compound whole: no plan, and the search proved it
        if _worse(_flags(merged, plan, self.rule), self.flags):
            return None
        raw = [dataclasses.replace(r, nodes=np.flatnonzero(np.isin(owner, r.nodes)))
               for r in plan]
        tidy = self.gather(raw)  # may trade a whole compound for a concentrated one
        return tidy if self.cost(tidy) <= self.cost(raw) else raw

    def cost(self, regions: list[Region]) -> tuple[int, int]:
        return _cost(regions, self.group, self.fitting, self.g.n)


def keep_whole(g: UnitGraph, regions: list[Region], group: np.ndarray, rule: SizeRule,
               search: Search, gather: Callable[[list[Region]], list[Region]]
               ) -> tuple[list[Region], bool]:
    """``regions`` or a plan within the rule that cuts fewer of the compounds of ``group``
    that fit in one grid, or spreads them over fewer grids; and whether the search proved
    that no plan keeps every such compound whole.

    First every compound is kept whole (each contracted to one unit) and ``search`` plans the
    community; then, where that fails, the compounds cut are tried one at a time, the biggest
    first, with every compound already whole. A plan that cuts fewer compounds stands if its
    grids are no further from the rule. Where compounds are still cut, plans freeing one
    compound only (every other one whole) are tried, and the one cutting the fewest compounds
    into the fewest grids is kept. ``gather`` tidies the compounds a plan cuts.

    Examples
    --------
    >>> chain = UnitGraph.chain([100, 200, 200, 300])
    >>> rule = SizeRule(lo=np.array([300.0]), hi=np.array([500.0]), target=400.0)
    >>> from gridgis.partition.regions import plan_regions
    >>> def search(graph, key):
    ...     return plan_regions(graph, np.arange(graph.n), rule, np.random.default_rng(0))
    >>> plan = [Region(np.array([0, 1])), Region(np.array([2, 3]))]  # 300 | 500
    >>> group = np.array([-1, 7, 7, -1])  # compound 7 (units 1 and 2) fits in one grid
    >>> whole, proven = keep_whole(chain, plan, group, rule, search, lambda plan: plan)
    >>> sorted(r.nodes.tolist() for r in whole), split_compounds(whole, group, 4), proven
    ([[0, 1, 2], [3]], set(), False)
    """
    if any(r.cause == "no_contiguous_split" for r in regions):
        return regions, False  # the search failed even with compounds free
    tries = _Attempts(g, group, rule, search, gather, regions)
    fitting = tries.fitting
    best = tries.cost(regions)
    cut = split_compounds(regions, group, g.n) & fitting
    order = sorted(cut, key=lambda c: (-_totals(g, group, c), c))
    for c in ([None] if len(cut) > 1 else []) + order:  # None: all of them whole at once
        if c is not None and c not in cut:
            continue  # whole already
        plan = tries.plan(fitting if c is None else fitting - cut | {c},
                          "whole" if c is None else f"whole:{c}")
        if plan is not None and tries.cost(plan) < best:
            regions, best = plan, tries.cost(plan)
            cut = split_compounds(regions, group, g.n) & fitting
    if best[0] == 0 or best == (1, 1):
        return regions, tries.proven
    for c in sorted(fitting, key=lambda c: (_totals(g, group, c), c)):
        plan = tries.plan(fitting - {c}, f"free:{c}")
        if plan is not None and tries.cost(plan) < best:
            regions, best = plan, tries.cost(plan)
    return regions, tries.proven
