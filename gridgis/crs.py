"""Coordinate systems: metric CRS choice and the Chinese web-map systems GCJ-02 and BD-09.

PROJ does not implement GCJ-02 (Amap/Tencent) or BD-09 (Baidu) (PROJ issue 982, wontfix), so
they are handled here with the public closed-form forward transforms and iterative inverses
(converged to better than 1e-9 degrees). Wherever gridgis accepts a CRS it also accepts the
strings ``"GCJ02"`` / ``"GCJ-02"`` and ``"BD09"`` / ``"BD-09"``; areas and distances are always
computed in a metric CRS chosen by :func:`metric_crs`.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
import shapely

from ._geometry import polygonal
from .errors import CRSError
from .i18n import tr

if TYPE_CHECKING:  # imported where used: converting coordinates needs no geopandas
    import geopandas as gpd

__all__ = [
    "GCJ02", "BD09", "CHINA_LON", "CHINA_LAT", "resolve_crs", "in_china", "wgs84_to_gcj02",
    "gcj02_to_wgs84", "gcj02_to_bd09", "bd09_to_gcj02", "wgs84_to_bd09", "bd09_to_wgs84",
    "points_to_wgs84", "wgs84_to", "transformer", "convert", "to_crs", "to_crs_valid", "metric_crs",
    "is_metric", "to_metric",
]

GCJ02 = "GCJ02"
BD09 = "BD09"
_PSEUDO = {
    "GCJ02": GCJ02, "GCJ-02": GCJ02, "GCJ": GCJ02, "AMAP": GCJ02, "MARS": GCJ02,
    "BD09": BD09, "BD-09": BD09, "BD09LL": BD09, "BAIDU": BD09,
}

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0

# China's bounding box as used by the public algorithm (points outside are left unchanged)
CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)


def resolve_crs(crs: Any) -> pyproj.CRS | str:
    """Turn any CRS spelling into a :class:`pyproj.CRS`, or ``"GCJ02"`` / ``"BD09"``.

    Raises
    ------
    CRSError
        If the CRS is missing or unknown.
    """
    if crs is None:
        raise CRSError(tr("no coordinate reference system given"), fix=tr("pass crs='EPSG:4326' or similar"))
    if isinstance(crs, str) and crs.strip().upper().replace(" ", "") in _PSEUDO:
        return _PSEUDO[crs.strip().upper().replace(" ", "")]
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(
            tr("unknown coordinate reference system {crs!r}: {exc}", crs=crs, exc=exc),
            fix=tr("use an EPSG code such as 'EPSG:4326', 'EPSG:4490', or 'GCJ02'/'BD09'"),
        ) from None


_TRANSFORMERS: dict[tuple[str, str], pyproj.Transformer] = {}
_SEARCHES: dict[tuple[str, str], threading.Lock] = {}  # one search at a time per pair
_SEARCHES_LOCK = threading.Lock()


def transformer(src: pyproj.CRS, dst: pyproj.CRS) -> pyproj.Transformer:
    """The (always x/y) transformer from ``src`` to ``dst``, made once per process and cheap on
    every thread.

    pyproj makes a transformer again in each thread that uses it, and for a pair such as WGS84 →
    CGCS2000 / 3-degree Gauss-Krüger PROJ's search of its database takes about 40 ms each time.
    Where PROJ chose one operation (its definition is a pipeline), the transformer is made from
    that pipeline instead: the same operation, the same numbers, made in 0.1 ms on a new thread.
    Where PROJ keeps several operations to choose from point by point, the search stays.

    Examples
    --------
    >>> tr = transformer(pyproj.CRS.from_epsg(4326), pyproj.CRS.from_epsg(4547))
    >>> [round(v) for v in tr.transform(114.0, 30.0)]
    [500000, 3320113]
    >>> tr is transformer(pyproj.CRS.from_epsg(4326), pyproj.CRS.from_epsg(4547))
    True
    """
    key = (src.to_wkt(), dst.to_wkt())
    tr = _TRANSFORMERS.get(key)
    if tr is not None:
        return tr
    with _SEARCHES_LOCK:
        search = _SEARCHES.setdefault(key, threading.Lock())
    with search:  # searches for other pairs go on meanwhile, on other threads
        tr = _TRANSFORMERS.get(key)
        if tr is None:
            tr = pyproj.Transformer.from_crs(src, dst, always_xy=True)
            if tr.definition.startswith("proj="):
                tr = pyproj.Transformer.from_pipeline(tr.definition)
            _TRANSFORMERS[key] = tr
    return tr


def convert(src: pyproj.CRS, dst: pyproj.CRS, x: np.ndarray, y: np.ndarray,
            pool: Executor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate arrays converted from ``src`` to ``dst`` (``inf`` where PROJ cannot).

    With a thread ``pool`` the two halves are converted at once (PROJ works without the GIL).

    Examples
    --------
    >>> x, y = convert(pyproj.CRS.from_epsg(4326), pyproj.CRS.from_epsg(4547),
    ...                np.array([114.0]), np.array([30.0]))
    >>> [round(float(v)) for v in (x[0], y[0])]
    [500000, 3320113]
    """
    tr = transformer(src, dst)
    if pool is None:
        with np.errstate(all="ignore"):
            return tr.transform(x, y, errcheck=False)
    h = len(x) // 2
    first = pool.submit(tr.transform, x[:h], y[:h], errcheck=False)
    with np.errstate(all="ignore"):
        xb, yb = tr.transform(x[h:], y[h:], errcheck=False)
    xa, ya = first.result()
    return np.concatenate([xa, xb]), np.concatenate([ya, yb])


def in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Boolean mask of points inside the bounding box the public GCJ-02 algorithm uses."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1]) & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1])


def _offsets(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    return dlon, dlat


def _arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lon.astype(float, copy=True), lat.astype(float, copy=True)


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → GCJ-02 (vectorised). Points outside China's box are returned unchanged."""
    lon, lat = _arrays(lon, lat)
    mask = in_china(lon, lat)
    dlon, dlat = _offsets(lon[mask], lat[mask])
    lon[mask] += dlon
    lat[mask] += dlat
    return lon, lat


def _invert(forward, lon: np.ndarray, lat: np.ndarray, tol: float = 1e-10, max_iter: int = 30):
    """Solve forward(x) = target by fixed-point iteration x <- x - (forward(x) - target)."""
    x, y = lon.copy(), lat.copy()
    for _ in range(max_iter):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x -= ex
        y -= ey
        err = np.nanmax(np.abs(np.concatenate([ex.ravel(), ey.ravel()])), initial=0.0)
        if not err > tol:  # also stops on all-NaN input
            break
    return x, y


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS84 by iteration (round-trip error far below 1e-7°)."""
    lon, lat = _arrays(lon, lat)
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (the public closed form; applied everywhere like Baidu's API)."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02: closed-form first guess refined by iteration to the exact inverse."""
    lon, lat = _arrays(lon, lat)
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → WGS84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS = {GCJ02: gcj02_to_wgs84, BD09: bd09_to_wgs84}
_FROM_WGS = {GCJ02: wgs84_to_gcj02, BD09: wgs84_to_bd09}


def points_to_wgs84(lon: Any, lat: Any, crs: Any = "EPSG:4326") -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinate arrays in ``crs`` (any pyproj CRS, "GCJ02" or "BD09") to WGS84 lon/lat."""
    src = resolve_crs(crs)
    lon, lat = _arrays(lon, lat)
    if isinstance(src, str):
        return _TO_WGS[src](lon, lat)
    if src.equals(pyproj.CRS.from_epsg(4326)):
        return lon, lat
    return convert(src, pyproj.CRS.from_epsg(4326), lon, lat)


def wgs84_to(lon: Any, lat: Any, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 lon/lat arrays to ``crs`` (any pyproj CRS, "GCJ02" or "BD09")."""
    dst = resolve_crs(crs)
    lon, lat = _arrays(lon, lat)
    if isinstance(dst, str):
        return _FROM_WGS[dst](lon, lat)
    return convert(pyproj.CRS.from_epsg(4326), dst, lon, lat)


def to_crs(gdf: gpd.GeoDataFrame, crs: Any, *, from_crs: Any = None) -> gpd.GeoDataFrame:
    """Reproject a GeoDataFrame; either side may be "GCJ02"/"BD09".

    A GeoDataFrame in GCJ-02/BD-09 carries EPSG:4326 as its nominal CRS (geopandas cannot store
    a non-PROJ CRS), so pass ``from_crs="GCJ02"`` to say what its coordinates really are. The
    result of converting *to* GCJ-02/BD-09 is likewise labelled EPSG:4326.
    """
    src = resolve_crs(from_crs if from_crs is not None else gdf.crs)
    dst = resolve_crs(crs)
    if not isinstance(src, str) and not isinstance(dst, str):
        return gdf.to_crs(dst)
    out = gdf if not isinstance(src, str) else _apply(gdf, _TO_WGS[src])
    out = out.set_crs(4326, allow_override=True) if isinstance(src, str) else out.to_crs(4326)
    if isinstance(dst, str):
        return _apply(out, _FROM_WGS[dst])
    return out.to_crs(dst)


def to_crs_valid(gdf: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    """:func:`to_crs`, with every polygon valid in ``crs`` too.

    Reprojection (to degrees above all) can fold a narrow neck of a polygon onto itself; such
    geometries are made valid again in ``crs`` (``shapely.make_valid``, polygons kept).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame(geometry=[shapely.box(500000, 3000000, 500100, 3000100)],
    ...                        crs="EPSG:4547")
    >>> bool(to_crs_valid(gdf, 4326).is_valid.all())
    True
    """
    out = to_crs(gdf, crs)
    geoms = np.asarray(out.geometry.array, dtype=object)
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if not bad.any():
        return out
    fixed = geoms.copy()
    fixed[bad] = polygonal(shapely.make_valid(geoms[bad], method="structure"))
    import geopandas as gpd

    return out.set_geometry(gpd.GeoSeries(fixed, index=out.index, crs=out.crs))


def _apply(gdf: gpd.GeoDataFrame, func) -> gpd.GeoDataFrame:
    def tf(coords: np.ndarray) -> np.ndarray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    out = gdf.copy()
    out[out.geometry.name] = shapely.transform(np.asarray(gdf.geometry.array), tf)
    return out


def metric_crs(data: gpd.GeoDataFrame | gpd.GeoSeries | tuple[float, float, float, float], crs: Any = None) -> pyproj.CRS:
    """Choose a metric CRS for a layer: a CGCS2000 3° Gauss-Krüger zone in China, UTM elsewhere.

    The zone is the one whose central meridian (a multiple of 3°) is nearest the layer's centre;
    CGCS2000 zones without the zone-number prefix are used (EPSG:4534–4554, CM 75°E–135°E).
    A layer already in a projected metric CRS keeps it.

    Parameters
    ----------
    data
        A GeoDataFrame/GeoSeries with a CRS, or WGS84 bounds ``(minx, miny, maxx, maxy)``.
    crs
        CRS of ``data`` when it has none (or when bounds are not WGS84).
    """
    if isinstance(data, tuple):
        lon0, lat0, lon1, lat1 = data
        if crs is not None:
            lon0, lat0 = points_to_wgs84(lon0, lat0, crs)
            lon1, lat1 = points_to_wgs84(lon1, lat1, crs)
    else:
        src = data.crs if crs is None else crs
        if src is None:
            raise CRSError(tr("layer has no CRS"), fix=tr("set it with gdf.set_crs('EPSG:4326') or "
                                                      "similar"))
        src = resolve_crs(src)
        if is_metric(src):
            return src
        geo = data if isinstance(src, str) else data.to_crs(4326)
        lon0, lat0, lon1, lat1 = geo.total_bounds
    lon, lat = float((lon0 + lon1) / 2), float((lat0 + lat1) / 2)
    if not (np.isfinite(lon) and np.isfinite(lat)):
        raise CRSError(tr("cannot choose a metric CRS for an empty or non-finite layer"))
    if bool(in_china(lon, lat)) and 73.5 <= lon <= 136.5:
        cm = int(np.clip(round(lon / 3.0) * 3, 75, 135))
        return pyproj.CRS.from_epsg(4534 + (cm - 75) // 3)
    zone = int(np.clip((lon + 180) // 6 + 1, 1, 60))
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _is_metre(crs: pyproj.CRS) -> bool:
    try:
        return all(ax.unit_name in ("metre", "meter") for ax in crs.axis_info[:2])
    except Exception:  # pragma: no cover
        return False


def is_metric(crs: Any) -> bool:
    """Whether ``crs`` is a projected CRS in metres (its own :func:`metric_crs`).

    Examples
    --------
    >>> is_metric("EPSG:4547"), is_metric("EPSG:4326"), is_metric("GCJ02")
    (True, False, False)
    """
    src = resolve_crs(crs)
    return not isinstance(src, str) and src.is_projected and _is_metre(src)


def to_metric(gdf: gpd.GeoDataFrame, crs: Any = None) -> gpd.GeoDataFrame:
    """Return ``gdf`` in :func:`metric_crs` (a no-op when it is already metric).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame(geometry=[shapely.Point(112.9, 27.9)], crs="EPSG:4326")
    >>> to_metric(gdf).crs.to_epsg()
    4547
    """
    target = metric_crs(gdf) if crs is None else resolve_crs(crs)
    if gdf.crs is not None and not isinstance(target, str) and gdf.crs.equals(target):
        return gdf
    return to_crs(gdf, target)
