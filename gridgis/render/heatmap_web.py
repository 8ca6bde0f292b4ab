"""The event heatmap on an offline folium map: an inline-PNG overlay and a ready map page.

Example
-------
>>> from gridgis.events import kde
>>> from gridgis.render.heatmap_web import heatmap_map
>>> heatmap_map(kde(events, bandwidth=300), grids=grids, path="heatmap.html")  # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from .. import schema
from ..i18n import _
from ..people import header
from ._common import HEAT_CMAP, metric_scale
from .assets import save_offline

__all__ = ["heatmap_map", "heatmap_overlay"]

if TYPE_CHECKING:  # the heatmap module (scipy) loads only when a map is drawn
    from ..events import Raster


def heatmap_overlay(
    raster: Raster,
    *,
    name: str | None = None,
    opacity: float = 0.8,
    cmap: str = HEAT_CMAP,
    vmax: float | None = None,
    max_size: int = 2048,
) -> Any:
    """A folium ``ImageOverlay`` of the raster (inline PNG, no external request).

    The raster is warped to Web Mercator first, because Leaflet stretches overlays linearly
    in that projection.

    Examples
    --------
    >>> heatmap_overlay(kde(events, bandwidth=300)).add_to(m)         # doctest: +SKIP
    """
    from folium.raster_layers import ImageOverlay

    web = raster.to_web_mercator(max_size=max_size)
    west, south, east, north = web.wgs84_bounds()
    return ImageOverlay(
        image=web.to_data_uri(cmap, vmax or raster.max or None),
        bounds=[[south, west], [north, east]],
        opacity=opacity,
        name=_("Event heatmap") if name is None else name,
        interactive=False,
        zindex=2,
    )


def _outline_layers(m: Any, grids: gpd.GeoDataFrame | None, district: gpd.GeoDataFrame | None,
                    tooltip: Iterable[str]) -> None:
    import folium

    if grids is not None:
        g = grids.to_crs(4326)
        fields = [c for c in tooltip if c in g.columns]
        keep = g[fields + [g.geometry.name]].copy()
        for c in fields:
            if pd.api.types.is_float_dtype(keep[c]):
                keep[c] = keep[c].round(2)
        folium.GeoJson(
            keep.to_json(na="null"),
            name=_("Grids"),
            style_function=lambda _: {"color": "#333333", "weight": 0.8, "fillOpacity": 0.0},
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[header(f) for f in fields])
            if fields else None,
        ).add_to(m)
    if district is not None:
        folium.GeoJson(
            district.to_crs(4326)[[district.geometry.name]].to_json(),
            name=_("District boundary"),
            style_function=lambda _: {"color": "#000000", "weight": 2.5, "fillOpacity": 0.0},
        ).add_to(m)


def heatmap_map(
    raster: Raster,
    *,
    grids: gpd.GeoDataFrame | None = None,
    district: gpd.GeoDataFrame | None = None,
    path: str | Path | None = None,
    title: str | None = None,
    tooltip: Iterable[str] = (schema.GRID_CODE, schema.GRID_NAME, "n_events", "rate_per_100hh"),
) -> Any:
    """Offline folium map: heatmap layer plus grid outlines (with tooltips) and district.

    No tile layer is added (offline intranets have none); when ``path`` is given the map is
    written as one self-contained HTML file with :func:`gridgis.render.assets.save_offline`.
    Returns the ``folium.Map``.

    Examples
    --------
    >>> m = heatmap_map(kde(events, bandwidth=300), grids=stats, path="heatmap.html")  # doctest: +SKIP
    """
    import folium

    title = _("Event heatmap") if title is None else title
    west, south, east, north = raster.to_web_mercator(max_size=256).wgs84_bounds()
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], tiles=None, zoom_start=13,
                   control_scale=False, prefer_canvas=True)
    metric_scale(m)
    heatmap_overlay(raster).add_to(m)
    _outline_layers(m, grids, district, tooltip)
    m.fit_bounds([[south, west], [north, east]])
    folium.LayerControl(collapsed=False).add_to(m)
    title_html = ('<h3 style="position:absolute;z-index:1000;left:60px;top:5px;margin:4px;'
                  f'background:#fffc;padding:2px 8px">{html.escape(title)}</h3>')
    m.get_root().html.add_child(folium.Element(title_html))
    if path is not None:
        save_offline(m, path)
    return m
