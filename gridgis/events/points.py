"""Point events as metric coordinates, and clip polygons in the same metric CRS."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from ..errors import CRSError, GeometryError, SchemaError

__all__ = ["clip_geometry", "to_metric_points"]


def _metric_crs_for(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> pyproj.CRS:
    if gdf.crs is None:
        raise CRSError(
            "layer has no CRS", fix="set one, e.g. gdf.set_crs(4326) for longitude/latitude"
        )
    crs = pyproj.CRS.from_user_input(gdf.crs)
    if crs.is_projected:
        return crs
    try:
        from ..crs import metric_crs

        return pyproj.CRS.from_user_input(metric_crs(gdf))
    except ImportError:  # pragma: no cover - crs module is part of the package
        return gdf.estimate_utm_crs()


def _as_geoseries(obj: Any, name: str) -> gpd.GeoSeries:
    if isinstance(obj, gpd.GeoDataFrame):
        return obj.geometry
    if isinstance(obj, gpd.GeoSeries):
        return obj
    raise GeometryError(f"{name} must be a GeoDataFrame or GeoSeries, got {type(obj).__name__}")


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
            raise CRSError("coordinates given as (x, y) arrays need crs=", fix="pass crs='EPSG:4547'")
        x = np.asarray(points[0], dtype=float).ravel()
        y = np.asarray(points[1], dtype=float).ravel()
        target = pyproj.CRS.from_user_input(crs)
        if not target.is_projected:
            raise CRSError(f"crs {target.name!r} is not metric", fix="project the coordinates first")
        w = None if weights is None else np.asarray(weights, dtype=float).ravel()
    else:
        geoms = _as_geoseries(points, "points")
        target = pyproj.CRS.from_user_input(crs) if crs is not None else _metric_crs_for(geoms)
        if geoms.crs is None:
            raise CRSError("points have no CRS", fix="set one, e.g. gdf.set_crs(4326)")
        if not pyproj.CRS.from_user_input(geoms.crs).equals(target):
            geoms = geoms.to_crs(target)
        if isinstance(weights, str):
            if not isinstance(points, gpd.GeoDataFrame) or weights not in points.columns:
                raise SchemaError(f"weights column {weights!r} not found")
            w = pd.to_numeric(points[weights], errors="coerce").to_numpy(dtype=float)
        else:
            w = None if weights is None else np.asarray(weights, dtype=float).ravel()
        arr = geoms.values
        x = shapely.get_x(arr) if len(arr) else np.zeros(0)
        y = shapely.get_y(arr) if len(arr) else np.zeros(0)
        kinds = shapely.get_type_id(arr)
        bad = (kinds >= 0) & (kinds != 0)
        if bad.any():
            raise GeometryError(
                f"{int(bad.sum())} geometries are not points",
                where=f"row {int(np.flatnonzero(bad)[0])}",
                fix="use centroids (gdf.centroid) or representative points",
            )
    if w is not None and len(w) != len(x):
        raise SchemaError(f"weights has {len(w)} values for {len(x)} points")
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
        if clip.crs is None:
            raise CRSError("clip layer has no CRS", fix="set its CRS")
        geoms = clip.to_crs(crs) if not pyproj.CRS.from_user_input(clip.crs).equals(crs) else clip
        geoms = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
        geom = shapely.union_all(shapely.make_valid(geoms.values))
    elif isinstance(clip, shapely.Geometry):
        geom = clip  # assumed to be in ``crs``
    else:
        raise GeometryError(f"clip must be a GeoDataFrame, GeoSeries or geometry, not {type(clip)}")
    if geom.is_empty:
        raise GeometryError("clip geometry is empty")
    return geom
