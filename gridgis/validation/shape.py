"""Shape of each grid: detached pieces, pieces joined by a narrow neck, slivers."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from ..i18n import tr
from ._text import short_number
from .limits import SLIVER_THIN_MAX_FACTOR
from .prepare import PreparedPlan
from .report import ERROR, WARNING, Finding

__all__ = ['check_shape']


def _convex(g: np.ndarray) -> np.ndarray:
    """Polygons without holes whose every vertex is a vertex of their convex hull: convex, so
    shrinking them cannot cut them in pieces (no neck to look for)."""
    simple = (shapely.get_type_id(g) == 3) & (shapely.get_num_interior_rings(g) == 0)
    out = np.zeros(len(g), dtype=bool)
    idx = np.flatnonzero(simple)
    out[idx] = (shapely.get_num_coordinates(shapely.convex_hull(g[idx]))
                == shapely.get_num_coordinates(g[idx]))
    return out


def check_shape(plan: PreparedPlan, tol: Any) -> list[Finding]:
    """Shape findings: grids in pieces (or joined by a narrow neck) and sliver grids.

    Examples
    --------
    >>> check_shape(plan, load_rules().tolerances)  # doctest: +SKIP
    """
    out = []
    g = plan.geom[plan.uidx]
    nparts = shapely.get_num_geometries(g)
    area = shapely.area(g)
    for k in np.flatnonzero(nparts > 1):
        r = plan.uidx[k]
        parts = shapely.get_parts(g[k])
        parts = parts[shapely.area(parts) > tol.area_floor_m2]  # overlay residue is no piece
        if len(parts) < 2:
            continue
        pa = shapely.area(parts)
        order = np.argsort(-pa)
        rest = shapely.multipolygons(parts[order[1:]])
        sizes = ", ".join(short_number(x) for x in pa[order[1:]][:5])
        out.append(Finding(
            "multipart", ERROR, (plan.labels[r],), float(len(parts)), "parts",
            tr("grid {grid} is in {n} separate pieces (main piece {main} m², detached {sizes} m²)",
               grid=plan.labels[r], n=len(parts), main=short_number(pa[order[0]]), sizes=sizes),
            geometry=rest, parent=plan.named[r] or None))
    # single polygons whose lobes are joined only by a neck narrower than gap_width_m
    single = np.flatnonzero((nparts == 1) & ~_convex(g))
    if len(single) and tol.gap_width_m > 0:
        r_neck = tol.gap_width_m / 2.0
        opened = shapely.buffer(g[single], -r_neck, quad_segs=2)
        lobes, li = shapely.get_parts(opened, return_index=True)
        big = shapely.area(lobes) > tol.sliver_area_m2
        counts = np.bincount(li[big], minlength=len(single))
        for k in np.flatnonzero(counts > 1):
            r = plan.uidx[single[k]]
            mine = lobes[(li == k) & big]
            mine = mine[np.argsort(-shapely.area(mine))]
            rest = shapely.intersection(
                shapely.buffer(shapely.union_all(mine[1:]), r_neck * 1.5), g[single[k]])
            out.append(Finding(
                "multipart", WARNING, (plan.labels[r],), float(len(mine)), "parts",
                tr("grid {grid} is {n} pieces joined only by a neck narrower than {gap:g} m "
                   "(detached {area} m²)", grid=plan.labels[r], n=len(mine),
                   gap=tol.gap_width_m, area=short_number(rest.area)),
                geometry=rest, parent=plan.named[r] or None))
    perim = shapely.length(g)
    thin = np.where(perim > 0, 4 * np.pi * area / np.maximum(perim, 1e-12) ** 2, 1.0)
    tiny = area < tol.sliver_area_m2
    # thin AND small: an elongated grid of several hectares (along a river) is a planning choice
    skinny = (thin < tol.sliver_thinness) & (area < SLIVER_THIN_MAX_FACTOR * tol.sliver_area_m2)
    for k in np.flatnonzero(tiny | skinny):
        r = plan.uidx[k]
        if tiny[k]:
            msg = tr("grid {grid} is tiny: {area} m² (< {min:g} m²)", grid=plan.labels[r],
                     area=short_number(area[k]), min=tol.sliver_area_m2)
            measure, unit = float(area[k]), "m²"
        else:
            msg = tr("grid {grid} is a thin sliver: compactness {thin:.3f} (< {min:g}), {area} m²",
                     grid=plan.labels[r], thin=thin[k], min=tol.sliver_thinness,
                     area=short_number(area[k]))
            measure, unit = float(thin[k]), "compactness"
        out.append(Finding("sliver", ERROR, (plan.labels[r],), measure, unit, msg,
                           geometry=g[k], parent=plan.named[r] or None))
    return out
