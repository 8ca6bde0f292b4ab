"""Hot spots of rates, not density: events relative to the households exposed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from gridgis import events
from gridgis.errors import GridGISError, SchemaError

from .events_fixtures import HOT, make_events, make_grids


def _stats(seed: int, hot_rate: float):
    grids = make_grids(seed)
    # a dense core: some grids hold many more households than others (density ≠ rate)
    rng = np.random.default_rng(seed)
    core = (grids["col"].between(3, 6) & grids["row"].between(5, 9)).to_numpy()
    grids.loc[core, "households"] = rng.integers(1500, 2500, int(core.sum()))
    ev = events.attach_grid_codes(events.clean(make_events(grids, seed=seed, hot_rate=hot_rate)), grids)
    return grids, events.grid_stats(ev, grids)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_events_in_proportion_to_households_give_no_excess_hot_spots(seed):
    grids, stats = _stats(seed, hot_rate=6.0)  # every grid at the same rate per household
    hs = events.rate_hotspots(stats, "n_events", "households")
    assert hs["gi_p"].dtype == np.float64
    assert (hs["hotspot"] == "hot").sum() == 0  # defaults: FDR at 5 %
    raw = events.rate_hotspots(stats, "n_events", "households", fdr=False)
    n = len(raw)
    # at 95 % without correction, no more hot grids than the false-alarm rate allows
    assert (raw["gi_bin"] >= 2).sum() <= binom.ppf(0.999, n, 0.025)
    # …whereas Gi* of raw counts calls the dense core hot
    dense = events.getis_ord(stats, "n_events")
    assert (dense["hotspot"] == "hot").sum() > 5


def test_planted_excess_is_found_and_nothing_else():
    grids, stats = _stats(0, hot_rate=18.0)
    hs = events.rate_hotspots(stats, "n_events", "households")
    planted = np.array([(c, r) in set(HOT) for c, r in zip(grids["col"], grids["row"], strict=True)])
    assert (hs.loc[planted, "hotspot"] == "hot").all()
    assert not (hs.loc[~planted, "hotspot"] == "hot").any()
    assert (hs.loc[planted, "ratio"] > 1.5).all()
    pooled = events.rate_hotspots(stats, "n_events", "households", weights="queen")
    assert (pooled.loc[planted, "hotspot"] == "hot").sum() >= 7
    assert pooled.attrs["method"] == "poisson"


def test_empirical_bayes_shrinks_small_grids_and_no_exposure_is_no_data():
    grids, stats = _stats(0, hot_rate=6.0)
    stats = stats.copy()
    stats.loc[0, "households"] = 0
    stats.loc[1, "households"] = 5
    stats.loc[1, "n_events"] = 3
    hs = events.rate_hotspots(stats, "n_events", "households")
    assert hs.loc[0, "hotspot"] == "no data" and np.isnan(hs.loc[0, "expected"])
    district = stats["n_events"].iloc[1:].sum() / stats["households"].iloc[1:].sum() * 100
    assert abs(hs.loc[1, "eb_rate"] - district) < abs(hs.loc[1, "rate"] - district)
    assert np.isclose(hs["expected"].sum(), hs.loc[hs["expected"].notna(), "n_events"].sum())


def test_rate_hotspots_bad_input():
    _, stats = _stats(0, hot_rate=6.0)
    with pytest.raises(SchemaError, match="population"):
        events.rate_hotspots(stats, "n_events", "population")
    with pytest.raises(GridGISError, match="positive"):
        events.rate_hotspots(stats.assign(households=0), "n_events", "households")


def test_overdispersed_background_is_absorbed_and_strong_excess_still_found():
    """Grids whose risk varies (gamma, variance 0.1) around the household rate: the negative
    binomial test flags the two planted 4× grids, not the ordinary variation; a plain Poisson
    test would flag much of it."""
    rng = np.random.default_rng(5)
    grids = make_grids(5)
    x = grids["households"].to_numpy(float)
    risk = rng.gamma(10, 0.1, len(grids))
    risk[[20, 90]] = 4.0
    counts = rng.poisson(x / 100 * 6 * risk)
    stats = grids.assign(n_events=counts)
    hs = events.rate_hotspots(stats)
    assert 0.03 < hs.attrs["dispersion"] < 0.3
    hot = set(np.flatnonzero((hs["hotspot"] == "hot").to_numpy()))
    assert {20, 90} <= hot and len(hot) <= 4
    plain = events.rate_hotspots(stats, overdispersed=False)
    assert (plain["hotspot"] != "not significant").sum() > 3 * len(hot)


def test_lattice_hot_spots_against_an_exposure_layer():
    """Cells expect their share of the grids' households: a uniform rate gives no hot cell, the
    planted block is hot, and Gi* of the same counts also marks the dense core."""
    from .events_fixtures import make_district

    grids = make_grids(0)
    rng = np.random.default_rng(0)
    core = (grids["col"].between(0, 3) & grids["row"].between(6, 9)).to_numpy()
    grids.loc[core, "households"] = rng.integers(1500, 2500, int(core.sum()))
    area = make_district(grids)
    flat = events.clean(make_events(grids, seed=1, hot_rate=6.0))
    cells = events.event_hotspots(flat, area, cell_size=125, exposure=grids)
    assert cells.attrs["method"] == "poisson" and (cells["hotspot"] == "hot").sum() == 0
    dense = events.event_hotspots(flat, area, cell_size=125)
    assert (dense["hotspot"] == "hot").sum() > 10
    planted = events.clean(make_events(grids, seed=1, hot_rate=30.0))
    hot = events.event_hotspots(planted, area, cell_size=125, exposure=grids)
    by_grid = events.hotspots_by_grid(grids, hot)
    mask = np.array([(c, r) in set(HOT) for c, r in zip(grids["col"], grids["row"], strict=True)])
    assert (by_grid.loc[mask, "hot_cells"] > 0).mean() > 0.7
    assert by_grid.loc[~mask & core, "hot_cells"].sum() == 0
