"""How the faces of a re-tiled grid are grouped into the pieces of a split: slivers merged
into their neighbours (a split by a line), balanced contiguous regions of about equal
households (a split by buildings), and which piece keeps the grid's code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from .. import schema
from .._geometry import first_container
from ..errors import PartitionError
from ..i18n import tr

if TYPE_CHECKING:
    from .context import PlanContext
    from .retile import Retiling

__all__ = ["merge_slivers", "split_faces", "part_labels"]


def merge_slivers(ctx: PlanContext, ret: Retiling, faces: np.ndarray) -> np.ndarray:
    """Group ``faces`` of one grid, merging slivers into their neighbours; labels 0..k-1.

    Examples
    --------
    >>> groups = merge_slivers(ctx, ret, ret.faces_of(r))  # doctest: +SKIP
    """
    from ..partition.blocks import merge_slivers as merge_arrangement_slivers

    tol = ctx.rules.tolerances
    group = np.full(len(ret.arr.faces), -1, dtype=np.int64)
    group[faces] = 0
    lab = merge_arrangement_slivers(ret.arr, group, min_area=tol.sliver_area_m2,
                                    min_thinness=tol.sliver_thinness, max_width=4.0)
    _, inv = np.unique(lab[faces], return_inverse=True)
    return inv


def _face_buildings(ctx: PlanContext, faces: np.ndarray, area: shapely.Geometry
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Buildings in ``area`` that lie in one of ``faces``: ``(face position, building)``."""
    b_in = ctx.buildings_in(area) if ctx.buildings is not None else np.zeros(0, dtype=np.int64)
    if not len(b_in):
        return np.zeros(0, dtype=np.int64), b_in
    hit = first_container(ctx.building_points[b_in], faces, "intersects")
    ok = hit >= 0
    return hit[ok], b_in[ok]


def _size_rule(ctx: PlanContext, meas: np.ndarray, area: np.ndarray, community: str,
               parts: int) -> tuple[np.ndarray, Any]:
    """Measures to balance (households or residents first; area without households) and the
    size rule for ``parts`` regions."""
    from ..partition.regions import SizeRule

    nf = len(area)
    profile = ctx.rules.profile_for(ctx.area_kind(community))
    basis = 0 if profile.basis == "households" else 1
    m = meas[:, [basis, 1 - basis]]
    total = m.sum(axis=0)
    if total[0] <= 0:  # no households: balance area
        m = np.column_stack([area, np.zeros(nf)])
        total = m.sum(axis=0)
    lo, hi = profile.bounds
    if not (parts * lo <= total[0] <= parts * hi) or total[0] <= 0 or m is not meas:
        lo, hi = 0.6 * total[0] / parts, 1.4 * total[0] / parts
    return m, SizeRule(lo=np.array([lo, 0.0]), hi=np.array([hi, np.inf]),
                       target=float(total[0] / parts))


def split_faces(ctx: PlanContext, grids: gpd.GeoDataFrame, ret: Retiling, faces: np.ndarray,
                r: int, parts: int, seed: int) -> np.ndarray:
    """Group the faces of grid ``r`` into ``parts`` contiguous, balanced regions (the
    builder's region splitter); returns a group label per face.

    Raises
    ------
    PartitionError
        If the grid has fewer faces than ``parts`` or is in several pieces.

    Examples
    --------
    >>> groups = split_faces(ctx, grids, ret, ret.faces_of(r), r, 2, seed=0)  # doctest: +SKIP
    """
    from ..partition.regions import RegionOptions, UnitGraph, plan_component

    arr = ret.arr
    nf = len(faces)
    code = grids[schema.GRID_CODE].iloc[r]
    if nf < parts:
        raise PartitionError(
            tr("grid {code} falls into only {nf} building cell(s); cannot make {parts} grids",
               code=code, nf=nf, parts=parts),
            fix=tr("split it with a line instead, or ask for fewer parts"))
    local = np.full(len(arr.faces), -1, dtype=np.int64)
    local[faces] = np.arange(nf)
    meas = np.zeros((nf, 2))
    hit, bld = _face_buildings(ctx, arr.faces[faces], shapely.union_all(arr.faces[faces]))
    if len(hit):
        meas[:, 0] = np.bincount(hit, weights=ctx.building_households[bld], minlength=nf)
        meas[:, 1] = np.bincount(hit, weights=ctx.building_population[bld], minlength=nf)
    m, rule = _size_rule(ctx, meas, arr.area[faces], grids[schema.COMMUNITY_CODE].iloc[r], parts)
    e = arr.edges
    inside = (local[e.i] >= 0) & (local[e.j] >= 0)
    eu, ev = local[e.i[inside]], local[e.j[inside]]
    swap = eu > ev
    eu, ev = np.where(swap, ev, eu), np.where(swap, eu, ev)
    graph = UnitGraph(m, arr.area[faces], arr.perimeter[faces], eu, ev,
                      e.length[inside], np.zeros(int(inside.sum())))
    if len(graph.components(np.arange(nf))) > 1:
        raise PartitionError(tr("grid {code} is in several pieces; repair it before splitting",
                                code=code))
    rng = np.random.default_rng([seed & 0xFFFFFFFF, int(r)])
    regions = plan_component(graph, np.arange(nf), rule, rng, RegionOptions(), k=parts)
    groups = np.zeros(nf, dtype=np.int64)
    for k, reg in enumerate(regions):
        groups[reg.nodes] = k
    return groups


def part_labels(ctx: PlanContext, grids: gpd.GeoDataFrame, ret: Retiling, r: int,
                faces: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, list[dict]]:
    """Labels for a split of grid ``r`` whose ``faces`` fall into ``groups``; the group with
    the most households (largest area on ties) keeps the grid's row (code).

    Examples
    --------
    >>> labels, parts = part_labels(ctx, grids, ret, r, faces, groups)  # doctest: +SKIP
    """
    n = len(grids)
    k = int(groups.max()) + 1
    weight = np.zeros(k)
    area = np.bincount(groups, weights=ret.arr.area[faces], minlength=k)
    hit, bld = _face_buildings(ctx, ret.arr.faces[faces], grids.geometry.iloc[r])
    if len(hit):
        weight = np.bincount(groups[hit], weights=ctx.building_households[bld], minlength=k)
    order = np.lexsort((-area, -weight)).tolist()
    target = {grp: (r if i == 0 else n + i - 1) for i, grp in enumerate(order)}
    face_group = dict(zip(faces.tolist(), groups.tolist(), strict=True))
    labels = ret.pg.copy()
    mine = np.flatnonzero(ret.pg == r)
    labels[mine] = [target[face_group[int(f)]] for f in ret.pf[mine]]
    return labels, [{"base": r} for _ in range(k - 1)]
