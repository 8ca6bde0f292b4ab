"""The region problem's data: a graph of units, size rules and options of the region builder.

See :mod:`gridgis.partition.regions` for the algorithm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["DEFAULT_OPTIONS", "EPS", "Region", "RegionOptions", "SizeRule", "UnitGraph"]

#: tolerance of the bound checks on measure totals
EPS = 1e-9


@dataclass
class UnitGraph:
    """Units (nodes) and their shared boundaries (edges).

    Parameters
    ----------
    measures
        ``(n, m)`` additive measures (column 0 is the basis the lower bound applies to).
    area, perimeter
        Per unit, in metres.
    eu, ev
        Edge endpoints (``eu < ev``).
    length
        Shared boundary length of each edge.
    barrier
        Part of ``length`` that lies on a barrier (major road, river).
    """

    measures: np.ndarray
    area: np.ndarray
    perimeter: np.ndarray
    eu: np.ndarray
    ev: np.ndarray
    length: np.ndarray
    barrier: np.ndarray
    indptr: np.ndarray = field(init=False, repr=False)
    nbr: np.ndarray = field(init=False, repr=False)
    eid: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.measures = np.asarray(self.measures, dtype=float).reshape(len(self.area), -1)
        self.area = np.asarray(self.area, dtype=float)
        self.perimeter = np.asarray(self.perimeter, dtype=float)
        self.eu = np.asarray(self.eu, dtype=np.int64)
        self.ev = np.asarray(self.ev, dtype=np.int64)
        self.length = np.asarray(self.length, dtype=float)
        self.barrier = np.asarray(self.barrier, dtype=float)
        n = len(self.area)
        src = np.concatenate([self.eu, self.ev])
        dst = np.concatenate([self.ev, self.eu])
        eid = np.concatenate([np.arange(len(self.eu))] * 2)
        order = np.lexsort((dst, src))
        self.nbr = dst[order]
        self.eid = eid[order]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))])

    @classmethod
    def chain(cls, measures: np.ndarray | list) -> UnitGraph:
        """Units in a row, each a unit square touching the next one (for examples and tests).

        Examples
        --------
        >>> g = UnitGraph.chain([10, 10, 10])
        >>> g.n, g.eu.tolist(), g.ev.tolist()
        (3, [0, 1], [1, 2])
        """
        m = np.asarray(measures, dtype=float)
        n = len(m)
        return cls(m, np.ones(n), np.full(n, 4.0), np.arange(n - 1), np.arange(1, n),
                   np.ones(max(n - 1, 0)), np.zeros(max(n - 1, 0)))

    @property
    def n(self) -> int:
        """Number of units."""
        return len(self.area)

    def components(self, nodes: np.ndarray) -> list[np.ndarray]:
        """Connected components of the subgraph induced by ``nodes`` (sorted, deterministic)."""
        nodes = np.sort(np.asarray(nodes, dtype=np.int64))
        if len(nodes) == 0:
            return []
        local = np.full(self.n, -1, dtype=np.int64)
        local[nodes] = np.arange(len(nodes))
        mask = (local[self.eu] >= 0) & (local[self.ev] >= 0)
        a, b = local[self.eu[mask]], local[self.ev[mask]]
        mat = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(nodes), len(nodes)))
        ncomp, lab = connected_components(mat, directed=False)
        comps = [nodes[lab == c] for c in range(ncomp)]
        comps.sort(key=lambda c: int(c[0]))
        return comps


@dataclass(frozen=True)
class SizeRule:
    """Bounds on every measure (``lo``/``hi`` arrays) and the preferred basis size."""

    lo: np.ndarray
    hi: np.ndarray
    target: float

    def k_range(self, total: np.ndarray) -> tuple[int, float]:
        """``(kmin, kmax)``: region counts the totals admit (``kmax`` may be ``inf``)."""
        kmin, kmax = 1, math.inf
        for t, lo, hi in zip(total, self.lo, self.hi, strict=True):
            if np.isfinite(hi) and hi > 0:
                kmin = max(kmin, math.ceil(t / hi - EPS))
            if lo > 0:
                kmax = min(kmax, math.floor(t / lo + EPS))
        return kmin, kmax

    def violation_of(self, sums: np.ndarray) -> float:
        """:meth:`violation` of one row of totals, as a float (fast for the local search).

        Examples
        --------
        >>> rule = SizeRule(lo=np.array([15.0]), hi=np.array([25.0]), target=20.0)
        >>> rule.violation_of(np.array([30.0]))
        0.2
        """
        out = 0.0
        for x, lo, hi in zip(sums.tolist(), self.lo.tolist(), self.hi.tolist(), strict=True):
            if x < lo:
                out += (lo - x) / (lo if lo > 0 else 1.0)
            elif x > hi:
                out += (x - hi) / (hi if hi > 0 else 1.0)
        return out

    def violation(self, sums: np.ndarray) -> np.ndarray:
        """Relative distance of each row of ``sums`` (``(r, m)``) from the bounds (0 = within)."""
        sums = np.atleast_2d(sums)
        lo_scale = np.where(self.lo > 0, self.lo, 1.0)
        hi_scale = np.where(np.isfinite(self.hi) & (self.hi > 0), self.hi, 1.0)
        under = np.maximum(self.lo - sums, 0.0) / lo_scale
        over = np.where(np.isfinite(self.hi), np.maximum(sums - self.hi, 0.0), 0.0) / hi_scale
        return (under + over).sum(axis=1)


@dataclass(frozen=True)
class RegionOptions:
    """Tuning knobs of the region builder (defaults are what the benchmarks use)."""

    trees: int = 4
    """Spanning trees drawn per bisection before picking the best cut."""
    max_trees: int = 20
    """Trees drawn per bisection before giving up on finding a feasible cut."""
    backtrack: int = 4
    """Alternative cuts tried when a side cannot be split further."""
    budget: int = 40
    """Spanning trees per region to build (a component of ``k`` regions may draw
    ``budget * k + 100`` trees; bounds the search time)."""
    barrier_weight: float = 1.0
    """α in the score 4πA/(P + α·B)²; B = barrier length inside a region."""
    balance_weight: float = 1.0
    """Penalty on sides whose mean region size is far from the target (lost slack)."""
    max_passes: int = 40
    """Local-search passes over all units."""
    local_search: bool = True
    fallback: bool = True
    """When no feasible plan is found: build the least-violating plan (else return the
    component as one flagged region, which is cheaper when the caller will retry)."""


#: options of the region builder when none are given
DEFAULT_OPTIONS = RegionOptions()


@dataclass
class Region:
    """One region of a plan: its units, and a flag/reason when it breaks the bounds."""

    nodes: np.ndarray
    flag: str = ""
    reason: str = ""
    cause: str = ""
    """Machine-readable reason: ``below_min``, ``no_feasible_count``, ``no_contiguous_split``,
    ``oversize`` (empty when the region is within bounds)."""
    proven: bool = False
    """For ``no_contiguous_split``: the search proved that no plan exists."""

