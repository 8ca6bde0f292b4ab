"""Getis–Ord Gi* hot spots: planted clusters are found, results are seeded, bad input is named."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridgis import events
from gridgis.errors import GridGISError, SchemaError
from gridgis.events import hotspots

from .events_fixtures import HOT, make_district, make_events, make_grids


@pytest.fixture(scope="module")
def fixture_stats():
    grids = make_grids()
    ev = events.attach_grid_codes(events.clean(make_events(grids)), grids)
    return grids, ev, events.grid_stats(ev, grids)


def test_planted_block_of_high_rates_is_a_hot_spot(fixture_stats):
    grids, _, stats = fixture_stats
    hs = hotspots.getis_ord(stats, "rate_per_100hh", permutations=999, seed=0)
    planted = np.array([(c, r) in set(HOT) for c, r in zip(grids["col"], grids["row"], strict=True)])
    assert (hs.loc[planted, "hotspot"] == "hot").all()
    assert (hs.loc[planted, "gi_bin"] == 3).all()
    assert (hs.loc[planted, "gi_z"] > 3).all()
    # no hot spot far (more than two grids) from the planted block
    far = np.array([min(abs(c - 8), abs(r - 3)) > 3 for c, r in zip(grids["col"], grids["row"], strict=True)])
    assert not (hs.loc[far, "hotspot"] == "hot").any()
    assert set(hs["hotspot_label"]) <= {hotspots.hotspot_label(b) for b in hotspots.HOTSPOT_LABELS}


def test_results_are_seeded_and_missing_values_are_no_data(fixture_stats):
    _, _, stats = fixture_stats
    stats = stats.copy()
    stats.loc[5, "rate_per_100hh"] = np.nan
    a = hotspots.getis_ord(stats, permutations=199, seed=3)
    b = hotspots.getis_ord(stats, permutations=199, seed=3)
    c = hotspots.getis_ord(stats, permutations=199, seed=4)
    assert np.array_equal(a["gi_p"].to_numpy(), b["gi_p"].to_numpy(), equal_nan=True)
    assert not np.array_equal(a["gi_p"].to_numpy(), c["gi_p"].to_numpy(), equal_nan=True)
    assert a.loc[5, "hotspot"] == "no data" and np.isnan(a.loc[5, "gi_z"])
    assert a.attrs["seed"] == 3 and a.attrs["permutations"] == 199


def test_weights_options_and_fdr(fixture_stats):
    _, _, stats = fixture_stats
    for kind in ("queen", "rook", "knn"):
        hs = hotspots.getis_ord(stats, weights=kind, permutations=99)
        assert (hs["hotspot"] == "hot").any(), kind
    d = hotspots.getis_ord(stats, weights="distance", distance=400, permutations=99)
    assert len(d) == len(stats)
    plain = hotspots.getis_ord(stats, permutations=199)
    fdr = hotspots.getis_ord(stats, permutations=199, fdr=True)
    assert (fdr["hotspot"] == "hot").sum() <= (plain["hotspot"] == "hot").sum()
    # FDR classes are the Benjamini–Hochberg step-up procedure on the same permutation p-values
    p, z = plain["gi_p"].to_numpy(), plain["gi_z"].to_numpy()
    assert np.array_equal(p, fdr["gi_p"].to_numpy())
    expected = np.zeros(len(p), dtype=int)
    for level, alpha in ((1, 0.10), (2, 0.05), (3, 0.01)):
        expected = np.where(p <= _bh_cut(p, alpha), level * np.sign(z).astype(int), expected)
    assert np.array_equal(fdr["gi_bin"].to_numpy(), expected)
    assert ((fdr["hotspot"] == "hot").to_numpy() == ((p <= _bh_cut(p, 0.05)) & (z > 0))).all()
    assert _bh_cut(np.array([0.001, 0.2, 0.5]), 0.05) == 0.001
    assert _bh_cut(np.array([0.3, 0.5]), 0.05) == 0.0


def _bh_cut(pvalues: np.ndarray, alpha: float) -> float:
    """Largest p-value rejected by the Benjamini–Hochberg procedure at FDR ``alpha`` (0 if none)."""
    p = np.sort(pvalues)
    ok = p <= alpha * np.arange(1, p.size + 1) / p.size
    return float(p[np.flatnonzero(ok)[-1]]) if ok.any() else 0.0


def test_fdr_keeps_only_cells_that_survive_the_correction():
    """Lattice hot spots with ``fdr=True`` (the default) are those whose Benjamini–Hochberg
    adjusted p-value is within ``alpha``; without the correction more cells pass."""
    grids = make_grids()
    ev = events.clean(make_events(grids))
    area = make_district(grids)
    raw = hotspots.event_hotspots(ev, area, cell_size=125, fdr=False)
    bh = hotspots.event_hotspots(ev, area, cell_size=125)
    p, z = raw["gi_p"].to_numpy(), raw["gi_z"].to_numpy()
    cut = _bh_cut(p, 0.05)
    assert 0 < cut < 0.05
    assert ((bh["hotspot"] == "hot").to_numpy() == ((p <= cut) & (z > 0))).all()
    assert ((bh["hotspot"] == "cold").to_numpy() == ((p <= cut) & (z < 0))).all()
    assert (raw["hotspot"] != "not significant").sum() > (bh["hotspot"] != "not significant").sum()


def test_islands_are_attached():
    cells = [shapely.box(i, 0, i + 1, 1) for i in range(5)] + [shapely.box(10, 10, 11, 11)]
    g = gpd.GeoDataFrame({"v": [1, 2, 3, 4, 5, 6]}, geometry=cells, crs="EPSG:4547")
    w = hotspots.spatial_weights(g, "queen")
    assert w.cardinalities[5] >= 1 and not w.islands


def test_bad_inputs(fixture_stats):
    _, _, stats = fixture_stats
    with pytest.raises(SchemaError, match="nope"):
        hotspots.getis_ord(stats, "nope")
    with pytest.raises(GridGISError, match="weights kind"):
        hotspots.getis_ord(stats, weights="hexagonal")
    with pytest.raises(GridGISError, match="at least 3"):
        hotspots.getis_ord(stats.iloc[:2])


def test_lattice_hot_spots_on_the_fixture(fixture_stats):
    grids, ev, _ = fixture_stats
    cells = hotspots.event_hotspots(ev, make_district(grids), cell_size=125)
    assert cells.crs.to_epsg() == 4547 and len(cells) == 24 * 24
    assert cells["n_events"].sum() == len(ev)
    by_grid = hotspots.hotspots_by_grid(grids, cells)
    planted = np.array([(c, r) in set(HOT) for c, r in zip(grids["col"], grids["row"], strict=True)])
    assert (by_grid.loc[planted, "hot_level"] >= 2).all()
    assert (by_grid.loc[planted, "hot_share"] > 0.9).all()
    assert by_grid.loc[~planted, "hot_share"].mean() < 0.1


def test_sample_planted_hot_spots_are_found():
    """Every planted hot spot of the sample district is a significant hot cell (99 % or 95 %,
    FDR-corrected) in the analysis of all events; in the analysis of its own category it ranks
    in the top 1 % of cells, and because of the planted events: without them its z-score falls
    by a third or more. Their communities come out as holding hot cells."""
    from gridgis.samples import load_sample

    layers = load_sample()
    planted = layers["hotspots"]
    assert len(planted) >= 3
    ev = events.clean(layers["events"])
    district = layers["district"]
    cells = hotspots.event_hotspots(ev, district, cell_size=150)
    pts = planted.to_crs(cells.crs)
    hit = gpd.sjoin(pts[["geometry"]], cells, predicate="within")
    assert len(hit) == len(planted)
    assert (hit["hotspot"] == "hot").all(), hit[["gi_z", "gi_p", "hotspot"]]
    assert (hit["gi_bin"] >= 2).all()
    comm = hotspots.hotspots_by_grid(layers["communities"], cells)
    holding = gpd.sjoin(pts[["geometry"]], comm, predicate="within")
    assert (holding["hot_level"] >= 2).all()

    by_cat = hotspots.event_hotspots_by(ev, district, "category", cell_size=150)
    evm = ev.to_crs(cells.crs)
    planted_ev = np.zeros(len(evm), dtype=bool)
    for spot in pts.itertuples():
        planted_ev |= (evm.distance(spot.geometry) <= spot.radius_m).to_numpy() & (evm["category"] == spot.category).to_numpy()

    def at(lattice, point):
        row = gpd.sjoin(gpd.GeoDataFrame(geometry=[point], crs=lattice.crs), lattice, predicate="within")
        z = row["gi_z"].iloc[0]
        return z, int((lattice["gi_z"].to_numpy() > z).sum()), row["hotspot"].iloc[0]

    for spot in pts.itertuples():
        own = by_cat[by_cat["group"] == spot.category]
        z, r, status = at(own, spot.geometry)
        assert status == "hot" and r < 0.01 * len(own), (spot.name, r)
        control = ev.loc[~planted_ev & (ev["category"] == spot.category).to_numpy()]
        base = hotspots.event_hotspots(control, district, cell_size=150)
        z0, r0, _ = at(base, spot.geometry)
        assert z0 < 0.67 * z and r0 > r, (spot.name, z, z0, r, r0)


def _doughnut_grids(seed: int = 0) -> gpd.GeoDataFrame:
    """10×10 grids with about 60 events each and one (position 44) with 600."""
    rng = np.random.default_rng(seed)
    cells = [shapely.box(i * 200, j * 200, i * 200 + 200, j * 200 + 200) for j in range(10) for i in range(10)]
    g = gpd.GeoDataFrame({"n": rng.poisson(60, 100).astype(float)}, geometry=cells, crs="EPSG:4547")
    g.loc[44, "n"] = 600.0
    return g


@pytest.mark.parametrize("permutations", [0, 999])
def test_single_extreme_grid_is_flagged_itself(permutations):
    """The doughnut: the focal value is part of its own test (analytical or total permutations)."""
    g = _doughnut_grids()
    hs = hotspots.getis_ord(g, "n", permutations=permutations, seed=0)
    assert hs.loc[44, "gi_z"] > 3
    assert hs.loc[44, "hotspot"] == "hot"
    if permutations == 0:
        assert hs.loc[44, "gi_p"] < 0.001 and hs.loc[44, "gi_bin"] == 3
    far = [0, 9, 90, 99]
    assert (hs.loc[far, "hotspot"] == "not significant").all()


def test_p_values_are_float64_and_the_floor_passes():
    g = _doughnut_grids()
    hs = hotspots.getis_ord(g, "n", permutations=999, seed=0)
    assert hs["gi_p"].dtype == np.float64 and hs["gi_p_norm"].dtype == np.float64
    # two-sided permutation floor 2/1000 is exactly representable in float64
    assert hs["gi_p"].min() >= 2 / 1000 and (hs["gi_p"] * 1000).round(6).mod(1).eq(0).all()


def test_compact_cluster_is_found_with_the_defaults():
    """6×6 km, 6,000 background events and 600 in one spot, 1,600 cells of 150 m: defaults (FDR)."""
    rng = np.random.default_rng(1)
    x = np.r_[rng.uniform(0, 6000, 6000), rng.normal(3000, 60, 600)]
    y = np.r_[rng.uniform(0, 6000, 6000), rng.normal(2000, 60, 600)]
    pts = gpd.GeoDataFrame(geometry=shapely.points(x, y), crs="EPSG:4547")
    area = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 6000, 6000)], crs="EPSG:4547")
    cells = hotspots.event_hotspots(pts, area)
    assert len(cells) == 1600 and cells.attrs["fdr"]
    hot = cells.loc[cells["hotspot"] == "hot"]
    assert len(hot) >= 5
    centres = shapely.get_coordinates(hot.geometry.centroid.values)
    assert (np.hypot(centres[:, 0] - 3000, centres[:, 1] - 2000) < 500).all()
    spot = shapely.Point(3000, 2000)
    assert (cells.loc[cells.geometry.contains(spot), "gi_bin"] == 3).all()
