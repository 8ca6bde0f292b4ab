"""Compounds whole: the units holding one compound (小区) or village group become one unit.

A managed residential compound is one grid (一个有物业管理的小区划分为一个网格), and rural grids
are drawn by village group (村民小组). Blocks over the maximum are already cut around their
compounds (:func:`._unitize.cut_groups`); a compound that a street or a community line cuts into
several units is joined here: neighbouring units holding the same compound merge while the
compound and the merged unit stay within the community's maximum.
"""

from __future__ import annotations

import numpy as np

__all__ = ["join_compounds"]


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
