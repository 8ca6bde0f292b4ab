"""Static hot-spot maps (matplotlib): Getis-Ord Gi* classes per grid or per lattice cell, and
small multiples per event category.

Example
-------
>>> from gridgis.events import event_hotspots
>>> from gridgis.render.hotspot_maps import save_hotspot_map
>>> save_hotspot_map(event_hotspots(events, district), "hotspots.png")  # doctest: +SKIP
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from .._inputs import metric
from ..errors import SchemaError
from ..i18n import _, tr
from ..people import header
from ._common import (
    HOTSPOT_COLORS,
    decorate,
    draw_outlines,
    known_areas,
    new_figure,
    save_figure,
    target_crs,
)
from .fonts import register_cjk_font

__all__ = ["plot_hotspots", "save_hotspot_map", "save_hotspots_by_group"]


def _fill_classes(ax: Any, g: gpd.GeoDataFrame, nodata: np.ndarray, lattice: bool, crs: Any,
                  grids: gpd.GeoDataFrame | None, communities: gpd.GeoDataFrame | None,
                  district: gpd.GeoDataFrame | None) -> None:
    """Lattice: significant cells over the outlines; grids: every grid coloured by class."""
    if lattice:
        if district is not None:
            metric(district, crs).plot(ax=ax, color="#f7f7f7", edgecolor="none", zorder=0)
        sig = (g["gi_bin"] != 0).to_numpy()
        if sig.any():
            g.loc[sig].plot(ax=ax, color=list(g.loc[sig, "gi_bin"].map(HOTSPOT_COLORS)), edgecolor="none",
                            alpha=0.9, zorder=1)
        draw_outlines(ax, crs, grids, communities, district, grid_color="#555555")
    else:
        colors = g["gi_bin"].map(HOTSPOT_COLORS).to_numpy(dtype=object)
        colors[nodata] = "#ffffff"
        g.plot(ax=ax, color=list(colors), edgecolor="none", zorder=1)
        draw_outlines(ax, crs, g, communities, district, grid_color="#777777")


def _inference(a: dict[str, Any]) -> str:
    """How significance was judged, for the map note."""
    if a.get("method") == "poisson":
        return tr("expected = exposure share ({exposure}) × all events; negative binomial, "
                  "dispersion {dispersion:.2f}", exposure=header(a.get("exposure") or ""), dispersion=a.get("dispersion") or 0.0)
    if a.get("permutations"):
        return tr("{n} total permutations (seed {seed})", n=a.get("permutations"), seed=a.get("seed", ""))
    return _("normal-theory p")


def _hotspot_note(g: gpd.GeoDataFrame, attrs: dict[str, Any], lattice: bool, show_cold: bool) -> str:
    a = attrs
    n_hot, n_cold = int((g["hotspot"] == "hot").sum()), int((g["hotspot"] == "cold").sum())
    how = _inference(a) + (_("; FDR corrected") if a.get("fdr") else "")
    if lattice:
        cold = (tr("{n} cold cells", n=n_cold) if show_cold
                else tr("{n} cold cells (not shown)", n=n_cold))
        return tr("Cells {cell:g} m, neighbourhood radius {distance:g} m; {how}; {hot} hot cells, "
                  "{cold} (α = {alpha}); no colour = not significant",
                  cell=a.get("cell_size", 0), distance=a.get("distance", 0), how=how,
                  hot=n_hot, cold=cold, alpha=a.get("alpha", 0.05))
    return tr("Variable: {value}; {how}; {hot} hot spots, {cold} cold spots (α = {alpha})",
              value=header(a.get("value", "")), how=how, hot=n_hot, cold=n_cold,
              alpha=a.get("alpha", 0.05))


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

    Examples
    --------
    >>> ax = plot_hotspots(getis_ord(stats, "rate_per_100hh"))       # doctest: +SKIP
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from ..events import hotspot_label

    register_cjk_font()
    if "gi_bin" not in hotspots.columns:
        raise SchemaError(tr("no gi_bin column"), fix=tr("compute it with gridgis.events.getis_ord"))
    lattice = "cell_id" in hotspots.columns
    crs = target_crs(hotspots)
    g = metric(hotspots, crs)
    if ax is None:
        _fig, ax = new_figure()
    nodata = (g["hotspot"] == "no data").to_numpy()
    if show_cold is None:
        show_cold = not lattice
    if not show_cold:
        g = g.assign(gi_bin=g["gi_bin"].clip(lower=0))
    _fill_classes(ax, g, nodata, lattice, crs, grids, communities, district)
    known = known_areas(planted, crs)
    if known is not None:
        known.boundary.plot(ax=ax, color="#1a1a1a", lw=1.3, linestyle="--", zorder=8)
    present = set(g.loc[~nodata, "gi_bin"].astype(int))
    handles = [Patch(facecolor=HOTSPOT_COLORS[b], edgecolor="#999999", label=hotspot_label(b))
               for b in (3, 2, 1, 0, -1, -2, -3) if b in present or (b == 0 and not lattice)]
    if nodata.any():
        handles.append(Patch(facecolor="#ffffff", edgecolor="#999999", label=_("No data (no households)")))
    if known is not None:
        handles.append(Line2D([0], [0], color="#1a1a1a", lw=1.3, linestyle="--", label=_("Known problem areas")))
    legend_title = _("Confidence") if hotspots.attrs.get("method") == "poisson" else _("Gi* confidence")
    ax.legend(handles=handles, title=legend_title, loc="lower left", bbox_to_anchor=(1.0, 0.08), fontsize=9,
              title_fontsize=10, frameon=False)
    if title is None and hotspots.attrs.get("method") == "poisson":
        title = _("Event hot spots relative to households (excess over expected)")
    if title is None:
        title = (_("Dense event clusters (Getis-Ord Gi* of counts)") if lattice
                 else _("Hot spots of grid event rates (Getis-Ord Gi*)"))
    if note is None:
        note = _hotspot_note(g, hotspots.attrs, lattice, show_cold)
    decorate(ax, title, note)
    return ax


def save_hotspot_map(hotspots: gpd.GeoDataFrame, path: str | Path, *, dpi: int = 200, **kwargs: Any) -> Path:
    """Write :func:`plot_hotspots` to PNG/PDF/SVG; returns the path.

    Examples
    --------
    >>> save_hotspot_map(cells, "hotspots.png", grids=grids, planted=known)  # doctest: +SKIP
    """
    fig, ax = new_figure()
    plot_hotspots(hotspots, ax=ax, **kwargs)
    return save_figure(fig, path, dpi=dpi)


def _group_panel(ax: Any, sub: gpd.GeoDataFrame, dist: gpd.GeoDataFrame | None,
                 gm: gpd.GeoDataFrame | None, known: gpd.GeoDataFrame | None) -> None:
    """One small-multiple panel: district, hot cells of one group, grid and known outlines."""
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


def save_hotspots_by_group(
    cells: gpd.GeoDataFrame,
    path: str | Path,
    *,
    grids: gpd.GeoDataFrame | None = None,
    district: gpd.GeoDataFrame | None = None,
    planted: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    dpi: int = 130,
    max_panels: int = 12,
) -> Path:
    """Small multiples of :func:`gridgis.events.event_hotspots_by`: one panel per group,
    hot cells coloured by confidence (groups with most hot cells first). ``title`` defaults to
    "event clusters by category" in the language in use.

    Examples
    --------
    >>> cells = event_hotspots_by(events, district, "category")      # doctest: +SKIP
    >>> save_hotspots_by_group(cells, "by_category.png", district=district)  # doctest: +SKIP
    """
    from matplotlib.patches import Patch

    from ..events import hotspot_label

    if "group" not in cells.columns:
        raise SchemaError(tr("no group column"), fix=tr("compute it with "
                                                    "gridgis.events.event_hotspots_by"))
    crs = target_crs(cells)
    info = cells.attrs.get("groups", {})
    names = sorted(cells["group"].unique(), key=lambda g: (-info.get(g, {}).get("hot_cells", 0), g))[:max_panels]
    ncol = min(4, len(names))
    nrow = int(math.ceil(len(names) / ncol))
    fig, axes = new_figure(nrow, ncol, figsize=(4.2 * ncol, 4.0 * nrow + 0.8), squeeze=False)
    dist = metric(district, crs)
    gm = metric(grids, crs)
    known = known_areas(planted, crs)
    bounds = (dist if dist is not None else cells).total_bounds
    for ax, name in zip(axes.ravel(), names, strict=False):
        sub = cells[(cells["group"] == name).to_numpy()]
        _group_panel(ax, sub, dist, gm, known)
        n = info.get(name, {})
        ax.set_title(tr("{name} ({events} events, {hot} hot cells)", name=name,
                        events=n.get("events", len(sub)), hot=n.get("hot_cells", 0)), fontsize=10)
        ax.set_xlim(bounds[0], bounds[2])
        ax.set_ylim(bounds[1], bounds[3])
        ax.set_aspect("equal")
    for ax in axes.ravel():
        ax.set_axis_off()
    handles = [Patch(facecolor=HOTSPOT_COLORS[b], label=hotspot_label(b)) for b in (3, 2, 1)]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=9)
    a = cells.attrs
    if title is None:
        title = _("Event clusters by category (Getis-Ord Gi*)")
    how = tr("Cells {cell:g} m, neighbourhood {distance:g} m, {how}",
             cell=a.get("cell_size", 0), distance=a.get("distance", 0), how=_inference(a))
    how += _(", FDR corrected") if a.get("fdr") else _(", not corrected")
    fig.suptitle(f"{title}\n{how}", fontsize=12)
    return save_figure(fig, path, dpi=dpi)
