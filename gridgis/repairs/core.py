"""The repair run: :func:`repair` and its result (:class:`RepairResult`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._geometry import (
    EMPTY_POLYGON,
    polygonal,
    present,
    representative_points,
    single_parts,
)
from ..codes import load_scheme
from ..crs import to_crs, to_crs_valid
from ..i18n import _, tr
from ..people import value
from ..rules import Rules, load_rules
from ..tolerances import Tolerances
from ..validation import ValidationReport, validate
from ..validation.core import item_layer
from ..validation.items import locate_points
from ..validation.prepare import PreparedPlan, prepare_grids, prepare_parents
from .steps import (
    Change,
    RepairWork,
    absorb_slivers,
    assign_homes,
    clip_to_parents,
    fill_gaps,
    reattach_parts,
    resolve_overlaps,
)

__all__ = ["repair", "RepairResult", "Change"]


@dataclass
class RepairResult:
    """Result of :func:`repair`: the fixed plan, the change log and its validation report."""

    plan: gpd.GeoDataFrame
    log: list[Change]
    report: ValidationReport
    before: ValidationReport | None = None
    metric_crs: Any = None
    notes: list[str] = field(default_factory=list)

    def __iter__(self):  # allows ``plan, log, report = repair(...)``
        return iter((self.plan, self.log, self.report))

    def log_frame(self, crs: Any = None) -> gpd.GeoDataFrame:
        """The change log as a GeoDataFrame in ``crs`` (default: the plan's CRS)."""
        rows = [{"action": c.action, "grids": "; ".join(c.grids), "area_m2": c.area_m2,
                 "households": c.households, "population": c.population,
                 "buildings": c.buildings, "message": c.message} for c in self.log]
        df = pd.DataFrame(rows, columns=["action", "grids", "area_m2", "households", "population",
                                         "buildings", "message"])
        gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([c.geometry for c in self.log],
                                                          crs=self.metric_crs))
        target = self.plan.crs if crs is None else crs
        return to_crs(gdf, target) if target is not None else gdf

    def summary(self, more: str | None = None) -> str:
        """Counts of changes per action, then the status of the repaired plan (``more``: where
        the findings not listed are, see :meth:`ValidationReport.summary`)."""
        counts: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        for c in self.log:
            counts[c.action][0] += 1
            counts[c.action][1] += c.area_m2
        lines = [tr("{n} changes:", n=len(self.log))]
        for action, (n, area) in counts.items():
            lines.append(f"  {value('repair_action', action):<18} {int(n):>5}  {area:,.1f} m²")
        lines.extend(self.notes)
        lines.append(tr("after repair: {summary}",
                        summary=self.report.summary(max_rows=10, more=more)))
        return "\n".join(lines)


# ---- entry point -------------------------------------------------------------------------------


def repair(
    grids: gpd.GeoDataFrame,
    parents: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    rules: Rules | dict | str | None = None,
    *,
    addresses: gpd.GeoDataFrame | pd.DataFrame | None = None,
    scheme: Any = None,
) -> RepairResult:
    """Fix the geometry of a plan (gaps, overlaps, crossings, pieces, slivers) and log it.

    Parameters
    ----------
    grids, parents, buildings, addresses, rules, scheme
        As for :func:`gridgis.validation.validate`. Without ``parents`` only gaps between grids
        (holes and narrow notches) can be filled; nothing is clipped.

    Returns
    -------
    RepairResult
        ``plan`` (canonical columns, input CRS, one row per surviving grid; removed grids are in
        the log), ``log`` (list of :class:`Change`), ``report`` (validation of the repaired
        plan) and ``before`` (validation of the input).

    Examples
    --------
    >>> fixed = repair(plan, parents=communities, buildings=buildings)  # doctest: +SKIP
    >>> fixed.report.ok, len(fixed.log)  # doctest: +SKIP
    >>> fixed.plan.to_file("plan_fixed.gpkg")  # doctest: +SKIP
    """
    rules = load_rules(rules)
    scheme = load_scheme(scheme, rules=rules)
    before = validate(grids, parents, buildings, addresses, rules, scheme=scheme)
    plan, geom_findings, mcrs = prepare_grids(grids, scheme=scheme)
    w = RepairWork(plan, rules)
    p = prepare_parents(parents, mcrs) if parents is not None else None
    b = item_layer(buildings, "buildings", mcrs)

    for f in geom_findings:
        r = int(np.flatnonzero(plan.labels == f.grids[0])[0])
        if f.rule == "invalid_geometry":
            w.add("fix_geometry", f.grids, float(shapely.area(w.geom[r])),
                  f"{f.message}; made valid", geometry=w.geom[r])
        elif f.rule == "empty_grid":
            w.add("remove_empty", f.grids, 0.0, f"{f.message}; removed",
                  households=_attr(plan.gdf, schema.HOUSEHOLDS, r),
                  population=_attr(plan.gdf, schema.POPULATION, r))

    weights = None
    if b is not None:
        bpts = representative_points(np.asarray(b.geometry.array, dtype=object))
        before_loc = locate_points(plan, bpts).grid_of
        hh = (pd.to_numeric(b[schema.HOUSEHOLDS], errors="coerce").fillna(0).to_numpy()
              if schema.HOUSEHOLDS in b else np.zeros(len(b)))
        ok = present(bpts)
        weights = (shapely.get_coordinates(bpts[ok]), hh[ok])

    assign_homes(w, p)
    if p is not None:
        clip_to_parents(w, p)
    resolve_overlaps(w)
    fill_gaps(w, p)
    reattach_parts(w, weights)
    absorb_slivers(w)
    # duplicates and grids emptied by the steps above
    tol = rules.tolerances
    for r in np.flatnonzero(w.alive & (shapely.area(w.geom) <= tol.area_floor_m2)):
        w.alive[r] = False
        w.add("remove_empty", (w.labels[r],), 0.0,
              f"grid {w.labels[r]} has no land left (it duplicated its neighbours); removed",
              households=_attr(plan.gdf, schema.HOUSEHOLDS, r),
              population=_attr(plan.gdf, schema.POPULATION, r))

    out = plan.gdf.copy()
    # grids left unchanged outside every community stay in the plan
    untouched = plan.usable & ~w.alive & (w.home < 0)
    geoms = np.where(untouched, plan.geom, w.geom)
    keep = (w.alive | untouched) & ~shapely.is_empty(geoms)
    out = out.set_geometry(gpd.GeoSeries(single_parts(geoms, tol.area_floor_m2), crs=mcrs))
    notes: list[str] = []
    _update_counts(w, out, b, before_loc if b is not None else None, keep, notes)
    out = out[keep].reset_index(drop=True)
    matched = _match_edges(np.asarray(out.geometry.array, dtype=object), tol)
    final = to_crs_valid(out, grids.crs)
    after = validate(final, parents, buildings, addresses, rules, scheme=scheme)
    if matched is not None:
        # edge-matched coverage (shared edges with identical vertices), kept when it validates
        # at least as well as the plan before matching
        alt = to_crs_valid(out.set_geometry(gpd.GeoSeries(matched, crs=mcrs)), grids.crs)
        alt_report = validate(alt, parents, buildings, addresses, rules, scheme=scheme)
        if (len(alt_report.errors), len(alt_report.warnings)) <= (len(after.errors),
                                                                  len(after.warnings)):
            final, after = alt, alt_report
            changed = int((shapely.get_num_coordinates(matched) != shapely.get_num_coordinates(
                np.asarray(out.geometry.array, dtype=object))).sum())
            w.add("match_edges", (), 0.0,
                  f"shared edges of {changed} grid(s) given identical vertices "
                  f"(sub-millimetre snapping): the plan is an exact polygon coverage")
    out = final
    return RepairResult(plan=out, log=w.log, report=after, before=before, metric_crs=mcrs,
                        notes=notes)


def _match_edges(geoms: np.ndarray, tol: Tolerances) -> np.ndarray | None:
    """Make shared edges carry identical vertices (``shapely.coverage_clean`` with its automatic,
    sub-millimetre snapping); ``None`` when that would change any grid's area by more than
    ``area_floor_m2`` and ``coverage_rel`` of it."""
    if not len(geoms):
        return None
    try:
        if shapely.coverage_is_valid(geoms):
            return None
        cleaned = polygonal(shapely.coverage_clean(geoms))
    except shapely.errors.GEOSException:  # pragma: no cover - GEOS could not node the plan
        return None
    before, after = shapely.area(geoms), shapely.area(cleaned)
    slack = np.maximum(tol.area_floor_m2, tol.coverage_rel * before)
    if (after <= 0).any() or (np.abs(after - before) > slack).any():
        return None
    return single_parts(cleaned, tol.area_floor_m2)


def _attr(gdf: pd.DataFrame, col: str, r: int) -> float | None:
    if col not in gdf:
        return None
    v = pd.to_numeric(pd.Series([gdf[col].iloc[r]]), errors="coerce").iloc[0]
    return None if pd.isna(v) else float(v)


def _update_counts(w: RepairWork, out: gpd.GeoDataFrame, b: gpd.GeoDataFrame | None,
                   before_loc: np.ndarray | None, keep: np.ndarray, notes: list[str]) -> None:
    """Move households/residents with their buildings (or with absorbed grids) and log it."""
    cols = [c for c in (schema.HOUSEHOLDS, schema.POPULATION) if c in out]
    if b is not None:
        shown = w.plan
        after_plan = PreparedPlan(gdf=out, labels=shown.labels, codes=shown.codes, named=shown.named,
                           geom=np.where(keep, np.asarray(out.geometry.array, dtype=object), EMPTY_POLYGON),
                           usable=keep, uidx=np.flatnonzero(keep),
                           tree=shapely.STRtree(np.asarray(out.geometry.array, dtype=object)[keep]))
        bpts = representative_points(np.asarray(b.geometry.array, dtype=object))
        after_loc = locate_points(after_plan, bpts).grid_of
        moved = before_loc != after_loc
        vals = {c: (pd.to_numeric(b[c], errors="coerce").fillna(0).to_numpy()
                    if c in b else np.zeros(len(b))) for c in (schema.HOUSEHOLDS, schema.POPULATION)}
        for c in cols:
            col = pd.to_numeric(out[c], errors="coerce").to_numpy(dtype=float)
            delta = np.zeros(len(out))
            src, dst = before_loc[moved], after_loc[moved]
            v = vals[c][moved]
            np.add.at(delta, dst[dst >= 0], v[dst >= 0])
            np.add.at(delta, src[src >= 0], -v[src >= 0])
            new = np.where(np.isnan(col), col, col + delta)
            out[c] = np.round(new).astype(np.int64) if pd.api.types.is_integer_dtype(
                out[c].dtype) else new
        if moved.any():
            df = pd.DataFrame({"src": before_loc[moved], "dst": after_loc[moved],
                               "hh": vals[schema.HOUSEHOLDS][moved],
                               "pop": vals[schema.POPULATION][moved]})
            for (s, d), grp in df.groupby(["src", "dst"], sort=True):
                sl = w.labels[s] if s >= 0 else ""
                dl = w.labels[d] if d >= 0 else ""
                w.add("move_households", (sl, dl), 0.0,
                      f"{len(grp)} building(s), {grp['hh'].sum():,.0f} households and "
                      f"{grp['pop'].sum():,.0f} residents moved from "
                      f"{'no grid' if s < 0 else 'grid ' + sl} to "
                      f"{'no grid' if d < 0 else 'grid ' + dl}",
                      households=float(grp["hh"].sum()), population=float(grp["pop"].sum()),
                      buildings=len(grp))
        return
    moved_area = any(c.action in ("resolve_overlap", "fill_gap", "clip_to_parent",
                                  "reattach_part") and c.area_m2 > 1.0 for c in w.log)
    for r, t in w.absorbed_into.items():
        while t in w.absorbed_into:
            t = w.absorbed_into[t]
        for c in cols:
            v = _attr(w.plan.gdf, c, r)
            if v:
                cur = pd.to_numeric(pd.Series([out[c].iloc[t]]), errors="coerce").iloc[0]
                out.loc[out.index[t], c] = (0 if pd.isna(cur) else cur) + v
    if moved_area:
        notes.append(_("households and residents of land moved between grids are unknown "
                       "without buildings: the grids' counts were not changed (give the buildings "
                       "to move them)"))
