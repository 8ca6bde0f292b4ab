"""Lookup codes and exact geometric predicates of the raster lookup index."""

from __future__ import annotations

import numpy as np
import shapely

from .._geometry import present

__all__ = [
    "OUTSIDE",
    "EDGE_BASE",
    "ST_INSIDE",
    "ST_BOUNDARY",
    "ST_OUTSIDE",
    "EPS",
    "CCW_ERR",
    "PIECE_EPS",
    "orient",
    "hash4",
    "segments_noded",
    "coverage_suspects",
]

# lookup values of a raster cell: >= 0 grid position, OUTSIDE, or EDGE_BASE - k for edge cell k
OUTSIDE = -1
EDGE_BASE = -2

# point status codes returned by GridIndex.locate
ST_INSIDE = 0
ST_BOUNDARY = 1
ST_OUTSIDE = 2

# Shewchuk's error bound of the orientation determinant computed in doubles: when
# |det| > CCW_ERR * (|detleft| + |detright|) its sign is the exact sign.
EPS = 2.0**-53
CCW_ERR = (3.0 + 16.0 * EPS) * EPS
PIECE_EPS = 1e-3  # in cells: far above rounding error, so closed cells are covered


def orient(ax, ay, bx, by, cx, cy) -> tuple[np.ndarray, np.ndarray]:
    """Orientation determinant of (a, b, c) (> 0: c left of a->b) and its error bound.

    The sign of the determinant is exact wherever its magnitude exceeds the bound.
    """
    dl = (ax - cx) * (by - cy)
    dr = (ay - cy) * (bx - cx)
    return dl - dr, CCW_ERR * (np.abs(dl) + np.abs(dr))


def hash4(a, b, c, d) -> np.ndarray:
    """A 64-bit hash of four float arrays (equal inputs, equal hashes)."""
    h = np.zeros(len(a), dtype=np.uint64)
    for arr, mult in ((a, 0x9E3779B97F4A7C15), (b, 0xC2B2AE3D27D4EB4F),
                      (c, 0x165667B19E3779F9), (d, 0xD6E8FEB86659FD93)):
        bits = np.ascontiguousarray(arr, dtype=np.float64).view(np.uint64)
        h ^= bits * np.uint64(mult)
        h = (h << np.uint64(13)) | (h >> np.uint64(51))
    return h


def segments_noded(ax, ay, bx, by, cx, cy, dx, dy) -> bool:
    """True when every pair of segments (a-b, c-d) is disjoint or shares just one endpoint.

    Orientation signs count only beyond their error bound; a doubtful pair answers False.
    """
    share_ac = (ax == cx) & (ay == cy)
    share_ad = (ax == dx) & (ay == dy)
    share_bc = (bx == cx) & (by == cy)
    share_bd = (bx == dx) & (by == dy)
    shared = share_ac | share_ad | share_bc | share_bd
    # pairs without a shared endpoint: disjoint boxes (exact comparisons), or each segment
    # strictly on one side of the other's line
    apart_boxes = (
        (np.maximum(ax, bx) < np.minimum(cx, dx)) | (np.maximum(cx, dx) < np.minimum(ax, bx))
        | (np.maximum(ay, by) < np.minimum(cy, dy)) | (np.maximum(cy, dy) < np.minimum(ay, by))
    )
    free = ~shared & ~apart_boxes
    o1, e1 = orient(ax[free], ay[free], bx[free], by[free], cx[free], cy[free])
    o2, e2 = orient(ax[free], ay[free], bx[free], by[free], dx[free], dy[free])
    o3, e3 = orient(cx[free], cy[free], dx[free], dy[free], ax[free], ay[free])
    o4, e4 = orient(cx[free], cy[free], dx[free], dy[free], bx[free], by[free])
    c_d_one_side = (np.abs(o1) > e1) & (np.abs(o2) > e2) & ((o1 > 0) == (o2 > 0))
    a_b_one_side = (np.abs(o3) > e3) & (np.abs(o4) > e4) & ((o3 > 0) == (o4 > 0))
    if not (c_d_one_side | a_b_one_side).all():
        return False
    # pairs sharing an endpoint v: the other endpoints u (of a-b) and w (of c-d) must not lie
    # on one ray from v (which would make the segments overlap)
    s = np.flatnonzero(shared)
    if not len(s):
        return True
    a_shared = share_ac[s] | share_ad[s]
    vx = np.where(a_shared, ax[s], bx[s])
    vy = np.where(a_shared, ay[s], by[s])
    ux = np.where(a_shared, bx[s], ax[s])
    uy = np.where(a_shared, by[s], ay[s])
    c_shared = share_ac[s] | share_bc[s]
    wx = np.where(c_shared, dx[s], cx[s])
    wy = np.where(c_shared, dy[s], cy[s])
    o, e = orient(vx, vy, ux, uy, wx, wy)
    px, py = (ux - vx) * (wx - vx), (uy - vy) * (wy - vy)
    dot = px + py
    opposite = dot < -CCW_ERR * (np.abs(px) + np.abs(py))
    return bool(((np.abs(o) > e) | opposite).all())


def coverage_suspects(geoms: np.ndarray) -> np.ndarray:
    """Polygons that are invalid or have an edge that is not valid in the coverage.

    GEOS flags an edge as invalid when it lies inside or crosses a neighbouring polygon, or
    when it does not match the neighbour's edge exactly; so where two grids overlap, every
    grid whose boundary runs through another grid's interior is flagged.
    """
    bad = ~shapely.is_valid(geoms)
    try:
        edges = shapely.coverage_invalid_edges(geoms)
    except shapely.errors.GEOSException:  # pragma: no cover - GEOS refuses odd input
        return np.ones(len(geoms), dtype=bool)
    return bad | present(edges)


