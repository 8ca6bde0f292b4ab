"""Point events as metric coordinates, and clip polygons in the same metric CRS."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .._inputs import as_layer, metric
from ..errors import CRSError, GeometryError, SchemaError
from ..i18n import _, tr

__all__ = ["clip_geometry", "to_metric_points"]


def to_metric_points(
    points: Any, crs: Any = None, weights: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, pyproj.CRS]:
    """Coordinates (metres), weights and metric CRS of a point layer.

    Parameters
    ----------
    points
        GeoDataFrame/GeoSeries of points (rows with missing or empty geometry are skipped and
        counted in the result's ``meta``), or a tuple ``(x, y)`` of arrays in ``crs``.
    crs
        Target metric CRS; default: the layer's own CRS when projected, otherwise the
        CGCS2000 Gauss–Krüger zone (China) or UTM zone of the data.
    weights
        Column name or array of per-point weights (same length as ``points``).

    Returns
    -------
    x, y, w, crs
        ``w`` is ``None`` when no weights were given; rows without a usable point are removed
        from all three arrays.

    Examples
    --------
    >>> from gridgis.events import to_metric_points
    >>> x, y, w, crs = to_metric_points(([388000.0], [3080000.0]), crs="EPSG:4547")
    >>> x.tolist(), w, crs.to_epsg()
    ([388000.0], None, 4547)
    """
    if isinstance(points, tuple) and len(points) == 2:
        if crs is None:
            raise CRSError(_("coordinates given as (x, y) arrays need crs="), fix=_("pass crs='EPSG:4547'"))
        x = np.asarray(points[0], dtype=float).ravel()
        y = np.asarray(points[1], dtype=float).ravel()
        target = pyproj.CRS.from_user_input(crs)
        if not target.is_projected:
            raise CRSError(tr("crs {name!r} is not metric", name=target.name), fix=_("project the coordinates first"))
        w = None if weights is None else np.asarray(weights, dtype=float).ravel()
    else:
        layer = as_layer(points, "points", geometry=("Point",), missing="keep", allow_empty=True,
                         normalize=False)
        geoms = metric(layer, crs).geometry
        target = pyproj.CRS.from_user_input(geoms.crs)
        if isinstance(weights, str):
            if not isinstance(points, gpd.GeoDataFrame) or weights not in points.columns:
                raise SchemaError(tr("weights column {weights!r} not found", weights=weights))
            w = pd.to_numeric(points[weights], errors="coerce").to_numpy(dtype=float)
        else:
            w = None if weights is None else np.asarray(weights, dtype=float).ravel()
        arr = geoms.values
        x = shapely.get_x(arr) if len(arr) else np.zeros(0)
        y = shapely.get_y(arr) if len(arr) else np.zeros(0)
    if w is not None and len(w) != len(x):
        raise SchemaError(tr("weights has {n_w} values for {n_x} points",
                             n_w=len(w), n_x=len(x)))
    ok = np.isfinite(x) & np.isfinite(y)
    if w is not None:
        ok &= np.isfinite(w)
        w = w[ok]
    return x[ok], y[ok], w, target


def clip_geometry(clip: Any, crs: pyproj.CRS) -> shapely.Geometry | None:
    """One (valid) clip geometry in ``crs`` from a polygon layer or a shapely geometry.

    A GeoDataFrame/GeoSeries is projected to ``crs`` and its polygons merged; a shapely
    geometry is taken as already in ``crs``; ``None`` gives ``None``.

    Examples
    --------
    >>> import pyproj, shapely
    >>> from gridgis.events.points import clip_geometry
    >>> clip_geometry(shapely.box(0, 0, 1, 1), pyproj.CRS(4547)).area
    1.0
    """
    if clip is None:
        return None
    if isinstance(clip, gpd.GeoDataFrame | gpd.GeoSeries):
        layer = as_layer(clip, "clip", geometry=None, missing="drop", allow_empty=True,
                         normalize=False)
        geom = shapely.union_all(shapely.make_valid(metric(layer, crs).geometry.values))
    elif isinstance(clip, shapely.Geometry):
        geom = clip  # assumed to be in ``crs``
    else:
        raise GeometryError(tr("clip must be a GeoDataFrame, GeoSeries or geometry, not {type}",
                               type=type(clip)))
    if geom.is_empty:
        raise GeometryError(_("clip geometry is empty"))
    return geom
