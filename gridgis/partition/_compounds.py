"""Compounds whole: the units holding one compound (小区) or village group become one unit.

A managed residential compound is one grid (一个有物业管理的小区划分为一个网格), and rural grids
are drawn by village group (村民小组). Blocks over the maximum are already cut around their
compounds (:func:`._unitize.cut_groups`); a compound that a street or a community line cuts into
several units is joined here: neighbouring units holding the same compound merge while the
compound and the merged unit stay within the community's maximum.

A compound above the maximum is cut along its own buildings into as few pieces as the rule
allows (:func:`compound_pieces`): ``ceil(T / max)`` contiguous pieces of its building cells,
balanced and within ``[min, max]`` when they can be, each piece one unit. Two pieces never fit
in one grid, so the compound ends in exactly that many grids.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .. import schema
from ..i18n import tr
from ..validation.compounds import fewest_grids
from ._graphs import local_graph, strong_graph
from ._prepare import Inputs, caps_of
from .graph import EPS, RegionOptions, SizeRule, UnitGraph
from .regions import plan_component, split_below

__all__ = ["PLAIN", "common_label", "compound_pieces", "join_compounds", "oversize_cells",
           "report_compounds", "straddling"]

#: extra pieces at which a compound above the maximum is planned building by building (each of
#: its cells a unit of its own, gathered afterwards by :mod:`._gather`): the builder tries
#: ``0 .. PLAIN - 1`` extra pieces in a community whose plan fails, then this
PLAIN = 1


def _find(parent: np.ndarray, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = int(parent[x])
    return x


def join_compounds(bunit: np.ndarray, group: np.ndarray, bmeas: np.ndarray, unit_cap: np.ndarray,
                   pairs: tuple[np.ndarray, np.ndarray], n_units: int) -> np.ndarray:
    """New unit of every unit after joining the units that share a compound.

    Parameters
    ----------
    bunit, group, bmeas
        Per building: its unit (``-1`` when none), compound label and measures.
    unit_cap
        Per unit: the maximum of its community (per measure).
    pairs
        Neighbouring units ``(u, v)``.

    Examples
    --------
    >>> join_compounds(np.array([0, 1, 2]), np.array([7, 7, 8]), np.array([[10.0], [20.0], [5.0]]),
    ...                np.array([[50.0]] * 3), (np.array([0, 1]), np.array([1, 2])), 3).tolist()
    [0, 0, 1]
    """
    parent = np.arange(n_units)
    ok = bunit >= 0
    tot = np.zeros((n_units, bmeas.shape[1]))
    np.add.at(tot, bunit[ok], bmeas[ok])
    gid, ginv = np.unique(group[ok], return_inverse=True)
    gtot = np.zeros((len(gid), bmeas.shape[1]))
    np.add.at(gtot, ginv, bmeas[ok])
    # units of every compound present in several units
    key = np.unique(ginv.astype(np.int64) * n_units + bunit[ok])
    g_of, u_of = key // n_units, key % n_units
    multi = np.bincount(g_of, minlength=len(gid)) > 1
    members: dict[int, set[int]] = {}
    for g, u in zip(g_of.tolist(), u_of.tolist(), strict=True):
        if multi[g]:
            members.setdefault(g, set()).add(u)
    pu, pv = pairs
    for g in sorted(members):
        units = members[g]
        if (gtot[g] > unit_cap[min(units)] + 1e-9).any():
            continue  # a compound above the maximum is cut along its own buildings instead
        for u, v in zip(pu.tolist(), pv.tolist(), strict=True):
            if u not in units or v not in units:
                continue
            ru, rv = _find(parent, u), _find(parent, v)
            if ru != rv and ((tot[ru] + tot[rv]) <= unit_cap[u] + 1e-9).all():
                parent[rv] = ru
                tot[ru] += tot[rv]
    roots = np.array([_find(parent, u) for u in range(n_units)], dtype=np.int64)
    _, new = np.unique(roots, return_inverse=True)
    return new.astype(np.int64)


def oversize_cells(bcell: np.ndarray, group: np.ndarray, bmeas: np.ndarray, cell_cap: np.ndarray,
                   n_cells: int) -> np.ndarray:
    """Compound of every cell that holds buildings of one compound above the maximum, else -1.

    Parameters
    ----------
    bcell, group, bmeas
        Per building: its cell (``-1`` when none), compound label (negative: none) and
        measures ``(households, population)``.
    cell_cap
        Per cell: the maximum of its community (per measure).

    Examples
    --------
    >>> oversize_cells(np.array([0, 1, 2, 2]), np.array([5, 5, 6, 5]),
    ...                np.array([[30.0, 0], [30.0, 0], [5.0, 0], [5.0, 0]]),
    ...                np.full((3, 2), 50.0), 3).tolist()
    [5, 5, -1]
    """
    placed = bcell >= 0
    label = np.full(len(bcell), -1, dtype=np.int64)
    ok = placed & (group >= 0)
    if ok.any():
        gid, ginv = np.unique(group[ok], return_inverse=True)
        gtot = np.zeros((len(gid), bmeas.shape[1]))
        np.add.at(gtot, ginv, bmeas[ok])
        big = (gtot[ginv] > cell_cap[bcell[ok]] + 1e-9).any(axis=1)
        label[ok] = np.where(big, gid[ginv], -1)
    # a cell counts when every building in it belongs to the same oversize compound
    return common_label(bcell[placed], label[placed], n_cells)


def straddling(group: np.ndarray, bblock: np.ndarray, bmeas: np.ndarray,
               block_comm: np.ndarray, block_cap: np.ndarray) -> np.ndarray:
    """Per building: its compound when the compound fits in one grid but lies in several
    blocks of one community (a street runs through it), else -1.

    Such a compound is cut out of each of its blocks, so that its parts become units of their
    own that :func:`join_compounds` can join across the street.

    Parameters
    ----------
    group, bblock, bmeas
        Per building: compound label (negative: none), block (``-1``: none) and measures.
    block_comm, block_cap
        Per block: its community and the maximum there (per measure).

    Examples
    --------
    >>> straddling(np.array([5, 5, 6, 6, -1]), np.array([0, 1, 1, 1, 1]),
    ...            np.array([[10.0, 0], [10.0, 0], [5.0, 0], [5.0, 0], [1.0, 0]]),
    ...            np.array([0, 0]), np.full((2, 2), 50.0)).tolist()
    [5, 5, -1, -1, -1]
    """
    out = np.full(len(group), -1, dtype=np.int64)
    ok = (group >= 0) & (bblock >= 0)
    if not ok.any():
        return out
    gid, ginv = np.unique(group[ok], return_inverse=True)
    ginv = ginv.reshape(-1)
    blk = bblock[ok]
    # blocks per compound (the fewest and the most, by index), communities per compound
    first = np.full(len(gid), np.iinfo(np.int64).max)
    last = np.full(len(gid), -1)
    np.minimum.at(first, ginv, blk)
    np.maximum.at(last, ginv, blk)
    comm = block_comm[blk]
    c_lo = np.full(len(gid), np.iinfo(np.int64).max)
    c_hi = np.full(len(gid), -1)
    np.minimum.at(c_lo, ginv, comm)
    np.maximum.at(c_hi, ginv, comm)
    tot = np.zeros((len(gid), bmeas.shape[1]))
    np.add.at(tot, ginv, bmeas[ok])
    cap = block_cap[np.maximum(first, 0)] if len(block_cap) else np.zeros_like(tot)
    fits = ~(tot > cap + 1e-9).any(axis=1)
    keep = (first != last) & (c_lo == c_hi) & fits
    out[np.flatnonzero(ok)] = np.where(keep[ginv], gid[ginv], -1)
    return out


def common_label(owner: np.ndarray, label: np.ndarray, n: int) -> np.ndarray:
    """Per owner ``0..n-1``: the label all its items share when it is not negative, else -1.

    Examples
    --------
    >>> common_label(np.array([0, 0, 1, 1, 2]), np.array([4, 4, 4, 5, -1]), 4).tolist()
    [4, -1, -1, -1]
    """
    lo = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n, -1, dtype=np.int64)
    np.minimum.at(lo, owner, label)
    np.maximum.at(hi, owner, label)
    return np.where((lo == hi) & (hi >= 0), hi, -1)


def _fewest(local: UnitGraph, comp: np.ndarray, rule: SizeRule, rng: np.random.Generator,
            opts: RegionOptions, extra: int) -> list[np.ndarray]:
    """Connected ``comp`` in ``ceil(T / max) + extra`` contiguous pieces within the maximum
    (balanced, and within the minimum too when the total allows it); more when no such split
    is found."""
    total = local.measures[comp].sum(axis=0)
    kmin, _ = rule.k_range(total)
    strict = dataclasses.replace(opts, fallback=False)
    for k in range(kmin + extra, min(len(comp), kmin + extra + 2) + 1):
        if k <= 1:
            return [comp]
        los = [rule.lo] if (rule.lo * k <= total + EPS).all() else []
        for lo in [*los, np.zeros_like(rule.lo)]:
            r = SizeRule(lo=lo, hi=rule.hi, target=float(total[0]) / k)
            parts = plan_component(local, comp, r, rng, strict, k=k)
            if not any(p.flag for p in parts):
                return [p.nodes for p in parts]
    return split_below(local, comp, rule.hi, rng, opts)


def compound_pieces(g: UnitGraph, nodes: np.ndarray, cell_group: np.ndarray, rule: SizeRule,
                    rng: np.random.Generator, opts: RegionOptions, min_contact: float,
                    extra: int = 0) -> tuple[list[tuple[np.ndarray, str]], np.ndarray]:
    """Cells of the oversize compounds among ``nodes`` cut into the fewest pieces.

    Every connected set of one compound's cells is split into ``ceil(T / max) + extra``
    contiguous pieces (more only when no such split exists; every cell alone from ``extra`` of
    :data:`PLAIN`); a cell above the maximum (one building over it) stays alone and is flagged
    ``oversize_building``.

    Parameters
    ----------
    g
        Graph of the cells (measures in the rule's columns).
    nodes
        Cells of one block.
    cell_group
        Per cell: its oversize compound (:func:`oversize_cells`), ``-1`` for none.
    rule
        Size rule of the community.
    min_contact
        Contacts shorter than this do not join cells (a neck).
    extra
        Pieces beyond the fewest (smaller pieces leave the rest of the community more room).

    Returns
    -------
    pieces, rest
        ``(cells, flag)`` of every piece, and the cells of ``nodes`` in no oversize compound.

    Examples
    --------
    >>> from gridgis.partition.regions import UnitGraph
    >>> g = UnitGraph.chain([200, 200, 200, 200, 50])
    >>> rule = SizeRule(lo=np.array([300.0]), hi=np.array([500.0]), target=400.0)
    >>> pieces, rest = compound_pieces(g, np.arange(5), np.array([3, 3, 3, 3, -1]), rule,
    ...                                np.random.default_rng(0), RegionOptions(), 0.0)
    >>> sorted(p.tolist() for p, _ in pieces), rest.tolist()
    ([[0, 1], [2, 3]], [4])
    """
    nodes = np.asarray(nodes, dtype=np.int64)
    grp = cell_group[nodes]
    pieces: list[tuple[np.ndarray, str]] = []
    for gid in np.unique(grp[grp >= 0]).tolist():
        mine = nodes[grp == gid]
        local = strong_graph(local_graph(g, mine), min_contact, 0.0)
        over = (local.measures > rule.hi + EPS).any(axis=1)
        pieces += [(mine[[i]], "oversize_building") for i in np.flatnonzero(over)]
        if extra >= PLAIN:  # building by building
            pieces += [(mine[[i]], "") for i in np.flatnonzero(~over)]
            continue
        for comp in local.components(np.flatnonzero(~over)):
            pieces += [(mine[p], "") for p in _fewest(local, comp, rule, rng, opts, extra)]
    return pieces, nodes[grp < 0]


def _why(ci: int, need: int, extra: dict[int, int], loose: list[int], failed: set[int]
         ) -> str:
    """Why a compound lies in more grids than it needs (``failed``: communities with a grid
    out of range for want of a contiguous split)."""
    if ci in failed:
        return tr("the community has no plan within the rule even with its compounds cut "
                  "(its grids out of range say why)")
    if ci in loose and need == 1:
        return tr("no plan within the rule keeps every compound of this community whole; of "
                  "the plans searched, each keeping all compounds but one or the cut ones "
                  "whole, this one cuts the fewest")
    if ci in loose:
        return tr("no plan within the rule keeps the compounds of this community whole, so "
                  "they were cut like the rest of their blocks")
    if extra.get(ci, 0) >= PLAIN:
        return tr("no plan within the rule was found with the compound cut into {need} pieces "
                  "of its own buildings, so its buildings were planned one by one and gathered "
                  "as far as moves within the rule reach", need=need)
    return tr("its buildings lie in parts that streets, lanes, a community line or other "
              "buildings separate, and the builder plans each part as a unit of its own")


def report_compounds(inp: Inputs, bgrid: np.ndarray, records: list[dict],
                     extra: dict[int, int], loose: list[int], proven: list[int] = ()) -> int:
    """Report (``compound_split``) every compound in more grids than it needs
    (:func:`gridgis.validation.compounds.fewest_grids`), with
    the reason, and once each community of ``loose`` where one was; returns how many
    compounds.

    Parameters
    ----------
    inp
        Inputs of the run (buildings with ``compound_id``, measures, rules per community).
    bgrid
        Grid of every building (``-1``: unplaced).
    records
        Every grid's record (its community ``ci``).
    extra, loose, proven
        Extra pieces per community, communities where compounds were cut, and those of them
        where an exhaustive search proved that no plan keeps every compound whole
        (:class:`._grouping.Grouping`).

    Examples
    --------
    >>> report_compounds(inp, bgrid, asm.records, grouping.extra, grouping.loose,
    ...                  grouping.proven)                                  # doctest: +SKIP
    0
    """
    if schema.COMPOUND_ID not in inp.bld.columns or len(bgrid) == 0:
        return 0
    comp = inp.bld[schema.COMPOUND_ID].astype("string").fillna("").str.strip()
    ok = (comp != "").to_numpy() & (bgrid >= 0)
    frame = pd.DataFrame({"c": comp.to_numpy(dtype=object)[ok], "g": bgrid[ok]})
    meas = inp.bmeas[ok]
    n = 0
    cut: set[int] = set()  # loose communities where a compound was cut
    failed = {int(r["ci"]) for r in records if r["flag"] == "out_of_range"}
    for cid, rows in frame.groupby("c", sort=True).indices.items():
        grids = np.unique(frame["g"].to_numpy()[rows])
        ci = int(records[grids[0]]["ci"])
        cap = np.asarray(caps_of(inp.rules_by_comm[ci]), dtype=float)
        need = fewest_grids({schema.HOUSEHOLDS: meas[rows, 0], schema.POPULATION: meas[rows, 1]},
                            {schema.HOUSEHOLDS: cap[0], schema.POPULATION: cap[1]})
        if len(grids) <= need:
            continue
        if ci in loose and ci not in cut:
            cut.add(ci)
            inp.report.add("community", inp.codes[ci], inp.codes[ci], "compound_split",
                           tr("no plan within the rule keeps every compound whole (an "
                              "exhaustive search of the community's units proves it): "
                              "compounds may be cut") if ci in proven else
                           tr("no plan within the rule keeps every compound whole: compounds "
                              "may be cut"))
        inp.report.add("compound", cid, inp.codes[ci], "compound_split",
                       tr("in {n} grids where {need} would hold it: {why}", n=len(grids),
                          need=need, why=_why(ci, need, extra, loose, failed)))
        n += 1
    return n
