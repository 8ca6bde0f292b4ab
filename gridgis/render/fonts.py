"""The bundled CJK font, so Chinese text renders on machines without any CJK font installed.

gridgis ships ``fonts/gridgis-cjk-sans-{regular,bold}.otf``: subsets of Noto Sans CJK SC (SIL Open Font
License 1.1, see ``fonts/OFL.txt``) holding ASCII, all 6,763 GB2312 hanzi, CJK punctuation and
full-width forms. :func:`register_cjk_font` adds it to matplotlib and puts it first in the
sans-serif list; :func:`font_face_css` gives an ``@font-face`` rule with the font inlined, for
HTML pages that must show Chinese labels offline.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

__all__ = ["BOLD_PATH", "FAMILY", "FONT_DIR", "FONT_PATH", "font_face_css", "missing_glyphs",
           "register_cjk_font"]

FONT_DIR = Path(__file__).with_name("fonts")
FONT_PATH = FONT_DIR / "gridgis-cjk-sans-regular.otf"
BOLD_PATH = FONT_DIR / "gridgis-cjk-sans-bold.otf"
FAMILY = "gridgis CJK Sans"


@lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Register the bundled CJK font with matplotlib and make it the default sans-serif.

    Safe to call many times. Returns the family name.

    Examples
    --------
    >>> register_cjk_font()
    'gridgis CJK Sans'
    """
    import matplotlib as mpl
    from matplotlib import font_manager

    for path in (FONT_PATH, BOLD_PATH):
        font_manager.fontManager.addfont(str(path))
    families = list(mpl.rcParams["font.sans-serif"])
    mpl.rcParams["font.sans-serif"] = [FAMILY, *[f for f in families if f != FAMILY]]
    mpl.rcParams["font.family"] = "sans-serif"
    mpl.rcParams["axes.unicode_minus"] = False  # the subset's hyphen-minus instead of U+2212
    mpl.rcParams["svg.fonttype"] = "path"  # SVG text as outlines: no font needed to view
    mpl.rcParams["pdf.fonttype"] = 3  # Type 3 subsets: works with CFF outlines
    return FAMILY


def missing_glyphs(text: str) -> set[str]:
    """Characters of ``text`` the bundled font cannot draw (whitespace ignored).

    Examples
    --------
    >>> missing_glyphs("网格 A1")
    set()
    """
    cmap = _cmap()
    return {c for c in text if not c.isspace() and ord(c) not in cmap}


@lru_cache(maxsize=1)
def _cmap() -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    font = FT2Font(str(FONT_PATH))
    return frozenset(code for code, _ in font.get_charmap().items())


@lru_cache(maxsize=1)
def font_face_css() -> str:
    """An ``@font-face`` rule with the bundled font inlined (base64), family ``gridgis CJK Sans``.

    Examples
    --------
    >>> font_face_css().startswith("@font-face{font-family:'gridgis CJK Sans'")
    True
    """
    data = base64.b64encode(FONT_PATH.read_bytes()).decode("ascii")
    return (
        f"@font-face{{font-family:'{FAMILY}';"
        f"src:url(data:font/otf;base64,{data}) format('opentype');}}"
    )
