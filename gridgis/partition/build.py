"""``build_grids``: communities + roads + buildings → seamless basic and special grids.

Pipeline (all metric work in :func:`gridgis.crs.metric_crs` of the communities):

1. **Arrangement** — community boundaries, special-site and locked-grid outlines, roads and
   rivers are noded together and polygonized (:mod:`.blocks`). Each face belongs to one
   community (by its representative point) and to a locked grid, a special site, or basic land.
2. **Blocks** — basic faces of a community, slivers merged into neighbours.
3. **Units** — blocks over the maximum are cut along building clusters (:mod:`.units`); the
   cut lines join the arrangement (a second polygonize) and the building cells are grouped into
   connected units below the maximum.
4. **Grids** — per community (per connected piece of its basic land) the unit graph is split
   into ``k`` contiguous grids within ``[min, max]`` by recursive spanning-tree bisection and
   improved by local search (:mod:`.regions`).
5. **Assembly** — grids are unions of faces (``shapely.coverage_union_all``), so the grids of a
   community tile it exactly and neighbouring grids share vertices; special and locked grids are
   added, buildings are counted, temporary codes given, results returned in the input CRS.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .. import schema
from ..crs import metric_crs
from ..errors import CRSError, GeometryError, SchemaError
from ..rules import Profile, Rules, load_rules
from .blocks import (
    Arrangement,
    arrangement,
    as_lines,
    first_container,
    group_perimeter,
    merge_slivers,
    neck_cuts,
)
from .geom import near_lines, polsby_popper
from .regions import RegionOptions, SizeRule, UnitGraph, plan_regions, split_below
from .special import community_of, owner_labels, prepare_polygons
from .units import split_lines

BASIC = "basic"
#: road classes whose shared boundaries count as barriers (grids prefer not to straddle them)
BARRIER_CLASSES = ("arterial", "river")
_MEASURES = (schema.HOUSEHOLDS, schema.POPULATION)
#: faces smaller than this (square metres) are noding noise and join a neighbour
MICRO_FACE_M2 = 1e-3
#: spanning trees per grid in early refinement rounds (a failure there is cheap)
EARLY_BUDGET = 12
#: lines closer than this to a locked grid's outline are snapped onto it (metres)
LOCK_SNAP_M = 0.01


@dataclass(frozen=True)
class BuildOptions:
    """Less common knobs of :func:`build_grids`."""

    barrier_classes: tuple[str, ...] = BARRIER_CLASSES
    """Road classes (and ``"river"``) treated as barriers between grids."""
    sliver_max_width_m: float = 4.0
    """Thin faces (Polsby–Popper below ``tolerances.sliver_thinness``) narrower than this on
    average are slivers and merged into a neighbour."""
    min_contact_m: float = 1.0
    """Units touching along less than this do not count as neighbours (a grid joined only by
    such a neck would look like two pieces), unless a piece would be too small on its own."""
    refine_rounds: int = 2
    """Rounds of cutting blocks into smaller units in communities that admit no plan."""
    regions: RegionOptions = field(default_factory=RegionOptions)
    """Options of the region builder (trees per bisection, local search passes …)."""


@dataclass
class BuildResult:
    """Result of :func:`build_grids`.

    Attributes
    ----------
    grids
        One row per grid: ``grid_code, grid_name, community_code, kind, households, population,
        flag, geometry`` (input CRS). ``flag`` is ``""`` for a grid within the rules, else
        ``below_min_allowed``, ``out_of_range`` or ``oversize_building`` (locked grids keep
        theirs). Codes are provisional: community code + 3-digit serial, basic grids from 001
        and special grids from 900, numbered west→east, north→south as
        :func:`gridgis.codes.assign_codes` does by default; locked grids keep their codes.
    units
        Building blocks of the basic grids: ``unit_id, block_id, community_code, grid_code,
        households, population, flag, geometry``.
    report
        Exceptions and unplaced items: ``item, item_id, community_code, reason, detail``.
        ``reason`` codes: grids ``below_min``, ``no_feasible_count``, ``no_contiguous_split``,
        ``oversize_building``, ``not_single_polygon``, ``special_over_cap``; buildings
        ``outside_communities``, ``no_geometry``, ``community_mismatch``, ``bad_households`` /
        ``bad_population``; sites ``unknown_kind``, ``site_in_several_parts``,
        ``site_not_placed``, ``crosses_community``, ``outside_communities``; locked grids
        ``locked_not_placed``, ``locked_clipped``; communities ``geometry_repaired``.
    stats
        Counts, shares, compactness and timings of the run.
    building_grid
        ``grid_code`` of every input building (same index as the input; ``<NA>`` when unplaced).
    """

    grids: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    report: pd.DataFrame
    stats: dict[str, Any]
    building_grid: pd.Series


class _Report:
    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []

    def add(self, item: str, item_id: Any, community: Any, reason: str, detail: str = "") -> None:
        self.rows.append(
            {
                "item": item,
                "item_id": "" if item_id is None else str(item_id),
                "community_code": "" if community is None else str(community),
                "reason": reason,
                "detail": detail,
            }
        )

    def frame(self) -> pd.DataFrame:
        cols = ["item", "item_id", "community_code", "reason", "detail"]
        return pd.DataFrame(self.rows, columns=cols).astype("string")


# ---- inputs -----------------------------------------------------------------------------------


def _check_layer(gdf: Any, what: str) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SchemaError(f"{what} must be a GeoDataFrame, got {type(gdf).__name__}", source=what)
    if gdf.crs is None:
        raise CRSError(f"{what} layer has no CRS", source=what, fix="set it with gdf.set_crs(...)")
    return gdf


def _prep_communities(communities: gpd.GeoDataFrame, rep: _Report) -> gpd.GeoDataFrame:
    comm = schema.normalize_columns(
        _check_layer(communities, "communities"), required=[schema.CODE], source="communities"
    )
    if len(comm) == 0:
        raise SchemaError("communities layer is empty", source="communities")
    comm = comm.copy()
    comm[schema.CODE] = comm[schema.CODE].astype("string").str.strip()
    dup = comm[schema.CODE].duplicated(keep=False) | comm[schema.CODE].isna()
    if dup.any():
        rows = comm.index[dup.to_numpy()].tolist()[:5]
        raise SchemaError(
            "community codes must be present and unique",
            source="communities",
            where=f"rows {rows}",
            fix="give every community its own 12-digit code",
        )
    geom = comm.geometry
    bad = geom.isna() | geom.is_empty | ~geom.geom_type.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        row = comm.index[bad.to_numpy()][0]
        raise GeometryError(
            f"{int(bad.sum())} communit(ies) without a polygon geometry",
            source="communities",
            where=f"row {row} (code {comm.loc[row, schema.CODE]})",
            fix="redraw the boundary or drop the row",
        )
    invalid = ~geom.is_valid
    if invalid.any():
        fixed = geom[invalid].make_valid()
        polys = [
            shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type == "Polygon"])
            for g in fixed
        ]
        comm.loc[invalid, comm.geometry.name] = polys
        for code in comm.loc[invalid, schema.CODE]:
            rep.add("community", code, code, "geometry_repaired", "invalid boundary made valid")
    if schema.AREA_KIND not in comm.columns:
        comm[schema.AREA_KIND] = "urban"
    comm[schema.AREA_KIND] = comm[schema.AREA_KIND].fillna("urban").astype(str)
    if schema.NAME not in comm.columns:
        comm[schema.NAME] = comm[schema.CODE]
    comm[schema.NAME] = comm[schema.NAME].fillna(comm[schema.CODE]).astype(str)
    return comm.sort_values(schema.CODE, kind="stable")


def _prep_lines(gdf: gpd.GeoDataFrame | None, what: str, crs, default_class: str) -> gpd.GeoDataFrame:
    if gdf is None or len(gdf) == 0:
        return gpd.GeoDataFrame({schema.ROAD_CLASS: []}, geometry=[], crs=crs)
    out = schema.normalize_columns(_check_layer(gdf, what), source=what)
    out = out[~(out.geometry.isna() | out.geometry.is_empty)].copy()
    if schema.ROAD_CLASS not in out.columns:
        out[schema.ROAD_CLASS] = default_class
    out[schema.ROAD_CLASS] = out[schema.ROAD_CLASS].fillna(default_class).astype(str).str.lower()
    return out.to_crs(crs)


def _prep_buildings(gdf: gpd.GeoDataFrame | None, crs, rep: _Report) -> gpd.GeoDataFrame:
    if gdf is None or len(gdf) == 0:
        return gpd.GeoDataFrame(
            {schema.HOUSEHOLDS: [], schema.POPULATION: []}, geometry=[], crs=crs
        )
    out = schema.normalize_columns(_check_layer(gdf, "buildings"), source="buildings")
    if schema.HOUSEHOLDS not in out.columns and schema.POPULATION not in out.columns:
        raise SchemaError(
            "buildings need a households (户数) or population (人口) column",
            source="buildings",
            fix="add the column or derive it, e.g. footprint area × floors / 80 m² per household",
        )
    out = out.copy()
    for col in _MEASURES:
        if col not in out.columns:
            out[col] = 0.0
            continue
        vals = pd.to_numeric(out[col], errors="coerce")
        bad = vals.isna() | (vals < 0)
        if bad.any():
            ids = out.get(schema.BUILDING_ID, pd.Series(out.index, index=out.index))
            for i in np.flatnonzero(bad.to_numpy())[:50]:
                rep.add("building", ids.iloc[i], None, f"bad_{col}",
                        f"{col}={out[col].iloc[i]!r} counted as 0")
            if bad.sum() > 50:
                rep.add("building", "", None, f"bad_{col}", f"{int(bad.sum()) - 50} more rows")
        out[col] = vals.where(~bad, 0.0).astype(float)
    return out.to_crs(crs)


# ---- helpers ----------------------------------------------------------------------------------


def _rng_for(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(key.encode("utf-8"))])


def _size_rule(profile: Profile) -> tuple[SizeRule, list[int]]:
    """Size rule over the measure columns ordered basis first; returns (rule, column order)."""
    basis = 0 if profile.basis == "households" else 1
    cols = [basis, 1 - basis]
    lo_b, hi_b = profile.bounds
    caps = profile.caps
    other = _MEASURES[1 - basis]
    hi_o = caps.get(other, math.inf)
    rule = SizeRule(
        lo=np.array([lo_b, 0.0]), hi=np.array([hi_b, hi_o]), target=float(profile.target)
    )
    return rule, cols


def _group_graph(
    arr: Arrangement,
    lab: np.ndarray,
    n: int,
    measures: np.ndarray,
    pair_barrier: np.ndarray,
    same: np.ndarray,
) -> UnitGraph:
    """Graph of face groups ``lab`` (edges only between faces with equal ``same`` key)."""
    e = arr.edges
    li, lj = lab[e.i], lab[e.j]
    ok = (li >= 0) & (lj >= 0) & (li != lj) & (same[e.i] == same[e.j])
    a, b = np.minimum(li[ok], lj[ok]), np.maximum(li[ok], lj[ok])
    key = a * n + b
    uk, inv = np.unique(key, return_inverse=True)
    length = np.bincount(inv, weights=e.length[ok], minlength=len(uk))
    barrier = np.bincount(inv, weights=pair_barrier[ok], minlength=len(uk))
    valid = lab >= 0
    area = np.bincount(lab[valid], weights=arr.area[valid], minlength=n)
    per = group_perimeter(lab, arr, n)
    return UnitGraph(measures, area, per, uk // n, uk % n, length, barrier)


def _face_components(arr: Arrangement, lab: np.ndarray) -> np.ndarray:
    """Connected components of faces with equal ``lab`` (>= 0); -1 elsewhere."""
    e = arr.edges
    ok = (lab[e.i] == lab[e.j]) & (lab[e.i] >= 0)
    n = len(lab)
    mat = coo_matrix((np.ones(int(ok.sum())), (e.i[ok], e.j[ok])), shape=(n, n))
    _, comp = connected_components(mat, directed=False)
    comp = comp.astype(np.int64)
    comp[lab < 0] = -1
    return comp


def _band_order(cx: np.ndarray, cy: np.ndarray, top: float, h: float) -> np.ndarray:
    """Numbering order west→east, north→south: bands of height ``h`` from the community's top
    (the ``gridgis.codes`` default rule), west to east inside a band, north first on ties."""
    if len(cx) == 0:
        return np.zeros(0, dtype=np.int64)
    h = h if np.isfinite(h) and h > 0 else 1.0
    band = np.floor((top - cy) / h + 1e-9)
    return np.lexsort((np.arange(len(cx)), -cy, cx, band))


# ---- main -------------------------------------------------------------------------------------


def build_grids(
    communities: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    rules: Rules | dict | str | None = None,
    special_sites: gpd.GeoDataFrame | None = None,
    locked: gpd.GeoDataFrame | None = None,
    seed: int = 0,
    rivers: gpd.GeoDataFrame | None = None,
    *,
    options: BuildOptions | None = None,
) -> BuildResult:
    """Build a seamless grid plan: basic grids within the size rules, plus special grids.

    Parameters
    ----------
    communities
        Community/village polygons with ``code`` (12 digits), optional ``name`` and
        ``area_kind`` ("urban"/"rural"; default urban). Chinese headers are accepted.
    roads
        Road centre lines with optional ``road_class`` ("arterial" | "local" | "lane");
        arterials are barriers grids prefer not to straddle.
    buildings
        Building polygons (or points) with ``households`` and/or ``population``; each is placed
        by its representative point.
    rules
        Size rules (see :func:`gridgis.load_rules`); urban communities use ``rules.urban``
        (households), rural ones ``rules.rural`` (population).
    special_sites
        Polygons with ``kind`` (school, hospital, market, industrial_park, park, commercial),
        optional ``site_id``, ``name`` and ``community_code``. Each becomes a special grid of its
        kind; its land is removed from the basic-grid problem.
    locked
        Existing grids (``grid_code``, optional ``community_code``, ``kind``, ``grid_name``) to
        keep as they are; only the rest of each community is rebuilt.
    seed
        Seed of the random spanning trees and move orders; equal inputs and seed give an equal
        plan.
    rivers
        River centre lines (barriers, like arterial roads).
    options
        Less common knobs, see :class:`BuildOptions`.

    Returns
    -------
    BuildResult
        ``grids``, ``units``, ``report``, ``stats`` and ``building_grid``.

    Raises
    ------
    SchemaError, GeometryError, CRSError
        On malformed inputs (missing columns, non-polygon communities, missing CRS …).

    Examples
    --------
    >>> import gridgis
    >>> s = gridgis.load_sample()                                  # doctest: +SKIP
    >>> res = gridgis.build_grids(s["communities"], s["roads"], s["buildings"],
    ...                           special_sites=s["special_sites"], rivers=s["rivers"])  # doctest: +SKIP
    >>> res.grids[["grid_code", "households", "flag"]].head()     # doctest: +SKIP
    """
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    opts = options or BuildOptions()
    rules = load_rules(rules)
    rep = _Report()

    # -- inputs --------------------------------------------------------------------------------
    comm = _prep_communities(communities, rep)
    in_crs = comm.crs
    mcrs = metric_crs(comm)
    comm_m = comm.to_crs(mcrs)
    codes = comm_m[schema.CODE].to_numpy().astype(str)
    cgeoms = comm_m.geometry.to_numpy()
    roads_m = _prep_lines(roads, "roads", mcrs, "local")
    rivers_m = _prep_lines(rivers, "rivers", mcrs, "river")
    bld = _prep_buildings(buildings, mcrs, rep)
    sites = prepare_polygons(special_sites, "special_sites", mcrs, [schema.KIND])
    lock = prepare_polygons(locked, "locked", mcrs, [schema.GRID_CODE])
    timings["inputs"] = time.perf_counter() - t_start

    # -- linework ------------------------------------------------------------------------------
    t = time.perf_counter()
    xmin, ymin, xmax, ymax = comm_m.total_bounds
    pad = 1.0
    net = pd.concat([roads_m[[schema.ROAD_CLASS, "geometry"]],
                     rivers_m[[schema.ROAD_CLASS, "geometry"]]], ignore_index=True)
    net_lines = as_lines(shapely.clip_by_rect(net.geometry.to_numpy(), xmin - pad, ymin - pad,
                                              xmax + pad, ymax + pad))
    barrier_mask = net[schema.ROAD_CLASS].isin(opts.barrier_classes).to_numpy()
    barrier_lines = as_lines(net.geometry.to_numpy()[barrier_mask])
    site_geoms = sites.geometry.to_numpy() if sites is not None else np.empty(0, dtype=object)
    lock_geoms = lock.geometry.to_numpy() if lock is not None else np.empty(0, dtype=object)
    site_comm = (
        community_of(site_geoms, sites.get(schema.COMMUNITY_CODE), codes, cgeoms)
        if sites is not None else np.empty(0, dtype=np.int64)
    )
    lock_comm = (
        community_of(lock_geoms, lock.get(schema.COMMUNITY_CODE), codes, cgeoms)
        if lock is not None else np.empty(0, dtype=np.int64)
    )
    # lines running along a locked grid's outline are snapped onto it, so that the outline
    # survives the noding exactly (no micro slivers along it)
    lock_outline = shapely.union_all(as_lines(lock_geoms)) if len(lock_geoms) else None

    def snap_to_locked(lines: np.ndarray) -> np.ndarray:
        if lock_outline is None or len(lines) == 0:
            return lines
        return shapely.snap(lines, lock_outline, tolerance=LOCK_SNAP_M)

    base_lines = np.concatenate(
        [as_lines(cgeoms), as_lines(lock_geoms), snap_to_locked(as_lines(site_geoms)),
         snap_to_locked(net_lines)]
    )

    # building representative points
    bgeoms = bld.geometry.to_numpy()
    bvalid = ~(shapely.is_missing(bgeoms) | shapely.is_empty(bgeoms))
    bpts = np.full(len(bgeoms), None, dtype=object)
    bpts[bvalid] = shapely.point_on_surface(bgeoms[bvalid])
    bmeas = bld[list(_MEASURES)].to_numpy(dtype=float) if len(bld) else np.zeros((0, 2))

    tol = rules.tolerances

    def label(arr: Arrangement):
        face_comm = first_container(arr.rep, cgeoms)
        f_lock = owner_labels(arr.rep, face_comm, lock_geoms, lock_comm)
        f_site = owner_labels(arr.rep, face_comm, site_geoms, site_comm)
        f_site[f_lock >= 0] = -1
        # micro faces (noding noise) take the labels of the neighbour they share most with
        micro = arr.area < MICRO_FACE_M2
        if micro.any():
            src = _best_neighbour(arr, micro, face_comm)
            has = src >= 0
            for a in (f_lock, f_site):
                a[micro] = np.where(has[micro], a[np.maximum(src[micro], 0)], -1)
            face_comm[micro & ~has] = -1  # isolated noise (< MICRO_FACE_M2) is left out
        basic = (face_comm >= 0) & (f_lock < 0) & (f_site < 0)
        return face_comm, f_lock, f_site, basic

    def place_buildings(arr: Arrangement) -> np.ndarray:
        face = np.full(len(bgeoms), -1, dtype=np.int64)
        if bvalid.any():
            face[bvalid] = first_container(bpts[bvalid], arr.faces, predicate="intersects")
        return face

    def slivers(arr: Arrangement, group: np.ndarray) -> np.ndarray:
        return merge_slivers(
            arr, group, min_area=tol.sliver_area_m2, min_thinness=tol.sliver_thinness,
            max_width=opts.sliver_max_width_m,
        )

    # -- pass 1: blocks ------------------------------------------------------------------------
    arr = arrangement(base_lines)
    face_comm, f_lock, f_site, basic = label(arr)
    necks = neck_cuts(arr.faces[basic], opts.min_contact_m) if opts.min_contact_m > 0 else []
    if len(necks):  # cut faces at hair-thin necks, so no grid is two lobes joined by one
        base_lines = np.concatenate([base_lines, snap_to_locked(necks)])
        arr = arrangement(base_lines)
        face_comm, f_lock, f_site, basic = label(arr)
    block = slivers(arr, np.where(basic, face_comm, -1))
    n_blocks = int(block.max()) + 1 if (block >= 0).any() else 0
    bface = place_buildings(arr)
    bblock = np.where(bface >= 0, block[np.maximum(bface, 0)], -1)
    inb = bblock >= 0
    block_meas = np.zeros((n_blocks, 2))
    if inb.any():
        for c in range(2):
            block_meas[:, c] = np.bincount(bblock[inb], weights=bmeas[inb, c], minlength=n_blocks)
    block_comm = np.full(n_blocks, -1, dtype=np.int64)
    block_comm[block[block >= 0]] = face_comm[block >= 0]
    profiles = [rules.profile_for(k) for k in comm_m[schema.AREA_KIND]]
    rules_by_comm = [_size_rule(p) for p in profiles]
    caps = np.array(
        [[np.inf, np.inf] if c < 0 else _caps(rules_by_comm[c]) for c in block_comm]
    ).reshape(-1, 2)
    oversize = np.flatnonzero((block_meas > caps + 1e-9).any(axis=1))
    timings["blocks"] = time.perf_counter() - t

    # -- units and grids; units are refined where a community admits no plan ------------------
    arr1, block1, bface1 = arr, block, bface
    lab1 = (face_comm, f_lock, f_site, basic)
    nbld_block = np.bincount(bblock[inb], minlength=n_blocks) if n_blocks else np.zeros(0, int)
    piece_cap: dict[int, np.ndarray] = {int(b): caps[b] for b in oversize}
    cut_cache: dict[tuple[int, bytes], np.ndarray] = {}
    # compounds / village groups stay whole when a block is cut, unless one is above the cap
    if schema.COMPOUND_ID in bld.columns:
        comp_s = bld[schema.COMPOUND_ID].astype("string").fillna("").str.strip()
        comp_codes, comp_idx = np.unique(comp_s.to_numpy(dtype=object).astype(str),
                                         return_inverse=True)
        group_of = np.where(comp_s.to_numpy(dtype=object) == "", -1 - np.arange(len(bld)),
                            comp_idx.reshape(-1))
    else:
        group_of = -1 - np.arange(len(bld))
    plan_cache: dict[bytes, list] = {}
    t_units = t_regions = 0.0
    rounds = 0
    early = dataclasses.replace(opts.regions, budget=min(opts.regions.budget, EARLY_BUDGET),
                                fallback=False)
    rebuild, final, rnd = True, False, 0
    while True:
        final = final or rnd >= opts.refine_rounds
        if rebuild:
            rounds += 1
            t = time.perf_counter()
            cut_lines = []
            for b in sorted(piece_cap):
                inside = np.flatnonzero(bblock == b)
                labels = _cut_groups(group_of[inside], bmeas[inside], piece_cap[b])
                key = (b, labels.tobytes())
                if key not in cut_cache:
                    geom = _union_faces(arr1.faces[block1 == b])
                    cut_cache[key] = snap_to_locked(split_lines(geom, bgeoms[inside], labels))
                if len(cut_cache[key]):
                    cut_lines.append(cut_cache[key])
            if cut_lines:
                arr = arrangement(np.concatenate([base_lines, *cut_lines]))
                face_comm, f_lock, f_site, basic = label(arr)
                parent = first_container(arr.rep, arr1.faces, predicate="intersects")
                fblock = np.where(basic & (parent >= 0), block1[np.maximum(parent, 0)], -1)
                # a tiny face may touch a block of another community: never cross communities
                fblock[(fblock >= 0) & (block_comm[np.maximum(fblock, 0)] != face_comm)] = -1
                # micro faces join the block of the neighbour they share most boundary with
                micro = basic & (arr.area < MICRO_FACE_M2)
                if micro.any():
                    nb = _best_neighbour(arr, micro, face_comm)
                    ok = micro & (nb >= 0)
                    fblock[ok] = fblock[nb[ok]]
                # basic faces left without a block (numerical corner cases) join a neighbouring block
                fblock = _attach_orphans(arr, fblock, basic, face_comm)
                cell = slivers(arr, fblock)
                bface = place_buildings(arr)
            else:
                arr, bface = arr1, bface1
                face_comm, f_lock, f_site, basic = lab1
                fblock = block1
                cell = np.where(block1 >= 0, np.arange(len(block1)), -1)
            n_cells = int(cell.max()) + 1 if (cell >= 0).any() else 0
            bcell = np.where(bface >= 0, cell[np.maximum(bface, 0)], -1)
            cell_meas = np.zeros((n_cells, 2))
            inc = bcell >= 0
            if inc.any():
                for c in range(2):
                    cell_meas[:, c] = np.bincount(bcell[inc], weights=bmeas[inc, c], minlength=n_cells)
            cell_block = np.full(n_cells, -1, dtype=np.int64)
            cell_block[cell[cell >= 0]] = fblock[cell >= 0]

            # barrier length of every shared face pair
            seg_bar = near_lines((arr.edges.seg_a + arr.edges.seg_b) / 2.0, barrier_lines, tol=1e-2)
            seg_len = np.hypot(*(arr.edges.seg_b - arr.edges.seg_a).T)
            pair_barrier = arr.edges.sum_by_pair(np.where(seg_bar, seg_len, 0.0))

            # units: whole blocks, or groups of cells of a block that is split
            unit_of_cell = np.full(n_cells, -1, dtype=np.int64)
            unit_flag: dict[int, str] = {}
            normal = np.array([b >= 0 and b not in piece_cap for b in cell_block.tolist()], dtype=bool)
            n_units = 0
            if normal.any():
                _, inv = np.unique(cell_block[normal], return_inverse=True)
                unit_of_cell[normal] = inv
                n_units = int(inv.max()) + 1
            if piece_cap:
                cg = _group_graph(arr, cell, n_cells, cell_meas, pair_barrier, fblock)
                for b in sorted(piece_cap):
                    nodes = np.flatnonzero(cell_block == b)
                    if len(nodes) == 0:
                        continue
                    rule, cols = rules_by_comm[block_comm[b]]
                    sub = UnitGraph(cell_meas[:, cols], cg.area, cg.perimeter, cg.eu, cg.ev,
                                    cg.length, cg.barrier)
                    groups = _split_block(sub, nodes, piece_cap[b][cols], rule.hi,
                                          _rng_for(seed, f"block:{b}"), opts.regions,
                                          opts.min_contact_m)
                    for nodes_g, flag in groups:
                        unit_of_cell[nodes_g] = n_units
                        if flag:
                            unit_flag[n_units] = flag
                        n_units += 1
            face_unit = np.where(cell >= 0, unit_of_cell[np.maximum(cell, 0)], -1)
            # tiny empty pieces cut off from their unit (noding noise) join a touching unit
            has_bld = np.zeros(len(arr.faces), dtype=bool)
            has_bld[bface[bface >= 0]] = True
            face_unit = _absorb_detached(arr, face_unit, face_comm, has_bld,
                                         tol.sliver_area_m2)
            unit_meas = np.zeros((n_units, 2))
            unit_block = np.full(n_units, -1, dtype=np.int64)
            valid_c = unit_of_cell >= 0
            for c in range(2):
                unit_meas[:, c] = np.bincount(unit_of_cell[valid_c], weights=cell_meas[valid_c, c],
                                              minlength=n_units)
            unit_block[unit_of_cell[valid_c]] = cell_block[valid_c]
            unit_comm = np.full(n_units, -1, dtype=np.int64)
            fu = face_unit >= 0
            unit_comm[face_unit[fu]] = face_comm[fu]
            t_units += time.perf_counter() - t

        # grids per community (plans of communities whose units did not change are reused)
        t = time.perf_counter()
        ug = _group_graph(arr, face_unit, n_units, unit_meas, pair_barrier, face_comm)
        grid_units: list[tuple[int, np.ndarray, str, str, str]] = []  # community, units, flag …
        failing: list[int] = []
        for ci in range(len(codes)):
            nodes = np.flatnonzero(unit_comm == ci)
            if len(nodes) == 0:
                continue
            rule, cols = rules_by_comm[ci]
            g = UnitGraph(unit_meas[:, cols], ug.area, ug.perimeter, ug.eu, ug.ev, ug.length,
                          ug.barrier)
            local = _strong_graph(_local_graph(g, nodes), opts.min_contact_m, rule.lo[0])
            key = _graph_key(ci, local) + (b"final" if final else b"early")
            if key not in plan_cache:
                plan_cache[key] = plan_regions(local, np.arange(len(nodes)), rule,
                                               _rng_for(seed, codes[ci]),
                                               opts.regions if final else early)
            regions = plan_cache[key]
            if any(r.cause == "no_contiguous_split" for r in regions):
                failing.append(ci)
            for r in regions:
                units = nodes[r.nodes]
                flag, reason, cause = r.flag, r.reason, r.cause
                if flag == "oversize_unit":
                    flag = cause = unit_flag.get(int(units[0]), "oversize_building")
                    reason = "one building (or an unsplittable block) exceeds the maximum"
                grid_units.append((ci, units, flag, reason, cause))
        t_regions += time.perf_counter() - t
        if final or not failing:
            break
        # refine: cut the blocks of failing communities into smaller units and try again
        added = False
        for ci in failing:
            rule, cols = rules_by_comm[ci]
            lo, hi = float(rule.lo[0]), float(rule.hi[0])
            width = hi - lo if np.isfinite(hi) and hi > lo else max(lo, 1.0)
            p = max(width / (2**rnd), 1.0)
            for b in np.flatnonzero(block_comm == ci).tolist():
                if nbld_block[b] < 2 or block_meas[b, cols[0]] <= p:
                    continue
                cap_b = np.array(caps[b], dtype=float)
                cap_b[cols[0]] = p
                if b not in piece_cap or piece_cap[b][cols[0]] > p:
                    piece_cap[b] = cap_b
                    added = True
        # with nothing left to refine, plan once more with the full search (same units)
        rebuild, final = added, final or not added
        rnd += 1
    timings["rounds"] = rounds
    timings["units"] = t_units
    timings["regions"] = t_regions
    n_oversize_split = len(piece_cap)

    # -- assembly ------------------------------------------------------------------------------
    t = time.perf_counter()
    records: list[dict[str, Any]] = []
    face_grid = np.full(len(arr.faces), -1, dtype=np.int64)

    def add_grid(faces_idx: np.ndarray, ci: int, kind: str, flag: str, extra: dict) -> int:
        gi = len(records)
        face_grid[faces_idx] = gi
        geom = _union_faces(arr.faces[faces_idx])
        records.append({"ci": ci, "kind": kind, "flag": flag, "geometry": geom, **extra})
        return gi

    unit_grid = np.full(n_units, -1, dtype=np.int64)
    unit_of_face_sorted = np.argsort(face_unit, kind="stable")
    fu_sorted = face_unit[unit_of_face_sorted]
    starts = np.searchsorted(fu_sorted, np.arange(n_units))
    ends = np.searchsorted(fu_sorted, np.arange(n_units), side="right")
    for ci, units, flag, reason, cause in grid_units:
        fidx = np.sort(np.concatenate([unit_of_face_sorted[starts[u]:ends[u]] for u in units]))
        gi = add_grid(fidx, ci, BASIC, flag, {"reason": reason, "cause": cause or flag})
        unit_grid[units] = gi

    # special grids: faces of each site within its community, one grid per connected part
    if sites is not None:
        comp = _face_components(arr, f_site)
        site_ids = sites[schema.SITE_ID] if schema.SITE_ID in sites.columns else pd.Series(
            sites.index, index=sites.index)
        kinds_ok = set(rules.special.kinds)
        done_sites = set()
        for cid in np.unique(comp[comp >= 0]).tolist():
            fidx = np.flatnonzero(comp == cid)
            si = int(f_site[fidx[0]])
            ci = int(face_comm[fidx[0]])
            row = sites.iloc[si]
            kind = str(row[schema.KIND]).strip()
            extra = {"site": si, "site_name": row.get(schema.NAME, None)}
            flag = "" if kind in kinds_ok else "unknown_kind"
            if si in done_sites:
                rep.add("site", site_ids.iloc[si], codes[ci], "site_in_several_parts",
                        "each connected part is a special grid of its own")
            done_sites.add(si)
            add_grid(fidx, ci, kind, flag, extra)
            if flag:
                rep.add("site", site_ids.iloc[si], codes[ci], "unknown_kind",
                        f"kind {kind!r} is not in rules.special.kinds {sorted(kinds_ok)}")
        for si in range(len(sites)):
            if si not in done_sites:
                rep.add("site", site_ids.iloc[si], codes[site_comm[si]] if site_comm[si] >= 0
                        else "", "site_not_placed",
                        "no land of the site lies in its community (or a locked grid covers it)")
        _report_outside(rep, "site", site_geoms, site_ids, site_comm, codes, cgeoms)

    # locked grids: their faces as they are
    if lock is not None:
        for li in range(len(lock)):
            fidx = np.flatnonzero(f_lock == li)
            row = lock.iloc[li]
            code = str(row[schema.GRID_CODE])
            if len(fidx) == 0:
                rep.add("locked", code, "", "locked_not_placed",
                        "the grid covers no land of its community (or another locked grid does)")
                continue
            ci = int(face_comm[fidx[0]])
            kind, flag, name = (row.get(c) for c in (schema.KIND, schema.FLAG, schema.GRID_NAME))
            add_grid(fidx, ci, BASIC if _blank(kind) else str(kind),
                     "" if _blank(flag) else str(flag),
                     {"locked": li, "grid_code": code, "grid_name": None if _blank(name) else name})
            area_in = float(np.sum(arr.area[fidx]))
            area_all = float(shapely.area(lock_geoms[li]))
            if area_all - area_in > max(tol.outside_parent_m2, 1e-6 * area_all):
                rep.add("locked", code, codes[ci], "locked_clipped",
                        f"{area_all - area_in:.1f} m² outside its community or under another "
                        "locked grid were rebuilt")

    # buildings -> grids
    bgrid = np.where(bface >= 0, face_grid[np.maximum(bface, 0)], -1)
    n_grids = len(records)
    gmeas = np.zeros((n_grids, 2))
    okb = bgrid >= 0
    for c in range(2):
        gmeas[:, c] = np.bincount(bgrid[okb], weights=bmeas[okb, c], minlength=n_grids)
    bids = bld[schema.BUILDING_ID] if schema.BUILDING_ID in bld.columns else pd.Series(
        bld.index, index=bld.index)
    for i in np.flatnonzero(~okb).tolist():
        why = "no_geometry" if not bvalid[i] else "outside_communities"
        rep.add("building", bids.iloc[i], bld[schema.COMMUNITY_CODE].iloc[i]
                if schema.COMMUNITY_CODE in bld.columns else "", why,
                "building could not be placed in any grid")
    if schema.COMMUNITY_CODE in bld.columns and okb.any():
        given = bld[schema.COMMUNITY_CODE].astype("string").fillna("").to_numpy()
        got = np.array([codes[records[g]["ci"]] if g >= 0 else "" for g in bgrid])
        mism = okb & (given != "") & (given != got)
        for i in np.flatnonzero(mism)[:200].tolist():
            rep.add("building", bids.iloc[i], got[i], "community_mismatch",
                    f"community_code {given[i]} in the table, placed by location in {got[i]}")
        if mism.sum() > 200:
            rep.add("building", "", "", "community_mismatch", f"{int(mism.sum()) - 200} more")

    grids = _assemble(records, gmeas, codes, comm_m, sites, lock, mcrs)
    # report grid exceptions
    for gi, rec in enumerate(records):
        if rec["kind"] == BASIC and rec["flag"] and "locked" not in rec:
            rep.add("grid", grids[schema.GRID_CODE].iloc[gi], codes[rec["ci"]],
                    rec.get("cause") or rec["flag"], rec.get("reason", ""))
        if rec["geometry"].geom_type != "Polygon":
            rep.add("grid", grids[schema.GRID_CODE].iloc[gi], codes[rec["ci"]], "not_single_polygon",
                    rec["geometry"].geom_type)
    cap_sp = rules.special.max_households
    if cap_sp is not None:
        for gi, rec in enumerate(records):
            if rec["kind"] != BASIC and gmeas[gi, 0] > cap_sp:
                rep.add("grid", grids[schema.GRID_CODE].iloc[gi], codes[rec["ci"]],
                        "special_over_cap", f"{gmeas[gi, 0]:.0f} households > {cap_sp}")

    # units table
    unit_geoms = np.empty(n_units, dtype=object)
    for u in range(n_units):
        unit_geoms[u] = _union_faces(arr.faces[unit_of_face_sorted[starts[u]:ends[u]]])
    gcode = grids[schema.GRID_CODE].to_numpy()
    units = gpd.GeoDataFrame(
        {
            "unit_id": np.arange(n_units),
            "block_id": unit_block,
            schema.COMMUNITY_CODE: [codes[c] if c >= 0 else "" for c in unit_comm],
            schema.GRID_CODE: [gcode[g] if g >= 0 else "" for g in unit_grid],
            schema.HOUSEHOLDS: unit_meas[:, 0],
            schema.POPULATION: unit_meas[:, 1],
            schema.FLAG: [unit_flag.get(u, "") for u in range(n_units)],
        },
        geometry=unit_geoms,
        crs=mcrs,
    )
    building_grid = pd.Series(
        pd.array([gcode[g] if g >= 0 else pd.NA for g in bgrid], dtype="string"),
        index=bld.index, name=schema.GRID_CODE,
    )
    timings["assembly"] = time.perf_counter() - t

    stats = _stats(grids, records, rules_by_comm, gmeas, n_blocks, n_units, n_oversize_split,
                   len(arr.faces), timings, time.perf_counter() - t_start)
    report = rep.frame()
    if in_crs is not None and not mcrs.equals(in_crs):
        grids = grids.to_crs(in_crs)
        units = units.to_crs(in_crs)
    return BuildResult(grids=grids, units=units, report=report, stats=stats,
                       building_grid=building_grid)


def _caps(rule_cols: tuple[SizeRule, list[int]]) -> list[float]:
    """Upper limits of (households, population) for a community's rule."""
    rule, cols = rule_cols
    out = [np.inf, np.inf]
    for j, c in enumerate(cols):
        out[c] = float(rule.hi[j])
    return out


def _blank(value: Any) -> bool:
    """Missing or empty cell."""
    return value is None or (not isinstance(value, str) and bool(pd.isna(value))) or value == ""


def _cut_groups(groups: np.ndarray, meas: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Group label of each building of a block for cutting: its compound when the compound is
    within ``cap`` (every measure), else the building itself."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    uniq, inv = np.unique(groups, return_inverse=True)
    inv = inv.reshape(-1)
    tot = np.stack([np.bincount(inv, weights=meas[:, c], minlength=len(uniq))
                    for c in range(meas.shape[1])], axis=1)
    big = (tot > np.asarray(cap, dtype=float) + 1e-9).any(axis=1)
    own = np.arange(len(groups)) + len(uniq)
    return np.where(big[inv], own, inv).astype(np.int64)


def _union_faces(faces: np.ndarray) -> shapely.Geometry:
    """Union of faces of one arrangement (coverage union; overlay union as a fallback)."""
    try:
        return shapely.coverage_union_all(faces)
    except shapely.errors.GEOSException:  # pragma: no cover - degenerate faces
        return shapely.union_all(faces)


def _absorb_detached(arr: Arrangement, lab: np.ndarray, same: np.ndarray, keep: np.ndarray,
                     max_area: float) -> np.ndarray:
    """Move small pieces of a label (faces not connected to the label's largest piece, without
    buildings, below ``max_area``) to the touching label (equal ``same``) they share most
    boundary with."""
    comp = _face_components(arr, lab)
    valid = comp >= 0
    if not valid.any():
        return lab
    n_comp = int(comp.max()) + 1
    c_area = np.bincount(comp[valid], weights=arr.area[valid], minlength=n_comp)
    c_lab = np.full(n_comp, -1, dtype=np.int64)
    c_lab[comp[valid]] = lab[valid]
    c_keep = np.zeros(n_comp, dtype=bool)
    c_keep[comp[valid & keep]] = True
    # largest piece of every label stays
    order = np.lexsort((-c_area, c_lab))
    first = np.concatenate([[True], c_lab[order][1:] != c_lab[order][:-1]])
    main = np.zeros(n_comp, dtype=bool)
    main[order[first]] = True
    move = ~main & ~c_keep & (c_area < max_area) & (c_lab >= 0)
    if not move.any():
        return lab
    lab = lab.copy()
    e = arr.edges
    src = np.concatenate([e.i, e.j])
    dst = np.concatenate([e.j, e.i])
    ln = np.concatenate([e.length, e.length])
    ok = valid[src] & move[np.maximum(comp[src], 0)] & (lab[dst] >= 0) & \
        (lab[dst] != lab[src]) & (same[src] == same[dst])
    if not ok.any():
        return lab
    c_src, l_dst, ln = comp[src[ok]], lab[dst[ok]], ln[ok]
    key = c_src * (int(lab.max()) + 1) + l_dst
    uk, inv = np.unique(key, return_inverse=True)
    tot = np.bincount(inv.reshape(-1), weights=ln)
    kc, kl = uk // (int(lab.max()) + 1), uk % (int(lab.max()) + 1)
    order = np.lexsort((kl, -tot, kc))
    kc, kl = kc[order], kl[order]
    first = np.concatenate([[True], kc[1:] != kc[:-1]])
    target = np.full(n_comp, -1, dtype=np.int64)
    target[kc[first]] = kl[first]
    moved = valid & (target[np.maximum(comp, 0)] >= 0)
    lab[moved] = target[comp[moved]]
    return lab


def _best_neighbour(arr: Arrangement, which: np.ndarray, same: np.ndarray) -> np.ndarray:
    """For faces in ``which``: the neighbour (not in ``which``, equal ``same`` key) sharing the
    longest boundary, following chains of ``which`` faces; -1 when there is none."""
    e = arr.edges
    src = np.concatenate([e.i, e.j])
    dst = np.concatenate([e.j, e.i])
    ln = np.concatenate([e.length, e.length])
    keep = (same[src] == same[dst]) & (same[src] >= 0)
    src, dst, ln = src[keep], dst[keep], ln[keep]
    ok = which[src] & ~which[dst]
    out = np.full(len(which), -1, dtype=np.int64)
    if ok.any():
        s_, d_, l_ = src[ok], dst[ok], ln[ok]
        order = np.lexsort((d_, -l_, s_))
        s_, d_ = s_[order], d_[order]
        first = np.concatenate([[True], s_[1:] != s_[:-1]])
        out[s_[first]] = d_[first]
    # micro faces touching only other micro faces: follow them
    for _ in range(10):
        miss = which & (out < 0)
        ok = miss[src] & (out[dst] >= 0)
        if not ok.any():
            break
        s_, d_, l_ = src[ok], dst[ok], ln[ok]
        order = np.lexsort((d_, -l_, s_))
        s_, d_ = s_[order], d_[order]
        first = np.concatenate([[True], s_[1:] != s_[:-1]])
        out[s_[first]] = out[d_[first]]
    return out


def _attach_orphans(arr: Arrangement, lab: np.ndarray, need: np.ndarray, same: np.ndarray
                    ) -> np.ndarray:
    """Give faces with ``need & lab < 0`` the label of the neighbour (equal ``same``) they share
    the longest boundary with; repeated until no orphan has a labelled neighbour."""
    lab = lab.copy()
    e = arr.edges
    for _ in range(100):
        orphan = need & (lab < 0)
        if not orphan.any():
            break
        src = np.concatenate([e.i, e.j])
        dst = np.concatenate([e.j, e.i])
        ln = np.concatenate([e.length, e.length])
        ok = orphan[src] & (lab[dst] >= 0) & (same[src] == same[dst])
        if not ok.any():
            break
        src, dst, ln = src[ok], dst[ok], ln[ok]
        order = np.lexsort((dst, -ln, src))
        src, dst = src[order], dst[order]
        first = np.concatenate([[True], src[1:] != src[:-1]])
        lab[src[first]] = lab[dst[first]]
    return lab


def _strong_graph(g: UnitGraph, min_contact: float, lo: float) -> UnitGraph:
    """Drop contacts shorter than ``min_contact`` (grids joined by a neck), except where that
    would leave a piece too small for a grid of its own (its short contacts are kept)."""
    weak = g.length < min_contact
    if not weak.any():
        return g
    keep = ~weak
    strong = UnitGraph(g.measures, g.area, g.perimeter, g.eu[keep], g.ev[keep], g.length[keep],
                       g.barrier[keep])
    small = np.zeros(g.n, dtype=bool)
    for comp in strong.components(np.arange(g.n)):
        if g.measures[comp, 0].sum() < lo:
            small[comp] = True
    keep |= weak & (small[g.eu] | small[g.ev])
    return UnitGraph(g.measures, g.area, g.perimeter, g.eu[keep], g.ev[keep], g.length[keep],
                     g.barrier[keep])


def _local_graph(g: UnitGraph, nodes: np.ndarray) -> UnitGraph:
    local = np.full(g.n, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    m = (local[g.eu] >= 0) & (local[g.ev] >= 0)
    return UnitGraph(g.measures[nodes], g.area[nodes], g.perimeter[nodes], local[g.eu[m]],
                     local[g.ev[m]], g.length[m], g.barrier[m])


def _graph_key(ci: int, g: UnitGraph) -> bytes:
    h = hashlib.blake2b(str(ci).encode(), digest_size=16)
    for a in (g.measures, g.area, g.perimeter, g.eu, g.ev, g.length, g.barrier):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.digest()


def _split_block(g: UnitGraph, nodes: np.ndarray, hi: np.ndarray, hard_max: np.ndarray,
                 rng: np.random.Generator, opts: RegionOptions, min_contact: float
                 ) -> list[tuple[np.ndarray, str]]:
    """Group the cells of a block into connected units of at most ``hi`` (per measure).

    Cells above ``hi`` stay alone; those above ``hard_max`` (one building over the grid
    maximum) are flagged ``oversize_building``.
    """
    local = _strong_graph(_local_graph(g, nodes), min_contact, 0.0)
    hi = np.asarray(hi, dtype=float)
    over = (local.measures > hi + 1e-9).any(axis=1)
    too_big = (local.measures > np.asarray(hard_max) + 1e-9).any(axis=1)
    out: list[tuple[np.ndarray, str]] = [
        (nodes[[i]], "oversize_building" if too_big[i] else "") for i in np.flatnonzero(over)
    ]
    for comp in local.components(np.flatnonzero(~over)):
        for part in split_below(local, comp, hi, rng, opts):
            out.append((nodes[part], ""))
    return out


def _report_outside(rep: _Report, item: str, geoms: np.ndarray, ids: pd.Series,
                    comm_idx: np.ndarray, codes: np.ndarray, cgeoms: np.ndarray) -> None:
    """Report features that reach outside their community (the outside part is ignored)."""
    for i, g in enumerate(geoms):
        ci = comm_idx[i]
        if ci < 0:
            rep.add(item, ids.iloc[i], "", "outside_communities", "not inside any community")
            continue
        out_area = float(shapely.area(shapely.difference(g, cgeoms[ci])))
        if out_area > 1.0:
            rep.add(item, ids.iloc[i], codes[ci], "crosses_community",
                    f"{out_area:.1f} m² outside community {codes[ci]} left to that land")


def _assemble(records: list[dict], gmeas: np.ndarray, codes: np.ndarray, comm_m: gpd.GeoDataFrame,
              sites, lock, mcrs) -> gpd.GeoDataFrame:
    """Grid table with temporary codes (community code + 3-digit serial, band order)."""
    n = len(records)
    geoms = np.array([r["geometry"] for r in records], dtype=object)
    cent = shapely.centroid(geoms) if n else np.empty(0, dtype=object)
    cx, cy = (shapely.get_x(cent), shapely.get_y(cent)) if n else (np.zeros(0), np.zeros(0))
    area = shapely.area(geoms) if n else np.zeros(0)
    ymax = shapely.bounds(geoms)[:, 3] if n else np.zeros(0)
    names = comm_m[schema.NAME].to_numpy().astype(str)
    ci_arr = np.array([r["ci"] for r in records], dtype=np.int64)
    gcode = np.empty(n, dtype=object)
    gname = np.empty(n, dtype=object)
    for ci in np.unique(ci_arr).tolist():
        idx = np.flatnonzero(ci_arr == ci)
        used = set()
        for i in idx:
            if "locked" in records[i]:
                gcode[i] = records[i]["grid_code"]
                nm = records[i].get("grid_name")
                gname[i] = gcode[i] if _blank(nm) else str(nm)
                c = str(gcode[i])
                if c.startswith(codes[ci]) and c[len(codes[ci]):].isdigit():
                    used.add(int(c[len(codes[ci]):]))
        basic = [i for i in idx if "locked" not in records[i] and records[i]["kind"] == BASIC]
        special = [i for i in idx if "locked" not in records[i] and records[i]["kind"] != BASIC]
        top, h = float(ymax[idx].max()), math.sqrt(float(np.median(area[idx])))
        for group, start in ((basic, 1), (special, 900)):
            if not group:
                continue
            g = np.array(group)
            order = g[_band_order(cx[g], cy[g], top, h)]
            serial = start
            for i in order.tolist():
                while serial in used:
                    serial += 1
                used.add(serial)
                gcode[i] = f"{codes[ci]}{serial:03d}"
                rec = records[i]
                if rec["kind"] == BASIC:
                    gname[i] = f"{names[ci]}第{serial}网格"
                else:
                    site_name = rec.get("site_name")
                    label = f"{names[ci]}{rec['kind']}" if _blank(site_name) else str(site_name)
                    gname[i] = f"{label}专属网格"
    return gpd.GeoDataFrame(
        {
            schema.GRID_CODE: pd.array(gcode, dtype="string"),
            schema.GRID_NAME: pd.array(gname, dtype="string"),
            schema.COMMUNITY_CODE: pd.array([codes[c] for c in ci_arr], dtype="string"),
            schema.KIND: pd.array([r["kind"] for r in records], dtype="string"),
            schema.HOUSEHOLDS: gmeas[:, 0].round().astype(np.int64),
            schema.POPULATION: gmeas[:, 1].round().astype(np.int64),
            schema.FLAG: pd.array([r["flag"] for r in records], dtype="string"),
        },
        geometry=geoms,
        crs=mcrs,
    )


def _stats(grids: gpd.GeoDataFrame, records: list[dict], rules_by_comm, gmeas: np.ndarray,
           n_blocks: int, n_units: int, n_oversize: int, n_faces: int,
           timings: dict[str, float], total: float) -> dict[str, Any]:
    basic = np.array([r["kind"] == BASIC and "locked" not in r for r in records], dtype=bool)
    flagged = np.array([bool(r["flag"]) for r in records], dtype=bool)
    in_range = np.zeros(len(records), dtype=bool)
    for i, r in enumerate(records):
        rule, cols = rules_by_comm[r["ci"]]
        in_range[i] = float(rule.violation(gmeas[i, cols][None, :])[0]) <= 1e-9
    geoms = grids.geometry.to_numpy()
    pp = polsby_popper(shapely.area(geoms), shapely.length(geoms)) if len(geoms) else np.zeros(0)
    nb = int(basic.sum())
    return {
        "communities": len({r["ci"] for r in records}),
        "grids": len(records),
        "basic_grids": nb,
        "special_grids": int(sum(1 for r in records if r["kind"] != BASIC and "locked" not in r)),
        "locked_grids": int(sum(1 for r in records if "locked" in r)),
        "faces": n_faces,
        "blocks": n_blocks,
        "units": n_units,
        "blocks_split": n_oversize,
        "basic_in_range": int((basic & in_range).sum()),
        "basic_flagged": int((basic & flagged).sum()),
        "basic_unflagged_out_of_range": int((basic & ~flagged & ~in_range).sum()),
        "share_in_range_unflagged": float((basic & ~flagged & in_range).sum()
                                          / max((basic & ~flagged).sum(), 1)),
        "mean_polsby_popper_basic": float(pp[basic].mean()) if nb else float("nan"),
        "single_polygons": bool(np.all(shapely.get_type_id(geoms) == 3)) if len(geoms) else True,
        "refine_rounds": int(timings.pop("rounds", 1)),
        "seconds": {**{k: round(v, 3) for k, v in timings.items()}, "total": round(total, 3)},
    }
