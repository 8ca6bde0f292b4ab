"""What an edited plan works against, built once: the metric CRS, the context layers in it, the
building arrays (points, households, population, community), the spatial indexes and the code
allocator.

:class:`PlanContext` is public so that tests and tools can look at what a
:class:`~gridgis.plan.Plan` computes with (``plan.context``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._geometry import first_container, first_hit, present, representative_points
from .._inputs import as_layer, metric
from ..codes import CodeScheme, load_scheme, parse_codes
from ..errors import GridGISError, InputFileError, PartitionError, SchemaError
from ..i18n import _, tr
from ..rules import Rules, load_rules
from ..schema import BASIC
from ._util import GRID_COLUMNS, str_codes
from .index import GridIndex, PointIndex

__all__ = ["CONTEXT_LAYERS", "PlanContext", "CodeAllocator", "read_plan_file"]

#: Context layers a plan stores beside its versions (and reads back on open).
CONTEXT_LAYERS = ("communities", "buildings", "addresses", "roads", "rivers", "special_sites")
_PLAN_LAYERS = ("grids", "plan", "网格")


def read_plan_file(path: Path, layer: str | None, version: int | None,
                   given: dict[str, Any]) -> tuple[gpd.GeoDataFrame, dict[str, Any], bool]:
    """A plan and its context layers from a file: the grids by
    :func:`gridgis.versions.read_plan`, the context layers of ``given`` that are ``None`` from
    the layers of that name in the same file. Returns ``(grids, layers, versioned)``.

    Raises
    ------
    InputFileError
        If the file is missing or a GeoPackage holds no plan layer.

    Examples
    --------
    >>> grids, layers, versioned = read_plan_file(Path("district.gpkg"), None, None, {})
    ... # doctest: +SKIP
    """
    from ..io import list_layers, read_vector
    from ..versions import is_versions_file, read_plan

    if not path.exists():
        raise InputFileError(_("file not found"), source=path)
    layers = list_layers(path)
    versioned = layer is None and is_versions_file(path)
    if not versioned and layer is None and path.suffix.lower() == ".gpkg" and \
            not any(n in layers for n in _PLAN_LAYERS):
        raise InputFileError(
            tr("no plan layer found; layers are {layers}", layers=layers), source=path,
            fix=_("pass layer=NAME, or save a plan there with Plan.save / "
                  "gridgis.versions.save_version"))
    grids = read_plan(path, layer, version=version)
    out = dict(given)
    for name in CONTEXT_LAYERS:
        if out.get(name) is None and name in layers and name != layer:
            out[name] = read_vector(path, layer=name, allow_empty=True)
    return grids, out, versioned


class CodeAllocator:
    """Fresh grid codes and names for an edited plan: never a code used in the plan, its
    session or its versions file (:attr:`seen`).

    Examples
    --------
    >>> from gridgis.codes import load_scheme
    >>> codes = CodeAllocator(load_scheme(None), {})
    >>> codes.fresh("430302001001", "basic", set())
    '430302001001001'
    """

    def __init__(self, scheme: CodeScheme, community_names: dict[str, str]) -> None:
        self.scheme = scheme
        self.community_names = community_names
        #: Every code seen in this session (plan, versions file, edits).
        self.seen: set[str] = set()

    def serial(self, code: str, community: str, kind: str) -> int | None:
        """Serial of ``code`` in ``community``'s range for ``kind`` (None when it is not one)."""
        rng = self.scheme.range_for(kind)
        head = f"{community}{self.scheme.separator}{rng.prefix}"
        tail = code[len(head):]
        if code.startswith(head) and len(tail) == self.scheme.serial_width and tail.isdigit():
            serial = int(tail)
            return serial if rng.start <= serial <= rng.stop else None
        return None

    def fresh(self, community: str, kind: str, taken: set[str]) -> str:
        """A code for a new grid of ``kind`` in ``community``, not in :attr:`seen` nor
        ``taken``; it is added to :attr:`seen`."""
        used = set(self.seen) | set(taken)
        rng = self.scheme.range_for(kind)
        if community:
            serials = {s for s in (self.serial(c, community, kind) for c in used
                                   if c.startswith(community)) if s is not None}
            candidates = [max(serials) + 1] if serials else [rng.start]
            candidates += list(range(rng.start, rng.stop + 1))
            for s in candidates:
                if rng.start <= s <= rng.stop:
                    try:
                        code = self.scheme.format(community, s, kind)
                    except GridGISError:
                        break
                    if code not in used:
                        self.seen.add(code)
                        return code
        k = 1
        while f"{community or 'grid'}-new{k}" in used:
            k += 1
        code = f"{community or 'grid'}-new{k}"
        self.seen.add(code)
        return code

    def name(self, code: str, community: str, kind: str, base_name: str, part: int) -> str:
        """Name of a new grid: ``<community name>第<serial>网格`` for a basic grid with a
        serial code, else ``<base_name>-<part>``."""
        serial = self.serial(code, community, kind)
        if kind == BASIC and community in self.community_names and serial is not None:
            return f"{self.community_names[community]}第{serial}网格"
        return f"{base_name}-{part}"


def _communities(layer: gpd.GeoDataFrame | None, mcrs: Any) -> gpd.GeoDataFrame | None:
    if layer is None:
        return None
    c = as_layer(layer, "communities", required=[schema.CODE], missing="keep", allow_empty=True)
    c = metric(c, mcrs).reset_index(drop=True).copy()
    c[schema.CODE] = str_codes(c[schema.CODE])
    if schema.NAME not in c:
        c[schema.NAME] = c[schema.CODE]
    c[schema.NAME] = c[schema.NAME].astype(object).where(c[schema.NAME].notna(),
                                                         c[schema.CODE]).astype(str)
    if schema.AREA_KIND not in c:
        c[schema.AREA_KIND] = "urban"
    return c


def _layer(gdf: gpd.GeoDataFrame | None, what: str, mcrs: Any) -> gpd.GeoDataFrame | None:
    if gdf is None:
        return None
    out = as_layer(gdf, what, geometry=None, missing="keep", allow_empty=True,
                   lonlat=what == "addresses")
    return metric(out, mcrs).reset_index(drop=True)


def _numbers(layer: gpd.GeoDataFrame, column: str) -> np.ndarray:
    if column not in layer:
        return np.zeros(len(layer))
    return pd.to_numeric(layer[column], errors="coerce").fillna(0).to_numpy(float)


@dataclass
class PlanContext:
    """The fixed context of an edited plan (all layers in :attr:`metric_crs`).

    Build it with :meth:`from_layers`. :attr:`grid_index` follows the plan's current grids
    (the plan calls :meth:`GridIndex.sync` after every edit, undo and redo); everything else
    stays as built.

    Examples
    --------
    >>> ctx = PlanContext.from_layers(grids, communities, buildings)  # doctest: +SKIP
    >>> ctx.buildings_in(ctx.communities.geometry.iloc[0])  # doctest: +SKIP
    array([0, 1, 2, ...])
    """

    crs: Any
    metric_crs: Any
    rules: Rules
    scheme: CodeScheme
    seed: int = 0
    communities: gpd.GeoDataFrame | None = None
    buildings: gpd.GeoDataFrame | None = None
    addresses: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    rivers: gpd.GeoDataFrame | None = None
    special_sites: gpd.GeoDataFrame | None = None
    units: gpd.GeoDataFrame | None = None
    #: The layers as given (written beside the versions by ``Plan.save``).
    inputs: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    community_names: dict[str, str] = field(default_factory=dict)
    building_points: np.ndarray | None = None
    building_households: np.ndarray | None = None
    building_population: np.ndarray | None = None
    building_community: np.ndarray | None = None
    building_index: PointIndex | None = None
    address_community: np.ndarray | None = None
    grid_index: GridIndex = field(default_factory=GridIndex)
    codes: CodeAllocator | None = None

    @classmethod
    def from_layers(cls, grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None = None,
                    buildings: gpd.GeoDataFrame | None = None,
                    addresses: gpd.GeoDataFrame | pd.DataFrame | None = None,
                    rules: Rules | dict | str | None = None, *,
                    roads: gpd.GeoDataFrame | None = None,
                    rivers: gpd.GeoDataFrame | None = None,
                    special_sites: gpd.GeoDataFrame | None = None,
                    units: gpd.GeoDataFrame | None = None,
                    scheme: CodeScheme | dict | str | None = None, seed: int = 0
                    ) -> PlanContext:
        """The context of a plan of ``grids`` (only its CRS and extent are used here).

        Raises
        ------
        SchemaError, CRSError
            On layers that are not GeoDataFrames, lack a CRS, or when no grid has a geometry.
        """
        grids = as_layer(grids, "grids", geometry=None, missing="keep")
        mcrs = metric(grids).crs
        given = {"communities": communities, "buildings": buildings, "addresses": addresses,
                 "roads": roads, "rivers": rivers, "special_sites": special_sites,
                 "units": units}
        comm = _communities(communities, mcrs)
        names = {} if comm is None else dict(zip(comm[schema.CODE], comm[schema.NAME],
                                                 strict=True))
        ctx = cls(crs=grids.crs, metric_crs=mcrs, rules=load_rules(rules),
                  scheme=load_scheme(scheme), seed=int(seed), communities=comm,
                  inputs={k: v for k, v in given.items() if v is not None},
                  community_names=names, roads=_layer(roads, "roads", mcrs),
                  rivers=_layer(rivers, "rivers", mcrs),
                  special_sites=_layer(special_sites, "special_sites", mcrs),
                  units=_layer(units, "units", mcrs))
        ctx.codes = CodeAllocator(ctx.scheme, names)
        if buildings is not None:
            ctx._set_buildings(_layer(buildings, "buildings", mcrs))
        if addresses is not None:
            a = _layer(addresses, "addresses", mcrs)
            ctx.addresses = a
            ctx.address_community = ctx.locate_community(np.asarray(a.geometry.array,
                                                                    dtype=object))
        return ctx

    def _set_buildings(self, b: gpd.GeoDataFrame) -> None:
        self.buildings = b
        self.building_points = representative_points(np.asarray(b.geometry.array, dtype=object))
        self.building_households = _numbers(b, schema.HOUSEHOLDS)
        self.building_population = _numbers(b, schema.POPULATION)
        self.building_community = self.locate_community(self.building_points)
        self.building_index = PointIndex(self.building_points)

    # -- look-ups ---------------------------------------------------------------------------------
    def locate_community(self, points: np.ndarray) -> np.ndarray:
        """Code of the community each point lies in (``""`` when none)."""
        out = np.full(len(points), "", dtype=object)
        if self.communities is None or not len(points):
            return out
        ok = present(points)
        hit = first_container(points[ok], np.asarray(self.communities.geometry.array,
                                                      dtype=object), "intersects")
        codes = self.communities[schema.CODE].to_numpy(object)
        out[ok] = np.where(hit >= 0, codes[np.maximum(hit, 0)], "")
        return out

    def area_kind(self, community: str) -> str:
        """``area_kind`` of a community (``urban`` when unknown)."""
        if self.communities is None:
            return "urban"
        hit = self.communities[self.communities[schema.CODE] == community]
        return str(hit[schema.AREA_KIND].iloc[0]) if len(hit) else "urban"

    def buildings_in(self, geom: shapely.Geometry) -> np.ndarray:
        """Sorted positions of the buildings whose point lies in ``geom``."""
        if self.building_index is None:
            return np.zeros(0, dtype=np.int64)
        return self.building_index.within(geom)

    def building_rows(self, ids: list[str]) -> np.ndarray:
        """Positions of the buildings with ``building_id`` in ``ids``.

        Raises
        ------
        PartitionError
            Without buildings, or for an unknown id.
        """
        bld = self.buildings
        if bld is None:
            raise PartitionError(_("the plan has no buildings"), fix=_("pass buildings= to the Plan"))
        col = (bld[schema.BUILDING_ID].astype(str).to_numpy(object)
               if schema.BUILDING_ID in bld else bld.index.astype(str).to_numpy())
        sel = np.flatnonzero(np.isin(col, ids))
        missing = sorted(set(ids) - set(col[sel]))
        if missing:
            raise PartitionError(tr("unknown building id(s) {missing}", missing=missing[:5]), where="buildings")
        return sel

    # -- households ---------------------------------------------------------------------------------
    def locate_buildings(self, geoms: np.ndarray, codes: np.ndarray,
                         subset: np.ndarray | None = None) -> np.ndarray:
        """Grid code of each building (of ``subset`` positions when given) by its point; a
        point on the edge of two grids goes to the smaller code."""
        n = len(self.building_points) if subset is None else len(subset)
        out = np.full(n, None, dtype=object)
        if not len(geoms) or self.building_index is None:
            return out
        gi, bi = self.building_index.query(geoms, "intersects")
        if subset is not None:
            pos = np.full(len(self.building_points), -1, dtype=np.int64)
            pos[subset] = np.arange(len(subset))
            bi = pos[bi]
            gi, bi = gi[bi >= 0], bi[bi >= 0]
        rank = np.argsort(np.argsort(codes.astype(str), kind="stable"), kind="stable")
        hit = first_hit(bi, gi, n, rank)
        out[hit >= 0] = codes[hit[hit >= 0]]
        return out

    def sums(self, building_grid: np.ndarray, codes: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
        """Households and population of the grids ``codes`` from the buildings' grids."""
        pos = {c: i for i, c in enumerate(codes)}
        idx = np.array([pos.get(c, -1) if c is not None else -1 for c in building_grid],
                       dtype=np.int64)
        ok = idx >= 0
        hh = np.bincount(idx[ok], weights=self.building_households[ok], minlength=len(codes))
        pop = np.bincount(idx[ok], weights=self.building_population[ok], minlength=len(codes))
        return hh, pop

    def recount(self, grids: gpd.GeoDataFrame, building_grid: np.ndarray | None,
                codes: set[str], full: bool) -> np.ndarray:
        """Re-locate the buildings of the grids ``codes`` (all with ``full``), write the
        households/population of those grids into ``grids`` and return the buildings' grids."""
        gcodes = grids[schema.GRID_CODE].to_numpy(object)
        geoms = np.asarray(grids.geometry.array, dtype=object)
        if full or building_grid is None:
            building_grid = self.locate_buildings(geoms, gcodes)
            hh, pop = self.sums(building_grid, gcodes)
            grids[schema.HOUSEHOLDS] = hh
            grids[schema.POPULATION] = pop
            return building_grid
        rows = np.flatnonzero(np.isin(gcodes, list(codes)))
        bgrid = building_grid.copy()
        # buildings that were in one of these grids or in none, and those now inside them
        was = np.array([c is None or c in codes for c in bgrid], dtype=bool)
        inside = np.zeros(len(bgrid), dtype=bool)
        if len(rows):
            inside[self.building_index.query(geoms[rows], "intersects")[1]] = True
        cand = np.flatnonzero(was | inside)
        if len(cand):
            loc = self.locate_buildings(geoms[rows], gcodes[rows], cand) if len(rows) else \
                np.full(len(cand), None, dtype=object)
            # a building on the edge of an untouched grid stays there
            stay = ~was[cand] & np.array([x is None for x in loc], dtype=bool)
            loc[stay] = bgrid[cand][stay]
            keep_old = ~was[cand] & np.array([x is not None for x in loc], dtype=bool)
            loc[keep_old] = bgrid[cand][keep_old]
            bgrid[cand] = loc
        hh, pop = self.sums(bgrid, gcodes)
        grids.loc[rows, schema.HOUSEHOLDS] = hh[rows]
        grids.loc[rows, schema.POPULATION] = pop[rows]
        return bgrid

    # -- grids ------------------------------------------------------------------------------------
    def prepare_grids(self, grids: gpd.GeoDataFrame, taken: set[str] = frozenset()
                      ) -> gpd.GeoDataFrame:
        """``grids`` as an editable plan table: metric CRS, canonical columns first, a
        community for every grid (column, code prefix or location), unique codes (missing ones
        get fresh codes, none of ``taken``), names, kinds and flags filled in.

        Raises
        ------
        SchemaError
            On duplicate grid codes.
        """
        g = as_layer(grids, "grids", geometry=None, missing="keep", allow_empty=True)
        g = metric(g, self.metric_crs).reset_index(drop=True).copy()
        geoms = np.asarray(g.geometry.array, dtype=object)
        # zero-length segments (repeated vertices) would not survive re-tiling on one side of
        # a shared edge only; dropping them everywhere keeps shared edges identical
        ok = present(geoms)
        if ok.any():
            geoms = geoms.copy()
            geoms[ok] = shapely.remove_repeated_points(geoms[ok], 0.0)
            g = g.set_geometry(gpd.GeoSeries(geoms, index=g.index, crs=g.crs))
        comm = self._grid_communities(g, geoms)
        g[schema.COMMUNITY_CODE] = comm
        kind = (g[schema.KIND].astype(object).where(g[schema.KIND].notna(), BASIC)
                if schema.KIND in g else pd.Series(BASIC, index=g.index, dtype=object))
        g[schema.KIND] = kind.map(lambda v: str(v).strip() or BASIC).to_numpy(object)
        codes = self._grid_codes(g, comm, taken)
        g[schema.GRID_CODE] = codes
        if schema.GRID_NAME in g:
            name = g[schema.GRID_NAME].astype(object)
            g[schema.GRID_NAME] = name.where(name.notna() & (name.astype(str) != ""),
                                             pd.Series(codes)).astype(str).to_numpy(object)
        else:
            g[schema.GRID_NAME] = codes
        if schema.FLAG in g:
            g[schema.FLAG] = g[schema.FLAG].astype(object).where(g[schema.FLAG].notna(), "") \
                .astype(str).replace({"nan": "", "<NA>": "", "None": ""}).to_numpy(object)
        else:
            g[schema.FLAG] = ""
        for col in (schema.HOUSEHOLDS, schema.POPULATION):
            g[col] = (pd.to_numeric(g[col], errors="coerce") if col in g
                      else pd.Series(np.nan, index=g.index)).astype(float)
        extra = [c for c in g.columns if c not in GRID_COLUMNS and c != g.geometry.name]
        return gpd.GeoDataFrame(g[[*GRID_COLUMNS, *extra]], geometry=g.geometry,
                                crs=self.metric_crs)

    def _grid_communities(self, g: gpd.GeoDataFrame, geoms: np.ndarray) -> np.ndarray:
        n = len(g)
        comm = (str_codes(g[schema.COMMUNITY_CODE]) if schema.COMMUNITY_CODE in g
                else np.full(n, "", dtype=object))
        codes = (str_codes(g[schema.GRID_CODE]) if schema.GRID_CODE in g
                 else np.full(n, "", dtype=object))
        missing = comm == ""
        if missing.any():
            parsed = parse_codes(codes[missing], self.scheme)
            pc = parsed[schema.COMMUNITY_CODE].astype(object).where(parsed["valid"], "")
            comm[missing] = pc.fillna("").to_numpy(object)
        still = comm == ""
        if still.any() and self.communities is not None:
            ok = still & present(geoms)
            comm[ok] = self.locate_community(representative_points(geoms[ok]))
        return comm

    def _grid_codes(self, g: gpd.GeoDataFrame, comm: np.ndarray, taken: set[str]
                    ) -> np.ndarray:
        n = len(g)
        codes = (str_codes(g[schema.GRID_CODE]) if schema.GRID_CODE in g
                 else np.full(n, "", dtype=object))
        dup = pd.Series(codes).duplicated(keep=False).to_numpy() & (codes != "")
        if dup.any():
            raise SchemaError(
                tr("grid codes must be unique to edit a plan; duplicated: {sorted}",
                   sorted=sorted(set(codes[dup]))[:5]), source="grids",
                where=tr("rows {rows}", rows=np.flatnonzero(dup)[:10].tolist()),
                fix=_("re-code the plan first (gridgis.codes.assign_codes) or fix the codes"))
        self.codes.seen |= set(codes[codes != ""])
        for i in np.flatnonzero(codes == ""):
            codes[i] = self.codes.fresh(comm[i], g[schema.KIND].iloc[i], set(codes) | taken)
        return codes
