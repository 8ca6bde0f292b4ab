"""Reading point coordinates (lon/lat columns or point geometries) out of tables."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from .. import schema
from ..crs import resolve_crs
from ..errors import SchemaError
from ..i18n import tr
from ._status import R_MISSING, R_NOT_NUMBER, R_NOT_POINT

if TYPE_CHECKING:  # imported where used: finding the lon/lat columns needs neither
    import pandas as pd
    import pyproj

__all__ = ["extract_xy", "find_lonlat"]

# ---- reading coordinates out of tables --------------------------------------------------------------
def find_lonlat(columns: Any) -> tuple[Any, Any] | tuple[None, None]:
    """Columns holding longitude and latitude (canonical names or any alias), else ``(None, None)``.

    Examples
    --------
    >>> find_lonlat(["id", "经度", "纬度"])
    ('经度', '纬度')
    """
    lon = lat = None
    for col in columns:
        name = schema.canonical_name(col)
        if name == schema.LON and lon is None:
            lon = col
        elif name == schema.LAT and lat is None:
            lat = col
    return (lon, lat) if lon is not None and lat is not None else (None, None)


_FULLWIDTH_NUMBER = str.maketrans("０１２３４５６７８９．－＋　", "0123456789.-+ ")


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column as floats; also return where text was present but is not a number.

    Blank text counts as missing; surrounding spaces are ignored, and full-width digits
    (１１２．９, common in spreadsheets typed with a Chinese input method) are read as digits.
    """
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        arr = values.to_numpy(dtype=float, na_value=np.nan)
        return arr, np.zeros(len(arr), dtype=bool)
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan, copy=True)
    missing = values.isna().to_numpy()
    retry = np.flatnonzero(np.isnan(num) & ~missing)
    text = np.zeros(len(num), dtype=bool)
    if len(retry):  # e.g. " 112.9 " or "" : strip, then parse again
        sub = values.iloc[retry].astype(str).str.translate(_FULLWIDTH_NUMBER).str.strip()
        blank = (sub == "").to_numpy()
        again = pd.to_numeric(sub.where(~blank, None), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        num[retry] = again
        text[retry] = ~blank & np.isnan(again)
    return num, text


def extract_xy(
    points: pd.DataFrame,
    crs: Any = None,
    *,
    lon: Any = None,
    lat: Any = None,
    pool: ThreadPoolExecutor | None = None,
) -> tuple[np.ndarray, np.ndarray, pyproj.CRS | str, np.ndarray]:
    """Coordinates, their CRS and pre-detected reasons from a GeoDataFrame or lon/lat table.

    A GeoDataFrame's point geometries are used (in ``crs`` when given, else in its own CRS); a
    plain table needs longitude/latitude columns (any alias; WGS84 unless ``crs`` says otherwise).
    With a thread ``pool``, x and y are read out of the geometries concurrently.

    Examples
    --------
    >>> import pandas as pd
    >>> import pandas as pd
    >>> x, y, crs, reason = extract_xy(pd.DataFrame({"lon": [112.9], "lat": [27.85]}))
    >>> float(x[0]), float(y[0]), int(reason[0])
    (112.9, 27.85, -1)
    """
    import geopandas as gpd

    from .._inputs import as_layer

    n = len(points)
    pre = np.full(n, -1, dtype=np.int16)
    lon_col, lat_col = (lon, lat) if lon is not None and lat is not None else find_lonlat(points.columns)
    use_geometry = isinstance(points, gpd.GeoDataFrame) and points._geometry_column_name in points.columns
    if use_geometry:
        as_layer(points, "points", geometry=None, require_crs=crs is None, missing="keep",
                 allow_empty=True, normalize=False)
        src = crs if crs is not None else points.crs
        geoms = np.asarray(points.geometry.array, dtype=object)
        try:
            if pool is not None:
                get_y = pool.submit(shapely.get_y, geoms)
                try:
                    x = shapely.get_x(geoms)
                finally:
                    y = get_y.result()
            else:
                x = shapely.get_x(geoms)
                y = shapely.get_y(geoms)
        except shapely.errors.GEOSException:  # empty points
            empty = shapely.is_empty(geoms)
            ok_geoms = np.where(empty, None, geoms)
            x = shapely.get_x(ok_geoms)
            y = shapely.get_y(ok_geoms)
        nan = np.flatnonzero(np.isnan(x) | np.isnan(y))
        if len(nan):
            kinds = shapely.get_type_id(geoms[nan])
            empty = shapely.is_empty(geoms[nan])
            pre[nan[(kinds > 0)]] = R_NOT_POINT
            pre[nan[(kinds == 0) & ~empty]] = R_MISSING
            pre[nan[(kinds == -1) | empty]] = R_MISSING
            if lon_col is not None:
                # rows without geometry: the raw lon/lat text tells why (read_points keeps it)
                sub = points.iloc[nan]
                _, tx = _numbers(sub[lon_col])
                _, ty = _numbers(sub[lat_col])
                missing = (kinds == -1) | empty
                pre[nan[missing & (tx | ty)]] = R_NOT_NUMBER
    else:
        if lon_col is None:
            raise SchemaError(
                tr("no longitude/latitude columns; found {list}",
                   list=list(map(str, points.columns))),
                source="points", fix=tr("name them 经度/纬度 or lon/lat, or pass lon=/lat="),
            )
        src = crs if crs is not None else "EPSG:4326"
        x, tx = _numbers(points[lon_col])
        y, ty = _numbers(points[lat_col])
        pre[tx | ty] = R_NOT_NUMBER
    return x, y, resolve_crs(src), pre


