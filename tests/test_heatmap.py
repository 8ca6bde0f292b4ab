"""Kernel density rasters: agreement with a direct kernel sum, scales, clipping, CRS handling."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridgis.errors import CRSError, GridGISError
from gridgis.events import KERNELS, kde, kde_frames, kernel_constant

CRS = "EPSG:4547"


def brute_force(x, y, w, xc, yc, h):
    """Direct quartic-kernel sum at every cell centre (events/km², unit-integral kernel)."""
    gx, gy = np.meshgrid(xc, yc)
    d2 = (gx[..., None] - x) ** 2 + (gy[..., None] - y) ** 2
    u2 = d2 / h**2
    k = np.where(u2 < 1, (1 - u2) ** 2, 0.0)
    if w is not None:
        k = k * w
    return k.sum(-1) * 3 / (math.pi * h**2) * 1e6


def reference_points(seed=0):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(1200, 120, 400), rng.normal(2300, 300, 300), rng.uniform(0, 3000, 300)])
    y = np.concatenate([rng.normal(1800, 150, 400), rng.normal(900, 200, 300), rng.uniform(0, 3000, 300)])
    return x + 390_000, y + 3_080_000


@pytest.mark.parametrize("weighted", [False, True])
def test_fft_matches_direct_quartic_sum_within_one_percent_of_peak(weighted):
    x, y = reference_points()
    w = np.random.default_rng(1).uniform(0.5, 3, len(x)) if weighted else None
    ext = (390_000, 3_080_000, 393_000, 3_083_000)
    r = kde((x, y), crs=CRS, bandwidth=250, cell_size=25, weights=w, extent=ext, method="fft")
    assert r.meta["method"] == "fft"
    xc, yc = r.xy()
    ref = brute_force(x, y, w, xc, yc, 250)
    err = np.abs(r.values - ref).max() / ref.max()
    assert err < 0.01, err
    # and the exact path is exact
    e = kde((x, y), crs=CRS, bandwidth=250, cell_size=25, weights=w, extent=ext, method="exact")
    assert np.allclose(e.values, ref, rtol=1e-9, atol=ref.max() * 1e-12)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 60),
    h=st.floats(150, 600),
)
def test_fft_tracks_exact_for_random_inputs(seed, n, h):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 2000, n)
    y = rng.uniform(0, 2000, n)
    w = rng.uniform(0.1, 5, n)
    ext = (0, 0, 2000, 2000)
    a = kde((x, y), crs=CRS, bandwidth=h, cell_size=h / 10, weights=w, extent=ext, method="fft")
    b = kde((x, y), crs=CRS, bandwidth=h, cell_size=h / 10, weights=w, extent=ext, method="exact")
    assert a.shape == b.shape
    # second-order binning error: about (cell/h)^2 of one kernel's peak
    assert np.abs(a.values - b.values).max() <= 0.015 * b.values.max() + 1e-12
    assert np.all(a.values >= 0)


def test_kernel_constants_integrate_to_one():
    r = np.linspace(0, 1, 200_001)
    for name, (profile, c) in KERNELS.items():
        integral = np.trapezoid(profile(r) * 2 * np.pi * r, r) * c
        assert integral == pytest.approx(1.0, rel=1e-6), name


def test_density_integrates_to_event_count_and_scales():
    rng = np.random.default_rng(3)
    x = rng.normal(1500, 200, 500)
    y = rng.normal(1500, 200, 500)
    r = kde((x, y), crs=CRS, bandwidth=300, cell_size=10, extent=(0, 0, 3000, 3000))
    assert r.units == "events/km²"
    assert r.total() == pytest.approx(500, rel=0.005)
    # a single point at a cell centre: raw peak 1, density 3/(pi h^2) per m², QGIS scaled constant
    one = (np.array([105.0]), np.array([105.0]))
    ext = (0, 0, 210, 210)
    raw = kde(one, crs=CRS, bandwidth=50, cell_size=10, extent=ext, scale="raw")
    dens = kde(one, crs=CRS, bandwidth=50, cell_size=10, extent=ext, scale="density")
    qgis = kde(one, crs=CRS, bandwidth=50, cell_size=10, extent=ext, scale="qgis")
    assert raw.max == pytest.approx(1.0)
    assert dens.max == pytest.approx(3 / (math.pi * 50**2) * 1e6)
    assert qgis.max == pytest.approx(116 / (5 * math.pi * 50**2) * 15 / 16)
    assert kernel_constant("quartic", 50, "raw") == 1.0
    # raw at distance d = 30 m (3 cells east of the point): (1 - 0.36)^2
    assert raw.sample([135.0], [105.0])[0] == pytest.approx((1 - 0.6**2) ** 2)


def test_orientation_north_up_and_sample():
    pts = (np.array([900.0]), np.array([900.0]))  # north-east corner of a 1 km square
    r = kde(pts, crs=CRS, bandwidth=100, cell_size=10, extent=(0, 0, 1000, 1000))
    row, col = np.unravel_index(np.nanargmax(r.values), r.shape)
    assert row < r.shape[0] // 2 and col > r.shape[1] // 2
    assert r.sample([900.0], [900.0])[0] == pytest.approx(r.max, rel=0.05)
    assert np.isnan(r.sample([-5.0], [500.0])[0])
    xmin, ymin, xmax, ymax = r.bounds
    assert (xmin, ymin, xmax, ymax) == (0, 0, 1000, 1000)


def test_clip_masks_outside_but_keeps_contributions_from_outside_events():
    district = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1000, 1000)], crs=CRS)
    outside = gpd.GeoDataFrame(geometry=[shapely.Point(1050, 500)], crs=CRS)
    r = kde(outside, bandwidth=200, cell_size=20, clip=district)
    assert r.shape == (50, 50)
    assert np.isfinite(r.values).all()  # the square is covered exactly
    assert r.values[25, -1] > 0  # the outside event still warms the edge
    tri = gpd.GeoDataFrame(geometry=[shapely.Polygon([(0, 0), (1000, 0), (0, 1000)])], crs=CRS)
    r2 = kde(outside, bandwidth=200, cell_size=20, clip=tri)
    assert np.isnan(r2.values[0, -1]) and np.isfinite(r2.values[-1, 0])


def test_geographic_points_are_projected_to_metres():
    rng = np.random.default_rng(5)
    x = rng.uniform(388_000, 390_000, 200)
    y = rng.uniform(3_080_000, 3_082_000, 200)
    metric = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=CRS)
    wgs = metric.to_crs(4326)
    ext = (388_000, 3_080_000, 390_000, 3_082_000)
    a = kde(metric, bandwidth=300, cell_size=50, extent=ext)
    b = kde(wgs, bandwidth=300, cell_size=50, extent=ext, crs=CRS)
    assert np.allclose(a.values, b.values, rtol=1e-6, atol=a.max * 1e-9)
    # without crs=, a geographic layer gets the CGCS2000 GK zone of its longitude (CM 114E here)
    c = kde(wgs, bandwidth=300, cell_size=50)
    assert c.crs.to_epsg() == 4547


def test_missing_points_are_counted_not_silently_dropped():
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(10, 10), None, shapely.Point(20, 20)], crs=CRS)
    r = kde(gdf, bandwidth=50, cell_size=5)
    assert r.meta["n_events"] == 2 and r.meta["skipped"] == 1


def test_shape_gives_requested_raster_and_bad_inputs_raise():
    pts = (np.array([0.0, 100.0]), np.array([0.0, 50.0]))
    r = kde(pts, crs=CRS, bandwidth=100, shape=(40, 60), extent=(0, 0, 600, 300))
    assert r.shape == (40, 60) and r.cell_size == pytest.approx(10)
    with pytest.raises(GridGISError):
        kde(pts, crs=CRS, bandwidth=0)
    with pytest.raises(GridGISError, match="kernel"):
        kde(pts, crs=CRS, kernel="cosine")
    with pytest.raises(GridGISError, match="method"):
        kde(pts, crs=CRS, method="magic")
    with pytest.raises(CRSError):
        kde(pts, crs=None)
    with pytest.raises(CRSError):
        kde(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]), bandwidth=10)
    with pytest.raises(GridGISError, match="max_cells"):
        kde(pts, crs=CRS, bandwidth=100, cell_size=0.01, extent=(0, 0, 600, 300))


def test_web_mercator_overlay_keeps_the_peak_in_place():
    pt = gpd.GeoDataFrame(geometry=[shapely.Point(389_000, 3_081_000)], crs=CRS)
    r = kde(pt, bandwidth=200, cell_size=10, extent=(388_000, 3_080_000, 390_000, 3_082_000))
    web = r.to_web_mercator()
    assert web.crs.to_epsg() == 3857
    row, col = np.unravel_index(np.nanargmax(web.values), web.shape)
    xs, ys = web.xy()
    peak = gpd.GeoSeries([shapely.Point(xs[col], ys[row])], crs=3857).to_crs(CRS).iloc[0]
    assert peak.distance(pt.geometry.iloc[0]) < 2 * web.cell_size
    assert web.max == pytest.approx(r.max, rel=0.02)
    png = web.to_png_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    west, south, east, north = web.wgs84_bounds()
    assert 112 < west < east < 114 and 27 < south < north < 29


def test_frames_share_one_grid_and_add_up():
    rng = np.random.default_rng(7)
    n = 300
    gdf = gpd.GeoDataFrame(
        {"reported_at": pd.Timestamp("2025-03-03") + pd.to_timedelta(rng.integers(0, 28 * 24, n), unit="h")},
        geometry=gpd.points_from_xy(rng.uniform(0, 2000, n), rng.uniform(0, 2000, n)),
        crs=CRS,
    )
    gdf.loc[5, "reported_at"] = pd.NaT
    frames = kde_frames(gdf, freq="W", bandwidth=200, cell_size=20)
    assert [str(p) for p, _ in frames] == ["2025-03-03/2025-03-09", "2025-03-10/2025-03-16",
                                           "2025-03-17/2025-03-23", "2025-03-24/2025-03-30"]
    assert len({f.transform for _, f in frames}) == 1
    total = kde(gdf.drop(index=5), bandwidth=200, cell_size=20, extent=frames[0][1].bounds)
    summed = sum(f.values for _, f in frames)
    assert np.allclose(summed, total.values, atol=total.max * 1e-9)
    assert frames[0][1].meta["no_time"] == 1
