"""Small helpers shared by the modules of :mod:`gridgis.plan` (code text, geometries from
user input)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .. import schema
from ..errors import GeometryError
from ..i18n import _, tr

__all__ = ["GRID_COLUMNS", "str_codes", "geometries"]

GRID_COLUMNS = (schema.GRID_CODE, schema.GRID_NAME, schema.COMMUNITY_CODE, schema.KIND,
                schema.HOUSEHOLDS, schema.POPULATION, schema.FLAG)
_GEOM_FIX = ("pass a shapely geometry, a GeoSeries, or a list of (x, y) coordinates in the "
             "plan's CRS")


def str_codes(values: Any) -> np.ndarray:
    """Codes as text (the validator's reading of code columns)."""
    from ..validation import as_codes

    return as_codes(values)


def geometries(obj: Any, crs: Any, mcrs: Any) -> np.ndarray:
    """Geometries from a shapely geometry, a list of them, coordinates, or a GeoSeries/frame."""
    if isinstance(obj, (gpd.GeoDataFrame, gpd.GeoSeries)):
        gs = obj.geometry if isinstance(obj, gpd.GeoDataFrame) else obj
        if gs.crs is None:
            gs = gs.set_crs(crs)
        return np.asarray(gs.to_crs(mcrs).array, dtype=object)
    if isinstance(obj, BaseGeometry):
        geoms = np.array([obj], dtype=object)
    elif isinstance(obj, (list, tuple)) and obj and all(isinstance(g, BaseGeometry) for g in obj):
        geoms = np.array(obj, dtype=object)
    else:
        try:
            coords = np.asarray(obj, dtype=float)
        except (TypeError, ValueError):
            raise GeometryError(tr("cannot read a geometry from {name}",
                                   name=type(obj).__name__),
                                fix=_GEOM_FIX) from None
        if coords.ndim != 2 or coords.shape[1] != 2 or len(coords) < 2:
            raise GeometryError(_("coordinates must be a list of (x, y) pairs"), fix=_GEOM_FIX)
        geoms = np.array([shapely.LineString(coords)], dtype=object)
    gs = gpd.GeoSeries(geoms, crs=crs)
    return np.asarray(gs.to_crs(mcrs).array, dtype=object)
