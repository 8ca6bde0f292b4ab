"""The new plan of a table re-coding: read, checked and indexed once for all chunks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from .. import schema
from ._overlay import locate as locate_points
from ._plans import check_plan, code_series

__all__ = ["PlanRef", "locate_in_plan"]


class PlanRef:
    """The new plan, read and checked when first needed (once for all chunks of a table).

    >>> ref = PlanRef("plan_new.gpkg")  # doctest: +SKIP
    >>> geoms, tree, codes = ref.lookup()  # doctest: +SKIP
    """

    def __init__(self, plan: gpd.GeoDataFrame | str | Path) -> None:
        self.source = plan
        self._layer: gpd.GeoDataFrame | None = None
        self._lookup: tuple[np.ndarray, shapely.STRtree, np.ndarray] | None = None
        self._allowed: np.ndarray | None = None

    def lookup(self) -> tuple[np.ndarray, shapely.STRtree, np.ndarray]:
        """The plan's polygons, a tree over them and their codes (built once)."""
        if self._lookup is None:
            plan = self.layer()
            geoms = np.asarray(plan.geometry.array)
            self._lookup = (geoms, shapely.STRtree(geoms),
                            code_series(plan[schema.GRID_CODE]).to_numpy(dtype=object))
        return self._lookup

    def allowed(self, cands: list[tuple[str, ...]]) -> np.ndarray:
        """``p * n + i`` for every old code ``p`` of the crosswalk (``cands``: its successors)
        and every successor ``i`` among the plan's ``n`` grids; worked out once."""
        if self._allowed is None:
            codes = self.lookup()[2]
            at = {c: i for i, c in enumerate(codes)}
            self._allowed = np.array(sorted(p * len(codes) + at[c] for p, cs in enumerate(cands)
                                            for c in cs if c in at), dtype=np.int64)
        return self._allowed

    def layer(self) -> gpd.GeoDataFrame:
        if self._layer is None:
            plan = self.source
            if not isinstance(plan, gpd.GeoDataFrame):
                from ..io import read_vector

                plan = read_vector(plan)
            plan = check_plan(plan, "plan")
            schema.require_columns(plan, [schema.GRID_CODE], source=schema.label(plan, "plan"))
            self._layer = plan
        return self._layer


def locate_in_plan(x: np.ndarray, y: np.ndarray, ref: PlanRef,
                    coords_crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Index of the new-plan grid holding each coordinate pair (-1 outside) and the codes.

    >>> hit, codes = locate_in_plan(lon, lat, PlanRef(plan), "EPSG:4326")  # doctest: +SKIP
    """
    from ..crs import points_to_wgs84

    plan = ref.layer()
    lon, lat = points_to_wgs84(x, y, coords_crs)
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(plan.crs)
    geoms, tree, codes = ref.lookup()
    return locate_points(np.asarray(pts.array), geoms, tree), codes
