"""Report pages: sections laid down A4 PDF pages, and the same sections as one HTML page."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..i18n import _, get_language
from ..writing import write_text

__all__ = ["A4", "PdfFlow", "ROWS_PER_PAGE", "Section", "fmt_cell", "write_html", "write_pdf"]

A4 = (8.27, 11.69)  # inches, portrait
ROWS_PER_PAGE = 32


@dataclass
class Section:
    """A report section: title, lines of text, figure names and captioned tables."""

    title: str
    text: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)


def fmt_cell(v: Any) -> str:
    """Table cell text: blank for NaN, whole numbers without decimals, else two decimals."""
    if isinstance(v, float | np.floating):
        return "" if np.isnan(v) else (f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}")
    return str(v)


class PdfFlow:
    """Lays blocks (headings, text, figures, tables) down A4 pages from top to bottom."""

    TOP, BOTTOM, LEFT, WIDTH = 0.95, 0.05, 0.07, 0.86
    ROW = 0.021  # table row height (fraction of the page)

    def __init__(self, pdf: Any) -> None:
        self.pdf, self.fig, self.y, self.pages = pdf, None, self.TOP, 0

    def _page(self) -> Any:
        import matplotlib.pyplot as plt

        if self.fig is None:
            self.fig = plt.figure(figsize=A4)
            self.y = self.TOP
        return self.fig

    def new_page(self) -> None:
        import matplotlib.pyplot as plt

        if self.fig is not None:
            self.pdf.savefig(self.fig)
            plt.close(self.fig)
            self.pages += 1
        self.fig = None

    def _need(self, height: float) -> None:
        if self.fig is not None and self.y - height < self.BOTTOM:
            self.new_page()
        self._page()

    def heading(self, text: str, size: float = 15) -> None:
        self._need(0.08)
        self.fig.text(self.LEFT, self.y - 0.02, text, fontsize=size, weight="bold", va="top")
        self.y -= 0.02 + size / 350

    def text(self, line: str) -> None:
        self._need(0.03)
        self.fig.text(self.LEFT, self.y, line, fontsize=10, va="top", wrap=True)
        self.y -= 0.027

    def figure(self, path: Path, height: float) -> None:
        import matplotlib.image as mpimg

        self._need(height)
        ax = self.fig.add_axes([self.LEFT, self.y - height, self.WIDTH, height - 0.01])
        ax.imshow(mpimg.imread(path))
        ax.set_axis_off()
        self.y -= height

    def table(self, caption: str, df: pd.DataFrame) -> None:
        rows = max(int((self.TOP - self.BOTTOM - 0.05) / self.ROW) - 1, 5)
        for start in range(0, max(len(df), 1), rows):
            chunk = df.iloc[start:start + rows]
            height = 0.035 + self.ROW * (len(chunk) + 1)
            self._need(min(height, 0.2))
            if self.y - height < self.BOTTOM:  # does not fit the rest of this page
                self.new_page()
                self._page()
            self.fig.text(self.LEFT, self.y, caption + (_(" (continued)") if start else ""), fontsize=11,
                          weight="bold", va="top")
            ax = self.fig.add_axes([self.LEFT, self.y - height, self.WIDTH, height - 0.03])
            ax.set_axis_off()
            cells = [[fmt_cell(v) for v in row] for row in chunk.itertuples(index=False)]
            if cells:
                tab = ax.table(cellText=cells, colLabels=[str(c) for c in chunk.columns],
                               loc="upper center", cellLoc="center", bbox=[0, 0, 1, 1])
                tab.auto_set_font_size(False)
                tab.set_fontsize(7 if len(chunk.columns) > 6 else 8)
            else:
                ax.text(0.5, 0.5, _("(none)"), ha="center", va="center")
            self.y -= height + 0.01


def write_pdf(sections: list[Section], path: Path, figures: dict[str, list[Path]]) -> int:
    """Write the sections as A4 PDF pages at ``path``; returns the number of pages."""
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        flow = PdfFlow(pdf)
        for i, sec in enumerate(sections):
            if i:
                flow.new_page()
            flow.heading(sec.title, size=18 if i == 0 else 15)
            for line in sec.text:
                flow.text(line)
            n = len(sec.figures)
            for name in sec.figures:
                # the cover's map fills what its lines leave of the first page
                room = flow.y - flow.BOTTOM - 0.01 if i == 0 else 0.7
                flow.figure(figures[name][0], height=min(0.7, room) if n == 1 else 0.42)
            for caption, df in sec.tables:
                flow.table(caption, df)
        flow.new_page()
        meta = pdf.infodict()
        meta["Title"] = sections[0].title
        meta["Creator"] = "gridgis"
    return flow.pages


_CSS = """
body{font-family:"gridgis CJK Sans","Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;max-width:960px;
margin:2em auto;color:#222;line-height:1.5}
h1{border-bottom:3px solid #2b6cb0}h2{color:#2b6cb0;margin-top:2em}
table{border-collapse:collapse;font-size:13px;margin:1em 0}
th,td{border:1px solid #ccd;padding:3px 8px;text-align:right}th{background:#eef3fa}
img{max-width:100%;border:1px solid #eee}
"""


def write_html(sections: list[Section], path: Path, figures: dict[str, list[Path]], title: str) -> None:
    """Write the sections as one self-contained HTML page (figures and the CJK font inlined).

    The bundled CJK font, cut down to the characters the page uses, is embedded, so the page
    shows its Chinese text on machines without any Chinese font.
    """
    from ..render.assets import offline_html

    lang = "zh-CN" if get_language() == "zh" else "en"
    parts = [f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>"
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"]
    for i, sec in enumerate(sections):
        tag = "h1" if i == 0 else "h2"
        parts.append(f"<{tag}>{html.escape(sec.title)}</{tag}>")
        parts += [f"<p>{html.escape(t)}</p>" for t in sec.text]
        for name in sec.figures:
            data = base64.b64encode(figures[name][0].read_bytes()).decode()
            parts.append(f"<img alt='{html.escape(sec.title)}' data-figure='{html.escape(name)}' "
                         f"src='data:image/png;base64,{data}'>")
        for caption, df in sec.tables:
            parts.append(f"<h3>{html.escape(caption)}</h3>")
            parts.append(df.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.2f}"))
    parts.append("</body></html>")
    write_text(path, offline_html("\n".join(parts), cjk_font=None))
