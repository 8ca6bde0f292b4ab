"""The edits of a plan as functions: each takes the context and the current state and returns
a :class:`Proposal` (the new grid table and what changed), which
:class:`~gridgis.plan.Plan` recounts, re-validates and records. Nothing here changes the
state it is given.

Codes: a merged grid keeps the code of the first grid listed; a split grid keeps its code on
the piece with the most households and the other pieces get fresh codes; a rebuilt community is
re-coded against its old grids (:func:`gridgis.codes.recode`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from .. import schema
from .._geometry import AREA_FLOOR_M2, fast_union, first_container, single_parts
from ..errors import PartitionError, SchemaError
from ..i18n import N_, tr
from ..people import value as people_value
from ..rules import Rules
from ..schema import BASIC
from ._util import geometries
from .context import PlanContext
from .history import PlanState
from .retile import EXTEND_M, Retiling, clip_lines, extend_ends, interior_lines, retile_edit
from .splitting import merge_slivers, part_labels, split_faces

__all__ = ["Proposal", "merge", "split", "transfer", "rebuild", "rename", "set_kind"]

_SEQ = (list, tuple, np.ndarray, pd.Series, pd.Index)


@dataclass
class Proposal:
    """An edit not yet applied: the new grid table and what it changes.

    Attributes
    ----------
    op, description, params
        The kind of edit, in plain words, and its arguments (for the history).
    grids
        The plan after the edit (metric CRS); households of grids in :attr:`recount` are
        recounted from the buildings when the edit is applied.
    added, removed, changed
        Grid codes the edit creates, removes, or changes.
    recount
        Grids whose households are recounted.
    full
        Recount and re-validate the whole plan (repair, recode).
    crosswalk
        A crosswalk to keep with the plan (recode).
    details
        Extra outputs (``build_report`` of a rebuild, ``repair_log`` of a repair).
    """

    op: str
    description: str
    params: dict[str, Any]
    grids: gpd.GeoDataFrame
    added: Sequence[str] = ()
    removed: Sequence[str] = ()
    changed: Sequence[str] = ()
    recount: Sequence[str] = ()
    full: bool = False
    crosswalk: pd.DataFrame | None = None
    details: dict[str, Any] = field(default_factory=dict)


# ---- merge ---------------------------------------------------------------------------------------


def merge(ctx: PlanContext, state: PlanState, codes: Sequence[str], *, name: str | None = None
          ) -> Proposal:
    """Merge neighbouring grids of one community into the first grid listed.

    The merged grid keeps the code, name, kind and flag of the first grid (``name`` renames
    it); its polygon is the coverage union of the grids.

    Raises
    ------
    PartitionError
        If fewer than two grids are given, they lie in different communities, or they do
        not form one connected piece.

    Examples
    --------
    >>> p = merge(plan.context, plan.state, ["430302001001001", "430302001001002"])
    ... # doctest: +SKIP
    >>> p.removed  # doctest: +SKIP
    ['430302001001002']
    """
    codes = [str(c) for c in dict.fromkeys(codes)]
    if len(codes) < 2:
        raise PartitionError(tr("merge needs at least two grid codes"), where=str(codes))
    rows = [state.row(c) for c in codes]
    g = state.grids
    comms = set(g[schema.COMMUNITY_CODE].iloc[rows])
    if len(comms) > 1:
        raise PartitionError(
            tr("grids {codes} lie in different communities {sorted}",
               codes=codes, sorted=sorted(comms)),
            fix=tr("a grid never crosses its community line: merge grids of one community"))
    geoms = np.asarray(g.geometry.array, dtype=object)
    merged = single_parts(np.array([fast_union(geoms[rows])], dtype=object))[0]
    parts = shapely.get_parts(merged)
    if len(parts[shapely.area(parts) > AREA_FLOOR_M2]) > 1:
        raise PartitionError(
            tr("grids {codes} do not form one connected piece", codes=codes),
            fix=tr("merge grids that share an edge (see plan.neighbours(code))"))
    keep = rows[0]
    new_geoms = geoms.copy()
    new_geoms[keep] = merged
    new = g.copy().set_geometry(gpd.GeoSeries(new_geoms, crs=g.crs))
    for col in (schema.HOUSEHOLDS, schema.POPULATION):
        new.loc[keep, col] = g[col].iloc[rows].sum(min_count=1)
    if name is not None:
        new.loc[keep, schema.GRID_NAME] = str(name)
    removed = codes[1:]
    new = new[~new[schema.GRID_CODE].isin(removed)]
    return Proposal("merge", tr("merge {codes} into {code}", codes=", ".join(codes), code=codes[0]),
                    {"codes": codes, "name": name}, new, removed=removed, changed=[codes[0]],
                    recount=[codes[0]])


# ---- split ---------------------------------------------------------------------------------------


def _split_by_line(ctx: PlanContext, state: PlanState, r: int, code: str, line: Any) -> tuple:
    geom = state.grids.geometry.iloc[r]
    lines_m = geometries(line, ctx.crs, ctx.metric_crs)

    def lines_for(extend: float) -> np.ndarray:
        return clip_lines(lines_m, geom, extend)

    if not len(lines_for(EXTEND_M)):
        raise PartitionError(tr("the line does not reach grid {code}", code=code),
                             fix=tr("draw it across the grid, in the plan's CRS"))
    # full precision: a replay of the history cuts exactly where this edit cut
    params = {"code": code, "line": shapely.to_wkt(shapely.union_all(lines_m),
                                                   rounding_precision=-1)}

    def relabel(ret: Retiling) -> tuple[np.ndarray, list[dict]]:
        faces = np.unique(ret.pf[ret.pg == r])
        groups = merge_slivers(ctx, ret, faces)
        if groups.max() < 1:
            raise PartitionError(
                tr("the line does not cut grid {code} into pieces", code=code),
                fix=tr("draw the line across the whole grid, from one edge to another"))
        return part_labels(ctx, state.grids, ret, r, faces, groups)

    return tr("split {code} along a line", code=code), params, lines_for, relabel


def _context_lines(ctx: PlanContext, area: BaseGeometry, extend: float) -> list[np.ndarray]:
    """Roads and rivers inside ``area`` (cut lines)."""
    return [clip_lines(np.asarray(x.geometry.array, dtype=object), area, extend)
            for x in (ctx.roads, ctx.rivers) if x is not None]


def _split_by_buildings(ctx: PlanContext, state: PlanState, r: int, code: str, parts: int,
                        seed: int) -> tuple:
    from ..partition.units import split_lines

    parts = int(parts)
    if parts < 2:
        raise PartitionError(tr("parts must be at least 2"), where=f"parts={parts}")
    geom = state.grids.geometry.iloc[r]
    b_in = ctx.buildings_in(geom)

    def lines_for(extend: float) -> np.ndarray:
        cut = split_lines(geom, np.asarray(ctx.buildings.geometry.array)[b_in]) \
            if ctx.buildings is not None and len(b_in) else np.empty(0, dtype=object)
        cut = clip_lines(cut, geom, extend) if len(cut) else cut
        road = _context_lines(ctx, geom, extend)
        return np.concatenate([cut, *road]) if road else cut

    def relabel(ret: Retiling) -> tuple[np.ndarray, list[dict]]:
        faces = np.unique(ret.pf[ret.pg == r])
        groups = split_faces(ctx, state.grids, ret, faces, r, parts, seed)
        return part_labels(ctx, state.grids, ret, r, faces, groups)

    params = {"code": code, "by": "buildings", "parts": parts, "seed": seed}
    return (tr("split {code} into {parts} grids by buildings", code=code, parts=parts), params,
            lines_for, relabel)


def split(ctx: PlanContext, state: PlanState, code: str, line: Any = None, *,
          by: str | None = None, parts: int = 2, seed: int | None = None) -> Proposal:
    """Split a grid by a line, or by its buildings into ``parts`` balanced grids.

    See :meth:`gridgis.plan.Plan.split` for the parameters. The piece with the most
    households (largest area on ties) keeps the code and name; the others get fresh codes.

    Raises
    ------
    PartitionError
        If the line does not cut the grid, or the grid has too few building cells.

    Examples
    --------
    >>> p = split(plan.context, plan.state, "430302001001001", by="buildings")
    ... # doctest: +SKIP
    >>> len(p.added)  # doctest: +SKIP
    1
    """
    if (line is None) == (by is None):
        raise PartitionError(tr("give either line=… or by='buildings'"), where="split")
    r = state.row(code)
    if line is not None:
        desc, params, lines_for, relabel = _split_by_line(ctx, state, r, code, line)
    elif by == "buildings":
        rng_seed = ctx.seed if seed is None else int(seed)
        desc, params, lines_for, relabel = _split_by_buildings(ctx, state, r, code, parts,
                                                               rng_seed)
    else:
        raise PartitionError(tr("unknown split mode by={by!r}", by=by), fix=tr("use by='buildings'"))
    done = retile_edit(ctx, state.grids, [r], lines_for, relabel)
    return Proposal("split", desc, params, done.grids, added=done.added, removed=done.removed,
                    changed=done.changed, recount=[*done.added, *done.changed])


# ---- transfer ------------------------------------------------------------------------------------


def _guess_items(ctx: PlanContext, items: Any) -> dict[str, Any]:
    if isinstance(items, (BaseGeometry, gpd.GeoSeries, gpd.GeoDataFrame)) or (
            isinstance(items, (list, tuple)) and items and
            all(isinstance(x, BaseGeometry) for x in items)):
        return {"area": items}
    seq = list(items) if isinstance(items, _SEQ) else [items]
    bld = ctx.buildings
    if bld is not None and schema.BUILDING_ID in bld:
        bids = set(bld[schema.BUILDING_ID].astype(str))
        if all(str(x) in bids for x in seq):
            return {"buildings": seq}
    if ctx.units is not None and all(isinstance(x, (int, np.integer)) for x in seq):
        return {"units": seq}
    raise PartitionError(tr("cannot tell what {seq} are", seq=seq[:3]),
                         fix=tr("pass buildings=[ids], units=[ids] or area=polygon"))


def _move_buildings(ctx: PlanContext, geoms: np.ndarray, same_comm: np.ndarray, t: int,
                    buildings: Any, comm: str) -> tuple:
    from ..partition.units import split_lines

    ids = [str(x) for x in (buildings if isinstance(buildings, _SEQ) else [buildings])]
    pts = ctx.building_points[ctx.building_rows(ids)]
    _, gi = ctx.grid_index.query(pts, "intersects")
    src = sorted(set(int(x) for x in gi if same_comm[x] and x != t))
    if not src:
        raise PartitionError(
            tr("none of buildings {ids} lies in another grid of community {comm}",
               ids=ids[:5], comm=comm),
            fix=tr("transfer buildings of the same community from a neighbouring grid"))
    bgeo = np.asarray(ctx.buildings.geometry.array, dtype=object)

    def lines_for(extend: float) -> np.ndarray:
        out = []
        for s in src:
            cut = split_lines(geoms[s], bgeo[ctx.buildings_in(geoms[s])])
            if len(cut):
                out.append(clip_lines(cut, geoms[s], extend))
        return np.concatenate(out) if out else np.empty(0, dtype=object)

    def moving(ret: Retiling) -> np.ndarray:
        hit = first_container(pts, ret.arr.faces, "intersects")
        return np.isin(ret.pf, hit[hit >= 0])

    what = tr("buildings {ids}", ids=", ".join(ids[:3]) + (" …" if len(ids) > 3 else ""))
    return src, lines_for, moving, what, {"buildings": ids}


def _units_piece(ctx: PlanContext, units: Any) -> tuple[BaseGeometry, str, dict]:
    if ctx.units is None:
        raise PartitionError(tr("the plan has no units"), fix=tr("open it with Plan.build, or pass units="))
    ids = list(units) if isinstance(units, _SEQ) else [units]
    uid = ctx.units["unit_id"].to_numpy() if "unit_id" in ctx.units else \
        ctx.units.index.to_numpy()
    sel = np.isin(uid, ids)
    if not sel.any():
        raise PartitionError(tr("no unit with id in {ids}", ids=ids[:5]))
    piece = shapely.union_all(np.asarray(ctx.units.geometry.array)[sel])
    params = {"units": [int(x) if isinstance(x, (int, np.integer)) else x for x in ids]}
    return piece, tr("units {ids}", ids=", ".join(str(x) for x in ids[:3])), params


def _move_area(ctx: PlanContext, geoms: np.ndarray, same_comm: np.ndarray, t: int,
               piece: BaseGeometry, what: str, comm: str) -> tuple:
    if ctx.communities is not None:
        cg = ctx.communities[ctx.communities[schema.CODE] == comm]
        if len(cg):
            piece = shapely.intersection(piece, cg.geometry.iloc[0])
    hit = ctx.grid_index.rows(piece, "intersects")
    src = sorted(int(x) for x in hit if same_comm[x] and x != t and
                 shapely.area(shapely.intersection(geoms[x], piece)) > 0.01)
    if not src:
        raise PartitionError(tr("{what} overlap(s) no other grid of community {comm}",
                                what=what, comm=comm),
                             fix=tr("draw the area over land of a neighbouring grid of the "
                                    "same community"))
    boundary = shapely.boundary(piece)

    def lines_for(extend: float) -> np.ndarray:
        return clip_lines(np.array([boundary], dtype=object), shapely.union_all(geoms[src]),
                          extend)

    def moving(ret: Retiling) -> np.ndarray:
        return shapely.within(ret.arr.rep, piece)[ret.pf]

    return src, lines_for, moving


def transfer(ctx: PlanContext, state: PlanState, items: Any = None, to: str | None = None, *,
             units: Any = None, buildings: Any = None, area: Any = None) -> Proposal:
    """Move land from neighbouring grids of the same community to grid ``to``.

    See :meth:`gridgis.plan.Plan.transfer` for what ``items``, ``units``, ``buildings`` and
    ``area`` mean.

    Raises
    ------
    PartitionError
        If nothing would move.

    Examples
    --------
    >>> p = transfer(plan.context, plan.state, buildings=["B00012"], to="430302001001001")
    ... # doctest: +SKIP
    """
    if to is None:
        raise PartitionError(tr("say which grid receives the land: transfer(..., to=CODE)"))
    given = {"units": units, "buildings": buildings, "area": area}
    if items is not None:
        given.update(_guess_items(ctx, items))
    if sum(x is not None for x in given.values()) != 1:
        raise PartitionError(tr("give exactly one of units=, buildings= or area="))
    t = state.row(to)
    g = state.grids
    geoms = np.asarray(g.geometry.array, dtype=object)
    comm = g[schema.COMMUNITY_CODE].to_numpy(object)
    same_comm = comm == comm[t]
    if given["buildings"] is not None:
        src, lines_for, moving, what, params = _move_buildings(
            ctx, geoms, same_comm, t, given["buildings"], comm[t])
    else:
        if given["units"] is not None:
            piece, what, params = _units_piece(ctx, given["units"])
        else:
            piece = shapely.union_all(geometries(given["area"], ctx.crs, ctx.metric_crs))
            what = "an area"
            params = {"area": shapely.to_wkt(piece, rounding_precision=-1)}
        src, lines_for, moving = _move_area(ctx, geoms, same_comm, t, piece, what, comm[t])

    def relabel(ret: Retiling) -> tuple[np.ndarray, list[dict]]:
        labels = ret.pg.copy()
        mv = moving(ret) & np.isin(ret.pg, src)
        if not mv.any():
            raise PartitionError(tr("no land of another grid moves to {to}", to=to),
                                 fix=tr("check the ids / the area"))
        labels[mv] = t
        return labels, []

    done = retile_edit(ctx, g, [t, *src], lines_for, relabel)
    return Proposal("transfer", tr("transfer {what} to {to}", what=what, to=to), {**params, "to": to}, done.grids,
                    removed=done.removed, changed=done.changed, recount=done.changed)


# ---- rebuild -------------------------------------------------------------------------------------


def _rebuild_relabel(grids: gpd.GeoDataFrame, new_grids: gpd.GeoDataFrame, redo: np.ndarray,
                     community: str):
    n = len(grids)
    ngeoms = np.asarray(new_grids.geometry.array, dtype=object)

    def relabel(ret: Retiling) -> tuple[np.ndarray, list[dict]]:
        labels = ret.pg.copy()
        mine = np.flatnonzero(np.isin(ret.pg, redo))
        reps = ret.arr.rep[ret.pf[mine]]
        tree = shapely.STRtree(ngeoms)
        hit = first_container(reps, ngeoms, "intersects", tree)
        miss = hit < 0
        if miss.any():
            hit[miss] = tree.query_nearest(reps[miss], all_matches=False)[1]
        labels[mine] = n + hit
        parts = [{"base": int(redo[0]), "community_code": community, "kind": BASIC,
                  "grid_code": f"__new{j}",
                  "grid_name": str(new_grids[schema.GRID_NAME].iloc[j]),
                  "flag": str(new_grids[schema.FLAG].iloc[j] or "")}
                 for j in range(len(new_grids))]
        return labels, parts

    return relabel


def _recode_rebuilt(ctx: PlanContext, old_sub: gpd.GeoDataFrame, new: gpd.GeoDataFrame,
                    bsel: np.ndarray | None, community: str) -> np.ndarray:
    """Give the rebuilt grids (temporary ``__new`` codes) codes re-coded against the old ones;
    returns the new codes."""
    from ..codes import recode

    temp = new[schema.GRID_CODE].astype(str).str.startswith("__new").to_numpy()
    households = None if ctx.buildings is None else ctx.buildings[bsel]
    retired = sorted(ctx.codes.seen | set(new[schema.GRID_CODE][~temp]))
    old_codes = set(old_sub[schema.GRID_CODE])
    rc = recode(old_sub, new[temp], households=households, scheme=ctx.scheme,
                retired=[c for c in retired if c not in old_codes])
    new_codes = rc.plan[schema.GRID_CODE].astype(str).to_numpy(object)
    new.loc[temp, schema.GRID_CODE] = new_codes
    old_names = dict(zip(old_sub[schema.GRID_CODE], old_sub[schema.GRID_NAME], strict=True))
    names = new.loc[temp, schema.GRID_NAME].to_numpy(object)
    new.loc[temp, schema.GRID_NAME] = [
        old_names[c] if c in old_names else ctx.codes.name(c, community, BASIC, nm, 0)
        for c, nm in zip(new_codes, names, strict=True)]
    return new_codes


def rebuild(ctx: PlanContext, state: PlanState, community: str,
            rules: Rules | dict | str | None = None, *, seed: int | None = None,
            keep: Iterable[str] = ()) -> Proposal:
    """Rebuild the basic grids of one community with the builder, the rest locked.

    See :meth:`gridgis.plan.Plan.rebuild`.

    Raises
    ------
    PartitionError
        If the plan has no communities layer, or the builder produces no grid.

    Examples
    --------
    >>> p = rebuild(plan.context, plan.state, "430302001001")  # doctest: +SKIP
    >>> p.details["build_report"]  # doctest: +SKIP
    """
    from ..partition import build_grids

    if ctx.communities is None:
        raise PartitionError(tr("rebuild needs the communities layer"),
                             fix=tr("pass communities= to the Plan"))
    community = str(community)
    crow = ctx.communities[ctx.communities[schema.CODE] == community]
    if not len(crow):
        raise PartitionError(tr("no community {community!r}", community=community), where=community)
    keep = {str(k) for k in keep}
    g = state.grids
    codes = g[schema.GRID_CODE].to_numpy(object)
    in_c = g[schema.COMMUNITY_CODE].to_numpy(object) == community
    redo = np.flatnonzero(in_c & (g[schema.KIND].to_numpy(object) == BASIC) &
                          ~np.isin(codes, list(keep)))
    if not len(redo):
        raise PartitionError(tr("community {community} has no basic grid to rebuild",
                                community=community))
    locked = g.iloc[np.flatnonzero(in_c & ~np.isin(np.arange(len(g)), redo))]
    bsel = None if ctx.building_community is None else ctx.building_community == community
    bld = None if ctx.buildings is None else ctx.buildings[bsel]
    seed = ctx.seed if seed is None else int(seed)
    res = build_grids(crow, ctx.roads, bld, ctx.rules if rules is None else rules,
                      locked=locked if len(locked) else None, seed=seed, rivers=ctx.rivers)
    built = res.grids if res.grids.crs.equals(ctx.metric_crs) else \
        res.grids.to_crs(ctx.metric_crs)
    fresh = ~built[schema.GRID_CODE].isin(locked[schema.GRID_CODE]).to_numpy()
    new_grids = built[fresh].reset_index(drop=True)
    if not len(new_grids):
        raise PartitionError(tr("the builder made no grid in community {community}",
                                community=community))
    lines = extend_ends(interior_lines(np.asarray(built.geometry.array, dtype=object), fresh))
    area = shapely.union_all(g.geometry.to_numpy()[redo])
    done = retile_edit(ctx, g, list(redo), lambda extend: clip_lines(lines, area, extend),
                       _rebuild_relabel(g, new_grids, redo, community))
    # every old basic grid of the community is replaced
    old_codes = [str(c) for c in codes[redo]]
    new = done.grids[~done.grids[schema.GRID_CODE].isin(old_codes)].reset_index(drop=True)
    new_codes = _recode_rebuilt(ctx, g.iloc[redo], new, bsel, community)
    kept = set(new_codes) & set(old_codes)
    added = sorted(set(new_codes) - kept)
    params = {"community": community, "seed": seed, "keep": sorted(keep),
              "rules": None if rules is None else str(rules)}
    return Proposal("rebuild",
                    tr("rebuild community {community} ({old} → {new} grids)", community=community,
                       old=len(old_codes), new=len(new_codes)),
                    params, new, added=added, removed=sorted(set(old_codes) - kept),
                    changed=sorted(kept), recount=[*added, *sorted(kept)],
                    details={"build_report": res.report})


# ---- attributes ----------------------------------------------------------------------------------


def _set_attribute(state: PlanState, code: str, column: str, key: str, value: str, op: str,
                   what: str) -> Proposal:
    r = state.row(code)
    new = state.grids.copy()
    old = new[column].iloc[r]
    new.loc[r, column] = value
    text = tr(what, code=code, old=people_value(column, old), value=people_value(column, value))
    return Proposal(op, text, {"code": code, key: value}, new,
                    changed=[code])


def rename(ctx: PlanContext, state: PlanState, code: str, name: str) -> Proposal:
    """Give grid ``code`` the name ``name`` (``grid_name``).

    Examples
    --------
    >>> rename(plan.context, plan.state, "430302001001001", "幸福里").changed
    ... # doctest: +SKIP
    ['430302001001001']
    """
    return _set_attribute(state, code, schema.GRID_NAME, "name", str(name), "rename", N_("rename {code}: {old} → {value}"))


def set_kind(ctx: PlanContext, state: PlanState, code: str, kind: str) -> Proposal:
    """Make grid ``code`` a basic grid or a special grid of ``kind`` (school, market …).

    Raises
    ------
    SchemaError
        If ``kind`` is neither ``basic`` nor a special kind of the rules.

    Examples
    --------
    >>> set_kind(plan.context, plan.state, "430302001001001", "school").op  # doctest: +SKIP
    'set_kind'
    """
    kind = str(kind).strip()
    allowed = {BASIC, *ctx.rules.special.kinds}
    if kind not in allowed:
        raise SchemaError(tr("unknown grid kind {kind!r}", kind=kind), where=code,
                          fix=tr("use one of {sorted} (rules [special] kinds)",
                                 sorted=sorted(allowed)))
    return _set_attribute(state, code, schema.KIND, "kind", kind, "set_kind", N_("set kind of {code}: {old} → {value}"))
