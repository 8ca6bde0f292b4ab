"""Serial order by sorting: which grids have a later-numbered grid clearly north-west of them.

The serial-order rule (``code_order``) says: inside one community and one serial range, a grid
that lies clearly north-west of another must not carry the higher serial. "Clearly" is a margin
``m`` (per community): grid *b* is clearly north-west of grid *a* when ``x_b < x_a - m`` and
``y_b > y_a + m`` (centroids, metres). A pair (*a*, *b*) with ``serial_a < serial_b`` and *b*
clearly north-west of *a* breaks the rule.

Pairing every grid with every other grid of its community costs n² time and memory (a city
that numbers thousands of grids under one parent cannot be checked). The same pairs are found
by sorting instead, as two questions asked of every grid:

* *a* is out of order as the earlier grid when some grid with a higher serial lies clearly
  north-west of it;
* *b* is out of order as the later grid when some grid with a lower serial lies clearly
  south-east of it.

Each is a three-way dominance question (serial, x, y), answered by divide and conquer over the
serial ranks: in ⌈log₂ n⌉ rounds the grids are split into blocks of consecutive serials, and in
each block the upper half (candidates) is merged with the lower half (queries) in one sort by
x; a running maximum of y along that order tells every query whether a candidate lies west of
it *and* north of it. Every comparison is the same floating-point comparison the pairwise form
made (``x_b < x_a - m``, ``y_b > y_a + m``), so the grids flagged are exactly the grids of the
breaking pairs; what is no longer known is how many pairs there are. Time
O(n log² n) (one sort per round), memory O(n).
"""

from __future__ import annotations

import numpy as np

__all__ = ["out_of_order"]


def out_of_order(group: np.ndarray, serial: np.ndarray, x: np.ndarray, y: np.ndarray,
                 margin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grids out of serial order: ``(as_earlier, as_later)``, boolean arrays.

    ``as_earlier[i]``: some grid of the same ``group`` with a higher serial lies clearly
    north-west of grid ``i`` (``x_j < x_i - margin_i`` and ``y_j > y_i + margin_i``);
    ``as_later[j]``: some grid of the same group with a lower serial has grid ``j`` clearly
    north-west of it. ``margin`` must be constant within a group.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.zeros(3, dtype=int)
    >>> early, late = out_of_order(g, np.array([1., 2., 3.]), np.array([0., 10., 20.]),
    ...                            np.array([0., 10., -5.]), np.ones(3))
    >>> early.tolist(), late.tolist()
    ([False, False, False], [False, False, False])
    >>> early, late = out_of_order(g, np.array([1., 2., 3.]), np.array([20., 10., 0.]),
    ...                            np.array([0., -5., 10.]), np.ones(3))
    >>> early.tolist(), late.tolist()
    ([True, True, False], [False, False, True])
    """
    group = np.asarray(group)
    serial, x, y = (np.asarray(v, dtype=float) for v in (serial, x, y))
    margin = np.asarray(margin, dtype=float)
    # as the earlier grid: a later candidate c with x_c < x_q - m and y_c > y_q + m
    early = _dominated(group, serial, x, x - margin, y, y + margin)
    # as the later grid: an earlier candidate c with x_q < x_c - m and y_q > y_c + m; negated
    # so that it is the same question (negation is exact in floating point)
    late = _dominated(group, -serial, -(x - margin), -x, -(y + margin), -y)
    return early, late


def _dominated(group: np.ndarray, serial: np.ndarray, cx: np.ndarray, qx: np.ndarray,
               cy: np.ndarray, qy: np.ndarray) -> np.ndarray:
    """For every element q: is there a c in its group with ``serial_c > serial_q``,
    ``cx_c < qx_q`` and ``cy_c > qy_q``?"""
    n = len(serial)
    out = np.zeros(n, dtype=bool)
    if n < 2:
        return out
    _, gid = np.unique(group, return_inverse=True)
    # everything in (group, serial) order; dense rank: equal serials share one and are never
    # compared
    order = np.lexsort((serial, gid))
    gid, serial = gid[order].astype(np.int64), serial[order]
    new_group = np.r_[True, gid[1:] != gid[:-1]]
    dense = np.cumsum(new_group | np.r_[True, serial[1:] != serial[:-1]]) - 1
    kx_c, kx_q = _ranks(cx[order], qx[order], query_first=True)  # cx_c < qx_q: kx_c < kx_q
    ky_c, ky_q = _ranks(cy[order], qy[order], query_first=False)  # cy_c > qy_q: ky_c > ky_q
    span = np.int64(2 * n)
    level = 0
    while (int(dense[-1]) >> level) > 0:
        block = dense >> (level + 1)
        upper = ((dense >> level) & 1).astype(bool)
        # segments: one group inside one block (blocks may straddle groups); both are
        # non-decreasing along the order, so a running count numbers them
        seg = np.cumsum(new_group | np.r_[True, block[1:] != block[:-1]]) - 1
        pos = np.where(upper, kx_c, kx_q)  # distinct ranks: no ties
        by_x = np.argsort(seg * span + pos)
        s_sorted = seg[by_x] * span
        u_sorted = upper[by_x]
        val = np.where(u_sorted, s_sorted + ky_c[by_x], s_sorted - 1)
        best = np.maximum.accumulate(val) - s_sorted
        hit = by_x[~u_sorted & (best > ky_q[by_x])]
        out[order[hit]] = True
        level += 1
    return out


def _ranks(cand: np.ndarray, query: np.ndarray, *, query_first: bool
           ) -> tuple[np.ndarray, np.ndarray]:
    """Integer ranks of candidate and query values in one sorted sequence (all distinct).

    On equal values the query ranks first when ``query_first`` (so ``c < q`` strictly is
    ``rank_c < rank_q``), else the candidate does (so ``c > q`` strictly is
    ``rank_c > rank_q``).
    """
    n = len(cand)
    values = np.r_[cand, query]
    is_query = np.r_[np.zeros(n, dtype=np.int8), np.ones(n, dtype=np.int8)]
    tie = 1 - is_query if query_first else is_query
    order = np.lexsort((tie, values))
    rank = np.empty(2 * n, dtype=np.int64)
    rank[order] = np.arange(2 * n)
    return rank[:n], rank[n:]
