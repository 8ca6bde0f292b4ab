"""Compounds gathered into fewer grids: a local search on a plan.

Where the fewest pieces of a compound left no plan within the rule, its buildings are planned
one by one (:func:`._compounds.compound_pieces` at :data:`._compounds.PLAIN`) and the plan then
spreads the compound over more grids than ``ceil(T / max)``. This search moves the compound's
units across grid boundaries — one unit, or a unit swapped with one of the other grid — while
every grid stays connected, within the rule and not much thinner, so that each compound lies in
as few grids as these moves reach (first the count of compounds in more grids than the
fewest, then the grids beyond the fewest, then how concentrated each compound is, Σ share²).
"""

from __future__ import annotations

import numpy as np

from .geom import polsby_popper
from .graph import EPS, Region, SizeRule, UnitGraph

__all__ = ["MAX_MOVES", "gather_compounds"]

#: moves made at most per community (each one lowers the score, so the search ends anyway)
MAX_MOVES = 200
#: a move may not leave a grid below this Polsby–Popper unless it was already thinner
PP_FLOOR = 0.3


class _State:
    """Labels of a plan with the sums, the compactness and the score the moves need."""

    def __init__(self, g: UnitGraph, regions: list[Region], rule: SizeRule, group: np.ndarray):
        self.g, self.rule, self.group = g, rule, group
        self.lab = np.full(g.n, -1, dtype=np.int64)
        for i, r in enumerate(regions):
            self.lab[r.nodes] = i
        self.comp = np.flatnonzero(group >= 0)
        gid, inv = np.unique(group[self.comp], return_inverse=True)
        self.ginv = inv.reshape(-1)
        self.gidx = np.full(g.n, -1, dtype=np.int64)
        self.gidx[self.comp] = self.ginv
        tot = np.zeros((len(gid), g.measures.shape[1]))
        np.add.at(tot, self.ginv, g.measures[self.comp])
        self.need = np.array([rule.k_range(t)[0] for t in tot])
        self.n_regions = len(regions) + 1  # the last column: units in no region
        self.set_labels(self.lab)

    def set_labels(self, lab: np.ndarray) -> None:
        """Take ``lab`` as the plan: units and measure of every compound in every region."""
        self.lab = lab
        col = np.where(lab[self.comp] >= 0, lab[self.comp], self.n_regions - 1)
        self.cnt = np.zeros((len(self.need), self.n_regions), dtype=np.int64)
        self.msum = np.zeros((len(self.need), self.n_regions))
        np.add.at(self.cnt, (self.ginv, col), 1)
        np.add.at(self.msum, (self.ginv, col), self.g.measures[self.comp, 0])
        self.beyond = np.maximum((self.cnt > 0).sum(axis=1) - self.need, 0)
        self.m2 = (self.msum**2).sum(axis=1)

    def score(self) -> tuple[int, int, float]:
        """(compounds in more grids than the fewest, grids beyond the fewest, −Σ share²) of
        the plan: lower is better (every total is of whole numbers, so exact)."""
        return (int((self.beyond > 0).sum()), int(self.beyond.sum()), -float(self.m2.sum()))

    def score_move(self, u: int, b: int, w: int) -> tuple[int, int, float]:
        """:meth:`score` once unit ``u`` moves to region ``b`` (and ``w``, when not -1, to the
        region of ``u``): only the two regions' cells of the compounds moved change."""
        a = int(self.lab[u])
        delta: dict[tuple[int, int], list[float]] = {}  # (compound, region) -> [units, measure]
        for x, src, dst in [(u, a, b)] + ([(w, b, a)] if w >= 0 else []):
            c = int(self.gidx[x])
            if c < 0:
                continue
            m = float(self.g.measures[x, 0])
            for r, sign in ((src, -1), (dst, 1)):
                d = delta.setdefault((c, r), [0, 0.0])
                d[0] += sign
                d[1] += sign * m
        spread: dict[int, int] = {}
        m2 = float(self.m2.sum())
        for (c, r), (dn, dm) in delta.items():
            old_n, old_m = int(self.cnt[c, r]), float(self.msum[c, r])
            spread[c] = spread.get(c, 0) + int(old_n + dn > 0) - int(old_n > 0)
            m2 += (old_m + dm) ** 2 - old_m**2
        n_pos, n_sum = int((self.beyond > 0).sum()), int(self.beyond.sum())
        for c, ds in spread.items():
            old = int(self.beyond[c])
            new = max(int((self.cnt[c] > 0).sum()) + ds - int(self.need[c]), 0)
            n_pos += int(new > 0) - int(old > 0)
            n_sum += new - old
        return n_pos, n_sum, -m2

    def members(self, lab: np.ndarray, r: int) -> np.ndarray:
        return np.flatnonzero(lab == r)

    def connected(self, nodes: np.ndarray) -> bool:
        if len(nodes) == 0:
            return False
        inside = np.zeros(self.g.n, dtype=bool)
        inside[nodes] = True
        seen, stack = {int(nodes[0])}, [int(nodes[0])]
        g = self.g
        while stack:
            u = stack.pop()
            for v in g.nbr[g.indptr[u]:g.indptr[u + 1]].tolist():
                if inside[v] and v not in seen:
                    seen.add(v)
                    stack.append(v)
        return len(seen) == len(nodes)

    def pp(self, nodes: np.ndarray) -> float:
        g = self.g
        inside = np.zeros(g.n, dtype=bool)
        inside[nodes] = True
        inner = inside[g.eu] & inside[g.ev]
        per = g.perimeter[nodes].sum() - 2 * g.length[inner].sum()
        return float(polsby_popper(np.array([g.area[nodes].sum()]),
                                   np.array([max(per, 1e-9)]))[0])

    def fits(self, nodes: np.ndarray) -> bool:
        return float(self.rule.violation(self.g.measures[nodes].sum(axis=0)[None, :])[0]) <= EPS

    def valid(self, lab: np.ndarray, changed: tuple[int, int]) -> bool:
        for r in changed:
            new = self.members(lab, r)
            old = self.members(self.lab, r)
            if not (self.fits(new) and self.connected(new)):
                return False
            if self.pp(new) < min(PP_FLOOR, self.pp(old)):
                return False
        return True


def _candidates(s: _State) -> list[tuple[int, int, int]]:
    """``(u, a, b)`` and ``(u, w, -1)`` style moves: compound units on a grid boundary moved
    to the neighbouring grid, alone (``w = -1``) or swapped with a unit ``w`` of that grid."""
    g, lab = s.g, s.lab
    out = []
    for e in range(len(g.eu)):
        for u, v in ((int(g.eu[e]), int(g.ev[e])), (int(g.ev[e]), int(g.eu[e]))):
            if s.group[u] < 0 or lab[u] == lab[v] or lab[u] < 0 or lab[v] < 0:
                continue
            out.append((u, int(lab[v]), -1))
            for w in np.flatnonzero(lab == lab[v]).tolist():
                out.append((u, int(lab[v]), w))
    return out


def gather_compounds(g: UnitGraph, regions: list[Region], rule: SizeRule, group: np.ndarray
                     ) -> list[Region]:
    """``regions`` with each compound of ``group`` in as few of them as boundary moves reach.

    Parameters
    ----------
    g
        Unit graph of one community (measures in the rule's columns).
    regions
        Its plan; left as it is when a region is flagged.
    group
        Per unit: the compound above the maximum it belongs to, ``-1`` for none.

    Examples
    --------
    >>> square = UnitGraph(np.array([[200.0], [200.0], [200.0], [200.0]]), np.ones(4),
    ...                    np.full(4, 4.0), np.array([0, 1, 2, 0]), np.array([1, 2, 3, 3]),
    ...                    np.ones(4), np.zeros(4))            # 0-1-2-3-0 around a square
    >>> rule = SizeRule(lo=np.array([300.0]), hi=np.array([500.0]), target=400.0)
    >>> plan = [Region(np.array([0, 3])), Region(np.array([1, 2]))]
    >>> group = np.array([7, 7, -1, -1])  # compound 7 (units 0 and 1) fits in one grid
    >>> [r.nodes.tolist() for r in gather_compounds(square, plan, rule, group)]
    [[2, 3], [0, 1]]
    """
    if len(regions) < 2 or not (group >= 0).any() or any(r.flag for r in regions):
        return regions
    s = _State(g, regions, rule, group)
    best = s.score()
    moves = 0
    while best[0] > 0 and moves < MAX_MOVES:
        for u, b, w in _candidates(s):
            sc = s.score_move(u, b, w)
            if not sc < best:
                continue
            lab = s.lab.copy()
            a = int(lab[u])
            lab[u] = b
            if w >= 0:
                lab[w] = a
            if s.valid(lab, (a, b)):
                s.set_labels(lab)
                best = sc
                moves += 1
                break
        else:
            break
    out = []
    for i, r in enumerate(regions):
        nodes = np.flatnonzero(s.lab == i)
        out.append(r if np.array_equal(nodes, np.sort(r.nodes)) else Region(nodes))
    return out
