"""The atlas (网格图集): a cover, an overview page of the district, then one page per street or
community with its grids labelled and a table of its grids, ready to print.

Every page is a print layout (:mod:`gridgis.render.layout`): title, map at a round scale with
scale bar and north arrow, overview inset with a locator rectangle, legend, and a footer with
the map maker (制图单位), the date (制图日期), the coordinate system and the scale. Grids keep
the colours of the interactive map (no two neighbours alike); labels never overlap.

>>> pages = atlas_pages(plan, layers, by="community", paper="A3")   # doctest: +SKIP
>>> write_atlas(plan, layers, "atlas.pdf")                          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._inputs import POLYGONS, as_layer, metric
from ..errors import GridGISError
from ..i18n import N_, _, tr
from .colors import community_colors, kind_names
from .labels import PlacedLabels, place_labels, short_codes
from .layout import (
    Page,
    draw_footer,
    draw_inset,
    draw_legend,
    draw_north_arrow,
    draw_page_number,
    draw_scale_bar,
    fit_scale,
    new_page,
)

__all__ = ["ATLAS_TEXT", "AtlasPage", "atlas_pages", "atlas_text", "draw_grid_table", "draw_plan_map",
           "prepare_atlas", "write_atlas"]

#: Page text of the atlas (English message ids, shown through the catalogue: :func:`atlas_text`).
ATLAS_TEXT = {
    "title": N_("{district} grid management atlas"),
    "cover_sub": N_("{streets} streets (townships), {communities} communities (villages), "
                    "{grids} grids"),
    "contents": N_("Contents"),
    "overview": N_("{district}: overview of the grids"),
    "unit_title": N_("{name}: grid map"),
    "unit_sub": N_("{level} code {code}   {grids} grids   households {households}   "
                   "population {population}"),
    "street": N_("Street (township)"),
    "community": N_("Community (village)"),
    "page": N_("Page {n}"),
    "head_code": N_("Grid code"),
    "head_name": N_("Grid name"),
    "head_kind": N_("Kind"),
    "head_households": N_("Households"),
    "head_population": N_("Population"),
    "table_title": N_("List of grids"),
    "total": N_("Total ({n} grids)"),
    "more_rows": N_("… {n} more grids not listed: print by community or on larger paper"),
    "continued": N_("List of grids (continued)"),
    "grid_line": N_("Grid (neighbours differ in colour)"),
    "community_line": N_("Community boundary"),
    "street_line": N_("Street boundary"),
    "district_line": N_("District boundary"),
    "road": N_("Road"),
    "river": N_("River"),
    "special": N_("Special grid (hatched)"),
    "context": N_("Neighbouring grid"),
    "dropped": N_("{n} more labels left out for lack of room: see the list of grids"),
    "communities_list": N_("Communities (villages)"),
    "community_line_item": N_("{name}  {code}  {grids} grids  {households} households"),
    "grid_25d": N_("Grid (height by households)"),
    "building": N_("Building (height by floors)"),
    "maker_line": N_("Map maker: {maker}    Date: {date}"),
    "pdf_title": N_("Grid atlas"),
    "unit_with_code": N_("{name} (code {code})"),
}


def atlas_text(key: str, **fields: Any) -> str:
    """A text of :data:`ATLAS_TEXT` in the language in use, its fields filled.

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("zh"):
    ...     atlas_text("page", n=3)
    '第 3 页'
    """
    return tr(ATLAS_TEXT[key], **fields)


_TEXT_MODES = ("code", "name")
_COLUMNS = ("code", "name", "kind", "households", "population")


@dataclass
class AtlasPage:
    """One drawn page: what it shows, the figure, and what tests check on it.

    Attributes
    ----------
    kind
        ``"cover"``, ``"overview"`` or ``"unit"``.
    code, name
        The unit shown (empty for the cover).
    fig
        The matplotlib figure.
    scale
        Scale denominator of the main map (0 on the cover).
    colours
        Fill drawn for each grid code on the main map.
    labels
        The grid (or community) labels placed on the main map.
    """

    kind: str
    code: str
    name: str
    fig: Any
    scale: int = 0
    colours: dict[str, str] = field(default_factory=dict)
    labels: PlacedLabels = field(default_factory=PlacedLabels)


def _layer(layers: dict, name: str, crs: Any) -> gpd.GeoDataFrame | None:
    layer = layers.get(name)
    if layer is None or not len(layer):
        return None
    return metric(as_layer(layer, name, geometry=None, missing="drop", normalize=False,
                           allow_empty=True), crs)


def _fmt(v: Any) -> str:
    return "" if pd.isna(v) else f"{int(round(float(v))):,}"


def draw_plan_map(ax: Any, grids_m: gpd.GeoDataFrame, fills: pd.Series, *, focus: np.ndarray,
                  context: dict[str, gpd.GeoDataFrame | None]) -> Any:
    """Flat map of grids: ``focus`` grids filled with ``fills``, others pale; roads, rivers and
    community/street boundaries on top. Returns the grid PolyCollection (gid
    ``gridgis-grids``, faces in the order of ``grids_m[focus]``).

    Examples
    --------
    >>> coll = draw_plan_map(ax, grids_m, fills, focus=mask, context={})  # doctest: +SKIP
    """
    from matplotlib.collections import PolyCollection

    def rings(geoms: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        parts, owner = shapely.get_parts(geoms, return_index=True)
        return [np.asarray(p.exterior.coords) for p in parts], owner

    other = grids_m.geometry.to_numpy()[~focus]
    if len(other):
        polys, _ = rings(other)
        ax.add_collection(PolyCollection(polys, facecolors="#eeeeee", edgecolors="#c8c8c8",
                                         linewidths=0.3, zorder=1))
    geoms = grids_m.geometry.to_numpy()[focus]
    polys, owner = rings(geoms)
    colours = fills.to_numpy()[focus][owner]
    coll = PolyCollection(polys, facecolors=colours, edgecolors="#555555", linewidths=0.5,
                          zorder=2, gid="gridgis-grids")
    ax.add_collection(coll)
    kinds = grids_m[schema.KIND].astype(str).to_numpy()[focus] if schema.KIND in grids_m \
        else np.full(len(geoms), schema.BASIC)
    special = kinds != schema.BASIC
    if special.any():
        sp, _ = rings(geoms[special])
        ax.add_collection(PolyCollection(sp, facecolors="none", edgecolors="#555555",
                                         hatch="////", linewidths=0.0, zorder=3))
    styles = {"rivers": ("#6baed6", 2.0, 4), "roads": ("#9a9a9a", 0.6, 4),
              "communities": ("#333333", 1.2, 5), "streets": ("#b2182b", 2.2, 6),
              "district": ("#000000", 2.8, 7)}
    for name, (colour, lw, z) in styles.items():
        layer = context.get(name)
        if layer is not None and len(layer):
            geom = layer.geometry if name in ("roads", "rivers") else layer.boundary
            lw_ = lw
            if name == "roads" and schema.ROAD_CLASS in layer:
                lw_ = np.where(layer[schema.ROAD_CLASS].astype(str) == "arterial", 1.2, 0.5)
            geom.plot(ax=ax, color=colour, linewidth=lw_, zorder=z,
                      linestyle="--" if name == "streets" else "-")
    ax.set_xlabel("")
    ax.set_ylabel("")
    return coll


def draw_grid_table(ax: Any, rows: pd.DataFrame, font: float, title: str, *,
                    split: bool = True) -> int:
    """Table of grids (code, name, kind, households, population) filling ``ax``; the font
    shrinks to fit, down to 5 pt, then the rows run on in a second block beside the first
    (``split``). The last row (the total) is always shown. Returns the number of rows left
    out."""
    ax.set_axis_off()
    fig = ax.figure
    box = ax.get_position()
    height_pt = box.height * fig.get_figheight() * 72
    width_pt = box.width * fig.get_figwidth() * 72
    n = len(rows)
    head = tuple(atlas_text(f"head_{k}") for k in _COLUMNS)
    ems = np.array([max(_ems(x) for x in [*rows.iloc[:, j].astype(str), head[j]]) + 1.0
                    for j in range(len(head))])
    wide = width_pt / ems.sum()  # the largest font the columns fit in
    size = min(0.85 * font, wide, max(5.0, height_pt / (n + 3) / 1.45))
    fit = max(1, int(height_pt / (size * 1.45)) - 3)
    if fit < n and split and width_pt / 2.04 / ems.sum() >= 4.5:
        half = (n + 1) // 2
        left = fig.add_axes([box.x0, box.y0, 0.49 * box.width, box.height])
        right = fig.add_axes([box.x0 + 0.51 * box.width, box.y0, 0.49 * box.width, box.height])
        draw_grid_table(left, rows.iloc[:half], font, title, split=False)
        return draw_grid_table(right, rows.iloc[half:], font, atlas_text("continued"),
                               split=False)
    size = max(size, min(4.5, wide))
    fit = max(1, int(height_pt / (size * 1.45)) - 3)
    shown = pd.concat([rows.iloc[:fit - 1], rows.iloc[[-1]]]) if fit < n else rows
    widths = ems * size
    scale = min(1.0, width_pt / widths.sum())
    xs = np.r_[0, np.cumsum(widths * scale)][:-1] / width_pt
    line = size * 1.45 / height_pt
    ax.text(0, 1, title, transform=ax.transAxes, ha="left", va="top", fontsize=1.05 * font,
            fontweight="bold")
    y = 1 - 1.6 * line
    align = ("left", "left", "left", "right", "right")
    right = np.r_[xs[1:], 1.0]
    for j, h in enumerate(head):
        x = xs[j] if align[j] == "left" else right[j] - 0.01
        ax.text(x, y, h, transform=ax.transAxes, ha=align[j], va="top", fontsize=size,
                fontweight="bold")
    ax.plot([0, 1], [y - 1.1 * line, y - 1.1 * line], transform=ax.transAxes, color="#333333",
            lw=0.6)
    for i, rec in enumerate(shown.itertuples(index=False)):
        y = 1 - (i + 2.7) * line
        if i % 2:
            ax.axhspan(y - 1.05 * line, y + 0.05 * line, color="#f2f2f2", zorder=0)
        for j, v in enumerate(rec):
            x = xs[j] if align[j] == "left" else right[j] - 0.01
            ax.text(x, y, str(v), transform=ax.transAxes, ha=align[j], va="top", fontsize=size)
    ax.set_ylim(0, 1)
    missing = n - len(shown)
    if missing:
        ax.text(0, 1 - (len(shown) + 2.8) * line, atlas_text("more_rows", n=missing),
                transform=ax.transAxes, ha="left", va="top", fontsize=size, color="#b2182b")
    return missing


def _ems(text: str) -> float:
    """Width of a text in em: CJK characters 1, others about 0.6."""
    return sum(1.0 if ord(ch) > 0x2E80 else 0.6 for ch in text)


def _table_rows(g: gpd.GeoDataFrame) -> pd.DataFrame:
    kinds = g[schema.KIND].astype(str) if schema.KIND in g else pd.Series(schema.BASIC, index=g.index)
    names = g[schema.GRID_NAME].astype(str) if schema.GRID_NAME in g else pd.Series("", index=g.index)
    kind_text = kind_names()
    rows = pd.DataFrame({
        "code": g[schema.GRID_CODE].astype(str),
        "name": names,
        "kind": kinds.map(lambda k: kind_text.get(k, k)),
        "households": g[schema.HOUSEHOLDS].map(_fmt) if schema.HOUSEHOLDS in g else "",
        "population": g[schema.POPULATION].map(_fmt) if schema.POPULATION in g else "",
    }).sort_values("code")
    total = {"code": atlas_text("total", n=len(g)), "name": "", "kind": "",
             "households": _fmt(g[schema.HOUSEHOLDS].sum()) if schema.HOUSEHOLDS in g else "",
             "population": _fmt(g[schema.POPULATION].sum()) if schema.POPULATION in g else ""}
    return pd.concat([rows, pd.DataFrame([total])], ignore_index=True)


def _legend_entries(context: dict, special: bool, swatch: str = "#a6cee3"
                    ) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = [
        (atlas_text("grid_line"), {"facecolor": swatch, "edgecolor": "#555555", "lw": 0.5}),
        (atlas_text("context"), {"facecolor": "#eeeeee", "edgecolor": "#c8c8c8", "lw": 0.5}),
    ]
    if special:
        out.append((atlas_text("special"), {"facecolor": "white", "edgecolor": "#555555", "hatch": "////"}))
    lines = [("communities", atlas_text("community_line"), "#333333", 1.2, "-"),
             ("streets", atlas_text("street_line"), "#b2182b", 2.0, "--"),
             ("district", atlas_text("district_line"), "#000000", 2.4, "-"),
             ("roads", atlas_text("road"), "#9a9a9a", 1.0, "-"), ("rivers", atlas_text("river"), "#6baed6", 2.0, "-")]
    out += [(label, {"kind": "line", "color": c, "lw": lw, "linestyle": ls})
            for key, label, c, lw, ls in lines if context.get(key) is not None]
    return out


@dataclass
class _Atlas:
    """Everything the pages share: metric layers, fills, names, options."""

    grids: gpd.GeoDataFrame
    fills: pd.Series
    context: dict[str, gpd.GeoDataFrame | None]
    units: pd.DataFrame  # one row per grid: community, street
    names: dict[str, str]
    paper: str
    orientation: str
    style: str
    maker: str
    when: Any
    district_name: str
    labels: str


def _unit_page(a: _Atlas, level: str, code: str, number: int) -> AtlasPage:
    focus = (a.units[level] == code).to_numpy()
    g = a.grids
    mine = g[focus]
    name = a.names.get(code, code)
    sub = atlas_text("unit_sub",
        level=atlas_text(level), code=code, grids=len(mine),
        households=_fmt(mine[schema.HOUSEHOLDS].sum()) if schema.HOUSEHOLDS in mine else "—",
        population=_fmt(mine[schema.POPULATION].sum()) if schema.POPULATION in mine else "—")
    page = new_page(a.paper, a.orientation, title=atlas_text("unit_title", name=name),
                    subtitle=sub, panel_share=0.34)
    bounds = tuple(mine.total_bounds)
    ax = page.map_ax
    if a.style == "25d":
        from .static25d import draw_25d_page

        scale, anchors, colours = draw_25d_page(ax, g, a.fills, focus, a.context)
        oblique = True
    else:
        scale = fit_scale(ax, bounds)
        draw_plan_map(ax, g, a.fills, focus=focus, context=a.context)
        pts = shapely.point_on_surface(mine.geometry.to_numpy())
        anchors = (shapely.get_x(pts), shapely.get_y(pts))
        colours = a.fills[focus]
        oblique = False
    angle = 0.0
    if oblique:
        from .static25d import View, north_angle

        angle = north_angle(View())
    furniture = [draw_scale_bar(ax, page.font), draw_north_arrow(ax, page.font, angle)]
    text = _grid_labels(mine, a.labels)
    placed = place_labels(ax, anchors[0], anchors[1], text, priority=mine.geometry.area.to_numpy(),
                          fontsize=page.font, obstacles=furniture, fontweight="bold")
    extent = (ax.get_xlim()[0], ax.get_ylim()[0], ax.get_xlim()[1], ax.get_ylim()[1]) \
        if not oblique else bounds
    special = schema.KIND in mine and bool((mine[schema.KIND].astype(str) != schema.BASIC).any())
    _panel(page, a, level, code, extent, special, mine, placed)
    draw_footer(page, maker=a.maker, when=a.when, crs=g.crs, scale=scale, oblique=oblique)
    draw_page_number(page, atlas_text("page", n=number))
    return AtlasPage("unit", code, name, page.fig, scale,
                     dict(zip(mine[schema.GRID_CODE].astype(str), colours, strict=True)), placed)


def _grid_labels(g: gpd.GeoDataFrame, mode: str) -> list[str]:
    if mode == "name" and schema.GRID_NAME in g:
        names = g[schema.GRID_NAME].astype(str)
        # drop the common community name (学府园区社区第1网格 → 第1网格) when still unique
        short = names.str.replace(r"^.*?(社区|村)(?=第)", "", regex=True)
        return list(short if short.is_unique else names)
    return short_codes(g[schema.GRID_CODE].astype(str).tolist())


def _panel(page: Page, a: _Atlas, level: str, code: str, extent: tuple, special: bool,
           mine: gpd.GeoDataFrame, placed: PlacedLabels) -> None:
    """Side panel of a unit page: inset, legend, grid table."""
    fig = page.fig
    left, bottom, width, height = page.panel
    landscape = a.orientation == "landscape"
    if landscape:
        inset = fig.add_axes([left, bottom + 0.66 * height, width * 0.55, 0.34 * height])
        legend = fig.add_axes([left + 0.6 * width, bottom + 0.66 * height, 0.4 * width,
                               0.32 * height])
        table = fig.add_axes([left, bottom, width, 0.62 * height])
    else:
        inset = fig.add_axes([left, bottom + 0.45 * height, 0.3 * width, 0.55 * height])
        legend = fig.add_axes([left, bottom, 0.3 * width, 0.42 * height])
        table = fig.add_axes([left + 0.33 * width, bottom, 0.67 * width, height])
    focus_layer = a.context.get("communities" if level == "community" else "streets")
    focus = focus_layer[focus_layer[schema.CODE].astype(str) == code] \
        if focus_layer is not None else None
    parts = a.context.get("streets") if a.context.get("streets") is not None \
        else a.context.get("communities")
    outline = a.context.get("district")
    if outline is None:
        outline = gpd.GeoDataFrame(geometry=[shapely.union_all(a.grids.geometry.to_numpy())],
                                   crs=a.grids.crs)
    draw_inset(inset, outline, parts, focus, extent, page.font)
    swatch = str(a.fills[(a.units[level] == code).to_numpy()].iloc[0])
    entries = _legend_entries(a.context, special, swatch) if a.style == "flat" else [
        (atlas_text("grid_25d"), {"facecolor": swatch, "edgecolor": "#555555", "lw": 0.5}),
        (atlas_text("building"), {"facecolor": "#f4f1ea", "edgecolor": "#999999", "lw": 0.5})]
    draw_legend(legend, entries, page.font)
    if placed.dropped:
        legend.text(0, 0, atlas_text("dropped", n=len(placed.dropped)),
                    transform=legend.transAxes, fontsize=0.75 * page.font, color="#b2182b",
                    va="bottom", wrap=True)
    draw_grid_table(table, _table_rows(mine), page.font, atlas_text("table_title"))


def prepare_atlas(grids: gpd.GeoDataFrame, layers: dict, **options: Any) -> Any:
    """What every page of an atlas or of the notice boards shares: the plan in metres, its
    fills, context layers, the street/community of every grid and unit names; ``options``
    are the page options of :func:`atlas_pages`."""
    g = metric(as_layer(grids, "grids", geometry=POLYGONS, required=[schema.GRID_CODE]))
    g = g.reset_index(drop=True)
    crs = g.crs
    context = {k: _layer(layers, k, crs) for k in ("district", "streets", "communities", "roads",
                                                   "rivers", "buildings")}
    from ..plan import grid_units

    units = grid_units(g, context.get("communities"))
    names: dict[str, str] = {}
    for key in ("district", "streets", "communities"):
        layer = context.get(key)
        if layer is not None and schema.CODE in layer and schema.NAME in layer:
            names.update(zip(layer[schema.CODE].astype(str), layer[schema.NAME].astype(str),
                             strict=True))
    district = context.get("district")
    dname = str(district[schema.NAME].iloc[0]) if district is not None and schema.NAME in district \
        else names.get(str(units["district"].iloc[0]), "")
    return _Atlas(g, community_colors(g).reset_index(drop=True), context, units, names,
                  district_name=dname, **options)


def atlas_pages(grids: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame] | None = None, *,
                by: str = "community", paper: str = "A3", orientation: str = "landscape",
                style: str = "flat", maker: str = "", when: Any = None,
                labels: str = "code") -> Iterator[AtlasPage]:
    """Draw the atlas page by page: cover, district overview, one page per street or community.

    Parameters
    ----------
    grids
        The plan (``grid_code``, ``community_code``, ``kind``, ``households``, ``population``,
        ``grid_name``).
    layers
        Context layers: ``district``, ``streets``, ``communities`` (names, boundaries, the
        street of each community), ``roads``, ``rivers``, ``buildings`` (2.5D pages).
    by
        ``"community"`` or ``"street"``: one page per unit of that level.
    paper, orientation
        ``A4``/``A3``/``A0``, ``landscape``/``portrait``.
    style
        ``"flat"`` (plan view at a round scale) or ``"25d"`` (oblique slabs).
    maker, when
        制图单位 and 制图日期 (a date, a text, or ``None`` for today).
    labels
        ``"code"`` (shortest code tail unique on the page) or ``"name"`` (grid names).

    Yields
    ------
    AtlasPage
        Close each page's figure after use (``write_atlas`` does).

    Examples
    --------
    >>> for page in atlas_pages(plan, layers, by="street"):          # doctest: +SKIP
    ...     print(page.kind, page.name, page.scale)
    """
    if by not in ("community", "street"):
        raise GridGISError(tr("unknown atlas level {value!r}", value=by), where="by",
                           fix=tr("use one of: {choices}", choices="community, street"))
    if style not in ("flat", "25d"):
        raise GridGISError(tr("unknown style {value!r}", value=style), where="style",
                           fix=tr("use one of: {choices}", choices="flat, 25d"))
    if labels not in _TEXT_MODES:
        raise GridGISError(tr("unknown labels {value!r}", value=labels), where="labels",
                           fix=tr("use one of: {choices}", choices=", ".join(_TEXT_MODES)))
    from ._atlas_pages import cover_page, overview_page

    a = prepare_atlas(grids, layers or {}, paper=paper, orientation=orientation, style=style,
                 maker=maker, when=when, labels=labels)
    codes = sorted(set(a.units[by]))
    yield cover_page(a, by, codes)
    yield overview_page(a, 2)
    for i, code in enumerate(codes):
        yield _unit_page(a, by, code, i + 3)


def write_atlas(grids: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame] | None,
                out: str | Path, **options: Any) -> Path:
    """Write the atlas as one PDF (options as :func:`atlas_pages`). Returns the path.

    Examples
    --------
    >>> write_atlas(plan, layers, "atlas.pdf", by="community", paper="A3")  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from ..writing import replacing

    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise GridGISError(_("the atlas is a PDF file"), source=out,
                           fix=_("give the output a name ending in .pdf"))
    with replacing(out) as tmp, PdfPages(tmp, metadata={"Title": atlas_text("pdf_title")}) as pdf:
        for page in atlas_pages(grids, layers, **options):
            pdf.savefig(page.fig)
            plt.close(page.fig)
    return out
