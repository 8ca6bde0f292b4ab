"""Spanning-tree bisection: random trees, candidate cuts and the recursive split into regions.

A random spanning tree of the unit graph is drawn (Kruskal on a random edge order); cutting one
tree edge splits the units into two connected sides. :class:`Bisector` splits connected units
into ``k`` regions within bounds, :func:`split_below` halves them until every part is below a
cap (used to cut big blocks into units).
"""

from __future__ import annotations

import numpy as np

from .graph import DEFAULT_OPTIONS, EPS, RegionOptions, SizeRule, UnitGraph

__all__ = ["CUTS_PER_TREE", "Bisector", "Sub", "random_tree", "score", "split_below", "subtrees"]

#: cuts of one spanning tree scored exactly (area/perimeter of both sides), those with most slack
CUTS_PER_TREE = 24


class Sub:
    """Subgraph induced by a sorted node array, with local indices."""

    def __init__(self, g: UnitGraph, nodes: np.ndarray) -> None:
        self.nodes = nodes
        local = np.full(g.n, -1, dtype=np.int64)
        local[nodes] = np.arange(len(nodes))
        mask = (local[g.eu] >= 0) & (local[g.ev] >= 0)
        self.eu = local[g.eu[mask]]
        self.ev = local[g.ev[mask]]
        self.length = g.length[mask]
        self.barrier = g.barrier[mask]
        self.M = g.measures[nodes]
        self.area = g.area[nodes]
        self.perim = g.perimeter[nodes]
        self.n = len(nodes)
        self.eu_l = self.eu.tolist()
        self.ev_l = self.ev.tolist()


def random_tree(
    n: int, eu: list[int], ev: list[int], rng: np.random.Generator
) -> tuple[list[int], list[int]]:
    """Random spanning tree (Kruskal on a random edge order) in depth-first preorder.

    Returns ``(order, pred)``: the preorder from a random root and each node's parent (-1 for
    the root). ``order`` is shorter than ``n`` when the graph is not connected.
    """
    parent = list(range(n))
    adj: list[list[int]] = [[] for _ in range(n)]
    need = n - 1
    for e in rng.permutation(len(eu)).tolist():
        a, b = eu[e], ev[e]
        ra = a
        while parent[ra] != ra:
            parent[ra] = parent[parent[ra]]
            ra = parent[ra]
        rb = b
        while parent[rb] != rb:
            parent[rb] = parent[parent[rb]]
            rb = parent[rb]
        if ra == rb:
            continue
        parent[ra] = rb
        adj[a].append(b)
        adj[b].append(a)
        need -= 1
        if need == 0:
            break
    root = int(rng.integers(n))
    pred = [-1] * n
    seen = [False] * n
    seen[root] = True
    order = []
    stack = [root]
    while stack:
        x = stack.pop()
        order.append(x)
        for y in adj[x]:
            if not seen[y]:
                seen[y] = True
                pred[y] = x
                stack.append(y)
    return order, pred


def subtrees(sub: Sub, order_l: list[int], pred_l: list[int]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Subtrees of a spanning tree in preorder ``order_l`` (parents ``pred_l``).

    Returns ``(order, pos, start, end, m_pre)``: ``pos`` is the preorder position of every node;
    the subtree below the edge into ``order[i + 1]`` is ``order[start[i]:end[i]]``, and its
    measure totals are ``m_pre[end[i]] - m_pre[start[i]]``.
    """
    n = sub.n
    order = np.asarray(order_l, dtype=np.int64)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    size_l = [1] * n
    for x in reversed(order_l[1:]):
        size_l[pred_l[x]] += size_l[x]
    size = np.asarray(size_l, dtype=np.int64)
    m_pre = np.zeros((n + 1, sub.M.shape[1]))
    np.cumsum(sub.M[order], axis=0, out=m_pre[1:])
    cand = order[1:]
    s_i = pos[cand]
    return order, pos, s_i, s_i + size[cand], m_pre


def score(area: np.ndarray, perim: np.ndarray, barrier: np.ndarray, alpha: float) -> np.ndarray:
    """Barrier-penalised Polsby-Popper compactness ``4πA / (P + α·B)²``."""
    p = perim + alpha * barrier
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, 4.0 * np.pi * area / p**2, 0.0)


class Bisector:
    """Recursive bisection of connected units into ``k`` regions along random spanning-tree cuts."""

    def __init__(
        self, g: UnitGraph, rule: SizeRule, rng: np.random.Generator, opts: RegionOptions,
        relaxed: bool = False,
    ) -> None:
        self.g, self.rule, self.rng, self.opts = g, rule, rng, opts
        self.relaxed = relaxed
        self.trees_used = 0
        self.limit = opts.budget * 100 + 100
        self._bounds_cache: dict[int, tuple[np.ndarray, ...]] = {}

    def set_limit(self, k: int) -> None:
        """Tree budget for a component of ``k`` regions."""
        self.limit = self.trees_used + self.opts.budget * k + 100

    # -- a batch of spanning trees -> candidate cuts ------------------------------------------
    def _trees(self, sub: Sub, count: int) -> list[tuple] | None:
        """``count`` random spanning trees as :func:`subtrees` tuples (``None``: not connected)."""
        out = []
        for _ in range(count):
            self.trees_used += 1
            order_l, pred_l = random_tree(sub.n, sub.eu_l, sub.ev_l, self.rng)
            if len(order_l) != sub.n:  # callers pass connected node sets
                return None
            out.append(subtrees(sub, order_l, pred_l))
        return out

    def _bounds(self, k: int) -> tuple[np.ndarray, ...]:
        """Per side count ``k1 = 1 .. k-1``: ``k1``, ``k2`` and the bounds of both sides, with
        the measures' scales (cached per ``k``; an infinite maximum is a huge one)."""
        if k not in self._bounds_cache:
            lo = self.rule.lo
            hi = np.where(np.isfinite(self.rule.hi), self.rule.hi, 1e300)
            k1 = np.arange(1, k)
            k2 = k - k1
            self._bounds_cache[k] = (
                k1, k2, k1[None, :, None] * lo, k1[None, :, None] * hi,
                k2[None, :, None] * lo, k2[None, :, None] * hi,
                1.0 / np.where(lo > 0, lo, 1.0),
                1.0 / np.where(np.isfinite(self.rule.hi) & (self.rule.hi > 0), self.rule.hi, 1.0))
        return self._bounds_cache[k]

    def _violation(self, Sc: np.ndarray, T: np.ndarray, k: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Best side count ``k1`` of the cuts that may count, its bound violation and its lost
        slack, with the cuts' rows (all of them when relaxed, else those that some ``k1``
        keeps within the bounds).

        ``Sc`` holds the measure totals of the cut-off sides (``(C, m)``) of a set of ``k``
        regions with totals ``T``.
        """
        lo, hi = self.rule.lo, self.rule.hi
        k1, k2, lo1, hi1, lo2, hi2, inv_lo, inv_hi = self._bounds(k)
        s1 = Sc[:, None, :]
        s2 = (T - Sc)[:, None, :]
        viol = (
            (np.maximum(lo1 - s1, 0) + np.maximum(lo2 - s2, 0)) * inv_lo
            + (np.maximum(s1 - hi1, 0) + np.maximum(s2 - hi2, 0)) * inv_hi
        ).sum(axis=2)  # (C, k-1)
        if not self.relaxed:  # only cuts within the bounds count: the slack of those only
            rows = np.flatnonzero(viol.min(axis=1) <= 1e-9)
            viol, s1, s2 = viol[rows], s1[rows], s2[rows]
        else:
            rows = np.arange(len(Sc))
        # slack: how far each side's mean region size is from the preferred size (basis) or
        # the balanced size T/k (other measures), relative to the room the bounds leave (sides
        # that will be split again need slack); every measure with an upper bound counts, so
        # secondary caps are kept in balance too
        mean = T / k
        mean[0] = self.rule.target  # the basis aims at the preferred size
        room = np.where(lo > 0, np.minimum(mean - lo, hi - mean), hi - mean)
        room = np.where(np.isfinite(room) & (room > 0), room, np.where(np.isfinite(hi), 1e-6,
                                                                       np.inf))
        inv_room = 1.0 / np.maximum(room, 1e-6 * np.maximum(mean, 1.0))
        dev1 = (np.abs(s1 / k1[None, :, None] - mean) * inv_room).max(axis=2)
        dev2 = (np.abs(s2 / k2[None, :, None] - mean) * inv_room).max(axis=2)
        slack = np.where(k1[None, :] > 1, dev1, 0.0) + np.where(k2[None, :] > 1, dev2, 0.0)
        best = np.argmin(viol * 1e3 + slack, axis=1)
        at = np.arange(len(rows))
        return rows, best + 1, viol[at, best], slack[at, best]

    def _cuts(self, sub: Sub, k: int, count: int) -> list[tuple[float, float, int, tuple]]:
        """Candidate cuts of ``count`` random spanning trees: (violation, -score, k1, side).

        ``side = (order, start, end)``: the in-side is ``order[start:end]`` (a subtree of that
        tree). All trees are scored in one vectorised pass; of each tree only the
        :data:`CUTS_PER_TREE` cuts leaving the most slack are scored exactly.
        """
        trees = self._trees(sub, count)
        if trees is None:
            return []
        tree = np.repeat(np.arange(len(trees)), sub.n - 1)
        s_i = np.concatenate([t[2] for t in trees])
        e_i = np.concatenate([t[3] for t in trees])
        Sc = np.concatenate([t[4][t[3]] - t[4][t[2]] for t in trees])
        rows, k1_r, v_r, slack_r = self._violation(Sc, trees[0][4][-1], k)
        if len(rows) == 0:
            return []
        keep = v_r <= v_r.min() + 1e-6 if self.relaxed else v_r <= 1e-9
        if not keep.any():
            return []
        k1, v, slack = (np.zeros(len(Sc), dtype=np.int64), np.zeros(len(Sc)),
                        np.zeros(len(Sc)))
        k1[rows], v[rows], slack[rows] = k1_r, v_r, slack_r
        pick = rows[keep]
        # per tree, score exactly only the cuts that leave the most slack
        rank = np.lexsort((slack[pick] + v[pick] * 1e3, tree[pick]))
        pick = pick[rank]
        first = np.searchsorted(tree[pick], tree[pick], side="left")
        pick = np.sort(pick[np.arange(len(pick)) - first < CUTS_PER_TREE])
        tree, s_i, e_i, k1, v, slack = tree[pick], s_i[pick], e_i[pick], k1[pick], v[pick], \
            slack[pick]
        pos = np.stack([t[1] for t in trees])[tree]  # (C, n): preorder position of every node
        order = np.stack([t[0] for t in trees])
        si, ei = s_i[:, None], e_i[:, None]
        pu = np.take_along_axis(pos, np.broadcast_to(sub.eu, (len(pick), len(sub.eu))), 1)
        pv = np.take_along_axis(pos, np.broadcast_to(sub.ev, (len(pick), len(sub.ev))), 1)
        in_u = (pu >= si) & (pu < ei)
        in_v = (pv >= si) & (pv < ei)
        both_in = (in_u & in_v).astype(float)
        both_out = (~in_u & ~in_v).astype(float)
        zero = np.zeros((len(trees), 1))
        a_pre = np.hstack([zero, np.cumsum(sub.area[order], axis=1)])[tree]
        p_pre = np.hstack([zero, np.cumsum(sub.perim[order], axis=1)])[tree]
        rows = np.arange(len(pick))
        area_in = a_pre[rows, e_i] - a_pre[rows, s_i]
        per_in = p_pre[rows, e_i] - p_pre[rows, s_i]
        area_out = a_pre[:, -1] - area_in
        per_out = p_pre[:, -1] - per_in
        per_in = per_in - 2 * (both_in @ sub.length)
        per_out = per_out - 2 * (both_out @ sub.length)
        alpha = self.opts.barrier_weight
        sc = score(area_in, per_in, both_in @ sub.barrier, alpha) + score(
            area_out, per_out, both_out @ sub.barrier, alpha
        )
        sc = sc - self.opts.balance_weight * slack
        return [
            (float(v[c]), -float(sc[c]), int(k1[c]), (order[tree[c]], int(s_i[c]), int(e_i[c])))
            for c in range(len(pick))
        ]

    # -- recursive split ---------------------------------------------------------------------
    def split(self, nodes: np.ndarray, k: int) -> list[np.ndarray] | None:
        """Split ``nodes`` (connected, sorted) into ``k`` regions, or ``None`` on failure."""
        if k == 1:
            return [nodes]
        if k > len(nodes):
            return None
        sub = Sub(self.g, nodes)
        cands: list[tuple[float, float, int, tuple]] = []
        drawn = 0
        while drawn < self.opts.max_trees and self.trees_used < self.limit and not cands:
            # a first batch of ``trees`` trees, then more batches until a feasible cut shows
            count = min(max(self.opts.trees, 1), self.opts.max_trees - drawn,
                        self.limit - self.trees_used)
            cands.extend(self._cuts(sub, k, count))
            drawn += count
        if not cands:
            return None
        # best first: least violation, then best score; drop duplicate sides
        cands.sort(key=lambda c: (c[0], c[1]))
        seen: set[bytes] = set()
        tried = 0
        for _, _, k1, (order, s_i, e_i) in cands:
            mask = np.zeros(len(nodes), dtype=bool)
            mask[order[s_i:e_i]] = True
            key = np.packbits(mask if mask[0] else ~mask).tobytes()
            if key in seen:
                continue
            seen.add(key)
            left = self.split(nodes[mask], k1)
            if left is not None:
                right = self.split(nodes[~mask], k - k1)
                if right is not None:
                    return left + right
            tried += 1
            if tried >= self.opts.backtrack or self.trees_used >= self.limit:
                break
        return None


def split_below(
    g: UnitGraph,
    nodes: np.ndarray,
    cap: np.ndarray,
    rng: np.random.Generator,
    opts: RegionOptions = DEFAULT_OPTIONS,
) -> list[np.ndarray]:
    """Halve connected ``nodes`` recursively until every part is at most ``cap``.

    Used to cut big blocks into units: each step takes, over a few random spanning trees, the
    tree cut that needs the fewest parts below ``cap`` on both sides (then the most balanced
    one). A single node above ``cap`` stays a part of its own. Always succeeds.
    """
    cap = np.asarray(cap, dtype=float)
    scale = np.where(np.isfinite(cap) & (cap > 0), cap, np.inf)
    out: list[np.ndarray] = []
    stack = [np.sort(np.asarray(nodes, dtype=np.int64))]
    while stack:
        nd = stack.pop()
        total = g.measures[nd].sum(axis=0)
        if len(nd) == 1 or (total <= cap + EPS).all():
            out.append(nd)
            continue
        sub = Sub(g, nd)
        best = None
        for _ in range(max(opts.trees, 1)):
            order_l, pred_l = random_tree(sub.n, sub.eu_l, sub.ev_l, rng)
            if len(order_l) != sub.n:
                break
            order, _, s_i, e_i, m_pre = subtrees(sub, order_l, pred_l)
            S = m_pre[e_i] - m_pre[s_i]
            r1 = np.max(S / scale, axis=1)
            r2 = np.max((total - S) / scale, axis=1)
            parts = np.maximum(np.ceil(r1 - EPS), 1) + np.maximum(np.ceil(r2 - EPS), 1)
            imbalance = np.abs(r1 - r2)
            i = int(np.lexsort((imbalance, parts))[0])
            key = (float(parts[i]), float(imbalance[i]))
            if best is None or key < best[0]:
                best = (key, order[s_i[i] : e_i[i]])
        if best is None:  # not connected: keep as is
            out.append(nd)
            continue
        mask = np.zeros(sub.n, dtype=bool)
        mask[best[1]] = True
        stack.append(nd[~mask])
        stack.append(nd[mask])
    out.sort(key=lambda a: int(a[0]))
    return out

