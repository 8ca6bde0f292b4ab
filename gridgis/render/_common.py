"""Helpers shared by several render modules: input checks, CRS handling, figures, map furniture.

Everything here is public within the render package (no leading underscore) but the module
itself is private: user code imports from :mod:`gridgis.render` instead.
"""

from __future__ import annotations

import html
import json
import math
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import writing
from .._inputs import as_layer, metric
from ..errors import GridGISError, SchemaError
from ..i18n import _, pgettext, tr

__all__ = [
    "COORD_DECIMALS", "HEAT_CMAP", "HOTSPOT_COLORS", "decorate", "draw_outlines",
    "geojson", "hex_to_rgb", "js_json", "known_areas", "metric", "metric_scale", "new_figure",
    "save_figure",
    "TEMPLATE_TEXT", "target_crs", "template", "to_wgs84",
]

HEAT_CMAP = "YlOrRd"
HOTSPOT_COLORS = {
    3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", 0: "#f0f0f0", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac",
}
#: Coordinates are rounded to 6 decimals of a degree (about 0.1 m).
COORD_DECIMALS = 6
_FIGURE_FORMATS = {".png", ".svg", ".pdf", ".jpg", ".jpeg"}


#: A text of a page template: ``{%t msgid%}`` in HTML, ``{%js msgid%}`` as a JavaScript string.
TEMPLATE_TEXT = re.compile(r"\{%(t|js) (.*?)%\}", re.S)


@lru_cache(maxsize=16)
def _template_source(name: str) -> str:
    return resources.files("gridgis.render").joinpath("templates", name).read_text(encoding="utf-8")


def template(name: str) -> str:
    """Text of a page template shipped in ``gridgis/render/templates`` (package data), its
    ``{%t …%}`` / ``{%js …%}`` texts in the language in use (:mod:`gridgis.i18n`)."""
    text = _template_source(name)

    def fill(m: re.Match) -> str:
        words = _(m.group(2))
        return html.escape(words) if m.group(1) == "t" else json.dumps(words, ensure_ascii=False)

    return TEMPLATE_TEXT.sub(fill, text)


# ---- layers and CRS ---------------------------------------------------------------------------------


def target_crs(*layers: gpd.GeoDataFrame | None) -> pyproj.CRS:
    """The first projected CRS among ``layers``, else the metric CRS of the first layer with one."""
    for layer in layers:
        if layer is not None and layer.crs is not None and pyproj.CRS.from_user_input(layer.crs).is_projected:
            return pyproj.CRS.from_user_input(layer.crs)
    for layer in layers:
        if layer is not None and layer.crs is not None:
            from ..crs import metric_crs

            return metric_crs(layer)
    raise SchemaError(_("no layer with a CRS to draw"))


def to_wgs84(gdf: gpd.GeoDataFrame, name: str = "layer", *, simplify_m: float = 0.0,
             coverage: bool = False) -> gpd.GeoDataFrame:
    """Layer in EPSG:4326 for web display: empty rows removed, simplified, coordinates rounded.

    ``simplify_m`` is a tolerance in metres applied in a metric CRS; ``coverage=True`` simplifies
    a polygon coverage (grids) edge by edge so neighbours keep shared boundaries.

    Examples
    --------
    >>> from gridgis.render import to_wgs84
    >>> web = to_wgs84(grids, "grids", simplify_m=1.0, coverage=True)   # doctest: +SKIP
    """
    from ..crs import to_crs

    gdf = as_layer(gdf, name, geometry=None, missing="drop", allow_empty=True, normalize=False)
    if simplify_m > 0 and len(gdf):
        met = metric(gdf)
        mcrs = met.crs
        geoms = np.asarray(met.geometry.array)
        simple = None
        if coverage:
            try:
                if shapely.coverage_is_valid(geoms):
                    simple = shapely.coverage_simplify(geoms, simplify_m)
            except shapely.errors.GEOSException:
                simple = None
        if simple is None:
            simple = shapely.simplify(geoms, simplify_m, preserve_topology=True)
        gdf = met.set_geometry(gpd.GeoSeries(simple, index=met.index, crs=mcrs))
    out = to_crs(gdf, 4326)
    rounded = shapely.transform(np.asarray(out.geometry.array),
                                lambda c: np.round(c, COORD_DECIMALS))
    return out.set_geometry(gpd.GeoSeries(rounded, index=out.index, crs=4326))


def geojson(gdf: gpd.GeoDataFrame, columns: Any) -> dict[str, Any]:
    """GeoJSON dict of ``gdf`` with only ``columns`` (floats rounded to 2 decimals)."""
    cols = [c for c in columns if c in gdf.columns]
    df = gdf[cols + [gdf.geometry.name]].copy()
    for c in cols:
        s = df[c]
        if pd.api.types.is_float_dtype(s):
            df[c] = s.round(2).astype(object).where(s.notna(), None)
        elif pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s):
            df[c] = s.astype(object).where(s.notna(), None)
        else:
            df[c] = s.astype(object).where(s.notna(), "").astype(str)
    return json.loads(df.to_json(drop_id=True, na="null"))


def js_json(value: Any) -> str:
    """Compact JSON for inline ``<script>`` (UTF-8 kept, ``</`` escaped)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` → ``(r, g, b)``."""
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


# ---- matplotlib figures -----------------------------------------------------------------------------


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] = (10, 10),
               squeeze: bool = True) -> tuple[Any, Any]:
    """A new figure whose canvas does not redraw after every layer is added
    (geopandas asks for a redraw per ``plot`` call; on Agg that is a full render each time).

    The axes come as in :func:`matplotlib.pyplot.subplots`: one Axes for 1 × 1 unless
    ``squeeze=False``, which always gives a 2-D array."""
    import matplotlib.pyplot as plt

    from .fonts import register_cjk_font

    register_cjk_font()
    fig, ax = plt.subplots(nrows, ncols, figsize=figsize, squeeze=squeeze)
    fig.canvas.draw_idle = lambda *_args, **_kwargs: None
    return fig, ax


def save_figure(fig: Any, path: str | Path, *, dpi: int = 300) -> Path:
    """Save a figure as PNG, SVG, PDF or JPEG (by suffix) on a white background and close it.

    Examples
    --------
    >>> from gridgis.render import grid_map_25d, save_figure
    >>> save_figure(grid_map_25d(grids).figure, "plan.svg")           # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.suffix.lower() not in _FIGURE_FORMATS:
        plt.close(fig)
        raise GridGISError(tr("unsupported image format {suffix!r}", suffix=path.suffix), source=path,
                           fix=_("use .png, .svg or .pdf"))
    path.parent.mkdir(parents=True, exist_ok=True)
    writing.save_figure(fig, path, dpi=dpi, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return path


def _nice_length(span: float) -> float:
    target = span / 5
    exp = 10 ** math.floor(math.log10(max(target, 1e-9)))
    for m in (1, 2, 5, 10):
        if m * exp >= target:
            return m * exp
    return 10 * exp


def decorate(ax: Any, title: str | None, note: str | None,
             bounds: tuple[float, float, float, float] | None = None) -> None:
    """Title, scale bar (metres), north arrow and footnote on a metric map.

    The map extent (``bounds`` = xmin, ymin, xmax, ymax; default: the plotted data) gets a
    bottom margin that holds the scale bar and north arrow, so neither covers the map.
    """
    ax.set_axis_off()
    ax.set_aspect("equal")
    x0, y0, x1, y1 = ax.dataLim.extents if bounds is None else bounds
    w, h = x1 - x0, y1 - y0
    ax.set_xlim(x0 - 0.01 * w, x1 + 0.01 * w)
    ax.set_ylim(y0 - 0.09 * h, y1 + 0.01 * h)
    length = _nice_length(w)
    bx, by = x0, y0 - 0.06 * h
    ax.plot([bx, bx + length], [by, by], color="black", lw=4, solid_capstyle="butt", zorder=20)
    ax.plot([bx, bx + length / 2], [by, by], color="white", lw=2, solid_capstyle="butt", zorder=21)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx + length + 0.01 * w, by, label, ha="left", va="center", fontsize=9, zorder=22)
    nx = x1 - 0.02 * w
    ax.annotate("", xy=(nx, y0 - 0.015 * h), xytext=(nx, y0 - 0.08 * h),
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5}, zorder=22)
    ax.text(nx - 0.015 * w, y0 - 0.045 * h, pgettext("compass", "N"), ha="right", va="center",
            fontsize=11, fontweight="bold")
    if title:
        ax.set_title(title, fontsize=14, pad=10)
    if note:
        ax.text(0.0, -0.005, note, transform=ax.transAxes, ha="left", va="top", fontsize=7, color="#555555")


def draw_outlines(
    ax: Any,
    crs: pyproj.CRS,
    grids: gpd.GeoDataFrame | None,
    communities: gpd.GeoDataFrame | None,
    district: gpd.GeoDataFrame | None,
    *,
    grid_color: str = "#444444",
) -> None:
    """Grid, community and district boundaries (thin to thick) on a metric map."""
    if grids is not None:
        metric(grids, crs).boundary.plot(ax=ax, color=grid_color, lw=0.35, alpha=0.8, zorder=5)
    if communities is not None:
        metric(communities, crs).boundary.plot(ax=ax, color="#222222", lw=0.9, zorder=6)
    if district is not None:
        metric(district, crs).boundary.plot(ax=ax, color="black", lw=1.6, zorder=7)


def known_areas(planted: gpd.GeoDataFrame | None, crs: pyproj.CRS) -> gpd.GeoDataFrame | None:
    """Known problem areas as polygons (points with ``radius_m`` become circles)."""
    if planted is None or len(planted) == 0:
        return None
    pm = metric(planted, crs)
    if (pm.geom_type == "Point").all():
        radius = pd.to_numeric(pm["radius_m"], errors="coerce").fillna(100.0) if "radius_m" in pm else 100.0
        pm = pm.set_geometry(pm.geometry.buffer(radius, 48))
    return pm


def metric_scale(m: Any) -> None:
    """Add a scale bar in metres and kilometres only (Leaflet's default adds miles) to the
    folium map ``m``; make the map with ``control_scale=False``.

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(tiles=None)
    >>> metric_scale(m)
    >>> "L.control.scale({imperial: false})" in m.get_root().render()
    True
    """
    from branca.element import MacroElement
    from jinja2 import Template

    scale = MacroElement()
    scale._template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}")
    m.add_child(scale)
