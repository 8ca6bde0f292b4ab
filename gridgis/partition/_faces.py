"""Face helpers of the builder: components, unions and relabelling of arrangement faces."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .._geometry import Arrangement

__all__ = ["absorb_detached", "attach_orphans", "best_neighbour", "face_components",
           "pair_totals", "strongest_link", "union_faces"]


def face_components(arr: Arrangement, lab: np.ndarray) -> np.ndarray:
    """Connected components of faces with equal ``lab`` (>= 0); -1 elsewhere."""
    e = arr.edges
    ok = (lab[e.i] == lab[e.j]) & (lab[e.i] >= 0)
    n = len(lab)
    mat = coo_matrix((np.ones(int(ok.sum())), (e.i[ok], e.j[ok])), shape=(n, n))
    _, comp = connected_components(mat, directed=False)
    comp = comp.astype(np.int64)
    comp[lab < 0] = -1
    return comp


def pair_totals(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(src, dst)`` pairs (ids below ``n``), sorted, with the sum of their ``weight``.

    >>> [a.tolist() for a in pair_totals(np.array([1, 0, 1]), np.array([0, 1, 0]),
    ...                                  np.array([1.0, 2.0, 3.0]), 2)]
    [[0, 1], [1, 0], [2.0, 4.0]]
    """
    uk, inv = np.unique(src * n + dst, return_inverse=True)
    return uk // n, uk % n, np.bincount(inv.reshape(-1), weights=weight)


def strongest_link(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int) -> np.ndarray:
    """For each of ``n`` items, the ``dst`` of its ``src`` rows with the largest ``weight``
    (ties: the lowest ``dst``); -1 for items that are no ``src``.

    >>> strongest_link(np.array([0, 0, 2]), np.array([1, 2, 0]), np.array([1.0, 3.0, 1.0]), 3)
    array([ 2, -1,  0])
    """
    out = np.full(n, -1, dtype=np.int64)
    if len(src):
        order = np.lexsort((dst, -weight, src))
        src, dst = src[order], dst[order]
        first = np.r_[True, src[1:] != src[:-1]]
        out[src[first]] = dst[first]
    return out


def union_faces(faces: np.ndarray) -> shapely.Geometry:
    """Union of faces of one arrangement (coverage union; overlay union as a fallback)."""
    try:
        return shapely.coverage_union_all(faces)
    except shapely.errors.GEOSException:  # pragma: no cover - degenerate faces
        return shapely.union_all(faces)


def absorb_detached(arr: Arrangement, lab: np.ndarray, same: np.ndarray, keep: np.ndarray
                    ) -> np.ndarray:
    """Move the detached pieces of a label (faces not connected to the label's largest piece,
    none of them in ``keep``: without buildings) to the touching label (equal ``same``) they
    share most boundary with, whatever their size: a label in two parts would make a grid in
    two parts."""
    comp = face_components(arr, lab)
    valid = comp >= 0
    if not valid.any():
        return lab
    n_comp = int(comp.max()) + 1
    c_area = np.bincount(comp[valid], weights=arr.area[valid], minlength=n_comp)
    c_lab = np.full(n_comp, -1, dtype=np.int64)
    c_lab[comp[valid]] = lab[valid]
    c_keep = np.zeros(n_comp, dtype=bool)
    c_keep[comp[valid & keep]] = True
    # largest piece of every label stays
    order = np.lexsort((-c_area, c_lab))
    first = np.concatenate([[True], c_lab[order][1:] != c_lab[order][:-1]])
    main = np.zeros(n_comp, dtype=bool)
    main[order[first]] = True
    move = ~main & ~c_keep & (c_lab >= 0)
    if not move.any():
        return lab
    lab = lab.copy()
    src, dst, ln = arr.edges.both_ways()
    ok = valid[src] & move[np.maximum(comp[src], 0)] & (lab[dst] >= 0) & \
        (lab[dst] != lab[src]) & (same[src] == same[dst])
    if not ok.any():
        return lab
    kc, kl, tot = pair_totals(comp[src[ok]], lab[dst[ok]], ln[ok], int(lab.max()) + 1)
    target = strongest_link(kc, kl, tot, n_comp)
    moved = valid & (target[np.maximum(comp, 0)] >= 0)
    lab[moved] = target[comp[moved]]
    return lab


def best_neighbour(arr: Arrangement, which: np.ndarray, same: np.ndarray) -> np.ndarray:
    """For faces in ``which``: the neighbour (not in ``which``, equal ``same`` key) sharing the
    longest boundary, following chains of ``which`` faces; -1 when there is none."""
    src, dst, ln = arr.edges.both_ways()
    keep = (same[src] == same[dst]) & (same[src] >= 0)
    src, dst, ln = src[keep], dst[keep], ln[keep]
    ok = which[src] & ~which[dst]
    out = strongest_link(src[ok], dst[ok], ln[ok], len(which))
    # micro faces touching only other micro faces: follow them
    return _spread(out, which, src, dst, ln, rounds=10)


def attach_orphans(arr: Arrangement, lab: np.ndarray, need: np.ndarray, same: np.ndarray
                    ) -> np.ndarray:
    """Give faces with ``need & lab < 0`` the label of the neighbour (equal ``same``) they share
    the longest boundary with; repeated until no orphan has a labelled neighbour."""
    src, dst, ln = arr.edges.both_ways()
    keep = same[src] == same[dst]
    return _spread(lab.copy(), need, src[keep], dst[keep], ln[keep], rounds=100)


def _spread(values: np.ndarray, need: np.ndarray, src: np.ndarray, dst: np.ndarray,
            ln: np.ndarray, rounds: int) -> np.ndarray:
    """Give ``need`` items with ``values < 0`` the value of the ``dst`` they are linked to most
    strongly among those with a value, for up to ``rounds`` rounds (in place)."""
    for _ in range(rounds):
        ok = need[src] & (values[src] < 0) & (values[dst] >= 0)
        if not ok.any():
            break
        link = strongest_link(src[ok], dst[ok], ln[ok], len(values))
        hit = np.flatnonzero(link >= 0)
        values[hit] = values[link[hit]]
    return values
