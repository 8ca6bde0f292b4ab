"""Items in grids: every building and address point in exactly one grid."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._geometry import POLYGONAL_TYPES, first_hit, present, representative_points
from ..i18n import tr
from ._text import names
from .limits import SPLIT_MIN_M2, SPLIT_SHARE
from .prepare import PreparedPlan, as_codes
from .report import ERROR, WARNING, Finding

__all__ = ['ItemHits', 'locate_points', 'check_buildings', 'check_addresses']


@dataclass
class ItemHits:
    grid_of: np.ndarray  # grid row (plan position) of each item, -1 when none
    hits: np.ndarray  # number of grids each item falls in (see locate_points)


def locate_points(plan: PreparedPlan, points: np.ndarray) -> ItemHits:
    """Which grid each point falls in.

    A point on the shared edge of two grids is in one of them (the first in plan order); a point
    in the interior of two grids (an overlap) counts as in both (``hits == 2``).

    Examples
    --------
    >>> hits = locate_points(plan, representative_points(buildings_geoms))  # doctest: +SKIP
    >>> hits.grid_of[:5]  # doctest: +SKIP
    """
    n = len(points)
    grid_of = np.full(n, -1, dtype=int)
    hits = np.zeros(n, dtype=int)
    ok = present(points)
    idx = np.flatnonzero(ok)
    if len(idx):
        pi, gi = plan.tree.query(points[idx], predicate="intersects")
        first = first_hit(pi, gi, len(idx))
        found = first >= 0
        grid_of[idx[found]] = plan.uidx[first[found]]
        hits[idx] = np.minimum(np.bincount(pi, minlength=len(idx)), 1)
        multi = np.bincount(pi, minlength=len(idx))[pi] > 1
        if multi.any():
            inner = shapely.contains_properly(plan.geom[plan.uidx][gi[multi]], points[idx][pi[multi]])
            cnt = np.bincount(pi[multi][inner], minlength=len(idx))
            more = cnt > 1
            hits[idx[more]] = cnt[more]
    return ItemHits(grid_of=grid_of, hits=hits)



def _item_ids(df: pd.DataFrame, col: str) -> np.ndarray:
    if col in df:
        return as_codes(df[col])
    return np.array([f"#{i}" for i in range(len(df))], dtype=object)



def _grids_holding(plan: Any, pts: np.ndarray) -> dict[int, tuple[str, ...]]:
    """Sorted labels of the grids whose interior holds each point (keyed by point position)."""
    pi, gi = plan.tree.query(pts, predicate="within")
    per: dict[int, list[str]] = defaultdict(list)
    for p, g in zip(pi, gi, strict=True):
        per[p].append(plan.labels[plan.uidx[g]])
    return {k: tuple(sorted(v)) for k, v in per.items()}


def _in_several(plan: PreparedPlan, items: ItemHits, pts: np.ndarray
                ) -> list[tuple[int, tuple[str, ...]]]:
    """Items in the interior of two or more grids, with the labels of those grids."""
    multi = np.flatnonzero(items.hits > 1)
    if not len(multi):
        return []
    per = _grids_holding(plan, pts[multi])
    return [(int(i), per[k]) for k, i in enumerate(multi)]


def _communities(df: pd.DataFrame) -> list[str | None]:
    """The community code each item names (``None`` when it names none)."""
    if schema.COMMUNITY_CODE not in df:
        return [None] * len(df)
    return [c or None for c in as_codes(df[schema.COMMUNITY_CODE])]


def check_buildings(plan: PreparedPlan, b: gpd.GeoDataFrame) -> tuple[list[Finding], np.ndarray]:
    """Building findings (in no grid, in two, split by a grid line) and each building's grid.

    Examples
    --------
    >>> findings, grid_of = check_buildings(plan, buildings_metric)  # doctest: +SKIP
    """
    geoms = np.asarray(b.geometry.array, dtype=object)
    has = present(geoms)
    pts = representative_points(geoms)
    items = locate_points(plan, pts)
    ids = _item_ids(b, schema.BUILDING_ID)
    hh = (pd.to_numeric(b[schema.HOUSEHOLDS], errors="coerce").fillna(0).to_numpy()
          if schema.HOUSEHOLDS in b else np.zeros(len(b)))
    comm = _communities(b)
    out = []
    for i in np.flatnonzero(items.hits == 0):
        if not has[i]:
            msg = tr("building {building} has no geometry and so lies in no grid",
                     building=ids[i])
        else:
            msg = tr("building {building} ({households} households) lies in no grid",
                     building=ids[i], households=int(hh[i]))
        out.append(Finding("building_unassigned", ERROR, (), float(hh[i]), "households", msg,
                           geometry=geoms[i], parent=comm[i],
                           item=ids[i]))
    for i, gl in _in_several(plan, items, pts):
        out.append(Finding("building_in_two", ERROR, gl, float(hh[i]), "households",
                           tr("building {building} ({households} households) lies in {n} "
                              "grids: {grids}", building=ids[i], households=int(hh[i]),
                              n=len(gl), grids=names(gl)), geometry=geoms[i],
                           parent=plan.named[items.grid_of[i]] or None, item=ids[i]))
    # footprints shared by two grids
    poly = np.flatnonzero(np.isin(shapely.get_type_id(geoms), POLYGONAL_TYPES) & (items.hits == 1))
    if len(poly):
        bi, gi = plan.tree.query(geoms[poly], predicate="intersects")
        cnt = np.bincount(bi, minlength=len(poly))
        sel = cnt[bi] > 1
        bi, gi = bi[sel], gi[sel]
        if len(bi):
            inter = shapely.area(shapely.intersection(geoms[poly][bi], plan.geom[plan.uidx][gi]))
            barea = shapely.area(geoms[poly][bi])
            df = pd.DataFrame({"b": bi, "g": gi, "a": inter, "share": inter / np.maximum(barea, 1e-12)})
            df = df.sort_values(["b", "share", "g"], ascending=[True, False, True])
            df["rank"] = df.groupby("b").cumcount()
            second = df[df["rank"] == 1]
            bad = second[(second["share"] >= SPLIT_SHARE) & (second["a"] >= SPLIT_MIN_M2)]
            for b_local in bad["b"].to_numpy():
                i = poly[b_local]
                part = df[(df["b"] == b_local) & (df["a"] > 0)]
                gl = tuple(plan.labels[plan.uidx[g]] for g in part["g"])
                shares = ", ".join(f"{100 * s:.0f}%" for s in part["share"])
                out.append(Finding(
                    "building_split", WARNING, gl, float(part["share"].iloc[1] * 100), "%",
                    tr("building {building} is split by a grid line between {grids} ({shares}); "
                       "its {households} households count in {first} only", building=ids[i],
                       grids=names(gl), shares=shares, households=int(hh[i]), first=gl[0]),
                    geometry=geoms[i], parent=plan.named[items.grid_of[i]] or None, item=ids[i]))
    return out, items.grid_of


def check_addresses(plan: PreparedPlan, a: gpd.GeoDataFrame) -> list[Finding]:
    """Address findings: address points in no grid or in two.

    Examples
    --------
    >>> check_addresses(plan, addresses_metric)  # doctest: +SKIP
    """
    geoms = np.asarray(a.geometry.array, dtype=object)
    has = present(geoms)
    pts = representative_points(geoms)
    items = locate_points(plan, pts)
    ids = _item_ids(a, schema.ADDRESS_ID)
    text = a[schema.ADDRESS].astype(str).to_numpy() if schema.ADDRESS in a else None
    comm = _communities(a)
    out = []
    for i in np.flatnonzero(items.hits == 0):
        name = _address(ids[i], None if text is None else text[i])
        why = (tr("address {address} has no coordinates", address=name) if not has[i]
               else tr("address {address} lies in no grid", address=name))
        out.append(Finding("address_unassigned", ERROR, (), None, "", why,
                           geometry=geoms[i], parent=comm[i],
                           item=ids[i]))
    for i, gl in _in_several(plan, items, pts):
        out.append(Finding("address_in_two", ERROR, gl, float(len(gl)), "grids",
                           tr("address {address} lies in {n} grids: {grids}",
                              address=_address(ids[i], None if text is None else text[i]),
                              n=len(gl), grids=names(gl)),
                           geometry=geoms[i], parent=plan.named[items.grid_of[i]] or None,
                           item=ids[i]))
    return out


def _address(item: object, text: object | None) -> str:
    """An address id with its text, for a message."""
    return f"{item} ({text})" if text is not None else str(item)
