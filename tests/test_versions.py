"""Plan versions in a GeoPackage, and the diff between plans."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridgis.codes import assign_codes, recode
from gridgis.errors import InputFileError, SchemaError
from gridgis.versions import (
    diff,
    diff_versions,
    known_codes,
    list_versions,
    load_crosswalk,
    load_version,
    save_version,
)

CRS = "EPSG:4547"
C1, C2 = "430302001001", "430302001002"


def squares(community: str, x0: float, n: int = 3, size: float = 200.0) -> list[dict]:
    return [{"community_code": community, "kind": "basic", "households": 100 + 10 * i,
             "population": 300 + 30 * i, "grid_name": f"{community[-3:]}-{i}",
             "geometry": shapely.box(x0 + i * size, 3_080_000, x0 + (i + 1) * size, 3_080_300)}
            for i in range(n)]


@pytest.fixture()
def plan():
    rows = squares(C1, 400_000) + squares(C2, 400_600)
    return assign_codes(gpd.GeoDataFrame(rows, crs=CRS))


def test_save_list_load_round_trip(tmp_path, plan):
    path = tmp_path / "plans.gpkg"
    assert save_version(plan, path, author="王芳", note="初版", saved_at="2024-01-02T03:04:05+00:00") == 1
    multi = plan.copy()
    multi.loc[0, "geometry"] = shapely.MultiPolygon([
        shapely.box(400_000, 3_080_000, 400_100, 3_080_300),
        shapely.box(400_100, 3_080_000, 400_200, 3_080_300)])
    assert save_version(multi, path, author="李强", note="调整") == 2
    versions = list_versions(path)
    assert versions["version"].tolist() == [1, 2]
    assert versions["author"].tolist() == ["王芳", "李强"]
    assert versions["note"].tolist() == ["初版", "调整"]
    assert versions["saved_at"].iloc[0] == "2024-01-02T03:04:05+00:00"
    assert versions["grids"].tolist() == [6, 6]
    assert versions["households"].iloc[0] == plan["households"].sum()
    assert versions["crs"].iloc[0] == "EPSG:4547"
    v1 = load_version(path, 1)
    assert v1.crs == plan.crs
    assert [c for c in v1.columns if c != "geometry"] == [c for c in plan.columns if c != "geometry"]
    assert (v1["grid_code"] == plan["grid_code"]).all()
    assert v1.geometry.geom_type.eq("Polygon").all()  # single parts come back as polygons
    assert shapely.equals(v1.geometry.values, plan.geometry.values).all()
    latest = load_version(path)
    assert latest.attrs["version"]["version"] == 2 and latest.attrs["version"]["author"] == "李强"
    assert latest.geometry.iloc[0].geom_type == "MultiPolygon"
    assert load_version(path, -2).attrs["version"]["version"] == 1


def test_versions_errors(tmp_path, plan):
    path = tmp_path / "plans.gpkg"
    with pytest.raises(InputFileError, match="not found"):
        list_versions(path)
    save_version(plan, path)
    with pytest.raises(InputFileError, match="no version 7"):
        load_version(path, 7)
    other = tmp_path / "other.gpkg"
    plan.to_file(other, layer="grids")
    with pytest.raises(InputFileError, match="not a plan versions file"):
        save_version(plan, other)
    dup = plan.copy()
    dup.loc[1, "grid_code"] = dup.loc[0, "grid_code"]
    with pytest.raises(SchemaError, match="duplicate"):
        save_version(dup, path)
    with pytest.raises(SchemaError, match="grid_code"):
        save_version(plan.drop(columns="grid_code"), path)
    assert list_versions(path)["version"].tolist() == [1]  # failed saves leave no trace


def test_recode_cycle_with_known_codes_and_crosswalk(tmp_path, plan):
    path = tmp_path / "plans.gpkg"
    save_version(plan, path, note="2023")
    # redraw C2: merge its first two grids; known codes keep the merged ones retired forever
    old = load_version(path)
    c2 = old[old["community_code"] == C2]
    merged = shapely.union(c2.geometry.iloc[0], c2.geometry.iloc[1])
    new = pd.concat([old[old["community_code"] == C1], c2.iloc[2:]], ignore_index=True)
    new = pd.concat([new, gpd.GeoDataFrame({"community_code": [C2], "kind": ["basic"],
                                            "households": [210], "population": [630],
                                            "geometry": [merged]}, crs=CRS)],
                    ignore_index=True).drop(columns="grid_code")
    res = recode(old, gpd.GeoDataFrame(new, crs=CRS), retired=known_codes(path))
    save_version(res.plan, path, note="2024", crosswalk=res.crosswalk)
    assert known_codes(path) == sorted(set(plan["grid_code"]) | {C2 + "004"})
    assert load_crosswalk(path, 1) is None
    cw = load_crosswalk(path)
    assert set(cw.loc[cw["relation"] == "merged", "old_code"]) == {C2 + "001", C2 + "002"}
    d = diff_versions(path)
    assert d.set_index("grid_code")["change"].to_dict() == {
        C2 + "001": "removed", C2 + "002": "removed", C2 + "004": "added"}
    # a third round: splitting the merged grid again must not bring back 001/002
    v2 = load_version(path)
    k = v2.index[v2["grid_code"] == C2 + "004"][0]
    halves = [c2.geometry.iloc[0], c2.geometry.iloc[1]]
    third = pd.concat([v2.drop(index=k), gpd.GeoDataFrame(
        {"community_code": [C2, C2], "kind": "basic", "geometry": halves}, crs=CRS)],
        ignore_index=True).drop(columns="grid_code")
    res3 = recode(v2, gpd.GeoDataFrame(third, crs=CRS), retired=known_codes(path))
    assert sorted(set(res3.plan["grid_code"]) - set(v2["grid_code"])) == [C2 + "005", C2 + "006"]


def test_diff_lists_changed_grids_with_household_deltas(plan):
    after = plan.copy()
    a, b = after.index[:2]
    # move a 20 m strip and 15 households from grid b to grid a
    strip = shapely.box(400_200, 3_080_000, 400_220, 3_080_300)
    after.loc[a, "geometry"] = shapely.union(after.geometry[a], strip)
    after.loc[b, "geometry"] = shapely.difference(after.geometry[b], strip)
    after.loc[a, "households"] += 15
    after.loc[b, "households"] -= 15
    after.loc[5, "grid_name"] = "新名字"
    after = after.drop(index=4)
    after = pd.concat([after, gpd.GeoDataFrame(
        {"grid_code": [C2 + "900"], "community_code": [C2], "kind": ["school"],
         "households": [0], "population": [0],
         "geometry": [shapely.box(401_300, 3_080_000, 401_400, 3_080_100)]}, crs=CRS)])
    d = diff(plan, after).set_index("grid_code")
    assert d["change"].to_dict() == {
        plan.loc[a, "grid_code"]: "changed", plan.loc[b, "grid_code"]: "changed",
        plan.loc[4, "grid_code"]: "removed", plan.loc[5, "grid_code"]: "changed",
        C2 + "900": "added"}
    ga = d.loc[plan.loc[a, "grid_code"]]
    assert ga["households_delta"] == 15 and ga["changes"] == "geometry,households"
    assert ga["area_changed_m2"] == pytest.approx(20 * 300)
    assert d.loc[plan.loc[b, "grid_code"], "households_delta"] == -15
    assert d.loc[plan.loc[5, "grid_code"], "changes"] == "grid_name"
    assert d.loc[plan.loc[4, "grid_code"], "households_delta"] == -plan.loc[4, "households"]
    assert d.loc[C2 + "900", "households_delta"] == 0
    assert isinstance(d, gpd.GeoDataFrame) and d.crs == plan.crs
    full = diff(plan, plan, include_unchanged=True)
    assert set(full["change"]) == {"unchanged"} and len(diff(plan, plan)) == 0
    # tiny numeric noise is not a change
    noisy = plan.copy()
    noisy["geometry"] = noisy.geometry.translate(0.001, 0)
    assert len(diff(plan, noisy)) == 0


def test_diff_recounts_households_from_a_layer(plan):
    pts = gpd.GeoDataFrame({"households": [2, 3, 5], "population": [4, 6, 10]},
                           geometry=gpd.points_from_xy([400_050, 400_210, 400_250],
                                                       [3_080_100] * 3), crs=CRS)
    after = plan.copy()
    a, b = after.index[:2]
    strip = shapely.box(400_200, 3_080_000, 400_230, 3_080_300)
    after.loc[a, "geometry"] = shapely.union(after.geometry[a], strip)
    after.loc[b, "geometry"] = shapely.difference(after.geometry[b], strip)
    d = diff(plan, after.to_crs(4326), households=pts).set_index("grid_code")
    row = d.loc[plan.loc[a, "grid_code"]]
    assert (row["households_before"], row["households_after"]) == (2, 5)
    assert row["population_delta"] == 6
    assert d.crs.to_epsg() == 4326
