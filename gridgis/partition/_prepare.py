"""Input step of :func:`gridgis.partition.build_grids`: read and check the layers, in metres.

:func:`read_inputs` checks every layer (columns, geometries, CRS), moves it to the metric CRS of
the communities and gathers what the later steps need: community codes and geometries, roads
and rivers, buildings with their representative points and measures, special sites and locked
grids with their communities, and the size rule of every community.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import schema
from .._geometry import first_container, present
from .._inputs import as_layer, metric
from ..errors import SchemaError
from ..i18n import tr
from ..rules import Profile, Rules, load_rules
from .regions import SizeRule
from .special import community_of, prepare_polygons

if TYPE_CHECKING:
    from .build import BuildOptions

__all__ = [
    "MEASURES",
    "Inputs",
    "Report",
    "caps_of",
    "prep_buildings",
    "prep_communities",
    "prep_lines",
    "read_inputs",
    "size_rule",
]

MEASURES = (schema.HOUSEHOLDS, schema.POPULATION)


class Report:
    """Exceptions and unplaced items of a run, in the order they were found."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []

    def add(self, item: str, item_id: Any, community: Any, reason: str, detail: str = "") -> None:
        self.rows.append(
            {
                "item": item,
                "item_id": "" if item_id is None else str(item_id),
                "community_code": "" if community is None else str(community),
                "reason": reason,
                "detail": detail,
            }
        )

    def frame(self) -> pd.DataFrame:
        cols = ["item", "item_id", "community_code", "reason", "detail"]
        return pd.DataFrame(self.rows, columns=cols).astype("string")


def prep_communities(communities: gpd.GeoDataFrame, rep: Report) -> gpd.GeoDataFrame:
    """Checked communities with unique codes, valid polygons, a kind and a name."""
    comm = as_layer(communities, "communities", required=[schema.CODE]).copy()
    comm[schema.CODE] = comm[schema.CODE].astype("string").str.strip()
    dup = comm[schema.CODE].duplicated(keep=False) | comm[schema.CODE].isna()
    if dup.any():
        rows = comm.index[dup.to_numpy()].tolist()[:5]
        raise SchemaError(
            tr("community codes must be present and unique"),
            source="communities",
            where=tr("rows {rows}", rows=rows),
            fix=tr("give every community its own 12-digit code"),
        )
    invalid = ~shapely.is_valid(np.asarray(comm.geometry.array, dtype=object))
    if invalid.any():
        comm = as_layer(comm, "communities", invalid="fix")
        for code in comm.loc[invalid, schema.CODE]:
            rep.add("community", code, code, "geometry_repaired",
                    tr("invalid boundary made valid"))
    if schema.AREA_KIND not in comm.columns:
        comm[schema.AREA_KIND] = "urban"
    comm[schema.AREA_KIND] = comm[schema.AREA_KIND].fillna("urban").astype(str)
    if schema.NAME not in comm.columns:
        comm[schema.NAME] = comm[schema.CODE]
    comm[schema.NAME] = comm[schema.NAME].fillna(comm[schema.CODE]).astype(str)
    return comm.sort_values(schema.CODE, kind="stable")


def prep_lines(gdf: gpd.GeoDataFrame | None, what: str, crs, default_class: str) -> gpd.GeoDataFrame:
    """A line layer (roads, rivers) in ``crs`` with a lower-case class; rows without lines dropped."""
    if gdf is None or len(gdf) == 0:
        return gpd.GeoDataFrame({schema.ROAD_CLASS: []}, geometry=[], crs=crs)
    out = as_layer(gdf, what, geometry=None, missing="drop", allow_empty=True).copy()
    if schema.ROAD_CLASS not in out.columns:
        out[schema.ROAD_CLASS] = default_class
    out[schema.ROAD_CLASS] = schema.road_classes(out[schema.ROAD_CLASS], default_class).to_numpy()
    return metric(out, crs)


def prep_buildings(gdf: gpd.GeoDataFrame | None, crs, rep: Report) -> gpd.GeoDataFrame:
    """Buildings in ``crs`` with numeric households and population (bad values reported as 0)."""
    if gdf is None or len(gdf) == 0:
        return gpd.GeoDataFrame(
            {schema.HOUSEHOLDS: [], schema.POPULATION: []}, geometry=[], crs=crs
        )
    out = as_layer(gdf, "buildings", geometry=None, missing="keep", allow_empty=True)
    if schema.HOUSEHOLDS not in out.columns and schema.POPULATION not in out.columns:
        raise SchemaError(
            tr("buildings need a households (户数) or population (人口) column"),
            source="buildings",
            fix=tr("add the column or derive it, e.g. footprint area × floors / 80 m² per "
                   "household"),
        )
    out = out.copy()
    for col in MEASURES:
        if col not in out.columns:
            out[col] = 0.0
            continue
        vals = pd.to_numeric(out[col], errors="coerce")
        bad = vals.isna() | (vals < 0)
        if bad.any():
            ids = out.get(schema.BUILDING_ID, pd.Series(out.index, index=out.index))
            for i in np.flatnonzero(bad.to_numpy())[:50]:
                rep.add("building", ids.iloc[i], None, f"bad_{col}",
                        tr("{column}={value} counted as 0", column=col,
                           value=str(out[col].iloc[i])))
            if bad.sum() > 50:
                rep.add("building", "", None, f"bad_{col}",
                        tr("{n} more rows", n=int(bad.sum()) - 50))
        out[col] = vals.where(~bad, 0.0).astype(float)
    return metric(out, crs)


def size_rule(profile: Profile) -> tuple[SizeRule, list[int]]:
    """Size rule over the measure columns ordered basis first; returns (rule, column order)."""
    basis = 0 if profile.basis == "households" else 1
    cols = [basis, 1 - basis]
    lo_b, hi_b = profile.bounds
    caps = profile.caps
    other = MEASURES[1 - basis]
    hi_o = caps.get(other, math.inf)
    rule = SizeRule(
        lo=np.array([lo_b, 0.0]), hi=np.array([hi_b, hi_o]), target=float(profile.target)
    )
    return rule, cols


def caps_of(rule_cols: tuple[SizeRule, list[int]]) -> list[float]:
    """Upper limits of (households, population) for a community's rule."""
    rule, cols = rule_cols
    out = [np.inf, np.inf]
    for j, c in enumerate(cols):
        out[c] = float(rule.hi[j])
    return out


@dataclass
class Inputs:
    """The checked inputs of one run, in the metric CRS ``mcrs`` of the communities."""

    rules: Rules
    opts: BuildOptions
    seed: int
    report: Report
    in_crs: Any
    mcrs: pyproj.CRS
    comm_m: gpd.GeoDataFrame
    codes: np.ndarray
    cgeoms: np.ndarray
    roads_m: gpd.GeoDataFrame
    rivers_m: gpd.GeoDataFrame
    bld: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame | None
    lock: gpd.GeoDataFrame | None
    site_geoms: np.ndarray
    lock_geoms: np.ndarray
    site_comm: np.ndarray
    lock_comm: np.ndarray
    bgeoms: np.ndarray
    bvalid: np.ndarray
    bpts: np.ndarray
    bmeas: np.ndarray
    rules_by_comm: list[tuple[SizeRule, list[int]]]
    group_of: np.ndarray
    vg: gpd.GeoDataFrame | None = None
    """Village groups (村民小组) in metres: their outlines bound blocks; each is kept whole."""

    def rng(self, key: str) -> np.random.Generator:
        """Random generator of one task of the run (seed and key give the same stream)."""
        return np.random.default_rng([int(self.seed) & 0xFFFFFFFF, zlib.crc32(key.encode("utf-8"))])


def _polygons_and_communities(gdf: gpd.GeoDataFrame | None, codes: np.ndarray, cgeoms: np.ndarray
                              ) -> tuple[np.ndarray, np.ndarray]:
    """Geometries of a polygon layer and the community of each (empty arrays for no layer)."""
    if gdf is None:
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    geoms = gdf.geometry.to_numpy()
    return geoms, community_of(geoms, gdf.get(schema.COMMUNITY_CODE), codes, cgeoms)


def _building_points(bld: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Geometries, validity, representative points and (households, population) of buildings."""
    bgeoms = bld.geometry.to_numpy()
    bvalid = present(bgeoms)
    bpts = np.full(len(bgeoms), None, dtype=object)
    bpts[bvalid] = shapely.point_on_surface(bgeoms[bvalid])
    bmeas = bld[list(MEASURES)].to_numpy(dtype=float) if len(bld) else np.zeros((0, 2))
    return bgeoms, bvalid, bpts, bmeas


def _compound_groups(bld: gpd.GeoDataFrame, bpts: np.ndarray, bvalid: np.ndarray,
                     vg: gpd.GeoDataFrame | None) -> np.ndarray:
    """Group of every building: its compound (``compound_id``), else its village group (when
    given), else itself (negative labels)."""
    own = -1 - np.arange(len(bld))
    if schema.COMPOUND_ID in bld.columns:
        comp_s = bld[schema.COMPOUND_ID].astype("string").fillna("").str.strip()
        _, comp_idx = np.unique(comp_s.to_numpy(dtype=object).astype(str), return_inverse=True)
        group = np.where(comp_s.to_numpy(dtype=object) == "", own, comp_idx.reshape(-1))
    else:
        group = own
    if vg is not None and len(vg) and bvalid.any():
        in_vg = np.full(len(bld), -1, dtype=np.int64)
        in_vg[bvalid] = first_container(bpts[bvalid], vg.geometry.to_numpy(),
                                        predicate="intersects")
        free = (group < 0) & (in_vg >= 0)
        group = np.where(free, int(group.max(initial=-1)) + 1 + in_vg, group)
    return group


def read_inputs(
    communities: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | None,
    buildings: gpd.GeoDataFrame | None,
    rules: Rules | dict | str | None,
    special_sites: gpd.GeoDataFrame | None,
    locked: gpd.GeoDataFrame | None,
    rivers: gpd.GeoDataFrame | None,
    *,
    seed: int,
    opts: BuildOptions,
    village_groups: gpd.GeoDataFrame | None = None,
) -> Inputs:
    """Check the layers of :func:`~gridgis.partition.build_grids` and move them to metres.

    Examples
    --------
    >>> import gridgis
    >>> from gridgis.partition import BuildOptions
    >>> s = gridgis.load_sample()                                            # doctest: +SKIP
    >>> inp = read_inputs(s["communities"], s["roads"], s["buildings"], None, None, None, None,
    ...                   seed=0, opts=BuildOptions())                       # doctest: +SKIP
    >>> len(inp.codes) == len(s["communities"])                             # doctest: +SKIP
    True
    """
    rules = load_rules(rules)
    rep = Report()
    comm = prep_communities(communities, rep)
    comm_m = metric(comm)
    mcrs = comm_m.crs
    codes = comm_m[schema.CODE].to_numpy().astype(str)
    cgeoms = comm_m.geometry.to_numpy()
    roads_m = prep_lines(roads, "roads", mcrs, "local")
    rivers_m = prep_lines(rivers, "rivers", mcrs, "river")
    bld = prep_buildings(buildings, mcrs, rep)
    sites = prepare_polygons(special_sites, "special_sites", mcrs, [schema.KIND])
    lock = prepare_polygons(locked, "locked", mcrs, [schema.GRID_CODE])
    site_geoms, site_comm = _polygons_and_communities(sites, codes, cgeoms)
    lock_geoms, lock_comm = _polygons_and_communities(lock, codes, cgeoms)
    bgeoms, bvalid, bpts, bmeas = _building_points(bld)
    vg = prepare_polygons(village_groups, "village_groups", mcrs, [])
    rules_by_comm = [size_rule(rules.profile_for(k)) for k in comm_m[schema.AREA_KIND]]
    return Inputs(
        rules=rules, opts=opts, seed=seed, report=rep, in_crs=comm.crs, mcrs=mcrs, comm_m=comm_m,
        codes=codes, cgeoms=cgeoms, roads_m=roads_m, rivers_m=rivers_m, bld=bld, sites=sites,
        lock=lock, site_geoms=site_geoms, lock_geoms=lock_geoms, site_comm=site_comm,
        lock_comm=lock_comm, bgeoms=bgeoms, bvalid=bvalid, bpts=bpts, bmeas=bmeas,
        rules_by_comm=rules_by_comm, group_of=_compound_groups(bld, bpts, bvalid, vg), vg=vg,
    )
