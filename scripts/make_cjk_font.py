"""Rebuild the bundled CJK fonts (gridgis/render/fonts/) from Debian's fonts-noto-cjk.

Subset: ASCII, all GB2312 characters, CJK punctuation, full-width forms, a few symbols, and
every character used in the bundled sample data. The family is renamed "gridgis CJK Sans"
(Regular and Bold). Needs ``apt-get install fonts-noto-cjk`` and fontTools; run it only to
change the subset — the result is committed.

    python scripts/make_cjk_font.py
"""

from __future__ import annotations

from pathlib import Path

import pyogrio
from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {
    "Regular": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "Bold": "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
}
FAMILY = "gridgis CJK Sans"
SYMBOLS = "²³°±×÷·—–‘’“”…‰←↑→↓√∞≤≥℃№ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ①②③④⑤⑥⑦⑧⑨⑩■□▲△●○★☆◆◇"


def charset() -> set[str]:
    chars = {chr(c) for c in range(0x20, 0x7F)} | set(SYMBOLS)
    chars |= {chr(c) for c in range(0x3000, 0x3040)} | {chr(c) for c in range(0xFF00, 0xFFF0)}
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    gpkg = ROOT / "data/samples/sample_district.gpkg"
    for layer in pyogrio.list_layers(gpkg)[:, 0]:
        df = pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False)
        for col in df.columns:
            chars |= set(str(col))
            if df[col].dtype == object:
                chars |= set("".join(df[col].dropna().astype(str).unique()))
    return chars


def build(style: str, source: str, chars: set[str]) -> Path:
    ttc = TTCollection(source)
    font = next(f for f in ttc.fonts if f["name"].getDebugName(1).endswith(" SC"))
    opts = subset.Options()
    opts.layout_features = ["kern", "liga"]  # no vertical or locale forms: half the size
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    opts.hinting = False
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=[ord(c) for c in chars])
    sub.subset(font)
    ps = f"gridgisCJKSans-{style}"
    for rec in font["name"].names:
        if rec.nameID in (1, 16):
            rec.string = FAMILY
        elif rec.nameID in (2, 17):
            rec.string = style
        elif rec.nameID == 4:
            rec.string = f"{FAMILY} {style}"
        elif rec.nameID in (3, 6):
            rec.string = ps
    font["CFF "].cff.fontNames = [ps]
    out = ROOT / "gridgis/render/fonts" / f"gridgis-cjk-sans-{style.lower()}.otf"
    font.save(out)
    return out


if __name__ == "__main__":
    cs = charset()
    for style, src in SOURCES.items():
        print(build(style, src, cs), len(cs), "characters")
