"""The CLI's CSV outputs of ``assign``, ``recode`` and ``recode-table`` are tables for people.

The columns gridgis adds get headers and values in the language in use (Chinese by default,
readable English with ``--lang en``); the input's own columns stay as read; Parquet and
GeoPackage outputs and the Python API keep the canonical English columns and values; a table
for people reads back into the API's columns. Missing categories are labelled in the language
in use.
"""

from __future__ import annotations

import csv
import re

import pandas as pd
import pytest

import gridgis.assignment as ga
from gridgis import events, io, people
from gridgis.cli import main
from gridgis.i18n import use_language

from .test_assign import bench

ZH_MATCH = {"在网格内", "边界", "最近网格", "未匹配", "无效"}
LATIN = re.compile(r"[A-Za-z]{2,}")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A plan file and a CSV of points (headers lon/lat kept as the API's names, some bad)."""
    folder = tmp_path_factory.mktemp("people")
    grids, outline = bench.voronoi_plan(60, seed=31)
    plan = folder / "plan.gpkg"
    grids.to_file(plan, layer="grids")
    pts = bench.random_points(outline, 1500, seed=32).to_crs(4326)
    df = pd.DataFrame({"事件编号": [f"SJ{i:05d}" for i in range(len(pts))],
                       "lon": pts.geometry.x.round(7).astype(object),
                       "lat": pts.geometry.y.round(7).astype(object)})
    df.loc[3, "lon"] = None
    df.loc[4, ["lon", "lat"]] = [0.0, 0.0]
    src = folder / "events.csv"
    df.to_csv(src, index=False, encoding="utf-8-sig")
    return {"folder": folder, "plan": plan, "grids": grids, "src": src, "df": df}


def _rows(path):
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _assign(files, out, *lang, chunk="300"):
    code = main([*lang, "-q", "assign", str(files["src"]), "--grids", str(files["plan"]),
                 "-o", str(out), "--chunk-size", chunk])
    assert code == 0
    return out


def test_assign_csv_speaks_chinese_and_keeps_the_input_columns(files):
    out = _assign(files, files["folder"] / "zh.csv", "--lang", "zh")
    rows = _rows(out)
    head, body = rows[0], rows[1:]
    assert head[:3] == ["事件编号", "lon", "lat"]  # the input's own headers stay as read
    assert head[3:6] == ["网格编码", "匹配结果", "匹配说明"] and head[6].startswith("距离")
    api = ga.assign(files["df"], files["grids"]).table
    assert [r[0] for r in body] == files["df"]["事件编号"].tolist()  # rows in = rows out, in order
    with use_language("zh"):
        expected = [people.value("match", v) for v in api["match"].astype(str)]
    assert [r[4] for r in body] == expected and {"在网格内", "无效"} <= set(expected) <= ZH_MATCH
    reasons = {r[5] for r in body}
    assert "在网格内" in "".join(reasons) and not any(LATIN.search(r) for r in reasons)


def test_assign_csv_in_english_and_both_read_back(files):
    zh = _assign(files, files["folder"] / "zh_back.csv", "--lang", "zh")
    en = _assign(files, files["folder"] / "en.csv", "--lang", "en")
    assert _rows(en)[0][3:] == ["Grid code", "Match", "Match reason", "Distance (m)"]
    api = ga.assign(files["df"], files["grids"]).table
    for path in (zh, en):
        back = io.read_table(path)
        assert {"grid_code", "match", "match_reason", "distance_m"} <= set(back.columns)
        assert back["grid_code"].fillna("").tolist() == api["grid_code"].astype(object).fillna(
            "").tolist()
    back = io.read_table(en)
    assert back["match"].tolist() == api["match"].astype(str).tolist()
    assert back["match_reason"].tolist() == api["match_reason"].astype(str).tolist()


def test_chunks_are_formatted_alike_and_machine_outputs_stay_canonical(files):
    small = _assign(files, files["folder"] / "c300.csv", "--lang", "zh", chunk="300")
    whole = _assign(files, files["folder"] / "c9999.csv", "--lang", "zh", chunk="9999")
    assert small.read_bytes() == whole.read_bytes()
    parquet = _assign(files, files["folder"] / "zh.parquet", "--lang", "zh")
    table = pd.read_parquet(parquet)
    assert {"grid_code", "match", "match_reason", "distance_m"} <= set(table.columns)
    assert set(table["match"].astype(str)) <= set(ga.MATCH_VALUES)
    assert "inside the grid" in set(table["match_reason"].astype(str))


def test_python_api_writes_canonical_columns_in_chinese(files):
    out = files["folder"] / "api.csv"
    with use_language("zh"):
        ga.assign_file(files["src"], files["grids"], out, chunk_size=400)
    table = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert list(table.columns[3:]) == ["grid_code", "match", "match_reason", "distance_m"]
    assert set(table["match"]) <= set(ga.MATCH_VALUES)


def test_missing_category_is_labelled_in_the_language_in_use():
    ev = pd.DataFrame({"community_code": ["C1", None, "C1"], "category": ["环境卫生"] * 3,
                       "urgency": ["一般"] * 3,
                       "reported_at": pd.to_datetime(["2026-10-08", "2026-10-09", "2026-10-10"]),
                       "closed_at": pd.to_datetime([None, "2026-10-12", None])})
    for lang, label in (("zh", "未知"), ("en", "unknown")):
        with use_language(lang):
            got = events.event_indicators(ev, "community_code")
        assert set(got["community_code"]) == {"C1", label}


def test_recode_outputs_are_tables_for_people_that_read_back(tmp_path):
    from gridgis.codes import assign_codes, read_crosswalk

    from .test_codes_cli import C1, plan

    old = tmp_path / "old.gpkg"
    assign_codes(plan()).to_file(old, layer="grids")
    new = tmp_path / "new.gpkg"
    plan(splits=1).to_file(new)
    table = pd.DataFrame({"网格编码": [C1 + "001", C1 + "003", None]})
    src = tmp_path / "rows.csv"
    table.to_csv(src, index=False)
    for lang in ("zh", "en"):
        out = tmp_path / f"coded_{lang}.gpkg"
        cw = tmp_path / f"cw_{lang}.csv"
        assert main(["--lang", lang, "-q", "recode", str(old), str(new), "-o", str(out),
                     "--crosswalk", str(cw)]) == 0
        head = _rows(cw)[0]
        assert ("原编码" in head) == (lang == "zh") and ("Old code" in head) == (lang == "en")
        back = read_crosswalk(cw)  # the headers for people read back
        assert C1 + "001" in set(back["old_code"]) and back["new_code"].notna().any()
        rows_out = tmp_path / f"rows_{lang}.csv"
        assert main(["--lang", lang, "-q", "recode-table", str(src), "--crosswalk", str(cw),
                     "--column", "网格编码", "-o", str(rows_out)]) == 1
        text = "\n".join(",".join(r) for r in _rows(rows_out) + _rows(
            tmp_path / f"rows_{lang}_report.csv"))
        statuses = {"kept", "ambiguous", "missing"}
        if lang == "zh":
            assert not LATIN.search(text), text
        else:
            assert statuses <= set(re.findall(r"[a-z_]+", text)) and not re.search(
                r"[\u4e00-\u9fff]", text.replace("网格编码", ""))
        back = io.read_table(rows_out)
        assert {"grid_code", "recode_status"} <= set(back.columns) and len(back) == 3
        report = io.read_table(tmp_path / f"rows_{lang}_report.csv")
        assert {"old_code", "recode_status"} <= set(report.columns)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_assigning_an_assigned_csv_again_replaces_the_earlier_columns(files, lang):
    """A file assigned before (after a redraw, say) is assigned again: its earlier grid code,
    match, reason and distance columns are replaced by the new ones, as the Python API replaces
    same-named columns, instead of an internal error on two columns of one name."""
    first = _assign(files, files["folder"] / f"again_1_{lang}.csv", "--lang", lang)
    again = files["folder"] / f"again_2_{lang}.csv"
    code = main(["--lang", lang, "-q", "assign", str(first), "--grids", str(files["plan"]),
                 "-o", str(again), "--chunk-size", "300"])
    assert code == 0
    head, *rows = _rows(again)
    assert len(head) == len(set(head)) == len(_rows(first)[0])
    assert len(rows) == len(files["df"])
    assert _rows(again) == _rows(first)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_build_report_is_a_table_for_people(tmp_path, lang):
    """The exceptions of ``gridgis build`` (OUT.report.csv) in the language in use: headers,
    the kind of item and the reason; the API's report keeps its columns and codes."""
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "data" / "samples" / "sample_district.gpkg"
    assert main(["-q", "--lang", lang, "build", str(sample), "-o", str(tmp_path / "built.gpkg")]) == 0
    report = pd.read_csv(tmp_path / "built.report.csv", dtype=str, encoding="utf-8-sig")
    assert len(report) > 5
    kinds, reasons = report.iloc[:, 0], report.iloc[:, 3]
    if lang == "zh":
        assert all(re.fullmatch(r"[\u4e00-\u9fff（）]+", h) for h in report.columns), report.columns
        assert not [v for v in [*kinds, *reasons] if LATIN.search(v)], set(kinds) | set(reasons)
        assert {"小区", "网格"} <= set(kinds)
    else:
        assert list(report.columns) == ["Item", "ID", "Community code", "Reason", "Detail"]
        assert {"compound", "grid"} <= set(kinds) and "compound_split" in set(reasons)
    assert report.iloc[:, 2].str.fullmatch(r"\d{12}").all()  # codes as text


def test_build_report_details_have_no_nan(tmp_path):
    """A thin grid that no large block covers said "最狭长的大街坊 nan"."""
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "data" / "samples" / "sample_district.gpkg"
    assert main(["-q", "--lang", "zh", "build", str(sample), "-o", str(tmp_path / "b.gpkg")]) == 0
    report = pd.read_csv(tmp_path / "b.report.csv", dtype=str, encoding="utf-8-sig")
    assert not report.iloc[:, 4].fillna("").str.contains(r"\bnan\b").any()
