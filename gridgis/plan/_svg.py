"""A small self-contained SVG map of a plan and its findings (for notebooks; no network)."""

from __future__ import annotations

import html
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from .. import schema
from .._geometry import polygonal, present
from ..errors import SchemaError
from ..i18n import tr
from ..people import header, value
from ..schema import BASIC
from ..validation import ERROR, WARNING, Finding
from ..validation.catalogue import rule_title

__all__ = ["svg_map"]


def svg_map(grids: gpd.GeoDataFrame, findings: list[Finding],
            communities: gpd.GeoDataFrame | None, width: int, height: int,
            community: str | None = None) -> str:
    """HTML with an inline SVG map of ``grids`` (metric CRS) coloured by their worst finding,
    community lines and finding geometries; ``community`` zooms to one community.

    Examples
    --------
    >>> page = svg_map(plan.state.grids, plan.findings, None, 640, 480)  # doctest: +SKIP
    """
    g = grids
    geoms = np.asarray(g.geometry.array, dtype=object)
    ok = present(geoms)
    if not ok.any():
        return "<p>empty plan</p>"
    focus = ok
    if community is not None:
        focus = ok & (g[schema.COMMUNITY_CODE].to_numpy(object) == str(community))
        if not focus.any():
            raise SchemaError(tr("no grid in community {community!r}", community=community), where=str(community))
    x0, y0, x1, y1 = shapely.total_bounds(geoms[focus])
    if community is not None:  # a margin, and only what shows
        m = 0.05 * max(x1 - x0, y1 - y0)
        x0, y0, x1, y1 = x0 - m, y0 - m, x1 + m, y1 + m
        ok = ok & shapely.intersects(geoms, shapely.box(x0, y0, x1, y1))
        findings = [f for f in findings if f.geometry is None or
                    shapely.intersects(f.geometry, shapely.box(x0, y0, x1, y1))]
    pad = 8
    scale = min((width - 2 * pad) / max(x1 - x0, 1e-9), (height - 2 * pad) / max(y1 - y0, 1e-9))
    h = int(math.ceil((y1 - y0) * scale + 2 * pad))

    def path(geom: BaseGeometry) -> str:
        simple = shapely.simplify(geom, 0.7 / scale)
        parts = []
        for poly in shapely.get_parts(simple):
            if poly.geom_type != "Polygon":
                continue
            for ring in (poly.exterior, *poly.interiors):
                xy = np.asarray(ring.coords)
                px = np.round((xy[:, 0] - x0) * scale + pad, 1)
                py = np.round((y1 - xy[:, 1]) * scale + pad, 1)
                pts = " ".join(f"{a:g},{b:g}" for a, b in zip(px, py, strict=True))
                parts.append(f"M{pts}Z")
        return "".join(parts)

    worst: dict[str, str] = {}
    notes: dict[str, list[str]] = {}
    for f in findings:
        for code in f.grids:
            if worst.get(code) != ERROR:
                worst[code] = f.severity
            notes.setdefault(code, []).append(f"[{value('severity', f.severity)}] {rule_title(f.rule)}")
    fills = {ERROR: "#f3a5a5", WARNING: "#ffe28a"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
           f'viewBox="0 0 {width} {h}" style="background:#fafafa;font:11px sans-serif">']
    for i in np.flatnonzero(ok):
        row = g.iloc[i]
        code = str(row[schema.GRID_CODE])
        fill = fills.get(worst.get(code, ""), "#dbe9f6" if row[schema.KIND] != BASIC
                         else "#e3f0da")
        hh = row[schema.HOUSEHOLDS]
        tip = [f"{code} {row[schema.GRID_NAME]}",
               tr("{column}: {value}", column=header(schema.KIND), value=value(schema.KIND, row[schema.KIND])),
               tr("{column}: {value}", column=header(schema.HOUSEHOLDS),
                  value="" if pd.isna(hh) else int(round(hh)))]
        tip += notes.get(code, [])[:6]
        out.append(f'<path d="{path(geoms[i])}" fill="{fill}" stroke="#555" '
                   f'stroke-width="0.6" fill-rule="evenodd"><title>'
                   f'{html.escape(chr(10).join(tip))}</title></path>')
    if communities is not None:
        cg = np.asarray(communities.geometry.array, dtype=object)
        cg = cg[shapely.intersects(cg, shapely.box(x0, y0, x1, y1))]
        out.append(f'<path d="{"".join(path(c) for c in cg)}" fill="none" stroke="#222" '
                   f'stroke-width="1.6" pointer-events="none"/>')
    shown = 0
    for f in findings:
        if f.geometry is None or f.geometry.is_empty or shown >= 200:
            continue
        colour = "#d62728" if f.severity == ERROR else "#e69500"
        tip = html.escape(f"[{value('severity', f.severity)}] {rule_title(f.rule)}: {f.message}")
        geom = f.geometry
        if geom.geom_type in ("Point", "MultiPoint"):
            for p in shapely.get_parts(geom)[:20]:
                cx = (p.x - x0) * scale + pad
                cy = (y1 - p.y) * scale + pad
                out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{colour}">'
                           f'<title>{tip}</title></circle>')
        else:
            poly = polygonal(np.array([geom], dtype=object))[0]
            if poly.is_empty:
                continue
            out.append(f'<path d="{path(poly)}" fill="{colour}" fill-opacity="0.35" '
                       f'stroke="{colour}" stroke-width="1.5"><title>{tip}</title></path>')
        shown += 1
    out.append("</svg>")
    n_err = sum(1 for f in findings if f.severity == ERROR)
    head = "<p>" + html.escape(tr(
        "{grids} grids, {errors} errors, {warnings} warnings (hover a grid for details; red: "
        "errors, yellow: warnings)", grids=len(g), errors=n_err,
        warnings=len(findings) - n_err)) + "</p>"
    return f'<div style="max-width:{width}px">{head}{"".join(out)}</div>'
