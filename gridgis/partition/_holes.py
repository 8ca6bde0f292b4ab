"""No enclaves: a grid never rings another grid of its community.

On the unit graph of a community a grid *encloses* units when, with its units taken away, they
cannot reach the community's outline (or a special/locked grid, or a neighbouring community —
holes filled by those are allowed). Each ring is cut open: the shortest chain of the ringing
grid's units from an enclosed grid to the outside moves to the enclosed grid, when both stay
within the rule and the ringing grid stays connected; otherwise the two grids are merged when
their total fits. What cannot be cut open is reported by the caller.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from .graph import EPS, Region, SizeRule, UnitGraph

__all__ = ["enclosed_units", "open_rings", "touches_outside"]

#: exterior boundary (metres) a unit needs to count as touching the outside
OUTSIDE_M = 1.0


def touches_outside(g: UnitGraph) -> np.ndarray:
    """Units of a (local) graph with boundary not shared with another unit of the graph."""
    shared = np.bincount(g.eu, weights=g.length, minlength=g.n) + np.bincount(
        g.ev, weights=g.length, minlength=g.n)
    return (g.perimeter - shared) > OUTSIDE_M


def _adjacent(g: UnitGraph, u: int) -> list[int]:
    return [int(v) for v in g.nbr[g.indptr[u]:g.indptr[u + 1]]]


def enclosed_units(g: UnitGraph, lab: np.ndarray, r: int, outside: np.ndarray) -> np.ndarray:
    """Units (of other regions) that region ``r`` cuts off from the outside.

    Examples
    --------
    >>> g = UnitGraph.chain([1, 1, 1])
    >>> enclosed_units(g, np.array([0, 1, 1]), 1, np.array([True, False, False])).tolist()
    []
    """
    seen = (lab == r) | (lab < 0)
    queue = deque(np.flatnonzero(outside & ~seen).tolist())
    seen[list(queue)] = True
    while queue:
        u = queue.popleft()
        for v in _adjacent(g, u):
            if not seen[v]:
                seen[v] = True
                queue.append(v)
    return np.flatnonzero(~seen)


def _connected(g: UnitGraph, members: set[int]) -> bool:
    if not members:
        return False
    start = next(iter(members))
    seen, stack = {start}, [start]
    while stack:
        for v in _adjacent(g, stack.pop()):
            if v in members and v not in seen:
                seen.add(v)
                stack.append(v)
    return len(seen) == len(members)


def _chain(g: UnitGraph, lab: np.ndarray, r: int, inner: np.ndarray, outside: np.ndarray
           ) -> list[int] | None:
    """Shortest chain of region ``r``'s units from one touching ``inner`` units to one touching
    the outside (or a unit of another region that is not enclosed)."""
    inner_set = set(inner.tolist())
    free_out = outside | ((lab != r) & (lab >= 0))
    free_out[inner] = False
    start = [u for u in np.flatnonzero(lab == r).tolist()
             if any(v in inner_set for v in _adjacent(g, u))]
    prev = {u: -1 for u in start}
    queue = deque(start)
    while queue:
        u = queue.popleft()
        if outside[u] or any(free_out[v] for v in _adjacent(g, u)):
            path = [u]
            while prev[path[-1]] >= 0:
                path.append(prev[path[-1]])
            return path
        for v in _adjacent(g, u):
            if lab[v] == r and v not in prev:
                prev[v] = u
                queue.append(v)
    return None


def _ok(total: np.ndarray, rule: SizeRule) -> bool:
    return bool((total >= rule.lo - EPS).all() and (total <= rule.hi + EPS).all())


def _open_one(g: UnitGraph, lab: np.ndarray, r: int, inner: np.ndarray, outside: np.ndarray,
              rule: SizeRule) -> bool:
    """Cut region ``r``'s ring around ``inner`` open, or merge; whether it worked."""
    chain = _chain(g, lab, r, inner, outside)
    meas = g.measures
    if chain is not None:
        inner_set = set(inner.tolist())
        first = chain[-1]  # the end touching the enclosed units
        takers = sorted({int(lab[v]) for v in _adjacent(g, first) if v in inner_set})
        rest = set(np.flatnonzero(lab == r).tolist()) - set(chain)
        for t in takers:
            moved = meas[chain].sum(axis=0)
            if (_ok(meas[lab == t].sum(axis=0) + moved, rule)
                    and _ok(meas[lab == r].sum(axis=0) - moved, rule) and _connected(g, rest)):
                lab[chain] = t
                return True
    inner_regions = np.unique(lab[inner])
    merged = np.isin(lab, inner_regions) | (lab == r)
    if len(inner_regions) == 1 and _ok(meas[merged].sum(axis=0), rule):
        lab[merged] = r
        return True
    return False


def open_rings(g: UnitGraph, regions: list[Region], rule: SizeRule) -> tuple[list[Region], int]:
    """Regions without enclaves where a ring could be cut open; the rings left.

    Examples
    --------
    >>> g = UnitGraph.chain([1, 1, 1])
    >>> regions, left = open_rings(g, [Region(np.array([0])), Region(np.array([1, 2]))],
    ...                           SizeRule(lo=np.array([1.0]), hi=np.array([2.0]), target=1.5))
    >>> left
    0
    """
    if len(regions) < 2:
        return regions, 0
    lab = np.full(g.n, -1, dtype=np.int64)
    for i, reg in enumerate(regions):
        lab[reg.nodes] = i
    outside = touches_outside(g)
    left = 0
    for r in range(len(regions)):
        for _ in range(len(regions)):
            inner = enclosed_units(g, lab, r, outside)
            if len(inner) == 0:
                break
            if not _open_one(g, lab, r, inner, outside, rule):
                left += 1
                break
    out = []
    for i, reg in enumerate(regions):
        nodes = np.flatnonzero(lab == i)
        if len(nodes) == 0:
            continue
        same = np.array_equal(nodes, np.sort(reg.nodes))
        out.append(reg if same else Region(nodes))
    return out, left
