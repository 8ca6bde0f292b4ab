"""An adversarial corpus of bad or awkward input files, and the CLI runs that must survive them.

Every :class:`Case` writes a few small files into a folder (deterministically, no network) and
lists the ``gridgis`` runs that read them, with what the command line must do:

- exit 0 (ok), 1 (rule violations found) or 2 (bad input, bad usage or an output that cannot be
  written) — never a traceback;
- on exit 2, name the user's file (its base name at least) or the option at fault;
- for point/table inputs that are readable, keep every row: rows in = rows out;
- leave input files byte-identical when an output path points at them.

The valid starting material (:class:`Material`) is the clean plan of
:mod:`tests.corpus.plans` (30 grids, EPSG:4547) written as ``plan.gpkg`` with its
``communities`` and ``buildings`` beside it, an event table of 120 rows at the plan's address
points, and a crosswalk mapping every code to itself.

Runs are written with placeholders filled from :attr:`Material.paths`: ``{plan}``,
``{events}``, ``{cw}`` and ``{district}`` (the bundled sample district). Any other path in a
run is relative to the case folder (the command runs there), as a user would type it.

``python -m tests.corpus.bad_inputs OUTDIR`` writes every case into OUTDIR/<case id>/.
"""

from __future__ import annotations

import shutil
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgis.io import read_table
from tests.corpus.plans import make_district

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"
N_EVENTS = 120  # rows of the base event table
CODE_COL = "prev_grid"  # grid-code column of the event table (a previous plan's codes)
ZH = {  # English -> Chinese headers, as offices export them
    "event_id": "事件编号", "category": "事件类型", "urgency": "紧急程度", "stage": "流程环节",
    "reported_at": "上报时间", "closed_at": "办结时间", CODE_COL: "上期网格", "address": "地址",
    "lon": "经度", "lat": "纬度",
}


# ---- starting material ------------------------------------------------------------------------


@dataclass
class Material:
    """Valid inputs shared by every case (build once per session)."""

    folder: Path
    grids: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    events: pd.DataFrame  # N_EVENTS rows, every value text, lon/lat WGS84 inside the plan

    @property
    def paths(self) -> dict[str, str]:
        return {"plan": str(self.folder / "plan.gpkg"), "events": str(self.folder / "events.csv"),
                "cw": str(self.folder / "crosswalk.csv"),
                "district": str(SAMPLES / "sample_district.gpkg")}

    @classmethod
    def create(cls, folder: Path) -> Material:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        d = make_district(0)
        m = cls(folder, d.grids, d.communities, d.buildings, _base_events(d))
        write_layers(folder / "plan.gpkg", {"grids": d.grids, "communities": d.communities,
                                            "buildings": d.buildings})
        m.events.to_csv(folder / "events.csv", index=False, encoding="utf-8")
        codes = d.grids["grid_code"].astype(str)
        pd.DataFrame({"old_code": codes, "new_code": codes, "relation": "same"}).to_csv(
            folder / "crosswalk.csv", index=False, encoding="utf-8")
        return m


def _base_events(d) -> pd.DataFrame:
    """120 events at the plan's address points (WGS84, 7 decimals), every value as text.

    Categories, urgency, stage and times come from data/samples/events.csv; every other row is
    环境卫生 so that one category has at least 30 events (the heatmap's per-category maps).
    """
    src = pd.read_csv(SAMPLES / "events.csv", nrows=N_EVENTS, dtype=str, keep_default_na=False)
    addr = d.addresses.iloc[:N_EVENTS]
    ev = src[["event_id", "category", "urgency", "stage", "reported_at", "closed_at"]].copy()
    ev.loc[ev.index[::2], "category"] = "环境卫生"
    ev[CODE_COL] = addr["building_id"].str[1:16].to_numpy()  # B<grid code><nn>
    ev["address"] = addr["address"].to_numpy()
    ev["lon"] = [f"{v:.7f}" for v in addr["lon"]]
    ev["lat"] = [f"{v:.7f}" for v in addr["lat"]]
    return ev.reset_index(drop=True)


def write_layers(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    import pyogrio

    if path.exists():
        path.unlink()
    for name, gdf in layers.items():
        pyogrio.write_dataframe(gdf, path, layer=name, driver="GPKG", append=path.exists())


def _csv_text(df: pd.DataFrame, sep: str = ",", newline: str = "\n") -> str:
    return df.to_csv(index=False, sep=sep, lineterminator=newline)


def _points(df: pd.DataFrame) -> gpd.GeoDataFrame:
    geom = shapely.points(df["lon"].astype(float), df["lat"].astype(float))
    return gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=geom, crs=4326)


# ---- cases and runs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One command line reading the case's files.

    ``args`` follow ``gridgis``; ``{plan}``, ``{events}``, ``{cw}``, ``{district}`` are filled
    from :attr:`Material.paths`. ``exit``/``named`` override the case's. ``rows_out`` is the
    output table whose rows must equal the rows written (``"@events"``: the event count the
    heatmap reports); ``unchanged`` lists files that must be byte-identical afterwards.
    """

    verb: str
    args: tuple[str, ...]
    label: str = ""
    exit: tuple[int, ...] | None = None
    named: tuple[str, ...] | None = None
    rows_out: str | None = None
    unchanged: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.label or self.verb

    def argv(self, paths: dict[str, str]) -> list[str]:
        return [self.verb, *(a.format(**paths) for a in self.args)]


@dataclass(frozen=True)
class Case:
    """A bad or awkward input: the files it writes and the runs that read them."""

    id: str
    write: Callable[[Path, Material], None]
    runs: tuple[Run, ...]
    exit: tuple[int, ...] = (2,)
    named: tuple[str, ...] = ()  # texts stderr must contain on exit 2 (file names, options)
    rows: int | None = None  # data rows written: rows in = rows out applies when set
    check: Callable[[Path, Run], None] | None = None  # more checks on exit 0/1
    note: str = ""


# run builders: the verbs that read a table of points/events, a plan, or a district


def table_runs(name: str, *, assign: bool = True, heatmap: bool = True, report: bool = False,
               recode_table: bool = True, validate: bool = False, out: str = "out.csv",
               column: str = CODE_COL, extra: tuple[str, ...] = (),
               heatmap_extra: tuple[str, ...] = ()) -> tuple[Run, ...]:
    runs = []
    if assign:
        runs.append(Run("assign", (name, "--grids", "{plan}", "-o", out, *extra), rows_out=out))
    if heatmap:
        runs.append(Run("heatmap", (name, "--grids", "{plan}", "-o", "maps", *heatmap_extra),
                        rows_out="@events"))
    if report:
        runs.append(Run("report", ("{plan}", "--events", name, "-o", "rep")))
    if recode_table:
        runs.append(Run("recode-table", (name, "--crosswalk", "{cw}", "--column", column,
                                         "-o", "recoded.csv"), rows_out="recoded.csv"))
    if validate:
        runs.append(Run("validate", ("{plan}", "--addresses", name), label="validate-addresses"))
    return tuple(runs)


def plan_runs(name: str, *, context: bool = False, build: bool = False,
              heatmap: bool = False, report: bool = True, render: bool = True) -> tuple[Run, ...]:
    """Every verb that reads a plan, given NAME as the plan (render, the slowest to start,
    only where asked)."""
    runs = [
        Run("validate", (name,)),
        Run("repair", (name, "-o", "fixed.gpkg")),
        *([Run("render", (name, "-o", "map.png", "--dpi", "40"))] if render else []),
        Run("recode", (name, "{plan}", "-o", "rec.gpkg"), label="recode-old"),
        Run("recode", ("{plan}", name, "-o", "rec.gpkg"), label="recode-new"),
        Run("assign", ("{events}", "--grids", name, "-o", "out.csv"), label="assign-grids"),
    ]
    if heatmap:
        runs.append(Run("heatmap", ("{events}", "--grids", name, "-o", "maps"),
                        label="heatmap-grids"))
    if report:
        runs.append(Run("report", (name, "-o", "rep")))
    if context:
        runs += [
            Run("validate", ("{plan}", "--parents", name, "--parents-layer", "communities"),
                label="validate-parents"),
            Run("validate", ("{plan}", "--buildings", name, "--buildings-layer", "buildings"),
                label="validate-buildings"),
        ]
    if build:
        runs.append(Run("build", (name, "-o", "built.gpkg")))
    return tuple(runs)


# ---- writers: files that do not exist, are empty, or are not what their name says --------------


def _nothing(folder: Path, m: Material) -> None:
    """Writes nothing: the file named in the runs does not exist."""


Writer = Callable[[Path, Material], None]


def _write_bytes(name: str, data: bytes | Callable[[Material], bytes]) -> Writer:
    def write(folder: Path, m: Material) -> None:
        (folder / name).write_bytes(data(m) if callable(data) else data)

    return write


def _write_text(name: str, text: Callable[[Material], str], encoding: str) -> Writer:
    def write(folder: Path, m: Material) -> None:
        (folder / name).write_bytes(text(m).encode(encoding))

    return write


def _mkdir(name: str) -> Writer:
    def write(folder: Path, m: Material) -> None:
        (folder / name).mkdir()

    return write


def _random_bytes(n: int, seed: int) -> bytes:
    return np.random.default_rng(seed).bytes(n)


def _truncated_plan(m: Material) -> bytes:
    data = (m.folder / "plan.gpkg").read_bytes()
    return data[: len(data) // 3]


def _copy_plan(name: str) -> Writer:
    def write(folder: Path, m: Material) -> None:
        shutil.copyfile(m.folder / "plan.gpkg", folder / name)

    return write


def _events(m: Material, n: int | None = None) -> pd.DataFrame:
    return m.events.copy() if n is None else m.events.iloc[:n].copy()


def _mixed_encoding(m: Material) -> bytes:
    lines = _csv_text(_events(m)).splitlines(keepends=True)
    half = len(lines) // 2
    return "".join(lines[:half]).encode("utf-8") + "".join(lines[half:]).encode("gbk")


def _unbalanced_quote(m: Material) -> bytes:
    lines = _csv_text(_events(m)).splitlines(keepends=True)
    lines[5] = lines[5].replace(",", ',"', 1)  # a quote opened and never closed
    return "".join(lines).encode("utf-8")


def _ragged(m: Material) -> bytes:
    lines = _csv_text(_events(m)).splitlines(keepends=True)
    for i in (4, 9, 30):
        lines[i] = lines[i].rstrip("\n") + ",多余,字段\n"  # two more fields than the header
    return "".join(lines).encode("utf-8")


def _no_lonlat(m: Material) -> str:
    return _csv_text(_events(m).drop(columns=["lon", "lat"]))


def _header_only(m: Material) -> str:
    return ",".join(m.events.columns) + "\n"


def _gbk_chinese(m: Material) -> str:
    return _csv_text(_events(m).rename(columns=ZH), newline="\r\n")


def _crlf_blank_lines(m: Material) -> str:
    lines = _csv_text(_events(m), newline="\r\n").splitlines(keepends=True)
    lines.insert(40, "\r\n")  # a blank line inside the data
    return "".join(lines) + "\r\n\r\n\r\n"  # and trailing blank lines


def _fullwidth(m: Material) -> str:
    ev = _events(m)
    table = str.maketrans("0123456789.", "０１２３４５６７８９．")
    ev.loc[ev.index[:20], "lon"] = ev["lon"].iloc[:20].str.translate(table)
    ev.loc[ev.index[:20], "lat"] = ev["lat"].iloc[:20].str.translate(table)
    return _csv_text(ev)


def _custom_lonlat(m: Material) -> str:
    return _csv_text(_events(m).rename(columns={"lon": "coord_e", "lat": "coord_n"}))


def _gcj02(m: Material) -> str:
    from gridgis.crs import wgs84_to_gcj02

    ev = _events(m)
    x, y = wgs84_to_gcj02(ev["lon"].astype(float).to_numpy(), ev["lat"].astype(float).to_numpy())
    ev["lon"] = [f"{v:.7f}" for v in x]
    ev["lat"] = [f"{v:.7f}" for v in y]
    return _csv_text(ev)


BAD_COORD_ROWS = {  # row -> (lon, lat): rows that must come back 'invalid' or 'unmatched'
    3: ("", ""),
    7: ("NaN", "NaN"),
    11: ("0", "0"),
    15: ("东经112度", "北纬27度"),
    19: ("swap", "swap"),  # lon and lat exchanged
    23: ("112.9", ""),
    27: ("999", "999"),
    31: ("null", "null"),
    35: ("-", "-"),
    39: ("1e400", "27.8"),
}


def _bad_coordinates(m: Material) -> str:
    ev = _events(m)
    for row, (x, y) in BAD_COORD_ROWS.items():
        if x == "swap":
            x, y = ev.at[row, "lat"], ev.at[row, "lon"]
        ev.at[row, "lon"], ev.at[row, "lat"] = x, y
    return _csv_text(ev)


def _xlsx(sheets: dict[str, list[list]], path: Path) -> None:
    import datetime

    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.properties.created = wb.properties.modified = datetime.datetime(2025, 1, 1)
    wb.save(path)


def _event_rows(m: Material, chinese: bool = True) -> list[list]:
    ev = _events(m)
    ev["lon"] = ev["lon"].astype(float)
    ev["lat"] = ev["lat"].astype(float)
    header = [ZH[c] for c in ev.columns] if chinese else list(ev.columns)
    return [header, *ev.astype(object).to_numpy().tolist()]


def _xlsx_title_row(folder: Path, m: Material) -> None:
    rows = [["雨湖区2025年1月事件台账"], ["导出时间：2025-02-01"], [], *_event_rows(m)]
    _xlsx({"事件台账": rows}, folder / "台账.xlsx")


def _xlsx_second_sheet(folder: Path, m: Material) -> None:
    notes = [["说明"], ["本表由网格化服务管理平台导出"], ["坐标系：WGS84"]]
    _xlsx({"说明": notes, "数据": _event_rows(m)}, folder / "events.xlsx")


def _xlsx_text(m: Material) -> bytes:
    return _csv_text(_events(m)).encode("utf-8")


def _plan_geometry(kind: str) -> Writer:
    def write(folder: Path, m: Material) -> None:
        g = m.grids.copy()
        if kind == "points":
            g["geometry"] = g.geometry.representative_point()
        else:
            g["geometry"] = g.geometry.boundary
        write_layers(folder / f"plan_{kind}.gpkg", {"grids": g})

    return write


def _shp_no_prj(folder: Path, m: Material) -> None:
    with warnings.catch_warnings():  # field names cut to 10 characters, as in real shapefiles
        warnings.simplefilter("ignore")
        m.grids.to_file(folder / "plan.shp", engine="pyogrio")
    (folder / "plan.prj").unlink()


def _plan_empty(folder: Path, m: Material) -> None:
    write_layers(folder / "plan_empty.gpkg", {"grids": m.grids.iloc[:0]})


def _plan_no_code(folder: Path, m: Material) -> None:
    write_layers(folder / "plan_nocode.gpkg", {"grids": m.grids.drop(columns="grid_code")})


def _plan_duplicate_codes(folder: Path, m: Material) -> None:
    g = m.grids.copy()
    g.loc[g.index[1], "grid_code"] = g["grid_code"].iloc[0]
    g.loc[g.index[5], "grid_code"] = g["grid_code"].iloc[4]
    write_layers(folder / "plan_dup.gpkg", {"grids": g})


def _plan_real_codes(mode: str) -> Writer:
    """Grid codes stored as REAL: exact (430302001001001.0), from scientific notation with lost
    digits (4.30302E+14 for every grid), or with a fractional part."""

    def write(folder: Path, m: Material) -> None:
        g = m.grids.copy()
        codes = g["grid_code"].astype(np.int64).astype(float)
        if mode == "sci":
            codes = codes.map(lambda v: float(f"{v:.5E}"))
        elif mode == "fraction":
            codes = codes + 0.25
        g["grid_code"] = codes.to_numpy(dtype=float)
        write_layers(folder / f"plan_real_{mode}.gpkg", {
            "grids": g, "communities": m.communities, "buildings": m.buildings})

    return write


def _table_codes(mode: str) -> Writer:
    def write(folder: Path, m: Material) -> None:
        ev = _events(m)
        if mode == "sci":
            ev[CODE_COL] = ev[CODE_COL].map(lambda c: f"{float(c):.5E}")
        else:
            ev[CODE_COL] = ev[CODE_COL] + ".0"
        (folder / "table.csv").write_text(_csv_text(ev), encoding="utf-8")

    return write


def _points_layers(several: bool, with_polygon: bool = False) -> Writer:
    def write(folder: Path, m: Material) -> None:
        pts = _points(_events(m))
        layers: dict[str, gpd.GeoDataFrame] = {"addr_a": pts}
        if several:
            layers["addr_b"] = pts.iloc[:10]
        if with_polygon:
            layers["district_area"] = gpd.GeoDataFrame(
                {"name": ["雨湖区"]}, geometry=[shapely.box(112.8, 27.8, 113.0, 27.9)], crs=4326)
        write_layers(folder / "points.gpkg", layers)

    return write


def _shp_gbk_no_cpg(folder: Path, m: Material) -> None:
    ev = _events(m)[["event_id", "category", "urgency", "reported_at", "address", "lon", "lat"]]
    ev = ev.rename(columns={"reported_at": "reported"})
    _points(ev).to_file(folder / "events.shp", engine="pyogrio", encoding="GBK")
    (folder / "events.cpg").unlink(missing_ok=True)
    dbf = folder / "events.dbf"
    data = bytearray(dbf.read_bytes())
    data[29] = 0  # no language driver id either: the encoding is not declared anywhere
    dbf.write_bytes(bytes(data))


def _district_copy(name: str) -> Writer:
    def write(folder: Path, m: Material) -> None:
        shutil.copyfile(SAMPLES / "sample_district.gpkg", folder / name)

    return write


def _both(*writers: Writer) -> Writer:
    def write(folder: Path, m: Material) -> None:
        for w in writers:
            w(folder, m)

    return write


def _events_csv(name: str, n: int | None = None) -> Writer:
    def write(folder: Path, m: Material) -> None:
        (folder / name).write_text(_csv_text(_events(m, n)), encoding="utf-8")

    return write


def _few_events(folder: Path, m: Material) -> None:
    ev = _events(m, 40)
    cats = ["环境卫生", "占道经营", "治安隐患", "矛盾纠纷", "设施损坏"]
    ev["category"] = [cats[i % len(cats)] for i in range(len(ev))]  # 8 per category
    (folder / "few.csv").write_text(_csv_text(ev), encoding="utf-8")


RULES_OK = ("[urban]\nmin_households = 300\nmax_households = 500\n\n"
            "[assign]\nmax_distance_m = 100.0\n")


# ---- checks on readable outputs -----------------------------------------------------------------


def check_bad_coordinates(folder: Path, run: Run) -> None:
    if run.verb != "assign":
        return
    out = read_table(folder / "out.csv")  # a table for people: its headers read back
    bad = sorted(BAD_COORD_ROWS)
    assert out["event_id"].tolist() == pd.read_csv(folder / "bad_xy.csv", dtype=str)[
        "event_id"].tolist(), "rows reordered"
    got = out["match"].iloc[bad]
    assert got.isin(["invalid", "unmatched"]).all(), f"bad rows matched: {got.to_dict()}"
    good = out["match"].drop(index=out.index[bad])
    assert good.isin(["inside", "boundary", "nearest"]).all(), good.value_counts().to_dict()


def check_codes_are_text(folder: Path, run: Run) -> None:
    """Codes come out as 15-digit text, not 430302001001001.0."""
    if run.verb == "assign":
        values = read_table(folder / "out.csv")["grid_code"].fillna("")
    elif run.verb == "recode-table":
        values = pd.read_csv(folder / "recoded.csv", dtype=str, keep_default_na=False)[CODE_COL]
    else:
        return
    values = values[values != ""]
    assert len(values) and values.str.fullmatch(r"\d{15}").all(), values.head().tolist()


def check_chinese_kept(folder: Path, run: Run) -> None:
    """GBK attribute values come out as Chinese text, not mojibake."""
    if run.verb != "assign":
        return
    text = (folder / "out.csv").read_text(encoding="utf-8-sig")
    assert "环境卫生" in text and "湘潭市雨湖区" in text, text[:300]


# ---- the corpus --------------------------------------------------------------------------------


def cases() -> list[Case]:
    """Every case of the corpus."""
    N = N_EVENTS
    long_name = "长" * 60 + "_" + "x" * 80 + ".parquet"  # 269 bytes in UTF-8 (limit 255)
    c: list[Case] = [
        # -- files that are missing, empty, or folders ------------------------------------------
        Case("missing_csv", _nothing, table_runs("nope.csv", validate=True, report=True),
             named=("nope.csv",)),
        Case("missing_gpkg", _nothing, plan_runs("nope.gpkg", context=True, build=True,
                                                 heatmap=True), named=("nope.gpkg",)),
        Case("missing_chinese_name", _nothing, table_runs("地址库.csv", heatmap=False),
             named=("地址库.csv",), note="a Chinese file name comes back unmangled"),
        Case("missing_bracket_csv", _nothing, table_runs("events[red].csv", heatmap=False),
             named=("events[red].csv",),
             note="square brackets in a file name survive the console markup"),
        Case("missing_bracket_gpkg", _nothing,
             plan_runs("plan[v2].gpkg", report=False, render=False),
             named=("plan[v2].gpkg",)),
        Case("empty_csv", _write_bytes("empty.csv", b""),
             table_runs("empty.csv", validate=True, report=True), named=("empty.csv",)),
        Case("empty_gpkg", _write_bytes("empty.gpkg", b""),
             plan_runs("empty.gpkg", context=True, build=True, heatmap=True, render=False),
             named=("empty.gpkg",)),
        Case("folder_as_csv", _mkdir("events.csv"), table_runs("events.csv", report=True),
             named=("events.csv",)),
        Case("folder_as_gpkg", _mkdir("plan.gpkg"),
             plan_runs("plan.gpkg", build=True, render=False),
             named=("plan.gpkg",)),
        # -- tables that cannot be read ------------------------------------------------------------
        Case("csv_header_only", _write_text("header.csv", _header_only, "utf-8"),
             table_runs("header.csv", validate=True, report=True), named=("header.csv",)),
        Case("csv_no_lonlat", _write_text("nolonlat.csv", _no_lonlat, "utf-8"),
             table_runs("nolonlat.csv", recode_table=False, validate=True, report=True),
             named=("nolonlat.csv",)),
        Case("csv_mixed_encoding", _write_bytes("mixed.csv", _mixed_encoding),
             table_runs("mixed.csv", validate=True), named=("mixed.csv",),
             note="first half UTF-8, second half GBK: refuse rather than return mojibake"),
        Case("csv_unbalanced_quote", _write_bytes("quote.csv", _unbalanced_quote),
             table_runs("quote.csv", report=True), named=("quote.csv",)),
        Case("csv_ragged_rows", _write_bytes("ragged.csv", _ragged), table_runs("ragged.csv"),
             named=("ragged.csv",)),
        Case("xlsx_really_text", _write_bytes("events.xlsx", _xlsx_text),
             table_runs("events.xlsx"), named=("events.xlsx",)),
        Case("parquet_random_bytes", _write_bytes("events.parquet", _random_bytes(3000, 3)),
             table_runs("events.parquet"), named=("events.parquet",)),
        Case("table_codes_scientific", _table_codes("sci"),
             (Run("recode-table", ("table.csv", "--crosswalk", "{cw}", "--column", CODE_COL,
                                   "-o", "recoded.csv")),),
             named=("table.csv",), note="codes 4.30302E+14 lost their digits: refuse"),
        # -- vector files that cannot be read ------------------------------------------------------
        Case("gpkg_random_bytes", _write_bytes("random.gpkg", _random_bytes(4096, 1)),
             plan_runs("random.gpkg", context=True, build=True, heatmap=True)
             + (Run("assign", ("random.gpkg", "--grids", "{plan}", "-o", "out.csv"),
                    label="assign-points"),),
             named=("random.gpkg",)),
        Case("gpkg_truncated", _write_bytes("cut.gpkg", _truncated_plan),
             plan_runs("cut.gpkg", context=True, build=True, render=False), named=("cut.gpkg",)),
        Case("gpkg_several_point_layers", _points_layers(several=True),
             table_runs("points.gpkg", recode_table=False, validate=True),
             named=("points.gpkg", "addr_a", "addr_b"),
             note="no --layer: the message lists the layers"),
        # -- plans that are not plans --------------------------------------------------------------
        Case("plan_of_points", _plan_geometry("points"), plan_runs("plan_points.gpkg"),
             named=("plan_points.gpkg",), note="refused, not 'validated'"),
        Case("plan_of_lines", _plan_geometry("lines"), plan_runs("plan_lines.gpkg"),
             named=("plan_lines.gpkg",)),
        Case("plan_shp_without_prj", _shp_no_prj, plan_runs("plan.shp"), named=("plan.shp",)),
        Case("plan_empty_layer", _plan_empty, plan_runs("plan_empty.gpkg", heatmap=True),
             named=("plan_empty.gpkg",)),
        Case("plan_without_grid_code", _plan_no_code,
             (Run("recode", ("plan_nocode.gpkg", "{plan}", "-o", "rec.gpkg"), label="recode-old"),
              Run("assign", ("{events}", "--grids", "plan_nocode.gpkg", "-o", "out.csv"),
                  label="assign-grids"),
              Run("recode-table", ("{events}", "--crosswalk", "{cw}", "--column", CODE_COL,
                                   "--plan", "plan_nocode.gpkg", "--locate", "all",
                                   "-o", "recoded.csv"), label="recode-table-plan")),
             named=("plan_nocode.gpkg",)),
        Case("plan_duplicate_codes", _plan_duplicate_codes,
             (Run("recode", ("plan_dup.gpkg", "{plan}", "-o", "rec.gpkg"), label="recode-old"),
              Run("validate", ("plan_dup.gpkg",), exit=(1,))),
             named=("plan_dup.gpkg",), note="recode refuses; validate reports a violation"),
        Case("plan_codes_real_scientific", _plan_real_codes("sci"),
             # a REAL column holds 430302000000000 exactly: nothing tells the lost digits apart,
             # so validate reports the duplicate, malformed codes (exit 1) while the verbs that
             # need unique codes refuse the file
             (Run("validate", ("plan_real_sci.gpkg",), exit=(1,), named=()),
              Run("recode", ("plan_real_sci.gpkg", "{plan}", "-o", "rec.gpkg"), label="recode-old"),
              Run("assign", ("{events}", "--grids", "plan_real_sci.gpkg", "-o", "out.csv"),
                  label="assign-grids")),
             named=("plan_real_sci.gpkg",), note="REAL codes 4.30302E+14: digits lost, refuse"),
        Case("plan_codes_real_fraction", _plan_real_codes("fraction"),
             (Run("validate", ("plan_real_fraction.gpkg",)),
              Run("recode", ("plan_real_fraction.gpkg", "{plan}", "-o", "rec.gpkg"),
                  label="recode-old"),
              Run("assign", ("{events}", "--grids", "plan_real_fraction.gpkg", "-o", "out.csv"),
                  label="assign-grids")),
             named=("plan_real_fraction.gpkg",)),
        Case("district_without_roads", _copy_plan("district.gpkg"),
             (Run("build", ("district.gpkg", "-o", "built.gpkg")),),
             named=("district.gpkg", "roads")),
        # -- option values -------------------------------------------------------------------------
        Case("render_dpi_0", _nothing, (Run("render", ("{plan}", "-o", "map.png", "--dpi", "0")),),
             named=("dpi",)),
        Case("render_scheme_nope", _nothing,
             (Run("render", ("{plan}", "-o", "map.png", "--dpi", "40", "--color", "households",
                             "--scheme", "nope")),), named=("nope",)),
        Case("render_tilt_200", _nothing,
             (Run("render", ("{plan}", "-o", "map.png", "--dpi", "40", "--tilt", "200")),),
             named=("tilt",)),
        Case("assign_crs_unknown", _nothing,
             (Run("assign", ("{events}", "--grids", "{plan}", "-o", "out.csv", "--crs",
                             "EPSG:999999")),
              Run("heatmap", ("{events}", "--grids", "{plan}", "-o", "maps", "--crs",
                              "EPSG:999999"))),
             named=("999999",)),
        Case("heatmap_bandwidth_0", _nothing,
             (Run("heatmap", ("{events}", "--grids", "{plan}", "-o", "maps", "--bandwidth", "0")),),
             named=("bandwidth",)),
        Case("heatmap_freq_unknown", _nothing,
             (Run("heatmap", ("{events}", "--grids", "{plan}", "-o", "maps", "--freq",
                              "fortnight")),),
             named=("fortnight",)),
        # -- rules files ---------------------------------------------------------------------------
        Case("rules_is_folder", _mkdir("rules_dir"), _rules_runs("rules_dir"),
             named=("rules_dir",)),
        Case("rules_unknown_section",
             _write_text("rules.toml", lambda m: "[urbn]\nmin_households = 300\n", "utf-8"),
             _rules_runs("rules.toml"), named=("rules.toml", "[urbn]"),
             note="the literal text [urbn] survives the console markup"),
        Case("rules_bad_toml", _write_text("rules.toml", lambda m: "[urban\nmin_households = \n",
                                           "utf-8"),
             _rules_runs("rules.toml", build=False), named=("rules.toml",)),
        Case("rules_missing", _nothing, _rules_runs("norules.toml", build=False),
             named=("norules.toml",)),
        # -- outputs that cannot be written --------------------------------------------------------
        Case("out_is_input_repair", _copy_plan("v.gpkg"),
             (Run("repair", ("v.gpkg", "-o", "v.gpkg"), unchanged=("v.gpkg",)),),
             named=("v.gpkg",)),
        Case("out_is_input_validate", _copy_plan("v.gpkg"),
             (Run("validate", ("v.gpkg", "--gpkg", "v.gpkg"), label="validate-gpkg",
                  unchanged=("v.gpkg",)),
              Run("validate", ("v.gpkg", "--html", "v.gpkg"), label="validate-html",
                  unchanged=("v.gpkg",))),
             named=("v.gpkg",)),
        Case("out_is_input_build", _district_copy("d.gpkg"),
             (Run("build", ("d.gpkg", "-o", "d.gpkg"), unchanged=("d.gpkg",)),), named=("d.gpkg",)),
        Case("out_is_input_recode_table", _both(_events_csv("t.csv"), _copy_cw("cw.csv")),
             (Run("recode-table", ("t.csv", "--crosswalk", "cw.csv", "--column", CODE_COL,
                                   "-o", "t.csv"), label="recode-table-table",
                  unchanged=("t.csv", "cw.csv"), named=("t.csv",)),
              Run("recode-table", ("t.csv", "--crosswalk", "cw.csv", "--column", CODE_COL,
                                   "-o", "cw.csv"), label="recode-table-crosswalk",
                  unchanged=("t.csv", "cw.csv"), named=("cw.csv",)))),
        Case("out_is_input_assign", _both(_events_csv("p.csv"), _copy_plan("v.gpkg")),
             (Run("assign", ("p.csv", "--grids", "v.gpkg", "-o", "p.csv"), label="assign-points",
                  unchanged=("p.csv", "v.gpkg"), named=("p.csv",)),
              Run("assign", ("p.csv", "--grids", "v.gpkg", "-o", "v.gpkg"), label="assign-grids",
                  unchanged=("p.csv", "v.gpkg"), named=("v.gpkg",)))),
        Case("out_is_input_recode", _both(_copy_plan("old.gpkg"), _copy_plan("new.gpkg")),
             (Run("recode", ("old.gpkg", "new.gpkg", "-o", "old.gpkg"), label="recode-old",
                  unchanged=("old.gpkg", "new.gpkg"), named=("old.gpkg",)),
              Run("recode", ("old.gpkg", "new.gpkg", "-o", "new.gpkg"), label="recode-new",
                  unchanged=("old.gpkg", "new.gpkg"), named=("new.gpkg",)))),
        Case("out_parent_is_a_file", _write_bytes("blocker.txt", b"not a folder\n"),
             _blocked_runs("blocker.txt/sub"), named=("blocker.txt",),
             note="the output's parent folder is a regular file (a read-only folder does not "
                  "stop root)"),
        Case("out_name_too_long", _nothing, _blocked_runs("", name=long_name),
             named=("长长长长长长长长",), note="an output file name of more than 255 bytes"),
        Case("heatmap_out_is_a_file", _write_bytes("maps.txt", b"keep me\n"),
             (Run("heatmap", ("{events}", "--grids", "{plan}", "-o", "maps.txt"),
                  unchanged=("maps.txt",)),), named=("maps.txt",)),
        Case("report_out_is_a_file", _write_bytes("rep.txt", b"keep me\n"),
             (Run("report", ("{plan}", "--events", "{events}", "-o", "rep.txt"),
                  unchanged=("rep.txt",)),), named=("rep.txt",)),
        # -- awkward but valid: read them, keep every row ------------------------------------------
        Case("csv_utf16_bom", _write_text("utf16.csv", lambda m: "\ufeff" + _csv_text(_events(m)),
                                          "utf-16-le"),
             table_runs("utf16.csv", heatmap=False), exit=(0, 2), named=("utf16.csv",), rows=N,
             note="either read correctly (preferred) or refused naming the file"),
        Case("csv_gbk_chinese_headers", _write_text("事件_gbk.csv", _gbk_chinese, "gbk"),
             table_runs("事件_gbk.csv", column=ZH[CODE_COL], validate=True), exit=(0,), rows=N),
        Case("csv_utf8_bom", _write_text("bom.csv", lambda m: "\ufeff" + _csv_text(_events(m)),
                                         "utf-8"),
             table_runs("bom.csv", heatmap=False, out="out.parquet"), exit=(0,), rows=N),
        Case("csv_semicolon", _write_text("semi.csv", lambda m: _csv_text(_events(m), sep=";"),
                                          "utf-8"),
             table_runs("semi.csv", heatmap=False, out="out.gpkg"), exit=(0,), rows=N),
        Case("csv_tab_separated", _write_text("tabs.csv", lambda m: _csv_text(_events(m), sep="\t"),
                                              "utf-8"),
             table_runs("tabs.csv", heatmap=False), exit=(0,), rows=N),
        Case("csv_crlf_blank_lines", _write_text("crlf.csv", _crlf_blank_lines, "utf-8"),
             table_runs("crlf.csv", heatmap=False), exit=(0,), rows=N),
        Case("csv_fullwidth_digits", _write_text("fullwidth.csv", _fullwidth, "utf-8"),
             table_runs("fullwidth.csv", heatmap=False, recode_table=False), exit=(0,), rows=N),
        Case("csv_bad_coordinates", _write_text("bad_xy.csv", _bad_coordinates, "utf-8"),
             table_runs("bad_xy.csv", recode_table=False), exit=(0,), rows=N,
             check=check_bad_coordinates,
             note="empty/NaN/zero/text/swapped coordinates: rows come back invalid or unmatched"),
        Case("csv_custom_lonlat_options", _write_text("xy.csv", _custom_lonlat, "utf-8"),
             table_runs("xy.csv", recode_table=False,
                        extra=("--lon", "coord_e", "--lat", "coord_n"),
                        heatmap_extra=("--lon", "coord_e", "--lat", "coord_n")),
             exit=(0,), rows=N, note="--lon/--lat name columns the reader does not recognise"),
        Case("csv_gcj02", _write_text("gcj.csv", _gcj02, "utf-8"),
             table_runs("gcj.csv", heatmap=False, recode_table=False, extra=("--crs", "GCJ02")),
             exit=(0,), rows=N),
        Case("xlsx_title_row", _xlsx_title_row,
             table_runs("台账.xlsx", recode_table=False, out="out.gpkg"), exit=(0,), rows=N,
             note="a title row and a blank row above the header; no --layer"),
        Case("xlsx_data_on_second_sheet", _xlsx_second_sheet,
             table_runs("events.xlsx", heatmap=False, column=ZH[CODE_COL]), exit=(0,), rows=N),
        Case("shp_gbk_without_cpg", _shp_gbk_no_cpg,
             table_runs("events.shp", heatmap=False, recode_table=False), exit=(0,), rows=N,
             check=check_chinese_kept),
        Case("gpkg_point_and_polygon_layers", _points_layers(several=False, with_polygon=True),
             table_runs("points.gpkg", recode_table=False), exit=(0,), rows=N,
             note="exactly one layer holds points: it is used"),
        Case("gpkg_several_point_layers_layer_given", _points_layers(several=True),
             (Run("assign", ("points.gpkg", "--grids", "{plan}", "-o", "out.csv", "--layer",
                             "addr_a"), rows_out="out.csv"),),
             exit=(0,), rows=N),
        Case("plan_codes_real_exact", _plan_real_codes("exact"),
             (Run("assign", ("{events}", "--grids", "plan_real_exact.gpkg", "-o", "out.csv"),
                  rows_out="out.csv", label="assign-grids"),
              Run("validate", ("plan_real_exact.gpkg",)),
              Run("render", ("plan_real_exact.gpkg", "-o", "map.png", "--dpi", "40"))),
             exit=(0,), rows=N, check=check_codes_are_text,
             note="REAL codes 430302001001001.0 come out as 430302001001001"),
        Case("table_codes_real_exact", _table_codes("exact"),
             (Run("recode-table", ("table.csv", "--crosswalk", "{cw}", "--column", CODE_COL,
                                   "-o", "recoded.csv"), rows_out="recoded.csv"),),
             exit=(0,), rows=N, check=check_codes_are_text),
        Case("rules_utf8_bom", _write_text("rules.toml", lambda m: "\ufeff" + RULES_OK, "utf-8"),
             (Run("validate", ("{plan}", "--rules", "rules.toml")),
              Run("repair", ("{plan}", "-o", "fixed.gpkg", "--rules", "rules.toml")),
              Run("assign", ("{events}", "--grids", "{plan}", "-o", "out.csv", "--rules",
                             "rules.toml"), rows_out="out.csv"),
              Run("build", ("{district}", "-o", "built.gpkg", "--rules", "rules.toml"))),
             exit=(0,), rows=N),
        Case("heatmap_few_events", _few_events,
             (Run("heatmap", ("few.csv", "--grids", "{plan}", "-o", "maps"), rows_out="@events"),
              Run("report", ("{plan}", "--events", "few.csv", "-o", "rep"))),
             exit=(0,), rows=40, note="fewer than 30 events per category: the all-events outputs"),
    ]
    ids = [case.id for case in c]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return c


def _copy_cw(name: str) -> Writer:
    def write(folder: Path, m: Material) -> None:
        shutil.copyfile(m.folder / "crosswalk.csv", folder / name)

    return write


def _rules_runs(name: str, *, build: bool = True) -> tuple[Run, ...]:
    runs = [
        Run("validate", ("{plan}", "--rules", name)),
        Run("repair", ("{plan}", "-o", "fixed.gpkg", "--rules", name)),
        Run("assign", ("{events}", "--grids", "{plan}", "-o", "out.csv", "--rules", name)),
        Run("heatmap", ("{events}", "--grids", "{plan}", "-o", "maps", "--rules", name)),
        Run("report", ("{plan}", "-o", "rep", "--rules", name)),
    ]
    if build:
        runs.append(Run("build", ("{district}", "-o", "built.gpkg", "--rules", name)))
    return tuple(runs)


def _blocked_runs(folder: str, name: str | None = None) -> tuple[Run, ...]:
    """Every verb writing into FOLDER (or writing a file called NAME)."""

    def at(default: str, suffix: str | None = None) -> str:
        if name is None:
            return f"{folder}/{default}"
        return name if suffix is None else name.rsplit(".", 1)[0] + suffix

    return (
        Run("assign", ("{events}", "--grids", "{plan}", "-o", at("out.parquet"))),
        Run("repair", ("{plan}", "-o", at("fixed.gpkg", ".gpkg"))),
        Run("render", ("{plan}", "-o", at("map.png", ".png"), "--dpi", "40")),
        Run("recode", ("{plan}", "{plan}", "-o", at("rec.gpkg", ".gpkg"))),
        Run("recode-table", ("{events}", "--crosswalk", "{cw}", "--column", CODE_COL,
                             "-o", at("t.csv", ".csv"))),
        Run("validate", ("{plan}", "--json", at("v.json", ".json"))),
        Run("heatmap", ("{events}", "--grids", "{plan}", "-o", at("maps", ""))),
        Run("report", ("{plan}", "-o", at("rep", ""))),
        Run("build", ("{district}", "-o", at("built.gpkg", ".gpkg"))),
    )


def write_all(out: Path) -> None:
    """Write the material and every case into OUT (for a look in QGIS or a text editor)."""
    m = Material.create(out / "_material")
    for case in cases():
        folder = out / case.id
        folder.mkdir(parents=True, exist_ok=True)
        case.write(folder, m)


if __name__ == "__main__":  # pragma: no cover
    write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "bad_inputs"))
