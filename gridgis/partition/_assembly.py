"""Assembly step of :func:`gridgis.partition.build_grids`: grids as unions of faces.

Grids are unions of faces (``shapely.coverage_union_all``), so the grids of a community tile
it exactly and neighbouring grids share vertices. Basic grids come from the planned units,
special grids from the faces of each special site (one grid per connected part), locked grids
from their own faces.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from .. import schema
from ..i18n import tr
from ._faces import face_components, union_faces
from ._grouping import Grouping
from ._prepare import Inputs, Report

__all__ = ["Assembly", "assemble_grids", "blank", "report_outside"]



def blank(value: Any) -> bool:
    """Missing or empty cell."""
    return value is None or (not isinstance(value, str) and bool(pd.isna(value))) or value == ""


def report_outside(rep: Report, item: str, geoms: np.ndarray, ids: pd.Series,
                    comm_idx: np.ndarray, codes: np.ndarray, cgeoms: np.ndarray) -> None:
    """Report features that reach outside their community (the outside part is ignored)."""
    for i, g in enumerate(geoms):
        ci = comm_idx[i]
        if ci < 0:
            rep.add(item, ids.iloc[i], "", "outside_communities", tr("not inside any community"))
            continue
        out_area = float(shapely.area(shapely.difference(g, cgeoms[ci])))
        if out_area > 1.0:
            rep.add(item, ids.iloc[i], codes[ci], "crosses_community",
                    tr("{area:.1f} m² outside community {community} left to that land",
                       area=out_area, community=codes[ci]))


class Assembly:
    """Grid records (community index, kind, flag, geometry …) and the grid of every face."""

    def __init__(self, inp: Inputs, grouping: Grouping) -> None:
        self.inp = inp
        self.units = grouping.units
        self.records: list[dict[str, Any]] = []
        self.face_grid = np.full(len(self.units.arr.faces), -1, dtype=np.int64)
        face_unit, n_units = self.units.face_unit, self.units.n_units
        self.unit_grid = np.full(n_units, -1, dtype=np.int64)
        self.unit_faces = np.argsort(face_unit, kind="stable")
        fu_sorted = face_unit[self.unit_faces]
        self.starts = np.searchsorted(fu_sorted, np.arange(n_units))
        self.ends = np.searchsorted(fu_sorted, np.arange(n_units), side="right")

    def faces_of_unit(self, u: int) -> np.ndarray:
        """Faces of unit ``u``."""
        return self.unit_faces[self.starts[u]:self.ends[u]]

    def add_grid(self, faces_idx: np.ndarray, ci: int, kind: str, flag: str, extra: dict) -> int:
        """Add the grid made of faces ``faces_idx``; its position."""
        gi = len(self.records)
        self.face_grid[faces_idx] = gi
        geom = union_faces(self.units.arr.faces[faces_idx])
        self.records.append({"ci": ci, "kind": kind, "flag": flag, "geometry": geom, **extra})
        return gi

    def add_basic(self, grid_units: list) -> None:
        """Basic grids: the faces of each planned grid's units."""
        for ci, members, flag, reason, cause in grid_units:
            fidx = np.sort(np.concatenate([self.faces_of_unit(u) for u in members]))
            gi = self.add_grid(fidx, ci, schema.BASIC, flag, {"reason": reason, "cause": cause or flag})
            self.unit_grid[members] = gi

    def add_special(self) -> None:
        """Special grids: faces of each site within its community, one grid per connected part."""
        inp, rep = self.inp, self.inp.report
        sites, codes = inp.sites, inp.codes
        if sites is None:
            return
        f_site, face_comm = self.units.labels.site, self.units.labels.comm
        comp = face_components(self.units.arr, f_site)
        site_ids = sites[schema.SITE_ID] if schema.SITE_ID in sites.columns else pd.Series(
            sites.index, index=sites.index)
        kinds_ok = set(inp.rules.special.kinds)
        done_sites = set()
        for cid in np.unique(comp[comp >= 0]).tolist():
            fidx = np.flatnonzero(comp == cid)
            si = int(f_site[fidx[0]])
            ci = int(face_comm[fidx[0]])
            row = sites.iloc[si]
            kind = str(row[schema.KIND]).strip()
            extra = {"site": si, "site_name": row.get(schema.NAME, None)}
            flag = "" if kind in kinds_ok else "unknown_kind"
            if si in done_sites:
                rep.add("site", site_ids.iloc[si], codes[ci], "site_in_several_parts",
                        tr("each connected part is a special grid of its own"))
            done_sites.add(si)
            self.add_grid(fidx, ci, kind, flag, extra)
            if flag:
                rep.add("site", site_ids.iloc[si], codes[ci], "unknown_kind",
                        tr("kind {kind!r} is not in rules.special.kinds {kinds}", kind=kind,
                           kinds=sorted(kinds_ok)))
        site_comm = inp.site_comm
        for si in range(len(sites)):
            if si not in done_sites:
                rep.add("site", site_ids.iloc[si], codes[site_comm[si]] if site_comm[si] >= 0
                        else "", "site_not_placed",
                        tr("no land of the site lies in its community (or a locked grid "
                          "covers it)"))
        report_outside(rep, "site", inp.site_geoms, site_ids, site_comm, codes, inp.cgeoms)

    def add_locked(self) -> None:
        """Locked grids: their faces as they are."""
        inp, rep, lock = self.inp, self.inp.report, self.inp.lock
        if lock is None:
            return
        f_lock, face_comm = self.units.labels.lock, self.units.labels.comm
        tol = inp.rules.tolerances
        for li in range(len(lock)):
            fidx = np.flatnonzero(f_lock == li)
            row = lock.iloc[li]
            code = str(row[schema.GRID_CODE])
            if len(fidx) == 0:
                rep.add("locked", code, "", "locked_not_placed",
                        tr("the grid covers no land of its community (or another locked grid "
                          "does)"))
                continue
            ci = int(face_comm[fidx[0]])
            kind, flag, name = (row.get(c) for c in (schema.KIND, schema.FLAG, schema.GRID_NAME))
            self.add_grid(fidx, ci, schema.BASIC if blank(kind) else str(kind),
                          "" if blank(flag) else str(flag),
                          {"locked": li, "grid_code": code,
                           "grid_name": None if blank(name) else name})
            area_in = float(np.sum(self.units.arr.area[fidx]))
            area_all = float(shapely.area(inp.lock_geoms[li]))
            if area_all - area_in > max(tol.outside_parent_m2, 1e-6 * area_all):
                rep.add("locked", code, inp.codes[ci], "locked_clipped",
                        tr("{area:.1f} m² outside its community or under another locked grid "
                           "were rebuilt", area=area_all - area_in))


def assemble_grids(inp: Inputs, grouping: Grouping) -> Assembly:
    """Basic, special and locked grids of a run (in this order).

    Examples
    --------
    >>> asm = assemble_grids(inp, group_into_grids(lw, blocks))             # doctest: +SKIP
    >>> len(asm.records) >= len(grouping.grid_units)                        # doctest: +SKIP
    True
    """
    asm = Assembly(inp, grouping)
    asm.add_basic(grouping.grid_units)
    asm.add_special()
    asm.add_locked()
    return asm
