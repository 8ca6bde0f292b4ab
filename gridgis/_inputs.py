"""The one input check every operation runs on the layers it is given.

:func:`as_layer` turns what a caller passed (a GeoDataFrame, a GeoSeries, or a lon/lat table
where that is allowed) into a GeoDataFrame with canonical column names, or raises a
:class:`~gridgis.errors.GridGISError` subclass that names the layer and says how to fix it.
:func:`metric` moves a checked layer to a metric CRS (:func:`gridgis.crs.metric_crs`), where
every area and distance is measured.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import schema
from ._geometry import polygonal, present
from .crs import metric_crs, resolve_crs, to_crs
from .errors import CRSError, GeometryError, SchemaError
from .i18n import _, tr

__all__ = ["POLYGONS", "POINTS", "LINES", "as_layer", "metric"]

#: Geometry types of polygon layers (grids, communities, buildings footprints).
POLYGONS = ("Polygon", "MultiPolygon")
#: Geometry types of point layers (addresses, events).
POINTS = ("Point", "MultiPoint")
#: Geometry types of line layers (roads, rivers).
LINES = ("LineString", "MultiLineString", "LinearRing")

#: How messages call the geometries of each family.
_NOUNS = {POLYGONS: ("polygons", "non-polygonal"), POINTS: ("points", "non-point"),
          LINES: ("lines", "non-linear")}
_MISSING = ("error", "keep", "drop")
_INVALID = ("keep", "error", "fix")


def _frame(obj: Any, name: str, lonlat: bool) -> gpd.GeoDataFrame:
    """``obj`` as a GeoDataFrame (a copy is not made when it already is one)."""
    if isinstance(obj, gpd.GeoDataFrame):
        return obj
    if isinstance(obj, gpd.GeoSeries):
        return gpd.GeoDataFrame(geometry=obj)
    if lonlat and isinstance(obj, pd.DataFrame):
        df = schema.normalize_columns(obj, required=[schema.LON, schema.LAT], source=name)
        lon = pd.to_numeric(df[schema.LON], errors="coerce")
        lat = pd.to_numeric(df[schema.LAT], errors="coerce")
        return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    what = "a GeoDataFrame or a table with lon/lat columns" if lonlat else "a GeoDataFrame"
    raise SchemaError(tr("{name} must be {what}, got {name2}",
                         name=name, what=what, name2=type(obj).__name__), source=name,
                      fix=_("read it with gridgis.read_vector(path)"))


def _rows(gdf: gpd.GeoDataFrame, mask: np.ndarray) -> str:
    return f"rows {list(gdf.index[mask][:10])}"


def _check_types(gdf: gpd.GeoDataFrame, name: str, types: tuple[str, ...], has: np.ndarray
                 ) -> None:
    kinds = np.asarray(gdf.geometry.geom_type.to_numpy(), dtype=object)
    bad = has & ~np.isin(kinds, list(types))
    if bad.any():
        found = ", ".join(sorted({str(k) for k in kinds[bad]}))
        word = _NOUNS.get(types, ("", "unexpected"))[1]
        raise GeometryError(
            tr("the {name} layer has {sum} {word} geometr(ies) ({found}); expected {join}",
               name=name, sum=int(bad.sum()), word=word, found=found, join=' or '.join(types)), source=name, where=_rows(gdf, bad),
            fix=tr("keep only {lower} features in the {name} layer, or pick its {lower} layer",
                   lower=types[0].lower(), name=name))


def _fix_invalid(gdf: gpd.GeoDataFrame, name: str, invalid: str, has: np.ndarray
                 ) -> gpd.GeoDataFrame:
    if invalid == "keep":
        return gdf
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    bad = has & ~shapely.is_valid(geoms)
    if not bad.any():
        return gdf
    if invalid == "error":
        reason = shapely.is_valid_reason(geoms[np.flatnonzero(bad)[0]])
        raise GeometryError(tr("the {name} layer has {sum} invalid geometr(ies) ({reason})",
                               name=name, sum=int(bad.sum()), reason=reason), source=name, where=_rows(gdf, bad),
                            fix=_("repair them in GIS, or with gridgis.repair for a plan"))
    fixed = geoms.copy()
    made = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    poly = np.isin(shapely.get_type_id(geoms[bad]), (3, 6))
    made[poly] = polygonal(made[poly])
    fixed[bad] = made
    return gdf.set_geometry(gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs))


def as_layer(
    obj: Any,
    name: str,
    *,
    geometry: Iterable[str] | None = POLYGONS,
    require_crs: bool = True,
    required: Iterable[str] = (),
    source: object | None = None,
    missing: str = "error",
    invalid: str = "keep",
    allow_empty: bool = False,
    lonlat: bool = False,
    normalize: bool = True,
) -> gpd.GeoDataFrame:
    """Check an input layer and return it with canonical column names.

    Parameters
    ----------
    obj
        A GeoDataFrame or GeoSeries (with ``lonlat=True`` also a table with WGS84 ``lon``/``lat``
        columns, 经度/纬度 …, turned into points).
    name
        The layer's role in messages (``"grids"``, ``"communities"`` …).
    geometry
        Allowed geometry types (:data:`POLYGONS`, :data:`POINTS`, :data:`LINES` or any tuple);
        ``None`` accepts any.
    require_crs
        Refuse a layer without a CRS.
    required
        Canonical column names that must be present after
        :func:`gridgis.schema.normalize_columns`.
    source
        File or layer name for messages (default: the file ``obj`` was read from, see
        :func:`gridgis.schema.label`, else ``name``).
    missing
        Rows without a geometry (missing or empty): ``"error"``, ``"keep"`` or ``"drop"``.
    invalid
        Invalid geometries: ``"keep"``, ``"error"`` or ``"fix"`` (``shapely.make_valid``; polygons
        stay polygons).
    allow_empty
        Accept a layer with no row holding a geometry.
    lonlat
        Accept a plain table with lon/lat columns.
    normalize
        Rename known headers to canonical names; ``False`` keeps the caller's headers (for
        callers that are told column names by the user) and only checks ``required``.

    Returns
    -------
    geopandas.GeoDataFrame
        A renamed copy, or ``obj`` itself when nothing had to change.

    Raises
    ------
    SchemaError
        Not a layer, or a required column is missing.
    CRSError
        No CRS while ``require_crs``.
    GeometryError
        Empty layer, rows without geometry, wrong geometry types or invalid geometries (as the
        options say).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame({"编码": ["430302001001"]},
    ...                        geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4547")
    >>> list(as_layer(gdf, "communities", required=["code"]).columns)
    ['code', 'geometry']
    """
    if missing not in _MISSING or invalid not in _INVALID:
        raise ValueError(tr("missing must be one of {MISSING}, invalid one of {INVALID}",
                            MISSING=_MISSING, INVALID=_INVALID))
    src = schema.label(obj, name) if source is None else source
    gdf = _frame(obj, name, lonlat)
    if normalize:
        gdf = schema.normalize_columns(gdf, required=list(required), source=src)
    else:
        schema.require_columns(gdf, list(required), source=src)
    if require_crs and gdf.crs is None:
        raise CRSError(tr("the {name} layer has no CRS", name=name), source=src,
                       fix=_("set it, e.g. gdf.set_crs('EPSG:4547') or "
                             "gdf.set_crs('EPSG:4326')"))
    has = present(np.asarray(gdf.geometry.array, dtype=object))
    if not has.any() and not allow_empty:
        what = "has no rows: it is empty" if not len(gdf) else "has no geometry in any row"
        noun = _NOUNS.get(tuple(geometry or ()), ("",))[0]
        what += f" (no {noun})" if noun else ""
        raise GeometryError(tr("the {name} layer {what}", name=name, what=what), source=src,
                            fix=tr("check that the {name} file holds features", name=name))
    if not has.all() and len(gdf):
        if missing == "error":
            raise GeometryError(tr("{sum} {name} row(s) without a geometry",
                                   sum=int((~has).sum()), name=name),
                                source=src, where=_rows(gdf, ~has),
                                fix=_("draw them or drop these rows"))
        if missing == "drop":
            gdf, has = gdf[has], has[has]
    if geometry is not None:
        _check_types(gdf, name, tuple(geometry), has)
    return _fix_invalid(gdf, name, invalid, has)


def metric(gdf: gpd.GeoDataFrame | None, crs: Any = None) -> gpd.GeoDataFrame | None:
    """The layer in a metric CRS: ``crs`` when given, else :func:`gridgis.crs.metric_crs` of it.

    The CRS is chosen from the rows that hold a geometry; a layer already in the target CRS is
    returned as is. ``None`` gives ``None``, so optional layers pass through.

    Parameters
    ----------
    gdf
        A layer with a CRS (checked with :func:`as_layer`).
    crs
        Target metric CRS (any spelling :func:`gridgis.crs.resolve_crs` accepts).

    Raises
    ------
    CRSError
        The layer has no CRS, or no metric CRS can be chosen (no geometry at all).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame(geometry=[shapely.Point(112.9, 27.9)], crs="EPSG:4326")
    >>> metric(gdf).crs.to_epsg()
    4547
    """
    if gdf is None:
        return None
    if gdf.crs is None:
        raise CRSError(_("the layer has no CRS"), fix=_("set it, e.g. gdf.set_crs('EPSG:4547')"))
    if crs is None:
        has = present(np.asarray(gdf.geometry.array, dtype=object))
        target: Any = metric_crs(gdf[has] if has.any() else gdf)
    else:
        target = resolve_crs(crs)
    if isinstance(target, pyproj.CRS) and pyproj.CRS.from_user_input(gdf.crs).equals(target):
        return gdf
    return to_crs(gdf, target)
