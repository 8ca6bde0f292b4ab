"""Generated province-scale plans for the scale tests and benchmarks.

``province_plan(n_parents, per_parent)`` tiles a lattice of square communities with Voronoi
grids (EPSG:4547, CGCS2000 / 3-degree Gauss-Krüger CM 114E) and numbers each community's grids
in reading order (rows of ``grid_size`` metres north→south, west→east inside a row), so the plan
is clean. Everything is drawn from ``numpy.random.default_rng(seed)`` and built with vectorised
shapely calls, so 200,000 grids take seconds.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

CRS = "EPSG:4547"
X0, Y0 = 300_000.0, 3_300_000.0


def province_plan(n_parents: int, per_parent: int, *, seed: int = 0, grid_size: float = 250.0,
                  serial_width: int = 3) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """``(grids, parents)``: ``n_parents`` communities of ``per_parent`` grids each.

    Community codes have 12 digits, grid codes add a ``serial_width``-digit serial (use 4 and a
    matching code scheme for more than 899 grids under one parent).
    """
    rng = np.random.default_rng(seed)
    cols = math.ceil(math.sqrt(n_parents))
    side = grid_size * math.sqrt(per_parent)
    k = np.arange(n_parents)
    x0, y1 = X0 + (k % cols) * side, Y0 - (k // cols) * side
    boxes = shapely.box(x0, y1 - side, x0 + side, y1)
    codes = np.array([f"4301{2 + i // 900_000:02d}{i % 900_000 + 1:06d}" for i in k], dtype=object)
    parents = gpd.GeoDataFrame({"code": codes, "area_kind": "urban"}, geometry=boxes, crs=CRS)
    cells, owner, serials = [], [], []
    for i in k:
        pts = rng.uniform([x0[i] + 2, y1[i] - side + 2], [x0[i] + side - 2, y1[i] - 2],
                          (per_parent, 2))
        c = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts),
                                                       extend_to=boxes[i]))
        c = shapely.intersection(c, boxes[i])
        cen = shapely.centroid(c)
        order = np.lexsort((shapely.get_x(cen), np.floor((y1[i] - shapely.get_y(cen)) / grid_size)))
        cells.append(c[order])
        owner.append(np.full(len(c), i))
        serials.append(np.arange(1, len(c) + 1))
    geom = np.concatenate(cells)
    owner, serial = np.concatenate(owner), np.concatenate(serials)
    comm = codes[owner]
    grid_code = [f"{c}{s:0{serial_width}d}" for c, s in zip(comm, serial, strict=True)]
    households = rng.integers(300, 500, len(geom))
    grids = gpd.GeoDataFrame({"grid_code": grid_code, "community_code": comm, "kind": "basic",
                              "households": households, "population": households * 3,
                              "flag": ""}, geometry=geom, crs=CRS)
    return grids, parents


def wide_scheme(serial_width: int = 4) -> dict:
    """A code scheme with a ``serial_width``-digit serial: basic 1…(10^w·0.9−1), special above."""
    top = 10 ** serial_width
    return {"serial_width": serial_width,
            "ranges": {"basic": {"start": 1, "stop": top * 9 // 10 - 1},
                       "special": {"start": top * 9 // 10, "stop": top - 1}}}
