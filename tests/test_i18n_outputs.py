"""Every output of `gridgis demo`, `report`, `validate --html`, `heatmap`, `summary`, `atlas`, `notice`,
`assign` (rows and ``--per-grid``), `recode`, `recode-table`, `repair --html` and `render` (PDF and
both HTML maps), and their errors, speaks one language (`build`'s report: test_i18n_people_tables).

In Chinese (the default) no English word is left outside an allowlist (units, file formats, CRS
names, codes, names of statistics); with ``--lang en`` no Chinese is left except names that
come from the data (community and grid names, event categories …). The HTML pages draw their
Chinese text with the embedded font on a machine without any font.
"""

import csv
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .sysdeps import require_system

ROOT = Path(__file__).resolve().parents[1]
HAN = re.compile(r"[\u4e00-\u9fff]+")
WORD = re.compile(r"[A-Za-z][A-Za-z_]+")
#: English words allowed in Chinese outputs: units, file formats, CRS names, codes, statistics.
ALLOWED = {
    "km", "m²", "png", "svg", "pdf", "csv", "html", "gpkg", "json", "xlsx", "parquet", "docx",
    "GeoPackage", "CGCS", "Gauss", "Kruger", "CM", "degree", "WGS", "EPSG", "GCJ", "BD",
    "Gi", "Getis", "Ord", "FDR", "gridgis", "Leaflet", "OpenStreetMap", "deck", "gl", "DB",
    # codes a person types into the data (flags, the kind of a basic grid)
    "below_min_allowed", "above_max_allowed", "basic",
    # layer names of a GeoPackage a person opens in QGIS
    "grids", "changes", "findings",
}
ADDRESSES = ROOT / "data" / "samples" / "addresses.csv"
OPTION = re.compile(r"(?<![\w-])--[a-z][\w-]*")
PATH = re.compile(r"[\w.\-]*(?:/[\w.\-]+)+/?"
                  r"|\b[\w\-]+\.(?:html|csv|pdf|png|svg|gpkg|json|xlsx|parquet|docx)\b")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GRIDGIS_LANG", None)  # the CLI option decides
    return subprocess.run([sys.executable, "-m", "gridgis.cli", *args], capture_output=True,
                          text=True, timeout=900, cwd=cwd, env=env)


def _run_all(lang: str, folder: Path) -> dict:
    """demo, report and validate --html in ``lang``; their folder and what they printed."""
    folder.mkdir(parents=True, exist_ok=True)
    printed = []
    demo = _cli("--lang", lang, "demo", "-o", "demo", cwd=folder)
    assert demo.returncode == 0, demo.stderr
    report = _cli("--lang", lang, "report", "demo/plan.gpkg", "--events",
                  str(ROOT / "data" / "samples" / "events_gbk.csv"), "-o", "report", cwd=folder)
    assert report.returncode == 0, report.stderr
    validate = _cli("--lang", lang, "validate", "demo/plan.gpkg", "--parents", "demo/plan.gpkg",
                    "--parents-layer", "communities", "--html", "validation.html", cwd=folder)
    assert validate.returncode in (0, 1), validate.stderr
    bad = _cli("--lang", lang, "validate", "no_such_plan.gpkg", cwd=folder)
    assert bad.returncode == 2
    events = str(ROOT / "data" / "samples" / "events_gbk.csv")
    more = [  # event outputs (maps, tables, bulletin workbook), roll-ups, print products
        _cli("--lang", lang, "heatmap", events, "--grids", "demo/plan.gpkg", "--district",
             "demo/plan.gpkg", "--district-layer", "district", "-o", "events", cwd=folder),
        _cli("--lang", lang, "summary", "demo/plan.gpkg", "--by", "street", "--events", events,
             "-o", "summary.xlsx", cwd=folder),
        _cli("--lang", lang, "atlas", "demo/plan.gpkg", "--by", "street", "-o", "atlas.pdf",
             cwd=folder),
        _cli("--lang", lang, "notice", "demo/plan.gpkg", "-o", "notice.pdf", cwd=folder),
        _cli("--lang", lang, "assign", str(ROOT / "data" / "samples" / "addresses.csv"), "--grids",
             "demo/plan.gpkg", "-o", "assigned.parquet", "--per-grid", "per_grid.csv", cwd=folder),
    ]
    more += [  # tables for people: the rows of assign and recode-table, the crosswalk of recode
        _cli("--lang", lang, "assign", str(ADDRESSES), "--grids", "demo/plan.gpkg", "-o",
             "assigned.csv", cwd=folder),
        _cli("--lang", lang, "recode", "demo/plan.gpkg", "demo/plan.gpkg", "-o", "recoded.gpkg",
             "--crosswalk", "crosswalk.csv", cwd=folder),
    ]
    more += [  # the other verbs: repair with its page, the maps of render
        _cli("--lang", lang, "repair", "demo/plan.gpkg", "--parents", "demo/plan.gpkg",
             "--parents-layer", "communities", "-o", "repaired.gpkg", "--html", "repaired.html",
             cwd=folder),
        _cli("--lang", lang, "render", "demo/plan.gpkg", "-o", "map.pdf", cwd=folder),
        _cli("--lang", lang, "render", "demo/plan.gpkg", "-o", "map.html", cwd=folder),
        _cli("--lang", lang, "render", "demo/plan.gpkg", "-o", "map_deck.html", "--deck", cwd=folder),
    ]
    for res in more:
        assert res.returncode == 0, res.stderr
    recoded = _cli("--lang", lang, "recode-table", "assigned.csv", "--crosswalk", "crosswalk.csv",
                   "-o", "assigned_recoded.csv", cwd=folder)
    assert recoded.returncode in (0, 1), recoded.stderr  # 1: rows without a grid are reported
    more.append(recoded)
    wrong = [_cli("--lang", lang, "render", "demo/plan.gpkg", "-o", "map.docx", cwd=folder),
             _cli("--lang", lang, "assign", "no_such.csv", "--grids", "demo/plan.gpkg", "-o",
                  "x.csv", cwd=folder)]
    assert all(res.returncode == 2 for res in wrong)
    for res in (demo, report, validate, bad, *more, *wrong):
        printed += [res.stdout, res.stderr]
    return {"folder": folder, "printed": printed}


@pytest.fixture(scope="module")
def zh(tmp_path_factory):
    return _run_all("zh", tmp_path_factory.mktemp("zh"))


@pytest.fixture(scope="module")
def en(tmp_path_factory):
    return _run_all("en", tmp_path_factory.mktemp("en"))


class _Visible(HTMLParser):
    """Text a person sees in a page: text nodes outside script/style, titles, alt texts."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "alt", "placeholder") and value and not value.startswith("data:"):
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(path: Path) -> str:
    parser = _Visible()
    parser.feed(path.read_text(encoding="utf-8"))
    return "\n".join(parser.parts)


def table_text(path: Path) -> str:
    """The cells of a CSV; of a table that extends the user's rows, only the added columns
    (the input's own headers and values are the user's data)."""
    own = 0
    if path.name.startswith("assigned"):
        with ADDRESSES.open(encoding="utf-8-sig", newline="") as fh:
            own = len(next(csv.reader(fh)))
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return "\n".join("\t".join(row[own:]) for row in csv.reader(fh))


def pdf_text(path: Path) -> str:
    require_system("pdftotext", shutil.which("pdftotext") is not None,
                   "Debian package poppler-utils (`make sysdeps` as root)")
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True, timeout=120).stdout


def workbook_text(path: Path) -> str:
    """Sheet names and every text cell of an Excel workbook."""
    import openpyxl

    parts = []
    for ws in openpyxl.load_workbook(path, read_only=True).worksheets:
        parts.append(ws.title)
        parts += [v for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)]
    return "\n".join(parts)


def outputs_text(run: dict) -> dict[str, str]:
    """``{what: text}`` for every page, PDF, table and CLI stream of a run."""
    folder = run["folder"]
    # paths and option names (--out …) are what a person types
    texts = {f"printed {i}": OPTION.sub(" ", PATH.sub(" ", t)) for i, t in enumerate(run["printed"])}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.suffix == ".html":
            texts[name] = visible_text(path)
        elif path.suffix == ".csv":
            texts[name] = table_text(path)
        elif path.suffix == ".pdf":
            texts[name] = pdf_text(path)
        elif path.suffix == ".xlsx":
            texts[name] = workbook_text(path)
    return texts


def english_words(text: str) -> set[str]:
    """English words of ``text`` outside the allowlist (names of settings such as
    ``gap_width_m`` are codes a person types, and allowed)."""
    return {w for w in WORD.findall(text) if w not in ALLOWED and "_" not in w.strip("_")}


def data_names() -> set[str]:
    """Every text of the sample data (names, categories, urgencies …) and names made of them."""
    from gridgis.samples import load_sample

    names: set[str] = set()
    for layer in load_sample().values():
        for column in layer.columns:
            if column != getattr(layer, "_geometry_column_name", None):
                names.update(str(v) for v in layer[column].dropna().unique() if HAN.search(str(v)))
    return names


@pytest.mark.slow
def test_chinese_outputs_have_no_english_word(zh):
    texts = outputs_text(zh)
    assert {"report/report.pdf", "report/report.html", "validation.html", "demo/validation.html",
            "demo/grid_summary.csv", "report/tables/findings.csv", "report/tables/bulletin.xlsx",
            "events/events_by_grid.csv", "summary.xlsx",
            "atlas.pdf", "notice.pdf", "per_grid.csv", "assigned.csv", "crosswalk.csv",
            "assigned_recoded.csv", "assigned_recoded_report.csv", "repaired.html", "map.pdf",
            "map.html", "map_deck.html"} <= set(texts)
    found = {name: sorted(english_words(text))[:12] for name, text in texts.items()
             if english_words(text)}
    assert not found


@pytest.mark.slow
def test_english_outputs_have_no_chinese_but_names_from_the_data(en):
    texts = outputs_text(en)
    names = sorted(data_names(), key=len, reverse=True)
    made = re.compile(r"第\d+网格|专属网格\d*")  # grid names the builder makes of community names
    found = {}
    for name, text in texts.items():
        text = made.sub(" ", text)  # first: the data's texts include 网格 (a handling level)
        for n in names:
            text = text.replace(n, " ")
        left = HAN.findall(text)
        if left:
            found[name] = sorted(set(left))[:12]
    assert not found


# ---- fonts ---------------------------------------------------------------------------------------

_FIRST_CHINESE = """(() => {
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const p = n.parentElement; if (!p || /SCRIPT|STYLE/.test(p.tagName)) continue;
    const m = /[\\u4e00-\\u9fff]{2,}/.exec(n.data); if (!m) continue;
    const r = document.createRange(); r.setStart(n, m.index); r.setEnd(n, m.index + Math.min(4, m[0].length));
    const b = r.getBoundingClientRect();
    if (b.width < 8 || b.height < 8 || b.bottom > innerHeight || b.right > innerWidth || b.top < 0) continue;
    return [b.left, b.top, b.right, b.bottom, m[0].slice(0, 4)];
  }
  return null; })()"""


def _without_embedded_font(page: Path, out: Path) -> Path:
    text = re.sub(r'<style id="gridgis-cjk-font">.*?</style>', "", page.read_text(encoding="utf-8"),
                  flags=re.S)
    out.write_text(text, encoding="utf-8")
    return out


def _crop(result, box):
    import numpy as np

    x0, y0, x1, y1 = (int(round(v)) for v in box[:4])
    return np.asarray(result.image()[y0:y1 + 1, x0:x1 + 1], dtype=float)


@pytest.mark.slow
@pytest.mark.browser
def test_pages_draw_chinese_with_the_embedded_font(zh, tmp_path):
    """No Chinese font on the machine: the Chinese text of each page is drawn like the bundled
    font installed as a system font, and unlike the boxes drawn without any Chinese font.

    Chromium sees only a folder of Latin fonts (with no font at all it cannot lay text out: its
    font loading never settles), the bundled font's folder added for the reference drawing.
    """
    import numpy as np

    from gridgis.render.fonts import FAMILY, FONT_DIR

    from .browser import LATIN_FONT_DIRS, open_page

    folder = zh["folder"]
    pages = ["report/report.html", "validation.html", "demo/validation.html", "demo/map.html",
             "demo/map_25d.html",
             "demo/events/events_heatmap_animated.html", "demo/events/events_heatmap.html"]
    for name in pages:
        page = folder / name
        check = f"document.fonts.ready.then(() => document.fonts.check(\"16px '{FAMILY}'\", '网格'))"
        alone = open_page(page, font_dirs=LATIN_FONT_DIRS, wait=1.0,
                          evaluate={"box": _FIRST_CHINESE, "font": check})
        box = alone.values["box"]
        assert box and alone.values["font"] is True, name
        bare = _without_embedded_font(page, tmp_path / "bare.html")
        system = open_page(bare, font_dirs=(*LATIN_FONT_DIRS, str(FONT_DIR)), wait=1.0,
                           evaluate={"box": _FIRST_CHINESE})
        tofu = open_page(bare, font_dirs=LATIN_FONT_DIRS, wait=1.0,
                         evaluate={"box": _FIRST_CHINESE})
        ref, boxes = system.values["box"], tofu.values["box"]
        # the same glyph advances as the bundled font installed on the machine …
        assert ref and abs((ref[2] - ref[0]) - (box[2] - box[0])) <= 1, (name, box, ref)
        a, b = _crop(alone, box), _crop(system, ref)
        w = min(a.shape[1], b.shape[1])
        # ink per pixel column: the same glyphs whatever the line box (ascent differs a little)
        same = np.corrcoef((255 - a.mean(axis=2)).sum(axis=0)[:w],
                           (255 - b.mean(axis=2)).sum(axis=0)[:w])[0, 1]
        assert (a < 160).any() and same > 0.9, (name, same)
        # … and not the boxes (or fallback glyphs) drawn without a Chinese font
        assert boxes is None or abs((boxes[2] - boxes[0]) - (box[2] - box[0])) > 4, (name, boxes)


# ---- Excel ---------------------------------------------------------------------------------------


def test_excel_tables_keep_codes_as_text_with_a_frozen_header(tmp_path):
    import openpyxl
    import pandas as pd

    from gridgis.i18n import use_language
    from gridgis.io import write_table
    from gridgis.people import for_people

    df = pd.DataFrame({"grid_code": ["430302001001001", "430302001001002"],
                       "community_code": ["430302001001", "430302001001"],
                       "households": [320, 455], "match": ["inside", "nearest"]})
    with use_language("zh"):
        path = write_table(for_people(df), tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(path).active
    assert [c.value for c in ws[1]] == ["网格编码", "社区编码", "户数", "匹配结果"]
    assert ws["A2"].value == "430302001001001" and ws["A2"].data_type == "s"
    assert ws["A2"].number_format == "@" and ws["C2"].data_type == "n"
    assert ws["D3"].value == "最近网格"
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width >= 15  # the whole code shows
    back = pd.read_excel(path, dtype=str)
    from gridgis.schema import normalize_columns

    assert list(normalize_columns(back).columns[:3]) == ["grid_code", "community_code", "households"]
