"""The ``recode`` and ``recode-table`` commands."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from gridgis.cli import main
from gridgis.codes import assign_codes
from gridgis.versions import save_version

CRS = "EPSG:4547"
C1 = "430302001001"


def plan(splits: int = 0) -> gpd.GeoDataFrame:
    cells = [shapely.box(400_000 + i * 200, 3_080_000, 400_200 + i * 200, 3_080_300)
             for i in range(4)]
    if splits:
        a = cells.pop(0)
        cells += [shapely.box(400_000, 3_080_000, 400_200, 3_080_150),
                  shapely.box(400_000, 3_080_150, 400_200, 3_080_300)]
        assert shapely.union_all(cells[-2:]).equals(a)
    return gpd.GeoDataFrame({"community_code": [C1] * len(cells), "kind": "basic"},
                            geometry=cells, crs=CRS)


def test_recode_and_recode_table_commands(tmp_path):
    old = assign_codes(plan())
    versions = tmp_path / "plans.gpkg"
    save_version(old, versions, note="v1")
    new_path = tmp_path / "new.gpkg"
    plan(splits=1).to_file(new_path)
    retired = tmp_path / "retired.txt"
    retired.write_text(f"{C1}007\n", encoding="utf-8")
    out = tmp_path / "coded.gpkg"
    assert main(["-q", "recode", str(versions), str(new_path), "-o", str(out),
                 "--retired", str(retired)]) == 0
    coded = gpd.read_file(out, layer="grids")
    assert sorted(coded["grid_code"]) == [C1 + s for s in ("002", "003", "004", "008", "009")]
    cw = pd.read_csv(tmp_path / "coded_crosswalk.csv", dtype=str)
    assert set(cw.loc[cw["old_code"] == C1 + "001", "relation"]) == {"split"}
    assert "crosswalk" in {str(n) for n, _ in pyogrio.list_layers(out)}

    # a table with Chinese headers: one row of the split grid has coordinates, one has not
    pts = gpd.GeoSeries(shapely.points([(400_100, 3_080_050), (400_500, 3_080_100)]),
                        crs=CRS).to_crs(4326)
    table = pd.DataFrame({"网格编码": [C1 + "001", C1 + "003", C1 + "001"],
                          "经度": [pts.x[0], pts.x[1], None], "纬度": [pts.y[0], pts.y[1], None]})
    src = tmp_path / "events.csv"
    table.to_csv(src, index=False)
    res_out = tmp_path / "events_new.csv"
    code = main(["-q", "recode-table", str(src), "--crosswalk", str(tmp_path / "coded_crosswalk.csv"),
                 "--column", "网格编码", "--plan", str(out), "--plan-layer", "grids",
                 "-o", str(res_out)])
    assert code == 1  # the row without coordinates stays ambiguous
    back = pd.read_csv(res_out, dtype=str)
    assert back["网格编码"].tolist()[:2] == [C1 + "009", C1 + "003"]
    assert back["recode_status"].tolist() == ["located", "kept", "ambiguous"]
    report = pd.read_csv(tmp_path / "events_new_report.csv", dtype=str)
    assert report["status"].tolist() == ["located", "ambiguous"]
    assert main(["-q", "recode-table", str(src), "--crosswalk",
                 str(tmp_path / "coded_crosswalk.csv"), "--column", "网格编码", "--plan",
                 str(out), "--plan-layer", "grids", "--largest", "-o", str(res_out)]) == 0
    # bad input: exit code 2
    assert main(["-q", "recode-table", str(tmp_path / "missing.csv"), "--crosswalk",
                 str(tmp_path / "coded_crosswalk.csv")]) == 2
    assert main(["-q", "recode-table", str(src), "--crosswalk",
                 str(tmp_path / "coded_crosswalk.csv"), "--column", "编号"]) == 2
