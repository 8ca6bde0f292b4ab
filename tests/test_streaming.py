"""Streaming paths: tables larger than a chunk are rewritten (recode-table) and assigned
(assign) a chunk at a time, with the same rows out as the in-memory path."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import gridgis.assignment as ga
from gridgis.codes import recode_table
from tests.province import province_plan


@pytest.fixture(scope="module")
def plans():
    """An old plan, a new plan where every fifth grid is split in two (west/east halves),
    and the crosswalk between them."""
    old, parents = province_plan(4, 30, seed=3)
    rows, cw = [], []
    for i, (code, g) in enumerate(zip(old["grid_code"], old.geometry, strict=True)):
        if i % 5:
            rows.append((code, g))
            cw.append((code, code, "same"))
            continue
        x0, y0, x1, y1 = g.bounds
        mid = (x0 + x1) / 2
        for k, part in enumerate((shapely.clip_by_rect(g, x0, y0, mid, y1),
                                  shapely.clip_by_rect(g, mid, y0, x1, y1))):
            new_code = f"{code[:12]}{900 - 2 * (i // 5) - k:03d}"
            rows.append((new_code, part))
            cw.append((code, new_code, "split"))
    new = gpd.GeoDataFrame({"grid_code": [r[0] for r in rows]},
                           geometry=[r[1] for r in rows], crs=old.crs)
    crosswalk = pd.DataFrame(cw, columns=["old_code", "new_code", "relation"])
    return old, new, crosswalk


def address_table(old: gpd.GeoDataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` address rows: old codes of the grids they lie in, WGS84 lon/lat, some unknown or
    missing codes, Chinese headers."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(old), n)
    pts = shapely.point_on_surface(np.asarray(old.geometry.array))[pick]
    wgs = gpd.GeoSeries(pts, crs=old.crs).to_crs(4326)
    codes = old["grid_code"].to_numpy(dtype=object)[pick].copy()
    codes[rng.random(n) < 0.01] = "999999999999999"
    codes[rng.random(n) < 0.01] = None
    return pd.DataFrame({"地址编号": [f"A{i:07d}" for i in range(n)], "网格编码": codes,
                         "经度": wgs.x.round(7), "纬度": wgs.y.round(7),
                         "户数": rng.integers(1, 9, n)})


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_recode_table_in_chunks_equals_in_memory(tmp_path, plans, suffix):
    old, new, cw = plans
    table = address_table(old, 5000)
    src = tmp_path / f"addresses{suffix}"
    if suffix == ".csv":
        with open(src, "w", encoding="gbk", newline="") as fh:
            fh.write("2024年地址库\n")  # a title line above the header
            table.to_csv(fh, index=False)
    else:
        table.to_parquet(src, index=False)
    mem = recode_table(src, cw, column="网格编码", plan=new, out=tmp_path / f"mem{suffix}",
                       chunk_size=None)
    streamed = recode_table(src, cw, column="网格编码", plan=new,
                            out=tmp_path / f"chunks{suffix}", chunk_size=700)
    assert mem.table is not None and streamed.table is None
    read = (lambda p: pd.read_csv(p, dtype=str, keep_default_na=False)) if suffix == ".csv" \
        else pd.read_parquet
    a, b = read(mem.path), read(streamed.path)
    assert len(b) == len(table) and list(b.columns) == list(a.columns)
    if suffix == ".parquet":
        a["recode_status"] = a["recode_status"].astype(str)
        b["recode_status"] = b["recode_status"].astype(str)
    pd.testing.assert_frame_equal(a, b)
    assert b["地址编号"].tolist() == table["地址编号"].tolist()  # every row, in order
    assert mem.counts.to_dict() == streamed.counts.to_dict()
    assert {"kept", "located", "unknown", "missing"} <= set(streamed.counts.index)
    pd.testing.assert_frame_equal(mem.report, streamed.report)


def test_recode_table_small_file_stays_in_memory(tmp_path, plans):
    old, new, cw = plans
    src = tmp_path / "small.csv"
    address_table(old, 50).to_csv(src, index=False)
    res = recode_table(src, cw, column="网格编码", plan=new, out=tmp_path / "o.csv",
                       chunk_size=1000)
    assert res.table is not None and len(res.table) == 50


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_assign_file_in_chunks_equals_in_memory(tmp_path, plans, suffix):
    old, _, _ = plans
    table = address_table(old, 4000, seed=1).rename(columns={"经度": "lon", "纬度": "lat"})
    src = tmp_path / f"points{suffix}"
    if suffix == ".csv":
        table.to_csv(src, index=False)
    else:
        table.to_parquet(src, index=False)
    mem = ga.assign(table, old)
    res = ga.assign_file(src, old, tmp_path / "out.parquet", chunk_size=333)
    back = pd.read_parquet(res.path)
    assert len(back) == len(table)
    assert back["地址编号"].tolist() == table["地址编号"].tolist()
    for col in ("grid_code", "match"):
        assert back[col].astype(str).tolist() == mem.table[col].astype(str).tolist()
    assert res.per_grid.to_dict() == mem.per_grid.to_dict()
