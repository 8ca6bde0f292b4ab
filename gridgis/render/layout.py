"""Print page templates: paper sizes, the map frame at a round scale and the map furniture.

A page (:func:`new_page`) is a matplotlib figure the size of the paper (A4/A3 portrait or
landscape, A0 for the wall) with a title band, a map frame, a side panel (overview inset,
legend, table) and a footer holding the map maker (制图单位), the date (制图日期), the
coordinate system and the scale. :func:`fit_scale` sets the map to a round scale
(1:5 000, 1:7 500, 1:10 000 …) and the furniture functions draw the scale bar, the north arrow,
the legend and the overview inset with the locator rectangle.

>>> page = new_page("A3", "landscape", title="雨湖区网格图")
>>> round(page.fig.get_figwidth() * 25.4), round(page.fig.get_figheight() * 25.4)
(420, 297)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date as _date
from typing import Any

import numpy as np

from ..errors import GridGISError
from ..i18n import N_, tr
from .fonts import register_cjk_font

__all__ = ["PAPERS", "PAGE_TEXT", "Page", "crs_note", "draw_footer", "draw_inset", "draw_legend",
           "draw_north_arrow", "draw_page_number", "draw_scale_bar", "fit_scale", "format_date",
           "new_page", "nice_scale", "page_text", "paper_size"]

#: Paper sizes in millimetres (portrait width, height).
PAPERS = {"A4": (210.0, 297.0), "A3": (297.0, 420.0), "A0": (841.0, 1189.0)}

#: Every fixed text of the print pages (English message ids; shown through the catalogue,
#: Chinese by default: :func:`page_text`).
PAGE_TEXT = {
    "maker": N_("Map maker: {maker}"),
    "date": N_("Date: {date}"),
    "scale": N_("Scale 1:{scale}"),
    "scale_25d": N_("Horizontal scale 1:{scale} (oblique view, compressed vertically)"),
    "crs": N_("Coordinate system: {crs}"),
    "north": N_("N (north arrow)"),
    "inset": N_("Location"),
    "legend": N_("Legend"),
    "date_format": N_("{y}-{m:02d}-{d:02d}"),
}


def page_text(key: str, **fields: Any) -> str:
    """A text of :data:`PAGE_TEXT` in the language in use, its fields filled.

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("zh"):
    ...     page_text("scale", scale="5 000")
    '比例尺 1:5 000'
    """
    return tr(PAGE_TEXT[key], **fields)


_SCALES = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.5)


@dataclass
class Page:
    """A page being drawn: the figure, its map axes, the side panel box and sizes.

    Attributes
    ----------
    fig
        The matplotlib figure (paper size).
    map_ax
        Axes of the map frame.
    panel
        ``(left, bottom, width, height)`` of the side panel in figure fractions.
    size_mm
        Paper width and height in millimetres.
    font
        Base font size in points (grows with the paper).
    """

    fig: Any
    map_ax: Any
    panel: tuple[float, float, float, float]
    size_mm: tuple[float, float]
    font: float

    def frac(self, left_mm: float, bottom_mm: float, width_mm: float, height_mm: float
             ) -> list[float]:
        """Figure-fraction box of a box given in millimetres from the lower-left corner."""
        w, h = self.size_mm
        return [left_mm / w, bottom_mm / h, width_mm / w, height_mm / h]


def paper_size(paper: str, orientation: str = "landscape") -> tuple[float, float]:
    """Width and height in millimetres of ``paper`` (A4, A3, A0) in ``orientation``.

    Examples
    --------
    >>> paper_size("A4", "portrait")
    (210.0, 297.0)
    """
    key = str(paper).upper()
    if key not in PAPERS:
        raise GridGISError(tr("unknown paper {value!r}", value=paper), where="paper",
                           fix=tr("use one of: {choices}", choices=", ".join(PAPERS)))
    if orientation not in ("portrait", "landscape"):
        raise GridGISError(tr("unknown orientation {value!r}", value=orientation),
                           where="orientation",
                           fix=tr("use one of: {choices}", choices="portrait, landscape"))
    w, h = PAPERS[key]
    return (h, w) if orientation == "landscape" else (w, h)


def new_page(paper: str = "A3", orientation: str = "landscape", *, title: str = "",
             subtitle: str = "", panel_share: float = 0.3) -> Page:
    """A blank page with its frame, title band, map frame and side panel.

    Landscape pages put the side panel on the right, portrait pages below the map.

    Examples
    --------
    >>> new_page("A4", "portrait").map_ax.get_position().height > 0.4
    True
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    register_cjk_font()
    w, h = paper_size(paper, orientation)
    font = 9.0 * min(w, h) / 210.0
    fig = plt.figure(figsize=(w / 25.4, h / 25.4))
    fig.canvas.draw_idle = lambda *_a, **_k: None
    margin, title_h, foot_h = 0.04 * min(w, h), 0.07 * min(w, h), 0.045 * min(w, h)
    page = Page(fig, None, (0, 0, 0, 0), (w, h), font)
    fig.add_artist(Rectangle(page.frac(margin, margin, w - 2 * margin, h - 2 * margin)[:2],
                             (w - 2 * margin) / w, (h - 2 * margin) / h, transform=fig.transFigure,
                             fill=False, lw=1.2, color="#222222"))
    top = h - margin
    fig.text(0.5, (top - 0.45 * title_h) / h, title, ha="center", va="center",
             fontsize=2.0 * font, fontweight="bold")
    if subtitle:
        fig.text(0.5, (top - 0.85 * title_h) / h, subtitle, ha="center", va="center",
                 fontsize=1.05 * font, color="#444444")
    inner_l, inner_b = margin + 3, margin + foot_h
    inner_w, inner_h = w - 2 * margin - 6, h - 2 * margin - title_h - foot_h
    if orientation == "landscape":
        pw = panel_share * inner_w
        map_box = (inner_l, inner_b, inner_w - pw - 4, inner_h)
        panel = (inner_l + inner_w - pw, inner_b, pw, inner_h)
    else:
        ph = panel_share * inner_h
        map_box = (inner_l, inner_b + ph + 4, inner_w, inner_h - ph - 4)
        panel = (inner_l, inner_b, inner_w, ph)
    page.map_ax = fig.add_axes(page.frac(*map_box))
    page.map_ax.set_xticks([])
    page.map_ax.set_yticks([])
    for spine in page.map_ax.spines.values():
        spine.set_linewidth(0.8)
    page.panel = tuple(page.frac(*panel))
    return page


def nice_scale(needed: float) -> int:
    """The smallest round scale denominator not below ``needed``.

    Examples
    --------
    >>> nice_scale(8300), nice_scale(10000), nice_scale(11000)
    (10000, 10000, 15000)
    """
    exp = 10 ** math.floor(math.log10(max(needed, 1.0)))
    for m in (*_SCALES, 10.0):
        if m * exp >= needed - 1e-6:
            return int(round(m * exp))
    return int(10 * exp)  # pragma: no cover


def fit_scale(ax: Any, bounds: tuple[float, float, float, float], margin: float = 0.04) -> int:
    """Set the limits of ``ax`` (metric data) so the map is at a round scale holding ``bounds``.

    Returns the scale denominator.

    Examples
    --------
    >>> page = new_page("A4", "landscape")
    >>> fit_scale(page.map_ax, (0, 0, 2000, 1000)) in (10000, 15000)
    True
    """
    fig = ax.figure
    pos = ax.get_position()
    w_mm = pos.width * fig.get_figwidth() * 25.4
    h_mm = pos.height * fig.get_figheight() * 25.4
    x0, y0, x1, y1 = bounds
    need = max((x1 - x0) / (w_mm / 1000.0), (y1 - y0) / (h_mm / 1000.0)) * (1 + 2 * margin)
    scale = nice_scale(need)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w, half_h = w_mm / 1000.0 * scale / 2, h_mm / 1000.0 * scale / 2
    ax.set_xlim(cx - half_w, cx + half_w)
    ax.set_ylim(cy - half_h, cy + half_h)
    ax.set_aspect("equal", adjustable="box")
    return scale


def _bar_length(span_m: float) -> float:
    target = span_m / 5
    exp = 10 ** math.floor(math.log10(max(target, 1e-9)))
    return max(m * exp for m in (1, 2, 5) if m * exp <= target) if target >= exp else exp


def draw_scale_bar(ax: Any, font: float) -> Any:
    """A four-segment scale bar (metres/kilometres) in the lower-left corner of a metric map.

    Returns the bar's background box (keep labels clear of it).
    """
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _bar_length(x1 - x0)
    bx, by = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    bh = 0.008 * (y1 - y0)
    back = Rectangle((bx - 0.01 * (x1 - x0), by - 0.035 * (y1 - y0)), length * 1.1 + 0.03 * (x1 - x0),
                     0.075 * (y1 - y0), facecolor="white", edgecolor="none", alpha=0.85, zorder=40)
    ax.add_patch(back)
    for k in range(4):
        ax.add_patch(Rectangle((bx + k * length / 4, by), length / 4, bh, zorder=41, lw=0.6,
                               facecolor="#222222" if k % 2 == 0 else "white", edgecolor="#222222"))
    unit, div = ("km", 1000.0) if length >= 1000 else ("m", 1.0)
    for frac in (0.0, 0.5, 1.0):
        ax.text(bx + frac * length, by + 2.2 * bh, f"{frac * length / div:g}", ha="center",
                va="bottom", fontsize=0.8 * font, zorder=42)
    ax.text(bx + length * 1.04, by + bh / 2, unit, ha="left", va="center", fontsize=0.8 * font,
            zorder=42)
    return back


def draw_north_arrow(ax: Any, font: float, angle: float = 0.0) -> Any:
    """A north arrow in the upper-right corner; ``angle`` = direction of north on the page in
    degrees clockwise from up. Returns its text artist (keep labels clear of it)."""
    d = np.array([math.sin(math.radians(angle)), math.cos(math.radians(angle))])
    cx, cy = 0.94, 0.86
    ax.annotate("", xy=(cx + 0.045 * d[0], cy + 0.045 * d[1]),
                xytext=(cx - 0.045 * d[0], cy - 0.045 * d[1]), xycoords="axes fraction",
                arrowprops={"arrowstyle": "-|>", "color": "#222222", "lw": 1.6,
                            "mutation_scale": 2.0 * font}, zorder=42)
    return ax.text(cx + 0.08 * d[0], cy + 0.08 * d[1], page_text("north"), transform=ax.transAxes,
                   ha="center", va="center", fontsize=1.3 * font, fontweight="bold", zorder=42)


def crs_note(crs: Any) -> str:
    """Name and EPSG code of a CRS for the footer.

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("en"):
    ...     crs_note("EPSG:4547")
    'CGCS2000 / 3-degree Gauss-Kruger CM 114E (EPSG code 4547)'
    """
    import pyproj

    c = pyproj.CRS.from_user_input(crs)
    epsg = c.to_epsg()
    return tr("{name} (EPSG code {epsg})", name=c.name, epsg=epsg) if epsg else c.name


def format_date(when: Any = None) -> str:
    """A date as 2025年3月1日 in Chinese, 2025-03-01 in English (today when ``None``).

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("zh"):
    ...     format_date(_date(2025, 3, 1))
    '2025年3月1日'
    """
    if when is None:
        when = _date.today()
    if isinstance(when, str):
        return when
    return page_text("date_format", y=when.year, m=when.month, d=when.day)


def draw_footer(page: Page, *, maker: str, when: Any, crs: Any, scale: int | None,
                oblique: bool = False) -> None:
    """Footer line: 制图单位, 制图日期, coordinate system and scale."""
    w, h = page.size_mm
    margin = 0.04 * min(w, h)
    foot = 0.045 * min(w, h)
    y1, y2 = (margin + 0.68 * foot) / h, (margin + 0.25 * foot) / h
    fs = 0.95 * page.font
    fig = page.fig
    fig.text((margin + 4) / w, y1, page_text("maker", maker=maker) + "    "
             + page_text("date", date=format_date(when)), ha="left", va="center",
             fontsize=fs)
    fig.text((margin + 4) / w, y2, page_text("crs", crs=crs_note(crs)), ha="left",
             va="center", fontsize=0.8 * fs, color="#333333")
    if scale:
        key = "scale_25d" if oblique else "scale"
        fig.text(1 - (margin + 4) / w, y1, page_text(key, scale=f"{scale:,}".replace(",", " ")),
                 ha="right", va="center", fontsize=fs, fontweight="bold")


def draw_page_number(page: Page, text: str) -> None:
    """Page number centred below the frame."""
    w, h = page.size_mm
    page.fig.text(0.5, 0.016 * min(w, h) / h, text, ha="center", va="center",
                  fontsize=0.8 * page.font, color="#555555")


def draw_legend(ax: Any, entries: list[tuple[str, dict[str, Any]]], font: float, *,
                title: str | None = None, ncol: int | None = None) -> Any:
    """Legend of patch/line entries ``(label, style)`` filling ``ax`` (``kind='line'`` in the
    style draws a line symbol). Columns and font shrink to fit any number of entries."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    for label, style in entries:
        style = dict(style)
        if style.pop("kind", "patch") == "line":
            handles.append(Line2D([], [], label=label, **style))
        else:
            handles.append(Patch(label=label, **style))
    n = max(len(handles), 1)
    ncol = ncol or max(1, math.ceil(n / 14))
    height_pt = ax.get_position().height * ax.figure.get_figheight() * 72
    per_col = math.ceil(n / ncol)
    fs = max(0.5 * font, min(0.9 * font, height_pt / (per_col + 1.5) / 1.75))
    ax.set_axis_off()
    return ax.legend(handles=handles, loc="upper left", ncol=ncol, fontsize=fs, frameon=False,
                     title=title or page_text("legend"), title_fontsize=font, alignment="left",
                     borderaxespad=0.0, handlelength=1.6, columnspacing=1.0)


def draw_inset(ax: Any, outline: Any, parts: Any, focus: Any, extent: tuple[float, ...],
               font: float) -> None:
    """Overview inset: the district ``outline``, ``parts`` (streets/communities) in grey, the
    ``focus`` unit filled and a red locator rectangle of the main map's ``extent``."""
    from matplotlib.patches import Rectangle

    if parts is not None and len(parts):
        parts.boundary.plot(ax=ax, color="#9a9a9a", lw=0.4)
    if focus is not None and len(focus):
        focus.plot(ax=ax, color="#f4a582", edgecolor="#b2182b", lw=0.6)
    outline.boundary.plot(ax=ax, color="#222222", lw=0.9)
    x0, y0, x1, y1 = extent
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="#d7191c", lw=1.4,
                           zorder=10))
    bx0, by0, bx1, by1 = outline.total_bounds
    pad = 0.04 * max(bx1 - bx0, by1 - by0)
    ax.set_xlim(min(bx0, x0) - pad, max(bx1, x1) + pad)
    ax.set_ylim(min(by0, y0) - pad, max(by1, y1) + pad)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(page_text("inset"), fontsize=font, pad=3)
