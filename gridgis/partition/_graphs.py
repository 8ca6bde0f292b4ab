"""Unit graphs of the builder: graphs of face groups, their sub-graphs and digests."""

from __future__ import annotations

import hashlib

import numpy as np

from .._geometry import Arrangement
from .blocks import group_perimeter
from .regions import UnitGraph

__all__ = ["contract_graph", "graph_key", "group_graph", "local_graph", "strong_graph"]


def group_graph(
    arr: Arrangement,
    lab: np.ndarray,
    n: int,
    measures: np.ndarray,
    pair_barrier: np.ndarray,
    same: np.ndarray,
) -> UnitGraph:
    """Graph of face groups ``lab`` (edges only between faces with equal ``same`` key)."""
    e = arr.edges
    li, lj = lab[e.i], lab[e.j]
    ok = (li >= 0) & (lj >= 0) & (li != lj) & (same[e.i] == same[e.j])
    a, b = np.minimum(li[ok], lj[ok]), np.maximum(li[ok], lj[ok])
    key = a * n + b
    uk, inv = np.unique(key, return_inverse=True)
    length = np.bincount(inv, weights=e.length[ok], minlength=len(uk))
    barrier = np.bincount(inv, weights=pair_barrier[ok], minlength=len(uk))
    valid = lab >= 0
    area = np.bincount(lab[valid], weights=arr.area[valid], minlength=n)
    per = group_perimeter(lab, arr, n)
    return UnitGraph(measures, area, per, uk // n, uk % n, length, barrier)


def strong_graph(g: UnitGraph, min_contact: float, lo: float) -> UnitGraph:
    """Drop contacts shorter than ``min_contact`` (grids joined by a neck), except where that
    would leave a piece too small for a grid of its own (its short contacts are kept)."""
    weak = g.length < min_contact
    if not weak.any():
        return g
    keep = ~weak
    strong = UnitGraph(g.measures, g.area, g.perimeter, g.eu[keep], g.ev[keep], g.length[keep],
                       g.barrier[keep])
    small = np.zeros(g.n, dtype=bool)
    for comp in strong.components(np.arange(g.n)):
        if g.measures[comp, 0].sum() < lo:
            small[comp] = True
    keep |= weak & (small[g.eu] | small[g.ev])
    return UnitGraph(g.measures, g.area, g.perimeter, g.eu[keep], g.ev[keep], g.length[keep],
                     g.barrier[keep])


def local_graph(g: UnitGraph, nodes: np.ndarray) -> UnitGraph:
    """Sub-graph of ``nodes`` (renumbered 0..len(nodes)-1)."""
    local = np.full(g.n, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    m = (local[g.eu] >= 0) & (local[g.ev] >= 0)
    return UnitGraph(g.measures[nodes], g.area[nodes], g.perimeter[nodes], local[g.eu[m]],
                     local[g.ev[m]], g.length[m], g.barrier[m])


def graph_key(ci: int, g: UnitGraph) -> bytes:
    """Digest of a community's unit graph (plans of unchanged graphs are reused)."""
    h = hashlib.blake2b(str(ci).encode(), digest_size=16)
    for a in (g.measures, g.area, g.perimeter, g.eu, g.ev, g.length, g.barrier):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.digest()


def contract_graph(g: UnitGraph, label: np.ndarray) -> tuple[UnitGraph, np.ndarray]:
    """``g`` with the nodes of each ``label >= 0`` merged into one node, and the new node of
    every old node (nodes labelled ``-1`` stay alone).

    Examples
    --------
    >>> chain = UnitGraph.chain([1, 2, 3, 4])
    >>> merged, owner = contract_graph(chain, np.array([-1, 5, 5, -1]))
    >>> owner.tolist(), merged.measures[:, 0].tolist(), merged.eu.tolist(), merged.ev.tolist()
    ([0, 1, 1, 2], [1.0, 5.0, 4.0], [0, 1], [1, 2])
    """
    key = np.where(label >= 0, label, -1 - np.arange(g.n))
    _, owner = np.unique(key, return_inverse=True)
    # keep the nodes' order: a merged node takes the place of its first member
    first = np.full(int(owner.max()) + 1, g.n, dtype=np.int64)
    np.minimum.at(first, owner, np.arange(g.n))
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    owner = rank[owner.reshape(-1)]
    n = len(first)
    ou, ov = owner[g.eu], owner[g.ev]
    inner = ou == ov
    per = np.bincount(owner, weights=g.perimeter, minlength=n)
    per -= 2 * np.bincount(ou[inner], weights=g.length[inner], minlength=n)
    a, b = np.minimum(ou[~inner], ov[~inner]), np.maximum(ou[~inner], ov[~inner])
    uk, inv = np.unique(a * n + b, return_inverse=True)
    meas = np.stack([np.bincount(owner, weights=g.measures[:, k], minlength=n)
                     for k in range(g.measures.shape[1])], axis=1)
    return UnitGraph(meas, np.bincount(owner, weights=g.area, minlength=n), per, uk // n, uk % n,
                     np.bincount(inv, weights=g.length[~inner], minlength=len(uk)),
                     np.bincount(inv, weights=g.barrier[~inner], minlength=len(uk))), owner
