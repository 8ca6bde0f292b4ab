"""Sizes: households/residents of each grid against its profile, flags, grid kinds."""

from __future__ import annotations

import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import schema
from ..i18n import _, pgettext, tr
from ..rules import Rules
from ..schema import BASIC
from .limits import FLAG_ABOVE_MAX, FLAG_BELOW_MIN
from .prepare import PreparedPlan, grid_kinds
from .report import ERROR, WARNING, Finding

__all__ = ['check_sizes']


def _flags(values: Any, n: int) -> list[set[str]]:
    if values is None:
        return [set() for _ in range(n)]
    out = []
    for v in pd.Series(values).to_numpy():
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            out.append(set())
        else:
            out.append({t for t in re.split(r"[\s,;|，；]+", str(v).strip().lower()) if t})
    return out



def _candidates(area_kind: np.ndarray, special: np.ndarray, values: dict[str, np.ndarray],
                rules: Rules) -> np.ndarray:
    """Rows that may give a size finding (missing value, below a minimum, above a cap): the
    only rows the per-grid rules need to look at."""
    hit = np.zeros(len(special), dtype=bool)
    with np.errstate(invalid="ignore"):
        for kind in pd.unique(area_kind):
            prof = rules.profile_for(kind)
            val = values[prof.measure]
            odd = np.isnan(val) | (val < prof.bounds[0])
            for col, cap in prof.caps.items():
                odd |= values[col] > cap
            hit |= (area_kind == kind) & odd
        if rules.special.max_households is not None:
            hit |= special & (values[schema.HOUSEHOLDS] > float(rules.special.max_households))
    return np.flatnonzero(hit)


def check_sizes(plan: PreparedPlan, parents: gpd.GeoDataFrame | None, rules: Rules,
                 building_grid: np.ndarray | None, buildings: gpd.GeoDataFrame | None,
                 skipped: dict[str, str]) -> list[Finding]:
    """Size findings: households/residents against the profile of each grid's area kind.

    Values come from the grid columns, else are counted from the buildings located in each
    grid; ``skipped`` gains a reason when nothing can be measured.

    Examples
    --------
    >>> check_sizes(plan, parents, load_rules(), None, None, {})  # doctest: +SKIP
    """
    gdf = plan.gdf
    n = len(gdf)
    kinds = grid_kinds(gdf)
    special_kinds = {k.lower() for k in rules.special.kinds}
    special = np.isin(kinds, list(special_kinds))
    out: list[Finding] = []
    for r in np.flatnonzero(~special & (kinds != BASIC)):
        out.append(Finding("kind_unknown", WARNING, (plan.labels[r],), None, "",
                           tr("grid {grid} has kind '{kind}', which is neither 'basic' nor a "
                              "special kind ({kinds})", grid=plan.labels[r], kind=kinds[r],
                              kinds=", ".join(sorted(special_kinds))),
                           geometry=plan.geom[r] if plan.usable[r] else None,
                           parent=plan.named[r] or None))
    # area kind of each grid's community
    if parents is not None and schema.AREA_KIND in parents:
        ak = dict(zip(parents[schema.CODE], parents[schema.AREA_KIND].astype(str), strict=True))
        area_kind = pd.Series(plan.named, dtype=object).map(ak).fillna("urban").to_numpy(
            dtype=object)
    elif schema.AREA_KIND in gdf:
        area_kind = gdf[schema.AREA_KIND].fillna("urban").astype(str).to_numpy()
    else:
        area_kind = np.full(n, "urban", dtype=object)
    # measures: grid attributes, else counted from buildings
    values: dict[str, np.ndarray] = {}
    for col in (schema.HOUSEHOLDS, schema.POPULATION):
        v = (pd.to_numeric(gdf[col], errors="coerce").to_numpy(dtype=float) if col in gdf
             else np.full(n, np.nan))
        if building_grid is not None and buildings is not None and col in buildings:
            bv = pd.to_numeric(buildings[col], errors="coerce").fillna(0).to_numpy(dtype=float)
            ok = building_grid >= 0
            counted = np.bincount(building_grid[ok], weights=bv[ok], minlength=n)
            v = np.where(np.isnan(v), counted, v)
        values[col] = v
    if all(np.isnan(v).all() for v in values.values()):
        skipped["size"] = _("no households/population columns and no buildings to count them")
        return out
    rows = _candidates(area_kind, special, values, rules)
    flags = dict(zip(rows, _flags(gdf[schema.FLAG].to_numpy()[rows] if schema.FLAG in gdf
                                  else None, len(rows)), strict=True))
    units = {schema.HOUSEHOLDS: "households", schema.POPULATION: "residents"}
    words = {schema.HOUSEHOLDS: _("households"), schema.POPULATION: _("residents")}
    for r in rows:
        prof = rules.profile_for(area_kind[r])
        label = plan.labels[r]
        geom = plan.geom[r] if plan.usable[r] else None
        basis = prof.measure
        val = values[basis][r]
        if np.isnan(val):
            if not special[r]:
                out.append(Finding("size_unknown", WARNING, (label,), None, "",
                                   tr("grid {grid} has no {what} value", grid=label,
                                      what=words[basis]), geometry=geom,
                                   parent=plan.named[r] or None))
            continue
        lo = prof.bounds[0]
        if not special[r] and val < lo:
            allowed = FLAG_BELOW_MIN in flags[r]
            out.append(Finding(
                "size_below_min", WARNING if allowed else ERROR, (label,), float(val), units[basis],
                tr("grid {grid} has {value:,.0f} {what}, below the {profile} minimum {min:,.0f}",
                   grid=label, value=val, what=words[basis], profile=_profile(prof.name), min=lo)
                + (_(" (flagged below_min_allowed)") if allowed else ""),
                geometry=geom, parent=plan.named[r] or None))
        caps = dict(prof.caps)
        if special[r] and rules.special.max_households is not None:
            caps[schema.HOUSEHOLDS] = float(rules.special.max_households)
        for col, cap in caps.items():
            v = values[col][r]
            if not np.isnan(v) and v > cap:
                allowed = FLAG_ABOVE_MAX in flags[r]
                who = _("special") if special[r] else _profile(prof.name)
                out.append(Finding(
                    "size_above_max", WARNING if allowed else ERROR, (label,), float(v), units[col],
                    tr("grid {grid} has {value:,.0f} {what}, above the {profile} maximum "
                       "{max:,.0f}", grid=label, value=v, what=words[col], profile=who, max=cap)
                    + (_(" (flagged above_max_allowed)") if allowed else ""),
                    geometry=geom, parent=plan.named[r] or None))
    return out


def _profile(name: str) -> str:
    """A size profile's name (urban, rural …) in the language in use."""
    return {"urban": pgettext("area", "urban"), "rural": pgettext("area", "rural")}.get(name, name)
