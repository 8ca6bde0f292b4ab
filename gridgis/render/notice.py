"""Grid notice boards (网格公示牌): one A4 page per grid to post in the grid.

Each board shows the grid on a map at a round scale (neighbours pale, scale bar, north arrow),
its code, name, community and street, households and residents, the grid workers (网格员) in
charge with their phones, and a QR code of the grid code (``segno``) that residents and staff
scan to reach the grid. Workers come from an optional table with a name, a phone and the grid
code (Chinese headers 姓名/网格员, 电话/联系电话, 网格编码 are understood).

>>> write_notice_boards(plan, layers, "公示牌.pdf", workers=workers)   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from ..errors import GridGISError, SchemaError
from ..i18n import N_, _, pgettext, tr
from ..people import header, quoted
from .atlas import AtlasPage, draw_plan_map
from .colors import kind_names
from .labels import place_labels, short_codes
from .layout import (
    draw_footer,
    draw_north_arrow,
    draw_page_number,
    draw_scale_bar,
    fit_scale,
    new_page,
)

__all__ = ["BOARD_FILL", "NOTICE_TEXT", "WORKER_ALIASES", "grid_workers", "notice_pages",
           "notice_text", "qr_matrix",
           "write_notice_boards"]

#: Page text of the notice boards (English message ids, shown through the catalogue:
#: :func:`notice_text`).
NOTICE_TEXT = {
    "title": N_("Grid notice board"),
    "page_title": N_("Grid notice board: {name}"),
    "code": N_("Grid code:"),
    "name": N_("Grid name:"),
    "community": N_("In community (village):"),
    "street": N_("In street (township):"),
    "kind": N_("Grid kind:"),
    "households": N_("Households:"),
    "population": N_("Population:"),
    "workers": N_("Grid workers:"),
    "no_workers": N_("(grid workers to be appointed)"),
    "qr": N_("Scan for the grid"),
    "duty": N_("Grid workers collect information, check hazards, mediate disputes, serve "
               "residents and explain policies."),
    "page": N_("Page {n}"),
    "unit": N_("{name} (code {code})"),
    "worker": N_("{name} (role: {role})"),
}


def notice_text(key: str, **fields: Any) -> str:
    """A text of :data:`NOTICE_TEXT` in the language in use, its fields filled.

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("zh"):
    ...     notice_text("title")
    '网格公示牌'
    """
    return tr(NOTICE_TEXT[key], **fields)


#: Fill of the grid of a notice board (its neighbours are pale grey).
BOARD_FILL = "#fdd49e"

#: Headers of a grid-worker table → canonical names.
WORKER_ALIASES = {
    "姓名": "name", "网格员": "name", "网格员姓名": "name", "name": "name",
    "电话": "phone", "联系电话": "phone", "手机": "phone", "手机号": "phone", "phone": "phone",
    "职务": "role", "岗位": "role", "role": "role",
}


def grid_workers(table: pd.DataFrame | None) -> dict[str, list[tuple[str, str, str]]]:
    """Workers per grid code: ``(name, phone, role)`` in table order.

    Examples
    --------
    >>> t = pd.DataFrame({"姓名": ["王芳"], "联系电话": ["13800000000"],
    ...                   "网格编码": ["430302001001001"]})
    >>> grid_workers(t)
    {'430302001001001': [('王芳', '13800000000', '')]}
    """
    if table is None:
        return {}
    t = schema.normalize_columns(table, extra_aliases=WORKER_ALIASES, source="workers")
    missing = [c for c in ("name", schema.GRID_CODE) if c not in t]
    if missing:
        shown = {"name": pgettext("grid worker", "Name"), schema.GRID_CODE: header(schema.GRID_CODE)}
        raise SchemaError(tr("grid workers: no column {columns}",
                             columns=quoted([shown[c] for c in missing])),
                          source="workers",
                          fix=tr("give the table the columns 姓名 (name), 联系电话 (phone) and "
                                 "网格编码 (grid code); found {found}",
                                 found=", ".join(map(str, table.columns))))
    out: dict[str, list[tuple[str, str, str]]] = {}
    for rec in t.to_dict("records"):
        code = schema.code_text(rec[schema.GRID_CODE])
        out.setdefault(str(code), []).append(
            (_clean(rec.get("name")), _clean(rec.get("phone")), _clean(rec.get("role"))))
    return out


def _clean(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def qr_matrix(text: str) -> np.ndarray:
    """The QR code of ``text`` as a boolean module matrix (quiet zone not included).

    Examples
    --------
    >>> qr_matrix("430302001001001").shape
    (21, 21)
    """
    import segno

    qr = segno.make_qr(str(text), error="m")
    return np.array([[bool(v) for v in row] for row in qr.matrix], dtype=bool)


def _draw_qr(ax: Any, text: str) -> None:
    from matplotlib.collections import PolyCollection

    m = qr_matrix(text)
    n = m.shape[0]
    ys, xs = np.nonzero(m)
    squares = [np.array([[x, n - y], [x + 1, n - y], [x + 1, n - y - 1], [x, n - y - 1]])
               for x, y in zip(xs, ys, strict=True)]
    ax.add_collection(PolyCollection(squares, facecolors="black", edgecolors="black",
                                     linewidths=0.1, gid="gridgis-qr"))
    ax.set_xlim(-4, n + 4)
    ax.set_ylim(-4, n + 4)
    ax.set_aspect("equal")
    ax.set_axis_off()


def _board(a: Any, i: int, workers: dict, number: int) -> AtlasPage:
    g = a.grids
    row = g.iloc[i]
    code = str(row[schema.GRID_CODE])
    name = str(row.get(schema.GRID_NAME, "") or code)
    page = new_page("A4", "portrait", title=notice_text("page_title", name=name), panel_share=0.42)
    ax = page.map_ax
    geom = g.geometry.iloc[i]
    scale = fit_scale(ax, geom.bounds, margin=0.12)
    focus = np.zeros(len(g), dtype=bool)
    focus[i] = True
    fills = pd.Series([BOARD_FILL] * len(g))
    draw_plan_map(ax, g, fills, focus=focus, context={**a.context, "buildings": None})
    furniture = [draw_scale_bar(ax, page.font), draw_north_arrow(ax, page.font)]
    here = shapely.point_on_surface(geom)
    own = place_labels(ax, [here.x], [here.y], [name], fontsize=1.5 * page.font,
                       obstacles=furniture, fontweight="bold", color="#7f0000")
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    # the neighbours of the grid, by their codes
    near = g[g.intersects(shapely.box(x0, y0, x1, y1)) & (g.geometry.distance(geom) < 1.0)
             & (g[schema.GRID_CODE].astype(str) != code)]
    pts = shapely.point_on_surface(near.geometry.to_numpy())
    placed = place_labels(ax, shapely.get_x(pts), shapely.get_y(pts),
                          short_codes(near[schema.GRID_CODE].astype(str).tolist()),
                          priority=near.geometry.area.to_numpy(), fontsize=0.9 * page.font,
                          obstacles=[*furniture, *(t for t in own.texts if t is not None)],
                          color="#555555")
    placed.texts = [*own.texts, *placed.texts]
    placed.dropped = [*own.dropped, *placed.dropped]
    _info(page, a, row, code, name, workers.get(code, []))
    draw_footer(page, maker=a.maker, when=a.when, crs=g.crs, scale=scale)
    draw_page_number(page, notice_text("page", n=number))
    return AtlasPage("notice", code, name, page.fig, scale, {code: BOARD_FILL}, placed)


def _info(page: Any, a: Any, row: pd.Series, code: str, name: str,
          people: list[tuple[str, str, str]]) -> None:
    """Facts, workers and QR code in the lower panel of a board."""
    left, bottom, width, height = page.panel
    fig = page.fig
    facts = fig.add_axes([left, bottom, 0.62 * width, height])
    facts.set_axis_off()
    comm = str(row.get(schema.COMMUNITY_CODE, "") or "")
    units = a.units.loc[row.name] if row.name in a.units.index else None
    street = str(units["street"]) if units is not None else ""
    kind = str(row.get(schema.KIND, schema.BASIC))
    lines = [(notice_text("code"), code), (notice_text("name"), name),
             (notice_text("community"), notice_text("unit", name=a.names.get(comm, ""), code=comm)),
             (notice_text("street"), notice_text("unit", name=a.names.get(street, ""),
                                                 code=street)),
             (notice_text("kind"), kind_names().get(kind, kind)),
             (notice_text("households"), _num(row.get(schema.HOUSEHOLDS))),
             (notice_text("population"), _num(row.get(schema.POPULATION)))]
    size = 1.25 * page.font
    step = 0.085
    for k, (label, value) in enumerate(lines):
        y = 0.97 - k * step
        facts.text(0.0, y, label, fontsize=size, fontweight="bold", va="top")
        facts.text(0.34, y, value, fontsize=size, va="top")
    y = 0.97 - len(lines) * step - 0.03
    facts.text(0.0, y, notice_text("workers"), fontsize=1.35 * size, fontweight="bold", va="top",
               color="#b2182b")
    if not people:
        facts.text(0.34, y, notice_text("no_workers"), fontsize=size, va="top", color="#555555")
    for k, (who, phone, role) in enumerate(people[:4]):
        person = notice_text("worker", name=who, role=role) if role else who
        facts.text(0.34, y - k * step, f"{person}   {phone}",
                   fontsize=1.05 * size, va="top", fontweight="bold")
    facts.text(0.0, 0.0, notice_text("duty"), fontsize=0.85 * page.font, va="bottom", color="#333333")
    qr = fig.add_axes([left + 0.66 * width, bottom + 0.35 * height, 0.34 * width, 0.6 * height])
    _draw_qr(qr, code)
    fig.text(left + 0.83 * width, bottom + 0.33 * height, notice_text("qr") + f"\n{code}", ha="center",
             va="top", fontsize=0.95 * page.font)


def _num(v: Any) -> str:
    return "—" if v is None or pd.isna(v) else f"{int(round(float(v))):,}"


def notice_pages(grids: gpd.GeoDataFrame, layers: dict | None = None, *,
                 workers: pd.DataFrame | None = None, codes: list[str] | None = None,
                 maker: str = "", when: Any = None) -> Iterator[AtlasPage]:
    """Draw one notice board (A4 portrait) per grid (all, or the grid ``codes``).

    Parameters
    ----------
    grids, layers
        The plan and its context layers, as for :func:`gridgis.render.atlas.atlas_pages`.
    workers
        Optional table of grid workers (name, phone, grid code; Chinese headers understood).
    codes
        Only these grids (default: every grid, in code order).
    maker, when
        制图单位 and 制图日期.

    Examples
    --------
    >>> page = next(notice_pages(plan, layers, workers=workers))     # doctest: +SKIP
    """
    from .atlas import prepare_atlas

    a = prepare_atlas(grids, layers or {}, paper="A4", orientation="portrait", style="flat",
                      maker=maker, when=when, labels="code")
    people = grid_workers(workers)
    all_codes = a.grids[schema.GRID_CODE].astype(str)
    wanted = sorted(all_codes) if codes is None else [str(c) for c in codes]
    unknown = sorted(set(wanted) - set(all_codes))
    if unknown:
        raise GridGISError(tr("no grid {codes} in the plan", codes=", ".join(unknown[:5])),
                           where="codes", fix=_("give codes of grids in the plan"))
    position = {c: i for i, c in enumerate(all_codes)}
    for n, c in enumerate(wanted):
        yield _board(a, position[c], people, n + 1)


def write_notice_boards(grids: gpd.GeoDataFrame, layers: dict | None, out: str | Path,
                        **options: Any) -> Path:
    """Write the notice boards as one PDF (options as :func:`notice_pages`).

    Examples
    --------
    >>> write_notice_boards(plan, layers, "公示牌.pdf")                # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from ..writing import replacing

    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise GridGISError(_("notice boards are a PDF file"), source=out,
                           fix=_("give the output a name ending in .pdf"))
    with replacing(out) as tmp, PdfPages(tmp, metadata={"Title": notice_text("title")}) as pdf:
        for page in notice_pages(grids, layers, **options):
            pdf.savefig(page.fig)
            plt.close(page.fig)
    return out
