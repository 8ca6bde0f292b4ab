"""Static event maps (matplotlib, metric CRS): the kernel-density heatmap and per-grid event rates.

PNG, PDF or SVG by file suffix; the bundled CJK font is registered so Chinese titles and legends
render.

Example
-------
>>> from gridgis.events import kde
>>> from gridgis.render.event_maps import save_heatmap
>>> save_heatmap(kde(events, bandwidth=300), "heatmap.png", grids=grids)  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._inputs import metric
from ..errors import SchemaError
from ..i18n import N_, _, pgettext, tr
from ..people import header
from ._common import HEAT_CMAP, decorate, draw_outlines, new_figure, save_figure, target_crs
from .fonts import register_cjk_font
from .layout import crs_note

__all__ = ["plot_grid_events", "plot_heatmap", "save_grid_event_map", "save_heatmap"]

if TYPE_CHECKING:  # the heatmap module (scipy) loads only when a map is drawn
    from ..events import Raster

#: Units of a density raster (``Raster.units``) → their text on the colour bar.
_UNITS = {"events/km²": N_("events/km²"), "kernel sum": N_("kernel sum"),
          "QGIS scaled (per m²)": N_("QGIS scaled (per m²)")}
#: Statistic of a grid event map → the title of its legend.
_LEGEND_TITLES = {"rate_per_100hh": N_("Events per 100 households"),
                  "n_events": N_("Events (count)"), "on_time_share": N_("Closed on time (share)")}


def _kernel(name: str) -> str:
    """The name of a KDE kernel for people."""
    return {"quartic": pgettext("kernel", "quartic"), "triweight": pgettext("kernel", "triweight"),
            "epanechnikov": pgettext("kernel", "epanechnikov"),
            "triangular": pgettext("kernel", "triangular"),
            "uniform": pgettext("kernel", "uniform")}.get(name, name)


def _heatmap_note(raster: Raster) -> str:
    """How the density surface was estimated, for the map note."""
    m = raster.meta
    return tr("Kernel density estimate: {kernel} kernel, bandwidth {bandwidth:g} m, cell "
              "{cell:g} m; {n} events; coordinate system {crs}",
              kernel=_kernel(str(m.get("kernel", "quartic"))), bandwidth=m.get("bandwidth", 0),
              cell=raster.cell_size, n=m.get("n_events", 0), crs=crs_note(raster.crs))


def plot_heatmap(
    raster: Raster,
    *,
    grids: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    district: gpd.GeoDataFrame | None = None,
    ax: Any = None,
    title: str | None = None,
    cmap: str = HEAT_CMAP,
    vmax: float | None = None,
    note: str | None = None,
    colorbar: bool = True,
) -> Any:
    """Draw a KDE raster over grid, community and district outlines; returns the Axes.

    ``title`` (default: "event heat map" in the language in use; ``""`` for none) and ``note``
    (default: how the surface was estimated) are drawn above and below the map.

    Examples
    --------
    >>> ax = plot_heatmap(kde(events, bandwidth=300), grids=grids)    # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    register_cjk_font()
    if ax is None:
        _fig, ax = new_figure()
    crs = raster.crs
    if district is not None:
        metric(district, crs).plot(ax=ax, color="#fbfbfb", edgecolor="none", zorder=0)
    top = float(vmax) if vmax else (raster.max or 1.0)
    ax.imshow(raster.to_rgba(cmap, top), extent=raster.extent, origin="upper", interpolation="bilinear", zorder=2)
    draw_outlines(ax, crs, grids, communities, district)
    if colorbar:
        sm = plt.cm.ScalarMappable(norm=Normalize(0, top), cmap=cmap)
        cb = ax.figure.colorbar(sm, ax=ax, shrink=0.55, pad=0.02)
        units = _UNITS.get(raster.units)
        cb.set_label(tr("Event density ({units})",
                        units=_(units) if units is not None else raster.units))
    if note is None:
        note = _heatmap_note(raster)
    decorate(ax, _("Event heatmap") if title is None else title, note, bounds=raster.bounds)
    return ax


def save_heatmap(raster: Raster, path: str | Path, *, dpi: int = 200, **kwargs: Any) -> Path:
    """Write :func:`plot_heatmap` to PNG/PDF/SVG (by suffix); returns the path.

    Examples
    --------
    >>> save_heatmap(kde(events, bandwidth=300), "heatmap.pdf", district=district)  # doctest: +SKIP
    """
    fig, ax = new_figure()
    plot_heatmap(raster, ax=ax, **kwargs)
    return save_figure(fig, path, dpi=dpi)


def _quantile_fill(ax: Any, g: gpd.GeoDataFrame, vals: pd.Series, k: int, cmap: str) -> list[Any]:
    """Colour grids with a value by quantile class (hatched grey without); legend handles."""
    import mapclassify
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    has = vals.notna().to_numpy()
    handles = []
    if has.any():
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
        handles.append(Patch(facecolor="#e6e6e6", hatch="///", label=_("No data (no households)")))
    return handles


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
    """Choropleth of a per-grid event statistic (quantile classes); returns the Axes.

    Examples
    --------
    >>> ax = plot_grid_events(gridgis.events.grid_stats(events, grids))  # doctest: +SKIP
    """
    register_cjk_font()
    if column not in stats.columns:
        raise SchemaError(tr("no column {column!r} in the grid statistics", column=column))
    crs = target_crs(stats)
    g = metric(stats, crs)
    if ax is None:
        _fig, ax = new_figure()
    handles = _quantile_fill(ax, g, pd.to_numeric(g[column], errors="coerce"), k, cmap)
    draw_outlines(ax, crs, g, communities, district, grid_color="#666666")
    label = _(_LEGEND_TITLES[column]) if column in _LEGEND_TITLES else header(column)
    ax.legend(handles=handles, title=label, loc="lower left", bbox_to_anchor=(1.0, 0.08), fontsize=9,
              title_fontsize=10, frameon=False)
    if title is None:
        title = tr("{what} by grid", what=label)
    if note is None:
        unassigned = stats.attrs.get("unassigned")
        total = int(pd.to_numeric(stats.get("n_events", pd.Series(dtype=float)), errors="coerce").sum())
        note = tr("{grids} grids; {events} events inside grids", grids=len(stats), events=total)
        if unassigned:
            note += tr("; {n} events outside grids or invalid", n=unassigned)
    decorate(ax, title, note)
    return ax


def save_grid_event_map(stats: gpd.GeoDataFrame, path: str | Path, *, dpi: int = 200, **kwargs: Any) -> Path:
    """Write :func:`plot_grid_events` to PNG/PDF/SVG; returns the path.

    Examples
    --------
    >>> save_grid_event_map(stats, "by_grid.png", district=district)  # doctest: +SKIP
    """
    fig, ax = new_figure()
    plot_grid_events(stats, ax=ax, **kwargs)
    return save_figure(fig, path, dpi=dpi)
