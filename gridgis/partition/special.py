"""Special sites and locked grids: inputs that the basic-grid problem must leave alone.

Both are turned into face labels of the global arrangement (see :mod:`.blocks`): a face whose
representative point lies in a special site of its own community belongs to that site's
special grid, a face inside a locked grid of its community belongs to that grid (locked grids
win over sites). Everything else is basic land, partitioned into basic grids.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from .._geometry import first_container, first_hit
from .._inputs import as_layer, metric
from .blocks import containers

__all__ = ["community_of", "prepare_polygons", "owner_labels"]


def community_of(geoms: np.ndarray, given: pd.Series | None, comm_codes: np.ndarray,
                 comm_geoms: np.ndarray) -> np.ndarray:
    """Community index of each feature: its ``community_code`` when given and known, else the
    community holding its representative point (``-1`` when none).

    Examples
    --------
    >>> import numpy as np, shapely
    >>> comms = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> community_of(np.array([shapely.box(1.2, 0.2, 1.4, 0.4)]), None, np.array(["A", "B"]),
    ...              comms).tolist()
    [1]
    """
    import shapely

    idx = first_container(shapely.point_on_surface(geoms), comm_geoms, predicate="intersects")
    if given is not None:
        lookup = {c: i for i, c in enumerate(comm_codes.tolist())}
        g = given.astype("string").fillna("").str.strip().to_numpy()
        known = np.array([lookup.get(c, -1) for c in g], dtype=np.int64)
        idx = np.where(known >= 0, known, idx)
    return idx


def prepare_polygons(gdf: gpd.GeoDataFrame | None, what: str, crs, required: list[str]
                     ) -> gpd.GeoDataFrame | None:
    """Normalise a polygon layer (sites, locked grids) and move it to the metric ``crs``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> sites = gpd.GeoDataFrame({"kind": ["school"]}, geometry=[shapely.box(0, 0, 1, 1)],
    ...                          crs="EPSG:4547")
    >>> prepare_polygons(sites, "special_sites", "EPSG:4547", ["kind"]).crs.to_epsg()
    4547
    """
    if gdf is None or len(gdf) == 0:
        return None
    return metric(as_layer(gdf, what, required=required, invalid="fix"), crs)


def owner_labels(
    rep_points: np.ndarray,
    face_comm: np.ndarray,
    polys: np.ndarray,
    poly_comm: np.ndarray,
) -> np.ndarray:
    """Index of the first polygon of the face's own community containing the face, else -1.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> reps = shapely.points([[0.5, 0.5], [1.5, 0.5]])
    >>> owner_labels(reps, np.array([0, 0]), np.array([shapely.box(0, 0, 1, 1)]),
    ...              np.array([0])).tolist()
    [0, -1]
    """
    if polys is None or len(polys) == 0:
        return np.full(len(rep_points), -1, dtype=np.int64)
    fi, pi = containers(rep_points, polys)
    ok = (face_comm[fi] >= 0) & ((poly_comm[pi] == face_comm[fi]) | (poly_comm[pi] < 0))
    return first_hit(fi[ok], pi[ok], len(rep_points))
