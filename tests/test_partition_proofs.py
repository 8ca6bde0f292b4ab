"""Honest flags: a grid flagged out of range carries a proof when the units make any plan
impossible, however many units the community has."""

from __future__ import annotations

import geopandas as gpd
import shapely

from gridgis import schema
from gridgis.partition import build_grids

CRS = 32650
X0, Y0 = 500_000.0, 3_000_000.0


def test_a_tower_whose_neighbours_are_towers_is_reported_with_a_proof():
    """A row of houses: three towers of 269, 269 and 252 households at its west end, then 16
    houses of 45. The western tower is below the minimum alone and past the maximum with its
    only neighbour, so no plan exists. With that many units the exhaustive search does not run, and
    the report used to say only how many random searches had failed."""
    hh = [269, 269, 252] + [45] * 40
    comm = gpd.GeoDataFrame({schema.CODE: ["430302001001"]}, crs=CRS,
                            geometry=[shapely.box(X0, Y0, X0 + 40 * len(hh), Y0 + 40)])
    b = gpd.GeoDataFrame({schema.HOUSEHOLDS: hh}, crs=CRS, geometry=[
        shapely.box(X0 + 40 * i + 5, Y0 + 5, X0 + 40 * i + 35, Y0 + 35) for i in range(len(hh))])
    for seed in (0, 1):
        res = build_grids(comm, None, b, seed=seed)
        flagged = res.grids[res.grids[schema.FLAG] != ""]
        assert len(flagged) >= 1
        rep = res.report
        details = rep.loc[rep["reason"] == "no_contiguous_split", "detail"]
        assert len(details) and details.str.contains("no plan exists: a unit of 269").all()
