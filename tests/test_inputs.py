"""The shared input check (as_layer, metric) and the shared geometry helpers."""

from __future__ import annotations

import doctest

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import gridgis._geometry as ggeom
import gridgis._inputs as ginputs
from gridgis._geometry import (
    Arrangement,
    explode,
    first_hit,
    polygonal,
    present,
    single_parts,
    widths,
)
from gridgis._inputs import LINES, POINTS, as_layer, metric
from gridgis.errors import CRSError, GeometryError, SchemaError
from gridgis.partition.blocks import arrangement


def _layer(geoms, crs="EPSG:4547", **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=crs)


def test_as_layer_normalises_columns_and_accepts_geoseries():
    gdf = _layer([shapely.box(0, 0, 1, 1)], 编码=["430302001001"])
    out = as_layer(gdf, "communities", required=["code"])
    assert list(out.columns) == ["code", "geometry"]
    series = as_layer(gdf.geometry, "grids")
    assert isinstance(series, gpd.GeoDataFrame) and len(series) == 1


@pytest.mark.parametrize("obj", [pd.DataFrame({"a": [1]}), [shapely.box(0, 0, 1, 1)], None])
def test_as_layer_refuses_what_is_not_a_layer(obj):
    with pytest.raises(SchemaError, match="grids must be a GeoDataFrame") as info:
        as_layer(obj, "grids")
    assert "read_vector" in str(info.value)


def test_as_layer_names_the_layer_and_the_fix():
    with pytest.raises(CRSError, match="the buildings layer has no CRS") as info:
        as_layer(_layer([shapely.box(0, 0, 1, 1)], crs=None), "buildings")
    assert "set_crs" in str(info.value)
    assert as_layer(_layer([shapely.box(0, 0, 1, 1)], crs=None), "x", require_crs=False).crs is None
    with pytest.raises(SchemaError, match="code"):
        as_layer(_layer([shapely.box(0, 0, 1, 1)], name=["a"]), "communities", required=["code"])


def test_keeping_the_callers_headers():
    gdf = _layer([shapely.Point(0, 0)], 经度=[1.0])
    assert as_layer(gdf, "points", geometry=POINTS, normalize=False) is gdf
    assert list(as_layer(gdf, "points", geometry=POINTS).columns) == ["lon", "geometry"]
    with pytest.raises(SchemaError, match="lon"):
        as_layer(gdf, "points", geometry=POINTS, normalize=False, required=["lon"])


def test_empty_layers():
    with pytest.raises(GeometryError, match="the grids layer has no rows"):
        as_layer(_layer([]), "grids")
    with pytest.raises(GeometryError, match="no geometry in any row"):
        as_layer(_layer([None, shapely.Polygon()]), "grids", missing="keep")
    assert len(as_layer(_layer([]), "addresses", allow_empty=True)) == 0
    with pytest.raises(GeometryError, match=r"has no rows: it is empty \(no polygons\)"):
        as_layer(_layer([]), "grids")
    with pytest.raises(GeometryError, match=r"no geometry in any row \(no points\)"):
        as_layer(_layer([None]), "addresses", geometry=POINTS, missing="keep")


def test_rows_without_geometry():
    gdf = _layer([shapely.box(0, 0, 1, 1), None, shapely.Polygon()])
    with pytest.raises(GeometryError, match="2 grids row") as info:
        as_layer(gdf, "grids")
    assert "rows [1, 2]" in str(info.value)
    assert len(as_layer(gdf, "grids", missing="drop")) == 1
    assert len(as_layer(gdf, "grids", missing="keep")) == 3


def test_geometry_types():
    gdf = _layer([shapely.box(0, 0, 1, 1), shapely.Point(5, 5)])
    with pytest.raises(GeometryError, match="Point") as info:
        as_layer(gdf, "grids")
    assert "row" in str(info.value) and "grids" in str(info.value)
    assert "1 non-polygonal geometr(ies) (Point)" in str(info.value)
    assert len(as_layer(gdf, "grids", geometry=None)) == 2
    assert len(as_layer(gdf.iloc[[1]], "addresses", geometry=POINTS)) == 1
    with pytest.raises(GeometryError):
        as_layer(gdf.iloc[[1]], "roads", geometry=LINES)


def test_invalid_geometries():
    bow = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    gdf = _layer([bow, shapely.box(2, 2, 3, 3)])
    assert not as_layer(gdf, "grids").is_valid.all()  # kept by default: the validator reports it
    with pytest.raises(GeometryError, match="invalid"):
        as_layer(gdf, "grids", invalid="error")
    fixed = as_layer(gdf, "grids", invalid="fix")
    assert fixed.is_valid.all() and set(fixed.geom_type) <= {"Polygon", "MultiPolygon"}
    assert fixed.geometry.iloc[1].equals(gdf.geometry.iloc[1])


def test_lonlat_tables():
    table = pd.DataFrame({"经度": [112.9, 113.0], "纬度": [27.9, 28.0], "地址编号": ["a", "b"]})
    out = as_layer(table, "addresses", geometry=POINTS, lonlat=True)
    assert out.crs.to_epsg() == 4326 and out.geometry.x.tolist() == [112.9, 113.0]
    with pytest.raises(SchemaError, match="must be a GeoDataFrame, got DataFrame"):
        as_layer(table, "addresses")


def test_metric():
    gdf = _layer([shapely.Point(112.9, 27.9), None], crs="EPSG:4326")
    out = metric(gdf)
    assert out.crs.to_epsg() == 4547 and len(out) == 2
    assert metric(out) is out  # already metric: unchanged
    assert metric(gdf, "EPSG:32649").crs.to_epsg() == 32649
    assert metric(None) is None
    with pytest.raises(CRSError):
        metric(_layer([shapely.Point(0, 0)], crs=None))


def test_present_and_first_hit():
    geoms = np.array([shapely.box(0, 0, 1, 1), None, shapely.Polygon()], dtype=object)
    assert present(geoms).tolist() == [True, False, False]
    assert first_hit(np.array([0, 0, 2]), np.array([5, 3, 1]), 3).tolist() == [3, -1, 1]
    rank = np.array([0, 9, 0, 1, 0, 0])
    assert first_hit(np.array([0, 0]), np.array([1, 3]), 1, rank=rank).tolist() == [3]


def test_polygon_parts():
    mixed = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (5, 5)]),
                                        shapely.MultiPolygon([shapely.box(3, 3, 4, 4)])])
    poly = polygonal(np.array([mixed, shapely.Point(0, 0)], dtype=object))
    assert poly[0].area == pytest.approx(2.0) and poly[1].is_empty
    multi = shapely.MultiPolygon([shapely.box(0, 0, 10, 10), shapely.box(20, 0, 20.01, 0.01)])
    one = single_parts(np.array([multi], dtype=object), min_area=1.0)[0]
    assert one.geom_type == "Polygon" and one.area == pytest.approx(100.0)
    parts, idx = explode(np.array([multi, shapely.box(0, 0, 2, 2)], dtype=object))
    assert idx.tolist() == [0, 1]  # the 0.0001 m² part is overlay residue
    assert widths(np.array([shapely.box(0, 0, 100, 0.3)]), 1.0)[0] == pytest.approx(0.3, abs=0.01)


def test_arrangement_from_faces_matches_the_builder():
    lines = np.array([shapely.box(0, 0, 2, 1).exterior, shapely.LineString([(1, -1), (1, 2)])])
    built = arrangement(lines)
    again = Arrangement.from_faces(built.faces)
    assert np.allclose(again.area, built.area) and np.allclose(again.edges.length,
                                                               built.edges.length)
    assert again.edges.length.tolist() == [1.0]


@pytest.mark.parametrize("module", [ggeom, ginputs])
def test_examples_in_docstrings(module):
    failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failed == 0
