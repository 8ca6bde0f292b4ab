"""Assignment of files (GBK CSV, Excel, Parquet, GeoPackage) in chunks, on dask, and from the CLI."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import gridgis
import gridgis.assignment as ga
from gridgis.errors import InputFileError

from .test_assign import bench

CHINESE = {"event_id": "事件编号", "lon": "经度", "lat": "纬度", "category": "事件类型"}


@pytest.fixture(scope="module")
def plan():
    grids, outline = bench.voronoi_plan(150, seed=21)
    return grids, outline


@pytest.fixture(scope="module")
def events(plan):
    """Event rows with Chinese headers and WGS84 lon/lat, including some bad coordinates."""
    grids, outline = plan
    pts = bench.random_points(outline, 4000, seed=22).to_crs(4326)
    df = pd.DataFrame({
        "event_id": [f"SJ{i:07d}" for i in range(len(pts))],
        "category": np.random.default_rng(0).choice(["环境卫生", "违章搭建", "占道经营"], len(pts)),
        "lon": pts.geometry.x.round(7).astype(object),
        "lat": pts.geometry.y.round(7).astype(object),
    })
    df.loc[5, "lon"] = None
    df.loc[6, ["lon", "lat"]] = ["abc", "27.8"]
    df.loc[7, ["lon", "lat"]] = [0.0, 0.0]
    df.loc[8, ["lon", "lat"]] = [df.loc[9, "lat"], df.loc[9, "lon"]]  # swapped
    return df.rename(columns=CHINESE)


def expected_table(events: pd.DataFrame, grids) -> pd.DataFrame:
    return ga.assign(events, grids).table


def same_assignment(out: pd.DataFrame, expected: pd.DataFrame, id_column: str = "事件编号") -> None:
    assert len(out) == len(expected)
    assert list(out[id_column].astype(str)) == list(expected["事件编号"].astype(str))
    for col in ("grid_code", "match", "match_reason"):
        a = out[col].astype(object).where(out[col].notna(), None).tolist()
        b = expected[col].astype(object).where(expected[col].notna(), None).tolist()
        assert a == b, col
    np.testing.assert_allclose(out["distance_m"].to_numpy(float), expected["distance_m"].to_numpy(float))


def test_gbk_csv_with_chinese_headers_streams_in_chunks(tmp_path, plan, events):
    grids, _ = plan
    src = tmp_path / "事件台账.csv"
    events.to_csv(src, index=False, encoding="gbk")
    assert ga.files.file_encoding(src) == "gb18030"
    out = tmp_path / "out.parquet"
    res = ga.assign_file(src, grids, out, chunk_size=333, progress=False)
    table = pd.read_parquet(out)
    exp = expected_table(events, grids)
    same_assignment(table, exp)
    assert list(table.columns[:4]) == list(events.columns)  # headers kept as written
    assert res.table is None and res.path == out
    assert res.status_counts.sum() == len(events) and res.status_counts["invalid"] == 4
    pd.testing.assert_series_equal(res.per_grid, ga.assign(events, grids).per_grid)
    reasons = table["match_reason"].astype(str)
    assert "missing" in reasons[5] and "not a number" in reasons[6]
    assert "0/0" in reasons[7] and "swapped" in reasons[8]
    # read_points (canonical headers, WGS84 geometries) + assign gives the same grids
    pts = gridgis.read_points(src)
    same_assignment(ga.assign(pts, grids).table, exp, id_column="event_id")


def test_gbk_detected_even_when_chinese_text_starts_late(tmp_path, plan, events):
    grids, _ = plan
    df = events.copy()
    df["事件类型"] = "ok"
    df.loc[len(df) - 1, "事件类型"] = "最后一行才有中文"
    src = tmp_path / "late.csv"
    df.to_csv(src, index=False, encoding="gbk")
    out = tmp_path / "late.csv.out.csv"
    ga.assign_file(src, grids, out, chunk_size=1000, progress=False)
    table = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert table["事件类型"].iloc[-1] == "最后一行才有中文"
    assert len(table) == len(df)


def test_excel_file(tmp_path, plan, events):
    grids, _ = plan
    src = tmp_path / "events.xlsx"
    small = events.iloc[:600]
    small.to_excel(src, index=False)
    out = tmp_path / "out.csv"
    res = ga.assign_file(src, grids, out, chunk_size=250, progress=False)
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"事件编号": str, "grid_code": str})
    same_assignment(table, expected_table(small, grids))
    assert res.status_counts.sum() == 600


def test_parquet_dataset_and_geopackage_inputs(tmp_path, plan, events):
    grids, outline = plan
    pts = bench.random_points(outline, 3000, seed=23)  # EPSG:4547 point geometries
    pts["name"] = "测试"
    folder = tmp_path / "points.parquet"
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(pts)), 12)):
        pts.iloc[part].to_parquet(folder / f"part.{i}.parquet")
    out = tmp_path / "out.parquet"
    res = ga.assign_file(folder, grids, out, chunk_size=100, progress=False)
    got = gpd.read_parquet(out)
    exp = ga.assign(pts, grids).table
    assert got.crs == pts.crs and got.geometry.geom_equals(pts.geometry.reset_index(drop=True)).all()
    assert (got["grid_code"].astype(object).fillna("").to_numpy()
            == exp["grid_code"].astype(object).fillna("").to_numpy()).all()
    assert res.status_counts.sum() == len(pts)

    gpkg = tmp_path / "points.gpkg"
    pts.to_file(gpkg, layer="events")
    out2 = tmp_path / "out.gpkg"
    ga.assign_file(gpkg, grids, out2, layer="events", chunk_size=512, progress=False)
    got2 = gpd.read_file(out2, layer="assigned")
    assert list(got2["grid_code"].fillna("")) == list(exp["grid_code"].astype(object).fillna(""))


def test_bad_files_raise_named_errors(tmp_path, plan):
    grids, _ = plan
    with pytest.raises(InputFileError, match="not found"):
        ga.assign_file(tmp_path / "nope.csv", grids, tmp_path / "o.parquet", progress=False)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputFileError, match="empty"):
        ga.assign_file(empty, grids, tmp_path / "o.parquet", progress=False)
    src = tmp_path / "a.csv"
    src.write_text("lon,lat\n112.9,27.8\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="unsupported output"):
        ga.assign_file(src, grids, tmp_path / "o.txt", progress=False)
    broken = tmp_path / "broken.csv"
    broken.write_text("lon,lat\n112.9,27.8\n" * 5 + '1,2,3,"4\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="malformed CSV"):
        ga.assign_file(broken, grids, tmp_path / "o.parquet", chunk_size=2, progress=False)


def test_header_only_csv_is_refused_naming_it(tmp_path, plan):
    """A table with a header and no rows is almost always the wrong file or sheet: refused,
    naming it, and no output is left behind."""
    from gridgis.errors import InputFileError

    grids, _ = plan
    src = tmp_path / "h.csv"
    src.write_text("经度,纬度\n", encoding="utf-8")
    out = tmp_path / "h.parquet"
    with pytest.raises(InputFileError, match="h.csv.*no data rows"):
        ga.assign_file(src, grids, out, progress=False)
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["h.csv"]


@pytest.mark.slow
def test_memory_stays_bounded_while_streaming(tmp_path, plan):
    """Peak Python allocations depend on the chunk size, not on the size of the file."""
    import tracemalloc

    grids, outline = plan
    ga_plan = ga.PlanIndex(grids).build()
    peaks = []
    for n in (300, 20_000, 40_000):  # the first run warms up one-time caches
        pts = bench.random_points(outline, n, seed=24).to_crs(4326)
        src = tmp_path / f"big{n}.csv"
        pd.DataFrame({"id": np.arange(n), "lng": pts.geometry.x, "lat": pts.geometry.y,
                      "memo": "备注" * 20}).to_csv(src, index=False, encoding="gbk")
        tracemalloc.start()
        res = ga.assign_file(src, ga_plan, tmp_path / f"big{n}.parquet", chunk_size=2000, progress=False)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert res.status_counts.sum() == n
        peaks.append(peak)
        size = src.stat().st_size
    assert peaks[2] < 1.2 * peaks[1], peaks  # twice the rows, the same peak
    assert peaks[2] < size, (peaks, size)  # the file is never held in memory


# ---- dask ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_dask_partitioned_geoparquet_equals_local(tmp_path, plan):
    dask_geopandas = pytest.importorskip("dask_geopandas")
    distributed = pytest.importorskip("distributed")

    grids, outline = plan
    pts = bench.random_points(outline, 20_000, seed=25)
    pts["note"] = "测试"
    # a few bad rows travel through the workers too
    pts.loc[3, "geometry"] = None
    folder = tmp_path / "events_parquet"
    dask_geopandas.from_geopandas(pts, npartitions=6).to_parquet(folder)

    local = ga.assign(pts, grids)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        ddf = dask_geopandas.read_parquet(folder)
        assert ddf.npartitions == 6
        res = ga.assign(ddf, grids)
        assert hasattr(res.table, "npartitions")  # lazy until computed
        pd.testing.assert_series_equal(res.status_counts, local.status_counts)
        pd.testing.assert_series_equal(res.per_grid, local.per_grid)
        computed = res.compute()
        # the dask path also writes a partitioned dataset straight from the workers
        res.table.to_parquet(tmp_path / "assigned_parquet")
    remote = computed.table
    expected = local.table
    assert isinstance(remote, gpd.GeoDataFrame)
    cols = ["event_id", "grid_code", "match", "match_reason", "distance_m"]
    pd.testing.assert_frame_equal(pd.DataFrame(remote[cols]), pd.DataFrame(expected[cols]))
    assert list(remote["note"]) == list(expected["note"])  # (string dtype differs after Parquet)
    assert remote.geometry.equals(expected.geometry)
    pd.testing.assert_series_equal(computed.per_grid, local.per_grid)
    back = dask_geopandas.read_parquet(tmp_path / "assigned_parquet").compute()
    assert list(back["grid_code"].astype(object).fillna("")) == list(
        expected["grid_code"].astype(object).fillna(""))


def test_dask_dataframe_of_lonlat_rows(plan, events):
    dd = pytest.importorskip("dask.dataframe")
    grids, _ = plan
    local = ga.assign(events, grids)
    res = ga.assign(dd.from_pandas(events, npartitions=3), grids)
    out = res.table.compute(scheduler="synchronous")
    cols = ["grid_code", "match", "match_reason", "distance_m"]
    pd.testing.assert_frame_equal(out[cols], local.table[cols])
    same_assignment(out, local.table)  # (dask turns text columns into its own string dtype)


# ---- CLI -------------------------------------------------------------------------------------------------
def test_cli_assign(tmp_path, plan, events):
    from gridgis.cli import main

    grids, _ = plan
    plan_path = tmp_path / "plan.gpkg"
    grids.to_file(plan_path, layer="grids")
    src = tmp_path / "事件.csv"
    events.to_csv(src, index=False, encoding="gbk")
    out = tmp_path / "assigned.csv"
    per = tmp_path / "per_grid.csv"
    code = main(["-q", "assign", str(src), "--grids", str(plan_path), "-o", str(out),
                 "--per-grid", str(per), "--chunk-size", "1000"])
    assert code == 0
    table = gridgis.io.read_table(out)  # a table for people: headers read back
    same_assignment(table, expected_table(events, grids), id_column="event_id")
    counts = pd.read_csv(per, encoding="utf-8-sig", dtype={"Grid code": str})  # a table for people
    assert len(counts) == len(grids) and counts["Count"].sum() == (table["grid_code"].notna()).sum()
    # --strict: invalid rows make the exit code 1; a missing file is bad input (2)
    assert main(["-q", "assign", str(src), "--grids", str(plan_path), "-o", str(out), "--strict"]) == 1
    assert main(["-q", "assign", str(tmp_path / "none.csv"), "--grids", str(plan_path),
                 "-o", str(out)]) == 2
