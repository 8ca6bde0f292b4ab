"""Boundary segments of a plan for nearest-grid queries: :class:`Segments` (square buckets) and
:func:`paired` (segments shared by two grids)."""

from __future__ import annotations

import numpy as np

from .._geometry import oriented

__all__ = ["Segments", "paired"]


def paired(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Segments (a[i] -> b[i]) that occur more than once, in either direction.

    Examples
    --------
    >>> a = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    >>> b = np.array([[1.0, 0.0], [0.0, 0.0], [6.0, 5.0]])
    >>> paired(a, b).tolist()
    [True, True, False]
    """
    lo, hi = oriented(a, b)
    order = np.lexsort((hi[:, 1], hi[:, 0], lo[:, 1], lo[:, 0]))
    key = np.c_[lo, hi][order]
    dup = np.r_[False, (key[1:] == key[:-1]).all(axis=1)]
    dup[:-1] |= dup[1:]
    out = np.zeros(len(a), dtype=bool)
    out[order] = dup
    return out


class Segments:
    """Boundary segments (metric CRS) of the plan in square buckets, for distance queries.

    Every segment is listed in each bucket that its bounding box, widened by ``reach``, meets;
    so the segments within ``reach`` of a point are all listed in the point's own bucket.
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, poly: np.ndarray, reach: float) -> None:
        self.x0, self.y0, self.x1, self.y1 = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
        self.dx, self.dy = self.x1 - self.x0, self.y1 - self.y0
        self.l2 = self.dx**2 + self.dy**2
        self.poly = poly
        lo = np.minimum(a, b) - reach
        hi = np.maximum(a, b) + reach
        if not len(a):
            lo = hi = np.zeros((1, 2))
        gmin, gmax = lo.min(axis=0), hi.max(axis=0)
        extent = float(max(gmax - gmin))
        size = max(reach, extent / 1024, 1e-9)
        while True:
            i0 = ((lo - gmin) / size).astype(np.int64)
            i1 = ((hi - gmin) / size).astype(np.int64)
            span = i1 - i0 + 1
            reps = span[:, 0] * span[:, 1]
            if reps.sum() <= max(8 * len(a), 1 << 20):
                break
            size *= 2  # long segments in small buckets: coarser buckets, fewer listings
        self.size, self.gmin = size, gmin
        self.nb = (((gmax - gmin) / size).astype(np.int64) + 1)
        sid = np.repeat(np.arange(len(a)), reps)
        r = np.arange(len(sid)) - np.repeat(np.cumsum(reps) - reps, reps)
        w = span[sid, 0]
        bucket = (i0[sid, 1] + r // w) * self.nb[0] + (i0[sid, 0] + r % w)
        order = np.argsort(bucket, kind="stable")
        self.members = sid[order]
        self.indptr = np.searchsorted(bucket[order], np.arange(self.nb[0] * self.nb[1] + 1))

    def candidates(self, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, segment) pairs to test, grouped by point in increasing order."""
        bi = ((px - self.gmin[0]) / self.size).astype(np.int64)
        bj = ((py - self.gmin[1]) / self.size).astype(np.int64)
        ok = (bi >= 0) & (bi < self.nb[0]) & (bj >= 0) & (bj < self.nb[1]) & (px >= self.gmin[0]) & (
            py >= self.gmin[1]
        )
        pt = np.flatnonzero(ok)
        b = bj[ok] * self.nb[0] + bi[ok]
        start = self.indptr[b]
        count = self.indptr[b + 1] - start
        qi = np.repeat(pt, count)
        off = np.arange(len(qi)) - np.repeat(np.cumsum(count) - count, count)
        return qi, self.members[np.repeat(start, count) + off]
