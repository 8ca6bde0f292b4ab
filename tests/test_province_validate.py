"""The fast coverage checks against plain reference computations, on generated plans.

The gap check skips communities whose grids cover them up to half the area floor and unions
only the grids whose interiors meet a community; the overlap pairs are found in chunks on
several threads. Here the findings are compared with the textbook forms (every community less
the union of every grid that meets it; every pair of grids whose interiors meet) on a plan with
digitising noise, missing grids, grids grown into their neighbours and grids crossing their
community line, with one thread and with two.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridgis import validate
from gridgis.rules import load_rules
from tests.province import province_plan

TOL = load_rules(None).tolerances


def damaged_plan(seed: int = 3):
    grids, parents = province_plan(40, 12, seed=seed)
    rng = np.random.default_rng(seed)
    geoms = np.asarray(grids.geometry.array, dtype=object).copy()
    n = len(geoms)
    pick = rng.permutation(n)
    noisy, grown, crossing, dropped = pick[:40], pick[40:46], pick[46:50], pick[50:56]
    geoms[noisy] = shapely.buffer(geoms[noisy], -0.15, join_style="mitre")
    geoms[grown] = shapely.buffer(geoms[grown], 12.0, join_style="mitre")
    geoms[crossing] = shapely.transform(geoms[crossing], lambda xy: xy + np.array([30.0, 0.0]))
    grids = grids.set_geometry(shapely.from_wkb(shapely.to_wkb(geoms)), crs=grids.crs)
    grids = grids.drop(index=grids.index[dropped]).reset_index(drop=True)
    return grids, parents


def reference_gaps(grids, parents) -> list[tuple[float, tuple[str, ...]]]:
    """Every community less the union of every grid that meets it: (area, grids nearby)."""
    g = np.asarray(grids.geometry.array, dtype=object)
    codes = grids["grid_code"].to_numpy()
    tree = shapely.STRtree(g)
    out = []
    for c in parents.geometry:
        near = tree.query(c, predicate="intersects")
        rest = shapely.difference(c, shapely.union_all(g[near]))
        for piece in shapely.get_parts(rest):
            if piece.area > TOL.area_floor_m2:
                touch = tree.query(piece, predicate="dwithin", distance=TOL.touch_m)
                out.append((piece.area, tuple(sorted(codes[touch]))))
    return sorted(out, key=lambda t: (t[1], t[0]))


def reference_overlaps(grids) -> list[tuple[str, str]]:
    """Every pair of grids whose interiors meet with more than the area floor."""
    g = np.asarray(grids.geometry.array, dtype=object)
    codes = grids["grid_code"].to_numpy()
    out = []
    for i in range(len(g)):
        for j in range(i + 1, len(g)):
            if shapely.relate_pattern(g[i], g[j], "2********") and \
                    shapely.intersection(g[i], g[j]).area > TOL.area_floor_m2:
                out.append(tuple(sorted((codes[i], codes[j]))))
    return sorted(out)


@pytest.fixture(scope="module")
def plan():
    return damaged_plan()


@pytest.mark.parametrize("n_threads", ["1", "2"])
def test_gaps_and_overlaps_match_the_reference(plan, n_threads, monkeypatch):
    monkeypatch.setenv("GRIDGIS_THREADS", n_threads)
    monkeypatch.setenv("GRIDGIS_THREAD_MIN", "25")  # chunks even on this small plan
    grids, parents = plan
    report = validate(grids, parents)
    gaps = sorted(((f.measure, f.grids) for f in report.select("gap")),
                  key=lambda t: (t[1], t[0]))
    want = reference_gaps(grids, parents)
    assert len(want) > 30  # noise and missing grids were planted
    assert [g for _, g in gaps] == [g for _, g in want]
    np.testing.assert_allclose([a for a, _ in gaps], [a for a, _ in want], rtol=1e-7)
    overlaps = sorted(f.grids for f in report.select("overlap"))
    assert overlaps == reference_overlaps(grids) and len(overlaps) >= 6


def test_one_thread_and_two_give_the_same_findings(plan, monkeypatch):
    grids, parents = plan
    runs = []
    monkeypatch.setenv("GRIDGIS_THREAD_MIN", "25")
    for n_threads in ("1", "2"):
        monkeypatch.setenv("GRIDGIS_THREADS", n_threads)
        runs.append(validate(grids, parents).to_geodataframe())
    assert runs[0].drop(columns="geometry").equals(runs[1].drop(columns="geometry"))
    assert runs[0].geometry.geom_equals_exact(runs[1].geometry, 0).all()
    assert set(runs[0]["rule"]) >= {"gap", "overlap", "crosses_parent"}


def test_a_community_whose_areas_add_up_still_shows_its_gap():
    """A 36 m² hole in one grid and a 36 m² grid lying on another: the grid areas add up to the
    community's, yet the hole is a gap (the shortcut must not skip this community)."""
    x, y = 400_000.0, 3_000_000.0
    parents = gpd.GeoDataFrame({"code": ["430302001001"], "area_kind": ["urban"]},
                               geometry=[shapely.box(x, y, x + 100, y + 100)], crs="EPSG:4547")
    left = shapely.box(x, y, x + 50, y + 100).difference(shapely.box(x + 10, y + 10, x + 16,
                                                                      y + 16))
    cells = [left, shapely.box(x + 50, y, x + 100, y + 100),
             shapely.box(x + 30, y + 40, x + 36, y + 46)]
    grids = gpd.GeoDataFrame({"grid_code": [f"430302001001{i:03d}" for i in (1, 2, 900)],
                              "kind": ["basic", "basic", "school"]}, geometry=cells,
                             crs="EPSG:4547")
    assert abs(sum(c.area for c in cells) - 10_000.0) < 1e-9
    report = validate(grids, parents)
    assert [round(f.measure, 6) for f in report.select("gap")] == [36.0]
    assert len(report.select("overlap")) == 1
