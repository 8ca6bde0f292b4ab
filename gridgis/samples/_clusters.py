"""Growing contiguous clusters of blocks (communities, streets) of about equal weight."""

from __future__ import annotations

import heapq

import numpy as np
import shapely
from shapely import Polygon

__all__ = ["components", "fill_enclaves", "grow", "kmeans_seeds", "partition"]


def grow(allowed: np.ndarray, nbrs: list[list[int]], weight: np.ndarray, pos: np.ndarray,
          seeds: list[int], labels: np.ndarray) -> np.ndarray:
    """Balanced region growing: the lightest region takes its free neighbour (``allowed`` and
    unlabelled) nearest to its seed, until no region can grow. ``labels`` (-1 = free) is
    updated in place and returned."""
    k0 = labels.max() + 1 if (labels >= 0).any() else 0
    totals = {}
    frontier: dict[int, set[int]] = {}
    heap: list[tuple[float, int]] = []
    for r, s in enumerate(seeds):
        lab = k0 + r
        labels[s] = lab
        totals[lab] = float(weight[s])
        frontier[lab] = set(nbrs[s])
        heap.append((totals[lab], lab))
    heapq.heapify(heap)
    seed_of = {k0 + r: s for r, s in enumerate(seeds)}
    while heap:
        t, lab = heapq.heappop(heap)
        cand = sorted(j for j in frontier[lab] if labels[j] < 0 and allowed[j])
        if not cand:
            continue
        sp = pos[seed_of[lab]]
        dist = [((pos[j][0] - sp[0]) ** 2 + (pos[j][1] - sp[1]) ** 2, j) for j in cand]
        j = min(dist)[1]
        labels[j] = lab
        totals[lab] += float(weight[j])
        frontier[lab].update(nbrs[j])
        heapq.heappush(heap, (totals[lab], lab))
    return labels


def kmeans_seeds(idx: np.ndarray, pos: np.ndarray, weight: np.ndarray, k: int) -> list[int]:
    """k well-spread seed items of ``idx``: weighted Lloyd iterations from a farthest-point start."""
    p = pos[idx]
    w = weight[idx] + 1e-9
    centre = (p * w[:, None]).sum(0) / w.sum()
    first = int(np.argmax(((p - centre) ** 2).sum(1)))
    chosen = [first]
    for _ in range(1, k):
        d = np.min(((p[:, None, :] - p[chosen][None, :, :]) ** 2).sum(-1), axis=1)
        chosen.append(int(np.argmax(d)))
    cent = p[chosen].astype(float)
    for _ in range(25):
        lab = np.argmin(((p[:, None, :] - cent[None]) ** 2).sum(-1), axis=1)
        for c in range(k):
            m = lab == c
            if m.any():
                cent[c] = (p[m] * w[m, None]).sum(0) / w[m].sum()
    seeds: list[int] = []
    for c in range(k):
        order = np.argsort(((p - cent[c]) ** 2).sum(1), kind="stable")
        for o in order:
            if int(idx[o]) not in seeds:
                seeds.append(int(idx[o]))
                break
    return seeds


def components(items: np.ndarray, nbrs: list[list[int]]) -> list[np.ndarray]:
    """Connected components of ``items`` in the neighbour graph (sorted, deterministic)."""
    member = set(items.tolist())
    seen: set[int] = set()
    comps = []
    for s in sorted(member):
        if s in seen:
            continue
        stack, comp = [s], []
        seen.add(s)
        while stack:
            i = stack.pop()
            comp.append(i)
            for j in nbrs[i]:
                if j in member and j not in seen:
                    seen.add(j)
                    stack.append(j)
        comps.append(np.array(sorted(comp)))
    return comps


def partition(items: np.ndarray, nbrs: list[list[int]], weight: np.ndarray, pos: np.ndarray,
               target: float, labels: np.ndarray, min_share: float = 0.35,
               total_k: int | None = None) -> np.ndarray:
    """Group ``items`` into contiguous regions of about ``target`` weight, per connected
    component; with ``total_k`` the number of regions over all components is fixed (each
    component gets at least one, the rest by largest remainder)."""
    comps = components(items, nbrs)
    totals = np.array([float(weight[c].sum()) for c in comps])
    if total_k is not None and len(comps):
        share = totals / max(totals.sum(), 1e-9) * max(total_k, len(comps))
        ks = np.maximum(1, np.floor(share).astype(int))
        order = np.argsort(-(share - np.floor(share)), kind="stable")
        for c in order:
            if ks.sum() >= max(total_k, len(comps)):
                break
            ks[c] += 1
    else:
        # components too small for a region of their own stay free (callers merge them)
        ks = [max(1, int(round(t / target))) if t >= min_share * target else 0 for t in totals]
    for comp, k in zip(comps, ks, strict=True):
        k = min(int(k), len(comp))
        if k == 0:
            continue
        seeds = kmeans_seeds(comp, pos, weight, k)
        allowed = np.zeros(len(pos), dtype=bool)
        allowed[comp] = True
        grow(allowed, nbrs, weight, pos, seeds, labels)
    return labels


def fill_enclaves(labels: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Pieces lying in a hole of another region join that region (no region encloses
    another, so every admin unit is a polygon without holes)."""
    labels = labels.copy()
    pts = shapely.point_on_surface(polys)
    for _ in range(3):
        changed = False
        for lab in np.unique(labels).tolist():
            union = shapely.union_all(polys[labels == lab])
            for part in shapely.get_parts(union):
                for ring in part.interiors:
                    inside = shapely.within(pts, Polygon(ring)) & (labels != lab)
                    if inside.any():
                        labels[inside] = lab
                        changed = True
        if not changed:
            break
    return labels

