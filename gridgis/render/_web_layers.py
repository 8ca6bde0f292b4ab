"""folium pieces of the interactive grid map: zoom-dependent labels, point layers, findings.

Public within the render package; user code calls :func:`gridgis.render.web.interactive_map`.
"""

from __future__ import annotations

import html as html_mod
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._geometry import present
from .._inputs import as_layer
from ..errors import SchemaError
from ..i18n import N_, _, tr
from ._common import COORD_DECIMALS, js_json, template, to_wgs84
from .assets import CJK_CHARS

__all__ = [
    "ALIASES", "NO_ZOOM", "alias", "SEVERITY_COLORS", "add_points", "as_findings", "css_element", "fit_zoom",
    "grid_label_rows", "label_layer", "label_room", "panel", "text_px", "to_latlon",
]

#: Column → its label in tooltips and legends (English message ids; see :func:`alias`).
ALIASES = {
    schema.GRID_CODE: N_("Grid code"), schema.GRID_NAME: N_("Grid name"),
    schema.HOUSEHOLDS: N_("Households"), schema.POPULATION: N_("Population"),
    "kind_zh": N_("Grid kind"), schema.COMMUNITY_CODE: N_("Community code"),
    schema.EVENT_ID: N_("Event ID"), schema.ADDRESS_ID: N_("Address ID"),
    schema.CATEGORY: N_("Event category"), schema.URGENCY: N_("Urgency"),
    schema.STAGE: N_("Workflow stage"), schema.ADDRESS: N_("Address"), "status": N_("Status"),
    schema.MATCH: N_("Match"), "severity": N_("Severity"), "rule": N_("Rule"),
    "message": N_("Finding"), "grids": N_("Grids"), schema.FLAG: N_("Flag"),
}


def alias(column: object) -> str:
    """The label of ``column`` in tooltips and legends, in the language in use."""
    return _(ALIASES[column]) if column in ALIASES else str(column)
SEVERITY_COLORS = {"error": "#d7191c", "warning": "#f28e2b"}
_URGENCY_COLORS = {"一般": "#3182bd", "重要": "#fd8d3c", "重要紧急": "#d62728"}
_POINT_FIELDS = (schema.EVENT_ID, schema.ADDRESS_ID, schema.CATEGORY, schema.URGENCY, schema.STAGE,
                 schema.ADDRESS, schema.GRID_CODE, "status", schema.MATCH)
NO_ZOOM = 99  # "never" as a zoom level


# ---- page pieces ----------------------------------------------------------------------------------


def css_element(css: str) -> Any:
    """A ``<style>`` element for the page header."""
    from branca.element import Element

    return Element(f"<style>{css}</style>")


def panel(inner: str, cls: str) -> Any:
    """A floating panel (title, legend) over the map."""
    from branca.element import Element

    return Element(f'<div class="gg-panel {cls}">{inner}</div>')


# ---- label placement ------------------------------------------------------------------------------


def fit_zoom(room_m: np.ndarray, width_px: np.ndarray, lat: float) -> np.ndarray:
    """Smallest zoom at which a label ``width_px`` wide fits into ``room_m`` metres."""
    base = 156543.03392 * max(math.cos(math.radians(lat)), 0.05)  # metres per pixel at zoom 0
    z = np.ceil(np.log2(base * np.asarray(width_px, float) / np.maximum(room_m, 0.5)))
    return np.clip(z, 0, 22).astype(int)


def label_room(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label points (centres of the largest inscribed circles) and the room there (diameter, m)."""
    try:
        lines = shapely.maximum_inscribed_circle(geoms, 1.0)
        pts = shapely.get_point(lines, 0)
        room = 2.0 * shapely.length(lines)
    except shapely.errors.GEOSException:
        pts = shapely.point_on_surface(geoms)
        room = np.sqrt(shapely.area(geoms))
    bad = ~present(pts)
    if bad.any():
        pts[bad] = shapely.point_on_surface(geoms[bad])
        room[bad] = np.sqrt(shapely.area(geoms[bad]))
    return pts, np.nan_to_num(room, nan=0.0)


def text_px(texts: pd.Series, size: float) -> np.ndarray:
    """Approximate rendered width of labels: CJK characters one em, others 0.6 em."""
    s = texts.astype(str)
    wide = s.str.count(CJK_CHARS.pattern).to_numpy()
    return (wide + 0.6 * (s.str.len().to_numpy() - wide)) * size + 8


def to_latlon(points: np.ndarray, crs: Any) -> np.ndarray:
    """``[[lat, lon], ...]`` of shapely points in ``crs``, rounded."""
    pts = gpd.GeoSeries(points, crs=crs).to_crs(4326)
    return np.round(np.column_stack([pts.y, pts.x]), COORD_DECIMALS)


def _label_texts(grids_m: gpd.GeoDataFrame, labels: bool | str) -> tuple[pd.Series, pd.Series]:
    """Short (serial) and long (name/code/column) label text of every grid."""
    n = len(grids_m)
    code = (grids_m[schema.GRID_CODE].astype(str) if schema.GRID_CODE in grids_m.columns
            else pd.Series([str(i + 1) for i in range(n)], index=grids_m.index))
    if labels is True or labels == "name":
        long_text = (grids_m[schema.GRID_NAME].astype(str) if schema.GRID_NAME in grids_m.columns
                     else code)
        return code.str[-3:], long_text
    if labels == "code":
        return code, code
    if isinstance(labels, str) and labels in grids_m.columns:
        text = grids_m[labels].astype(str)
        return text, text
    raise SchemaError(tr("labels={labels!r}: not True/False, 'name', 'code' or a column of "
                         "grids",
                         labels=labels),
                      fix=_("use labels='name', labels='code' or an existing column name"))


def grid_label_rows(grids_m: gpd.GeoDataFrame, labels: bool | str, lat: float,
                    label_zoom: int | None) -> tuple[list[list[Any]], int]:
    """Label rows for the grids and the zoom from which grid detail starts (community labels
    give way there): the zoom at which the short labels fit the median grid, or ``label_zoom``."""
    pts, room = label_room(np.asarray(grids_m.geometry.array))
    latlon = to_latlon(pts, grids_m.crs)
    short_text, long_text = _label_texts(grids_m, labels)
    short_fit = fit_zoom(room, text_px(short_text, 11.0), lat)
    long_fit = fit_zoom(room, text_px(long_text, 11.0), lat)
    detail = int(np.median(short_fit)) if label_zoom is None else int(label_zoom)
    short_from = np.maximum(short_fit, detail)
    long_from = np.maximum(long_fit, detail + (1 if label_zoom is None else 2))
    esc = html_mod.escape
    rows = [[float(a), float(b), "",
             f'<div class="gg-in"><span class="gg-s">{esc(s)}</span><span class="gg-l">{esc(t)}</span></div>',
             [int(z0), int(z1), int(z1)]]
            for (a, b), s, t, z0, z1 in zip(latlon, short_text, long_text, short_from, long_from,
                                            strict=True)]
    return rows, detail


def label_layer(rows: list[list[Any]], *, name: str | None = None, show: bool = True) -> Any:
    """A folium layer of permanent labels (HTML, not interactive), each shown by zoom level.

    A row is ``[lat, lon, css class, html, [short from, short until, long from]]``.
    """
    name = _("Labels") if name is None else name
    import folium
    from branca.element import Template

    class GridLabels(folium.map.Layer):
        _template = Template(template("grid_labels.js.j2"))

        def __init__(self) -> None:
            super().__init__(name=name, overlay=True, control=True, show=show)
            self._name = "GridLabels"
            self.rows_json = js_json(rows)

    return GridLabels()


# ---- points and findings --------------------------------------------------------------------------


def _point_layer(rows: list[list[Any]], colors: list[str], fields: list[str], *, name: str,
                 pane: str, radius: float = 3.5) -> Any:
    """Many points as canvas circle markers; compact rows, tooltips built on hover."""
    import folium
    from branca.element import Template

    class PointLayer(folium.map.Layer):
        _template = Template(template("point_layer.js.j2"))

        def __init__(self) -> None:
            super().__init__(name=name, overlay=True, control=True, show=True)
            self._name = "PointLayer"
            self.rows_json = js_json(rows)
            self.colors, self.fields = colors, fields
            self.pane, self.radius = pane, float(radius)

    return PointLayer()


def _sample_points(pts: gpd.GeoDataFrame, name: str, max_points: int,
                   seed: int) -> tuple[gpd.GeoDataFrame, str]:
    """Located points (a seeded sample of ``max_points`` when more) and the layer's name."""
    total = len(pts)
    pts = pts[present(pts.geometry.array)]
    if (~pts.geom_type.isin(["Point"])).any():
        pts = pts.set_geometry(pts.geometry.representative_point())
    n_located = len(pts)
    if n_located > max_points:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(n_located, size=max_points, replace=False))
        return pts.iloc[keep], tr("{name} (showing {shown:,} of {total:,})", name=name,
                                  shown=max_points, total=total)
    if n_located < total:
        return pts, tr("{name} ({located:,} of {total:,} have coordinates)", name=name,
                       located=n_located, total=total)
    return pts, name


def add_points(m: Any, name: str, pts: gpd.GeoDataFrame, max_points: int, seed: int,
               color: str = "#6a3d9a") -> None:
    """Add address or event points to ``m`` (events colored by urgency)."""
    pts, label = _sample_points(as_layer(pts, name, geometry=None, missing="keep",
                                         allow_empty=True, normalize=False),
                                name, max_points, seed)
    pts = to_wgs84(pts, name)
    fields = [c for c in _POINT_FIELDS if c in pts.columns][:4]
    if schema.URGENCY in pts.columns:
        levels = list(schema.URGENCY_LEVELS)
        colors = [_URGENCY_COLORS.get(u, "#555555") for u in levels] + ["#555555"]
        ci = pts[schema.URGENCY].astype(str).map({u: i for i, u in enumerate(levels)})
        ci = ci.fillna(len(levels)).astype(int).to_numpy()
    else:
        colors, ci = [color], np.zeros(len(pts), dtype=int)
    lat = np.round(pts.geometry.y.to_numpy(), COORD_DECIMALS)
    lon = np.round(pts.geometry.x.to_numpy(), COORD_DECIMALS)
    cols = [pts[f].astype(object).where(pts[f].notna(), "").astype(str).tolist() for f in fields]
    rows = [[float(a), float(b), int(c), *vals]
            for a, b, c, *vals in zip(lat, lon, ci, *cols, strict=True)]
    _point_layer(rows, colors, [alias(f) for f in fields], name=label,
                 pane="gg-points").add_to(m)


def as_findings(findings: Any) -> gpd.GeoDataFrame:
    """Validation findings as a GeoDataFrame with ``severity``, ``rule`` and ``message``."""
    if hasattr(findings, "to_geodataframe"):
        findings = findings.to_geodataframe()
    gdf = as_layer(findings, "findings", geometry=None, missing="keep", allow_empty=True,
                   normalize=False)
    for col in ("severity", "rule", "message"):
        if col not in gdf.columns:
            raise SchemaError(tr("findings: column {col!r} is missing", col=col),
                              fix=_("pass ValidationReport.to_geodataframe() or a layer with "
                                    "severity, rule and message columns"))
    return gdf
