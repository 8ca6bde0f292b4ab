"""Edits of the whole plan: geometry repair and re-coding against an earlier plan. Like the
edits of :mod:`gridgis.plan.operations` they return a :class:`~gridgis.plan.operations.Proposal`
that :class:`~gridgis.plan.Plan` applies (recounting and re-validating the whole plan)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from .. import schema
from ..i18n import tr
from .context import PlanContext
from .history import PlanState
from .operations import Proposal

__all__ = ["repair", "recode"]


def repair(ctx: PlanContext, state: PlanState) -> Proposal:
    """Repair the plan's geometry (:func:`gridgis.repair`): gaps, overlaps, crossings,
    detached pieces and slivers; the change log is in ``details["repair_log"]``.

    Examples
    --------
    >>> p = repair(plan.context, plan.state)  # doctest: +SKIP
    >>> p.details["repair_log"].head()  # doctest: +SKIP
    """
    from ..repairs import repair as repair_plan

    old = state.grids
    res = repair_plan(old, ctx.communities, ctx.buildings, ctx.rules, addresses=ctx.addresses,
                      scheme=ctx.scheme)
    ctx.codes.seen |= set(old[schema.GRID_CODE])
    new = ctx.prepare_grids(res.plan)
    old_codes, new_codes = set(old[schema.GRID_CODE]), set(new[schema.GRID_CODE])
    merged = old.merge(pd.DataFrame({schema.GRID_CODE: new[schema.GRID_CODE],
                                     "_g": new.geometry.to_numpy()}), on=schema.GRID_CODE)
    moved = shapely.area(shapely.symmetric_difference(
        merged.geometry.to_numpy(), merged["_g"].to_numpy())) > 1e-6
    return Proposal("repair", tr("repair the plan ({n} changes)", n=len(res.log)), {}, new,
                    removed=sorted(old_codes - new_codes),
                    changed=sorted(merged[schema.GRID_CODE][moved]), full=True,
                    details={"repair_log": res.log_frame()})


def recode(ctx: PlanContext, state: PlanState, base: gpd.GeoDataFrame, retired: Iterable[str],
           same_threshold: float = 0.9) -> tuple[Proposal, Any]:
    """Re-code the plan against ``base`` (:func:`gridgis.codes.recode`), never giving a code
    in ``retired``; grid names that were their code follow it.

    Returns the proposal (with the crosswalk) and the :class:`gridgis.codes.RecodeResult`.

    Examples
    --------
    >>> p, rc = recode(plan.context, plan.state, plan.baseline, [])  # doctest: +SKIP
    >>> rc.crosswalk.head()  # doctest: +SKIP
    """
    from ..codes import recode as recode_plan

    cur = state.grids
    rc = recode_plan(base, cur, households=ctx.buildings, scheme=ctx.scheme,
                     retired=sorted(retired), same_threshold=same_threshold,
                     communities=ctx.communities)
    new = cur.copy()
    new[schema.GRID_CODE] = rc.plan[schema.GRID_CODE].astype(str).to_numpy(object)
    pairs = list(zip(cur[schema.GRID_CODE], new[schema.GRID_CODE], strict=True))
    renamed = {a: b for a, b in pairs if a != b}
    names = new[schema.GRID_NAME].to_numpy(object).copy()
    for i, (a, b) in enumerate(pairs):
        if a != b and names[i] == a:
            names[i] = b
    new[schema.GRID_NAME] = names
    desc = tr("re-code against the opened plan ({n} codes changed)", n=len(renamed))
    return Proposal("recode", desc, {"same_threshold": same_threshold}, new,
                    added=sorted(renamed.values()), removed=sorted(renamed), full=True,
                    crosswalk=rc.crosswalk), rc
