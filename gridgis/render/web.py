"""Interactive grid map (folium) of a plan, written as ONE self-contained offline HTML file.

:func:`interactive_map` draws a plan: grids colored by community (neighbours in different hues)
or by a column, tooltips, permanent labels that appear as you zoom in, a layer control, the
plan's own roads and rivers as a light base layer (no tiles needed), and optional overlays
(validation findings, a heatmap, address or event points). The page is made offline by
:func:`gridgis.render.assets.save_offline`.

Example
-------
>>> from gridgis.render.web import interactive_map
>>> m = interactive_map(grids, roads=roads, rivers=rivers, communities=communities,
...                     out="plan.html")                                  # doctest: +SKIP
"""

from __future__ import annotations

import html as html_mod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._inputs import as_layer, metric
from ..i18n import _, tr
from ..people import value
from ..validation.catalogue import rule_title
from ._common import geojson, metric_scale, template, to_wgs84
from ._web_layers import (
    NO_ZOOM,
    SEVERITY_COLORS,
    add_points,
    alias,
    as_findings,
    css_element,
    fit_zoom,
    grid_label_rows,
    label_layer,
    label_room,
    panel,
    text_px,
    to_latlon,
)
from .assets import save_offline
from .colors import grid_fills, kind_names

__all__ = ["interactive_map"]


def _new_map(g: gpd.GeoDataFrame, tiles: str | None) -> Any:
    """The folium map over ``g``'s extent with the gridgis panes and styles."""
    import folium

    west, south, east, north = g.total_bounds
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=14, tiles=None,
                   control_scale=False, zoom_control=True)
    metric_scale(m)
    m.options["maxZoom"] = 20  # no tile layer sets it (marker clusters need one)
    css = template("map.css")
    if tiles is None:
        css += ".leaflet-container{background:#f3f1ec !important}"
    m.get_root().header.add_child(css_element(css), name="gridgis_css")
    for pane, z in (("gg-base", 350), ("gg-outline", 430), ("gg-findings", 440), ("gg-points", 450)):
        folium.map.CustomPane(pane, z_index=z, pointer_events=pane not in ("gg-base", "gg-outline")
                              ).add_to(m)
    if tiles is not None:
        folium.TileLayer(tiles, name=_("Online base map"), control=True).add_to(m)
    return m


def _add_base(m: Any, roads: gpd.GeoDataFrame | None, rivers: gpd.GeoDataFrame | None,
              simplify_m: float) -> None:
    """The plan's own rivers and roads as a light base layer (no tiles needed)."""
    import folium

    if rivers is not None and len(rivers):
        rv = to_wgs84(rivers, "rivers", simplify_m=simplify_m)
        width = pd.to_numeric(rv["width_m"], errors="coerce") if "width_m" in rv.columns else None
        rv = rv.assign(_w=(np.clip((width.fillna(20) / 6).to_numpy(), 2, 10) if width is not None
                           else 4.0))
        folium.GeoJson(
            geojson(rv, ["name", "_w"]), name=_("Rivers"),
            style_function=lambda f: {"color": "#9cc3e6", "weight": f["properties"]["_w"],
                                      "opacity": 1.0, "fill": False},
            pane="gg-base", interactive=False, show=True,
        ).add_to(m)
    if roads is not None and len(roads):
        rd = to_wgs84(roads, "roads", simplify_m=simplify_m)
        weights = {"arterial": 4.0, "local": 2.2, "lane": 1.0}
        cls = rd[schema.ROAD_CLASS].astype(str) if schema.ROAD_CLASS in rd.columns else pd.Series("local", index=rd.index)
        rd = rd.assign(_w=cls.map(weights).fillna(1.5).to_numpy())
        folium.GeoJson(
            geojson(rd, ["_w"]), name=_("Roads"),
            style_function=lambda f: {"color": "#ffffff" if f["properties"]["_w"] >= 2 else "#e2ded6",
                                      "weight": f["properties"]["_w"], "opacity": 1.0,
                                      "fill": False},
            pane="gg-base", interactive=False,
        ).add_to(m)


def _add_grids(m: Any, g: gpd.GeoDataFrame, grids_m: gpd.GeoDataFrame, color: str | None,
               fill_opacity: float) -> list[tuple[str, str]]:
    """Grid polygons with tooltips; returns the legend entries of ``color``."""
    import folium

    fills, legend = grid_fills(grids_m, color)
    names = kind_names()
    gd = g.assign(_fill=fills.reindex(g.index).to_numpy())
    if schema.KIND in gd.columns:
        gd["kind_zh"] = gd[schema.KIND].astype(str).map(lambda k: names.get(k, k))
    fields = [c for c in (schema.GRID_CODE, schema.GRID_NAME, schema.HOUSEHOLDS, schema.POPULATION,
                          "kind_zh", color) if c is not None and c in gd.columns]
    fields = list(dict.fromkeys(fields))
    folium.GeoJson(
        geojson(gd, fields + ["_fill"]), name=_("Grids"),
        style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#ffffff",
                                  "weight": 1.2, "fillOpacity": fill_opacity, "opacity": 0.95},
        highlight_function=lambda _: {"weight": 3, "color": "#333333", "fillOpacity": 0.75},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[alias(f) for f in fields],
                                      sticky=True),
    ).add_to(m)
    return legend


def _community_layer(grids_m: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Community outlines in the grids' metric CRS: given, or unions of grids per community."""
    if communities is not None and len(communities):
        return metric(as_layer(communities, "communities", missing="keep"), grids_m.crs)
    key = schema.COMMUNITY_CODE if schema.COMMUNITY_CODE in grids_m.columns else None
    if key:
        return grids_m.dissolve(by=key, as_index=False)[[key, grids_m.geometry.name]]
    return gpd.GeoDataFrame(geometry=[shapely.union_all(np.asarray(grids_m.geometry.array))],
                            crs=grids_m.crs)


def _add_outlines(m: Any, cm_m: gpd.GeoDataFrame, simplify_m: float) -> None:
    """Community outlines and the outer (district) boundary."""
    import folium

    cm = to_wgs84(cm_m, "communities", simplify_m=simplify_m, coverage=True)
    folium.GeoJson(
        geojson(cm, []), name=_("Community lines"),
        style_function=lambda _: {"color": "#444444", "weight": 2.0, "fill": False, "opacity": 0.9},
        pane="gg-outline", interactive=False,
    ).add_to(m)
    outer = shapely.union_all(shapely.buffer(np.asarray(cm_m.geometry.array), 0.5))
    district = to_wgs84(gpd.GeoDataFrame(geometry=[outer], crs=cm_m.crs), "district",
                        simplify_m=max(simplify_m, 1.0))
    folium.GeoJson(
        geojson(district, []), name=_("Outer boundary"), control=False,
        style_function=lambda _: {"color": "#222222", "weight": 3.2, "fill": False, "opacity": 1.0},
        pane="gg-outline", interactive=False,
    ).add_to(m)


def _add_findings(m: Any, findings: Any) -> None:
    """Validation findings: errors red, warnings orange, with tooltips."""
    import folium

    fd = as_findings(findings)
    if not len(fd):
        return
    fd = to_wgs84(fd, "findings")
    fd = fd.assign(_c=fd["severity"].astype(str).map(SEVERITY_COLORS).fillna("#7b3294").to_numpy())
    fd["severity"] = [value("severity", v) for v in fd["severity"]]
    if "rule" in fd.columns:
        fd["rule"] = [rule_title(v) for v in fd["rule"]]
    ffields = [c for c in ("severity", "rule", "message", "grids") if c in fd.columns]
    folium.GeoJson(
        geojson(fd, ffields + ["_c"]), name=tr("Findings ({n})", n=len(fd)),
        style_function=lambda f: {"color": f["properties"]["_c"], "weight": 2.5,
                                  "fillColor": f["properties"]["_c"], "fillOpacity": 0.45,
                                  "radius": 6},
        marker=folium.CircleMarker(radius=6, pane="gg-findings"),
        tooltip=folium.GeoJsonTooltip(fields=ffields, aliases=[alias(f) for f in ffields],
                                      sticky=True, max_width=360),
        pane="gg-findings",
    ).add_to(m)


def _add_overlays(m: Any, heatmap: Any, findings: Any, points: Any, max_points: int, seed: int) -> None:
    if heatmap is not None:
        layer = heatmap
        if not hasattr(heatmap, "add_to"):
            from .heatmap_web import heatmap_overlay

            layer = heatmap_overlay(heatmap)
        layer.add_to(m)
    if findings is not None:
        _add_findings(m, findings)
    if points is not None:
        layers = points.items() if isinstance(points, Mapping) else [(_("Points"), points)]
        for i, (name, pts) in enumerate(layers):
            if pts is not None and len(pts):
                add_points(m, str(name), pts, max_points, seed + i)


def _add_labels(m: Any, grids_m: gpd.GeoDataFrame, cm_m: gpd.GeoDataFrame, named_communities: bool,
                labels: bool | str, lat0: float, label_zoom: int | None) -> None:
    """Labels that each show only in the zoom range where they fit their grid (community)."""
    rows, detail = grid_label_rows(grids_m, labels, lat0, label_zoom)
    if named_communities:
        c_pts, c_room = label_room(np.asarray(cm_m.geometry.array))
        c_names = cm_m["name"].astype(str)
        c_from = fit_zoom(1.5 * c_room, text_px(c_names, 13.0), lat0)  # may overhang a bit
        latlon = to_latlon(c_pts, cm_m.crs)
        rows += [[float(a), float(b), "gg-c",
                  f'<div class="gg-in"><span class="gg-s">{html_mod.escape(n)}</span></div>',
                  [int(z0), int(detail), NO_ZOOM]]
                 for (a, b), n, z0 in zip(latlon, c_names, c_from, strict=True)]
    label_layer(rows, name=_("Labels")).add_to(m)


def _metric_grids(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The plan checked, with normalised columns, non-empty rows only, in a metric CRS."""
    return metric(as_layer(grids, "grids", geometry=None, missing="drop"))


def interactive_map(
    grids: gpd.GeoDataFrame,
    *,
    roads: gpd.GeoDataFrame | None = None,
    rivers: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    findings: Any = None,
    heatmap: Any = None,
    points: gpd.GeoDataFrame | Mapping[str, gpd.GeoDataFrame] | None = None,
    tiles: str | None = None,
    labels: bool | str = True,
    out: str | Path | None = None,
    color: str | None = None,
    title: str | None = None,
    simplify_m: float = 1.0,
    max_points: int = 5000,
    label_zoom: int | None = None,
    seed: int = 0,
) -> Any:
    """Interactive folium map of a grid plan, ready to be written as one offline HTML file.

    Parameters
    ----------
    grids
        The plan (``grid_code``, ``grid_name``, ``community_code``, ``kind``, ``households``,
        ``population``, polygons) in any CRS; reprojected to EPSG:4326 for display.
    roads, rivers
        Drawn as a light base layer under the grids (no tiles needed).
    communities
        Community outlines (and names at the overview zoom); without it, outlines are the
        unions of the grids per ``community_code``.
    findings
        Validation findings: a :class:`~gridgis.findings.ValidationReport` or a GeoDataFrame
        with ``severity``, ``rule``, ``message``; errors red, warnings orange.
    heatmap
        A folium layer (e.g. :func:`gridgis.render.heatmap_web.heatmap_overlay`) or a
        :class:`gridgis.events.Raster`.
    points
        Address or event points (GeoDataFrame, or ``{layer name: GeoDataFrame}``) as circle
        markers (events colored by urgency). At most ``max_points`` per layer are drawn (a
        seeded random sample); the layer name then says how many of how many.
    tiles
        None (default): no tile layer, plain background. A folium tile name
        (``"OpenStreetMap"``, ``"CartoDB positron"`` …) or URL template adds online tiles.
    labels
        True: grid serials (last 3 code digits) from a middle zoom, grid names from a closer one,
        community names at the overview. ``"code"``: full codes instead of names; a column name:
        that column; False: none.
    out
        When given, the map is written there with :func:`gridgis.render.assets.save_offline`.
    color
        None: by community. A column name: classes of a numeric column, or one color per
        category (``kind`` …), with a legend.
    title
        Optional title shown at the top.
    simplify_m
        Display simplification tolerance in metres (grids keep shared edges).
    label_zoom
        Zoom from which grid labels show (default: where the serials fit the median grid);
        before it, community names show where they fit. Every label shows only once it fits
        inside its grid (names at least two levels after ``label_zoom`` when given).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> m = interactive_map(grids, color="households", out="plan.html")  # doctest: +SKIP
    """
    import folium

    grids_m = _metric_grids(grids)
    g = to_wgs84(grids_m, "grids", simplify_m=simplify_m, coverage=True)
    west, south, east, north = g.total_bounds
    m = _new_map(g, tiles)
    _add_base(m, roads, rivers, simplify_m)
    legend = _add_grids(m, g, grids_m, color, 0.62 if heatmap is None else 0.3)  # heatmap shows through
    cm_m = _community_layer(grids_m, communities)
    _add_outlines(m, cm_m, simplify_m)
    _add_overlays(m, heatmap, findings, points, max_points, seed)
    if labels:
        named = communities is not None and len(communities) > 0 and "name" in communities.columns
        _add_labels(m, grids_m, cm_m, named, labels, (south + north) / 2, label_zoom)
    if legend:
        items = "".join(f"<div><i style='background:{c}'></i>{html_mod.escape(t)}</div>"
                        for c, t in legend)
        head = html_mod.escape(alias(color))
        m.get_root().html.add_child(panel(f"<b>{head}</b>{items}", "gg-legend"))
    if title:
        m.get_root().html.add_child(panel(html_mod.escape(title), "gg-title"))
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[south, west], [north, east]], padding=(10, 10))
    if out is not None:
        save_offline(m, out, allow_online_tiles=tiles is not None)
    return m
