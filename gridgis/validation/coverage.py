"""Seamless coverage: overlaps between grids and gaps (between grids, against the boundary)."""

from __future__ import annotations

from functools import partial
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from .. import schema
from .._geometry import EMPTY_POLYGON, explode, fast_union, polygonal, widths
from ..i18n import tr
from ._text import names, short_number, wide
from ._threads import chunked, min_chunk, threads, together
from .prepare import PreparedPlan
from .report import ERROR, WARNING, Finding

__all__ = ['check_overlaps', 'check_gaps', 'closing_envelope', 'union_by_group']


def _neighbours(plan: PreparedPlan, pieces: np.ndarray, touch_m: float) -> list[list[str]]:
    """Grids within ``touch_m`` of each piece."""
    out: list[list[str]] = [[] for _ in range(len(pieces))]
    if not len(pieces):
        return out
    pi, gi = plan.tree.query(pieces, predicate="dwithin", distance=touch_m)
    for p, g in zip(pi, gi, strict=True):
        out[p].append(plan.labels[plan.uidx[g]])
    return [sorted(set(x)) for x in out]


def _parent_of(parents: gpd.GeoDataFrame | None, pieces: np.ndarray) -> list[str | None]:
    if parents is None or not len(pieces):
        return [None] * len(pieces)
    pts = shapely.point_on_surface(pieces)
    tree = shapely.STRtree(np.asarray(parents.geometry.array))
    pi, qi = tree.query(pts, predicate="intersects")
    out: list[str | None] = [None] * len(pieces)
    codes = parents[schema.CODE].to_numpy()
    for p, q in zip(pi, qi, strict=True):
        if out[p] is None:
            out[p] = codes[q]
    return out


def check_overlaps(plan: PreparedPlan, tol: Any) -> list[Finding]:
    """Overlap findings: land claimed by two grids (noise when narrower than gap_width_m).

    Examples
    --------
    >>> from gridgis.rules import load_rules
    >>> plan, _, _ = prepare_grids(grids)  # doctest: +SKIP
    >>> check_overlaps(plan, load_rules().tolerances)  # doctest: +SKIP
    """
    ug = plan.geom[plan.uidx]
    a, b = plan.interior_pairs()
    if not len(a):
        return []
    inter = polygonal(shapely.intersection(ug[a], ug[b]))
    area = shapely.area(inter)
    keep = area > tol.area_floor_m2
    a, b, inter, area = a[keep], b[keep], inter[keep], area[keep]
    width = widths(inter, tol.gap_width_m, tol.width_rel)
    full_a = shapely.area(ug[a])
    full_b = shapely.area(ug[b])
    out = []
    for k in range(len(a)):
        ga, gb = plan.labels[plan.uidx[a[k]]], plan.labels[plan.uidx[b[k]]]
        noise = bool(width[k] < tol.gap_width_m)
        same = abs(area[k] - full_a[k]) < tol.coverage_rel * full_a[k] + tol.area_floor_m2 and \
            abs(area[k] - full_b[k]) < tol.coverage_rel * full_b[k] + tol.area_floor_m2
        if same:
            msg = tr("grids {a} and {b} have the same boundary (duplicate, {area} m²)",
                     a=ga, b=gb, area=short_number(area[k]))
        else:
            msg = tr("grids {a} and {b} overlap by {area} m² ({width})", a=ga, b=gb,
                     area=short_number(area[k]), width=wide(width[k], noise))
        if noise:
            msg += tr("; narrower than {gap:g} m: digitising noise", gap=tol.gap_width_m)
        pa = plan.named[plan.uidx[a[k]]] or None
        out.append(Finding("overlap", WARNING if noise else ERROR, tuple(sorted((ga, gb))),
                           float(area[k]), "m²", msg, geometry=inter[k], parent=pa, noise=noise,
                           width_m=float(width[k])))
    return out


def closing_envelope(union: shapely.Geometry, radius: float) -> shapely.Geometry:
    """Union with its holes filled and notches narrower than 2·radius closed (no parents).

    Examples
    --------
    >>> import shapely
    >>> closing_envelope(shapely.box(0, 0, 10, 10).difference(shapely.box(4, 4, 6, 6)), 1.0).area
    100.0
    """
    closed = shapely.buffer(shapely.buffer(union, radius, join_style="mitre", mitre_limit=10.0),
                            -radius, join_style="mitre", mitre_limit=10.0)
    closed = shapely.union(closed, union)
    parts = shapely.get_parts(closed)
    return shapely.union_all(shapely.polygons(shapely.get_exterior_ring(parts)))


def union_by_group(geoms: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Union of the polygons of each group ``0..n_groups-1`` (empty where a group has none).

    Groups of similar size are unioned together in one vectorised call (padded to the next
    power of two), so the work stays O(n log n) and memory O(n) however the sizes vary.

    >>> g = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(5, 5, 6, 6)])
    >>> [u.area for u in union_by_group(g, np.array([0, 0, 2]), 3)]
    [2.0, 0.0, 1.0]
    """
    out = np.full(n_groups, EMPTY_POLYGON, dtype=object)
    if not len(geoms):
        return out
    counts = np.bincount(group, minlength=n_groups)
    order = np.argsort(group, kind="stable")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    rank = np.arange(len(group)) - starts[group[order]]  # place of each member in its group
    width = np.where(counts > 0, 1 << np.ceil(np.log2(np.maximum(counts, 1))).astype(int), 0)
    for w in np.unique(width[width > 0]):
        members = np.flatnonzero(width == w)
        row = np.full(n_groups, -1, dtype=np.int64)
        row[members] = np.arange(len(members))
        sel = row[group[order]] >= 0
        table = np.full((len(members), int(w)), None, dtype=object)
        table[row[group[order][sel]], rank[sel]] = geoms[order[sel]]
        out[members] = shapely.union_all(table, axis=1)
    return out


def _community_gaps(plan: PreparedPlan, pg: np.ndarray, tol: Any) -> np.ndarray:
    """Pieces of each community in no grid, larger than the area floor.

    The pieces of a community add up to its area less the area of the union of its grids, and
    that union is at least the sum of the grids' areas in it less the sum of their pairwise
    overlaps. A community where this bound stays under half the area floor has no piece above
    the floor and is skipped (most of a clean plan). The others are differenced with the union
    of the grids whose interiors meet them (grids that only touch change nothing).

    >>> _community_gaps(plan, communities, tol)  # doctest: +SKIP
    """
    ug = plan.geom[plan.uidx]
    pi, gi = plan.tree.query(pg, predicate="intersects")
    ci, cg = plan.tree.query(pg, predicate="covers")
    n = max(len(ug), 1)
    covered = np.isin(pi.astype(np.int64) * n + gi, ci.astype(np.int64) * n + cg)
    part = np.zeros(len(pi))
    part[covered] = shapely.area(ug[gi[covered]])
    rest = np.flatnonzero(~covered)
    if len(rest):
        # the grid first: a prepared community (its indexes built on first use) is never
        # used from two threads at once
        meet = chunked(shapely.relate_pattern, ug[gi[rest]], pg[pi[rest]], pattern="2********")
        rest = rest[meet]
        covered[rest] = True  # from here: the grid's interior meets the community's
        part[rest] = shapely.area(shapely.intersection(ug[gi[rest]], pg[pi[rest]]))
    pi, gi, part = pi[covered], gi[covered], part[covered]
    uncovered = shapely.area(pg) - np.bincount(pi, weights=part, minlength=len(pg))
    # grids that overlap: the union is smaller than the sum of areas by at most the sum of the
    # pairwise overlaps (Bonferroni), counted for every community either grid meets
    a, b = plan.interior_pairs()
    both = shapely.area(shapely.intersection(ug[a], ug[b])) if len(a) else np.zeros(0)
    shared = np.bincount(np.r_[a, b], weights=np.r_[both, both], minlength=len(ug))
    bound = uncovered + np.bincount(pi, weights=shared[gi], minlength=len(pg))
    need = np.flatnonzero(bound >= tol.area_floor_m2 / 2)

    def gaps_of(some: np.ndarray) -> np.ndarray:
        row = np.full(len(pg), -1, dtype=np.int64)
        row[some] = np.arange(len(some))
        sel = row[pi] >= 0
        union = union_by_group(ug[gi[sel]], row[pi[sel]], len(some))
        return explode(shapely.difference(pg[some], union), tol.area_floor_m2)[0]

    k = max(1, min(threads(), len(need) * 40 // min_chunk()))  # about 40 grids each
    parts = together([partial(gaps_of, s) for s in np.array_split(need, k)])
    return np.concatenate(parts) if parts else np.empty(0, dtype=object)


def check_gaps(plan: PreparedPlan, parents: gpd.GeoDataFrame | None, tol: Any) -> list[Finding]:
    """Gap findings: land of the envelope (communities, else the closed plan) in no grid.

    Examples
    --------
    >>> check_gaps(plan, parents, load_rules().tolerances)  # doctest: +SKIP
    """
    if parents is not None:
        # one finding per community: each community less the grids that meet it (the same
        # pieces as the province less all grids, cut at community lines, without one union of
        # the whole plan)
        gaps = _community_gaps(plan, np.asarray(parents.geometry.array, dtype=object), tol)
    else:
        union = fast_union(plan.geom[plan.uidx])
        envelope = closing_envelope(union, max(tol.gap_width_m, tol.snap_m))
        gaps, _ = explode(shapely.difference(envelope, union), tol.area_floor_m2)
    if not len(gaps):
        return []
    width = widths(gaps, tol.gap_width_m, tol.width_rel)
    area = shapely.area(gaps)
    neigh = _neighbours(plan, gaps, tol.touch_m)
    owner = _parent_of(parents, gaps)
    out = []
    for k in range(len(gaps)):
        if parents is None and len(neigh[k]) < 2:
            continue  # a notch of one grid's outline, not a gap between grids
        noise = bool(width[k] < tol.gap_width_m)
        where = tr(" in community {community}", community=owner[k]) if owner[k] else ""
        if neigh[k]:
            msg = tr("gap of {area} m² ({width}){where} next to grids {grids}",
                     area=short_number(area[k]), width=wide(width[k], noise), where=where,
                     grids=names(neigh[k]))
        else:
            msg = tr("gap of {area} m²{where} with no grid at all", area=short_number(area[k]),
                     where=where)
        if noise:
            msg += tr("; narrower than {gap:g} m: digitising noise", gap=tol.gap_width_m)
        out.append(Finding("gap", WARNING if noise else ERROR, tuple(neigh[k]), float(area[k]),
                           "m²", msg, geometry=gaps[k], parent=owner[k], noise=noise,
                           width_m=float(width[k])))
    return out
