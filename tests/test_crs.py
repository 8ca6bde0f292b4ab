import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridgis import crs as gcrs
from gridgis.errors import CRSError

# China's bounding box as used by the public algorithm
china_lon = st.floats(73.0, 135.0, allow_nan=False)
china_lat = st.floats(3.9, 53.6, allow_nan=False)


def test_published_vectors():
    # vectors published with the widely used coordTransform library
    lon, lat = gcrs.wgs84_to_gcj02(128.543, 37.065)
    assert lon == pytest.approx(128.54820547949757, abs=1e-10)
    assert lat == pytest.approx(37.065651049489816, abs=1e-10)
    lon, lat = gcrs.gcj02_to_bd09(128.543, 37.065)
    assert lon == pytest.approx(128.54944656269413, abs=1e-10)
    assert lat == pytest.approx(37.07113427883019, abs=1e-10)


def test_offset_magnitude_in_beijing():
    # GCJ-02 shifts Beijing by a few hundred metres (~0.006° lon, ~0.0014° lat)
    lon, lat = gcrs.wgs84_to_gcj02(116.391, 39.907)
    assert 0.004 < lon - 116.391 < 0.008
    assert 0.0005 < lat - 39.907 < 0.003


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_gcj_round_trip(lon, lat):
    glon, glat = gcrs.wgs84_to_gcj02(lon, lat)
    blon, blat = gcrs.gcj02_to_wgs84(glon, glat)
    assert abs(blon - lon) < 1e-7 and abs(blat - lat) < 1e-7


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_bd_round_trip(lon, lat):
    blon, blat = gcrs.wgs84_to_bd09(lon, lat)
    wlon, wlat = gcrs.bd09_to_wgs84(blon, blat)
    assert abs(wlon - lon) < 1e-7 and abs(wlat - lat) < 1e-7


def test_vectorised_arrays_and_outside_china_unchanged():
    lon = np.array([2.35, 112.9, -74.0, np.nan])
    lat = np.array([48.85, 27.85, 40.7, 30.0])
    glon, glat = gcrs.wgs84_to_gcj02(lon, lat)
    assert glon.shape == (4,)
    assert glon[0] == 2.35 and glat[0] == 48.85  # Paris unchanged
    assert glon[2] == -74.0
    assert glon[1] != 112.9
    assert np.isnan(glon[3])
    wlon, wlat = gcrs.gcj02_to_wgs84(glon, glat)
    assert np.allclose(wlon[:3], lon[:3], atol=1e-9)


def test_resolve_crs_accepts_pseudo_names():
    assert gcrs.resolve_crs("gcj-02") == "GCJ02"
    assert gcrs.resolve_crs("BD09") == "BD09"
    assert gcrs.resolve_crs(4490).to_epsg() == 4490
    with pytest.raises(CRSError, match="unknown coordinate"):
        gcrs.resolve_crs("EPSG:999999")
    with pytest.raises(CRSError):
        gcrs.resolve_crs(None)


@pytest.mark.parametrize(
    "lon, lat, epsg",
    [(112.9, 27.85, 4547), (116.4, 39.9, 4548), (75.9, 39.5, 4534), (134.5, 47.0, 4554),
     (2.35, 48.85, 32631), (-58.4, -34.6, 32721), (14.42, 50.09, 32633)],
)
def test_metric_crs(lon, lat, epsg):
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(lon, lat)], crs=4326)
    assert gcrs.metric_crs(gdf).to_epsg() == epsg


def test_metric_crs_keeps_projected_and_rejects_missing():
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(500000, 3000000)], crs=4547)
    assert gcrs.metric_crs(gdf).to_epsg() == 4547
    with pytest.raises(CRSError, match="no CRS"):
        gcrs.metric_crs(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]))


def test_to_crs_gcj_round_trip_geodataframe():
    poly = shapely.box(112.90, 27.84, 112.91, 27.85)
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[poly], crs=4326)
    gcj = gcrs.to_crs(gdf, "GCJ02")
    assert not gcj.geometry.iloc[0].equals(poly)
    back = gcrs.to_crs(gcj, 4326, from_crs="GCJ02")
    assert shapely.hausdorff_distance(back.geometry.iloc[0], poly) < 1e-8
    metric = gcrs.to_crs(gcj, 4547, from_crs="GCJ02")
    assert metric.crs.to_epsg() == 4547


def test_points_to_wgs84_from_projected():
    x, y = gcrs.wgs84_to(112.9, 27.85, 4547)
    lon, lat = gcrs.points_to_wgs84(x, y, 4547)
    assert lon == pytest.approx(112.9) and lat == pytest.approx(27.85)


@pytest.mark.parametrize("src,dst", [(4326, 4547), (4326, 32650), (4490, 4547), (4547, 4326),
                                     (4326, 27700), (4326, 4214)])
def test_transformer_same_numbers_on_every_thread(src, dst, monkeypatch):
    """pyproj rebuilds a transformer on each thread that uses it; for WGS84 -> CGCS2000 that is a
    ~40 ms search of PROJ's database every time. ``crs.transformer`` gives the same numbers on
    any thread, and a second thread does not search again where PROJ chose one operation."""
    import threading

    import pyproj

    rng = np.random.default_rng(5)
    s = pyproj.CRS.from_epsg(src)
    lon, lat = rng.uniform(110, 116, 2000), rng.uniform(24, 30, 2000)
    if src == 4326 and dst in (27700, 4214):
        lon, lat = (rng.uniform(-3, 1, 2000), rng.uniform(51, 55, 2000)) if dst == 27700 else (lon, lat)
    x, y = (lon, lat) if s.is_geographic else gcrs.wgs84_to(lon, lat, src)
    expected = pyproj.Transformer.from_crs(src, dst, always_xy=True).transform(x, y)
    tr = gcrs.transformer(s, pyproj.CRS.from_epsg(dst))
    assert gcrs.transformer(pyproj.CRS.from_epsg(src), pyproj.CRS.from_epsg(dst)) is tr  # cached
    searches = []  # PROJ searches of its database for a way from src to dst (pyproj's maker)
    real = pyproj.transformer.TransformerFromCRS.__call__
    monkeypatch.setattr(pyproj.transformer.TransformerFromCRS, "__call__",
                        lambda self: searches.append(self) or real(self))
    got: list = []
    thread = threading.Thread(target=lambda: got.append(tr.transform(x, y)))
    thread.start()
    thread.join()
    np.testing.assert_array_equal(got[0], expected)
    np.testing.assert_array_equal(tr.transform(x, y), expected)
    one_operation = tr.definition.startswith("proj=")
    assert one_operation == (dst not in (27700, 4214))
    assert bool(searches) != one_operation


def test_transformer_searches_for_two_pairs_at_once():
    """Two threads asking for different pairs search PROJ's database side by side (the search
    for one pair does not wait for another's)."""
    import threading
    import time

    import pyproj

    pairs = [(pyproj.CRS.from_epsg(4490), pyproj.CRS.from_epsg(4538)),
             (pyproj.CRS.from_epsg(4326), pyproj.CRS.from_epsg(4539))]  # zones no other test uses
    inside: list[int] = []
    most = [0]
    real = pyproj.transformer.TransformerFromCRS.__call__

    def slow(self):
        inside.append(1)
        most[0] = max(most[0], len(inside))
        time.sleep(0.2)
        try:
            return real(self)
        finally:
            inside.pop()

    pyproj.transformer.TransformerFromCRS.__call__ = slow
    try:
        threads = [threading.Thread(target=gcrs.transformer, args=pair) for pair in pairs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        pyproj.transformer.TransformerFromCRS.__call__ = real
    assert most[0] == 2
