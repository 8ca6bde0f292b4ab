"""Kernel density (heatmap) rasters of point events, in metres.

The estimate follows the QGIS *Heatmap (Kernel Density Estimation)* algorithm: every event
spreads its weight over a disc of radius ``bandwidth`` (metres) with a kernel profile; the
default is the quartic (biweight) kernel ``(1 - (d/h)^2)^2``. Three output scales:

``"density"`` (default)
    The kernel is normalised in two dimensions, ``K(d) = 3 / (pi h^2) * (1 - (d/h)^2)^2`` for
    the quartic kernel, so the raster integrates to the (weighted) number of events and each
    cell holds events per square kilometre.
``"raw"``
    The unscaled kernel sum ``sum_i w_i (1 - (d_i/h)^2)^2``; identical to QGIS' "Raw" output.
``"qgis"``
    QGIS' "Scaled" output per square map unit, which uses the constant
    ``116 / (5 pi h^2) * 15/16`` for the quartic kernel (not a unit integral; kept for users who
    compare against QGIS rasters).

Large inputs are fast: events are linearly binned onto the raster (each event splits its
weight between the four nearest cell centres) and the binned grid is convolved with the kernel
sampled on the cell lattice by FFT (:func:`scipy.signal.fftconvolve`). The binning error is of
second order in ``cell_size / bandwidth``; ``method="exact"`` sums every event's kernel at every
cell centre within the bandwidth instead (used automatically for small inputs).

Example
-------
>>> from gridgis.heatmap import kde
>>> r = kde(events, bandwidth=300, cell_size=25, clip=district)   # doctest: +SKIP
>>> r.values.shape, r.crs, r.units                                # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.signal import fftconvolve

from .errors import CRSError, GeometryError, GridGISError, SchemaError

__all__ = [
    "KERNELS",
    "Raster",
    "kde",
    "kde_frames",
    "kernel_profile",
    "kernel_constant",
    "to_metric_points",
]

#: Kernel profiles ``f(u)`` for ``u = d / h`` in [0, 1] and their 2-D unit-integral constants
#: ``c`` such that ``c / h^2 * f(d/h)`` integrates to 1 over the plane.
KERNELS: dict[str, tuple[Any, float]] = {
    "quartic": (lambda u: (1.0 - u * u) ** 2, 3.0 / math.pi),
    "triweight": (lambda u: (1.0 - u * u) ** 3, 4.0 / math.pi),
    "epanechnikov": (lambda u: 1.0 - u * u, 2.0 / math.pi),
    "triangular": (lambda u: 1.0 - u, 3.0 / math.pi),
    "uniform": (lambda u: np.ones_like(u), 1.0 / math.pi),
}

# QGIS' "Scaled" constants (qgskde.cpp), per kernel, times its extra factor.
_QGIS_SCALED = {
    "quartic": 116.0 / (5.0 * math.pi) * 15.0 / 16.0,
    "triweight": 128.0 / (35.0 * math.pi) * 35.0 / 32.0,
    "epanechnikov": 8.0 / (3.0 * math.pi) * 3.0 / 4.0,
    "triangular": 3.0 / math.pi,
    "uniform": 2.0 / math.pi,
}

_SCALES = ("density", "raw", "qgis")
_M2_PER_KM2 = 1.0e6


def kernel_profile(kernel: str) -> Any:
    """Return the profile function ``f(u)`` (``u = d/h``) of a kernel name."""
    try:
        return KERNELS[kernel][0]
    except KeyError:
        raise GridGISError(
            f"unknown kernel {kernel!r}", fix=f"use one of {sorted(KERNELS)}"
        ) from None


def kernel_constant(kernel: str, bandwidth: float, scale: str = "density") -> float:
    """Factor that multiplies the kernel profile for a given output ``scale``.

    ``"density"`` gives events per km² (unit-integral kernel times 10^6 m²/km²), ``"raw"`` 1,
    ``"qgis"`` QGIS' scaled constant per m².
    """
    kernel_profile(kernel)
    if scale == "density":
        return KERNELS[kernel][1] / bandwidth**2 * _M2_PER_KM2
    if scale == "raw":
        return 1.0
    if scale == "qgis":
        return _QGIS_SCALED[kernel] / bandwidth**2
    raise GridGISError(f"unknown scale {scale!r}", fix=f"use one of {list(_SCALES)}")


def _units(scale: str) -> str:
    return {"density": "events/km²", "raw": "kernel sum", "qgis": "QGIS scaled (per m²)"}[scale]


@dataclass
class Raster:
    """A single-band raster on a north-up grid of square cells.

    Attributes
    ----------
    values
        2-D float array, row 0 is the northern edge; ``NaN`` outside the clip polygon.
    transform
        Affine coefficients ``(a, b, c, d, e, f)`` as in rasterio/affine:
        ``x = a*col + b*row + c`` and ``y = d*col + e*row + f`` for the cell *corner*
        ``(col, row)``; here ``(cell, 0, xmin, 0, -cell, ymax)``.
    crs
        Coordinate reference system of ``transform`` (metric).
    units
        What one cell value means (e.g. ``"events/km²"``).
    meta
        Free-form parameters (bandwidth, kernel, number of events …).
    """

    values: np.ndarray
    transform: tuple[float, float, float, float, float, float]
    crs: pyproj.CRS
    units: str = "events/km²"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of :attr:`values`."""
        return self.values.shape  # type: ignore[return-value]

    @property
    def cell_size(self) -> float:
        """Cell edge length in CRS units (metres)."""
        return float(self.transform[0])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the raster's outer edges."""
        a, _, c, _, e, f = self.transform
        rows, cols = self.shape
        return (c, f + e * rows, c + a * cols, f)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(xmin, xmax, ymin, ymax)``: the ``extent=`` argument of ``matplotlib.imshow``."""
        xmin, ymin, xmax, ymax = self.bounds
        return (xmin, xmax, ymin, ymax)

    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        """1-D arrays of cell-centre x (west→east) and y (north→south) coordinates."""
        a, _, c, _, e, f = self.transform
        rows, cols = self.shape
        return c + a * (np.arange(cols) + 0.5), f + e * (np.arange(rows) + 0.5)

    @property
    def max(self) -> float:
        """Largest finite value (0 for an empty raster)."""
        finite = self.values[np.isfinite(self.values)]
        return float(finite.max()) if finite.size else 0.0

    def sample(self, x: Any, y: Any) -> np.ndarray:
        """Values of the cells containing points ``(x, y)`` (``NaN`` outside the raster)."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        a, _, c, _, e, f = self.transform
        col = np.floor((x - c) / a).astype(np.int64)
        row = np.floor((y - f) / e).astype(np.int64)
        rows, cols = self.shape
        ok = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
        out = np.full(x.shape, np.nan)
        out[ok] = self.values[row[ok], col[ok]]
        return out

    def total(self) -> float:
        """Integral of the raster (sum of values × cell area, in km² for ``events/km²``)."""
        area = self.cell_size**2 / (_M2_PER_KM2 if self.units == "events/km²" else 1.0)
        return float(np.nansum(self.values) * area)

    def to_web_mercator(self, max_size: int = 2048) -> Raster:
        """Resample onto an EPSG:3857 grid (bilinear), for web-map image overlays.

        Leaflet stretches an image overlay linearly in Web Mercator between its corner
        coordinates, so a metric raster must be warped first to sit exactly on the map.
        """
        from scipy.ndimage import map_coordinates

        web = pyproj.CRS.from_epsg(3857)
        to_web = pyproj.Transformer.from_crs(self.crs, web, always_xy=True)
        xmin, ymin, xmax, ymax = self.bounds
        xs = np.array([xmin, xmax, xmax, xmin, (xmin + xmax) / 2, (xmin + xmax) / 2, xmin, xmax])
        ys = np.array([ymin, ymin, ymax, ymax, ymin, ymax, (ymin + ymax) / 2, (ymin + ymax) / 2])
        wx, wy = to_web.transform(xs, ys)
        wxmin, wxmax, wymin, wymax = wx.min(), wx.max(), wy.min(), wy.max()
        rows, cols = self.shape
        scale = (wxmax - wxmin) / max(xmax - xmin, 1e-9)
        cell = self.cell_size * scale
        ncol = max(1, int(math.ceil((wxmax - wxmin) / cell)))
        nrow = max(1, int(math.ceil((wymax - wymin) / cell)))
        if max(ncol, nrow) > max_size:
            factor = max(ncol, nrow) / max_size
            cell *= factor
            ncol = max(1, int(math.ceil((wxmax - wxmin) / cell)))
            nrow = max(1, int(math.ceil((wymax - wymin) / cell)))
        cx = wxmin + cell * (np.arange(ncol) + 0.5)
        cy = wymax - cell * (np.arange(nrow) + 0.5)
        gx, gy = np.meshgrid(cx, cy)
        back = pyproj.Transformer.from_crs(web, self.crs, always_xy=True)
        sx, sy = back.transform(gx.ravel(), gy.ravel())
        a, _, c, _, e, f = self.transform
        colf = (np.asarray(sx) - c) / a - 0.5
        rowf = (np.asarray(sy) - f) / e - 0.5
        vals = np.where(np.isfinite(self.values), self.values, 0.0)
        mask = np.isfinite(self.values).astype(float)
        out = map_coordinates(vals, [rowf, colf], order=1, mode="constant", cval=0.0)
        inside = map_coordinates(mask, [rowf, colf], order=0, mode="constant", cval=0.0)
        out = np.where(inside > 0.5, out, np.nan).reshape(nrow, ncol)
        return Raster(
            out,
            (cell, 0.0, wxmin, 0.0, -cell, wymax),
            web,
            units=self.units,
            meta=dict(self.meta),
        )

    def wgs84_bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` in degrees of the raster's outer edges."""
        tr = pyproj.Transformer.from_crs(self.crs, 4326, always_xy=True)
        return tuple(float(v) for v in tr.transform_bounds(*self.bounds))  # type: ignore[return-value]

    def to_rgba(
        self, cmap: str = "YlOrRd", vmax: float | None = None, min_alpha: float = 0.0
    ) -> np.ndarray:
        """Colour the raster: ``uint8`` RGBA array, transparent where zero or ``NaN``.

        Alpha ramps up from ``min_alpha`` over the lowest fifth of the colour range so that
        faint density fades into the map below.
        """
        import matplotlib

        cm = matplotlib.colormaps[cmap]
        v = np.where(np.isfinite(self.values), self.values, 0.0)
        top = float(vmax) if vmax else (self.max or 1.0)
        t = np.clip(v / top, 0.0, 1.0)
        rgba = cm(t)
        alpha = np.clip(min_alpha + (1 - min_alpha) * t / 0.2, 0.0, 1.0)
        alpha[(v <= 0) | ~np.isfinite(self.values)] = 0.0
        rgba[..., 3] = alpha * 0.9
        return (rgba * 255).round().astype(np.uint8)

    def to_png_bytes(self, cmap: str = "YlOrRd", vmax: float | None = None) -> bytes:
        """PNG bytes of :meth:`to_rgba` (one pixel per cell)."""
        import io

        import matplotlib.image

        buf = io.BytesIO()
        matplotlib.image.imsave(buf, self.to_rgba(cmap, vmax), format="png")
        return buf.getvalue()

    def to_data_uri(self, cmap: str = "YlOrRd", vmax: float | None = None) -> str:
        """``data:image/png;base64,…`` URI of :meth:`to_png_bytes` (for offline HTML)."""
        import base64

        return "data:image/png;base64," + base64.b64encode(self.to_png_bytes(cmap, vmax)).decode()


# ---- inputs ---------------------------------------------------------------------------------------


def _metric_crs_for(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> pyproj.CRS:
    if gdf.crs is None:
        raise CRSError(
            "layer has no CRS", fix="set one, e.g. gdf.set_crs(4326) for longitude/latitude"
        )
    crs = pyproj.CRS.from_user_input(gdf.crs)
    if crs.is_projected:
        return crs
    try:
        from .crs import metric_crs

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


def _clip_geometry(clip: Any, crs: pyproj.CRS) -> shapely.Geometry | None:
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


# ---- the estimate ---------------------------------------------------------------------------------


def _grid(
    bounds: Sequence[float],
    bandwidth: float,
    cell_size: float | None,
    shape: tuple[int, int] | None,
    max_cells: int,
) -> tuple[float, float, float, int, int]:
    """Snap ``bounds`` to a grid; returns ``(cell, xmin, ymax, rows, cols)``."""
    xmin, ymin, xmax, ymax = (float(v) for v in bounds)
    width, height = max(xmax - xmin, 1e-9), max(ymax - ymin, 1e-9)
    if shape is not None:
        rows, cols = (int(v) for v in shape)
        if rows < 1 or cols < 1:
            raise GridGISError(f"shape must be positive, got {shape}")
        cell = max(width / cols, height / rows)
        cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
        return cell, cx - cell * cols / 2, cy + cell * rows / 2, rows, cols
    if cell_size is None:
        cell_size = bandwidth / 10.0
        while (width / cell_size + 1) * (height / cell_size + 1) > max_cells:
            cell_size *= 1.25
    if cell_size <= 0:
        raise GridGISError(f"cell_size must be positive, got {cell_size}")
    x0 = math.floor(xmin / cell_size) * cell_size
    y1 = math.ceil(ymax / cell_size) * cell_size
    cols = max(1, int(math.ceil((xmax - x0) / cell_size - 1e-9)))
    rows = max(1, int(math.ceil((y1 - ymin) / cell_size - 1e-9)))
    if rows * cols > max_cells:
        raise GridGISError(
            f"raster of {rows}×{cols} cells exceeds max_cells={max_cells}",
            fix="use a larger cell_size or raise max_cells",
        )
    return cell_size, x0, y1, rows, cols


def _kernel_stamp(kernel: str, bandwidth: float, cell: float) -> np.ndarray:
    """Kernel profile sampled at integer cell offsets (square array, odd size)."""
    r = int(math.floor(bandwidth / cell))
    off = np.arange(-r, r + 1) * cell
    d = np.hypot(off[None, :], off[:, None]) / bandwidth
    prof = kernel_profile(kernel)
    return np.where(d < 1.0, prof(np.minimum(d, 1.0)), 0.0)


def _linear_bin(
    col: np.ndarray, row: np.ndarray, w: np.ndarray | None, rows: int, cols: int, pad: int
) -> np.ndarray:
    """Bilinear (cloud-in-cell) binning of fractional cell-centre coordinates.

    ``col``/``row`` are in cell-centre units (centre of cell (0, 0) at 0.0), row increasing
    northwards. Returns an array of shape ``(rows + 2 pad, cols + 2 pad)``.
    """
    ny, nx = rows + 2 * pad, cols + 2 * pad
    u = col + pad
    v = row + pad
    i = np.floor(u)
    j = np.floor(v)
    fu = u - i
    fv = v - j
    ok = (i >= -1) & (i <= nx - 1) & (j >= -1) & (j <= ny - 1)
    if not ok.all():
        i, j, fu, fv = i[ok], j[ok], fu[ok], fv[ok]
        w = None if w is None else w[ok]
    i = i.astype(np.int64) + 1  # shift by one so corner -1 is a valid (discarded) index
    j = j.astype(np.int64) + 1
    sx, sy = nx + 2, ny + 2
    base = j * sx + i
    wt = np.ones_like(fu) if w is None else w
    a = (1 - fu) * (1 - fv) * wt
    b = fu * (1 - fv) * wt
    c = (1 - fu) * fv * wt
    d = fu * fv * wt
    size = sx * sy
    grid = np.bincount(base, a, size)
    grid += np.bincount(base + 1, b, size)
    grid += np.bincount(base + sx, c, size)
    grid += np.bincount(base + sx + 1, d, size)
    return grid.reshape(sy, sx)[1 : ny + 1, 1 : nx + 1]


def _exact_sum(
    col: np.ndarray,
    row: np.ndarray,
    w: np.ndarray | None,
    rows: int,
    cols: int,
    cell: float,
    bandwidth: float,
    kernel: str,
    chunk_cells: int = 4_000_000,
) -> np.ndarray:
    """Exact kernel sum at every cell centre within ``bandwidth`` of each point."""
    prof = kernel_profile(kernel)
    r = int(math.ceil(bandwidth / cell)) + 1
    off = np.arange(-r, r + 1)
    oi, oj = (a.ravel() for a in np.meshgrid(off, off))
    out = np.zeros(rows * cols)
    n = len(col)
    step = max(1, chunk_cells // oi.size)
    for s in range(0, n, step):
        c0 = np.rint(col[s : s + step])[:, None]
        r0 = np.rint(row[s : s + step])[:, None]
        ci = c0 + oi[None, :]
        rj = r0 + oj[None, :]
        d = np.hypot(ci - col[s : s + step, None], rj - row[s : s + step, None]) * cell / bandwidth
        ok = (d < 1.0) & (ci >= 0) & (ci < cols) & (rj >= 0) & (rj < rows)
        val = prof(np.minimum(d, 1.0))
        if w is not None:
            val = val * w[s : s + step, None]
        idx = (rj[ok] * cols + ci[ok]).astype(np.int64)
        out += np.bincount(idx, val[ok], rows * cols)
    return out.reshape(rows, cols)


def kde(
    points: Any,
    *,
    bandwidth: float = 300.0,
    cell_size: float | None = None,
    weights: Any = None,
    kernel: str = "quartic",
    scale: str = "density",
    clip: Any = None,
    extent: Sequence[float] | None = None,
    shape: tuple[int, int] | None = None,
    crs: Any = None,
    method: str = "auto",
    max_cells: int = 25_000_000,
) -> Raster:
    """Kernel density raster of point events (metres; QGIS-style kernels).

    Parameters
    ----------
    points
        GeoDataFrame/GeoSeries of points in any CRS (projected to a metric CRS), or a tuple
        ``(x, y)`` of coordinate arrays in the metric ``crs``. Rows without a point are
        skipped; their number is in ``raster.meta["skipped"]``.
    bandwidth
        Kernel radius ``h`` in metres (QGIS "radius").
    cell_size
        Raster cell edge in metres; default ``bandwidth / 10`` (enlarged if the raster would
        exceed ``max_cells``). Ignored when ``shape`` is given.
    weights
        Column name or array of per-event weights (QGIS "weight from field").
    kernel
        ``"quartic"`` (default), ``"triweight"``, ``"epanechnikov"``, ``"triangular"`` or
        ``"uniform"``.
    scale
        ``"density"`` (events/km², unit-integral kernel), ``"raw"`` (QGIS raw kernel sum) or
        ``"qgis"`` (QGIS scaled output); see the module docstring.
    clip
        Polygon layer (e.g. the district) or shapely geometry in ``crs``: sets the default
        extent, and cells whose centre lies outside become ``NaN``. Events outside still
        contribute to cells inside within ``bandwidth``.
    extent
        ``(xmin, ymin, xmax, ymax)`` in the metric CRS; default: clip bounds, else the
        points' bounds grown by ``bandwidth``.
    shape
        ``(rows, cols)`` of the raster; the extent is widened to square cells.
    crs
        Metric CRS to work in (default: from ``clip`` when it is projected, else from the
        points).
    method
        ``"fft"`` (linear binning + FFT convolution), ``"exact"`` (direct kernel sum) or
        ``"auto"`` (exact when it needs fewer than ~2·10⁷ kernel evaluations).
    max_cells
        Refuse rasters larger than this.

    Returns
    -------
    Raster
        North-up raster in the metric CRS with ``meta`` holding the parameters, the number of
        events used and skipped.
    """
    if not bandwidth or bandwidth <= 0:
        raise GridGISError(f"bandwidth must be a positive number of metres, got {bandwidth}")
    kernel_profile(kernel)
    factor = kernel_constant(kernel, bandwidth, scale)
    if method not in ("auto", "fft", "exact"):
        raise GridGISError(f"unknown method {method!r}", fix="use 'auto', 'fft' or 'exact'")
    if crs is None and isinstance(clip, gpd.GeoDataFrame | gpd.GeoSeries) and clip.crs is not None:
        ccrs = pyproj.CRS.from_user_input(clip.crs)
        if ccrs.is_projected:
            crs = ccrs
    n_in = len(points[0]) if isinstance(points, tuple) else len(points)
    x, y, w, mcrs = to_metric_points(points, crs=crs, weights=weights)
    geom = _clip_geometry(clip, mcrs)
    if extent is not None:
        bounds = tuple(extent)
    elif geom is not None:
        bounds = geom.bounds
    elif len(x):
        bounds = (x.min() - bandwidth, y.min() - bandwidth, x.max() + bandwidth, y.max() + bandwidth)
    else:
        raise GeometryError("no points and no clip/extent: cannot size the raster")
    cell, xmin, ymax, rows, cols = _grid(bounds, bandwidth, cell_size, shape, max_cells)
    # fractional cell-centre coordinates, row counted from the southern edge
    ymin = ymax - rows * cell
    col = (x - xmin) / cell - 0.5
    row = (y - ymin) / cell - 0.5
    stamp_r = int(math.floor(bandwidth / cell))
    use_exact = method == "exact" or (
        method == "auto" and len(x) * (2 * stamp_r + 3) ** 2 < 2e7 and len(x) < 200_000
    )
    if len(x) == 0:
        dens = np.zeros((rows, cols))
    elif use_exact:
        dens = _exact_sum(col, row, w, rows, cols, cell, bandwidth, kernel)
    else:
        pad = stamp_r + 1
        binned = _linear_bin(col, row, w, rows, cols, pad)
        stamp = _kernel_stamp(kernel, bandwidth, cell)
        full = fftconvolve(binned, stamp, mode="same")
        dens = full[pad : pad + rows, pad : pad + cols]
        # FFT round-off leaves ±1e-16-scale noise where the true sum is zero
        peak = np.abs(dens).max() if dens.size else 0.0
        dens = np.where(np.abs(dens) <= peak * 1e-10, 0.0, dens)
    values = np.ascontiguousarray(dens[::-1] * factor)  # north-up
    transform = (cell, 0.0, xmin, 0.0, -cell, ymax)
    if geom is not None:
        xc = xmin + cell * (np.arange(cols) + 0.5)
        yc = ymax - cell * (np.arange(rows) + 0.5)
        shapely.prepare(geom)
        inside = shapely.contains_xy(geom, xc[None, :], yc[:, None])
        values[~inside] = np.nan
    meta = {
        "bandwidth": float(bandwidth),
        "kernel": kernel,
        "scale": scale,
        "method": "exact" if use_exact else "fft",
        "n_events": int(len(x)),
        "skipped": int(n_in - len(x)),
        "weighted": w is not None,
    }
    return Raster(values, transform, mcrs, units=_units(scale), meta=meta)


def kde_frames(
    events: gpd.GeoDataFrame,
    *,
    time_col: str = "reported_at",
    freq: str = "W",
    **kde_kwargs: Any,
) -> list[tuple[pd.Period, Raster]]:
    """One KDE raster per period (day ``"D"``, week ``"W"`` or month ``"M"``).

    Every frame shares the same grid (extent from ``clip``/``extent`` or all events), so the
    frames can be compared and animated. Events without a time are left out of every frame
    and counted in each frame's ``meta["no_time"]``.

    Returns
    -------
    list of (pandas.Period, Raster)
        In time order, including empty periods between the first and last event.
    """
    if time_col not in events.columns:
        raise SchemaError(f"events have no {time_col!r} column", fix="load them with gridgis.events.load")
    times = pd.to_datetime(events[time_col], errors="coerce")
    has_time = times.notna().to_numpy()
    if not has_time.any():
        return []
    pfreq = {"D": "D", "W": "W-SUN", "M": "M"}.get(freq.upper()[:1], None)
    if pfreq is None:
        raise GridGISError(f"unknown freq {freq!r}", fix="use 'D', 'W' or 'M'")
    periods = times.dt.tz_localize(None).dt.to_period(pfreq) if times.dt.tz is not None else times.dt.to_period(pfreq)
    # fix the grid once, from all events, so frames align
    kw = dict(kde_kwargs)
    if kw.get("extent") is None and kw.get("clip") is None:
        x, y, _, mcrs = to_metric_points(events, crs=kw.get("crs"))
        h = float(kw.get("bandwidth", 300.0))
        kw["extent"] = (x.min() - h, y.min() - h, x.max() + h, y.max() + h)
        kw["crs"] = mcrs
    weights = kw.pop("weights", None)
    wvals = None
    if isinstance(weights, str):
        wvals = pd.to_numeric(events[weights], errors="coerce").to_numpy(dtype=float)
    elif weights is not None:
        wvals = np.asarray(weights, dtype=float)
    out: list[tuple[pd.Period, Raster]] = []
    pvals = periods.to_numpy()
    all_periods = pd.period_range(periods.min(), periods.max(), freq=pfreq)
    for p in all_periods:
        sel = has_time & (pvals == p)
        frame = kde(
            events.loc[sel],
            weights=None if wvals is None else wvals[sel],
            **kw,
        )
        frame.meta["period"] = str(p)
        frame.meta["no_time"] = int((~has_time).sum())
        out.append((p, frame))
    return out
