"""Contiguous regions with hard size bounds: recursive spanning-tree bisection + local search.

The problem: split a connected graph of units (each with one or more additive measures such as
households and population, an area and a perimeter) into ``k`` connected regions whose measure
totals lie in ``[lo, hi]``, preferring compact regions that do not straddle barriers.

Feasibility first. With every unit below ``hi``, a total ``T`` admits ``k`` regions only when
``ceil(T/hi) <= k <= floor(T/lo)``; ``k`` is chosen inside that range near ``T/target``.

Bisection (ReCom-style, as in GerryChain). A random spanning tree of the unit graph is drawn
(Kruskal on a random edge order); cutting one tree edge splits the units into two
connected sides. A cut is *feasible* when the sides can hold ``k1`` and ``k - k1`` regions, i.e.
each side's total lies in ``[k1·lo, k1·hi]`` (for every measure). Among the feasible cuts of a
few trees the best is taken — most compact sides (barrier-penalised Polsby–Popper, below) minus
a penalty on sides whose mean region size is far from the preferred size (they would have little
slack left for their own splits) — and both sides are split recursively, backtracking to the next best cut when a side cannot be
split. Subtree totals, and the exact area/perimeter of both sides of every candidate cut, are
computed in one vectorised pass over the tree's depth-first order.

Repair. When no feasible plan is found within the tree budget, the least-violating plan is
built and its out-of-bounds regions are repaired by recombination (ReCom moves): a bad region
is merged with one or two neighbours and the union re-split by the same bisection.

Local search. Units on region boundaries are moved to a neighbouring region when the move keeps
both regions connected and within bounds and raises the total score
``Σ 4πA / (P + α·B)²``, where ``P`` is the region's perimeter and ``B`` the length of barrier
(major road, river) boundaries *inside* the region. When no feasible plan was found the same
search first reduces the total bound violation.

Everything random comes from the ``numpy.random.Generator`` passed in, and every iteration order
is an array order, so results are reproducible for a seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

_EPS = 1e-9


@dataclass
class UnitGraph:
    """Units (nodes) and their shared boundaries (edges).

    Parameters
    ----------
    measures
        ``(n, m)`` additive measures (column 0 is the basis the lower bound applies to).
    area, perimeter
        Per unit, in metres.
    eu, ev
        Edge endpoints (``eu < ev``).
    length
        Shared boundary length of each edge.
    barrier
        Part of ``length`` that lies on a barrier (major road, river).
    """

    measures: np.ndarray
    area: np.ndarray
    perimeter: np.ndarray
    eu: np.ndarray
    ev: np.ndarray
    length: np.ndarray
    barrier: np.ndarray
    indptr: np.ndarray = field(init=False, repr=False)
    nbr: np.ndarray = field(init=False, repr=False)
    eid: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.measures = np.asarray(self.measures, dtype=float).reshape(len(self.area), -1)
        self.area = np.asarray(self.area, dtype=float)
        self.perimeter = np.asarray(self.perimeter, dtype=float)
        self.eu = np.asarray(self.eu, dtype=np.int64)
        self.ev = np.asarray(self.ev, dtype=np.int64)
        self.length = np.asarray(self.length, dtype=float)
        self.barrier = np.asarray(self.barrier, dtype=float)
        n = len(self.area)
        src = np.concatenate([self.eu, self.ev])
        dst = np.concatenate([self.ev, self.eu])
        eid = np.concatenate([np.arange(len(self.eu))] * 2)
        order = np.lexsort((dst, src))
        self.nbr = dst[order]
        self.eid = eid[order]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))])

    @property
    def n(self) -> int:
        """Number of units."""
        return len(self.area)

    def components(self, nodes: np.ndarray) -> list[np.ndarray]:
        """Connected components of the subgraph induced by ``nodes`` (sorted, deterministic)."""
        nodes = np.sort(np.asarray(nodes, dtype=np.int64))
        if len(nodes) == 0:
            return []
        local = np.full(self.n, -1, dtype=np.int64)
        local[nodes] = np.arange(len(nodes))
        mask = (local[self.eu] >= 0) & (local[self.ev] >= 0)
        a, b = local[self.eu[mask]], local[self.ev[mask]]
        mat = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(nodes), len(nodes)))
        ncomp, lab = connected_components(mat, directed=False)
        comps = [nodes[lab == c] for c in range(ncomp)]
        comps.sort(key=lambda c: int(c[0]))
        return comps


@dataclass(frozen=True)
class SizeRule:
    """Bounds on every measure (``lo``/``hi`` arrays) and the preferred basis size."""

    lo: np.ndarray
    hi: np.ndarray
    target: float

    def k_range(self, total: np.ndarray) -> tuple[int, float]:
        """``(kmin, kmax)``: region counts the totals admit (``kmax`` may be ``inf``)."""
        kmin, kmax = 1, math.inf
        for t, lo, hi in zip(total, self.lo, self.hi, strict=True):
            if np.isfinite(hi) and hi > 0:
                kmin = max(kmin, math.ceil(t / hi - _EPS))
            if lo > 0:
                kmax = min(kmax, math.floor(t / lo + _EPS))
        return kmin, kmax

    def violation(self, sums: np.ndarray) -> np.ndarray:
        """Relative distance of each row of ``sums`` (``(r, m)``) from the bounds (0 = within)."""
        sums = np.atleast_2d(sums)
        lo_scale = np.where(self.lo > 0, self.lo, 1.0)
        hi_scale = np.where(np.isfinite(self.hi) & (self.hi > 0), self.hi, 1.0)
        under = np.maximum(self.lo - sums, 0.0) / lo_scale
        over = np.where(np.isfinite(self.hi), np.maximum(sums - self.hi, 0.0), 0.0) / hi_scale
        return (under + over).sum(axis=1)


@dataclass(frozen=True)
class RegionOptions:
    """Tuning knobs of the region builder (defaults are what the benchmarks use)."""

    trees: int = 4
    """Spanning trees drawn per bisection before picking the best cut."""
    max_trees: int = 20
    """Trees drawn per bisection before giving up on finding a feasible cut."""
    backtrack: int = 4
    """Alternative cuts tried when a side cannot be split further."""
    budget: int = 40
    """Spanning trees per region to build (a component of ``k`` regions may draw
    ``budget * k + 100`` trees; bounds the search time)."""
    barrier_weight: float = 1.0
    """α in the score 4πA/(P + α·B)²; B = barrier length inside a region."""
    balance_weight: float = 1.0
    """Penalty on sides whose mean region size is far from the target (lost slack)."""
    max_passes: int = 40
    """Local-search passes over all units."""
    local_search: bool = True
    fallback: bool = True
    """When no feasible plan is found: build the least-violating plan (else return the
    component as one flagged region, which is cheaper when the caller will retry)."""


@dataclass
class Region:
    """One region of a plan: its units, and a flag/reason when it breaks the bounds."""

    nodes: np.ndarray
    flag: str = ""
    reason: str = ""
    cause: str = ""
    """Machine-readable reason: ``below_min``, ``no_feasible_count``, ``no_contiguous_split``,
    ``oversize`` (empty when the region is within bounds)."""


class _Sub:
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


def _random_tree(
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


def _score(area: np.ndarray, perim: np.ndarray, barrier: np.ndarray, alpha: float) -> np.ndarray:
    p = perim + alpha * barrier
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, 4.0 * np.pi * area / p**2, 0.0)


class _Bisector:
    def __init__(
        self, g: UnitGraph, rule: SizeRule, rng: np.random.Generator, opts: RegionOptions,
        relaxed: bool = False,
    ) -> None:
        self.g, self.rule, self.rng, self.opts = g, rule, rng, opts
        self.relaxed = relaxed
        self.trees_used = 0
        self.limit = opts.budget * 100 + 100

    def set_limit(self, k: int) -> None:
        """Tree budget for a component of ``k`` regions."""
        self.limit = self.trees_used + self.opts.budget * k + 100

    # -- one spanning tree -> candidate cuts -----------------------------------------------
    def _cuts(self, sub: _Sub, k: int) -> list[tuple[float, float, int, tuple]]:
        """Candidate cuts of one random spanning tree: (violation, -score, k1, side).

        ``side = (order, start, end)``: the in-side is ``order[start:end]`` (a subtree).
        """
        n = sub.n
        self.trees_used += 1
        order_l, pred_l = _random_tree(n, sub.eu_l, sub.ev_l, self.rng)
        if len(order_l) != n:  # not connected (callers pass connected node sets)
            return []
        order = np.asarray(order_l, dtype=np.int64)
        pos = np.empty(n, dtype=np.int64)
        pos[order] = np.arange(n)
        size_l = [1] * n
        for x in reversed(order_l[1:]):
            size_l[pred_l[x]] += size_l[x]
        size = np.asarray(size_l, dtype=np.int64)
        m_pre = np.vstack([np.zeros((1, sub.M.shape[1])), np.cumsum(sub.M[order], axis=0)])
        cand = order[1:]
        s_i = pos[cand]
        e_i = s_i + size[cand]
        Sc = m_pre[e_i] - m_pre[s_i]
        T = m_pre[-1]
        lo, hi = self.rule.lo, self.rule.hi
        k1 = np.arange(1, k)
        k2 = k - k1
        s1 = Sc[:, None, :]
        s2 = (T - Sc)[:, None, :]
        lo1, hi1 = k1[None, :, None] * lo, k1[None, :, None] * hi
        lo2, hi2 = k2[None, :, None] * lo, k2[None, :, None] * hi
        scale_lo = np.where(lo > 0, lo, 1.0)
        scale_hi = np.where(np.isfinite(hi) & (hi > 0), hi, 1.0)
        viol = (
            np.maximum(lo1 - s1, 0) / scale_lo
            + np.where(np.isfinite(hi1), np.maximum(s1 - hi1, 0), 0) / scale_hi
            + np.maximum(lo2 - s2, 0) / scale_lo
            + np.where(np.isfinite(hi2), np.maximum(s2 - hi2, 0), 0) / scale_hi
        ).sum(axis=2)  # (C, k-1)
        # slack: how far each side's mean region size is from the preferred size (basis) or
        # the balanced size T/k (other measures), relative
        # to the room the bounds leave (sides that will be split again need slack); every
        # measure with an upper bound counts, so secondary caps are kept in balance too
        mean = T / k
        mean[0] = self.rule.target  # the basis aims at the preferred size
        room = np.where(lo > 0, np.minimum(mean - lo, hi - mean), hi - mean)
        room = np.where(np.isfinite(room) & (room > 0), room, np.where(np.isfinite(hi), 1e-6,
                                                                       np.inf))
        room = np.maximum(room, 1e-6 * np.maximum(mean, 1.0))
        dev1 = (np.abs(s1 / k1[None, :, None] - mean) / room).max(axis=2)
        dev2 = (np.abs(s2 / k2[None, :, None] - mean) / room).max(axis=2)
        slack = np.where(k1[None, :] > 1, dev1, 0.0) + np.where(k2[None, :] > 1, dev2, 0.0)
        best_k1 = np.argmin(viol * 1e3 + slack, axis=1)
        rows = np.arange(len(cand))
        v = viol[rows, best_k1]
        slack = slack[rows, best_k1]
        keep = v <= v.min() + 1e-6 if self.relaxed else v <= 1e-9
        if not keep.any():
            return []
        cand, best_k1, v, slack = cand[keep], best_k1[keep] + 1, v[keep], slack[keep]
        s_i, e_i = s_i[keep], e_i[keep]
        if len(cand) > 24:  # score exactly only the cuts that leave the most slack
            pick = np.sort(np.argsort(slack + v * 1e3, kind="stable")[:24])
            cand, best_k1, v, slack = cand[pick], best_k1[pick], v[pick], slack[pick]
            s_i, e_i = s_i[pick], e_i[pick]
        pu, pv = pos[sub.eu][None, :], pos[sub.ev][None, :]
        si, ei = s_i[:, None], e_i[:, None]
        in_u = (pu >= si) & (pu < ei)
        in_v = (pv >= si) & (pv < ei)
        both_in = (in_u & in_v).astype(float)
        both_out = (~in_u & ~in_v).astype(float)
        a_pre = np.concatenate([[0.0], np.cumsum(sub.area[order])])
        p_pre = np.concatenate([[0.0], np.cumsum(sub.perim[order])])
        area_in = a_pre[e_i] - a_pre[s_i]
        per_in = p_pre[e_i] - p_pre[s_i]
        area_out = a_pre[-1] - area_in
        per_out = p_pre[-1] - per_in
        per_in = per_in - 2 * (both_in @ sub.length)
        per_out = per_out - 2 * (both_out @ sub.length)
        alpha = self.opts.barrier_weight
        sc = _score(area_in, per_in, both_in @ sub.barrier, alpha) + _score(
            area_out, per_out, both_out @ sub.barrier, alpha
        )
        sc = sc - self.opts.balance_weight * slack
        return [
            (float(v[c]), -float(sc[c]), int(best_k1[c]), (order, int(s_i[c]), int(e_i[c])))
            for c in range(len(cand))
        ]

    # -- recursive split ---------------------------------------------------------------------
    def split(self, nodes: np.ndarray, k: int) -> list[np.ndarray] | None:
        """Split ``nodes`` (connected, sorted) into ``k`` regions, or ``None`` on failure."""
        if k == 1:
            return [nodes]
        if k > len(nodes):
            return None
        sub = _Sub(self.g, nodes)
        cands: list[tuple[float, float, int, tuple]] = []
        drawn = 0
        while drawn < self.opts.max_trees and self.trees_used < self.limit:
            cands.extend(self._cuts(sub, k))
            drawn += 1
            if drawn >= self.opts.trees and cands:
                break
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
    opts: RegionOptions = RegionOptions(),
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
        if len(nd) == 1 or (total <= cap + _EPS).all():
            out.append(nd)
            continue
        sub = _Sub(g, nd)
        best = None
        for _ in range(max(opts.trees, 1)):
            order_l, pred_l = _random_tree(sub.n, sub.eu_l, sub.ev_l, rng)
            if len(order_l) != sub.n:
                break
            order = np.asarray(order_l, dtype=np.int64)
            pos = np.empty(sub.n, dtype=np.int64)
            pos[order] = np.arange(sub.n)
            size_l = [1] * sub.n
            for x in reversed(order_l[1:]):
                size_l[pred_l[x]] += size_l[x]
            size = np.asarray(size_l, dtype=np.int64)
            m_pre = np.vstack([np.zeros((1, sub.M.shape[1])), np.cumsum(sub.M[order], axis=0)])
            cand = order[1:]
            s_i = pos[cand]
            e_i = s_i + size[cand]
            S = m_pre[e_i] - m_pre[s_i]
            r1 = np.max(S / scale, axis=1)
            r2 = np.max((total - S) / scale, axis=1)
            parts = np.maximum(np.ceil(r1 - _EPS), 1) + np.maximum(np.ceil(r2 - _EPS), 1)
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


def recombine(
    g: UnitGraph,
    parts: list[np.ndarray],
    rule: SizeRule,
    rng: np.random.Generator,
    opts: RegionOptions = RegionOptions(),
    *,
    max_steps: int | None = None,
) -> list[np.ndarray]:
    """Repair out-of-bounds regions by recombination (ReCom moves).

    The worst region is merged with one or two neighbouring regions and the union is split
    again, by spanning-tree bisection, into as many regions (or the nearest count its total
    admits) within bounds. Repeats until every region is within bounds or no merge helps.
    """
    parts = [np.sort(p) for p in parts]
    stuck: set[bytes] = set()
    steps = max_steps if max_steps is not None else 10 * len(parts) + 10
    for _ in range(steps):
        sums = np.array([g.measures[p].sum(axis=0) for p in parts])
        viol = rule.violation(sums)
        bad = [i for i in np.argsort(-viol, kind="stable").tolist()
               if viol[i] > 1e-9 and parts[i].tobytes() not in stuck]
        if not bad:
            break
        r = bad[0]
        lab = np.full(g.n, -1, dtype=np.int64)
        for i, p in enumerate(parts):
            lab[p] = i
        lu, lv = lab[g.eu], lab[g.ev]
        cross = (lu >= 0) & (lv >= 0) & (lu != lv)
        a, b, ln = lu[cross], lv[cross], g.length[cross]
        nbrs: dict[int, dict[int, float]] = {}
        for x, y, w in zip(a.tolist(), b.tolist(), ln.tolist(), strict=True):
            nbrs.setdefault(x, {})[y] = nbrs.setdefault(x, {}).get(y, 0.0) + w
            nbrs.setdefault(y, {})[x] = nbrs.setdefault(y, {}).get(x, 0.0) + w
        ranked = {i: [j for j, _ in sorted(d.items(), key=lambda t: (-t[1], t[0]))]
                  for i, d in nbrs.items()}

        groups: list[tuple[int, ...]] = []
        seen: set[tuple[int, ...]] = set()
        near = ranked.get(r, [])
        for x in near:
            key = tuple(sorted((r, x)))
            if key not in seen:
                seen.add(key)
                groups.append(key)
        for x in near[:4]:
            for y in near[:4] + ranked.get(x, [])[:4]:
                if y in (r, x):
                    continue
                key = tuple(sorted((r, x, y)))
                if key not in seen:
                    seen.add(key)
                    groups.append(key)
        done = False
        for grp in groups[:16]:
            merged = np.sort(np.concatenate([parts[i] for i in grp]))
            total = g.measures[merged].sum(axis=0)
            kmin, kmax = rule.k_range(total)
            kmax = min(kmax, len(merged))
            if kmin > kmax:
                continue
            for m in sorted(range(kmin, int(kmax) + 1), key=lambda m: (abs(m - len(grp)), m))[:2]:
                bis = _Bisector(g, rule, rng, opts)
                bis.set_limit(m)
                res = bis.split(merged, m)
                if res is not None:
                    keep = [p for i, p in enumerate(parts) if i not in grp]
                    parts = keep + [np.sort(p) for p in res]
                    parts.sort(key=lambda p: int(p[0]))
                    done = True
                    break
            if done:
                break
        if not done:
            stuck.add(parts[r].tobytes())
    return parts


def _region_state(g: UnitGraph, labels: np.ndarray, regions: list[np.ndarray]):
    K = len(regions)
    m = g.measures.shape[1]
    S = np.zeros((K, m))
    A = np.zeros(K)
    P = np.zeros(K)
    B = np.zeros(K)
    cnt = np.zeros(K, dtype=np.int64)
    for r, nodes in enumerate(regions):
        S[r] = g.measures[nodes].sum(axis=0)
        A[r] = g.area[nodes].sum()
        P[r] = g.perimeter[nodes].sum()
        cnt[r] = len(nodes)
    lu, lv = labels[g.eu], labels[g.ev]
    internal = (lu == lv) & (lu >= 0)
    P -= 2 * np.bincount(lu[internal], weights=g.length[internal], minlength=K)
    B += np.bincount(lu[internal], weights=g.barrier[internal], minlength=K)
    return S, A, P, B, cnt


def local_search(
    g: UnitGraph,
    regions: list[np.ndarray],
    rule: SizeRule,
    rng: np.random.Generator,
    opts: RegionOptions = RegionOptions(),
) -> list[np.ndarray]:
    """Move boundary units between neighbouring regions to improve compactness.

    Moves keep every region connected and non-empty and never increase the total bound
    violation; among violation-neutral moves only those raising ``Σ 4πA/(P + α·B)²`` are taken.
    """
    if len(regions) < 2:
        return regions
    alpha = opts.barrier_weight
    lab = np.full(g.n, -1, dtype=np.int64)
    for r, nodes in enumerate(regions):
        lab[nodes] = r
    S, A, P, B, cnt = _region_state(g, lab, regions)
    labels = lab.tolist()
    members: list[set[int]] = [set(n.tolist()) for n in regions]
    nodes_all = np.sort(np.concatenate(regions))
    indptr, nbr, eid = g.indptr, g.nbr, g.eid
    length, barrier = g.length, g.barrier
    M, area, per = g.measures, g.area, g.perimeter

    def score(a, p, b):
        q = p + alpha * b
        return 4.0 * math.pi * a / (q * q) if q > 0 else 0.0

    def viol(s):
        return float(rule.violation(s[None, :])[0])

    def connected_without(r: int, u: int) -> bool:
        rest = members[r]
        start = None
        for j in range(indptr[u], indptr[u + 1]):
            v = int(nbr[j])
            if v in rest and v != u:
                start = v
                break
        if start is None:
            return False
        seen = {start, u}
        stack = [start]
        while stack:
            x = stack.pop()
            for j in range(indptr[x], indptr[x + 1]):
                y = int(nbr[j])
                if y not in seen and y in rest:
                    seen.add(y)
                    stack.append(y)
        return len(seen) == len(rest)

    for _ in range(opts.max_passes):
        moved = 0
        for u in rng.permutation(nodes_all).tolist():
            a = labels[u]
            if cnt[a] <= 1:
                continue
            contrib: dict[int, list[float]] = {}
            for j in range(indptr[u], indptr[u + 1]):
                v = int(nbr[j])
                r = labels[v]
                if r < 0:
                    continue
                e = int(eid[j])
                c = contrib.setdefault(r, [0.0, 0.0])
                c[0] += length[e]
                c[1] += barrier[e]
            if all(r == a for r in contrib):
                continue
            la, ba = contrib.get(a, (0.0, 0.0))
            sa_new = S[a] - M[u]
            aa_new = A[a] - area[u]
            pa_new = P[a] - per[u] + 2 * la
            ba_new = B[a] - ba
            va_old, va_new = viol(S[a]), viol(sa_new)
            sc_a_old = score(A[a], P[a], B[a])
            sc_a_new = score(aa_new, pa_new, ba_new)
            best = None
            for r in sorted(contrib):
                if r == a:
                    continue
                lr, br = contrib[r]
                sr_new = S[r] + M[u]
                dv = va_new + viol(sr_new) - va_old - viol(S[r])
                if dv > 1e-12:
                    continue
                pr_new = P[r] + per[u] - 2 * lr
                ar_new = A[r] + area[u]
                br_new = B[r] + br
                ds = sc_a_new + score(ar_new, pr_new, br_new) - sc_a_old - score(A[r], P[r], B[r])
                if dv < -1e-12 or ds > 1e-9:
                    key = (dv, -ds)
                    if best is None or key < best[0]:
                        best = (key, r, sr_new, ar_new, pr_new, br_new)
            if best is None or not connected_without(a, u):
                continue
            _, r, sr_new, ar_new, pr_new, br_new = best
            S[a], A[a], P[a], B[a] = sa_new, aa_new, pa_new, ba_new
            S[r], A[r], P[r], B[r] = sr_new, ar_new, pr_new, br_new
            cnt[a] -= 1
            cnt[r] += 1
            members[a].discard(u)
            members[r].add(u)
            labels[u] = r
            moved += 1
        if moved == 0:
            break
    return [np.array(sorted(mem), dtype=np.int64) for mem in members]


def choose_k(total: np.ndarray, rule: SizeRule, n_units: int) -> tuple[list[int], bool]:
    """Region counts to try (best first) and whether the totals admit a feasible count."""
    kmin, kmax = rule.k_range(total)
    kmax_n = min(kmax, n_units)
    target = max(rule.target, _EPS)
    k0 = max(1, int(round(total[0] / target)))
    if kmin <= kmax_n:
        ks = list(range(kmin, int(kmax_n) + 1))
        ks.sort(key=lambda k: (abs(k - total[0] / target), k))
        return ks, True
    # infeasible: least violation of an even split
    options = range(1, max(n_units, 1) + 1)
    best = min(
        options,
        key=lambda k: (float(rule.violation((total / k)[None, :])[0]) * k, abs(k - k0)),
    )
    return [best], False


def plan_component(
    g: UnitGraph,
    nodes: np.ndarray,
    rule: SizeRule,
    rng: np.random.Generator,
    opts: RegionOptions = RegionOptions(),
    *,
    k: int | None = None,
) -> list[Region]:
    """Split connected ``nodes`` into regions within ``rule`` (or the best plan found).

    Returns regions with ``flag``/``reason`` set when a region breaks the bounds:
    ``below_min_allowed`` (the whole component is below the minimum), ``out_of_range``
    (no feasible plan was found).
    """
    nodes = np.sort(np.asarray(nodes, dtype=np.int64))
    total = g.measures[nodes].sum(axis=0)
    if k is None and total[0] < rule.lo[0] - _EPS:
        return [Region(nodes, "below_min_allowed",
                       f"total {total[0]:.0f} below the minimum {rule.lo[0]:.0f} of one grid "
                       "(the whole community, or a piece of it cut off by special or locked "
                       "grids)", "below_min")]
    if k is not None:
        ks, feasible = [max(1, min(int(k), len(nodes)))], True
    else:
        ks, feasible = choose_k(total, rule, len(nodes))
    bis = _Bisector(g, rule, rng, opts)
    bis.set_limit(ks[0])
    parts = None
    if feasible:
        for kk in ks[:3]:
            parts = bis.split(nodes, kk)
            if parts is not None:
                break
            if bis.trees_used >= bis.limit:
                break
    if parts is None and feasible and not opts.fallback:
        return [Region(nodes, "out_of_range",
                       "no contiguous split within bounds found (unit sizes/adjacency)",
                       "no_contiguous_split")]
    if parts is None:
        # least-violating plan, then recombination of the regions out of bounds
        relaxed = _Bisector(g, rule, rng, opts, relaxed=True)
        relaxed.set_limit(ks[0])
        parts = relaxed.split(nodes, ks[0])
        if parts is None:  # cannot even form k connected parts
            parts = [nodes]
        parts = recombine(g, parts, rule, rng, opts)
    if opts.local_search:
        parts = local_search(g, parts, rule, rng, opts)
    regions = []
    for i, p in enumerate(parts):
        v = float(rule.violation(g.measures[p].sum(axis=0)[None, :])[0])
        if v > 1e-9:
            kmin, kmax = rule.k_range(total)
            if kmin > kmax:
                cause = "no_feasible_count"
                reason = (
                    f"community total {total[0]:.0f} admits no grid count: "
                    f"ceil(T/max)={kmin} > floor(T/min)={kmax}"
                )
            else:
                cause = "no_contiguous_split"
                reason = _explain(g, parts, i, rule)
            regions.append(Region(p, "out_of_range", reason, cause))
        else:
            regions.append(Region(p))
    return regions


def _explain(g: UnitGraph, parts: list[np.ndarray], i: int, rule: SizeRule) -> str:
    """Why region ``i`` is out of bounds, in words (for the report)."""
    p = parts[i]
    total = g.measures[p].sum(axis=0)
    lo, hi = rule.lo[0], rule.hi[0]
    sizes = sorted(g.measures[p, 0].round().astype(int).tolist(), reverse=True)
    shown = ", ".join(map(str, sizes[:6])) + (" …" if len(sizes) > 6 else "")
    lab = np.full(g.n, -1, dtype=np.int64)
    for j, q in enumerate(parts):
        lab[q] = j
    nb = set(lab[g.ev[lab[g.eu] == i]].tolist()) | set(lab[g.eu[lab[g.ev] == i]].tolist())
    nb = sorted(j for j in nb if j not in (i, -1))
    if total[0] < lo:
        sums = [float(g.measures[parts[j], 0].sum()) for j in nb]
        if sums and min(sums) + total[0] > hi:
            return (f"{total[0]:.0f} below the minimum {lo:.0f}, and joining any neighbouring "
                    f"grid ({', '.join(f'{x:.0f}' for x in sums)}) would pass the maximum "
                    f"{hi:.0f}; units: {shown}")
        return (f"{total[0]:.0f} below the minimum {lo:.0f}; no contiguous regrouping with "
                f"its neighbours was found; units: {shown}")
    return (f"{total[0]:.0f} above the maximum {hi:.0f}; its units ({shown}) cannot be "
            "regrouped with their neighbours into contiguous grids within bounds")


def plan_regions(
    g: UnitGraph,
    nodes: np.ndarray,
    rule: SizeRule,
    rng: np.random.Generator,
    opts: RegionOptions = RegionOptions(),
) -> list[Region]:
    """Regions over any node set: oversize units alone, then each connected component."""
    nodes = np.sort(np.asarray(nodes, dtype=np.int64))
    over = np.isfinite(rule.hi) & (g.measures[nodes] > rule.hi + _EPS)
    big = nodes[over.any(axis=1)]
    out = [
        Region(np.array([u]), "oversize_unit", "a single unit exceeds the maximum", "oversize")
        for u in big
    ]
    rest = nodes[~over.any(axis=1)]
    for comp in g.components(rest):
        out.extend(plan_component(g, comp, rule, rng, opts))
    return out
