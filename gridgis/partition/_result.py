"""Result step of :func:`gridgis.partition.build_grids`: buildings counted per grid, grid
exceptions reported, the units table and the run's statistics."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from ..i18n import tr
from ..schema import BASIC
from ._assembly import Assembly
from ._faces import union_faces
from ._prepare import Inputs
from .geom import polsby_popper
from .quality import count_enclaves

__all__ = ["building_grids", "report_grids", "run_stats", "units_table"]


def building_grids(inp: Inputs, asm: Assembly) -> tuple[np.ndarray, np.ndarray]:
    """Grid of every building (``-1``: unplaced, reported) and (households, population) per grid.

    Examples
    --------
    >>> bgrid, gmeas = building_grids(inp, asm)                              # doctest: +SKIP
    >>> len(bgrid) == len(inp.bld)                                          # doctest: +SKIP
    True
    """
    bld, rep, codes, records = inp.bld, inp.report, inp.codes, asm.records
    bface = asm.units.bface
    bgrid = np.where(bface >= 0, asm.face_grid[np.maximum(bface, 0)], -1)
    n_grids = len(records)
    gmeas = np.zeros((n_grids, 2))
    okb = bgrid >= 0
    for c in range(2):
        gmeas[:, c] = np.bincount(bgrid[okb], weights=inp.bmeas[okb, c], minlength=n_grids)
    bids = bld[schema.BUILDING_ID] if schema.BUILDING_ID in bld.columns else pd.Series(
        bld.index, index=bld.index)
    for i in np.flatnonzero(~okb).tolist():
        why = "no_geometry" if not inp.bvalid[i] else "outside_communities"
        rep.add("building", bids.iloc[i], bld[schema.COMMUNITY_CODE].iloc[i]
                if schema.COMMUNITY_CODE in bld.columns else "", why,
                tr("building could not be placed in any grid"))
    if schema.COMMUNITY_CODE in bld.columns and okb.any():
        given = bld[schema.COMMUNITY_CODE].astype("string").fillna("").to_numpy()
        got = np.array([codes[records[g]["ci"]] if g >= 0 else "" for g in bgrid])
        mism = okb & (given != "") & (given != got)
        for i in np.flatnonzero(mism)[:200].tolist():
            rep.add("building", bids.iloc[i], got[i], "community_mismatch",
                    tr("community_code {given} in the table, placed by location in {got}",
                       given=given[i], got=got[i]))
        if mism.sum() > 200:
            rep.add("building", "", "", "community_mismatch",
                    tr("{n} more", n=int(mism.sum()) - 200))
    return bgrid, gmeas


def report_grids(inp: Inputs, records: list[dict], grids: gpd.GeoDataFrame,
                 gmeas: np.ndarray) -> None:
    """Report flagged basic grids, grids of several parts and special grids over their cap."""
    rep, codes = inp.report, inp.codes
    for gi, rec in enumerate(records):
        if rec["kind"] == BASIC and rec["flag"] and "locked" not in rec:
            rep.add("grid", grids[schema.GRID_CODE].iloc[gi], codes[rec["ci"]],
                    rec.get("cause") or rec["flag"], rec.get("reason", ""))
        if rec["geometry"].geom_type != "Polygon":
            rep.add("grid", grids[schema.GRID_CODE].iloc[gi], codes[rec["ci"]], "not_single_polygon",
                    tr("the grid is a {kind}, not one polygon", kind=rec["geometry"].geom_type))
    cap_sp = inp.rules.special.max_households
    if cap_sp is not None:
        for gi, rec in enumerate(records):
            if rec["kind"] != BASIC and gmeas[gi, 0] > cap_sp:
                rep.add("grid", grids[schema.GRID_CODE].iloc[gi], codes[rec["ci"]],
                        "special_over_cap", tr("{households:.0f} households > {cap}",
                                               households=gmeas[gi, 0], cap=cap_sp))


def units_table(inp: Inputs, asm: Assembly, gcode: np.ndarray) -> gpd.GeoDataFrame:
    """Units of the basic grids: ids, block, community, grid, measures, flag and geometry."""
    units, codes = asm.units, inp.codes
    n_units = units.n_units
    unit_geoms = np.empty(n_units, dtype=object)
    for u in range(n_units):
        unit_geoms[u] = union_faces(units.arr.faces[asm.faces_of_unit(u)])
    return gpd.GeoDataFrame(
        {
            "unit_id": np.arange(n_units),
            "block_id": units.unit_block,
            schema.COMMUNITY_CODE: [codes[c] if c >= 0 else "" for c in units.unit_comm],
            schema.GRID_CODE: [gcode[g] if g >= 0 else "" for g in asm.unit_grid],
            schema.HOUSEHOLDS: units.unit_meas[:, 0],
            schema.POPULATION: units.unit_meas[:, 1],
            schema.FLAG: [units.unit_flag.get(u, "") for u in range(n_units)],
        },
        geometry=unit_geoms,
        crs=inp.mcrs,
    )


def run_stats(grids: gpd.GeoDataFrame, records: list[dict], rules_by_comm, gmeas: np.ndarray,
               n_blocks: int, n_units: int, n_oversize: int, n_faces: int,
               timings: dict[str, float], total: float) -> dict[str, Any]:
    """Counts, shares, compactness and timings of a run."""
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
        "p5_polsby_popper_basic": float(np.percentile(pp[basic], 5)) if nb else float("nan"),
        "enclaves": count_enclaves(grids) if len(grids) else 0,
        "single_polygons": bool(np.all(shapely.get_type_id(geoms) == 3)) if len(geoms) else True,
        "refine_rounds": int(timings.pop("rounds", 1)),
        "seconds": {**{k: round(v, 3) for k, v in timings.items()}, "total": round(total, 3)},
    }
