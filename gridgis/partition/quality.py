"""Measures of a built plan that a planning office checks by eye: enclaves and holes, thin
grids, and how much of the grid lines runs along streets.

Examples
--------
>>> from gridgis.partition.quality import plan_quality
>>> q = plan_quality(res.grids, roads)                                   # doctest: +SKIP
>>> q["enclaves"], q["holes"], round(q["street_line_share"], 2)          # doctest: +SKIP
(0, 0, 0.84)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from ..schema import BASIC
from .geom import polsby_popper

__all__ = ["STREET_CORRIDOR_M", "count_enclaves", "count_holes", "plan_quality",
           "compactness", "street_line_lengths", "street_line_share", "thin_grids"]

#: half-width of a street corridor (metres from a centre line, sidewalks included)
STREET_CORRIDOR_M = 12.0


def compactness(geoms: np.ndarray) -> np.ndarray:
    """Polsby–Popper compactness ``4πA/P²`` of every polygon (1 for a circle).

    >>> compactness(np.array([shapely.box(0, 0, 1, 1)])).round(3).tolist()
    [0.785]
    """
    return polsby_popper(shapely.area(geoms), shapely.length(geoms))


def count_holes(grids: gpd.GeoDataFrame, min_area_m2: float = 1.0) -> int:
    """Holes of basic grids not filled by a special grid or left by the community itself.

    >>> g = gpd.GeoDataFrame({"kind": ["basic", "basic"]}, geometry=[
    ...     shapely.box(0, 0, 3, 3).difference(shapely.box(1, 1, 2, 2)), shapely.box(1, 1, 2, 2)])
    >>> count_holes(g)
    1
    """
    kind = grids[schema.KIND].astype(str).to_numpy() if schema.KIND in grids else None
    geoms = grids.geometry.to_numpy()
    basic = np.ones(len(geoms), bool) if kind is None else kind == BASIC
    holes = _interior_rings(geoms[basic])
    holes = holes[shapely.area(holes) >= min_area_m2]
    if len(holes) == 0:
        return 0
    special = geoms[~basic]
    if len(special) == 0:
        return len(holes)
    filled = shapely.area(shapely.intersection(holes, shapely.union_all(special)))
    return int((filled < 0.99 * shapely.area(holes)).sum())


def _interior_rings(geoms: np.ndarray) -> np.ndarray:
    parts = shapely.get_parts(geoms)
    rings = [shapely.polygons(shapely.get_interior_ring(p, i))
             for p in parts for i in range(shapely.get_num_interior_rings(p))]
    return np.array(rings, dtype=object)


def count_enclaves(grids: gpd.GeoDataFrame, tol_m: float = 0.05) -> int:
    """Basic grids whose whole outline lies along one other grid (a grid ringed by another;
    a special grid inside a basic one is allowed).

    >>> g = gpd.GeoDataFrame(geometry=[
    ...     shapely.box(0, 0, 3, 3).difference(shapely.box(1, 1, 2, 2)), shapely.box(1, 1, 2, 2)])
    >>> count_enclaves(g)
    1
    """
    geoms = grids.geometry.to_numpy()
    ring = shapely.get_exterior_ring(shapely.get_parts(geoms))
    ri = shapely.get_parts(geoms, return_index=True)[1]
    ext = np.array([shapely.union_all(ring[ri == i]) for i in range(len(geoms))], dtype=object)
    ii, jj = shapely.STRtree(geoms).query(ext, predicate="intersects")
    basic = (grids[schema.KIND] == BASIC).to_numpy() if schema.KIND in grids else \
        np.ones(len(geoms), dtype=bool)
    # a grid ringed by another lies in its bounding box, except for the 1 % of its outline
    # that may leave the ring: only such pairs are measured
    lo, hi = shapely.bounds(ext)[:, :2], shapely.bounds(ext)[:, 2:]
    glo, ghi = shapely.bounds(geoms)[:, :2], shapely.bounds(geoms)[:, 2:]
    pad = (tol_m + 0.01 * shapely.length(ext))[:, None]
    inside = ((lo[ii] >= glo[jj] - pad[ii]) & (hi[ii] <= ghi[jj] + pad[ii])).all(axis=1)
    keep = (ii != jj) & basic[ii] & inside
    ii, jj = ii[keep], jj[keep]
    outline = shapely.boundary(shapely.buffer(geoms[jj], 0))
    covered = shapely.length(shapely.intersection(ext[ii], shapely.buffer(outline, tol_m)))
    return int(len(np.unique(ii[covered >= 0.99 * shapely.length(ext[ii])])))


def street_line_lengths(grids: gpd.GeoDataFrame, roads: gpd.GeoDataFrame,
                        corridor_m: float = STREET_CORRIDOR_M) -> tuple[float, float]:
    """Length of the grid lines inside communities, and the part of it within ``corridor_m``
    of a street or lane centre line (metres, in the CRS of ``grids``).

    Plans built in parts add up: the lines of a community lie in the part that holds it.

    Examples
    --------
    >>> g = gpd.GeoDataFrame({"community_code": ["1", "1"]},
    ...                      geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> r = gpd.GeoDataFrame(geometry=[shapely.LineString([(1, -1), (1, 2)])])
    >>> [round(x, 6) for x in street_line_lengths(g, r, corridor_m=0.1)]  # 5 cm ends left out
    [0.9, 0.9]
    """
    roads = roads.to_crs(grids.crs) if roads.crs is not None and grids.crs is not None else roads
    comm = (grids[schema.COMMUNITY_CODE].astype(str) if schema.COMMUNITY_CODE in grids
            else np.zeros(len(grids)))
    lines = shapely.get_parts(roads.geometry.to_numpy())
    lines = lines[shapely.get_type_id(lines) == 1]
    tree = shapely.STRtree(lines)
    total = on_street = 0.0
    # community by community: their inner lines never meet (community outlines are left out)
    _, group = np.unique(np.asarray(comm), return_inverse=True)
    order = np.argsort(group, kind="stable")
    cuts = np.flatnonzero(np.diff(group[order])) + 1
    all_geoms = grids.geometry.to_numpy()
    for rows in np.split(order, cuts) if len(order) else []:
        geoms = all_geoms[rows]
        outer = shapely.boundary(shapely.union_all(geoms))
        inner = shapely.difference(shapely.union_all(shapely.boundary(geoms)),
                                   shapely.buffer(outer, 0.05))
        total += float(shapely.length(inner))
        near = tree.query(inner, predicate="dwithin", distance=corridor_m)
        if not len(near):
            continue
        # one buffer of the nearby lines together (faster than a union of their buffers)
        corridor = shapely.buffer(shapely.multilinestrings(lines[near]), corridor_m)
        on_street += float(shapely.length(shapely.intersection(inner, corridor)))
    return total, on_street


def street_line_share(grids: gpd.GeoDataFrame, roads: gpd.GeoDataFrame,
                      corridor_m: float = STREET_CORRIDOR_M) -> float:
    """Share of the length of grid lines inside communities that runs within ``corridor_m`` of
    a street or lane centre line (1.0 when there are no such lines).

    Examples
    --------
    >>> g = gpd.GeoDataFrame({"community_code": ["1", "1"]},
    ...                      geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> r = gpd.GeoDataFrame(geometry=[shapely.LineString([(1, -1), (1, 2)])])
    >>> street_line_share(g, r, corridor_m=0.1)
    1.0
    """
    total, on_street = street_line_lengths(grids, roads, corridor_m)
    return on_street / total if total > 0 else 1.0


def thin_grids(grids: gpd.GeoDataFrame, units: gpd.GeoDataFrame, bar: float = 0.30,
               share: float = 1 / 3) -> pd.DataFrame:
    """Basic grids below the compactness ``bar``, and whether one of their units (blocks)
    forces it: a unit covering at least ``share`` of the grid that is about as thin (its
    Polsby–Popper at most the grid's + 0.05).

    Returns ``grid_code, community_code, pp, block_pp, forced`` (``block_pp``: the thinnest
    unit covering at least ``share`` of the grid).

    Examples
    --------
    >>> thin_grids(res.grids, res.units)                                 # doctest: +SKIP
    """
    cols = ["grid_code", "community_code", "pp", "block_pp", "forced"]
    kind = grids[schema.KIND] if schema.KIND in grids else pd.Series(BASIC, index=grids.index)
    pp = compactness(grids.geometry.to_numpy())
    low = np.flatnonzero((pp < bar) & (kind == BASIC).to_numpy())
    if len(low) == 0:
        return pd.DataFrame({c: [] for c in cols}).astype({"forced": bool})
    code = grids[schema.GRID_CODE].to_numpy()
    garea = dict(zip(code, shapely.area(grids.geometry.to_numpy()), strict=True))
    u = pd.DataFrame({"g": units[schema.GRID_CODE].to_numpy(),
                      "pp": compactness(units.geometry.to_numpy()),
                      "a": shapely.area(units.geometry.to_numpy())})
    u = u[u["a"] >= share * u["g"].map(garea).fillna(np.inf)]
    worst = u.groupby("g")["pp"].min()
    block = np.array([worst.get(c, np.nan) for c in code[low]], dtype=float)
    return pd.DataFrame({
        "grid_code": code[low],
        "community_code": grids[schema.COMMUNITY_CODE].to_numpy()[low],
        "pp": pp[low], "block_pp": block,
        "forced": np.nan_to_num(block, nan=np.inf) <= pp[low] + 0.05,
    })


def plan_quality(grids: gpd.GeoDataFrame, roads: gpd.GeoDataFrame | None = None) -> dict:
    """Enclaves, holes, compactness of basic grids (5th percentile, median, minimum) and, with
    ``roads``, the street-line share, of a plan in a metric CRS.

    Examples
    --------
    >>> plan_quality(res.grids.to_crs(res.grids.estimate_utm_crs()), roads)  # doctest: +SKIP
    {'enclaves': 0, 'holes': 0, 'pp_p5': 0.31, 'pp_median': 0.52, 'pp_min': 0.2, ...}
    """
    basic = grids[grids[schema.KIND] == BASIC] if schema.KIND in grids else grids
    pp = compactness(basic.geometry.to_numpy())
    out = {
        "enclaves": count_enclaves(grids), "holes": count_holes(grids),
        "pp_p5": float(np.percentile(pp, 5)) if len(pp) else float("nan"),
        "pp_median": float(np.median(pp)) if len(pp) else float("nan"),
        "pp_min": float(pp.min()) if len(pp) else float("nan"),
    }
    if roads is not None and len(roads):
        out["street_line_share"] = street_line_share(grids, roads)
    return out
