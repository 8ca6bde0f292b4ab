"""Geometry helpers shared by the operations: presence masks, point-in-polygon hits, polygon
parts, unions, segments and shared edges, arrangement faces.

All functions are vectorised over numpy arrays of shapely geometries.

>>> import numpy as np, shapely
>>> geoms = np.array([shapely.box(0, 0, 1, 1), None, shapely.Polygon()], dtype=object)
>>> present(geoms).tolist()
[True, False, False]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = [
    "AREA_FLOOR_M2", "POLYGONAL_TYPES", "EMPTY_POLYGON", "present", "first_hit",
    "first_container", "polygonal", "single_parts", "explode", "fast_union", "widths",
    "representative_points", "Segments", "ring_segments", "line_segments", "segment_lines",
    "oriented", "SharedEdges", "shared_edges", "Arrangement",
]

#: Polygon pieces smaller than this (m²) are overlay residue.
AREA_FLOOR_M2 = 0.01
#: Type ids of Polygon and MultiPolygon (``shapely.get_type_id``).
POLYGONAL_TYPES = (shapely.GeometryType.POLYGON.value, shapely.GeometryType.MULTIPOLYGON.value)
#: The empty polygon used for grids without land.
EMPTY_POLYGON = shapely.Polygon()


def present(geoms: np.ndarray) -> np.ndarray:
    """Boolean mask: the geometry is neither missing (``None``) nor empty.

    >>> present(np.array([shapely.Point(0, 0), None], dtype=object)).tolist()
    [True, False]
    """
    geoms = np.asarray(geoms, dtype=object)
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))


def first_hit(pi: np.ndarray, gi: np.ndarray, n: int, rank: np.ndarray | None = None
              ) -> np.ndarray:
    """For each of ``n`` query items, the hit with the lowest ``rank`` (default: lowest index).

    ``pi``/``gi`` are the two rows of an ``STRtree.query`` result; items without a hit get -1.

    >>> first_hit(np.array([0, 0, 2]), np.array([5, 3, 1]), 3).tolist()
    [3, -1, 1]
    """
    out = np.full(n, -1, dtype=np.int64)
    pi, gi = np.asarray(pi), np.asarray(gi)
    if len(pi):
        key = gi if rank is None else np.asarray(rank)[gi]
        order = np.lexsort((key, pi))
        pi, gi = pi[order], gi[order]
        first = np.r_[True, pi[1:] != pi[:-1]]
        out[pi[first]] = gi[first]
    return out


#: the predicate that holds for (b, a) when the key holds for (a, b)
_CONVERSE = {"within": "contains", "contains": "within", "covered_by": "covers",
             "covers": "covered_by", "intersects": "intersects"}


def first_container(points: np.ndarray, polys: np.ndarray, predicate: str = "within",
                    tree: shapely.STRtree | None = None) -> np.ndarray:
    """Index of the first polygon (lowest index) holding each point by ``predicate``, ``-1``
    when none; ``tree`` is an ``STRtree`` of ``polys`` if one is at hand.

    >>> pts = shapely.points([[0.5, 0.5], [5.0, 5.0], [1.0, 0.5]])
    >>> boxes = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> first_container(pts, boxes).tolist(), first_container(pts, boxes, "intersects").tolist()
    ([0, -1, -1], [0, -1, 0])
    """
    if len(points) == 0 or len(polys) == 0:
        return np.full(len(points), -1, dtype=np.int64)
    if tree is None and len(points) > len(polys) and predicate in _CONVERSE:
        # many points, few polygons: each polygon is prepared once and queries a tree of the
        # points (an order of magnitude faster than testing every point against polygons)
        gi, pi = shapely.STRtree(points).query(polys, predicate=_CONVERSE[predicate])
    else:
        pi, gi = (tree or shapely.STRtree(polys)).query(points, predicate=predicate)
    return first_hit(pi, gi, len(points))


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal part of each geometry (empty polygon when there is none).

    >>> polygonal(np.array([shapely.GeometryCollection([shapely.box(0, 0, 1, 1),
    ...     shapely.Point(5, 5)])], dtype=object))[0].geom_type
    'MultiPolygon'
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.array(geoms, dtype=object, copy=True)
    if not len(geoms):
        return out
    types = shapely.get_type_id(geoms)
    todo = np.flatnonzero(~np.isin(types, POLYGONAL_TYPES))
    if not len(todo):
        return out
    parts, idx = shapely.get_parts(geoms[todo], return_index=True)
    # nested collections: one more level
    ptypes = shapely.get_type_id(parts)
    nested = ptypes == shapely.GeometryType.MULTIPOLYGON.value
    if nested.any():
        sub, sidx = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], sub])
        idx = np.concatenate([idx[~nested], idx[nested][sidx]])
        ptypes = shapely.get_type_id(parts)
    keep = ptypes == shapely.GeometryType.POLYGON.value
    res = np.full(len(todo), EMPTY_POLYGON, dtype=object)
    if keep.any():
        present, inverse = np.unique(idx[keep], return_inverse=True)
        res[present] = shapely.multipolygons(parts[keep], indices=inverse)
    out[todo] = res
    return out


def single_parts(geoms: np.ndarray, min_area: float = 0.0) -> np.ndarray:
    """Drop parts of at most ``min_area``; MultiPolygons of one part become Polygons.

    >>> single_parts(np.array([shapely.MultiPolygon([shapely.box(0, 0, 1, 1)])]))[0].geom_type
    'Polygon'
    """
    geoms = np.asarray(geoms, dtype=object).copy()
    if min_area > 0:
        multi = np.flatnonzero(shapely.get_num_geometries(geoms) > 1)
        if len(multi):
            parts, idx = shapely.get_parts(geoms[multi], return_index=True)
            big = shapely.area(parts) > min_area
            # keep at least the largest part of each geometry
            order = np.lexsort((-shapely.area(parts), idx))
            first = order[np.r_[True, idx[order][1:] != idx[order][:-1]]]
            big[first] = True
            present, inverse = np.unique(idx[big], return_inverse=True)
            geoms[multi[present]] = shapely.multipolygons(parts[big], indices=inverse)
    multi = (shapely.get_type_id(geoms) == shapely.GeometryType.MULTIPOLYGON.value) & (
        shapely.get_num_geometries(geoms) == 1
    )
    if multi.any():
        geoms[multi] = shapely.get_geometry(geoms[multi], 0)
    return geoms


def explode(geoms: np.ndarray, min_area: float = AREA_FLOOR_M2) -> tuple[np.ndarray, np.ndarray]:
    """Polygon parts of ``geoms`` larger than ``min_area`` and the index of their source.

    >>> parts, idx = explode(np.array([shapely.box(0, 0, 1, 1)], dtype=object))
    >>> len(parts), idx.tolist()
    (1, [0])
    """
    parts, idx = shapely.get_parts(polygonal(np.atleast_1d(np.asarray(geoms, dtype=object))),
                                   return_index=True)
    keep = shapely.area(parts) > min_area
    return parts[keep], idx[keep]


def fast_union(geoms: np.ndarray) -> shapely.Geometry:
    """Union of polygons: coverage union when they form a valid coverage, else a full union.

    >>> fast_union(np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])).area
    2.0
    """
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~shapely.is_empty(geoms)]
    if not len(geoms):
        return EMPTY_POLYGON
    try:
        if shapely.coverage_is_valid(geoms):
            return shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:  # pragma: no cover - invalid input falls through
        pass
    return shapely.union_all(geoms)


def widths(pieces: np.ndarray, narrow_below: float = 0.0, precision_rel: float = 0.002
           ) -> np.ndarray:
    """Width of each polygon, in CRS units.

    Pieces that vanish under an inward buffer of ``narrow_below / 2`` get their mean width
    ``2·area / perimeter`` (cheap, and what "0.3 m wide" means for a digitising strip); the
    others get their largest width (diameter of the maximum inscribed circle, found to
    ``precision_rel`` times the square root of the area, at least 0.01).

    >>> round(float(widths(np.array([shapely.box(0, 0, 10, 2)]))[0]), 2)
    2.0
    """
    pieces = np.asarray(pieces, dtype=object)
    if not len(pieces):
        return np.zeros(0)
    area, perim = shapely.area(pieces), shapely.length(pieces)
    mean = 2.0 * area / np.maximum(perim, 1e-12)
    narrow = np.zeros(len(pieces), dtype=bool)
    if narrow_below > 0:
        narrow = shapely.is_empty(shapely.buffer(pieces, -narrow_below / 2.0,
                                                 join_style="mitre"))
    out = mean.copy()
    wide = np.flatnonzero(~narrow)
    if len(wide):
        tol = np.maximum(0.01, precision_rel * np.sqrt(area[wide]))
        mic = shapely.maximum_inscribed_circle(pieces[wide], tol)
        out[wide] = np.maximum(2.0 * shapely.length(mic), mean[wide])
    if narrow_below > 0:
        out[narrow] = np.minimum(out[narrow], narrow_below * 0.999)
    return out



def representative_points(geoms: np.ndarray) -> np.ndarray:
    """Point on surface for polygons, the point itself for points (missing/empty kept).

    >>> representative_points(np.array([shapely.Point(1, 2), None], dtype=object))[1] is None
    True
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    ok = present(geoms)
    out[ok] = shapely.point_on_surface(geoms[ok])
    return out


@dataclass
class Segments:
    """Segments of polygon rings: ``owner[i]`` is the polygon of segment ``(a[i], b[i])``.

    ``ring[i]`` is its ring, numbered as ``shapely.get_rings`` lists them (each polygon's
    exterior first, then its holes); segments of a ring are consecutive, in ring order.
    """

    owner: np.ndarray
    a: np.ndarray
    b: np.ndarray
    ring: np.ndarray

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
    >>> seg = ring_segments(np.array([shapely.box(0, 0, 1, 1)]))
    >>> seg.length.tolist(), seg.owner.tolist()
    ([1.0, 1.0, 1.0, 1.0], [0, 0, 0, 0])
    """
    polys = np.asarray(polys, dtype=object)
    rings, ridx = shapely.get_rings(polys, return_index=True)
    coords, cidx = shapely.get_coordinates(rings, return_index=True)
    same = cidx[:-1] == cidx[1:]
    ring = cidx[:-1][same]
    return Segments(owner=ridx[ring], a=coords[:-1][same], b=coords[1:][same], ring=ring)


def line_segments(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end points ``(a, b)`` of every segment of ``lines`` (consecutive vertices of
    each geometry), shape ``(n, 2)`` each.

    >>> a, b = line_segments(np.array([shapely.LineString([(0, 0), (1, 0), (1, 1)])]))
    >>> a.tolist(), b.tolist()
    ([[0.0, 0.0], [1.0, 0.0]], [[1.0, 0.0], [1.0, 1.0]])
    """
    coords, idx = shapely.get_coordinates(np.asarray(lines, dtype=object), return_index=True)
    same = idx[:-1] == idx[1:]
    return coords[:-1][same], coords[1:][same]


def segment_lines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two-point LineStrings ``a[i] → b[i]``.

    >>> shapely.to_wkt(segment_lines(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]))[0])
    'LINESTRING (0 0, 1 0)'
    """
    return shapely.linestrings(np.stack([a, b], axis=1))


def oriented(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segments ``a[i] → b[i]`` with their lower end (by x, then y) first, so that a segment and
    its reverse compare equal.

    >>> p, q = oriented(np.array([[1.0, 0.0]]), np.array([[0.0, 0.0]]))
    >>> p.tolist(), q.tolist()
    ([[0.0, 0.0]], [[1.0, 0.0]])
    """
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    return np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)


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

    def both_ways(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every pair in both directions: ``(src, dst, length)``, the ``i → j`` rows first."""
        return (np.concatenate([self.i, self.j]), np.concatenate([self.j, self.i]),
                np.concatenate([self.length, self.length]))


def shared_edges(polys: np.ndarray) -> SharedEdges:
    """Shared boundaries of polygons taken from one noded arrangement (exact segment matching).

    Faces of one noded line arrangement share *identical* segments (same coordinates), so
    shared boundaries are found by sorting the segment table, which is fast and exact.

    Examples
    --------
    >>> edges = shared_edges(np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]))
    >>> edges.i.tolist(), edges.j.tolist(), edges.length.tolist()
    ([0], [1], [1.0])
    """
    polys = np.asarray(polys, dtype=object)
    seg = ring_segments(polys)
    p, q = oriented(seg.a, seg.b)
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



@dataclass
class Arrangement:
    """Faces of a noded line arrangement with their measures and shared edges."""

    faces: np.ndarray
    area: np.ndarray
    perimeter: np.ndarray
    rep: np.ndarray  # representative points (shapely Points)
    edges: SharedEdges

    @classmethod
    def from_faces(cls, faces: np.ndarray) -> Arrangement:
        """The arrangement of polygon faces (faces of zero area are dropped).

        >>> arr = Arrangement.from_faces(np.array([shapely.box(0, 0, 1, 1),
        ...                                        shapely.box(1, 0, 2, 1)]))
        >>> arr.edges.length.tolist()
        [1.0]
        """
        faces = np.asarray(faces, dtype=object)
        faces = faces[shapely.area(faces) > 0]
        return cls(faces=faces, area=shapely.area(faces), perimeter=shapely.length(faces),
                   rep=shapely.point_on_surface(faces), edges=shared_edges(faces))
