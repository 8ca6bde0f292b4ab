"""Compounds whole: a residential compound (小区) or village group that fits in one grid lies in one.

The practice is one managed compound = one grid (一个有物业管理的小区划分为一个网格) and rural grids
drawn by village group; a compound above the maximum should use as few grids as the rule allows
(:func:`gridgis.rules.fewest_grids`: ``ceil(total / max)`` on every measure with a maximum, and no
more buildings in a grid than the smallest ones that fit). Buildings carry the compound in
``compound_id``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from ..i18n import tr
from ..rules import Rules, fewest_grids
from ._text import names
from .prepare import PreparedPlan
from .report import WARNING, Finding

__all__ = ["check_compounds"]


def _area_kinds(plan: PreparedPlan) -> np.ndarray:
    gdf = plan.gdf
    if schema.AREA_KIND in gdf:
        return gdf[schema.AREA_KIND].fillna("urban").astype(str).to_numpy()
    return np.full(len(gdf), "urban", dtype=object)


def check_compounds(plan: PreparedPlan, b: gpd.GeoDataFrame, building_grid: np.ndarray,
                    rules: Rules) -> list[Finding]:
    """``compound_split`` findings: compounds in more grids than their size needs.

    Examples
    --------
    >>> check_compounds(plan, buildings_metric, building_grid, load_rules())  # doctest: +SKIP
    """
    if schema.COMPOUND_ID not in b.columns or len(b) == 0:
        return []
    comp = b[schema.COMPOUND_ID].astype("string").str.strip()
    ok = comp.notna().to_numpy() & (comp.fillna("") != "").to_numpy() & (building_grid >= 0)
    if not ok.any():
        return []
    kinds = _area_kinds(plan)
    frame = pd.DataFrame({"c": comp.to_numpy()[ok], "g": building_grid[ok]})
    for col in (schema.HOUSEHOLDS, schema.POPULATION):
        vals = pd.to_numeric(b[col], errors="coerce") if col in b else pd.Series(0, index=b.index)
        frame[col] = vals.fillna(0).to_numpy()[ok]
    geoms = np.asarray(b.geometry.array, dtype=object)[ok]
    out: list[Finding] = []
    for cid, rows in frame.groupby("c", sort=True).indices.items():
        grids = np.unique(frame["g"].to_numpy()[rows])
        if len(grids) < 2:
            continue
        prof = rules.profile_for(kinds[grids[0]])
        total = float(frame[prof.measure].to_numpy()[rows].sum())
        need = fewest_grids({m: frame[m].to_numpy()[rows] for m in prof.caps}, prof.caps)
        if len(grids) <= need:
            continue
        labels = tuple(plan.labels[g] for g in grids)
        unit = tr("households") if prof.measure == schema.HOUSEHOLDS else tr("residents")
        out.append(Finding(
            "compound_split", WARNING, labels, float(len(grids)), "grids",
            tr("compound {compound} ({total} {unit}) needs {need} grid(s) but lies in {n}: "
               "{grids}", compound=cid, total=f"{total:,.0f}", unit=unit, need=need,
               n=len(grids), grids=names(labels)),
            geometry=shapely.union_all(geoms[rows]), parent=plan.named[grids[0]] or None,
            item=str(cid)))
    return out
