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

"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._geometry import (
    Arrangement,
    line_segments,
    oriented,
    present,
    segment_lines,
    shared_edges,
    single_parts,
)
from ..errors import PartitionError
from ..i18n import tr
from ..partition.blocks import arrangement, as_lines

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .context import PlanContext

__all__ = [
    "EXTEND_M",
    "Retiling",
    "touching",
    "retile",
    "exact_arrangement",
    "inner_points",
    "unique_segments",
    "interior_lines",
    "extend_ends",
    "assemble",
    "check_neighbours",
    "coverage_ok",
    "clip_lines",
    "InexactEdit",
    "Retiled",
    "apply_retiling",
    "retile_edit",
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


def touching(tree: Any, geoms: np.ndarray, idx: Iterable[int]) -> np.ndarray:
    """Sorted indices of the grids intersecting any of ``geoms[idx]`` (including ``idx``).

    ``tree`` indexes ``geoms``: a :class:`gridgis.plan.index.GridIndex` or a
    :class:`shapely.STRtree`.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> g = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(5, 5, 6, 6)])
    >>> touching(shapely.STRtree(g), g, [0]).tolist()
    [0, 1]
    """
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


def retile(geoms: np.ndarray, edited: Iterable[int], lines: np.ndarray, tree: Any) -> Retiling:
    """Node the region around ``edited`` with ``lines`` and label its faces by their old grids.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> g = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> cut = clip_lines(np.array([shapely.LineString([(0.5, -1), (0.5, 2)])]), g[0])
    >>> ret = retile(g, [0], cut, shapely.STRtree(g))
    >>> ret.region.tolist(), ret.faces_of(0).tolist()
    ([0, 1], [0, 1])
    """
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

    Examples
    --------
    >>> import numpy as np, shapely
    >>> g = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> len(unique_segments(shapely.boundary(g)))  # the shared edge once
    7
    """
    lines = np.asarray(lines, dtype=object)
    if not len(lines):
        return np.empty(0, dtype=object)
    p, q = oriented(*line_segments(lines))
    keep = np.any(p != q, axis=1)
    seg = np.unique(np.hstack([p[keep], q[keep]]), axis=0)
    return segment_lines(seg[:, :2], seg[:, 2:])


def exact_arrangement(base: np.ndarray, lines: np.ndarray) -> Arrangement:
    """Faces of ``base`` linework (grid rings) cut by ``lines``, keeping every vertex.

    ``unary_union`` (used by the builder for a whole district) may fall back to snapping when
    lines nearly coincide, moving or dropping vertices; a grid edge shared with a grid outside
    the edited region must keep its exact vertices, so the linework is de-duplicated segment by
    segment and noded with the plain GEOS noder (intersections are added, nothing is moved).
    Falls back to :func:`gridgis.partition.blocks.arrangement` if the noder fails.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> g = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> cut = np.array([shapely.LineString([(0.5, -0.1), (0.5, 1.1)])])
    >>> sorted(exact_arrangement(shapely.boundary(g), cut).area.round(2).tolist())
    [0.5, 0.5, 1.0]
    """
    lines = np.asarray(lines, dtype=object)
    allx = np.concatenate([base, lines]) if len(lines) else np.asarray(base, dtype=object)
    try:
        segs = unique_segments(allx)
        noded = shapely.node(shapely.multilinestrings(segs))
        segs = unique_segments(shapely.get_parts(noded))
    except shapely.errors.GEOSException:  # pragma: no cover - noder robustness failure
        return inner_points(arrangement(allx))
    return inner_points(Arrangement.from_faces(shapely.get_parts(shapely.polygonize(segs))))


def inner_points(arr: Arrangement) -> Arrangement:
    """``arr`` with a representative point strictly inside every face.

    GEOS's point-on-surface falls on the edge of a face with a hair-thin spike, as where a grid
    line down the middle of a road-space strip meets a grid edge; such a face would be found in
    no grid and dropped (a gap). Those faces get the centre of their largest inscribed circle.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> spiked = shapely.Polygon([(390032.56619522255, 3080707.508467252),
    ...                           (390032.44785318954, 3080726.8531723022),
    ...                           (390032.6828370944, 3080688.4416779615),
    ...                           (390001.2855362721, 3080689.2225169116)])
    >>> arr = inner_points(Arrangement.from_faces(np.array([spiked])))
    >>> bool(shapely.contains_properly(spiked, arr.rep[0]))
    True
    """
    bad = ~shapely.contains_properly(arr.faces, arr.rep)
    if not bad.any():
        return arr
    rep = arr.rep.copy()
    centres = shapely.get_point(shapely.maximum_inscribed_circle(arr.faces[bad]), 0)
    inside = shapely.contains_properly(arr.faces[bad], centres)
    rep[np.flatnonzero(bad)[inside]] = centres[inside]
    return dataclasses.replace(arr, rep=rep)


def assemble(ret: Retiling, labels: np.ndarray, geoms: np.ndarray, keep_same: np.ndarray
             ) -> dict[int, shapely.Geometry]:
    """Geometry of every label: the coverage union of its faces.

    ``labels[k]`` is the new owner of pair ``k``. Labels listed in ``keep_same`` (untouched
    neighbours) keep their old geometry object when their faces are just that geometry (no new
    vertex), so an edit does not churn vertices it has no reason to touch.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> g = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> ret = retile(g, [0], np.empty(0, dtype=object), shapely.STRtree(g))
    >>> out = assemble(ret, ret.pg, g, keep_same=[1])
    >>> out[1] is g[1], float(shapely.area(out[0]))
    (True, 1.0)
    """
    out: dict[int, shapely.Geometry] = {}
    merged: dict[int, shapely.Geometry] = {}
    keep = set(int(x) for x in keep_same)
    pairs = np.unique(np.stack([labels, ret.pf], axis=1), axis=0) if len(labels) else \
        np.zeros((0, 2), dtype=np.int64)
    for lab in np.unique(pairs[:, 0]).tolist():
        faces = ret.arr.faces[pairs[pairs[:, 0] == lab, 1]]
        if lab in keep and len(faces) == 1 and \
                shapely.get_num_coordinates(faces[0]) == shapely.get_num_coordinates(geoms[lab]):
            out[lab] = geoms[lab]
            continue
        out[lab] = merged[lab] = (shapely.coverage_union_all(faces) if len(faces) > 1
                                  else faces[0])
    if merged:  # one-part MultiPolygons as Polygons (keys keep their order)
        out.update(zip(merged, single_parts(np.array(list(merged.values()), dtype=object)),
                       strict=True))
    return out


def check_neighbours(old: np.ndarray, new: dict[int, shapely.Geometry], neighbours: Iterable[int]
                     ) -> None:
    """Raise :class:`InexactEdit` when a grid that is not edited gained or lost land.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> g = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> check_neighbours(g, {0: g[0], 1: g[1]}, [1])  # nothing moved: no error
    """
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
    """``shapely.coverage_is_valid`` that treats GEOS errors as invalid.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> coverage_ok(np.array([shapely.box(0, 0, 1, 1), shapely.box(0.5, 0, 2, 1)]))
    False
    """
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[present(geoms)]
    try:
        return bool(shapely.coverage_is_valid(geoms))
    except shapely.errors.GEOSException:  # pragma: no cover - invalid input
        return False


def clip_lines(lines: np.ndarray, area: shapely.Geometry, extend: float = EXTEND_M) -> np.ndarray:
    """Parts of ``lines`` inside ``area``, their free ends lengthened by ``extend`` metres.

    Stretches running along the edge of ``area`` (a road on a grid boundary) are dropped: the
    edge is already there, and noding a second copy of it would add vertices to the edges of
    grids beyond the edited region.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> line = np.array([shapely.LineString([(0.5, -1), (0.5, 2)])])
    >>> shapely.bounds(clip_lines(line, shapely.box(0, 0, 1, 1), 0.05)).round(2).tolist()
    [[0.5, -0.05, 0.5, 1.05]]
    """
    lines = np.asarray(lines, dtype=object)
    if not len(lines):
        return np.empty(0, dtype=object)
    parts = _line_parts(shapely.intersection(lines, area))
    if not len(parts):
        return parts
    # drop segments lying along the edge (both ends and the middle within _EDGE_M of it)
    a, b = line_segments(parts)
    edge = shapely.boundary(area)
    shapely.prepare(edge)

    def near(xy: np.ndarray) -> np.ndarray:
        return shapely.dwithin(edge, shapely.points(xy), _EDGE_M)

    along = near(a) & near(b) & near((a + b) / 2.0)
    a, b = a[~along], b[~along]
    if not len(a):
        return np.empty(0, dtype=object)
    merged = shapely.line_merge(shapely.multilinestrings(segment_lines(a, b)))
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

    Examples
    --------
    >>> import numpy as np, shapely
    >>> g = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> shapely.to_wkt(interior_lines(g)[0])
    'LINESTRING (1 0, 1 1)'
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
    merged = shapely.line_merge(shapely.multilinestrings(segment_lines(se.seg_a[keep],
                                                                       se.seg_b[keep])))
    return _line_parts(np.array([merged], dtype=object))


def extend_ends(lines: np.ndarray, distance: float = EXTEND_M) -> np.ndarray:
    """Lengthen the free ends of a line network (ends met by no other line) by ``distance``.

    Inner lines of rebuilt grids end exactly on the community edge; lengthened a little they
    cross it and node with the old boundary instead of stopping a hair short of it.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> line = np.array([shapely.LineString([(0, 0), (1, 0)])])
    >>> shapely.to_wkt(extend_ends(line, 0.5)[0])
    'LINESTRING (-0.5 0, 1.5 0)'
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


# ---- applying a re-tiling to a plan ---------------------------------------------------------------


@dataclass
class Retiled:
    """A plan table after a re-tiling edit and the grid codes it added, removed and changed."""

    grids: gpd.GeoDataFrame
    added: list[str]
    removed: list[str]
    changed: list[str]


def _check_ring(ctx: PlanContext, geoms: np.ndarray, ret: Retiling, out: dict[int, Any]) -> None:
    """Raise :class:`InexactEdit` when the re-tiled region stops being a valid coverage."""
    n = len(geoms)
    ring = touching(ctx.grid_index, geoms, ret.region)
    region_set = set(int(r) for r in ret.region)
    new_ring = np.array([out[int(r)] if int(r) in out else geoms[r] for r in ring
                         if int(r) in out or int(r) not in region_set]
                        + [v for k, v in out.items() if k >= n], dtype=object)
    if coverage_ok(geoms[ring]) and not coverage_ok(new_ring):
        raise InexactEdit("the edit would break the exact coverage of its neighbourhood")


def _area_shares(grids: gpd.GeoDataFrame, ret: Retiling, labels: np.ndarray
                 ) -> tuple[dict[int, float], dict[int, float]]:
    """Households and population of every label as area shares of the old grids' counts."""
    farea = ret.arr.area[ret.pf]
    tot = pd.Series(farea).groupby(ret.pg).transform("sum").to_numpy()
    share = np.where(tot > 0, farea / np.maximum(tot, 1e-12), 0.0)
    out: tuple[dict[int, float], dict[int, float]] = ({}, {})
    for col, acc in zip((schema.HOUSEHOLDS, schema.POPULATION), out, strict=True):
        vals = grids[col].to_numpy(float)[ret.pg] * share
        for lab, v in zip(labels.tolist(), vals.tolist(), strict=True):
            acc[lab] = acc.get(lab, 0.0) + (0.0 if np.isnan(v) else v)
    return out


def _new_rows(ctx: PlanContext, grids: gpd.GeoDataFrame, out: dict[int, Any],
              new_parts: list[dict[str, Any]], shares: tuple[dict, dict] | None
              ) -> tuple[list[pd.Series], list[str]]:
    n = len(grids)
    rows, added = [], []
    taken = set(grids[schema.GRID_CODE])
    for j, part in enumerate(new_parts):
        lab = n + j
        if lab not in out:
            continue
        base = grids.iloc[int(part["base"])]
        row = base.copy()
        comm = part.get("community_code", base[schema.COMMUNITY_CODE])
        kind = part.get("kind", base[schema.KIND])
        code = part.get("grid_code") or ctx.codes.fresh(comm, kind, taken)
        taken.add(code)
        row[schema.GRID_CODE] = code
        row[schema.COMMUNITY_CODE] = comm
        row[schema.KIND] = kind
        row[schema.GRID_NAME] = part.get("grid_name") or ctx.codes.name(
            code, comm, kind, str(base[schema.GRID_NAME]), j + 2)
        row[schema.FLAG] = part.get("flag", "")
        row[schema.HOUSEHOLDS] = np.nan if shares is None else shares[0].get(lab, np.nan)
        row[schema.POPULATION] = np.nan if shares is None else shares[1].get(lab, np.nan)
        row[grids.geometry.name] = out[lab]
        rows.append(row)
        added.append(code)
    return rows, added


def apply_retiling(ctx: PlanContext, grids: gpd.GeoDataFrame, ret: Retiling,
                   labels: np.ndarray, edited: Sequence[int],
                   new_parts: list[dict[str, Any]]) -> Retiled:
    """Turn relabelled faces into a new grid table.

    ``labels[k]`` is the new owner of pair ``k`` of ``ret``: a grid index, or ``n + j`` for
    the ``j``-th entry of ``new_parts`` (dicts with ``community_code``, ``kind``, ``base``
    (row whose attributes it copies) and optional ``grid_code``/``grid_name``/``flag``).
    ``ctx.grid_index`` must index ``grids``. Without buildings, households and population move
    with the land (area shares).

    Raises
    ------
    InexactEdit
        If a neighbour would change or the region would stop being a valid coverage.

    Examples
    --------
    >>> done = apply_retiling(ctx, grids, ret, labels, [r], [])  # doctest: +SKIP
    >>> done.changed  # doctest: +SKIP
    ['430302001001003']
    """
    n = len(grids)
    geoms = np.asarray(grids.geometry.array, dtype=object)
    edited_set = set(int(e) for e in edited)
    neighbours = [int(r) for r in ret.region if int(r) not in edited_set]
    out = assemble(ret, labels, geoms, keep_same=neighbours)
    check_neighbours(geoms, out, neighbours)
    _check_ring(ctx, geoms, ret, out)
    shares = _area_shares(grids, ret, labels) if ctx.buildings is None else None
    new_geoms = geoms.copy()
    changed, removed = [], []
    codes = grids[schema.GRID_CODE].to_numpy(object)
    for r in sorted(edited_set | set(neighbours)):
        if r in out:
            if out[r] is not geoms[r]:
                new_geoms[r] = out[r]
            if r in edited_set:
                changed.append(codes[r])
        else:
            removed.append(codes[r])
    new = grids.copy().set_geometry(gpd.GeoSeries(new_geoms, crs=grids.crs))
    if shares is not None:
        for r, v in shares[0].items():
            if r < n:
                new.loc[r, schema.HOUSEHOLDS] = v
                new.loc[r, schema.POPULATION] = shares[1].get(r, 0.0)
    rows, added = _new_rows(ctx, grids, out, new_parts, shares)
    new = new[~np.isin(codes, removed)]
    if rows:
        extra = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=new.geometry.name, crs=grids.crs)
        new = pd.concat([new, extra], ignore_index=True)
    new = gpd.GeoDataFrame(new, geometry=grids.geometry.name, crs=grids.crs).reset_index(
        drop=True)
    return Retiled(new, added, removed, changed)


def retile_edit(ctx: PlanContext, grids: gpd.GeoDataFrame, edited: Sequence[int],
                lines_for: Callable[[float], np.ndarray],
                relabel: Callable[[Retiling], tuple[np.ndarray, list[dict]]]) -> Retiled:
    """Re-tile around ``edited`` with the lines ``lines_for(extend)`` and apply
    ``relabel(ret) -> (labels, new_parts)`` (:func:`apply_retiling`), retrying with shorter
    line extensions when the first noding disturbs a neighbour.

    Raises
    ------
    PartitionError
        If the edit cannot be applied exactly.

    Examples
    --------
    >>> done = retile_edit(ctx, grids, [r], lambda e: clip_lines(line, geom, e),
    ...                    relabel)  # doctest: +SKIP
    """
    geoms = np.asarray(grids.geometry.array, dtype=object)
    last: Exception | None = None
    for extend in (EXTEND_M, 0.002):
        ret = retile(geoms, edited, lines_for(extend), ctx.grid_index)
        labels, parts = relabel(ret)
        try:
            return apply_retiling(ctx, grids, ret, labels, edited, parts)
        except InexactEdit as exc:
            last = exc
    raise PartitionError(
        tr("the edit could not be applied exactly ({last})", last=last),
        fix=tr("draw the line or area a little differently (away from grid corners)"))
