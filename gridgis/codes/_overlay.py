"""Household points and polygon overlays shared by re-coding, table rewriting and versions."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._geometry import first_container, present, representative_points
from .._inputs import as_layer, metric
from ..errors import SchemaError
from ..i18n import _, tr

__all__ = ["weights_points", "locate", "overlaps"]


def weights_points(households: gpd.GeoDataFrame, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Points (buildings by a point on their surface) in ``crs`` and household weights.

    Weights come from the ``households`` column (missing → 0) or are 1 each; rows without a
    geometry get no point and weight 0.
    """
    hh = as_layer(households, "households", geometry=None, missing="keep", allow_empty=True)
    geoms = np.asarray(metric(hh, crs).geometry.array)
    missing = ~present(geoms)
    pts = representative_points(geoms)
    if schema.HOUSEHOLDS in hh.columns:
        w = pd.to_numeric(hh[schema.HOUSEHOLDS], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(w) & ~pd.isna(hh[schema.HOUSEHOLDS]).to_numpy()
        bad |= np.isfinite(w) & (w < 0)
        if bad.any():
            raise SchemaError(_("households must be non-negative numbers"), source="households",
                              where=tr("rows {rows}", rows=list(hh.index[bad][:10])))
        w = np.nan_to_num(w, nan=0.0)
    else:
        w = np.ones(len(hh))
    w = np.where(missing, 0.0, w)
    pts = np.where(missing, None, pts)
    return pts, w


def locate(points: np.ndarray, geoms: np.ndarray, tree: shapely.STRtree | None = None
           ) -> np.ndarray:
    """Index of the polygon holding each point (smallest index on shared edges; -1 if none)."""
    return first_container(points, geoms, "intersects", tree)


def overlaps(old: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of overlapping polygons: ``(old index, new index, shared area)``, area > 0 only."""
    tree = shapely.STRtree(old)
    nj, oi = tree.query(new, predicate="intersects")
    if len(nj) == 0:
        return oi, nj, np.zeros(0)
    try:
        area = shapely.area(shapely.intersection(new[nj], old[oi]))
    except shapely.errors.GEOSException:
        area = shapely.area(shapely.intersection(shapely.make_valid(new[nj]),
                                                 shapely.make_valid(old[oi])))
    keep = area > 0
    return oi[keep], nj[keep], area[keep]
