"""Code step of :func:`gridgis.partition.build_grids`: provisional grid codes and names."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import schema
from ..schema import BASIC
from ._assembly import blank

__all__ = ["band_order", "number_grids"]


def band_order(cx: np.ndarray, cy: np.ndarray, top: float, h: float) -> np.ndarray:
    """Numbering order west→east, north→south: bands of height ``h`` from the community's top
    (the ``gridgis.codes`` default rule), west to east inside a band, north first on ties."""
    if len(cx) == 0:
        return np.zeros(0, dtype=np.int64)
    h = h if np.isfinite(h) and h > 0 else 1.0
    band = np.floor((top - cy) / h + 1e-9)
    return np.lexsort((np.arange(len(cx)), -cy, cx, band))


def number_grids(records: list[dict], gmeas: np.ndarray, codes: np.ndarray,
                 comm_m: gpd.GeoDataFrame, mcrs: pyproj.CRS) -> gpd.GeoDataFrame:
    """Grid table with temporary codes (community code + 3-digit serial, band order).

    Basic grids are numbered from 001 and special grids from 900, west→east, north→south (as
    :func:`gridgis.codes.assign_codes` does by default); locked grids keep their codes.

    Examples
    --------
    >>> grids = number_grids(asm.records, gmeas, inp.codes, inp.comm_m, inp.mcrs)  # doctest: +SKIP
    >>> grids["grid_code"].str.len().unique().tolist()                     # doctest: +SKIP
    [15]
    """
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
                gname[i] = gcode[i] if blank(nm) else str(nm)
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
            order = g[band_order(cx[g], cy[g], top, h)]
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
                    label = f"{names[ci]}{rec['kind']}" if blank(site_name) else str(site_name)
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
