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
>>> from gridgis.events import kde
>>> r = kde(events, bandwidth=300, cell_size=25, clip=district)   # doctest: +SKIP
>>> r.values.shape, r.crs, r.units                                # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.signal import fftconvolve

from ..errors import GeometryError, GridGISError, SchemaError
from ..i18n import tr
from .points import clip_geometry, to_metric_points
from .raster import M2_PER_KM2, Raster

__all__ = [
    "KERNELS",
    "kde",
    "kde_frames",
    "kernel_profile",
    "kernel_constant",
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


def kernel_profile(kernel: str) -> Any:
    """Return the profile function ``f(u)`` (``u = d/h``) of a kernel name.

    Examples
    --------
    >>> from gridgis.events import kernel_profile
    >>> float(kernel_profile("quartic")(0.5))
    0.5625
    """
    try:
        return KERNELS[kernel][0]
    except KeyError:
        raise GridGISError(
            tr("unknown kernel {kernel!r}", kernel=kernel), fix=tr("use one of {sorted}", sorted=sorted(KERNELS))
        ) from None


def kernel_constant(kernel: str, bandwidth: float, scale: str = "density") -> float:
    """Factor that multiplies the kernel profile for a given output ``scale``.

    ``"density"`` gives events per km² (unit-integral kernel times 10^6 m²/km²), ``"raw"`` 1,
    ``"qgis"`` QGIS' scaled constant per m².

    Examples
    --------
    >>> from gridgis.events import kernel_constant
    >>> round(kernel_constant("quartic", 1000.0), 4)   # 3 / (pi h²) per km²
    0.9549
    """
    kernel_profile(kernel)
    if scale == "density":
        return KERNELS[kernel][1] / bandwidth**2 * M2_PER_KM2
    if scale == "raw":
        return 1.0
    if scale == "qgis":
        return _QGIS_SCALED[kernel] / bandwidth**2
    raise GridGISError(tr("unknown scale {scale!r}", scale=scale), fix=tr("use one of {list}",
                                                          list=list(_SCALES)))


def _units(scale: str) -> str:
    return {"density": "events/km²", "raw": "kernel sum", "qgis": "QGIS scaled (per m²)"}[scale]


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
            raise GridGISError(tr("shape must be positive, got {shape}", shape=shape))
        cell = max(width / cols, height / rows)
        cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
        return cell, cx - cell * cols / 2, cy + cell * rows / 2, rows, cols
    if cell_size is None:
        cell_size = bandwidth / 10.0
        while (width / cell_size + 1) * (height / cell_size + 1) > max_cells:
            cell_size *= 1.25
    if cell_size <= 0:
        raise GridGISError(tr("cell_size must be positive, got {cell_size}",
                              cell_size=cell_size))
    x0 = math.floor(xmin / cell_size) * cell_size
    y1 = math.ceil(ymax / cell_size) * cell_size
    cols = max(1, int(math.ceil((xmax - x0) / cell_size - 1e-9)))
    rows = max(1, int(math.ceil((y1 - ymin) / cell_size - 1e-9)))
    if rows * cols > max_cells:
        raise GridGISError(
            tr("raster of {rows}×{cols} cells exceeds max_cells={max_cells}",
               rows=rows, cols=cols, max_cells=max_cells),
            fix=tr("use a larger cell_size or raise max_cells"),
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


def _bounds(extent: Sequence[float] | None, geom: shapely.Geometry | None, x: np.ndarray,
            y: np.ndarray, bandwidth: float) -> tuple[float, ...]:
    """Raster extent: ``extent``, else the clip bounds, else the points grown by ``bandwidth``."""
    if extent is not None:
        return tuple(extent)
    if geom is not None:
        return geom.bounds
    if len(x):
        return (x.min() - bandwidth, y.min() - bandwidth, x.max() + bandwidth, y.max() + bandwidth)
    raise GeometryError(tr("no points and no clip/extent: cannot size the raster"))


def _fft_sum(col: np.ndarray, row: np.ndarray, w: np.ndarray | None, rows: int, cols: int,
             cell: float, bandwidth: float, kernel: str) -> np.ndarray:
    """Kernel sum by linear binning and FFT convolution with the sampled kernel."""
    pad = int(math.floor(bandwidth / cell)) + 1
    binned = _linear_bin(col, row, w, rows, cols, pad)
    stamp = _kernel_stamp(kernel, bandwidth, cell)
    full = fftconvolve(binned, stamp, mode="same")
    dens = full[pad : pad + rows, pad : pad + cols]
    # FFT round-off leaves ±1e-16-scale noise where the true sum is zero
    peak = np.abs(dens).max() if dens.size else 0.0
    return np.where(np.abs(dens) <= peak * 1e-10, 0.0, dens)


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

    Examples
    --------
    >>> import gridgis
    >>> from gridgis.events import kde
    >>> layers = gridgis.load_sample()                                        # doctest: +SKIP
    >>> r = kde(layers["events"], bandwidth=300, cell_size=25, clip=layers["district"])  # doctest: +SKIP
    >>> r.values.shape, r.units                                               # doctest: +SKIP
    """
    if not bandwidth or bandwidth <= 0:
        raise GridGISError(tr("bandwidth must be a positive number of metres, got {bandwidth}",
                              bandwidth=bandwidth))
    kernel_profile(kernel)
    factor = kernel_constant(kernel, bandwidth, scale)
    if method not in ("auto", "fft", "exact"):
        raise GridGISError(tr("unknown method {method!r}", method=method), fix=tr("use 'auto', 'fft' or 'exact'"))
    if crs is None and isinstance(clip, gpd.GeoDataFrame | gpd.GeoSeries) and clip.crs is not None:
        ccrs = pyproj.CRS.from_user_input(clip.crs)
        if ccrs.is_projected:
            crs = ccrs
    n_in = len(points[0]) if isinstance(points, tuple) else len(points)
    x, y, w, mcrs = to_metric_points(points, crs=crs, weights=weights)
    geom = clip_geometry(clip, mcrs)
    bounds = _bounds(extent, geom, x, y, bandwidth)
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
        dens = _fft_sum(col, row, w, rows, cols, cell, bandwidth, kernel)
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

    Examples
    --------
    >>> from gridgis.events import kde_frames
    >>> frames = kde_frames(events, freq="M", bandwidth=300, clip=district)   # doctest: +SKIP
    >>> [(str(p), r.meta["n_events"]) for p, r in frames]                   # doctest: +SKIP
    """
    if time_col not in events.columns:
        raise SchemaError(tr("events have no {time_col!r} column", time_col=time_col), fix=tr("load them with gridgis.events.load"))
    times = pd.to_datetime(events[time_col], errors="coerce")
    has_time = times.notna().to_numpy()
    if not has_time.any():
        return []
    pfreq = {"D": "D", "W": "W-SUN", "M": "M"}.get(freq.upper()[:1], None)
    if pfreq is None:
        raise GridGISError(tr("unknown freq {freq!r}", freq=freq), fix=tr("use 'D', 'W' or 'M'"))
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
