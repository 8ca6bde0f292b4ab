"""Nesting: every grid inside the community it names (crossings, outside parts, wrong parent)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from .. import schema
from .._geometry import polygonal, widths
from ..i18n import tr
from ._text import short_number, wide
from .prepare import PreparedPlan
from .report import ERROR, WARNING, Finding

__all__ = ['check_nesting']


def check_nesting(plan: PreparedPlan, parents: gpd.GeoDataFrame, tol: Any) -> list[Finding]:
    """Nesting findings: unknown, wrong or crossed community, parts outside every one.

    Examples
    --------
    >>> check_nesting(plan, prepare_parents(communities, mcrs), tol)  # doctest: +SKIP
    """
    codes = parents[schema.CODE].to_numpy()
    pgeom = np.asarray(parents.geometry.array, dtype=object)
    pos = {c: i for i, c in reversed(list(enumerate(codes)))}
    ptree = shapely.STRtree(pgeom)
    out: list[Finding] = []
    rows = plan.uidx
    named = plan.named[rows]
    pidx = np.array([pos.get(c, -1) for c in named], dtype=int)
    for r in rows[pidx < 0]:
        what = (tr("grid {grid} names community {community}, which is not in the parent layer",
                   grid=plan.labels[r], community=plan.named[r]) if plan.named[r] else
                tr("grid {grid} names no community (no community_code, no code prefix)",
                   grid=plan.labels[r]))
        out.append(Finding("unknown_parent", ERROR, (plan.labels[r],), None, "",
                           what, geometry=plan.geom[r],
                           parent=plan.named[r] or None))
    known = pidx >= 0
    rows, pidx = rows[known], pidx[known]
    g = plan.geom[rows]
    shapely.prepare(pgeom)
    inside = shapely.covered_by(g, pgeom[pidx])
    rows, pidx, g = rows[~inside], pidx[~inside], g[~inside]
    if not len(rows):
        return out
    area = shapely.area(g)
    outside = polygonal(shapely.difference(g, pgeom[pidx]))
    out_area = shapely.area(outside)
    sel = out_area > tol.area_floor_m2
    rows, pidx, g, area, outside, out_area = (x[sel] for x in (rows, pidx, g, area, outside, out_area))
    # which other parents the outside parts fall in
    oi, oq = ptree.query(outside, predicate="intersects")
    cand: dict[int, list[int]] = defaultdict(list)
    for i, q in zip(oi, oq, strict=True):
        if q != pidx[i]:
            cand[i].append(q)
    for k, r in enumerate(rows):
        label, home = plan.labels[r], codes[pidx[k]]
        others = cand.get(k, [])
        pieces_in = [polygonal(np.array([shapely.intersection(outside[k], pgeom[q])]))[0]
                     for q in others]
        in_area = np.array([p.area for p in pieces_in]) if pieces_in else np.zeros(0)
        share_home = 1.0 - out_area[k] / area[k]
        if len(in_area) and in_area.max() > area[k] * share_home:
            best = others[int(np.argmax(in_area))]
            pct = 100.0 * in_area.max() / area[k]
            out.append(Finding(
                "wrong_parent", ERROR, (label,), round(100 * share_home, 1), "% in named community",
                tr("grid {grid} is under community {home} but {pct:.0f}% of it lies in "
                   "community {other}", grid=label, home=home, pct=pct, other=codes[best]),
                geometry=g[k], parent=home))
            continue
        for q, piece, a in zip(others, pieces_in, in_area, strict=True):
            if a <= tol.area_floor_m2:
                continue
            out.append(_piece_finding(
                "crosses_parent", label, home, piece, a, tol,
                tr("grid {grid} (community {home}) reaches {area} m² into community {other}",
                   grid=label, home=home, area=short_number(a), other=codes[q])))
        beyond = outside[k]
        if others:
            beyond = shapely.difference(beyond, shapely.union_all(pgeom[others]))
        beyond = polygonal(np.array([beyond]))[0]
        ba = beyond.area
        if ba > tol.area_floor_m2:
            out.append(_piece_finding(
                "outside_parent", label, home, beyond, ba, tol,
                tr("grid {grid} has {area} m² outside every community", grid=label,
                   area=short_number(ba))))
    return out


def _piece_finding(rule: str, label: Any, home: Any, piece: shapely.Geometry, area: float,
                   tol: Any, text: str) -> Finding:
    """Finding for a piece of a grid beyond its community: digitising noise (a warning) when it
    is narrower than the gap width or smaller than the outside-parent area, else an error."""
    w = float(widths(np.array([piece]), tol.gap_width_m, tol.width_rel)[0])
    noise = bool(w < tol.gap_width_m or area < tol.outside_parent_m2)
    msg = f"{text} ({wide(w, w < tol.gap_width_m)})"
    if noise:
        msg += "; below tolerance: digitising noise"
    return Finding(rule, WARNING if noise else ERROR, (label,), float(area), "m²", msg,
                   geometry=piece, parent=home, noise=noise, width_m=w)
