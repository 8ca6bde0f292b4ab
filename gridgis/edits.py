"""Geometry and bookkeeping behind :class:`gridgis.plan.Plan` edits.

Exact re-tiling
---------------
Every edit that moves land (split, transfer, rebuild) re-tiles a small *region*: the edited grids
and every grid touching them. The boundaries of the region's grids and the new lines (a split
line, building cut lines, the inner edges of rebuilt grids) are noded together and polygonized
once (:func:`gridgis.partition.blocks.arrangement`, the builder's own arrangement), so every face
shares identical vertices with its neighbours. Each face remembers which old grid(s) it lay in;
the edit only relabels faces of the edited grids, and the new grids are coverage unions of their
faces. Hence the region stays a valid coverage whose union is unchanged, and untouched
neighbours keep their land exactly (they only gain vertices where a new line meets their edge).
New lines are clipped to the edited grids grown by :data:`EXTEND_M`, so they reach a little
beyond the grid edge and node cleanly with it; what sticks out into a neighbour is a dangle that
polygonize drops.

:func:`compare_findings` tells which validator findings an edit caused, cleared or changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely

from .errors import PartitionError
from .partition.blocks import Arrangement, arrangement, as_lines
from .partition.geom import shared_edges
from .validation import Finding

__all__ = [
    "EXTEND_M",
    "Retiling",
    "touching",
    "retile",
    "exact_arrangement",
    "unique_segments",
    "interior_lines",
    "extend_ends",
    "finding_key",
    "compare_findings",
]

#: New lines reach this far beyond the edited grids so that they node with the grid edge (m).
EXTEND_M = 0.05
#: Lines within this distance of a grid edge count as running along it (m).
_EDGE_M = 1e-3
#: Relative area change that counts as "a neighbour lost or gained land".
_AREA_REL = 1e-7
_AREA_ABS = 1e-3


class InexactEdit(PartitionError):
    """Raised when re-tiling would change land of a grid that is not edited."""


def touching(tree: shapely.STRtree, geoms: np.ndarray, idx: Iterable[int]) -> np.ndarray:
    """Sorted indices of the grids intersecting any of ``geoms[idx]`` (including ``idx``)."""
    idx = np.asarray(sorted(set(int(i) for i in idx)), dtype=np.int64)
    if not len(idx):
        return idx
    _, hit = tree.query(geoms[idx], predicate="intersects")
    return np.unique(np.concatenate([idx, hit]))


@dataclass
class Retiling:
    """Faces of a re-tiled region and the old grid(s) each face lies in.

    Attributes
    ----------
    arr
        The arrangement (faces, areas, shared edges).
    region
        Global indices of the grids in the region (edited grids and their neighbours).
    pf, pg
        Pairs ``(face, grid)``: face ``pf[k]`` lies in grid ``pg[k]`` (global index). A face in
        two grids (an overlap of a hand-drawn plan) has two pairs; a face in none (a gap) none.
    """

    arr: Arrangement
    region: np.ndarray
    pf: np.ndarray
    pg: np.ndarray

    def faces_of(self, g: int) -> np.ndarray:
        """Faces lying in grid ``g``."""
        return np.unique(self.pf[self.pg == g])


def retile(geoms: np.ndarray, edited: Iterable[int], lines: np.ndarray,
           tree: shapely.STRtree) -> Retiling:
    """Node the region around ``edited`` with ``lines`` and label its faces by their old grids."""
    region = touching(tree, geoms, edited)
    lines = np.asarray(lines, dtype=object)
    arr = exact_arrangement(as_lines(geoms[region]), lines)
    pi, gi = shapely.STRtree(geoms[region]).query(arr.rep, predicate="within")
    order = np.lexsort((gi, pi))
    return Retiling(arr=arr, region=region, pf=pi[order], pg=region[gi[order]])


def unique_segments(lines: np.ndarray) -> np.ndarray:
    """Every distinct segment of ``lines`` once, as two-point LineStrings (zero-length dropped).

    Shared grid edges appear in both grids' rings; keeping each segment once lets the noder
    split only where lines really cross.
    """
    lines = np.asarray(lines, dtype=object)
    if not len(lines):
        return np.empty(0, dtype=object)
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    same = idx[1:] == idx[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    p = np.where(swap[:, None], b, a)
    q = np.where(swap[:, None], a, b)
    keep = np.any(p != q, axis=1)
    seg = np.unique(np.hstack([p[keep], q[keep]]), axis=0)
    return shapely.linestrings(seg.reshape(-1, 2), indices=np.repeat(np.arange(len(seg)), 2))


def exact_arrangement(base: np.ndarray, lines: np.ndarray) -> Arrangement:
    """Faces of ``base`` linework (grid rings) cut by ``lines``, keeping every vertex.

    ``unary_union`` (used by the builder for a whole district) may fall back to snapping when
    lines nearly coincide, moving or dropping vertices; a grid edge shared with a grid outside
    the edited region must keep its exact vertices, so the linework is de-duplicated segment by
    segment and noded with the plain GEOS noder (intersections are added, nothing is moved).
    Falls back to :func:`gridgis.partition.blocks.arrangement` if the noder fails.
    """
    lines = np.asarray(lines, dtype=object)
    allx = np.concatenate([base, lines]) if len(lines) else np.asarray(base, dtype=object)
    try:
        segs = unique_segments(allx)
        noded = shapely.node(shapely.multilinestrings(segs))
        segs = unique_segments(shapely.get_parts(noded))
    except shapely.errors.GEOSException:  # pragma: no cover - noder robustness failure
        return arrangement(allx)
    faces = shapely.get_parts(shapely.polygonize(segs))
    faces = faces[shapely.area(faces) > 0]
    return Arrangement(
        faces=faces,
        area=shapely.area(faces),
        perimeter=shapely.length(faces),
        rep=shapely.point_on_surface(faces),
        edges=shared_edges(faces),
    )


def assemble(ret: Retiling, labels: np.ndarray, geoms: np.ndarray, keep_same: np.ndarray
             ) -> dict[int, shapely.Geometry]:
    """Geometry of every label: the coverage union of its faces.

    ``labels[k]`` is the new owner of pair ``k``. Labels listed in ``keep_same`` (untouched
    neighbours) keep their old geometry object when their faces are just that geometry (no new
    vertex), so an edit does not churn vertices it has no reason to touch.
    """
    out: dict[int, shapely.Geometry] = {}
    keep = set(int(x) for x in keep_same)
    pairs = np.unique(np.stack([labels, ret.pf], axis=1), axis=0) if len(labels) else \
        np.zeros((0, 2), dtype=np.int64)
    for lab in np.unique(pairs[:, 0]).tolist():
        faces = ret.arr.faces[pairs[pairs[:, 0] == lab, 1]]
        if lab in keep and len(faces) == 1 and \
                shapely.get_num_coordinates(faces[0]) == shapely.get_num_coordinates(geoms[lab]):
            out[lab] = geoms[lab]
            continue
        geom = shapely.coverage_union_all(faces) if len(faces) > 1 else faces[0]
        out[lab] = _single(geom)
    return out


def _single(geom: shapely.Geometry) -> shapely.Geometry:
    """A MultiPolygon of one part as a Polygon."""
    if geom.geom_type == "MultiPolygon" and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom


def check_neighbours(old: np.ndarray, new: dict[int, shapely.Geometry], neighbours: Iterable[int]
                     ) -> None:
    """Raise :class:`InexactEdit` when a grid that is not edited gained or lost land."""
    for g in neighbours:
        g = int(g)
        if g not in new:
            raise InexactEdit(f"grid #{g} lost all its land while re-tiling")
        a_old = float(shapely.area(old[g]))
        tol = max(_AREA_ABS, _AREA_REL * a_old)
        if abs(float(shapely.area(new[g])) - a_old) > tol:
            raise InexactEdit(f"grid #{g} changed while re-tiling")
        if new[g] is not old[g] and float(shapely.area(
                shapely.symmetric_difference(new[g], old[g]))) > tol:
            raise InexactEdit(f"grid #{g} moved while re-tiling")


def coverage_ok(geoms: np.ndarray) -> bool:
    """``shapely.coverage_is_valid`` that treats GEOS errors as invalid."""
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    try:
        return bool(shapely.coverage_is_valid(geoms))
    except shapely.errors.GEOSException:  # pragma: no cover - invalid input
        return False


def clip_lines(lines: np.ndarray, area: shapely.Geometry, extend: float = EXTEND_M) -> np.ndarray:
    """Parts of ``lines`` inside ``area``, their free ends lengthened by ``extend`` metres.

    Stretches running along the edge of ``area`` (a road on a grid boundary) are dropped: the
    edge is already there, and noding a second copy of it would add vertices to the edges of
    grids beyond the edited region.
    """
    lines = np.asarray(lines, dtype=object)
    if not len(lines):
        return np.empty(0, dtype=object)
    parts = _line_parts(shapely.intersection(lines, area))
    if not len(parts):
        return parts
    # drop segments lying along the edge (both ends and the middle within _EDGE_M of it)
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    same = idx[1:] == idx[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    edge = shapely.boundary(area)
    shapely.prepare(edge)

    def near(xy: np.ndarray) -> np.ndarray:
        return shapely.dwithin(edge, shapely.points(xy), _EDGE_M)

    along = near(a) & near(b) & near((a + b) / 2.0)
    a, b = a[~along], b[~along]
    if not len(a):
        return np.empty(0, dtype=object)
    segs = shapely.linestrings(np.stack([a, b], axis=1).reshape(-1, 2),
                               indices=np.repeat(np.arange(len(a)), 2))
    merged = shapely.line_merge(shapely.multilinestrings(segs))
    return extend_ends(_line_parts(np.array([merged], dtype=object)), extend)


def _line_parts(geoms: np.ndarray) -> np.ndarray:
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    if not len(parts):
        return np.empty(0, dtype=object)
    tid = shapely.get_type_id(parts)
    nested = tid == 7  # geometry collections from intersections
    if nested.any():
        parts = np.concatenate([parts[~nested], shapely.get_parts(parts[nested])])
        tid = shapely.get_type_id(parts)
    lines = parts[tid == 1]
    multi = parts[tid == 5]
    if len(multi):
        lines = np.concatenate([lines, shapely.get_parts(multi)])
    return lines[shapely.length(lines) > 0]


def interior_lines(polys: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
    """Edges shared by two of ``polys`` (only pairs both in ``among`` when given), merged.

    ``polys`` must come from one noded arrangement (exact shared vertices), e.g. builder grids.
    """
    polys = np.asarray(polys, dtype=object)
    se = shared_edges(polys)
    if not len(se.i):
        return np.empty(0, dtype=object)
    keep_pair = np.ones(len(se.i), dtype=bool)
    if among is not None:
        among = np.asarray(among, dtype=bool)
        keep_pair = among[se.i] & among[se.j]
    keep = keep_pair[se.seg_pair]
    if not keep.any():
        return np.empty(0, dtype=object)
    a, b = se.seg_a[keep], se.seg_b[keep]
    segs = shapely.linestrings(np.stack([a, b], axis=1).reshape(-1, 2),
                               indices=np.repeat(np.arange(len(a)), 2))
    merged = shapely.line_merge(shapely.multilinestrings(segs))
    return _line_parts(np.array([merged], dtype=object))


def extend_ends(lines: np.ndarray, distance: float = EXTEND_M) -> np.ndarray:
    """Lengthen the free ends of a line network (ends met by no other line) by ``distance``.

    Inner lines of rebuilt grids end exactly on the community edge; lengthened a little they
    cross it and node with the old boundary instead of stopping a hair short of it.
    """
    lines = np.asarray(lines, dtype=object)
    if not len(lines):
        return lines
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    starts = np.r_[0, np.flatnonzero(np.diff(idx)) + 1]
    ends = np.r_[starts[1:] - 1, len(idx) - 1]
    endpoints = np.vstack([coords[starts], coords[ends]])
    key = [tuple(p) for p in np.round(endpoints, 6)]
    degree: dict[tuple, int] = defaultdict(int)
    for k in key:
        degree[k] += 1
    coords = coords.copy()
    n = len(starts)
    for j in range(n):
        s, e = starts[j], ends[j]
        if e == s:
            continue
        for end, inner in ((s, s + 1), (e, e - 1)):
            k = key[j] if end == s else key[n + j]
            if degree[k] > 1:
                continue
            d = coords[end] - coords[inner]
            norm = float(np.hypot(*d))
            if norm > 0:
                coords[end] = coords[end] + d / norm * distance
    return shapely.linestrings(coords, indices=idx)


# ---- findings ------------------------------------------------------------------------------------


def finding_key(f: Finding) -> tuple:
    """Identity of a finding across validations: rule, grids, item and community."""
    return (f.rule, tuple(sorted(f.grids)), f.item or "", f.parent or "")


def _same(a: Finding, b: Finding) -> bool:
    ma, mb = a.measure, b.measure
    same_measure = (ma is None and mb is None) or (
        ma is not None and mb is not None and abs(float(ma) - float(mb)) <= 1e-6 * max(
            1.0, abs(float(ma))))
    return a.severity == b.severity and same_measure


def compare_findings(before: Iterable[Finding], after: Iterable[Finding]
                     ) -> tuple[list[Finding], list[Finding], list[tuple[Finding, Finding]]]:
    """Findings ``after`` has and ``before`` lacks (caused), the reverse (cleared), and those
    present in both whose measure or severity changed (``(before, after)`` pairs).

    Findings are matched by :func:`finding_key`; several with one key are paired in order of
    their measure.
    """
    groups_b: dict[tuple, list[Finding]] = defaultdict(list)
    groups_a: dict[tuple, list[Finding]] = defaultdict(list)
    for f in before:
        groups_b[finding_key(f)].append(f)
    for f in after:
        groups_a[finding_key(f)].append(f)
    caused: list[Finding] = []
    cleared: list[Finding] = []
    changed: list[tuple[Finding, Finding]] = []

    def order(fs: list[Finding]) -> list[Finding]:
        return sorted(fs, key=lambda f: (-(f.measure or 0.0), f.severity, f.message))

    for key in sorted(set(groups_b) | set(groups_a), key=str):
        b, a = order(groups_b.get(key, [])), order(groups_a.get(key, []))
        for fb, fa in zip(b, a, strict=False):
            if not _same(fb, fa):
                changed.append((fb, fa))
        cleared.extend(b[len(a):])
        caused.extend(a[len(b):])
    return caused, cleared, changed
