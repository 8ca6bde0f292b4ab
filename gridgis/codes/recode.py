"""Re-coding a redrawn plan against the previous one, with a crosswalk of old → new codes.

Re-coding thresholds
--------------------
Old grid *i* and new grid *j* are compared by the households they share (when a households
layer is given; buildings or addresses, weighted by their ``households`` column or 1 each) or
by area (plans without household data, and grids that hold no households). With
``s_old = w(i∩j) / w(i)`` and ``s_new = w(i∩j) / w(j)``:

* *j keeps i's code* ("same") when ``s_old >= same_threshold`` **and** ``s_new >=
  same_threshold`` (default ``[tolerances] recode_same_share`` = 0.9, must be > 0.5 so the
  match is one-to-one), both grids belong to the same community and their kinds use the same
  serial range;
* a pair is *significant* when it shares at least one household, or when it shares at least
  ``min_share`` (default ``[tolerances] recode_min_share`` = 1 %) of either grid's area;
  smaller overlaps are digitising noise and do not appear in the crosswalk;
* relations of significant pairs: ``same`` (code kept); ``split`` (the old grid went to several
  new grids); ``merged`` (the old grid went to one new grid that also took other old grids);
  ``reshaped`` (one-to-one, but changed beyond the threshold, or moved to another community or
  serial range); an old grid without a significant successor is ``retired``; a new grid
  without a significant predecessor is ``new``.

New codes come from :func:`gridgis.codes.allocate_codes`: per community and serial range, the
serials *after* the highest serial ever known there (old plan, kept codes and the ``retired``
list); only when the range is exhausted are unused gaps filled (still never a known code).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._inputs import metric
from ..errors import CodeSchemeError, SchemaError
from ..i18n import _, tr
from ..rules import Tolerances, load_rules
from ._overlay import locate, overlaps, weights_points
from ._plans import (
    check_plan,
    code_series,
    community_codes,
    community_names,
    kinds_of,
    pools_of,
    with_codes,
)
from .numbering import allocate_codes, order_keys
from .scheme import RulesLike, SchemeLike, load_scheme, parse_codes

__all__ = ["RELATIONS", "CROSSWALK_COLUMNS", "RecodeResult", "recode"]

RELATIONS = ("same", "split", "merged", "reshaped", "new", "retired")
CROSSWALK_COLUMNS = (
    "old_code", "new_code", "relation", "hh_share", "area_share",
    "new_hh_share", "new_area_share", "households", "area_m2",
)


@dataclass
class RecodeResult:
    """Result of :func:`recode`.

    Attributes
    ----------
    plan
        The new plan with its ``grid_code`` (kept or fresh).
    crosswalk
        One row per significant (old grid, new grid) pair plus ``new``/``retired`` rows; columns
        ``old_code, new_code, relation, hh_share, area_share, new_hh_share, new_area_share,
        households, area_m2`` (shares: of the old grid's households/area that lie in the new
        grid; ``new_*``: of the new grid's; NaN where undefined).
    retired
        Codes of the old plan that the new plan does not keep (never to be used again).
    """

    plan: gpd.GeoDataFrame
    crosswalk: pd.DataFrame
    retired: list[str] = field(default_factory=list)

    def summary(self) -> pd.Series:
        """Number of crosswalk rows per relation."""
        return self.crosswalk["relation"].value_counts().reindex(list(RELATIONS), fill_value=0)

    @property
    def kept(self) -> list[str]:
        """Codes that carry over unchanged."""
        cw = self.crosswalk
        return sorted(cw.loc[cw["relation"] == "same", "new_code"].tolist())


@dataclass
class _Pairs:
    """Significant (old grid, new grid) pairs and their shares."""

    old: np.ndarray
    new: np.ndarray
    area: np.ndarray
    hh: np.ndarray
    area_share: np.ndarray
    new_area_share: np.ndarray
    hh_share: np.ndarray
    new_hh_share: np.ndarray
    s_old: np.ndarray
    s_new: np.ndarray

    def take(self, keep: np.ndarray) -> _Pairs:
        return _Pairs(**{k: v[keep] for k, v in vars(self).items()})


def _thresholds(same_threshold: float | None, min_share: float | None,
                tol: Tolerances) -> tuple[float, float]:
    same = tol.recode_same_share if same_threshold is None else same_threshold
    least = tol.recode_min_share if min_share is None else min_share
    if not 0.5 < same <= 1.0:
        raise CodeSchemeError(tr("same_threshold must be in (0.5, 1], got {same}", same=same),
                              where="same_threshold")
    if not 0.0 <= least < 0.5:
        raise CodeSchemeError(tr("min_share must be in [0, 0.5), got {least}", least=least), where="min_share")
    return same, least


def _old_codes(old: gpd.GeoDataFrame, label: str) -> np.ndarray:
    """Codes of the old plan: present and unique."""
    if schema.GRID_CODE not in old.columns:
        raise SchemaError(_("old plan has no grid_code column"), source=label,
                          fix=_("code it first with gridgis.codes.assign_codes"))
    codes = code_series(old[schema.GRID_CODE], old.index).to_numpy(dtype=object)
    if pd.isna(codes).any():
        rows = list(old.index[pd.isna(codes)][:10])
        raise SchemaError(_("old plan has grids without a code"), source=label,
                          where=tr("rows {rows}", rows=rows))
    dup = pd.Series(codes).duplicated(keep=False).to_numpy()
    if dup.any():
        raise SchemaError(tr("old plan has duplicate codes {sorted}",
                             sorted=sorted(set(codes[dup]))[:5]),
                          source=label, where=tr("rows {rows}", rows=list(old.index[dup][:10])),
                          fix=_("every grid needs its own code"))
    return codes


def _household_pairs(households: gpd.GeoDataFrame, crs: Any, og: np.ndarray, ng: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Households per old grid, per new grid, and per pair (pair keys ``old * n_new + new``)."""
    n_old, n_new = len(og), len(ng)
    pts, w = weights_points(households, crs)
    po, pn = locate(pts, og), locate(pts, ng)
    hh_old = np.bincount(po[po >= 0], weights=w[po >= 0], minlength=n_old)
    hh_new = np.bincount(pn[pn >= 0], weights=w[pn >= 0], minlength=n_new)
    both = (po >= 0) & (pn >= 0) & (w > 0)
    key_hh, inv = np.unique(po[both].astype(np.int64) * n_new + pn[both], return_inverse=True)
    hh_pair = np.bincount(inv.reshape(-1), weights=w[both], minlength=len(key_hh))
    return hh_old, hh_new, key_hh, hh_pair


def _pairs(og: np.ndarray, ng: np.ndarray, households: gpd.GeoDataFrame | None, crs: Any,
           min_share: float) -> _Pairs:
    """Significant overlapping pairs with their area and household shares."""
    n_old, n_new = len(og), len(ng)
    oi, nj, area = overlaps(og, ng)
    a_old, a_new = shapely.area(og), shapely.area(ng)
    key_area = oi.astype(np.int64) * n_new + nj
    if households is not None:
        hh_old, hh_new, key_hh, hh_pair = _household_pairs(households, crs, og, ng)
    else:
        hh_old, hh_new = np.zeros(n_old), np.zeros(n_new)
        key_hh, hh_pair = np.zeros(0, dtype=np.int64), np.zeros(0)
    keys = np.union1d(key_area, key_hh)
    p_area = np.zeros(len(keys))
    p_area[np.searchsorted(keys, key_area)] = area
    p_hh = np.zeros(len(keys))
    p_hh[np.searchsorted(keys, key_hh)] = hh_pair
    p_old, p_new = keys // n_new, keys % n_new
    with np.errstate(divide="ignore", invalid="ignore"):
        area_share = p_area / a_old[p_old]
        new_area_share = p_area / a_new[p_new]
        hh_share = np.where(hh_old[p_old] > 0, p_hh / hh_old[p_old], np.nan)
        new_hh_share = np.where(hh_new[p_new] > 0, p_hh / hh_new[p_new], np.nan)
    pairs = _Pairs(
        old=p_old, new=p_new, area=p_area, hh=p_hh, area_share=area_share,
        new_area_share=new_area_share, hh_share=hh_share, new_hh_share=new_hh_share,
        s_old=np.where(np.isfinite(hh_share), hh_share, area_share),
        s_new=np.where(np.isfinite(new_hh_share), new_hh_share, new_area_share),
    )
    return pairs.take((p_hh > 0) | (np.maximum(area_share, new_area_share) >= min_share))


def _relations(pairs: _Pairs, same: np.ndarray, n_old: int, n_new: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relation of every pair, and the successors / predecessors count of every grid."""
    n_succ = np.bincount(pairs.old, minlength=n_old)
    n_pred = np.bincount(pairs.new, minlength=n_new)
    relation = np.where(
        same, "same",
        np.where((n_succ[pairs.old] == 1) & (n_pred[pairs.new] == 1), "reshaped",
                 np.where(n_succ[pairs.old] >= 2, "split", "merged")),
    ).astype(object)
    return relation, n_succ, n_pred


def _crosswalk(pairs: _Pairs, relation: np.ndarray, n_succ: np.ndarray, n_pred: np.ndarray,
               old_codes: np.ndarray, codes: np.ndarray, use_hh: bool) -> pd.DataFrame:
    """The crosswalk table: significant pairs, then retired old and new grids, sorted."""
    rows = pd.DataFrame({
        "old_code": old_codes[pairs.old], "new_code": codes[pairs.new], "relation": relation,
        "hh_share": pairs.hh_share, "area_share": pairs.area_share,
        "new_hh_share": pairs.new_hh_share, "new_area_share": pairs.new_area_share,
        "households": pairs.hh if use_hh else np.nan, "area_m2": pairs.area,
    })
    gone, born = np.flatnonzero(n_succ == 0), np.flatnonzero(n_pred == 0)
    extra = pd.DataFrame({
        "old_code": np.r_[old_codes[gone], np.full(len(born), None, dtype=object)],
        "new_code": np.r_[np.full(len(gone), None, dtype=object), codes[born]],
        "relation": ["retired"] * len(gone) + ["new"] * len(born),
    })
    frames = [f for f in (rows, extra) if len(f)]
    cw = pd.concat(frames, ignore_index=True) if frames else rows
    cw = cw.reindex(columns=list(CROSSWALK_COLUMNS))
    for col in CROSSWALK_COLUMNS[:3]:
        cw[col] = cw[col].astype(object)
    for col in CROSSWALK_COLUMNS[3:]:
        cw[col] = cw[col].astype(float)
    cw = cw.sort_values(["old_code", "new_code"], na_position="last", kind="stable")
    return cw.reset_index(drop=True)


def recode(old_plan: gpd.GeoDataFrame, new_plan: gpd.GeoDataFrame,
           households: gpd.GeoDataFrame | None = None,
           scheme: SchemeLike = None,
           retired: Iterable[str] | None = None, *,
           same_threshold: float | None = None, min_share: float | None = None,
           communities: gpd.GeoDataFrame | None = None,
           rules: RulesLike = None) -> RecodeResult:
    """Code a redrawn plan so that every essentially unchanged grid keeps its old code.

    Parameters
    ----------
    old_plan
        The previous plan with its ``grid_code`` (unique) and ``community_code`` (taken from
        the codes when absent).
    new_plan
        The redrawn plan; its ``grid_code`` column, if any, is replaced.
    households
        Buildings or addresses (polygons or points, with a ``households`` column or counting 1
        each) used to weigh overlaps; without them, overlaps are weighed by area.
    scheme
        Code scheme of the new codes; ``None`` takes the ``[codes]`` of ``rules``.
    retired
        Codes retired in earlier rounds: never reused (codes of the old plan that are not kept
        are retired automatically). ``gridgis.versions.known_codes(path)`` lists every code
        a versions file has ever held.
    same_threshold
        Share (both ways, > 0.5) above which a new grid keeps an old grid's code (default
        ``rules.tolerances.recode_same_share``, 0.9).
    min_share
        Area share (of either grid) below which an overlap without households is noise
        (default ``rules.tolerances.recode_min_share``, 0.01).
    communities
        Community polygons, to locate new grids that lack ``community_code``.
    rules
        Rules (object, mapping or TOML file) giving the scheme and tolerances.

    Returns
    -------
    RecodeResult
        ``plan`` (the coded new plan), ``crosswalk`` and ``retired`` (see the module notes for
        relations and thresholds).

    Raises
    ------
    SchemaError
        If old codes are missing or duplicated.
    CodeSchemeError
        If a community runs out of serials.

    Examples
    --------
    >>> result = recode(plan_2023, plan_2024, households=buildings)   # doctest: +SKIP
    >>> result.crosswalk.to_csv("crosswalk.csv", index=False)         # doctest: +SKIP
    """
    sch = load_scheme(scheme, rules=rules)
    tol = load_rules(rules).tolerances
    same_threshold, min_share = _thresholds(same_threshold, min_share, tol)
    old_label, new_label = schema.label(old_plan, "old_plan"), schema.label(new_plan, "new_plan")
    old, new = check_plan(old_plan, old_label), check_plan(new_plan, new_label)
    for plan, what in ((old, old_label), (new, new_label)):
        if len(plan) == 0:
            raise SchemaError(_("plan has no grids"), source=what)
    old_codes = _old_codes(old, old_label)
    if schema.COMMUNITY_CODE in old.columns:
        old_comm = code_series(old[schema.COMMUNITY_CODE]).to_numpy(dtype=object)
    else:
        old_comm = parse_codes(old_codes, sch)[schema.COMMUNITY_CODE].to_numpy(dtype=object)
    new_comm = community_codes(new, sch, communities, "new_plan")
    new_kinds = kinds_of(new)
    old_pools, new_pools = pools_of(kinds_of(old), sch), pools_of(new_kinds, sch)

    new_m = metric(new)
    mcrs = new_m.crs
    og = np.asarray(metric(old, mcrs).geometry.array)
    ng = np.asarray(new_m.geometry.array)
    pairs = _pairs(og, ng, households, mcrs, min_share)
    same = (pairs.s_old >= same_threshold) & (pairs.s_new >= same_threshold)
    same &= old_comm[pairs.old] == new_comm[pairs.new]
    same &= np.array([a == b for a, b in zip(old_pools[pairs.old], new_pools[pairs.new],
                                             strict=True)], dtype=bool)
    codes = np.full(len(ng), None, dtype=object)
    codes[pairs.new[same]] = old_codes[pairs.old[same]]
    kept_old = np.zeros(len(og), dtype=bool)
    kept_old[pairs.old[same]] = True

    # fresh codes: never one of the old plan (kept codes included) or the retired list
    need = np.array([c is None for c in codes], dtype=bool)
    if need.any():
        known = list(old_codes) + ([] if retired is None else list(retired))
        order = order_keys(ng, new_comm, sch, tol.band_rel_eps)
        codes[need] = allocate_codes(new_comm[need], new_kinds[need], used=known,
                                     order=order[need], scheme=sch,
                                     names=community_names(communities), source="new_plan")
    relation, n_succ, n_pred = _relations(pairs, same, len(og), len(ng))
    cw = _crosswalk(pairs, relation, n_succ, n_pred, old_codes, codes, households is not None)
    out = with_codes(new, new_comm, codes)
    return RecodeResult(plan=out, crosswalk=cw, retired=sorted(old_codes[~kept_old].tolist()))
