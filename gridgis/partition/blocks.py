"""Blocks: faces of the noded line arrangement (community boundaries, roads, rivers, sites).

All boundaries of a district are noded *together* (one ``unary_union`` of every line) and
polygonized once. Every community, special site and locked grid is then exactly a union of
faces, and neighbouring faces share identical vertices, so any grouping of faces (blocks, units,
grids) is a valid polygon coverage (``shapely.coverage_is_valid``) that tiles its community.
Thin or tiny faces (slivers left by nearly coincident lines) are merged into the neighbour they
share the longest boundary with.
"""

from __future__ import annotations

import numpy as np
import shapely

from .._geometry import Arrangement, ring_segments, segment_lines
from ._faces import pair_totals

__all__ = [
    "arrangement",
    "as_lines",
    "containers",
    "group_perimeter",
    "merge_slivers",
    "neck_cuts",
]


def as_lines(geoms: np.ndarray) -> np.ndarray:
    """Linework of any geometries: polygon rings, lines; points are dropped.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> len(as_lines(np.array([shapely.box(0, 0, 1, 1), shapely.Point(0, 0)])))
    1
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.empty(0, dtype=object)
    parts = shapely.get_parts(geoms)
    parts = parts[~shapely.is_empty(parts)]
    tid = shapely.get_type_id(parts)
    poly = tid == 3
    lines = [parts[(tid == 1) | (tid == 2)]]
    if poly.any():
        lines.append(shapely.get_rings(parts[poly]))
    out = np.concatenate(lines) if lines else np.empty(0, dtype=object)
    return out[~shapely.is_empty(out)]


def arrangement(lines: np.ndarray) -> Arrangement:
    """Node ``lines`` together and polygonize them into faces.

    The noding is one ``unary_union`` (OverlayNG, robust with snapping fallbacks); faces are
    returned in GEOS order, which is deterministic for a given input order.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> arr = arrangement(as_lines(np.array([shapely.box(0, 0, 2, 1), shapely.box(1, 0, 2, 1)])))
    >>> len(arr.faces)
    2
    """
    lines = np.asarray(lines, dtype=object)
    noded = shapely.unary_union(lines)
    parts = shapely.get_parts(noded)
    return Arrangement.from_faces(shapely.get_parts(shapely.polygonize(parts)))


def containers(points: np.ndarray, polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ``(point, polygon)`` pairs with the point within the polygon.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> pts = shapely.points([[0.5, 0.5]])
    >>> [a.tolist() for a in containers(pts, np.array([shapely.box(0, 0, 1, 1), shapely.box(0, 0, 2, 2)]))]
    [[0, 0], [0, 1]]
    """
    if len(points) == 0 or len(polys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pi, gi = shapely.STRtree(polys).query(points, predicate="within")
    return pi, gi


def group_perimeter(labels: np.ndarray, arr: Arrangement, n_groups: int) -> np.ndarray:
    """Perimeter of each union of faces ``labels == g`` (exact, from shared edges).

    Examples
    --------
    >>> import numpy as np, shapely
    >>> arr = arrangement(as_lines(np.array([shapely.box(0, 0, 2, 1), shapely.box(1, 0, 2, 1)])))
    >>> group_perimeter(np.array([0, 0]), arr, 1).round(6).tolist()
    [6.0]
    """
    valid = labels >= 0
    per = np.bincount(labels[valid], weights=arr.perimeter[valid], minlength=n_groups)
    li, lj = labels[arr.edges.i], labels[arr.edges.j]
    internal = (li == lj) & (li >= 0)
    per -= 2 * np.bincount(li[internal], weights=arr.edges.length[internal], minlength=n_groups)
    return np.maximum(per, 0.0)


def _find(parent: dict[int, int], x: int) -> int:
    while parent.get(x, x) != x:
        x = parent[x]
    return x


def merge_slivers(
    arr: Arrangement,
    group: np.ndarray,
    *,
    min_area: float,
    min_thinness: float,
    max_width: float,
    protect: np.ndarray | None = None,
) -> np.ndarray:
    """Merge sliver faces into neighbours of the same ``group``; returns a block label per face.

    A block is a sliver when its area is below ``min_area``, or when its Polsby–Popper
    thinness is below ``min_thinness`` *and* its mean width ``2A/P`` is below ``max_width``.
    A sliver joins the neighbour (same group, ``group >= 0``) it shares the longest boundary
    with, preferring non-slivers. Faces with ``group < 0`` are never merged. ``protect`` marks
    faces that must not be absorbed into others (they may still absorb slivers).

    Examples
    --------
    >>> import numpy as np, shapely
    >>> arr = arrangement(as_lines(np.array([shapely.box(0, 0, 10.05, 10), shapely.box(0, 0, 10, 10)])))
    >>> merge_slivers(arr, np.zeros(len(arr.faces), dtype=int), min_area=1.0, min_thinness=0.1,
    ...               max_width=1.0).tolist()
    [0, 0]
    """
    n = len(arr.faces)
    lab = np.arange(n, dtype=np.int64)
    lab[group < 0] = -1
    if protect is None:
        protect = np.zeros(n, dtype=bool)
    ei, ej, elen = arr.edges.i, arr.edges.j, arr.edges.length
    same_group = (group[ei] == group[ej]) & (group[ei] >= 0)
    ei, ej, elen = ei[same_group], ej[same_group], elen[same_group]
    for _ in range(50):
        valid = lab >= 0
        area = np.bincount(lab[valid], weights=arr.area[valid], minlength=n)
        per = group_perimeter(lab, arr, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            thin = np.where(per > 0, 4 * np.pi * area / per**2, 1.0)
            width = np.where(per > 0, 2 * area / per, np.inf)
        is_block = np.zeros(n, dtype=bool)
        is_block[lab[valid]] = True
        prot = np.zeros(n, dtype=bool)
        prot[lab[valid & protect]] = True
        sliver = is_block & ~prot & (
            (area < min_area) | ((thin < min_thinness) & (width < max_width))
        )
        if not sliver.any():
            break
        bi, bj = lab[ei], lab[ej]
        cross = bi != bj
        bi, bj, bl = bi[cross], bj[cross], elen[cross]
        # shared length between blocks (both directions)
        s_of, d_of, tot = pair_totals(np.concatenate([bi, bj]), np.concatenate([bj, bi]),
                                      np.concatenate([bl, bl]), n)
        cand = sliver[s_of]
        s_of, d_of, tot = s_of[cand], d_of[cand], tot[cand]
        if len(s_of) == 0:
            break
        # rank: non-sliver targets first, then longest shared boundary, then lowest label
        order = np.lexsort((d_of, -tot, sliver[d_of].astype(int), s_of))
        s_of, d_of = s_of[order], d_of[order]
        first = np.concatenate([[True], s_of[1:] != s_of[:-1]])
        target = dict(zip(s_of[first].tolist(), d_of[first].tolist(), strict=True))
        # union-find so chains of slivers resolve; process smallest slivers first
        parent: dict[int, int] = {}
        changed = False
        for s in sorted(target, key=lambda b: (area[b], b)):
            rs, rt = _find(parent, s), _find(parent, target[s])
            if rs != rt:
                parent[rs] = rt
                changed = True
        if not changed:
            break
        mapping = np.arange(n)
        for x in list(parent):
            mapping[x] = _find(parent, x)
        lab = np.where(lab >= 0, mapping[np.maximum(lab, 0)], -1)
    # compact labels: 0..B-1 in order of first face
    valid = lab >= 0
    uniq, inv = np.unique(lab[valid], return_inverse=True)
    out = np.full(n, -1, dtype=np.int64)
    out[valid] = inv
    return out


def neck_cuts(faces: np.ndarray, width: float, *, along_factor: float = 10.0,
              extend: float = 0.01) -> np.ndarray:
    """Short lines that cut faces at necks narrower than ``width``.

    A neck is a vertex of a face's boundary that lies within ``width`` of another part of the
    same boundary that is far away along the boundary (more than ``along_factor * width``, so
    sharp corners are not necks; any distance between different rings). The cut runs from the
    vertex to the nearest point of that part, extended by ``extend`` at both ends so that it
    nodes cleanly with the boundary. Cutting there keeps a grid from being two lobes joined by
    a hair-thin strip.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> dumbbell = shapely.union_all([shapely.box(0, 0, 10, 10), shapely.box(10, 4.9, 30, 5.1),
    ...                               shapely.box(30, 0, 40, 10)])
    >>> len(neck_cuts(np.array([dumbbell]), 1.0)) > 0
    True
    """
    faces = np.asarray(faces, dtype=object)
    if len(faces) == 0 or width <= 0:
        return np.empty(0, dtype=object)
    seg = ring_segments(faces)
    seg_a, seg_b, seg_ring, seg_len = seg.a, seg.b, seg.ring, seg.length
    # arc position of each segment start along its ring
    cum = np.cumsum(seg_len) - seg_len
    seg_pos = cum - cum[np.searchsorted(seg_ring, seg_ring)]
    ring_len = np.bincount(seg_ring, weights=seg_len)
    # vertices = segment starts
    vx, v_ring, v_pos = seg_a, seg_ring, seg_pos
    tree = shapely.STRtree(segment_lines(seg_a, seg_b))
    vi, si = tree.query(shapely.points(vx), predicate="dwithin", distance=width)
    if len(vi) == 0:
        return np.empty(0, dtype=object)
    same_face = seg.owner[vi] == seg.owner[si]
    vi, si = vi[same_face], si[same_face]
    # nearest point of the segment to the vertex, and its arc position
    p, a, b = vx[vi], seg_a[si], seg_b[si]
    d = b - a
    dd = np.maximum((d * d).sum(axis=1), 1e-300)
    t = np.clip(((p - a) * d).sum(axis=1) / dd, 0.0, 1.0)
    q = a + t[:, None] * d
    dist = np.hypot(*(q - p).T)
    same_ring = v_ring[vi] == seg_ring[si]
    along = np.abs(v_pos[vi] - (seg_pos[si] + t * seg_len[si]))
    along = np.minimum(along, ring_len[v_ring[vi]] - along)
    neck = (dist > 1e-9) & (dist < width) & (~same_ring | (along > along_factor * width))
    if not neck.any():
        return np.empty(0, dtype=object)
    vi, p, q, dist = vi[neck], p[neck], q[neck], dist[neck]
    # one cut per vertex: the nearest
    order = np.lexsort((dist, vi))
    vi, p, q, dist = vi[order], p[order], q[order], dist[order]
    first = np.concatenate([[True], vi[1:] != vi[:-1]])
    p, q, dist = p[first], q[first], dist[first]
    u = (q - p) / dist[:, None]
    start = p - u * extend
    end = q + u * extend
    return segment_lines(start, end)
