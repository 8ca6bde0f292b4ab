"""Admin units and villages of the sample district: communities, rural houses, streets/towns."""

from __future__ import annotations

import numpy as np
import shapely
from shapely import LineString

from ._catalog import (
    Line,
)
from ._clusters import fill_enclaves, partition
from ._geom import (
    polyline_parts,
    rect_polygons,
    rotate_xy,
)

__all__ = ["Settlements"]


class Settlements:
    """Community, village and street steps of :class:`~gridgis.samples._district.DistrictBuilder`."""

    # ---- communities -------------------------------------------------------------------------
    def communities(self) -> None:
        arr = self.bld.arrays()
        n = len(self.block_polys)
        hh = np.bincount(arr["block"].astype(int), weights=arr["households"], minlength=n) \
            if len(arr["block"]) else np.zeros(n)
        self.block_hh = hh
        labels = self.fixed_comm.copy()
        # slivers between close roads are not seeds; they join a neighbour afterwards
        tiny = shapely.area(self.block_polys) < 4000.0
        # urban communities grow around k-means seeds, balanced by households (+ a little area)
        urban = np.flatnonzero(self.block_urban & (labels < 0) & ~tiny)
        weight = hh + 0.002 * self.block_area
        target = 2700.0
        partition(urban, self.nbrs, weight, self.block_pos, target, labels)
        n_urban_labels = labels.max() + 1
        # rural villages by area
        rural = np.flatnonzero(~self.block_urban & (labels < 0) & ~tiny)
        partition(rural, self.nbrs, self.block_area, self.block_pos, 3.0e6, labels)
        # leftovers (tiny pieces cut off by the river): join the neighbour with most contact
        for _ in range(10):
            free = np.flatnonzero(labels < 0)
            if not len(free):
                break
            for i in free.tolist():
                nb = [j for j in self.nbrs_all[i] if labels[j] >= 0]
                same = [j for j in nb if self.block_urban[j] == self.block_urban[i]]
                nb = same or nb
                if nb:
                    labels[i] = labels[max(nb, key=lambda j: (self.shared[min(i, j), max(i, j)], -j))]
        for i in np.flatnonzero(labels < 0).tolist():  # slivers: longest contact, else nearest
            done = np.flatnonzero(labels >= 0)
            d = shapely.distance(self.block_polys[i], self.block_polys[done])
            touch = shapely.length(shapely.intersection(
                self.block_polys[i].boundary, shapely.boundary(self.block_polys[done])))
            labels[i] = labels[done[np.lexsort((d, -touch))[0]]]
        self.block_comm = fill_enclaves(labels, self.block_polys)
        ids = np.unique(labels)
        self.comm_urban = {int(c): bool(c < n_urban_labels) for c in ids}

    # ---- rural houses --------------------------------------------------------------------------
    def rural(self) -> None:
        rng = self.rng
        self.village_lanes: list[Line] = []
        rural_comms = sorted(c for c, u in self.comm_urban.items() if not u)
        wet = shapely.union_all([self.W.buffer(60, quad_segs=4), self.Wc.buffer(20, quad_segs=4)])
        shapely.prepare(wet)
        for c in rural_comms:
            blocks = np.flatnonzero(self.block_comm == c)
            land = shapely.union_all(self.block_land[blocks])
            target = int(rng.integers(170, 540))
            n_h = max(2, int(round(target / rng.uniform(40, 70))))
            queue = rng.multinomial(int(target / 1.12), rng.dirichlet(np.full(n_h, 3.0))).tolist()
            roads = [ln for ln in self.road_lines if ln.geom.intersects(land)]
            if not roads:
                continue
            rl = shapely.union_all([ln.geom for ln in roads]).intersection(land)
            rl_parts = polyline_parts(rl)
            if not rl_parts:
                continue
            rl = shapely.MultiLineString(rl_parts)
            centres: list[np.ndarray] = []
            core = land.buffer(-30, quad_segs=2)
            shapely.prepare(core)
            group = 0
            attempts = 0
            while queue and attempts < 4 * n_h + 8:
                attempts += 1
                size = queue.pop(0)
                if size < 3:
                    continue
                gap = 260.0 if attempts <= n_h else 170.0
                for _try in range(40):
                    pos = rng.uniform(0, rl.length)
                    p = np.asarray(rl.interpolate(pos).coords[0])
                    q = np.asarray(rl.interpolate(min(rl.length, pos + 5)).coords[0])
                    t = q - p
                    if np.hypot(*t) < 1e-6:
                        continue
                    t /= np.hypot(*t)
                    nrm = np.array([-t[1], t[0]]) * rng.choice([-1, 1])
                    ctr = p + nrm * rng.uniform(45, 80)
                    cp = shapely.Point(ctr)
                    if not core.contains(cp) or wet.contains(cp):
                        continue
                    if centres and min(np.hypot(*(ctr - o)) for o in centres) < gap:
                        continue
                    break
                else:
                    queue.append(size)
                    continue
                lane = Line(LineString([ctr, p - nrm * 0.5]), "lane", "")
                ang = float(np.arctan2(t[1], t[0]))
                cell = 24.0
                rad = cell * np.sqrt(size * 2.6 / np.pi) + 30
                g = np.arange(-rad, rad + 1, cell)
                gx, gy = np.meshgrid(g, g)
                gx, gy = gx.ravel(), gy.ravel()
                r2 = gx ** 2 + gy ** 2
                inside = r2 <= rad ** 2
                gx, gy, r2 = gx[inside], gy[inside], r2[inside]
                xy = rotate_xy(np.c_[gx, gy], ang) + ctr + rng.uniform(-2, 2, (len(gx), 2))
                w = rng.uniform(10, 14, len(gx))
                d_ = rng.uniform(8, 11, len(gx))
                a = ang + rng.normal(0, 0.12, len(gx))
                houses = rect_polygons(xy[:, 0], xy[:, 1], w, d_, a)
                free = self._buildable(land.intersection(shapely.Point(ctr).buffer(rad + 20)),
                                       [lane], setback=2.0)
                shapely.prepare(free)
                idx = np.flatnonzero(shapely.contains(free, houses))
                if len(idx) < 3:
                    queue.append(size)
                    continue
                wts = np.exp(-r2[idx] / (0.5 * rad) ** 2)
                k = min(size, len(idx))
                if size - k >= 3:
                    queue.append(size - k)
                pick = np.sort(rng.choice(idx, size=k, replace=False, p=wts / wts.sum()))
                group += 1
                centres.append(ctr)
                cid = f"H{len(self.hamlets) + 1:04d}"
                self.village_lanes.append(lane)
                self.hamlets.append(dict(id=cid, comm=c, group=group, centre=ctr, lane=lane))
                hh = np.where(rng.uniform(size=k) < 0.12, 2, 1)
                pop = hh * rng.integers(2, 5, k) + rng.integers(0, 2, k)
                floors = rng.integers(2, 4, k)
                self.bld.add(xy[pick], w=w[pick], d=d_[pick], angle=a[pick], floors=floors,
                             units=1, households=hh, population=pop, use="residential",
                             compound=cid, block=-1, group=group)
        # fix block index of rural houses
        cols = self.bld.cols
        pts = shapely.points(np.c_[cols["cx"], cols["cy"]])
        tree = shapely.STRtree(self.block_polys)
        bi = np.full(len(pts), -1)
        pi, bj = tree.query(pts, predicate="within")
        bi[pi] = bj
        cols["block"] = [int(x) for x in bi]

    # ---- streets / towns ---------------------------------------------------------------------
    def streets(self) -> None:
        comm = self.block_comm
        ids = sorted(self.comm_urban)
        index = {c: k for k, c in enumerate(ids)}
        n = len(ids)
        nbrs = [set() for _ in range(n)]
        nbrs_all = [set() for _ in range(n)]
        for i in range(len(comm)):
            for j in self.nbrs_all[i]:
                a, b = index[int(comm[i])], index[int(comm[j])]
                if a != b:
                    nbrs_all[a].add(b)
                    if j in self.nbrs[i]:
                        nbrs[a].add(b)
        nbrs_l = [sorted(s) for s in nbrs]
        nbrs_all_l = [sorted(s) for s in nbrs_all]
        hh = np.array([self.block_hh[comm == c].sum() for c in ids])
        pos = np.array([self.block_pos[comm == c].mean(0) if (comm == c).any()
                        else np.full(2, np.nan) for c in ids])
        urban = np.array([self.comm_urban[c] for c in ids])
        labels = np.full(n, -1)
        k_jd = max(1, int(round(hh[urban].sum() / 10000.0)))
        partition(np.flatnonzero(urban), nbrs_l, hh, pos, 10000.0, labels, total_k=k_jd)
        n_jd = labels.max() + 1
        rural = np.flatnonzero(~urban)
        partition(rural, nbrs_all_l, np.ones(n), pos, 6.0, labels, min_share=0.0)
        for _ in range(5):
            for i in np.flatnonzero(labels < 0).tolist():
                nb = [j for j in nbrs_all_l[i] if labels[j] >= 0]
                if nb:
                    labels[i] = labels[nb[0]]
        self.comm_ids = ids
        comm_poly = np.array([shapely.union_all(self.block_polys[comm == c]) for c in ids])
        labels = fill_enclaves(labels, comm_poly)
        self.comm_street = {c: int(labels[index[c]]) for c in ids}
        self.street_is_town = {int(s): bool(s >= n_jd) for s in np.unique(labels)}
        self.comm_pos = {c: pos[index[c]] for c in ids}
        self.comm_hh = {c: float(hh[index[c]]) for c in ids}

