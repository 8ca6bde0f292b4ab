"""The cover and the district overview page of the atlas (:mod:`gridgis.render.atlas`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from .. import schema
from .atlas import AtlasPage, atlas_text, draw_plan_map
from .labels import place_labels
from .layout import (
    draw_footer,
    draw_legend,
    draw_north_arrow,
    draw_page_number,
    draw_scale_bar,
    fit_scale,
    format_date,
    new_page,
)

__all__ = ["cover_page", "overview_page"]


def cover_page(a: Any, by: str, codes: list[str]) -> AtlasPage:
    """Cover: title, counts, contents (page of every unit), maker and date."""
    page = new_page(a.paper, a.orientation, title="")
    page.map_ax.remove()
    fig = page.fig
    title = atlas_text("title", district=a.district_name)
    fig.text(0.5, 0.78, title, ha="center", va="center", fontsize=3.2 * page.font,
             fontweight="bold")
    n_streets = a.units["street"].nunique()
    n_comm = a.units["community"].nunique()
    fig.text(0.5, 0.70, atlas_text("cover_sub", streets=n_streets, communities=n_comm,
                                              grids=len(a.grids)),
             ha="center", va="center", fontsize=1.4 * page.font)
    fig.text(0.5, 0.62, atlas_text("contents"), ha="center", va="center", fontsize=1.6 * page.font,
             fontweight="bold")
    entries = [(atlas_text("overview", district=a.district_name), 2)]
    entries += [(atlas_text("unit_with_code", name=a.names.get(c, c), code=c), i + 3)
                for i, c in enumerate(codes)]
    ncol = 1 if len(entries) <= 14 else 2 if len(entries) <= 30 else 3
    per = int(np.ceil(len(entries) / ncol))
    size = page.font * min(1.1, 16 / max(per, 1))
    for k, (label, number) in enumerate(entries):
        col, row = divmod(k, per)
        x0 = 0.5 + (col - ncol / 2) * 0.8 / ncol
        y = 0.57 - row * 0.45 / max(per, 1)
        fig.text(x0 + 0.02, y, label, ha="left", va="center", fontsize=size)
        fig.text(x0 + 0.8 / ncol - 0.02, y, atlas_text("page", n=number), ha="right",
                 va="center", fontsize=size, color="#444444")
    fig.text(0.5, 0.09, atlas_text("maker_line",
        maker=a.maker, date=format_date(a.when)), ha="center", va="center",
        fontsize=1.2 * page.font)
    return AtlasPage("cover", "", title, fig)


def overview_page(a: Any, number: int) -> AtlasPage:
    """The whole district at a round scale: every grid in its colour, communities named on the
    map, and a list of the communities (any number) in the side panel."""
    page = new_page(a.paper, a.orientation, title=atlas_text("overview", district=a.district_name),
                    panel_share=0.3)
    ax = page.map_ax
    g = a.grids
    scale = fit_scale(ax, tuple(g.total_bounds))
    focus = np.ones(len(g), dtype=bool)
    draw_plan_map(ax, g, a.fills, focus=focus, context={**a.context, "roads": None})
    furniture = [draw_scale_bar(ax, page.font), draw_north_arrow(ax, page.font)]
    comm = a.context.get("communities")
    if comm is not None and len(comm):
        pts = shapely.point_on_surface(comm.geometry.to_numpy())
        names = comm[schema.NAME].astype(str).tolist() if schema.NAME in comm else \
            comm[schema.CODE].astype(str).tolist()
        placed = place_labels(ax, shapely.get_x(pts), shapely.get_y(pts), names,
                              priority=comm.geometry.area.to_numpy(), fontsize=1.05 * page.font,
                              obstacles=furniture, fontweight="bold")
    else:
        from .labels import PlacedLabels

        placed = PlacedLabels()
    left, bottom, width, height = page.panel
    legend = page.fig.add_axes([left, bottom + 0.72 * height, width, 0.28 * height])
    draw_legend(legend, [(label, style) for label, style in _overview_entries(a)], page.font,
                ncol=2)
    table = page.fig.add_axes([left, bottom, width, 0.7 * height])
    _community_list(table, a, page.font)
    draw_footer(page, maker=a.maker, when=a.when, crs=g.crs, scale=scale)
    draw_page_number(page, atlas_text("page", n=number))
    return AtlasPage("overview", "", atlas_text("overview", district=a.district_name), page.fig,
                     scale, dict(zip(g[schema.GRID_CODE].astype(str), a.fills, strict=True)),
                     placed)


def _overview_entries(a: Any) -> list[tuple[str, dict]]:
    out = [(atlas_text("grid_line"), {"facecolor": "#a6cee3", "edgecolor": "#555555", "lw": 0.5}),
           (atlas_text("special"), {"facecolor": "white", "edgecolor": "#555555", "hatch": "////"})]
    for key, label, c, lw, ls in (("communities", atlas_text("community_line"), "#333333", 1.2, "-"),
                                  ("streets", atlas_text("street_line"), "#b2182b", 2.0, "--"),
                                  ("district", atlas_text("district_line"), "#000000", 2.4, "-"),
                                  ("rivers", atlas_text("river"), "#6baed6", 2.0, "-")):
        if a.context.get(key) is not None:
            out.append((label, {"kind": "line", "color": c, "lw": lw, "linestyle": ls}))
    return out


def _community_list(ax: Any, a: Any, font: float) -> None:
    """Communities grouped by street with their grid counts and households."""
    ax.set_axis_off()
    u = a.units.assign(households=pd.to_numeric(a.grids.get(schema.HOUSEHOLDS), errors="coerce"))
    rows = u.groupby(["street", "community"]).agg(grids=("grid", "size"),
                                                  households=("households", "sum"))
    lines: list[tuple[str, bool]] = []
    for street, part in rows.groupby(level=0):
        lines.append((atlas_text("unit_with_code", name=a.names.get(street, street),
                                 code=street), True))
        for (_, c), r in part.iterrows():
            lines.append(("  " + atlas_text("community_line_item", name=a.names.get(c, c), code=c,
                                            grids=int(r["grids"]),
                                            households=f"{int(r['households']):,}"), False))
    fig = ax.figure
    height_pt = ax.get_position().height * fig.get_figheight() * 72
    size = min(0.85 * font, max(4.5, height_pt / (len(lines) + 2) / 1.4))
    line = size * 1.4 / height_pt
    ax.text(0, 1, atlas_text("communities_list"), transform=ax.transAxes, ha="left", va="top",
            fontsize=1.05 * font, fontweight="bold")
    for i, (text, bold) in enumerate(lines):
        ax.text(0, 1 - (i + 1.8) * line, text, transform=ax.transAxes, ha="left", va="top",
                fontsize=size, fontweight="bold" if bold else "normal")
