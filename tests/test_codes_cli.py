"""The ``recode`` and ``recode-table`` commands."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from gridgis import io as gio
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
    cw = gio.read_table(tmp_path / "coded_crosswalk.csv")  # a table for people reads back
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
    back = gio.read_table(res_out)
    assert back["grid_code"].tolist()[:2] == [C1 + "009", C1 + "003"]
    assert back["recode_status"].tolist() == ["located", "kept", "ambiguous"]
    report = gio.read_table(tmp_path / "events_new_report.csv")
    assert report["recode_status"].tolist() == ["located", "ambiguous"]
    assert main(["-q", "recode-table", str(src), "--crosswalk",
                 str(tmp_path / "coded_crosswalk.csv"), "--column", "网格编码", "--plan",
                 str(out), "--plan-layer", "grids", "--largest", "-o", str(res_out)]) == 0
    # bad input: exit code 2
    assert main(["-q", "recode-table", str(tmp_path / "missing.csv"), "--crosswalk",
                 str(tmp_path / "coded_crosswalk.csv")]) == 2
    assert main(["-q", "recode-table", str(src), "--crosswalk",
                 str(tmp_path / "coded_crosswalk.csv"), "--column", "编号"]) == 2


RULES = (
    '[codes]\nseparator = "-"\nserial_width = 4\n'
    "[codes.ranges.basic]\nstart = 1\nstop = 8999\n"
    "[codes.ranges.special]\nstart = 9000\nstop = 9999\n"
)


def test_verbs_take_the_code_scheme_from_rules(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    old = assign_codes(plan(), rules=rules)
    assert old["grid_code"].tolist() == [f"{C1}-000{i}" for i in range(1, 5)]
    versions = tmp_path / "plans.gpkg"
    save_version(old, versions, note="v1")
    new_path = tmp_path / "new.gpkg"
    plan(splits=1).to_file(new_path)
    out = tmp_path / "coded.gpkg"
    assert main(["-q", "recode", str(versions), str(new_path), "-o", str(out),
                 "--rules", str(rules)]) == 0
    coded = gpd.read_file(out, layer="grids")
    assert sorted(coded["grid_code"]) == [f"{C1}-000{i}" for i in (2, 3, 4, 5, 6)]

    # validate: the plan fits the rules' scheme, not the default one
    assert main(["-q", "validate", str(out), "--layer", "grids", "--rules", str(rules)]) == 0
    assert main(["-q", "validate", str(out), "--layer", "grids"]) == 1

    # recode-table: the crosswalk's new codes must fit the rules' scheme
    table = tmp_path / "t.csv"
    pd.DataFrame({"grid_code": [f"{C1}-0002"]}).to_csv(table, index=False)
    cw = str(tmp_path / "coded_crosswalk.csv")
    assert main(["-q", "recode-table", str(table), "--crosswalk", cw, "--rules", str(rules),
                 "-o", str(tmp_path / "t2.csv")]) == 0
    default = tmp_path / "default.toml"
    default.write_text("[urban]\nmin_households = 300\n", encoding="utf-8")
    assert main(["-q", "recode-table", str(table), "--crosswalk", cw, "--rules", str(default),
                 "-o", str(tmp_path / "t3.csv")]) == 2


def test_build_numbers_with_the_rules_scheme(tmp_path):
    from pathlib import Path

    from gridgis.versions import read_plan

    rules = tmp_path / "rules.toml"
    rules.write_text(RULES + '[tolerances]\nrecode_same_share = 0.8\n', encoding="utf-8")
    sample = Path(__file__).parents[1] / "data/samples/sample_district.gpkg"
    out = tmp_path / "plan.gpkg"
    assert main(["-q", "build", str(sample), "-o", str(out), "--rules", str(rules)]) in (0, 1)
    grids = read_plan(out)
    assert grids["grid_code"].str.fullmatch(r"\d{12}-\d{4}").all()
    assert grids["grid_code"].is_unique
    assert (grids["grid_code"].str[:12] == grids["community_code"]).all()
