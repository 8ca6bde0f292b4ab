"""Codes: form, duplicates, community prefix and west→east, north→south serial order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from .. import schema
from ..codes import load_scheme, parse_codes
from ..i18n import tr
from ._order import out_of_order
from .prepare import PreparedPlan
from .report import ERROR, WARNING, Finding

__all__ = ['check_codes']


def check_codes(plan: PreparedPlan, scheme: Any, has_community: bool, kinds: np.ndarray,
                 known_kinds: set[str]) -> list[Finding]:
    """Codes against the code scheme (:class:`gridgis.codes.CodeScheme`, default 12 + 3 digits,
    basic serials 001–899, special 900–999).

    Examples
    --------
    >>> check_codes(plan, None, True, grid_kinds(plan.gdf), {BASIC})  # doctest: +SKIP
    """
    sch = load_scheme(scheme)
    out: list[Finding] = []
    codes, named = plan.codes, plan.named
    n = len(codes)
    parsed = parse_codes(codes, sch)
    valid = parsed["valid"].to_numpy(dtype=bool)
    comm = _texts(parsed[schema.COMMUNITY_CODE])
    serial = parsed["serial"].to_numpy(dtype=float, na_value=np.nan)
    rkey = _texts(parsed["range_key"])
    kind_keys = {k: sch.range_key(k) for k in pd.unique(kinds)}
    want_key = np.array([kind_keys[k] for k in kinds], dtype=object) if n else kinds
    # a known kind numbered in the range of another kind (ranges compared once per key pair)
    check = valid & np.isin(kinds, list(known_kinds))
    pair = pd.MultiIndex.from_arrays([rkey[check], want_key[check]])
    other = [p for p in pair.unique() if _differ(sch, *p)]
    wrong = np.zeros(n, dtype=bool)
    wrong[np.flatnonzero(check)[pair.isin(other)]] = True
    wellformed = (codes != "") & valid & ~wrong

    def geom_of(r: int):
        return plan.geom[r] if plan.usable[r] else None

    width = sch.parent_length + len(sch.separator) + sch.serial_width
    for r in np.flatnonzero(~wellformed):
        c = codes[r]
        if not c:
            why = tr("grid {grid} has no code", grid=plan.labels[r])
        elif not valid[r]:
            ranges = ", ".join(f"{k} {v.prefix}{v.start:0{sch.serial_width}d}–"
                               f"{v.prefix}{v.stop:0{sch.serial_width}d}"
                               for k, v in sch.ranges.items())
            why = tr("grid {grid} has code '{code}', which is not a {digits}-digit community "
                     "code followed by a serial ({width} characters; {ranges})",
                     grid=plan.labels[r], code=c, digits=sch.parent_length, width=width,
                     ranges=ranges)
        else:
            rng = sch.ranges[want_key[r]]
            why = tr("grid {grid} has code '{code}' with a serial of the {range} range, but its "
                     "kind '{kind}' is numbered {start}–{stop}", grid=plan.labels[r], code=c,
                     range=rkey[r], kind=kinds[r],
                     start=f"{rng.prefix}{rng.start:0{sch.serial_width}d}",
                     stop=f"{rng.prefix}{rng.stop:0{sch.serial_width}d}")
        out.append(Finding("code_malformed", ERROR, (plan.labels[r],), None, "",
                           why, geometry=geom_of(r),
                           parent=named[r] or None))
    s = pd.Series(codes)
    dup = s[(s != "") & s.duplicated(keep=False)]
    for code, grp in dup.groupby(dup, sort=True):
        rows = grp.index.to_numpy()
        geoms = [plan.geom[r] for r in rows if plan.usable[r]]
        out.append(Finding("code_duplicate", ERROR, (str(code),), float(len(rows)), "grids",
                           tr("code {code} is used by {n} grids (rows {rows})", code=code,
                              n=len(rows), rows=", ".join(map(str, rows[:6]))),
                           geometry=shapely.union_all(geoms) if geoms else None,
                           parent=named[rows[0]] or None))
    if has_community:
        for r in np.flatnonzero(wellformed & (named != "") & (comm != named)):
            out.append(Finding(
                "code_prefix", ERROR, (plan.labels[r],), None, "",
                tr("grid {grid} has code prefix {prefix} but community_code {community}",
                   grid=plan.labels[r], prefix=comm[r], community=named[r]),
                geometry=geom_of(r), parent=named[r]))
    # serial order: inside a community and a serial range, a grid clearly north-west of another
    # must carry the lower serial (true of any west→east, north→south reading order); checked
    # by sorting (:mod:`._order`), not by pairing
    ok = wellformed & plan.usable & ~s.duplicated(keep=False).to_numpy()
    out += _serial_order(plan, np.flatnonzero(ok), comm, serial, rkey, sch)
    return out


def _texts(values: pd.Series) -> np.ndarray:
    """A column of texts with ``""`` for missing values, as an object array."""
    values = values.astype(object)
    return values.where(values.notna(), "").to_numpy(dtype=object)


def _differ(sch: Any, have: str, want: str) -> bool:
    """The serial range ``have`` is not the range ``want`` (both keys of the scheme)."""
    return have != want and sch.ranges[have] != sch.ranges[want]


def _serial_order(plan: PreparedPlan, rows: np.ndarray, comm: np.ndarray, serial: np.ndarray,
                  rkey: np.ndarray, sch: Any) -> list[Finding]:
    """One ``code_order`` warning per community whose serials break the reading order."""
    if len(rows) < 2:
        return []
    cen = shapely.centroid(plan.geom[rows])
    x, y = shapely.get_x(cen), shapely.get_y(cen)
    prefix = comm[rows]
    tag = {k: f"|{v.prefix}|{v.start}" for k, v in sch.ranges.items()}
    pool = (pd.Series(prefix) + pd.Series(rkey[rows]).map(tag)).to_numpy(dtype=object)
    size = pd.Series(np.sqrt(shapely.area(plan.geom[rows])))
    margin = np.maximum(1.0, 0.1 * size.groupby(prefix).transform("median").to_numpy())
    early, late = out_of_order(pool, serial[rows], x, y, margin)
    flagged = early | late
    out: list[Finding] = []
    for p in sorted(set(prefix[flagged])):
        mine = np.flatnonzero(prefix == p)
        a = mine[early[mine]][0]
        same = mine[pool[mine] == pool[a]]
        # an example pair: the later grid furthest north-west of the earliest flagged one
        b_all = same[(serial[rows[same]] > serial[rows[a]]) & (x[same] < x[a] - margin[a])
                     & (y[same] > y[a] + margin[a])]
        b = b_all[np.argmax(y[b_all] - x[b_all])]
        bad = rows[mine[flagged[mine]]]
        involved = sorted(plan.labels[r] for r in bad)
        out.append(Finding(
            "code_order", WARNING, tuple(involved), float(len(bad)), "grids",
            tr("community {community}: serials are not west→east, north→south — e.g. grid {b} "
               "lies north-west of grid {a} but has the higher serial ({n} grids out of order)",
               community=p, b=plan.labels[rows[b]], a=plan.labels[rows[a]], n=len(bad)),
            geometry=shapely.union_all(plan.geom[bad]), parent=p))
    return out
