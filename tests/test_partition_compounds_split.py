"""Compounds above the maximum: cut along their own buildings into as few grids as the rule
allows (``ceil(T / max)``), each piece contiguous, the rest of the plan within the rule."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gridgis
from gridgis import schema
from gridgis.partition import build_grids
from gridgis.partition.quality import count_enclaves, count_holes

CRS = 32650
X0, Y0 = 500_000.0, 3_000_000.0
STEP = 50.0


def _layers(cols: int, rows: int, comp_cols: int, hh_comp: int, hh_other: int):
    """One community without inner streets: a lattice of houses, the ``comp_cols`` western
    columns one compound of ``hh_comp`` households per house, the rest ``hh_other`` each."""
    comm = gpd.GeoDataFrame({schema.CODE: ["430302001001"]},
                            geometry=[shapely.box(X0, Y0, X0 + cols * STEP, Y0 + rows * STEP)],
                            crs=CRS)
    geoms, hh, comp = [], [], []
    for i in range(cols):
        for j in range(rows):
            x, y = X0 + (i + 0.5) * STEP, Y0 + (j + 0.5) * STEP
            geoms.append(shapely.box(x - 12, y - 8, x + 12, y + 8))
            inside = i < comp_cols
            hh.append(hh_comp if inside else hh_other)
            comp.append("BIG" if inside else "")
    b = gpd.GeoDataFrame({schema.HOUSEHOLDS: hh, schema.COMPOUND_ID: comp}, geometry=geoms,
                         crs=CRS)
    return comm, b


def _grids_of(res, b, cid: str) -> int:
    return int(res.building_grid[(b[schema.COMPOUND_ID] == cid).to_numpy()].nunique())


def _check_rest(res) -> None:
    g = res.grids
    assert g[schema.HOUSEHOLDS].between(300, 500).all(), g[schema.HOUSEHOLDS].tolist()
    assert (g[schema.FLAG] == "").all()
    assert count_enclaves(g) == 0 and count_holes(g) == 0
    assert (g.geom_type == "Polygon").all()
    assert shapely.coverage_is_valid(g.geometry.to_numpy())


def test_oversize_compound_lies_in_the_fewest_grids():
    """A compound of 1,280 households (max 500) used to be spread over more grids than the
    three it needs, and validate warned ``compound_split``."""
    comm, b = _layers(cols=12, rows=8, comp_cols=5, hh_comp=32, hh_other=20)
    total = int(b.loc[b[schema.COMPOUND_ID] == "BIG", schema.HOUSEHOLDS].sum())
    assert total == 1280
    for seed in range(3):
        res = build_grids(comm, None, b, seed=seed)
        assert _grids_of(res, b, "BIG") == math.ceil(total / 500) == 3
        _check_rest(res)
        union = shapely.coverage_union_all(res.grids.geometry.to_numpy())
        assert shapely.symmetric_difference(union, comm.geometry.iloc[0]).area < 1e-3
        assert not (res.report["reason"] == "compound_split").any()
        rep = gridgis.validate(res.grids, buildings=b)
        assert not rep.select("compound_split")


def test_validate_warns_only_above_the_fewest():
    """The rule counts the grids a compound needs: three grids for 1,280 households are fine,
    four are not."""
    comm, b = _layers(cols=12, rows=8, comp_cols=5, hh_comp=32, hh_other=20)
    xs = [X0, X0 + 100, X0 + 150, X0 + 200, X0 + 600]  # 4 grids

    def cut(edges):
        return gpd.GeoDataFrame(
            {schema.GRID_CODE: [f"430302001001{i + 1:03d}" for i in range(len(edges) - 1)],
             schema.COMMUNITY_CODE: ["430302001001"] * (len(edges) - 1)},
            geometry=[shapely.box(a, Y0, z, Y0 + 400) for a, z in zip(edges[:-1], edges[1:], strict=True)],
            crs=CRS)

    three = cut([X0, X0 + 100, X0 + 200, X0 + 600])  # the compound spans x 0..250: 3 grids
    assert not gridgis.validate(three, buildings=b).select("compound_split")
    found = gridgis.validate(cut(xs), buildings=b).select("compound_split")
    assert len(found) == 1 and found[0].item == "BIG" and found[0].measure == 4


@st.composite
def _cases(draw):
    comp_cols = draw(st.integers(3, 6))
    hh_comp = draw(st.integers(22, 34))
    return comp_cols, hh_comp, draw(st.integers(0, 1000))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_cases())
def test_oversize_compound_in_exactly_ceil_total_over_max_grids(case):
    """A compound of total T > max in a community whose plan allows it ends in exactly
    ceil(T / max) grids, every piece contiguous, the plan within the rule."""
    comp_cols, hh_comp, seed = case
    comm, b = _layers(cols=12, rows=8, comp_cols=comp_cols, hh_comp=hh_comp, hh_other=20)
    total = int(b.loc[b[schema.COMPOUND_ID] == "BIG", schema.HOUSEHOLDS].sum())
    res = build_grids(comm, None, b, seed=seed)
    need = math.ceil(total / 500)
    assert total > 500
    assert _grids_of(res, b, "BIG") == need, res.report.to_string()
    _check_rest(res)
    # each grid's share of the compound is one contiguous piece of the compound's houses
    big = (b[schema.COMPOUND_ID] == "BIG").to_numpy()
    for code, idx in pd.Series(np.flatnonzero(big)).groupby(
            res.building_grid.to_numpy()[big]).groups.items():
        piece = shapely.union_all(b.geometry.iloc[np.flatnonzero(big)[list(idx)]].buffer(20))
        assert piece.geom_type == "Polygon", code


def test_sample_compound_warnings_are_explained_by_the_report():
    """On the bundled sample every compound that validate finds in more grids than it needs is
    in the build report with the reason; none of them is left unexplained."""
    s = gridgis.load_sample()
    res = build_grids(s["communities"], s["roads"], s["buildings"],
                      special_sites=s["special_sites"], rivers=s["rivers"])
    warned = {f.item for f in gridgis.validate(res.grids, buildings=s["buildings"])
              .select("compound_split")}
    rows = res.report[(res.report["item"] == "compound")
                      & (res.report["reason"] == "compound_split")]
    assert warned == set(rows["item_id"])
    assert (rows["detail"].str.len() > 20).all()


def test_validate_and_builder_count_the_population_cap_alike():
    """With a population cap as well, a compound needs ``ceil(T / cap)`` grids on every capped
    measure: 640 households (max 500: 2 grids) of 2,600 residents (max 1,600: 2 grids) need 2,
    and 3,600 residents need 3; the builder and validate agree."""
    comm, b = _layers(cols=12, rows=8, comp_cols=4, hh_comp=20, hh_other=20)
    big = (b[schema.COMPOUND_ID] == "BIG").to_numpy()
    b[schema.POPULATION] = 0.0
    b.loc[big, schema.POPULATION] = 3600 / big.sum()
    b.loc[~big, schema.POPULATION] = 40.0
    rules = {"urban": {"max_population": 1600}}
    res = build_grids(comm, None, b, rules)
    assert int(b.loc[big, schema.HOUSEHOLDS].sum()) == 640
    assert _grids_of(res, b, "BIG") == 3
    assert not gridgis.validate(res.grids, buildings=b, rules=rules).select("compound_split")
    halves = gpd.GeoDataFrame(
        {schema.GRID_CODE: ["430302001001001", "430302001001002"],
         schema.COMMUNITY_CODE: ["430302001001"] * 2},
        geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 400),
                  shapely.box(X0 + 100, Y0, X0 + 600, Y0 + 400)], crs=CRS)
    assert not gridgis.validate(halves, buildings=b).select("compound_split")  # no cap: 2
    found = gridgis.validate(halves, buildings=b, rules=rules).select("compound_split")
    assert not found  # 2 grids, 3 needed: fewer than needed is not a split
    thirds = gpd.GeoDataFrame(
        {schema.GRID_CODE: [f"430302001001{i:03d}" for i in range(1, 5)],
         schema.COMMUNITY_CODE: ["430302001001"] * 4},
        geometry=[shapely.box(X0 + a, Y0, X0 + z, Y0 + 400)
                  for a, z in ((0, 50), (50, 100), (100, 150), (150, 600))], crs=CRS)
    assert len(gridgis.validate(thirds, buildings=b, rules=rules).select("compound_split")) == 1
    assert len(gridgis.validate(thirds, buildings=b).select("compound_split")) == 1
