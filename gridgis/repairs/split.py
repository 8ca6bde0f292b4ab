"""Geometry of repairs: shared edge lengths and the split of narrow gaps between grids."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .._geometry import explode, polygonal

__all__ = ["shared_length", "nearest_split"]


def shared_length(pieces: np.ndarray, grids: np.ndarray, touch_m: float) -> np.ndarray:
    """Length of the boundary of each piece that runs along (within ``touch_m`` of) the paired
    grid.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> a, b = np.array([shapely.box(0, 0, 1, 1)]), np.array([shapely.box(1, 0, 2, 1)])
    >>> round(float(shared_length(a, b, 0.01)[0]), 1)
    1.0
    """
    if not len(pieces):
        return np.zeros(0)
    return shapely.length(shapely.intersection(shapely.boundary(pieces),
                                               shapely.buffer(grids, touch_m, quad_segs=2)))


def _tiles(region: BaseGeometry, size: float) -> np.ndarray:
    """Polygon pieces of ``region`` cut by a square tiling (keeps triangulations small)."""
    parts = shapely.get_parts(region)
    x0, y0, x1, y1 = region.bounds
    xs = np.arange(x0, x1 + size, size)
    ys = np.arange(y0, y1 + size, size)
    xx, yy = np.meshgrid(xs[:-1], ys[:-1]) if len(xs) > 1 and len(ys) > 1 else (
        np.array([[x0]]), np.array([[y0]]))
    boxes = shapely.box(xx.ravel(), yy.ravel(), xx.ravel() + size, yy.ravel() + size)
    tree = shapely.STRtree(parts)
    bi, pi = tree.query(boxes, predicate="intersects")
    pieces = polygonal(shapely.intersection(parts[pi], boxes[bi]))
    out, _ = explode(pieces, 0.0)
    return out


def _outlines(piece: BaseGeometry, grid_m: float):
    """Outlines to try triangulating: the piece, the piece made valid (a self-touching hairline
    makes triangulation fail; this keeps the outline), the piece snapped to a ``grid_m`` grid
    (this moves the outline off the grids around it, so it comes last)."""
    yield piece
    valid = polygonal(np.array([shapely.make_valid(piece)], dtype=object))[0]
    if not valid.is_empty:
        yield valid
    yield shapely.set_precision(piece, grid_m)


def _triangles(pieces: np.ndarray, grid_m: float) -> np.ndarray:
    """Constrained Delaunay triangles of polygons (a piece that fails stays whole)."""
    try:
        return shapely.get_parts(shapely.constrained_delaunay_triangles(pieces))
    except shapely.errors.GEOSException:
        out = []
        for piece in pieces:
            for attempt in _outlines(piece, grid_m):
                try:
                    out.append(shapely.get_parts(shapely.constrained_delaunay_triangles(attempt)))
                    break
                except shapely.errors.GEOSException:
                    continue
            else:  # pragma: no cover - degenerate outline: keep the piece whole
                out.append(np.array([piece], dtype=object))
        return np.concatenate(out) if out else np.array([], dtype=object)


def _segments(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-point segments of linework and the index of the line each comes from."""
    parts, pidx = shapely.get_parts(lines, return_index=True)  # multi-part boundaries
    pc, pi = shapely.get_coordinates(parts, return_index=True)
    start = np.flatnonzero(np.r_[pi[1:] == pi[:-1], False])  # consecutive points of one part
    seg = shapely.linestrings(np.stack([pc[start], pc[start + 1]], axis=1))
    return seg, pidx[pi[start]]


def nearest_split(region: BaseGeometry, cand: np.ndarray, step: float, grid_m: float
                  ) -> list[tuple[BaseGeometry, int]]:
    """Split a narrow ``region`` between candidate grids, each taking the part nearest to it.

    The region (cut into 50 m tiles, outline densified every ``step`` metres) is triangulated
    (constrained Delaunay; a piece that fails even once made valid is snapped to a ``grid_m``
    grid); each triangle goes to the candidate nearest its centroid and the triangles of one
    candidate are merged. In a strip between two grids the cut runs along the middle of the
    strip.

    Examples
    --------
    >>> zones = nearest_split(strip, grids, 5.0, 1e-4)  # doctest: +SKIP
    """
    pieces = shapely.segmentize(_tiles(region, 50.0), step)
    tri = _triangles(pieces, grid_m)
    tri = tri[shapely.area(tri) > 0]
    if not len(tri):
        return []
    # nearest candidate by its nearest boundary segment (cheap distances, unlike whole polygons)
    near = shapely.STRtree(cand).query(shapely.box(*region.bounds).buffer(step * 4),
                                       predicate="intersects")
    seg, owner = _segments(shapely.boundary(cand[near]))
    tree = shapely.STRtree(seg)
    ti, si = tree.query_nearest(shapely.centroid(tri), all_matches=False)
    label = np.full(len(tri), -1)
    label[ti] = near[owner[si]]
    out = []
    for c in np.unique(label[label >= 0]):
        try:
            zone = shapely.coverage_union_all(tri[label == c])
        except shapely.errors.GEOSException:
            zone = shapely.union_all(tri[label == c])
        zone = polygonal(np.array([zone], dtype=object))[0]
        if not zone.is_empty:
            out.append((zone, int(c)))
    return out
