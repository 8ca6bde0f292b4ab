"""Vectorised geometry helpers of the builder: ring segments, shared edges, polygon measures.

Every polygon the builder handles comes from one noded line arrangement, so two neighbouring
faces share *identical* segments (same coordinates). Shared boundaries are therefore found by
exact segment matching (a sort of the segment table), which is fast and exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = [
    "Segments",
    "SharedEdges",
    "near_lines",
    "polsby_popper",
    "ring_segments",
    "shared_edges",
]


@dataclass
class Segments:
    """Segments of polygon rings: ``owner[i]`` is the polygon of segment ``(a[i], b[i])``."""

    owner: np.ndarray
    a: np.ndarray
    b: np.ndarray

    @property
    def length(self) -> np.ndarray:
        """Segment lengths."""
        return np.hypot(*(self.b - self.a).T)

    @property
    def midpoint(self) -> np.ndarray:
        """Segment midpoints, shape ``(n, 2)``."""
        return (self.a + self.b) / 2.0


def ring_segments(polys: np.ndarray) -> Segments:
    """All ring segments (exteriors and holes) of an array of polygons.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> seg = ring_segments(np.array([shapely.box(0, 0, 1, 1)]))
    >>> len(seg.a), float(seg.length.sum())
    (4, 4.0)
    """
    polys = np.asarray(polys, dtype=object)
    rings, ridx = shapely.get_rings(polys, return_index=True)
    coords, cidx = shapely.get_coordinates(rings, return_index=True)
    same = cidx[:-1] == cidx[1:]
    owner = ridx[cidx[:-1][same]]
    return Segments(owner=owner, a=coords[:-1][same], b=coords[1:][same])


@dataclass
class SharedEdges:
    """Boundaries shared by pairs of polygons.

    ``i < j`` polygon pairs with the total ``length`` they share; ``seg_pair`` maps each shared
    segment (``seg_a``/``seg_b`` endpoints) to its pair row, so callers can classify segments
    (on a road, on a river …) and sum per pair.
    """

    i: np.ndarray
    j: np.ndarray
    length: np.ndarray
    seg_a: np.ndarray
    seg_b: np.ndarray
    seg_pair: np.ndarray
    exterior_length: np.ndarray  # per polygon: boundary not shared with any polygon

    def sum_by_pair(self, seg_values: np.ndarray) -> np.ndarray:
        """Sum a per-shared-segment value over each pair."""
        return np.bincount(self.seg_pair, weights=seg_values, minlength=len(self.i))


def shared_edges(polys: np.ndarray) -> SharedEdges:
    """Shared boundaries of polygons taken from one noded arrangement (exact segment matching).

    Examples
    --------
    >>> import numpy as np, shapely
    >>> edges = shared_edges(np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]))
    >>> edges.i.tolist(), edges.j.tolist(), edges.length.tolist()
    ([0], [1], [1.0])
    """
    polys = np.asarray(polys, dtype=object)
    seg = ring_segments(polys)
    a, b = seg.a, seg.b
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    p = np.where(swap[:, None], b, a)
    q = np.where(swap[:, None], a, b)
    order = np.lexsort((q[:, 1], q[:, 0], p[:, 1], p[:, 0]))
    ps, qs = p[order], q[order]
    dup = np.all(ps[1:] == ps[:-1], axis=1) & np.all(qs[1:] == qs[:-1], axis=1)
    first, second = order[:-1][dup], order[1:][dup]
    oi, oj = seg.owner[first], seg.owner[second]
    keep = oi != oj
    first, oi, oj = first[keep], oi[keep], oj[keep]
    lo, hi = np.minimum(oi, oj), np.maximum(oi, oj)
    seg_len = seg.length
    slen = seg_len[first]
    n = len(polys)
    if len(lo):
        pair_key = lo.astype(np.int64) * n + hi
        uniq, inv = np.unique(pair_key, return_inverse=True)
        pi, pj = (uniq // n).astype(np.int64), (uniq % n).astype(np.int64)
        plen = np.bincount(inv, weights=slen, minlength=len(uniq))
    else:
        inv = np.zeros(0, dtype=np.int64)
        pi = pj = np.zeros(0, dtype=np.int64)
        plen = np.zeros(0)
    shared_per_poly = np.bincount(lo, weights=slen, minlength=n) + np.bincount(
        hi, weights=slen, minlength=n
    )
    total = np.bincount(seg.owner, weights=seg_len, minlength=n)
    return SharedEdges(
        i=pi,
        j=pj,
        length=plen,
        seg_a=p[first],
        seg_b=q[first],
        seg_pair=inv,
        exterior_length=np.maximum(total - shared_per_poly, 0.0),
    )


def polsby_popper(area: np.ndarray, perimeter: np.ndarray) -> np.ndarray:
    """Polsby–Popper compactness ``4πA/P²`` (1 for a circle).

    Examples
    --------
    >>> import numpy as np
    >>> polsby_popper(np.array([1.0]), np.array([4.0])).round(3).tolist()
    [0.785]
    """
    area = np.asarray(area, dtype=float)
    perimeter = np.asarray(perimeter, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 4.0 * np.pi * area / perimeter**2
    return np.where(perimeter > 0, out, 0.0)


def near_lines(points: np.ndarray, lines: np.ndarray, tol: float) -> np.ndarray:
    """Boolean per point: within ``tol`` of any of ``lines``.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> pts = np.array([[0.0, 0.5], [0.0, 5.0]])
    >>> near_lines(pts, np.array([shapely.LineString([(0, 0), (1, 0)])]), tol=1.0).tolist()
    [True, False]
    """
    out = np.zeros(len(points), dtype=bool)
    if len(points) == 0 or len(lines) == 0:
        return out
    # one small segment per tree entry keeps the exact distance tests cheap
    coords, idx = shapely.get_coordinates(np.asarray(lines, dtype=object), return_index=True)
    same = idx[:-1] == idx[1:]
    if not same.any():
        return out
    seg = np.stack([coords[:-1][same], coords[1:][same]], axis=1)
    tree = shapely.STRtree(shapely.linestrings(seg))
    pts = shapely.points(points)
    hit = tree.query(pts, predicate="dwithin", distance=tol)
    out[np.unique(hit[0])] = True
    return out
