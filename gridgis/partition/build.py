"""``build_grids``: communities + roads + buildings → seamless basic and special grids.

Pipeline (all metric work in :func:`gridgis.crs.metric_crs` of the communities), one named step
per module:

0. **Inputs** — layers checked and moved to metres (:mod:`._prepare`).

1. **Arrangement** — community boundaries, special-site and locked-grid outlines, roads and
   rivers are noded together and polygonized (:mod:`.blocks`, :mod:`._linework`). Each face belongs to one
   community (by its representative point) and to a locked grid, a special site, or basic land.
2. **Blocks** — basic faces of a community, slivers merged into neighbours (:mod:`._blocking`).
3. **Units** — blocks over the maximum are cut along building clusters (:mod:`.units`); the
   cut lines join the arrangement (a second polygonize) and the building cells are grouped into
   connected units below the maximum (:mod:`._unitize`).
4. **Grids** — per community (per connected piece of its basic land) the unit graph is split
   into ``k`` contiguous grids within ``[min, max]`` by recursive spanning-tree bisection and
   improved by local search (:mod:`.regions`, :mod:`._grouping`).
5. **Assembly** — grids are unions of faces (``shapely.coverage_union_all``), so the grids of a
   community tile it exactly and neighbouring grids share vertices; special and locked grids are
   added (:mod:`._assembly`), temporary codes given (:mod:`._numbering`), buildings counted and
   results returned in the input CRS (:mod:`._result`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import schema
from ..i18n import tr
from ..rules import Rules
from ..schema import BASIC
from ._assembly import assemble_grids
from ._blocking import make_blocks
from ._compounds import report_compounds
from ._grouping import group_into_grids
from ._linework import make_linework
from ._numbering import number_grids
from ._prepare import read_inputs
from ._result import building_grids, report_grids, run_stats, units_table
from .parallel import build_parallel
from .quality import compactness, street_line_lengths, thin_grids
from .regions import RegionOptions

__all__ = ["BARRIER_CLASSES", "COMPACTNESS_BAR", "BASIC", "BuildOptions", "BuildResult", "build_grids"]

log = logging.getLogger(__name__)

#: Polsby–Popper below which a basic grid is reported (``thin_block``) with its thinnest block
COMPACTNESS_BAR = 0.30

#: road classes whose lines are barriers (grids prefer not to straddle them)
BARRIER_CLASSES = schema.BARRIER_ROAD_CLASSES


@dataclass(frozen=True)
class BuildOptions:
    """Less common knobs of :func:`build_grids`."""

    barrier_classes: tuple[str, ...] = BARRIER_CLASSES
    """Road classes (and ``"river"``) treated as barriers between grids."""
    sliver_max_width_m: float = 4.0
    """Thin faces (Polsby–Popper below ``tolerances.sliver_thinness``) narrower than this on
    average are slivers and merged into a neighbour."""
    strip_max_width_m: float = 25.0
    """Faces without buildings narrower than this on average (``2A/P``) are road space (between
    carriageways, sidewalks, ramps, inside roundabouts) and are split along their middles
    between the blocks beside them."""
    min_contact_m: float = 1.0
    """Units touching along less than this do not count as neighbours (a grid joined only by
    such a neck would look like two pieces), unless a piece would be too small on its own."""
    restarts: int = 4
    """Searches (with different random trees) of a community whose first plan has a grid below
    Polsby–Popper 0.30; the most compact plan is kept."""
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
        Exceptions and unplaced items: ``item, item_id, community_code, reason, detail``
        (``detail`` in the office's language through :mod:`gridgis.i18n`, the other columns
        canonical English).
        ``reason`` codes: grids ``below_min``, ``no_feasible_count``, ``no_contiguous_split``,
        ``oversize_building``, ``not_single_polygon``, ``special_over_cap``, ``thin_block`` (a grid
        below the compactness bar because one of its blocks is that thin); communities
        ``enclave`` (a ring that could not be cut open), ``compound_split`` (no plan
        within the rule keeps every compound whole, and a compound was cut); compounds
        ``compound_split`` (a compound in more grids than ``ceil(T / max)``, with the reason);
        buildings
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


def _report_rings(inp, grouping) -> None:
    """Communities where a ring could not be cut open."""
    for ci in grouping.rings:
        inp.report.add("community", inp.codes[ci], inp.codes[ci], "enclave",
                       tr("a grid rings another and the ring cannot be cut open within the "
                         "rule"))


def _street_lines(inp, grids: gpd.GeoDataFrame) -> dict:
    """Length of the grid lines inside communities and the share of it along streets or
    rivers (the lengths let plans built in parts add up)."""
    lines = pd.concat([inp.roads_m, inp.rivers_m], ignore_index=True)
    if not len(lines):
        return {"street_line_share": float("nan"), "grid_line_m": 0.0, "street_line_m": 0.0}
    total, on_street = street_line_lengths(grids, lines)
    return {"street_line_share": on_street / total if total > 0 else 1.0,
            "grid_line_m": total, "street_line_m": on_street}


def _report_thin(report, grids: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> dict:
    """Report every basic grid below the compactness bar (``thin_block`` when one of its blocks
    forces it, else ``thin_grid``); the compactness figures of the run."""
    thin = thin_grids(grids, units, COMPACTNESS_BAR)
    for r in thin.itertuples(index=False):
        why = (tr("a block covering much of it is as thin") if r.forced
               else tr("no single block forces it"))
        block = (tr("no block covers a third of it") if np.isnan(r.block_pp)
                 else tr("thinnest large block {block:.2f}", block=r.block_pp))
        report.add("grid", r.grid_code, r.community_code,
                   "thin_block" if r.forced else "thin_grid",
                   tr("Polsby–Popper {pp:.2f} below {bar:.2f}: {why} ({block})", pp=r.pp,
                      bar=COMPACTNESS_BAR, why=why, block=block))
    basic = (grids[schema.KIND] == BASIC).to_numpy()
    pp = compactness(grids.geometry.to_numpy())[basic]
    free = ~grids.loc[basic, schema.GRID_CODE].isin(thin.loc[thin["forced"], "grid_code"])
    return {"p5_polsby_popper_unforced": float(np.percentile(pp[free.to_numpy()], 5))
            if free.any() else float("nan"), "thin_grids": int((~thin["forced"]).sum()),
            "thin_blocks": int(thin["forced"].sum())}


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
    village_groups: gpd.GeoDataFrame | None = None,
    n_jobs: int | None = None,
    client: Any = None,
) -> BuildResult:
    """Build a seamless grid plan: basic grids within the size rules, plus special grids.

    Parameters
    ----------
    communities
        Community/village polygons with ``code`` (12 digits), optional ``name`` and
        ``area_kind`` ("urban"/"rural"; default urban). Chinese headers are accepted.
    roads
        Road (and railway) centre lines with an optional class column (``road_class``, or
        ``highway`` / ``道路等级`` …) whose values are mapped by :func:`gridgis.schema.road_classes`
        (OSM tags and Chinese grades): arterials and railways are barriers grids do not
        straddle, local streets bound blocks, lanes bound a block only inside one too big for a
        grid. Without the column every line is a local street.
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
    village_groups
        Village-group (村民小组) polygons: their outlines bound blocks like community lines, and
        the buildings of a group stay in one grid when the group fits (like a ``compound_id``
        group; a building's own compound comes first).
    n_jobs, client
        City scale: with ``n_jobs`` (worker processes; ``1`` runs in this process, ``-1`` one
        per core) or a ``dask.distributed`` ``client`` the communities are built as tasks of
        :data:`~gridgis.partition.parallel.COMMUNITIES_PER_TASK` each
        (:mod:`gridgis.partition.parallel`); the plan is the same for every ``n_jobs`` and
        client. Without either, the whole run is one task (a different plan for the same seed).

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
    opts = options or BuildOptions()
    if n_jobs is not None or client is not None:
        return build_parallel(communities, roads, buildings, rules, special_sites, locked, seed,
                              rivers, opts, n_jobs, client, village_groups)
    inp = read_inputs(communities, roads, buildings, rules, special_sites, locked, rivers,
                      seed=seed, opts=opts, village_groups=village_groups)
    timings: dict[str, Any] = {"inputs": time.perf_counter() - t_start}

    t = time.perf_counter()
    lw = make_linework(inp)
    blocks = make_blocks(lw)
    timings["blocks"] = time.perf_counter() - t

    grouping = group_into_grids(lw, blocks)
    timings.update(grouping.timings)
    _report_rings(inp, grouping)

    t = time.perf_counter()
    asm = assemble_grids(inp, grouping)
    bgrid, gmeas = building_grids(inp, asm)
    report_compounds(inp, bgrid, asm.records, grouping.extra, grouping.loose, grouping.proven)
    grids = number_grids(asm.records, gmeas, inp.codes, inp.comm_m, inp.mcrs)
    report_grids(inp, asm.records, grids, gmeas)
    gcode = grids[schema.GRID_CODE].to_numpy()
    units = units_table(inp, asm, gcode)
    building_grid = pd.Series(
        pd.array([gcode[g] if g >= 0 else pd.NA for g in bgrid], dtype="string"),
        index=inp.bld.index, name=schema.GRID_CODE,
    )
    timings["assembly"] = time.perf_counter() - t
    thin = _report_thin(inp.report, grids, units)

    stats = run_stats(grids, asm.records, inp.rules_by_comm, gmeas, blocks.n_blocks,
                      grouping.units.n_units, grouping.n_split, len(grouping.units.arr.faces),
                      timings, time.perf_counter() - t_start)
    stats.update(thin, strips_split=blocks.n_strips, **_street_lines(inp, grids))
    log.debug("built %d grids in %.2f s", len(grids), stats["seconds"]["total"])
    if inp.in_crs is not None and not inp.mcrs.equals(inp.in_crs):
        grids = grids.to_crs(inp.in_crs)
        units = units.to_crs(inp.in_crs)
    return BuildResult(grids=grids, units=units, report=inp.report.frame(), stats=stats,
                       building_grid=building_grid)
