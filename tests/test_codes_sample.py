"""Codes and re-coding on the sample district (gridgis.samples.load_sample)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridgis.codes import assign_codes, recode, recode_table
from gridgis.samples import load_sample
from gridgis.versions import diff, load_version, save_version


@pytest.fixture(scope="module")
def sample():
    return load_sample()


def voronoi_plan(sample, seed: int, only: str | None = None) -> gpd.GeoDataFrame:
    """Grids as Voronoi cells around buildings (one cell per ~400 households) per community."""
    rng = np.random.default_rng(seed)
    comm = sample["communities"]
    bld = sample["buildings"]
    rows = []
    for code, poly in zip(comm["code"], comm.geometry, strict=True):
        if only is not None and code != only:
            continue
        b = bld[bld["community_code"] == code]
        k = int(np.clip(np.ceil(b["households"].sum() / 400), 1, max(len(b), 1)))
        pts = shapely.points(rng.uniform(*poly.bounds[::2], 200), rng.uniform(*poly.bounds[1::2], 200))
        pts = pts[shapely.contains(poly, pts)]
        seeds = pts[:k] if len(pts) >= k else np.asarray(b.representative_point().array)[:k]
        if k == 1:
            cells = [poly]
        else:
            cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds),
                                                               extend_to=poly))
            cells = [shapely.intersection(c, poly) for c in cells]
        cells = [c for c in cells if not c.is_empty and c.area > 1]
        rows += [{"community_code": code, "kind": "basic", "geometry": c} for c in cells]
    return gpd.GeoDataFrame(rows, crs=comm.crs)


def located(points: gpd.GeoDataFrame, plan: gpd.GeoDataFrame) -> np.ndarray:
    joined = gpd.sjoin(points[["geometry"]], plan[["grid_code", "geometry"]],
                       predicate="within", how="left")
    return joined[~joined.index.duplicated()]["grid_code"].reindex(points.index).to_numpy()


def check_local_redraw(sample, old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, community: str):
    """Recode, then check the two bars: nothing outside changes; crosswalk == spatial."""
    res = recode(old, new, households=sample["buildings"])
    out = res.plan[res.plan["community_code"] != community]
    before = old[old["community_code"] != community]
    pairs = out.merge(before[["grid_code", "geometry"]], on="grid_code", how="outer",
                      indicator=True)
    assert (pairs["_merge"] == "both").all()  # every code outside kept, none added
    assert shapely.equals(pairs["geometry_x"].values, pairs["geometry_y"].values).all()
    assert res.plan["grid_code"].is_unique
    assert all(c.startswith(community) for c in res.retired)

    addr = sample["addresses"]
    table = pd.DataFrame({"地址编号": addr["address_id"], "网格编码": located(addr, old),
                          "经度": addr["lon"], "纬度": addr["lat"]})
    assert table["网格编码"].notna().all()
    rewritten = recode_table(table, res, column="网格编码")
    assert (rewritten.table["网格编码"].to_numpy() == located(addr, res.plan)).all()
    assert rewritten.ok
    return res, rewritten


def test_local_redraw_of_one_community_on_the_sample(sample):
    old = assign_codes(voronoi_plan(sample, seed=0), communities=sample["communities"])
    target = old["community_code"].value_counts().index[0]  # the community with most grids
    new = pd.concat([old[old["community_code"] != target].drop(columns="grid_code"),
                     voronoi_plan(sample, seed=5, only=target)], ignore_index=True)
    res, rewritten = check_local_redraw(sample, old, new, target)
    assert (res.crosswalk["relation"] != "same").any()
    assert rewritten.counts.get("located", 0) > 0


def test_versions_diff_on_the_sample(sample, tmp_path):
    old = assign_codes(voronoi_plan(sample, seed=0))
    target = old["community_code"].value_counts().index[0]
    new = pd.concat([old[old["community_code"] != target].drop(columns="grid_code"),
                     voronoi_plan(sample, seed=5, only=target)], ignore_index=True)
    res = recode(old, new, households=sample["buildings"])
    path = tmp_path / "plans.gpkg"
    save_version(old, path, author="测试", note="v1")
    save_version(res.plan, path, author="测试", note="v2", crosswalk=res.crosswalk)
    d = diff(load_version(path, 1), load_version(path, 2), households=sample["buildings"])
    assert set(d["grid_code"].str[:12]) == {target}
    assert d["households_delta"].sum() == 0  # households only move inside the community
    assert set(d["change"]) <= {"added", "removed", "changed"}


@pytest.mark.slow
def test_recode_builder_plan_after_rebuilding_one_community(sample):
    partition = pytest.importorskip("gridgis.partition")
    kw = dict(roads=sample["roads"], buildings=sample["buildings"],
              special_sites=sample["special_sites"], rivers=sample["rivers"])
    old = assign_codes(partition.build_grids(sample["communities"], seed=0, **kw).grids)
    comm = sample["communities"]
    urban = comm[comm["area_kind"] == "urban"]["code"]
    target = old[old["community_code"].isin(urban)]["community_code"].value_counts().index[0]
    one = comm[comm["code"] == target]
    rebuilt = partition.build_grids(one, seed=7, **kw).grids
    rebuilt = rebuilt[rebuilt["community_code"] == target].drop(columns="grid_code")
    new = pd.concat([old[old["community_code"] != target].drop(columns="grid_code"), rebuilt],
                    ignore_index=True)
    check_local_redraw(sample, old, gpd.GeoDataFrame(new, crs=old.crs), target)
