"""The quick path of a cold ``gridgis assign`` gives the full command's bytes, messages and errors.

A plain ``gridgis assign points.csv --grids plan.gpkg -o out.csv`` runs without the Typer app,
pandas or geopandas (:mod:`gridgis.assignment.quick`); ``GRIDGIS_QUICK=0`` runs the full
command. Every case runs both and compares the output files byte for byte (and the messages and
exit codes); the cases the quick path takes are also run through
:func:`gridgis.assignment.quick.assign_csv` directly, so a silent fall-back cannot pass for a
quick run.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from gridgis.assignment.quick import NA_TEXTS, NotQuick, assign_csv, parse_floats, read_plan_gpkg
from gridgis.cli import EXIT_BAD_INPUT, EXIT_OK, main
from gridgis.i18n import use_language

CODES = [f"4303020010010{i:02d}" for i in range(1, 7)]
X0, Y0, SIDE = 400_000.0, 3_000_000.0, 500.0


@pytest.fixture
def plan_file(tmp_path):
    """Six 500 m squares (3 x 2) in EPSG:4547, coded as a plan."""
    cells = [shapely.box(X0 + i * SIDE, Y0 + j * SIDE, X0 + (i + 1) * SIDE, Y0 + (j + 1) * SIDE)
             for j in range(2) for i in range(3)]
    path = tmp_path / "plan.gpkg"
    gpd.GeoDataFrame({"grid_code": CODES, "name": [f"网格{i}" for i in range(6)]},
                     geometry=cells, crs="EPSG:4547").to_file(path)
    return path


def _metric_points() -> list[tuple[str, float, float]]:
    """(label, x, y) in EPSG:4547: inside, on edges and vertices, outside near and far."""
    return [
        ("inside", X0 + 100, Y0 + 100),
        ("shared edge", X0 + SIDE, Y0 + 200),
        ("four grids meet", X0 + SIDE, Y0 + SIDE),
        ("outer edge", X0, Y0 + 300),
        ("outer vertex", X0 + 3 * SIDE, Y0 + 2 * SIDE),
        ("near outside", X0 - 40, Y0 + 250),
        ("outside beyond the nearest-grid distance", X0 - 3000, Y0 + 250),
        ("far outside", X0 - 90_000, Y0),
        ("inside the last grid", X0 + 2.5 * SIDE, Y0 + 1.5 * SIDE),
    ]


def _fmt(v: float) -> str:
    return repr(float(v))


def _rows_xy(missing: bool = True) -> list[list[str]]:
    rows = [[label, _fmt(x), _fmt(y)] for label, x, y in _metric_points()]
    if missing:
        rows += [["empty", "", ""], ["NA text", "NA", "NA"], ["nan text", "nan", "null"],
                 ["x only", _fmt(X0 + 10), ""], ["zero", "0", "0"], ["exponent", "4.0001e5", "3.0001e6"]]
    return rows


def _rows_lonlat() -> list[list[str]]:
    to_wgs = Transformer.from_crs(4547, 4326, always_xy=True)
    rows = []
    for label, x, y in _metric_points():
        lon, lat = to_wgs.transform(x, y)
        rows.append([label, _fmt(lon), _fmt(lat)])
    lon, lat = to_wgs.transform(X0 + 700, Y0 + 300)
    rows += [["swapped", _fmt(lat), _fmt(lon)], ["out of range", "200.5", "95"],
             ["infinite", "1e400", "27.1"], ["empty", "", ""], ["None text", "None", "None"],
             ["zero", "0", "0"], ["negative", "-112.9", "-27.8"], ["integers", "113", "27"]]
    return rows


def _write(path, header, rows, *, sep=",", encoding="utf-8", newline="\n", trailing=True):
    text = newline.join(sep.join(r) for r in [header, *rows]) + (newline if trailing else "")
    path.write_bytes(text.encode(encoding))
    return path


def _cli(args, quick, monkeypatch, capsys):
    monkeypatch.setenv("GRIDGIS_QUICK", "1" if quick else "0")
    rc = main(list(args))
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln and "\r" not in ln and "%|" not in ln]  # no bars
    return rc, lines


def _both(tmp_path, points, extra, monkeypatch, capsys, *, lang="en", quiet=True):
    """Run the quick and the full command; return their output bytes, exit codes, messages."""
    got = {}
    for quick in (True, False):
        out = tmp_path / f"out_{'quick' if quick else 'full'}.csv"
        args = [*(["-q"] if quiet else []), "--lang", lang, "assign", str(points), "--grids",
                str(tmp_path / "plan.gpkg"), "-o", str(out), *extra]
        rc, err = _cli(args, quick, monkeypatch, capsys)
        got[quick] = (out.read_bytes() if out.exists() else None, rc,
                      [ln.replace(out.name, "OUT") for ln in err])
    return got[True], got[False]


def _quick_direct(tmp_path, points, lang, **kw):
    with use_language(lang):
        out = tmp_path / "out_direct.csv"
        assign_csv(points, read_plan_gpkg(tmp_path / "plan.gpkg"), out, **kw)
        return out.read_bytes()


CASES = {
    "x/y metres": (["name", "x", "y"], _rows_xy, {}, ["--crs", "EPSG:4547", "--lon", "x", "--lat", "y"],
                   "utf-8", "\n"),
    "lon/lat, BOM": (["name", "lon", "lat"], _rows_lonlat, {}, [], "utf-8-sig", "\n"),
    "GBK, Chinese headers, CRLF": (["名称", "经度", "纬度"], _rows_lonlat, {}, [], "gbk", "\r\n"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("case", list(CASES))
def test_quick_and_full_write_the_same_bytes(tmp_path, plan_file, monkeypatch, capsys, case, lang):
    header, rows, _, extra, encoding, newline = CASES[case]
    points = _write(tmp_path / "points.csv", header, rows(), encoding=encoding, newline=newline)
    quick, full = _both(tmp_path, points, extra, monkeypatch, capsys, lang=lang)
    assert full[1] == EXIT_OK and full[0] is not None
    assert quick == full
    kw = {"crs": "EPSG:4547", "lon": "x", "lat": "y"} if extra else {}
    assert _quick_direct(tmp_path, points, lang, **kw) == full[0]
    table = pd.read_csv(tmp_path / "out_full.csv", dtype=str, keep_default_na=False)
    assert len(table) == len(rows())
    matches = set(table.iloc[:, 4])
    expected = ["inside", "boundary", "nearest", "unmatched", "invalid"] if lang == "en" else [
        "在网格内", "边界", "最近网格", "未匹配", "无效"]
    if not extra:  # lon/lat converted to the plan's CRS do not land exactly on its edges
        expected.pop(1)
    assert matches == set(expected)  # every rule was exercised


def test_status_lines_and_strict_exit_code_are_the_same(tmp_path, plan_file, monkeypatch, capsys):
    points = _write(tmp_path / "points.csv", ["name", "lon", "lat"], _rows_lonlat())
    quick, full = _both(tmp_path, points, ["--strict"], monkeypatch, capsys, quiet=False)
    assert full[1] == 1 and full[2]  # invalid rows: exit 1 with --strict; a summary was printed
    assert quick == full


def test_tsv_with_commas_and_missing_markers(tmp_path, plan_file, monkeypatch, capsys):
    rows = [[f"{r[0]}, 号", "NA" if i % 3 == 0 else "", *r[1:]] for i, r in enumerate(_rows_xy())]
    points = _write(tmp_path / "points.tsv", ["name", "note", "经度", "纬度"], rows, sep="\t")
    quick, full = _both(tmp_path, points, ["--crs", "EPSG:4547"], monkeypatch, capsys, lang="zh")
    assert quick == full and full[1] == EXIT_OK
    assert _quick_direct(tmp_path, points, "zh", crs="EPSG:4547") == full[0]
    assert b'"inside, \xe5\x8f\xb7"' in full[0]  # a field with a comma is quoted


def test_semicolons_blank_lines_and_no_final_newline(tmp_path, plan_file, monkeypatch, capsys):
    rows = _rows_lonlat()
    rows.insert(3, [""])  # a blank line
    points = _write(tmp_path / "points.csv", ["name", "lon", "lat"], rows, sep=";", trailing=False)
    quick, full = _both(tmp_path, points, [], monkeypatch, capsys)
    assert quick == full and full[1] == EXIT_OK
    assert _quick_direct(tmp_path, points, "en") == full[0]


@pytest.mark.parametrize("ending", ["none", "blank lines", "CRLF, none"])
def test_commas_and_the_end_of_the_file(tmp_path, plan_file, monkeypatch, capsys, ending):
    """The fast writer copies the lines as read: the last one, with or without its line end,
    and blank lines at the end of the file."""
    rows = _rows_lonlat()
    if ending == "blank lines":
        rows += [[""], [""]]
    points = _write(tmp_path / "points.csv", ["name", "lon", "lat"], rows, trailing=ending != "none",
                    newline="\r\n" if ending.startswith("CRLF") else "\n")
    if ending.startswith("CRLF"):
        points.write_bytes(points.read_bytes().removesuffix(b"\r\n"))
    quick, full = _both(tmp_path, points, [], monkeypatch, capsys)
    assert quick == full and full[1] == EXIT_OK
    assert _quick_direct(tmp_path, points, "en") == full[0]
    assert full[0].count(b"\n") == len(_rows_lonlat()) + 1


def test_the_sample_district(tmp_path, sample_plan, sample_layers, monkeypatch, capsys):
    sample_plan[["grid_code", "geometry"]].to_file(tmp_path / "plan.gpkg")
    for name in ("addresses", "events"):
        table = pd.DataFrame(sample_layers[name].drop(columns="geometry"))
        points = tmp_path / f"{name}.csv"
        table.to_csv(points, index=False)
        for lang in ("zh", "en"):
            quick, full = _both(tmp_path, points, [], monkeypatch, capsys, lang=lang)
            assert quick == full and full[1] == EXIT_OK
            assert _quick_direct(tmp_path, points, lang) == full[0]


FALLBACKS = {
    "quoted field": lambda r: [[f'"{r[0][0]}"', *r[0][1:]], *r[1:]],
    "leading space": lambda r: [[r[0][0], " " + r[0][1], r[0][2]], *r[1:]],
    "text in a coordinate": lambda r: [[r[0][0], "abc", r[0][2]], *r[1:]],
    "full-width digits": lambda r: [[r[0][0], "１１２．９", r[0][2]], *r[1:]],
    "missing field": lambda r: [[r[0][0], r[0][1]], *r[1:]],
}


@pytest.mark.parametrize("case", list(FALLBACKS))
def test_inputs_the_quick_path_declines_give_the_full_result(tmp_path, plan_file, monkeypatch,
                                                               capsys, case):
    points = _write(tmp_path / "points.csv", ["name", "lon", "lat"], FALLBACKS[case](_rows_lonlat()))
    with pytest.raises(NotQuick):
        _quick_direct(tmp_path, points, "en")
    quick, full = _both(tmp_path, points, [], monkeypatch, capsys)
    assert quick == full


def test_title_rows_and_an_assigned_file_fall_back(tmp_path, plan_file, monkeypatch, capsys):
    titled = tmp_path / "titled.csv"
    titled.write_text("2024年 地址库\n" + "name,lon,lat\n" + "a,112.9,27.8\n", encoding="utf-8")
    assigned = _write(tmp_path / "assigned.csv", ["name", "lon", "lat", "grid_code"],
                      [[*r, "x"] for r in _rows_lonlat()])
    for points in (titled, assigned):
        with pytest.raises(NotQuick):
            _quick_direct(tmp_path, points, "en")
        quick, full = _both(tmp_path, points, [], monkeypatch, capsys)
        assert quick == full and full[1] == EXIT_OK


@pytest.mark.parametrize(("epsg", "extent"), [(4326, "listed"), (4490, "listed"),
                                               (4490, "missing"), (4490, "elsewhere")])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_plans_in_degrees(tmp_path, plan_file, monkeypatch, capsys, epsg, extent, lang):
    """A plan in WGS84 or CGCS2000 degrees: distances are measured in the metric CRS the full
    path chooses, from the same converted polygons; the same bytes. The extent the GeoPackage
    lists only hints at that CRS: missing or wrong, the result is the same."""
    import sqlite3

    gpd.read_file(plan_file).to_crs(epsg).to_file(tmp_path / "plan.gpkg")
    if extent != "listed":
        con = sqlite3.connect(tmp_path / "plan.gpkg")
        con.execute("UPDATE gpkg_contents SET min_x = ?, min_y = 0, max_x = 1, max_y = 1",
                    (None if extent == "missing" else 0.0,))
        con.commit()
        con.close()
    plan = read_plan_gpkg(tmp_path / "plan.gpkg")
    assert plan.crs.to_epsg() == epsg and plan.metric.to_epsg() == 4547
    points = _write(tmp_path / "points.csv", ["name", "lon", "lat"], _rows_lonlat())
    quick, full = _both(tmp_path, points, [], monkeypatch, capsys, lang=lang)
    assert quick == full and full[1] == EXIT_OK
    assert _quick_direct(tmp_path, points, lang) == full[0]
    table = pd.read_csv(tmp_path / "out_full.csv", dtype=str, keep_default_na=False)
    nearest = table[table.iloc[:, 4] == ("nearest" if lang == "en" else "最近网格")]
    assert len(nearest) and (nearest.iloc[:, 6].astype(float) > 0).all()  # metres, not degrees


@pytest.mark.parametrize("plan_kind", ["heights", "alias header", "versions"])
def test_plans_the_quick_path_declines(tmp_path, monkeypatch, capsys, plan_kind):
    cells = [shapely.box(112.9, 27.8, 112.91, 27.81), shapely.box(112.91, 27.8, 112.92, 27.81)]
    plan = gpd.GeoDataFrame({"grid_code": CODES[:2]}, geometry=cells, crs="EPSG:4326")
    if plan_kind == "heights":
        plan = plan.set_geometry(shapely.force_3d(plan.geometry.array, 50.0), crs=4326)
    else:
        plan = plan.to_crs(4547)
    if plan_kind == "alias header":
        plan = plan.rename(columns={"grid_code": "网格编码"})
    if plan_kind == "versions":
        from gridgis.versions import save_version

        save_version(plan, tmp_path / "plan.gpkg", note="v1")
    else:
        plan.to_file(tmp_path / "plan.gpkg")
    with pytest.raises(NotQuick):
        read_plan_gpkg(tmp_path / "plan.gpkg")
    points = _write(tmp_path / "points.csv", ["name", "lon", "lat"],
                    [["a", "112.905", "27.805"], ["b", "112.91", "27.805"], ["c", "", ""]])
    quick, full = _both(tmp_path, points, [], monkeypatch, capsys)
    assert quick == full and full[1] == EXIT_OK


ERRORS = {
    "missing points file": lambda d: ([str(d / "nope.csv")], {}),
    "output is the input": lambda d: ([str(d / "points.csv"), "-o", str(d / "points.csv")], {}),
    "no such code column": lambda d: ([str(d / "points.csv"), "--code-column", "code"], {}),
    "negative distance": lambda d: ([str(d / "points.csv"), "--max-distance", "-5"], {}),
    "header only": lambda d: ([str(d / "empty.csv")], {}),
    "no coordinate columns": lambda d: ([str(d / "nocoords.csv")], {}),
    "duplicate codes": lambda d: ([str(d / "points.csv")], {"duplicate": True}),
    "missing plan": lambda d: ([str(d / "points.csv")], {"no_plan": True}),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_are_the_same(tmp_path, monkeypatch, capsys, case, lang):
    cells = [shapely.box(X0, Y0, X0 + SIDE, Y0 + SIDE), shapely.box(X0 + SIDE, Y0, X0 + 2 * SIDE, Y0 + SIDE)]
    args, how = ERRORS[case](tmp_path)
    if not how.get("no_plan"):
        codes = CODES[:1] * 2 if how.get("duplicate") else CODES[:2]
        gpd.GeoDataFrame({"grid_code": codes}, geometry=cells, crs="EPSG:4547").to_file(
            tmp_path / "plan.gpkg")
    _write(tmp_path / "points.csv", ["name", "lon", "lat"], _rows_lonlat())
    (tmp_path / "empty.csv").write_text("name,lon,lat\n", encoding="utf-8")
    _write(tmp_path / "nocoords.csv", ["name", "a", "b"], [["p", "1", "2"]])
    runs = []
    for quick in (True, False):
        out = ["-o", str(tmp_path / "out.csv")] if "-o" not in args else []
        monkeypatch.setenv("GRIDGIS_QUICK", "1" if quick else "0")
        rc = main(["-q", "--lang", lang, "assign", *args, "--grids", str(tmp_path / "plan.gpkg"), *out])
        runs.append((rc, capsys.readouterr().err))
    assert runs[0] == runs[1]
    assert runs[1][0] == EXIT_BAD_INPUT and runs[1][1].strip()
    assert not (tmp_path / "out.csv").exists()


def test_missing_value_markers_are_what_pandas_reads_as_missing():
    import io

    candidates = sorted(NA_TEXTS | {"n/A", "NONE", "Nan", "#N/a", "-", "?", "0", "missing"})
    text = "a,b\n" + "".join(f"{t},x\n" for t in candidates)
    read = pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True)["a"]
    assert {t for t, na in zip(candidates, read.isna(), strict=True) if na} == set(NA_TEXTS)


def test_plan_arrays_need_a_metric_crs():
    from gridgis.assignment import PlanIndex
    from gridgis.errors import CRSError

    with pytest.raises(CRSError, match="metres"):
        PlanIndex.from_arrays(np.array(CODES[:1], dtype=object), np.array([shapely.box(0, 0, 1, 1)]),
                              "EPSG:4326")


_NUMBER_TEXTS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(-180, 180).map(lambda v: f"{v:.6f}"),
    st.integers(-(10**22), 10**22).map(str),
    st.builds(lambda m, e, sign: f"{sign}{m}e{e}", st.integers(0, 10**20), st.integers(-330, 310),
              st.sampled_from(["", "-"])),
    st.builds(lambda a, b, e: f"{a}.{b}E{e:+d}", st.integers(0, 999), st.integers(0, 10**19),
              st.integers(-30, 30)),
    st.sampled_from(["-0", "0", "-0.0", "1.", ".5", "+1", "01", "-", "1e", "1-2", "1e309",
                     "4.9406564584124654e-324", "2.4703282292062328e-324", "9007199254740993",
                     "18446744073709551616", "-9223372036854775809"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_NUMBER_TEXTS, min_size=1, max_size=40))
def test_number_texts_read_as_python_reads_them(texts):
    """The quick path reads coordinates fast (as one JSON array) and exactly as ``float``:
    the same bits, the sign of zero, and the same texts refused."""
    try:
        expected = np.array([float(t) for t in texts])
    except ValueError:
        with pytest.raises(ValueError):
            parse_floats(texts)
        return
    got = parse_floats(texts)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got.view(np.int64), expected.view(np.int64))
