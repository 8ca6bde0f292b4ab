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

import numpy as np

from ..i18n import tr
from ._bisect import Bisector, split_below
from .graph import DEFAULT_OPTIONS, EPS, Region, RegionOptions, SizeRule, UnitGraph

__all__ = [
    "Region",
    "RegionOptions",
    "SizeRule",
    "UnitGraph",
    "choose_k",
    "local_search",
    "plan_component",
    "plan_regions",
    "recombine",
    "split_below",
]


def recombine(
    g: UnitGraph,
    parts: list[np.ndarray],
    rule: SizeRule,
    rng: np.random.Generator,
    opts: RegionOptions = DEFAULT_OPTIONS,
    *,
    max_steps: int | None = None,
) -> list[np.ndarray]:
    """Repair out-of-bounds regions by recombination (ReCom moves).

    The worst region is merged with one or two neighbouring regions and the union is split
    again, by spanning-tree bisection, into as many regions (or the nearest count its total
    admits) within bounds. Repeats until every region is within bounds or no merge helps.

    Examples
    --------
    >>> import numpy as np
    >>> g = UnitGraph.chain([10, 10, 10, 10])
    >>> rule = SizeRule(lo=np.array([15.0]), hi=np.array([25.0]), target=20.0)
    >>> parts = recombine(g, [np.array([0]), np.array([1, 2, 3])], rule, np.random.default_rng(0))
    >>> sorted(len(p) for p in parts)
    [2, 2]
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
                bis = Bisector(g, rule, rng, opts)
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
    opts: RegionOptions = DEFAULT_OPTIONS,
) -> list[np.ndarray]:
    """Move boundary units between neighbouring regions to improve compactness.

    Moves keep every region connected and non-empty and never increase the total bound
    violation; among violation-neutral moves only those raising ``Σ 4πA/(P + α·B)²`` are taken.

    Examples
    --------
    >>> import numpy as np
    >>> g = UnitGraph.chain([10, 10, 10, 10])
    >>> rule = SizeRule(lo=np.array([15.0]), hi=np.array([25.0]), target=20.0)
    >>> out = local_search(g, [np.array([0, 1]), np.array([2, 3])], rule, np.random.default_rng(0))
    >>> [p.tolist() for p in out]
    [[0, 1], [2, 3]]
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

    viol = rule.violation_of

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
    """Region counts to try (best first) and whether the totals admit a feasible count.

    Examples
    --------
    >>> import numpy as np
    >>> rule = SizeRule(lo=np.array([15.0]), hi=np.array([25.0]), target=20.0)
    >>> choose_k(np.array([40.0]), rule, 4)
    ([2], True)
    """
    kmin, kmax = rule.k_range(total)
    kmax_n = min(kmax, n_units)
    target = max(rule.target, EPS)
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
    opts: RegionOptions = DEFAULT_OPTIONS,
    *,
    k: int | None = None,
) -> list[Region]:
    """Split connected ``nodes`` into regions within ``rule`` (or the best plan found).

    Returns regions with ``flag``/``reason`` set when a region breaks the bounds:
    ``below_min_allowed`` (the whole component is below the minimum), ``out_of_range``
    (no feasible plan was found).

    Examples
    --------
    >>> import numpy as np
    >>> g = UnitGraph.chain([10, 10, 10, 10])
    >>> rule = SizeRule(lo=np.array([15.0]), hi=np.array([25.0]), target=20.0)
    >>> sorted(r.nodes.tolist() for r in plan_component(g, np.arange(4), rule, np.random.default_rng(0)))
    [[0, 1], [2, 3]]
    """
    nodes = np.sort(np.asarray(nodes, dtype=np.int64))
    total = g.measures[nodes].sum(axis=0)
    if k is None and total[0] < rule.lo[0] - EPS:
        return [Region(nodes, "below_min_allowed",
                       tr("total {total:.0f} below the minimum {lo:.0f} of one grid (the whole "
                          "community, or a piece of it cut off by special or locked grids)",
                          total=total[0], lo=rule.lo[0]), "below_min")]
    if k is not None:
        ks, feasible = [max(1, min(int(k), len(nodes)))], True
    else:
        ks, feasible = choose_k(total, rule, len(nodes))
    bis = Bisector(g, rule, rng, opts)
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
                       tr("no contiguous split within bounds found (unit sizes/adjacency)"),
                       "no_contiguous_split")]
    if parts is None:
        # least-violating plan, then recombination of the regions out of bounds
        relaxed = Bisector(g, rule, rng, opts, relaxed=True)
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
                reason = tr("community total {total:.0f} admits no grid count: "
                            "ceil(T/max)={kmin} > floor(T/min)={kmax}",
                            total=total[0], kmin=kmin, kmax=kmax)
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
            return tr("{total:.0f} below the minimum {lo:.0f}, and joining any neighbouring "
                      "grid ({sums}) would pass the maximum {hi:.0f}; units: {units}",
                      total=total[0], lo=lo, sums=", ".join(f"{x:.0f}" for x in sums), hi=hi,
                      units=shown)
        return tr("{total:.0f} below the minimum {lo:.0f}; no contiguous regrouping with its "
                  "neighbours was found; units: {units}", total=total[0], lo=lo, units=shown)
    return tr("{total:.0f} above the maximum {hi:.0f}; its units ({units}) cannot be regrouped "
              "with their neighbours into contiguous grids within bounds", total=total[0], hi=hi,
              units=shown)


def plan_regions(
    g: UnitGraph,
    nodes: np.ndarray,
    rule: SizeRule,
    rng: np.random.Generator,
    opts: RegionOptions = DEFAULT_OPTIONS,
) -> list[Region]:
    """Regions over any node set: oversize units alone, then each connected component.

    Examples
    --------
    >>> import numpy as np
    >>> g = UnitGraph.chain([10, 10, 10, 10])
    >>> rule = SizeRule(lo=np.array([15.0]), hi=np.array([25.0]), target=20.0)
    >>> sorted(r.nodes.tolist() for r in plan_regions(g, np.arange(4), rule, np.random.default_rng(0)))
    [[0, 1], [2, 3]]
    """
    nodes = np.sort(np.asarray(nodes, dtype=np.int64))
    over = np.isfinite(rule.hi) & (g.measures[nodes] > rule.hi + EPS)
    big = nodes[over.any(axis=1)]
    out = [
        Region(np.array([u]), "oversize_unit", tr("a single unit exceeds the maximum"),
               "oversize")
        for u in big
    ]
    rest = nodes[~over.any(axis=1)]
    for comp in g.components(rest):
        out.extend(plan_component(g, comp, rule, rng, opts))
    return out

