"""Single-band north-up rasters (the kernel density output) and their image forms."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyproj

__all__ = ["M2_PER_KM2", "Raster"]

#: Square metres per square kilometre (density rasters are in events/km²).
M2_PER_KM2 = 1.0e6


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

    Examples
    --------
    >>> import numpy as np, pyproj
    >>> from gridgis.events import Raster
    >>> r = Raster(np.ones((2, 3)), (10.0, 0.0, 0.0, 0.0, -10.0, 20.0), pyproj.CRS(4547))
    >>> r.bounds, r.sample([5.0], [15.0]).tolist()
    ((0.0, 0.0, 30.0, 20.0), [1.0])
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
        area = self.cell_size**2 / (M2_PER_KM2 if self.units == "events/km²" else 1.0)
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
