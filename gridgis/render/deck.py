"""Interactive 2.5D grid map (deck.gl extruded polygons) as ONE offline HTML file.

:func:`deck_map_25d` builds a :class:`pydeck.Deck` — grids as a ``PolygonLayer`` extruded by an
attribute, optional buildings extruded by ``floors × 3 m`` standing on their grid's roof, and
the plan's roads/rivers as ``PathLayer`` base lines — with no Mapbox/CARTO basemap, and writes
it into a page that carries its own copy of deck.gl (``gridgis/render/js/deckgl``: the
``deck.gl`` standalone bundle and ``@deck.gl/json``, version 9.3 as expected by pydeck 0.9).
The page converts pydeck's JSON with deck.gl's ``JSONConverter`` exactly as pydeck's own
template does, so the layers behave the same; it just needs no CDN, no token and no network.

Drag to pan, right-drag (or ctrl-drag) to rotate and tilt, scroll to zoom; hover a grid for its
code, name, households and population.
"""

from __future__ import annotations

import html as html_mod
import json
import math
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._geometry import explode
from .._inputs import POLYGONS, as_layer, metric
from ..errors import GridGISError, SchemaError
from ..i18n import N_, _, tr
from ..writing import write_text
from ._common import hex_to_rgb, js_json, template, to_wgs84
from .assets import ASSET_DIR, insert_head, offline_html
from .colors import grid_fills, kind_names
from .static25d import FLOOR_HEIGHT_M

__all__ = ["deck_map_25d", "deck_html", "FLOOR_HEIGHT_M"]


_TOOLTIP_FIELDS = (
    (schema.GRID_CODE, N_("Grid code")), (schema.GRID_NAME, N_("Grid name")),
    (schema.HOUSEHOLDS, N_("Households")), (schema.POPULATION, N_("Population")),
    ("kind_zh", N_("Grid kind")),
)


def _polygons(geoms: np.ndarray, z: np.ndarray | None = None) -> tuple[np.ndarray, list[list]]:
    """deck.gl polygons of (multi)polygons: for each polygon part, its rings without the closing
    vertex (outer ring first, then holes), optionally with a per-geometry z as third coordinate.

    Returns the index of the source geometry of each part and the list of parts.
    """
    parts, owner = explode(geoms, min_area=0.0)  # polygon parts only
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    if z is not None:
        coords = np.column_stack([coords, np.round(z[owner][ring_part][coord_ring], 1)])
    bounds = np.flatnonzero(np.diff(coord_ring)) + 1
    per_ring = np.split(coords, bounds)
    out: list[list] = [[] for _ in range(len(parts))]
    for r, xy in zip(ring_part.tolist(), per_ring, strict=True):
        out[r].append(xy[:-1].tolist())  # deck.gl closes rings itself
    return owner, out


def _heights(gdf: gpd.GeoDataFrame, height: Any, max_height: float, base: float) -> np.ndarray:
    n = len(gdf)
    if height is None:
        return np.full(n, base)
    if isinstance(height, (int, float)):
        return np.full(n, float(height))
    if height not in gdf.columns:
        raise SchemaError(tr("grids: no column {height!r} for the heights", height=height),
                          fix=tr("pass a numeric column (households, population, n_events …) "
                                 "or a number"))
    v = pd.to_numeric(gdf[height], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(v).any():
        return np.full(n, base)
    top = np.nanmax(np.where(np.isfinite(v), v, np.nan))
    v = np.where(np.isfinite(v), np.maximum(v, 0), 0)
    return base + (v / top if top > 0 else v) * max_height


def _rgba(colors: pd.Series, alpha: int) -> list[list[int]]:
    return [[*hex_to_rgb(c), alpha] for c in colors]


def _view(bounds: np.ndarray, width: int, height: int, pitch: float, bearing: float) -> dict:
    west, south, east, north = bounds
    lat = (south + north) / 2
    x = lambda lon: (lon + 180) / 360  # noqa: E731
    y = lambda la: (1 - math.log(math.tan(math.radians(la)) + 1 / math.cos(math.radians(la))) / math.pi) / 2  # noqa: E731
    span_x = max(x(east) - x(west), 1e-9)
    span_y = max(y(south) - y(north), 1e-9)
    zoom = math.log2(min(width / (256 * span_x), height / (256 * span_y))) - 0.7 * pitch / 60
    return {"latitude": lat, "longitude": (west + east) / 2, "zoom": round(zoom, 2),
            "pitch": pitch, "bearing": bearing, "maxPitch": 85}


def deck_map_25d(
    grids: gpd.GeoDataFrame,
    *,
    height: str | float | None = "households",
    color: str | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    rivers: gpd.GeoDataFrame | None = None,
    out: str | Path | None = None,
    title: str | None = None,
    max_height: float = 200.0,
    base_height: float = 20.0,
    pitch: float = 50.0,
    bearing: float = -15.0,
    simplify_m: float = 1.0,
    gap_m: float = 8.0,
) -> str | Path:
    """Interactive 2.5D map of a plan: grids extruded by an attribute, one offline HTML file.

    Parameters
    ----------
    grids
        The plan (any CRS; shown in EPSG:4326).
    height
        Column giving each grid's height (scaled so the largest is ``base_height +
        max_height`` metres), a constant height in metres, or None (``base_height``).
    color
        None: by community (neighbours in different hues, as in the folium map). A column name:
        classes of a numeric column or one color per category.
    buildings
        Buildings (``floors`` column; missing → 1) extruded ``floors × 3 m`` on top of the roof
        of the grid holding their representative point.
    roads, rivers
        Drawn as flat lines under the grids (no basemap tiles are used).
    out
        Path of the HTML file to write. Without it the HTML text is returned.
    title
        Optional title shown in a corner.
    max_height, base_height
        Height range of the grid slabs in metres.
    pitch, bearing
        Initial camera tilt and rotation (degrees).
    simplify_m
        Display simplification tolerance in metres.
    gap_m
        Slabs are inset by half of this on every side so streets show between them (0: none).

    Returns
    -------
    pathlib.Path or str
        ``out`` when given, else the page.

    Examples
    --------
    >>> deck_map_25d(grids, height="population", buildings=buildings, out="plan25d.html")  # doctest: +SKIP
    PosixPath('plan25d.html')
    """
    import pydeck as pdk

    grids_m = _metric_grids(grids)
    g = to_wgs84(_inset(grids_m, gap_m), "grids", simplify_m=simplify_m, coverage=gap_m <= 0)
    h = _heights(grids_m, height, max_height, base_height)
    fills, legend = grid_fills(grids_m, color)
    layers, data = _line_layers(pdk, roads, rivers, simplify_m)
    data["grids"] = _grid_rows(grids_m, g, h, fills)
    layers.append(pdk.Layer(
        "PolygonLayer", data=[], id="grids", get_polygon="p", get_elevation="h",
        get_fill_color="c", get_line_color=[255, 255, 255, 255], line_width_min_pixels=1,
        extruded=True, wireframe=True, stroked=True, filled=True, pickable=True,
        auto_highlight=True, highlight_color=[255, 255, 255, 90],
        material={"ambient": 0.45, "diffuse": 0.6, "shininess": 16, "specularColor": [40, 40, 40]},
    ))
    if buildings is not None and len(buildings):
        layer, data["buildings"] = _building_layer(pdk, buildings, grids_m, h, simplify_m)
        layers.append(layer)
    view = _view(g.total_bounds, 1200, 800, pitch, bearing)
    deck = pdk.Deck(layers=layers, initial_view_state=pdk.ViewState(**view), map_style=None,
                    map_provider=None, views=[pdk.View("MapView", controller=True)])
    spec = json.loads(deck.to_json())
    for layer in spec["layers"]:  # data added after pydeck's (pure-Python, indented) encoder
        layer["data"] = data[layer["id"]]
    for key in ("mapStyle", "mapProvider", "mapboxKey", "googleMapsKey"):
        spec.pop(key, None)
    tooltips = {
        "grids": [[_(label), key] for key, label in _TOOLTIP_FIELDS
                  if key in grids_m.columns or key == "kind_zh"],
        "buildings": [[_("Building"), schema.BUILDING_ID], [_("Floors"), schema.FLOORS],
                      [_("Households"), schema.HOUSEHOLDS]],
    }
    hint = _("drag to pan · right-drag to rotate/tilt · wheel to zoom")
    if isinstance(height, str):
        hint = tr("height: {what} · ", what=_label(height)) + hint
    west, south, east, north = (float(v) for v in g.total_bounds)
    page = deck_html(spec, tooltips=tooltips, title=title, legend=legend,
                     legend_title=_label(color) if color else None, hint=hint,
                     fit=(west, south, east, north, 0.3 * pitch / 60))
    if out is None:
        return page
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, page)
    return out


def _metric_grids(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The plan checked, with normalised columns, rows with a geometry only, in a metric CRS."""
    return metric(as_layer(grids, "grids", geometry=None, missing="drop"))


def _inset(grids_m: gpd.GeoDataFrame, gap_m: float) -> gpd.GeoDataFrame:
    """Slabs drawn slightly inset so streets show between them (grids too thin stay whole)."""
    if gap_m <= 0:
        return grids_m
    whole = np.asarray(grids_m.geometry.array)
    inset = shapely.buffer(whole, -gap_m / 2, join_style="mitre")
    keep = ~shapely.is_empty(inset)
    inset[~keep] = whole[~keep]
    return grids_m.set_geometry(gpd.GeoSeries(inset, index=grids_m.index, crs=grids_m.crs))


def _grid_rows(grids_m: gpd.GeoDataFrame, g: gpd.GeoDataFrame, h: np.ndarray,
               fills: pd.Series) -> list[dict[str, Any]]:
    """One row per polygon part: ring coordinates, height, colour and tooltip attributes."""
    names = kind_names()
    rgba = _rgba(fills, 255)
    pos = grids_m.index.get_indexer(g.index)
    attrs = _records(grids_m, [k for k, _ in _TOOLTIP_FIELDS])
    if schema.KIND in grids_m.columns:
        for rec, k in zip(attrs, grids_m[schema.KIND].astype(str), strict=True):
            rec["kind_zh"] = names.get(k, k)
    owner, polys = _polygons(np.asarray(g.geometry.array))
    return [{"p": poly, "h": round(float(h[pos[i]]), 1), "c": rgba[pos[i]], **attrs[pos[i]]}
            for i, poly in zip(owner.tolist(), polys, strict=True)]


def _line_layers(pdk: Any, roads: gpd.GeoDataFrame | None, rivers: gpd.GeoDataFrame | None,
                 simplify_m: float) -> tuple[list[Any], dict[str, list]]:
    """Flat ``PathLayer``s of rivers and roads, and their data by layer id."""
    layers: list[Any] = []
    data: dict[str, list] = {}
    for layer_name, lines, style in (("rivers", rivers, ([156, 195, 230], 30.0)),
                                     ("roads", roads, ([190, 186, 178], 8.0))):
        if lines is None or len(lines) == 0:
            continue
        ln = to_wgs84(lines, layer_name, simplify_m=simplify_m)
        paths = []
        for geom in ln.geometry:
            for part in shapely.get_parts(geom):
                if part.geom_type == "LineString" and not part.is_empty:
                    paths.append({"p": np.asarray(part.coords)[:, :2].tolist()})
                elif part.geom_type == "Polygon":
                    paths.append({"p": np.asarray(part.exterior.coords)[:, :2].tolist()})
        width = style[1]
        if layer_name == "rivers" and "width_m" in ln.columns:
            width = float(pd.to_numeric(ln["width_m"], errors="coerce").median() or width)
        data[layer_name] = paths
        layers.append(pdk.Layer("PathLayer", data=[], id=layer_name, get_path="p",
                                get_color=style[0], get_width=width, width_min_pixels=1,
                                pickable=False))
    return layers, data


def _plain(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return round(float(v), 2)
    if isinstance(v, (int, float, str, bool)):
        return v
    return str(v)


def _records(df: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Row dicts of the given columns (those present), as plain JSON values."""
    cols = [c for c in columns if c in df.columns]
    values = [[_plain(v) for v in df[c].tolist()] for c in cols]
    return [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)] if cols \
        else [{} for _ in range(len(df))]


def _label(col: str | None) -> str:
    return {schema.HOUSEHOLDS: _("Households"), schema.POPULATION: _("Population"),
            schema.KIND: _("Grid kind"), "n_events": _("Events")}.get(col or "", str(col))


def _building_layer(pdk: Any, buildings: gpd.GeoDataFrame, grids_m: gpd.GeoDataFrame,
                    grid_heights: np.ndarray, simplify_m: float) -> tuple[Any, list[dict]]:
    b = metric(as_layer(buildings, "buildings", geometry=None, missing="drop", allow_empty=True),
               grids_m.crs)
    b = b[b.geom_type.isin(POLYGONS)]  # point buildings have no footprint to extrude
    floors = (pd.to_numeric(b[schema.FLOORS], errors="coerce").fillna(1).clip(lower=1).to_numpy()
              if schema.FLOORS in b.columns else np.ones(len(b)))
    # the roof each building stands on: grid holding its representative point
    tree = shapely.STRtree(np.asarray(grids_m.geometry.array))
    pts = shapely.point_on_surface(np.asarray(b.geometry.array))
    src, dst = tree.query(pts, predicate="within")
    roof = np.zeros(len(b))
    roof[src] = grid_heights[dst]
    bw = to_wgs84(b, "buildings", simplify_m=min(simplify_m, 0.5))
    pos = b.index.get_indexer(bw.index)
    attrs = _records(b, [schema.BUILDING_ID, schema.FLOORS, schema.HOUSEHOLDS])
    height = np.round(floors * FLOOR_HEIGHT_M, 1)
    owner, polys = _polygons(np.asarray(bw.geometry.array), z=roof[pos])
    rows = [{"p": poly, "h": float(height[pos[i]]), **attrs[pos[i]]}
            for i, poly in zip(owner.tolist(), polys, strict=True)]
    return pdk.Layer(
        "PolygonLayer", data=[], id="buildings", get_polygon="p", get_elevation="h",
        get_fill_color=[236, 232, 224, 255], get_line_color=[120, 120, 120, 255],
        extruded=True, wireframe=False, pickable=True, auto_highlight=True,
        material={"ambient": 0.5, "diffuse": 0.6, "shininess": 8, "specularColor": [30, 30, 30]},
    ), rows


def _deck_js() -> str:
    parts = []
    for rel in ("deckgl/deck.gl.min.js", "deckgl/deck.gl-json.min.js"):
        path = ASSET_DIR / rel
        if not path.exists():
            raise GridGISError(tr("vendored deck.gl bundle {rel} is missing from {ASSET_DIR}",
                                  rel=rel, ASSET_DIR=ASSET_DIR),
                               fix=tr("reinstall gridgis (package data gridgis/render/js)"))
        parts.append(path.read_text(encoding="utf-8").replace("</script", "<\\/script"))
    core, json_bundle = parts
    # the @deck.gl/json bundle reads deck.gl from globalThis.deck, then replaces it with its own
    # exports: keep both
    return (f"<script>{core}</script>\n<script>window.__gridgisDeckCore = window.deck;</script>\n"
            f"<script>{json_bundle}</script>\n"
            "<script>window.deck = Object.assign({}, window.__gridgisDeckCore, window.deck);</script>")


def deck_html(
    spec: dict[str, Any],
    *,
    tooltips: dict[str, list[list[str]]] | None = None,
    title: str | None = None,
    legend: list[tuple[str, str]] | None = None,
    legend_title: str | None = None,
    hint: str | None = None,
    fit: tuple[float, float, float, float, float] | None = None,
) -> str:
    """A self-contained page rendering a pydeck/deck.gl JSON ``spec`` (``Deck.to_json()``).

    ``tooltips`` maps layer ids to ``[[label, field], ...]`` shown on hover. ``fit``
    ``(west, south, east, north, zoom_out)`` fits the initial view to those bounds in whatever
    window the page is opened, then zooms out by ``zoom_out`` (room for a tilted view). The page
    inlines
    the vendored deck.gl bundle and, when it holds Chinese text, the bundled CJK font subset.

    Examples
    --------
    >>> page = deck_html(json.loads(pydeck_deck.to_json()), title="网格")  # doctest: +SKIP
    """
    esc = html_mod.escape
    panels = []
    if title:
        panels.append(f'<div class="gg-panel gg-title">{esc(title)}</div>')
    if hint:
        panels.append(f'<div class="gg-panel gg-hint">{esc(hint)}</div>')
    if legend:
        items = "".join(f"<div><i style='background:{c}'></i>{esc(t)}</div>" for c, t in legend)
        head = f"<b>{esc(legend_title)}</b>" if legend_title else ""
        panels.append(f'<div class="gg-panel gg-legend">{head}{items}</div>')
    fills = {
        "__TITLE__": esc(title or "gridgis 2.5D"),
        "__PANELS__": "\n".join(panels),
        "__SPEC__": js_json(spec),
        "__TOOLTIPS__": js_json(tooltips or {}),
        "__FIT__": js_json([[fit[0], fit[1]], [fit[2], fit[3]], fit[4]] if fit else None),
    }
    page = re.sub("|".join(fills), lambda m: fills[m.group(0)], template("deck.html"))
    # CJK font subset + the check that nothing loads from outside (on the page without the
    # library, whose code merely mentions URLs it never loads here)
    page = offline_html(page)
    return insert_head(page, _deck_js())
