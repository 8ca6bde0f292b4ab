"""Every Excel file gridgis writes is made for people, in both languages.

The writers: ``assign --per-grid``, ``recode --crosswalk``, ``recode-table`` (the rewritten table
and its report), ``summary`` and the bulletin workbook (``report``, ``heatmap``). Each is opened
with openpyxl: codes are text cells (15 digits intact, text format), the header row is frozen
and bold, every column is about as wide as its longest text, headers are Chinese in Chinese and
English in English, and the file reads back through the schema's aliases with its codes as text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from gridgis import io, schema
from gridgis.cli import main
from gridgis.i18n import use_language

openpyxl = pytest.importorskip("openpyxl")

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples"
HAN = re.compile(r"[\u4e00-\u9fff]")
DIGITS = re.compile(r"^[0-9]+$")
#: canonical columns that hold codes
CODES = {schema.GRID_CODE, schema.COMMUNITY_CODE, schema.CODE, schema.PARENT_CODE, "old_code",
         "new_code"}


@pytest.fixture(scope="module", params=["zh", "en"])
def written(request, sample_plan, sample_layers, tmp_path_factory):
    """``{name: (path, headers of the user's own columns)}`` of every workbook, in one language."""
    from gridgis.workflows import bulletin, write_bulletin_excel

    lang = request.param
    folder = tmp_path_factory.mktemp(f"excel_{lang}")
    plan = folder / "plan.gpkg"
    sample_plan.to_file(plan, layer="grids")
    for name in ("communities", "streets", "district"):
        sample_layers[name].to_file(plan, layer=name)
    codes = sample_plan[schema.GRID_CODE].tolist()
    own = pd.DataFrame({"事件编号": ["E1", "E2", "E3", "E4"],
                        "网格编码": [codes[0], codes[1], "430302999999999", None]})
    own.to_csv(folder / "own.csv", index=False, encoding="utf-8-sig")

    def run(*args: str, ok=(0,)) -> None:
        assert main(["-q", "--lang", lang, *args]) in ok, args

    run("assign", str(SAMPLE / "addresses.csv"), "--grids", str(plan), "-o",
        str(folder / "assigned.csv"), "--per-grid", str(folder / "per_grid.xlsx"))
    run("recode", str(plan), str(plan), "-o", str(folder / "recoded.gpkg"), "--crosswalk",
        str(folder / "crosswalk.xlsx"))
    run("recode-table", str(folder / "own.csv"), "--crosswalk", str(folder / "crosswalk.xlsx"),
        "--column", "网格编码", "-o", str(folder / "own_recoded.xlsx"), "--report",
        str(folder / "own_report.xlsx"), ok=(0, 1))
    run("summary", str(plan), "--by", "grid", "-o", str(folder / "summary_grid.xlsx"))
    run("summary", str(plan), "--by", "street", "--events", str(SAMPLE / "events.csv"), "-o",
        str(folder / "summary_street.xlsx"))
    with use_language(lang):
        b = bulletin(sample_layers["events"].to_crs(4326), sample_plan.to_crs(4326),
                     communities=sample_layers["communities"], streets=sample_layers["streets"])
        write_bulletin_excel(b, folder / "bulletin.xlsx")
    files = {"per_grid": (), "crosswalk": (), "own_recoded": ("事件编号", "网格编码"),
             "own_report": (), "summary_grid": (), "summary_street": (), "bulletin": ()}
    return {"lang": lang, "codes": set(codes),
            "files": {name: (folder / f"{name}.xlsx", mine) for name, mine in files.items()}}


def _sheets(path: Path):
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        header = [c.value for c in ws[1]]
        columns = [[ws.cell(r, j).value for r in range(2, ws.max_row + 1)]
                   for j in range(1, len(header) + 1)]
        yield ws, header, columns


def _code_columns(header, columns) -> list[int]:
    """Columns of codes: a code header, or nothing but digits."""
    found = []
    for j, (h, values) in enumerate(zip(header, columns, strict=True)):
        present = [v for v in values if v not in (None, "")]
        known = schema.canonical_name(str(h)) in CODES
        if present and (known or all(isinstance(v, str) and DIGITS.match(v) for v in present)):
            found.append(j)
    return found


def test_every_writer_is_covered(written):
    for name, (path, _own) in written["files"].items():
        assert path.exists(), name


def test_codes_are_text_cells_with_every_digit(written):
    for name, (path, _own) in written["files"].items():
        n_codes = 0
        for ws, header, columns in _sheets(path):
            code_cols = _code_columns(header, columns)
            n_codes += len(code_cols)
            for j in code_cols:
                for r in range(2, ws.max_row + 1):
                    cell = ws.cell(r, j + 1)
                    if cell.value is None:
                        continue
                    assert cell.data_type == "s" and cell.number_format == "@", (name, header[j], r)
                    assert DIGITS.match(cell.value) and len(cell.value) in (6, 9, 12, 15), cell.value
                    if len(cell.value) == 15 and name not in ("own_recoded", "own_report"):
                        assert cell.value in written["codes"], (name, cell.value)
        assert n_codes, name  # every workbook has codes


def test_fifteen_digit_grid_codes_are_kept_whole(written):
    per_grid, _ = written["files"]["per_grid"]
    (ws, header, columns), = _sheets(per_grid)
    assert set(columns[0]) == written["codes"]
    summary, _ = written["files"]["summary_grid"]
    (ws, header, columns), = _sheets(summary)
    assert set(columns[0]) == written["codes"]


def test_header_row_is_frozen_and_bold(written):
    for name, (path, _own) in written["files"].items():
        for ws, header, _columns in _sheets(path):
            assert ws.freeze_panes == "A2", (name, ws.title)
            assert all(ws.cell(1, j).font.bold for j in range(1, len(header) + 1)), (name, ws.title)


def test_columns_are_as_wide_as_their_texts(written):
    from openpyxl.utils import get_column_letter

    from gridgis._excel import display_width

    for name, (path, _own) in written["files"].items():
        for ws, header, columns in _sheets(path):
            for j, (h, values) in enumerate(zip(header, columns, strict=True), start=1):
                width = ws.column_dimensions[get_column_letter(j)].width
                longest = max(display_width(v) for v in [h, *values] if v is not None)
                assert min(longest, 58) + 1 <= width <= 62, (name, ws.title, h, width, longest)


def test_headers_speak_the_language(written):
    lang = written["lang"]
    for name, (path, own) in written["files"].items():
        for ws, header, _columns in _sheets(path):
            assert bool(HAN.search(ws.title)) == (lang == "zh"), (name, ws.title)
            for h in header:
                if h in own:
                    continue
                assert bool(HAN.search(str(h))) == (lang == "zh"), (name, ws.title, h)


def test_workbooks_read_back_through_the_aliases(written):
    for name, (path, _own) in written["files"].items():
        for ws, header, columns in _sheets(path):
            back = io.read_table(path, sheet=ws.title)
            canon = {h: schema.canonical_name(str(h)) for h in header}
            for h, c in canon.items():
                if c is not None:
                    assert c in back.columns, (name, ws.title, h, list(back.columns))
            for j in _code_columns(header, columns):
                c = canon[header[j]] or header[j]
                got = [v for v in back[c].tolist() if isinstance(v, str) or pd.notna(v)]
                want = [v for v in columns[j] if v is not None]
                assert got == want, (name, ws.title, header[j])
    crosswalk, _ = written["files"]["crosswalk"]
    back = io.read_table(crosswalk)
    assert {"old_code", "new_code", "relation"} <= set(back.columns)
