"""The animated event heatmap: one self-contained offline HTML page that recomputes the kernel
density in the browser for any day/week/month and any choice of categories and urgency classes.

The page text is ``templates/animated_heatmap.html``; this module computes the cell lattice,
the event coordinates in cell units and the outlines, and fills them in.

Example
-------
>>> from gridgis.render.animated import animated_heatmap_html
>>> animated_heatmap_html(events, "animated.html", grids=grids, district=district)  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import schema
from .._geometry import present
from .._inputs import as_layer, metric
from ..errors import GridGISError
from ..i18n import _, tr
from ..writing import write_text
from ._common import HEAT_CMAP, target_crs, template
from .assets import offline_html

__all__ = ["animated_heatmap_html"]

_KERNEL_JS = {
    "quartic": "function K(q){const t=1-q;return t*t;}",
    "triweight": "function K(q){const t=1-q;return t*t*t;}",
    "epanechnikov": "function K(q){return 1-q;}",
    "triangular": "function K(q){return 1-Math.sqrt(q);}",
    "uniform": "function K(q){return 1;}",
}


@dataclass(frozen=True)
class _Lattice:
    """Raster cells of the page: ``cols`` × ``rows`` cells of ``cell`` m from (x0, y1) down."""

    x0: float
    y1: float
    cell: float
    cols: int
    rows: int

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], cell: float) -> _Lattice:
        xmin, ymin, xmax, ymax = bounds
        x0 = math.floor(xmin / cell) * cell
        y1 = math.ceil(ymax / cell) * cell
        cols = max(1, int(math.ceil((xmax - x0) / cell - 1e-9)))
        rows = max(1, int(math.ceil((y1 - ymin) / cell - 1e-9)))
        return cls(x0, y1, cell, cols, rows)

    def to_px(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(x) - self.x0) / self.cell, (self.y1 - np.asarray(y)) / self.cell

    def mask(self, clip_geom: Any) -> str:
        """Base64 bit mask of the cells whose centres lie inside ``clip_geom``."""
        xc = self.x0 + self.cell * (np.arange(self.cols) + 0.5)
        yc = self.y1 - self.cell * (np.arange(self.rows) + 0.5)
        shapely.prepare(clip_geom)
        inside = shapely.contains_xy(clip_geom, xc[None, :], yc[:, None])
        return base64.b64encode(np.packbits(inside.ravel()).tobytes()).decode()


def _ring_paths(geoms: Iterable[Any], lattice: _Lattice, tol: float) -> list[str]:
    """SVG path data (cell units) of every polygon's rings, simplified by ``tol`` m."""
    out = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            out.append("")
            continue
        g = shapely.simplify(geom, tol, preserve_topology=True)
        parts = []
        for poly in getattr(g, "geoms", [g]):
            rings = [poly.exterior, *poly.interiors] if hasattr(poly, "exterior") else [poly]
            for ring in rings:
                xy = np.asarray(ring.coords)
                px, py = lattice.to_px(xy[:, 0], xy[:, 1])
                pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
                parts.append(f"M{pts}Z")
        out.append("".join(parts))
    return out


def _lut(cmap: str) -> list[list[int]]:
    import matplotlib

    cm = matplotlib.colormaps[cmap]
    return (np.asarray(cm(np.linspace(0, 1, 256)))[:, :3] * 255).round().astype(int).tolist()


def _usable(ev: gpd.GeoDataFrame, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Series]:
    """Event geometries in ``crs``, which have a location, which a report time, and the times."""
    ev = as_layer(ev, "events", geometry=None, missing="keep", allow_empty=True, normalize=False)
    geoms = metric(ev, crs).geometry.array
    has_xy = present(geoms)
    if "status" in ev.columns:
        has_xy &= (ev["status"] != "invalid").to_numpy()
    times = (pd.to_datetime(ev[schema.REPORTED_AT], errors="coerce") if schema.REPORTED_AT in ev
             else pd.Series(pd.NaT, index=ev.index))
    return geoms, has_xy, times.notna().to_numpy(), times


def _event_data(ev: gpd.GeoDataFrame, geoms: Any, use: np.ndarray, times: pd.Series,
                lattice: _Lattice) -> dict[str, Any]:
    """Events in cell units (×100), days since the first, category and urgency indices."""
    ex, ey = lattice.to_px(shapely.get_x(geoms[use]), shapely.get_y(geoms[use]))
    t = times[use]
    start = t.min().normalize() if len(t) else pd.Timestamp("2000-01-01")
    day = ((t.dt.normalize() - start).dt.days).to_numpy(dtype=np.int64) if len(t) else np.zeros(0, int)
    other, unknown = _("uncategorised"), _("unknown")
    cats = (ev[schema.CATEGORY].astype("string").fillna(other) if schema.CATEGORY in ev
            else pd.Series(other, index=ev.index))[use]
    urgs = (ev[schema.URGENCY].astype("string").fillna(unknown) if schema.URGENCY in ev
            else pd.Series(unknown, index=ev.index))[use]
    cat_names = sorted(cats.unique().tolist())
    urg_names = [u for u in schema.URGENCY_LEVELS if u in set(urgs)] + sorted(
        set(urgs) - set(schema.URGENCY_LEVELS))
    return {
        "start": start.strftime("%Y-%m-%d"),
        "ex": np.round((ex - 0.5) * 100).astype(np.int64).tolist(),
        "ey": np.round((ey - 0.5) * 100).astype(np.int64).tolist(),
        "day": day.tolist(),
        "cat": pd.Categorical(cats, categories=cat_names).codes.astype(int).tolist(),
        "urg": pd.Categorical(urgs, categories=urg_names).codes.astype(int).tolist(),
        "cats": cat_names,
        "urgs": urg_names,
    }


def _outline_data(crs: pyproj.CRS, lattice: _Lattice, grids: gpd.GeoDataFrame | None,
                  communities: gpd.GeoDataFrame | None, district: gpd.GeoDataFrame | None) -> dict[str, Any]:
    """Grid paths with their names as tooltips, community and district paths."""
    tol = lattice.cell * 0.4
    outlines: dict[str, Any] = {}
    if grids is not None:
        gm = metric(grids, crs)
        blank = np.array([""] * len(gm))
        code = gm[schema.GRID_CODE].astype(str).to_numpy() if schema.GRID_CODE in gm else blank
        name = gm[schema.GRID_NAME].astype(str).to_numpy() if schema.GRID_NAME in gm else blank
        outlines["grids"] = [
            {"d": d, "t": f"{n} ({c})" if n else c}
            for d, n, c in zip(_ring_paths(gm.geometry.values, lattice, tol), name, code, strict=True)
        ]
    for key, layer in (("communities", communities), ("district", district)):
        if layer is not None:
            outlines[key] = "".join(_ring_paths(metric(layer, crs).geometry.values, lattice, tol))
    return outlines


def animated_heatmap_html(
    events: gpd.GeoDataFrame,
    path: str | Path,
    *,
    grids: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    district: gpd.GeoDataFrame | None = None,
    bandwidth: float = 300.0,
    cell_size: float | None = None,
    max_side: int = 360,
    freq: str = "W",
    title: str | None = None,
    cmap: str = HEAT_CMAP,
    kernel: str = "quartic",
) -> Path:
    """Write a self-contained, offline HTML page animating the event heatmap over time.

    The page recomputes the kernel density (same kernel, bandwidth and cell grid as
    :func:`gridgis.events.kde` with ``scale="density"``) in the browser, so the user can switch
    between days, weeks and months, tick any categories and urgency classes, play/step
    through periods, and read per-period counts from a bar chart. Grid outlines (with their
    names as tooltips), community and district boundaries are drawn over the density; the
    bundled CJK font is inlined, and no file, script, font or tile is fetched from anywhere.

    Parameters
    ----------
    events
        Events (e.g. from :func:`gridgis.events.load`) with ``reported_at``, ``category``,
        ``urgency``; rows without a location or report time are counted on the page.
    path
        Output ``.html`` file.
    grids, communities, district
        Outlines to draw; ``district`` (else the grids) also clips the density.
    bandwidth, cell_size, kernel
        Kernel radius (m), raster cell (default: the extent's longer side / ``max_side``),
        kernel name.
    freq
        Initial period: ``"D"``, ``"W"`` or ``"M"``.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> animated_heatmap_html(events, "animated.html", district=district, freq="M")  # doctest: +SKIP
    PosixPath('animated.html')
    """
    from ..events import kernel_constant, kernel_profile

    kernel_profile(kernel)
    if freq.upper()[:1] not in ("D", "W", "M"):
        raise GridGISError(tr("unknown freq {freq!r}", freq=freq), fix=_("use 'D', 'W' or 'M'"))
    crs = target_crs(district, grids, communities, events)
    clip_layer = district if district is not None else grids
    clip_geom = None
    if clip_layer is not None:
        clip_geom = shapely.union_all(shapely.make_valid(metric(clip_layer, crs).geometry.values))
    geoms, has_xy, has_t, times = _usable(events, crs)
    use = has_xy & has_t
    if clip_geom is not None:
        bounds = clip_geom.bounds
    elif use.any():
        xs, ys = shapely.get_x(geoms[use]), shapely.get_y(geoms[use])
        bounds = (xs.min() - bandwidth, ys.min() - bandwidth, xs.max() + bandwidth, ys.max() + bandwidth)
    else:
        raise GridGISError(_("no events with a location and time, and no outline to size the "
                             "map"))
    if cell_size is None:
        cell_size = max(bounds[2] - bounds[0], bounds[3] - bounds[1]) / max_side
    title = _("Event heatmap (animated)") if title is None else title
    lattice = _Lattice.covering(bounds, float(cell_size))
    data = {
        "title": title, "cols": lattice.cols, "rows": lattice.rows, "cell": lattice.cell,
        "bandwidth": float(bandwidth), "R": float(bandwidth) / lattice.cell, "kernel": kernel,
        "factor": kernel_constant(kernel, bandwidth, "density"), "freq": freq.upper()[:1],
        **_event_data(events, geoms, use, times, lattice),
        "mask": lattice.mask(clip_geom) if clip_geom is not None else None,
        "lut": _lut(cmap),
        "outlines": _outline_data(crs, lattice, grids, communities, district),
        "crs": crs.name,
        "skipped": {"no_location": int((~has_xy).sum()), "no_time": int((has_xy & ~has_t).sum()),
                    "total": len(events)},
    }
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    page = (template("animated_heatmap.html").replace("__TITLE__", html.escape(title))
            .replace("__DATA__", payload).replace("__KERNEL_JS__", _KERNEL_JS[kernel]))
    page = offline_html(page)  # the bundled CJK font, cut to the page's characters
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text(path, page)
