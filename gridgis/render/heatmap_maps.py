"""Event maps: heatmap over grid outlines, per-grid event rates, hot spots, animated HTML.

Static maps are drawn with matplotlib in the metric CRS (PNG, PDF or SVG by file suffix, with a
CJK font registered so Chinese titles and legends render). Interactive output works offline:
:func:`heatmap_overlay` is a folium layer whose image is an inline PNG (warped to Web
Mercator so it sits exactly on the map), and :func:`animated_heatmap_html` writes a single
self-contained HTML page (no external scripts, styles, fonts or tiles) that recomputes the
kernel density in the browser for any day/week/month and any choice of categories and
urgency classes.

:func:`gridgis.workflows.write_event_outputs` writes the whole set for a district.
"""

from __future__ import annotations

import base64
import html
import json
import math
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import schema
from ..errors import GridGISError, SchemaError
from ..events import Raster, kernel_constant, kernel_profile
from ..writing import save_figure, write_text

__all__ = [
    "use_cjk_font",
    "plot_heatmap",
    "save_heatmap",
    "plot_grid_events",
    "save_grid_event_map",
    "plot_hotspots",
    "save_hotspot_map",
    "save_hotspots_by_group",
    "heatmap_overlay",
    "heatmap_map",
    "animated_heatmap_html",
]

HEAT_CMAP = "YlOrRd"
HOTSPOT_COLORS = {
    3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", 0: "#f0f0f0", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac",
}
_CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei",
                 "Microsoft YaHei", "PingFang SC", "Noto Serif CJK SC")


# ---- fonts -----------------------------------------------------------------------------------------


def use_cjk_font() -> str | None:
    """Make matplotlib draw Chinese text; returns the font family used (``None`` if none found).

    Prefers the render package's own font registration (bundled font) when it exists, else
    the first installed CJK family among Noto Sans CJK SC, Source Han Sans SC, WenQuanYi …
    """
    import matplotlib
    from matplotlib import font_manager

    for modname, fname in (("fonts", "register_cjk_font"), ("fonts", "use_cjk_font"),
                           ("style", "register_cjk_font"), ("style", "use_cjk_font")):
        try:
            mod = __import__(f"gridgis.render.{modname}", fromlist=[fname])
        except ImportError:
            continue
        fn = getattr(mod, fname, None)
        if callable(fn):
            try:
                res = fn()
            except Exception:  # pragma: no cover - fall back to system fonts
                res = None
            if res:
                return res if isinstance(res, str) else matplotlib.rcParams["font.sans-serif"][0]
    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in _CJK_FAMILIES:
        if fam in names:
            current = list(matplotlib.rcParams["font.sans-serif"])
            matplotlib.rcParams["font.sans-serif"] = [fam] + [c for c in current if c != fam]
            matplotlib.rcParams["font.family"] = "sans-serif"
            matplotlib.rcParams["axes.unicode_minus"] = False
            return fam
    return None


# ---- helpers ---------------------------------------------------------------------------------------


def _metric(gdf: gpd.GeoDataFrame | None, crs: Any) -> gpd.GeoDataFrame | None:
    if gdf is None:
        return None
    if gdf.crs is None:
        raise SchemaError("layer has no CRS")
    return gdf if pyproj.CRS.from_user_input(gdf.crs).equals(crs) else gdf.to_crs(crs)


def _target_crs(*layers: gpd.GeoDataFrame | None) -> pyproj.CRS:
    for layer in layers:
        if layer is not None and layer.crs is not None and pyproj.CRS.from_user_input(layer.crs).is_projected:
            return pyproj.CRS.from_user_input(layer.crs)
    for layer in layers:
        if layer is not None and layer.crs is not None:
            from ..crs import metric_crs

            return metric_crs(layer)
    raise SchemaError("no layer with a CRS to draw")


def _nice_length(span: float) -> float:
    target = span / 5
    exp = 10 ** math.floor(math.log10(max(target, 1e-9)))
    for m in (1, 2, 5, 10):
        if m * exp >= target:
            return m * exp
    return 10 * exp


def _decorate(ax: Any, title: str | None, note: str | None,
              bounds: tuple[float, float, float, float] | None = None) -> None:
    """Title, scale bar (metres), north arrow and footnote on a metric map.

    The map extent (``bounds`` = xmin, ymin, xmax, ymax; default: the plotted data) gets a
    bottom margin that holds the scale bar and north arrow, so neither covers the map.
    """
    ax.set_axis_off()
    ax.set_aspect("equal")
    if bounds is None:
        x0, y0, x1, y1 = ax.dataLim.extents
    else:
        x0, y0, x1, y1 = bounds
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
    ax.text(nx - 0.015 * w, y0 - 0.045 * h, "N", ha="right", va="center", fontsize=11, fontweight="bold")
    if title:
        ax.set_title(title, fontsize=14, pad=10)
    if note:
        ax.text(0.0, -0.005, note, transform=ax.transAxes, ha="left", va="top", fontsize=7, color="#555555")


def _outlines(
    ax: Any,
    crs: pyproj.CRS,
    grids: gpd.GeoDataFrame | None,
    communities: gpd.GeoDataFrame | None,
    district: gpd.GeoDataFrame | None,
    *,
    grid_color: str = "#444444",
) -> None:
    if grids is not None:
        _metric(grids, crs).boundary.plot(ax=ax, color=grid_color, lw=0.35, alpha=0.8, zorder=5)
    if communities is not None:
        _metric(communities, crs).boundary.plot(ax=ax, color="#222222", lw=0.9, zorder=6)
    if district is not None:
        _metric(district, crs).boundary.plot(ax=ax, color="black", lw=1.6, zorder=7)


def _figure() -> tuple[Any, Any]:
    """A new 10×10 in figure whose canvas does not redraw after every layer is added
    (geopandas asks for a redraw per ``plot`` call; on Agg that is a full render each time)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 10))
    fig.canvas.draw_idle = lambda *args, **kwargs: None
    return fig, ax


def _save(fig: Any, path: str | Path, dpi: int) -> Path:
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix not in {".png", ".pdf", ".svg", ".jpg", ".jpeg"}:
        plt.close(fig)
        raise GridGISError(f"unsupported map format {suffix!r}", source=path, fix="use .png, .pdf or .svg")
    save_figure(fig, path, dpi=dpi, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return path


# ---- static maps -------------------------------------------------------------------------------------


def plot_heatmap(
    raster: Raster,
    *,
    grids: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    district: gpd.GeoDataFrame | None = None,
    ax: Any = None,
    title: str | None = "事件热力图",
    cmap: str = HEAT_CMAP,
    vmax: float | None = None,
    note: str | None = None,
    colorbar: bool = True,
) -> Any:
    """Draw a KDE raster over grid, community and district outlines; returns the Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    use_cjk_font()
    if ax is None:
        _, ax = _figure()
    crs = raster.crs
    if district is not None:
        _metric(district, crs).plot(ax=ax, color="#fbfbfb", edgecolor="none", zorder=0)
    top = float(vmax) if vmax else (raster.max or 1.0)
    ax.imshow(raster.to_rgba(cmap, top), extent=raster.extent, origin="upper", interpolation="bilinear", zorder=2)
    _outlines(ax, crs, grids, communities, district)
    if colorbar:
        sm = plt.cm.ScalarMappable(norm=Normalize(0, top), cmap=cmap)
        cb = ax.figure.colorbar(sm, ax=ax, shrink=0.55, pad=0.02)
        cb.set_label(f"事件密度 ({raster.units.replace('events/km²', '件/km²')})")
    if note is None:
        m = raster.meta
        note = (f"核密度估计: {m.get('kernel', 'quartic')} 核, 带宽 {m.get('bandwidth', 0):g} m, "
                f"栅格 {raster.cell_size:g} m; 事件 {m.get('n_events', 0)} 件; 坐标系 {crs.name}")
    _decorate(ax, title, note, bounds=raster.bounds)
    return ax


def save_heatmap(raster: Raster, path: str | Path, *, dpi: int = 200, **kwargs: Any) -> Path:
    """Write :func:`plot_heatmap` to PNG/PDF/SVG (by suffix); returns the path."""

    use_cjk_font()
    fig, ax = _figure()
    plot_heatmap(raster, ax=ax, **kwargs)
    return _save(fig, path, dpi)


def plot_grid_events(
    stats: gpd.GeoDataFrame,
    column: str = "rate_per_100hh",
    *,
    communities: gpd.GeoDataFrame | None = None,
    district: gpd.GeoDataFrame | None = None,
    ax: Any = None,
    title: str | None = None,
    k: int = 5,
    cmap: str = "OrRd",
    note: str | None = None,
) -> Any:
    """Choropleth of a per-grid event statistic (quantile classes); returns the Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    use_cjk_font()
    if column not in stats.columns:
        raise SchemaError(f"no column {column!r} in the grid statistics")
    crs = _target_crs(stats)
    g = _metric(stats, crs)
    if ax is None:
        _, ax = _figure()
    vals = pd.to_numeric(g[column], errors="coerce")
    has = vals.notna().to_numpy()
    handles = []
    if has.any():
        import mapclassify

        kk = int(min(k, max(1, len(np.unique(vals[has])))))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # fewer distinct values than classes
            cls = mapclassify.Quantiles(vals[has].to_numpy(), k=kk) if kk > 1 else None
        bins = cls.bins if cls is not None else np.array([vals[has].max()])
        yb = cls.yb if cls is not None else np.zeros(int(has.sum()), dtype=int)
        colors = plt.get_cmap(cmap)(np.linspace(0.15, 0.95, len(bins)))
        g.loc[has].plot(ax=ax, color=colors[yb], edgecolor="none", zorder=1)
        lo = float(vals[has].min())
        for i, b in enumerate(bins):
            handles.append(Patch(facecolor=colors[i], label=f"{lo:.1f} – {b:.1f}"))
            lo = float(b)
    if (~has).any():
        g.loc[~has].plot(ax=ax, facecolor="#e6e6e6", edgecolor="none", hatch="///", zorder=1)
        handles.append(Patch(facecolor="#e6e6e6", hatch="///", label="无数据 (无户数)"))
    _outlines(ax, crs, g, communities, district, grid_color="#666666")
    label = {"rate_per_100hh": "事件率 (件/百户)", "n_events": "事件数 (件)",
             "on_time_share": "按期办结率"}.get(column, column)
    ax.legend(handles=handles, title=label, loc="lower left", bbox_to_anchor=(1.0, 0.08), fontsize=9,
              title_fontsize=10, frameon=False)
    if title is None:
        title = f"各网格{label.split(' ')[0]}"
    if note is None:
        unassigned = stats.attrs.get("unassigned")
        total = int(pd.to_numeric(stats.get("n_events", pd.Series(dtype=float)), errors="coerce").sum())
        note = f"网格 {len(stats)} 个; 落入网格的事件 {total} 件" + (
            f"; 未落入网格或无效 {unassigned} 件" if unassigned else "")
    _decorate(ax, title, note)
    return ax


def save_grid_event_map(stats: gpd.GeoDataFrame, path: str | Path, *, dpi: int = 200, **kwargs: Any) -> Path:
    """Write :func:`plot_grid_events` to PNG/PDF/SVG; returns the path."""

    use_cjk_font()
    fig, ax = _figure()
    plot_grid_events(stats, ax=ax, **kwargs)
    return _save(fig, path, dpi)


def _known_areas(planted: gpd.GeoDataFrame | None, crs: pyproj.CRS) -> gpd.GeoDataFrame | None:
    """Known problem areas as polygons (points with ``radius_m`` become circles)."""
    if planted is None or len(planted) == 0:
        return None
    pm = _metric(planted, crs)
    if (pm.geom_type == "Point").all():
        radius = pd.to_numeric(pm["radius_m"], errors="coerce").fillna(100.0) if "radius_m" in pm else 100.0
        pm = pm.set_geometry(pm.geometry.buffer(radius, 48))
    return pm


def plot_hotspots(
    hotspots: gpd.GeoDataFrame,
    *,
    grids: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    district: gpd.GeoDataFrame | None = None,
    planted: gpd.GeoDataFrame | None = None,
    ax: Any = None,
    title: str | None = None,
    note: str | None = None,
    show_cold: bool | None = None,
) -> Any:
    """Map of Gi* classes; returns the Axes.

    ``hotspots`` is either per-grid output of :func:`gridgis.events.getis_ord` (every grid
    coloured by class) or lattice output of :func:`gridgis.events.event_hotspots` (only
    significant cells coloured, over the ``grids`` outlines). ``planted`` (optional known
    problem areas: polygons, or points with ``radius_m``) is drawn as dashed outlines.
    ``show_cold`` (default: yes for grids, no for lattice cells, where cold spots of counts just
    mark thinly settled land) draws cold spots.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from ..events import HOTSPOT_LABELS

    use_cjk_font()
    if "gi_bin" not in hotspots.columns:
        raise SchemaError("no gi_bin column", fix="compute it with gridgis.events.getis_ord")
    lattice = "cell_id" in hotspots.columns
    crs = _target_crs(hotspots)
    g = _metric(hotspots, crs)
    if ax is None:
        _, ax = _figure()
    nodata = (g["hotspot"] == "no data").to_numpy()
    if show_cold is None:
        show_cold = not lattice
    if not show_cold:
        g = g.assign(gi_bin=g["gi_bin"].clip(lower=0))
    if lattice:
        if district is not None:
            _metric(district, crs).plot(ax=ax, color="#f7f7f7", edgecolor="none", zorder=0)
        sig = (g["gi_bin"] != 0).to_numpy()
        if sig.any():
            g.loc[sig].plot(ax=ax, color=list(g.loc[sig, "gi_bin"].map(HOTSPOT_COLORS)), edgecolor="none",
                            alpha=0.9, zorder=1)
        _outlines(ax, crs, grids, communities, district, grid_color="#555555")
    else:
        colors = g["gi_bin"].map(HOTSPOT_COLORS).to_numpy(dtype=object)
        colors[nodata] = "#ffffff"
        g.plot(ax=ax, color=list(colors), edgecolor="none", zorder=1)
        _outlines(ax, crs, g, communities, district, grid_color="#777777")
    known = _known_areas(planted, crs)
    if known is not None:
        known.boundary.plot(ax=ax, color="#1a1a1a", lw=1.3, linestyle="--", zorder=8)
    present = set(g.loc[~nodata, "gi_bin"].astype(int))
    handles = [Patch(facecolor=HOTSPOT_COLORS[b], edgecolor="#999999", label=HOTSPOT_LABELS[b])
               for b in (3, 2, 1, 0, -1, -2, -3) if b in present or (b == 0 and not lattice)]
    if nodata.any():
        handles.append(Patch(facecolor="#ffffff", edgecolor="#999999", label="无数据 (无户数)"))
    if known is not None:
        handles.append(Line2D([0], [0], color="#1a1a1a", lw=1.3, linestyle="--", label="已知问题区域"))
    ax.legend(handles=handles, title="Gi* 置信度", loc="lower left", bbox_to_anchor=(1.0, 0.08), fontsize=9,
              title_fontsize=10, frameon=False)
    a = hotspots.attrs
    n_hot, n_cold = int((g["hotspot"] == "hot").sum()), int((g["hotspot"] == "cold").sum())
    fdr = "; FDR 校正" if a.get("fdr") else ""
    if title is None:
        title = "事件聚集热点 (Getis-Ord Gi*, 规则格网)" if lattice else "网格事件率热点 (Getis-Ord Gi*)"
    if note is None and lattice:
        note = (f"格网 {a.get('cell_size', 0):g} m, 邻域半径 {a.get('distance', 0):g} m, 事件数 Gi*; "
                f"置换 {a.get('permutations', '')} 次 (种子 {a.get('seed', '')}){fdr}; "
                f"热点格 {n_hot} 个, 冷点格 {n_cold} 个{'' if show_cold else ' (未显示)'} (α = {a.get('alpha', 0.05)}); 未着色 = 不显著")
    elif note is None:
        note = (f"变量 {a.get('value', '')}; 邻接 {a.get('weights', '')}; 置换 {a.get('permutations', '')} 次"
                f" (种子 {a.get('seed', '')}){fdr}; 热点 {n_hot} 个, 冷点 {n_cold} 个 (α = {a.get('alpha', 0.05)})")
    _decorate(ax, title, note)
    return ax


def save_hotspot_map(hotspots: gpd.GeoDataFrame, path: str | Path, *, dpi: int = 200, **kwargs: Any) -> Path:
    """Write :func:`plot_hotspots` to PNG/PDF/SVG; returns the path."""

    use_cjk_font()
    fig, ax = _figure()
    plot_hotspots(hotspots, ax=ax, **kwargs)
    return _save(fig, path, dpi)


def save_hotspots_by_group(
    cells: gpd.GeoDataFrame,
    path: str | Path,
    *,
    grids: gpd.GeoDataFrame | None = None,
    district: gpd.GeoDataFrame | None = None,
    planted: gpd.GeoDataFrame | None = None,
    title: str = "分类事件聚集热点 (Getis-Ord Gi*)",
    dpi: int = 130,
    max_panels: int = 12,
) -> Path:
    """Small multiples of :func:`gridgis.events.event_hotspots_by`: one panel per group,
    hot cells coloured by confidence (groups with most hot cells first)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from ..events import HOTSPOT_LABELS

    use_cjk_font()
    if "group" not in cells.columns:
        raise SchemaError("no group column", fix="compute it with gridgis.events.event_hotspots_by")
    crs = _target_crs(cells)
    info = cells.attrs.get("groups", {})
    names = sorted(cells["group"].unique(), key=lambda g: (-info.get(g, {}).get("hot_cells", 0), g))[:max_panels]
    ncol = min(4, len(names))
    nrow = int(math.ceil(len(names) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 4.0 * nrow + 0.8), squeeze=False)
    fig.canvas.draw_idle = lambda *args, **kwargs: None
    dist = _metric(district, crs) if district is not None else None
    gm = _metric(grids, crs) if grids is not None else None
    known = _known_areas(planted, crs)
    bounds = (dist if dist is not None else cells).total_bounds
    for ax, name in zip(axes.ravel(), names, strict=False):
        sub = cells[(cells["group"] == name).to_numpy()]
        if dist is not None:
            dist.plot(ax=ax, color="#f5f5f5", edgecolor="none", zorder=0)
        hot = sub[(sub["gi_bin"] > 0).to_numpy()]
        if len(hot):
            hot.plot(ax=ax, color=list(hot["gi_bin"].map(HOTSPOT_COLORS)), edgecolor="none", zorder=1)
        if gm is not None:
            gm.boundary.plot(ax=ax, color="#888888", lw=0.2, zorder=2)
        if dist is not None:
            dist.boundary.plot(ax=ax, color="black", lw=0.8, zorder=3)
        if known is not None:
            known.boundary.plot(ax=ax, color="#1a1a1a", lw=0.8, linestyle="--", zorder=4)
        n = info.get(name, {})
        ax.set_title(f"{name} ({n.get('events', len(sub))} 件, 热点格 {n.get('hot_cells', 0)})", fontsize=10)
        ax.set_xlim(bounds[0], bounds[2])
        ax.set_ylim(bounds[1], bounds[3])
        ax.set_aspect("equal")
        ax.set_axis_off()
    for ax in axes.ravel()[len(names):]:
        ax.set_axis_off()
    handles = [Patch(facecolor=HOTSPOT_COLORS[b], label=HOTSPOT_LABELS[b]) for b in (3, 2, 1)]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=9)
    a = cells.attrs
    fig.suptitle(f"{title}\n格网 {a.get('cell_size', 0):g} m, 邻域 {a.get('distance', 0):g} m, "
                 f"置换 {a.get('permutations', '')} 次, {'FDR 校正' if a.get('fdr') else '未校正'}", fontsize=12)
    return _save(fig, path, dpi)


# ---- interactive (folium) ----------------------------------------------------------------------------


def heatmap_overlay(
    raster: Raster,
    *,
    name: str = "事件热力图",
    opacity: float = 0.8,
    cmap: str = HEAT_CMAP,
    vmax: float | None = None,
    max_size: int = 2048,
) -> Any:
    """A folium ``ImageOverlay`` of the raster (inline PNG, no external request).

    The raster is warped to Web Mercator first, because Leaflet stretches overlays linearly
    in that projection. Add it to any folium map: ``heatmap_overlay(r).add_to(m)``.
    """
    from folium.raster_layers import ImageOverlay

    web = raster.to_web_mercator(max_size=max_size)
    west, south, east, north = web.wgs84_bounds()
    return ImageOverlay(
        image=web.to_data_uri(cmap, vmax or raster.max or None),
        bounds=[[south, west], [north, east]],
        opacity=opacity,
        name=name,
        interactive=False,
        zindex=2,
    )


def heatmap_map(
    raster: Raster,
    *,
    grids: gpd.GeoDataFrame | None = None,
    district: gpd.GeoDataFrame | None = None,
    path: str | Path | None = None,
    title: str = "事件热力图",
    tooltip: Iterable[str] = (schema.GRID_CODE, schema.GRID_NAME, "n_events", "rate_per_100hh"),
) -> Any:
    """Offline folium map: heatmap layer plus grid outlines (with tooltips) and district.

    No tile layer is added (offline intranets have none); when ``path`` is given the map is
    written as one self-contained HTML file through the render package's offline writer.
    Returns the ``folium.Map``.
    """
    import folium

    west, south, east, north = raster.to_web_mercator(max_size=256).wgs84_bounds()
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], tiles=None, zoom_start=13,
                   control_scale=True, prefer_canvas=True)
    heatmap_overlay(raster).add_to(m)
    if grids is not None:
        g = grids.to_crs(4326)
        fields = [c for c in tooltip if c in g.columns]
        keep = g[fields + [g.geometry.name]].copy()
        for c in fields:
            if pd.api.types.is_float_dtype(keep[c]):
                keep[c] = keep[c].round(2)
        folium.GeoJson(
            keep.to_json(na="null"),
            name="网格",
            style_function=lambda _: {"color": "#333333", "weight": 0.8, "fillOpacity": 0.0},
            tooltip=folium.GeoJsonTooltip(fields=fields) if fields else None,
        ).add_to(m)
    if district is not None:
        folium.GeoJson(
            district.to_crs(4326)[[district.geometry.name]].to_json(),
            name="区界",
            style_function=lambda _: {"color": "#000000", "weight": 2.5, "fillOpacity": 0.0},
        ).add_to(m)
    m.fit_bounds([[south, west], [north, east]])
    folium.LayerControl(collapsed=False).add_to(m)
    title_html = f'<h3 style="position:absolute;z-index:1000;left:60px;top:5px;margin:4px;background:#fffc;padding:2px 8px">{html.escape(title)}</h3>'
    m.get_root().html.add_child(folium.Element(title_html))
    if path is not None:
        write_offline_map(m, path)
    return m


def write_offline_map(m: Any, path: str | Path) -> Path:
    """Write a folium map as one offline HTML file via the render package's offline writer."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = _offline_writer()
    if writer is None:
        raise GridGISError(
            "the offline HTML writer (gridgis.render offline_html) is not available",
            fix="install gridgis with its render assets",
        )
    writer(m, path)
    return path


def _offline_writer() -> Any:
    for modname in ("gridgis.render.offline", "gridgis.render.interactive", "gridgis.render"):
        try:
            mod = __import__(modname, fromlist=["offline_html"])
        except ImportError:
            continue
        for fname in ("write_offline_html", "save_offline", "offline_html"):
            fn = getattr(mod, fname, None)
            if callable(fn):
                return _adapt_writer(fn)
    return None


def _adapt_writer(fn: Any) -> Any:
    def write(m: Any, path: Path) -> None:
        res = fn(m, path)
        if isinstance(res, str) and not path.exists():
            write_text(path, res)

    return write


# ---- animated, self-contained HTML -------------------------------------------------------------------


def _ring_paths(geoms: Iterable[Any], to_px: Any, tol: float) -> list[str]:
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
                px, py = to_px(xy[:, 0], xy[:, 1])
                pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
                parts.append(f"M{pts}Z")
        out.append("".join(parts))
    return out


def _lut(cmap: str) -> list[list[int]]:
    import matplotlib

    cm = matplotlib.colormaps[cmap]
    return (np.asarray(cm(np.linspace(0, 1, 256)))[:, :3] * 255).round().astype(int).tolist()


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
    title: str = "事件热力图 (时间动画)",
    cmap: str = HEAT_CMAP,
    kernel: str = "quartic",
) -> Path:
    """Write a self-contained, offline HTML page animating the event heatmap over time.

    The page recomputes the kernel density (same kernel, bandwidth and cell grid as
    :func:`gridgis.events.kde` with ``scale="density"``) in the browser, so the user can switch
    between days, weeks and months, tick any categories and urgency classes, play/step
    through periods, and read per-period counts from a bar chart. Grid outlines (with their
    names as tooltips), community and district boundaries are drawn as SVG; no file, script,
    font or tile is fetched from anywhere.

    Parameters
    ----------
    events
        Events (e.g. from :func:`gridgis.events.load`) with ``reported_at``, ``category``,
        ``urgency``; rows without a location or report time are counted on the page.
    path
        Output ``.html`` file.
    grids, communities, district
        Outlines to draw; ``district`` (else the grids' union) also clips the density.
    bandwidth, cell_size, kernel
        Kernel radius (m), raster cell (default: the extent's longer side / ``max_side``),
        kernel name.
    freq
        Initial period: ``"D"``, ``"W"`` or ``"M"``.

    Returns
    -------
    pathlib.Path
    """
    kernel_profile(kernel)
    if freq.upper()[:1] not in ("D", "W", "M"):
        raise GridGISError(f"unknown freq {freq!r}", fix="use 'D', 'W' or 'M'")
    crs = _target_crs(district, grids, communities, events)
    clip_layer = district if district is not None else grids
    clip_geom = None
    if clip_layer is not None:
        clip_geom = shapely.union_all(shapely.make_valid(_metric(clip_layer, crs).geometry.values))
    ev = events
    if ev.crs is None:
        raise SchemaError("events have no CRS")
    evm = ev.to_crs(crs) if not pyproj.CRS.from_user_input(ev.crs).equals(crs) else ev
    geoms = evm.geometry.array
    has_xy = ~np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if "status" in ev.columns:
        has_xy &= (ev["status"] != "invalid").to_numpy()
    times = pd.to_datetime(ev[schema.REPORTED_AT], errors="coerce") if schema.REPORTED_AT in ev else pd.Series(pd.NaT, index=ev.index)
    has_t = times.notna().to_numpy()
    use = has_xy & has_t
    if clip_geom is not None:
        bounds = clip_geom.bounds
    elif use.any():
        xs, ys = shapely.get_x(geoms[use]), shapely.get_y(geoms[use])
        bounds = (xs.min() - bandwidth, ys.min() - bandwidth, xs.max() + bandwidth, ys.max() + bandwidth)
    else:
        raise GridGISError("no events with a location and time, and no outline to size the map")
    xmin, ymin, xmax, ymax = bounds
    if cell_size is None:
        cell_size = max(xmax - xmin, ymax - ymin) / max_side
    cell = float(cell_size)
    x0 = math.floor(xmin / cell) * cell
    y1 = math.ceil(ymax / cell) * cell
    cols = max(1, int(math.ceil((xmax - x0) / cell - 1e-9)))
    rows = max(1, int(math.ceil((y1 - ymin) / cell - 1e-9)))

    def to_px(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(x) - x0) / cell, (y1 - np.asarray(y)) / cell

    mask_b64 = None
    if clip_geom is not None:
        xc = x0 + cell * (np.arange(cols) + 0.5)
        yc = y1 - cell * (np.arange(rows) + 0.5)
        shapely.prepare(clip_geom)
        inside = shapely.contains_xy(clip_geom, xc[None, :], yc[:, None])
        mask_b64 = base64.b64encode(np.packbits(inside.ravel()).tobytes()).decode()
    ex = shapely.get_x(geoms[use])
    ey = shapely.get_y(geoms[use])
    ecol = np.round(((ex - x0) / cell - 0.5) * 100).astype(np.int64)
    erow = np.round(((y1 - ey) / cell - 0.5) * 100).astype(np.int64)
    t = times[use]
    start = t.min().normalize() if len(t) else pd.Timestamp("2000-01-01")
    day = ((t.dt.normalize() - start).dt.days).to_numpy(dtype=np.int64) if len(t) else np.zeros(0, int)
    cats_col = ev[schema.CATEGORY].astype("string").fillna("未分类") if schema.CATEGORY in ev else pd.Series("未分类", index=ev.index)
    urg_col = ev[schema.URGENCY].astype("string").fillna("未知") if schema.URGENCY in ev else pd.Series("未知", index=ev.index)
    cat_names = sorted(cats_col[use].unique().tolist())
    urg_names = [u for u in schema.URGENCY_LEVELS if u in set(urg_col[use])] + sorted(
        set(urg_col[use]) - set(schema.URGENCY_LEVELS))
    cat_idx = pd.Categorical(cats_col[use], categories=cat_names).codes.astype(int)
    urg_idx = pd.Categorical(urg_col[use], categories=urg_names).codes.astype(int)
    tol = cell * 0.4
    outlines: dict[str, Any] = {}
    if grids is not None:
        gm = _metric(grids, crs)
        code = gm[schema.GRID_CODE].astype(str).to_numpy() if schema.GRID_CODE in gm else np.array([""] * len(gm))
        name = gm[schema.GRID_NAME].astype(str).to_numpy() if schema.GRID_NAME in gm else np.array([""] * len(gm))
        outlines["grids"] = [
            {"d": d, "t": f"{n} ({c})" if n else c}
            for d, n, c in zip(_ring_paths(gm.geometry.values, to_px, tol), name, code, strict=True)
        ]
    if communities is not None:
        outlines["communities"] = "".join(_ring_paths(_metric(communities, crs).geometry.values, to_px, tol))
    if district is not None:
        outlines["district"] = "".join(_ring_paths(_metric(district, crs).geometry.values, to_px, tol))
    n_all = len(ev)
    data = {
        "title": title,
        "cols": cols,
        "rows": rows,
        "cell": cell,
        "bandwidth": float(bandwidth),
        "R": float(bandwidth) / cell,
        "kernel": kernel,
        "factor": kernel_constant(kernel, bandwidth, "density"),
        "start": start.strftime("%Y-%m-%d"),
        "freq": freq.upper()[:1],
        "ex": ecol.tolist(),
        "ey": erow.tolist(),
        "day": day.tolist(),
        "cat": cat_idx.tolist(),
        "urg": urg_idx.tolist(),
        "cats": cat_names,
        "urgs": urg_names,
        "mask": mask_b64,
        "lut": _lut(cmap),
        "outlines": outlines,
        "crs": crs.name,
        "skipped": {"no_location": int((~has_xy).sum()), "no_time": int((has_xy & ~has_t).sum()), "total": int(n_all)},
    }
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    page = _PAGE.replace("__TITLE__", html.escape(title)).replace("__DATA__", payload).replace("__KERNEL_JS__", _KERNEL_JS[kernel])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, page)
    return path


_KERNEL_JS = {
    "quartic": "function K(q){const t=1-q;return t*t;}",
    "triweight": "function K(q){const t=1-q;return t*t*t;}",
    "epanechnikov": "function K(q){return 1-q;}",
    "triangular": "function K(q){return 1-Math.sqrt(q);}",
    "uniform": "function K(q){return 1;}",
}

_PAGE = r"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC","SimHei",sans-serif;margin:0;background:#f5f5f5;color:#222}
#wrap{display:flex;gap:14px;padding:12px;flex-wrap:wrap}
#side{width:250px;background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px;font-size:13px}
#side h3{margin:8px 0 4px;font-size:14px}
#side label{display:block;margin:2px 0;cursor:pointer}
#main{flex:1;min-width:320px}
#stage{position:relative;background:#e8e8e8;border:1px solid #ccc}
#stage canvas,#stage svg{position:absolute;left:0;top:0}
#stage svg path.g{fill:transparent;stroke:#555;stroke-width:0.5;vector-effect:non-scaling-stroke}
#stage svg path.g:hover{stroke:#000;stroke-width:2;fill:rgba(0,0,0,0.05)}
#stage svg path.c{fill:none;stroke:#222;stroke-width:1.2;vector-effect:non-scaling-stroke;pointer-events:none}
#stage svg path.d{fill:none;stroke:#000;stroke-width:2.2;vector-effect:non-scaling-stroke;pointer-events:none}
#bar{display:flex;align-items:center;gap:8px;margin:8px 0}
#slider{flex:1}
#period{font-size:16px;font-weight:bold;min-width:260px}
#legend{display:flex;align-items:center;gap:6px;font-size:12px;margin-top:6px}
#ramp{width:220px;height:12px;border:1px solid #aaa}
#chart{width:100%;height:90px;background:#fff;border:1px solid #ddd;cursor:pointer}
button{font-size:13px;padding:3px 10px}
.small{color:#666;font-size:11px}
</style></head>
<body>
<div id="wrap">
 <div id="side">
  <div style="font-weight:bold;font-size:15px" id="ttl"></div>
  <h3>时间粒度</h3>
  <label><input type="radio" name="freq" value="D"> 按日</label>
  <label><input type="radio" name="freq" value="W"> 按周</label>
  <label><input type="radio" name="freq" value="M"> 按月</label>
  <label><input type="checkbox" id="cumul"> 累计显示</label>
  <label><input type="checkbox" id="perframe"> 逐帧色标</label>
  <h3>紧急程度</h3><div id="urgs"></div>
  <h3>事件类别 <a href="#" id="allc" class="small">全选</a> <a href="#" id="nonec" class="small">全不选</a></h3><div id="cats"></div>
  <p class="small" id="info"></p>
 </div>
 <div id="main">
  <div id="bar"><button id="play">▶ 播放</button><button id="prev">◀</button><button id="next">▶</button>
   <select id="speed"><option value="1200">慢</option><option value="600" selected>中</option><option value="250">快</option></select>
   <input type="range" id="slider" min="0" max="0" value="0"><span id="period"></span></div>
  <div id="stage"><canvas id="cv"></canvas><svg id="svg" xmlns="http://www.w3.org/2000/svg"></svg></div>
  <div id="legend"><span>0</span><canvas id="ramp" width="220" height="12"></canvas><span id="vmax"></span><span>件/km²</span></div>
  <canvas id="chart"></canvas>
 </div>
</div>
<script>
"use strict";
const D = __DATA__;
__KERNEL_JS__
const cols = D.cols, rows = D.rows, N = D.ex.length;
const ex = Float64Array.from(D.ex, v => v / 100), ey = Float64Array.from(D.ey, v => v / 100);
const day = Int32Array.from(D.day), cat = Int32Array.from(D.cat), urg = Int32Array.from(D.urg);
let mask = null;
if (D.mask) {
  const bin = atob(D.mask); mask = new Uint8Array(cols * rows);
  for (let i = 0; i < cols * rows; i++) mask[i] = (bin.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1;
}
const st = {freq: D.freq, cats: D.cats.map(() => true), urgs: D.urgs.map(() => true), k: 0,
            cumul: false, perframe: false, timer: null};
const start = new Date(D.start + "T00:00:00Z");
const startWd = (start.getUTCDay() + 6) % 7;  // Monday = 0
function pad(n) { return String(n).padStart(2, "0"); }
function ymd(d) { return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()); }
function addDays(n) { return new Date(start.getTime() + n * 86400000); }
function periodKey(dd, f) {
  if (f === "D") return dd;
  if (f === "W") return Math.floor((dd + startWd) / 7);
  const d = addDays(dd); return d.getUTCFullYear() * 12 + d.getUTCMonth();
}
function periodLabel(key, f) {
  if (f === "D") return ymd(addDays(key));
  if (f === "W") { const a = key * 7 - startWd; return ymd(addDays(a)) + " 至 " + ymd(addDays(a + 6)); }
  return Math.floor(key / 12) + "-" + pad(key % 12 + 1);
}
let P = null;  // periods of the current freq: {k0, n, order (event ids sorted by period), off}
function buildPeriods() {
  const f = st.freq, keys = new Int32Array(N);
  let k0 = Infinity, k1 = -Infinity;
  for (let i = 0; i < N; i++) { keys[i] = periodKey(day[i], f); k0 = Math.min(k0, keys[i]); k1 = Math.max(k1, keys[i]); }
  if (!N) { k0 = periodKey(0, f); k1 = k0; }
  const n = k1 - k0 + 1, off = new Int32Array(n + 1);
  for (let i = 0; i < N; i++) off[keys[i] - k0 + 1]++;
  for (let p = 0; p < n; p++) off[p + 1] += off[p];
  const fill = off.slice(0, n), order = new Int32Array(N);
  for (let i = 0; i < N; i++) order[fill[keys[i] - k0]++] = i;
  P = {k0, n, off, order};
}
function selected(i) { return st.cats[cat[i]] && st.urgs[urg[i]]; }
const R = D.R, R2 = R * R, RI = Math.ceil(R) + 1;
function addEvent(i, out) {
  const c = ex[i], r = ey[i], c0 = Math.round(c), r0 = Math.round(r);
  const j0 = Math.max(0, r0 - RI), j1 = Math.min(rows - 1, r0 + RI);
  const i0 = Math.max(0, c0 - RI), i1 = Math.min(cols - 1, c0 + RI);
  for (let j = j0; j <= j1; j++) {
    const dy = j - r, dy2 = dy * dy; if (dy2 >= R2) continue;
    const base = j * cols;
    for (let q = i0; q <= i1; q++) { const dx = q - c, u = (dx * dx + dy2) / R2; if (u < 1) out[base + q] += K(u); }
  }
}
function frame(p, out, cumul) {
  out.fill(0); let n = 0;
  const a = cumul ? 0 : P.off[p], b = P.off[p + 1];
  for (let s = a; s < b; s++) { const i = P.order[s]; if (selected(i)) { addEvent(i, out); n++; } }
  let mx = 0;
  for (let c = 0; c < out.length; c++) { out[c] *= D.factor; if ((!mask || mask[c]) && out[c] > mx) mx = out[c]; }
  return {n, max: mx};
}
const buf = new Float64Array(cols * rows);
let counts = [], frameMax = [], vmaxAll = 0;
function recomputeScale() {
  counts = []; frameMax = [];
  for (let p = 0; p < P.n; p++) {
    let n = 0; for (let s = P.off[p]; s < P.off[p + 1]; s++) if (selected(P.order[s])) n++;
    counts.push(n);
  }
  vmaxAll = 0;
  if (st.cumul) { const r = frame(P.n - 1, buf, true); vmaxAll = r.max; }
  else for (let p = 0; p < P.n; p++) { const r = counts[p] ? frame(p, buf, false) : {max: 0}; frameMax.push(r.max); vmaxAll = Math.max(vmaxAll, r.max); }
}
const cv = document.getElementById("cv"), svg = document.getElementById("svg"), stage = document.getElementById("stage");
const off = document.createElement("canvas"); off.width = cols; off.height = rows;
const octx = off.getContext("2d"), img = octx.createImageData(cols, rows);
function draw() {
  const r = frame(st.k, buf, st.cumul);
  const vmax = st.perframe ? (r.max || 1) : (vmaxAll || 1);
  const px = img.data;
  for (let c = 0; c < cols * rows; c++) {
    const o = c * 4;
    if (mask && !mask[c]) { px[o] = 232; px[o + 1] = 232; px[o + 2] = 232; px[o + 3] = 255; continue; }
    const v = buf[c], t = Math.min(1, v / vmax), li = Math.round(t * 255), col = D.lut[li];
    const a = v > 0 ? Math.min(1, t / 0.2) * 0.9 : 0;
    px[o] = Math.round(255 * (1 - a) + col[0] * a); px[o + 1] = Math.round(255 * (1 - a) + col[1] * a);
    px[o + 2] = Math.round(255 * (1 - a) + col[2] * a); px[o + 3] = 255;
  }
  octx.putImageData(img, 0, 0);
  const ctx = cv.getContext("2d"); ctx.imageSmoothingEnabled = true; ctx.imageSmoothingQuality = "high";
  ctx.clearRect(0, 0, cv.width, cv.height); ctx.drawImage(off, 0, 0, cv.width, cv.height);
  const unit = {D: "日", W: "周", M: "月"}[st.freq];
  document.getElementById("period").textContent = (st.cumul ? "截至 " : "") + periodLabel(P.k0 + st.k, st.freq) + "  (" + r.n + " 件)";
  document.getElementById("vmax").textContent = vmax.toFixed(vmax < 10 ? 2 : 0);
  document.getElementById("slider").value = st.k;
  drawChart();
  return r;
}
function drawChart() {
  const ch = document.getElementById("chart"), w = ch.clientWidth || 600, h = 90;
  ch.width = w; ch.height = h; const ctx = ch.getContext("2d");
  const mx = Math.max(1, ...counts), bw = w / P.n;
  for (let p = 0; p < P.n; p++) {
    const bh = (h - 28) * counts[p] / mx;
    ctx.fillStyle = p === st.k ? "#d7301f" : (st.cumul && p < st.k ? "#fdae6b" : "#bbbbbb");
    ctx.fillRect(p * bw + (bw > 3 ? 1 : 0), h - 12 - bh, Math.max(1, bw - (bw > 3 ? 2 : 0)), bh);
  }
  ctx.fillStyle = "#444"; ctx.font = "10px sans-serif";
  ctx.fillText("每期事件数 (最高 " + mx + ")", 4, 10);
  ctx.fillText(periodLabel(P.k0, st.freq).slice(0, 10), 2, h - 1);
  const last = periodLabel(P.k0 + P.n - 1, st.freq).slice(0, 10); ctx.fillText(last, w - ctx.measureText(last).width - 2, h - 1);
}
function layout() {
  const wmax = Math.min(document.getElementById("main").clientWidth - 2, 1000), hmax = window.innerHeight - 230;
  const s = Math.max(0.5, Math.min(wmax / cols, Math.max(hmax, 300) / rows));
  const W = Math.round(cols * s), H = Math.round(rows * s);
  stage.style.width = W + "px"; stage.style.height = H + "px";
  cv.width = W; cv.height = H; cv.style.width = W + "px"; cv.style.height = H + "px";
  svg.setAttribute("width", W); svg.setAttribute("height", H);
  draw();
}
function buildSvg() {
  svg.setAttribute("viewBox", "0 0 " + cols + " " + rows); svg.setAttribute("preserveAspectRatio", "none");
  const NS = "http://www.w3.org/2000/svg", O = D.outlines;
  for (const g of (O.grids || [])) { if (!g.d) continue; const p = document.createElementNS(NS, "path"); p.setAttribute("d", g.d); p.setAttribute("class", "g");
    const t = document.createElementNS(NS, "title"); t.textContent = g.t; p.appendChild(t); svg.appendChild(p); }
  for (const [k, c] of [["communities", "c"], ["district", "d"]]) if (O[k]) { const p = document.createElementNS(NS, "path"); p.setAttribute("d", O[k]); p.setAttribute("class", c); svg.appendChild(p); }
}
function checkboxes(id, names, arr) {
  const box = document.getElementById(id);
  names.forEach((nm, i) => { const l = document.createElement("label"); const c = document.createElement("input");
    c.type = "checkbox"; c.checked = true; c.onchange = () => { arr[i] = c.checked; refresh(); };
    l.appendChild(c); l.appendChild(document.createTextNode(" " + nm)); box.appendChild(l); });
}
function refresh(keepK) {
  recomputeScale();
  if (!keepK) st.k = Math.min(st.k, P.n - 1);
  const sl = document.getElementById("slider"); sl.max = P.n - 1;
  draw();
}
function setFreq(f) { st.freq = f; buildPeriods(); st.k = 0; refresh(); }
function stop() { if (st.timer) clearInterval(st.timer); st.timer = null; document.getElementById("play").textContent = "▶ 播放"; }
function readHash() {
  // a view can be linked: #freq=M&k=2&cumul=1&cats=环境卫生,治安&urgs=重要紧急
  const h = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (["D", "W", "M"].includes(h.get("freq"))) st.freq = h.get("freq");
  if (h.get("cumul") === "1") st.cumul = true;
  if (h.get("perframe") === "1") st.perframe = true;
  if (h.has("cats")) { const s = new Set(h.get("cats").split(",")); D.cats.forEach((c, i) => st.cats[i] = s.has(c)); }
  if (h.has("urgs")) { const s = new Set(h.get("urgs").split(",")); D.urgs.forEach((c, i) => st.urgs[i] = s.has(c)); }
  return h.has("k") ? Math.max(0, parseInt(h.get("k"), 10) || 0) : 0;
}
function init() {
  const k0 = readHash();
  document.getElementById("ttl").textContent = D.title;
  document.title = D.title;
  for (const r of document.querySelectorAll("input[name=freq]")) { r.checked = r.value === st.freq; r.onchange = () => { stop(); setFreq(r.value); }; }
  checkboxes("urgs", D.urgs, st.urgs); checkboxes("cats", D.cats, st.cats);
  document.querySelectorAll("#urgs input").forEach((c, i) => c.checked = st.urgs[i]);
  document.querySelectorAll("#cats input").forEach((c, i) => c.checked = st.cats[i]);
  document.getElementById("cumul").checked = st.cumul; document.getElementById("perframe").checked = st.perframe;
  const setAll = v => { st.cats.fill(v); for (const c of document.querySelectorAll("#cats input")) c.checked = v; refresh(); };
  document.getElementById("allc").onclick = e => { e.preventDefault(); setAll(true); };
  document.getElementById("nonec").onclick = e => { e.preventDefault(); setAll(false); };
  document.getElementById("cumul").onchange = e => { st.cumul = e.target.checked; refresh(); };
  document.getElementById("perframe").onchange = e => { st.perframe = e.target.checked; draw(); };
  document.getElementById("slider").oninput = e => { st.k = +e.target.value; draw(); };
  document.getElementById("prev").onclick = () => { stop(); st.k = (st.k - 1 + P.n) % P.n; draw(); };
  document.getElementById("next").onclick = () => { stop(); st.k = (st.k + 1) % P.n; draw(); };
  document.getElementById("play").onclick = () => {
    if (st.timer) { stop(); return; }
    document.getElementById("play").textContent = "❚❚ 暂停";
    st.timer = setInterval(() => { st.k = (st.k + 1) % P.n; draw(); }, +document.getElementById("speed").value);
  };
  document.getElementById("speed").onchange = () => { if (st.timer) { stop(); document.getElementById("play").click(); } };
  document.getElementById("chart").onclick = e => { const r = e.target.getBoundingClientRect(); st.k = Math.min(P.n - 1, Math.floor((e.clientX - r.left) / r.width * P.n)); draw(); };
  const ramp = document.getElementById("ramp").getContext("2d");
  for (let x = 0; x < 220; x++) { const c = D.lut[Math.round(x / 219 * 255)], a = Math.min(1, x / 219 / 0.2) * 0.9;
    ramp.fillStyle = "rgb(" + [0, 1, 2].map(k => Math.round(255 * (1 - a) + c[k] * a)).join(",") + ")"; ramp.fillRect(x, 0, 1, 12); }
  const sk = D.skipped;
  document.getElementById("info").textContent = "核密度: " + D.kernel + " 核, 带宽 " + D.bandwidth + " m, 栅格 " + D.cell.toFixed(1) +
    " m; 显示 " + N + " / " + sk.total + " 件事件" + (sk.no_location ? "; 无有效坐标 " + sk.no_location + " 件" : "") +
    (sk.no_time ? "; 无上报时间 " + sk.no_time + " 件" : "") + "。坐标系 " + D.crs + "。本页离线可用。";
  buildSvg(); buildPeriods(); recomputeScale();
  st.k = Math.min(k0, P.n - 1);
  document.getElementById("slider").max = P.n - 1;
  layout();
  // self-check for automated tests: per-period counts and density peaks of the current view
  const cur = frame(st.k, buf, st.cumul);
  document.body.dataset.selftest = JSON.stringify({freq: st.freq, n: P.n, first: periodLabel(P.k0, st.freq),
    labels: Array.from({length: P.n}, (_, p) => periodLabel(P.k0 + p, st.freq)), counts: counts, max: frameMax,
    vmax: vmaxAll, events: N, k: st.k, current: {n: cur.n, max: cur.max}});
  window.addEventListener("resize", layout);
}
init();
</script>
</body></html>
"""
