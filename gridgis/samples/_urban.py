"""Urban land use of the sample district: compounds, lanes, special sites and their buildings."""

from __future__ import annotations

import numpy as np
import shapely
from shapely import Polygon

from . import _names as N
from ._catalog import (
    COMPOUND_TYPES,
    ROAD_HALF_WIDTH,
    SITE_BUILDINGS,
    Line,
)
from ._geom import (
    faces,
    node,
    oriented,
    pack,
    polygon_parts,
    polyline_parts,
    rotate_xy,
    south_facing,
    wiggly,
)

__all__ = ["UrbanLand"]


class UrbanLand:
    """Urban land-use steps of :class:`~gridgis.samples._district.DistrictBuilder`."""

    # ---- urban land use ----------------------------------------------------------------------
    def urban(self) -> None:
        rng = self.rng
        n = len(self.block_polys)
        urban = np.flatnonzero(self.block_urban & (self.block_area > 3000))
        self.block_kind = np.array(["rural"] * n, dtype=object)
        self.block_kind[self.block_urban] = "urban"
        self.fixed_comm = np.full(n, -1)
        urban_set = set(urban.tolist())
        # industrial park: grown from the urban block nearest a point on the northern fringe
        th = self.alpha + np.pi / 2 + rng.uniform(-0.4, 0.2)
        anchor = self.Cu + 1.2 * self.Ru * np.array([np.cos(th), np.sin(th)])
        d = ((self.block_pos[urban] - anchor) ** 2).sum(1)
        start = int(urban[np.argmin(d)])
        ind = [start]
        area = self.block_area[start]
        goal = 0.3e6 * self.scale
        while area < goal:
            cand = sorted({j for i in ind for j in self.nbrs[i] if j in urban_set and j not in ind})
            if not cand:
                break
            j = min(cand, key=lambda j: (((self.block_pos[j] - anchor) ** 2).sum(), j))
            ind.append(j)
            area += self.block_area[j]
        dorm = ind[-1] if len(ind) > 1 else None
        for i in ind:
            self.block_kind[i] = "industrial"
            self.fixed_comm[i] = 0
        if dorm is not None:
            self.block_kind[dorm] = "dorm"
        # civic centre: a park next to the centre, a commercial block and a mixed civic block
        free = [i for i in urban.tolist() if self.block_kind[i] == "urban" and self.block_area[i] > 25000]
        d = {i: ((self.block_pos[i] - self.Cu) ** 2).sum() for i in free}
        park = min(free, key=lambda i: (d[i], i))
        civic = [park]
        nb = sorted((j for j in self.nbrs[park] if self.block_kind[j] == "urban" and j in urban_set),
                    key=lambda j: (d.get(j, 1e18), j))
        civic += nb[:2]
        kinds = ["park", "commercial", "civic"]
        for i, k in zip(civic, kinds, strict=False):
            self.block_kind[i] = k
            self.fixed_comm[i] = 1
        # residential types by distance from the centre
        for i in urban.tolist():
            if self.block_kind[i] != "urban":
                continue
            rho = np.hypot(*(self.block_pos[i] - self.Cu)) / self.Ru
            if rho < 0.35:
                p = (0.05, 0.5, 0.45)
            elif rho < 0.75:
                p = (0.3, 0.55, 0.15)
            else:
                p = (0.42, 0.38, 0.20)
            kind = rng.choice(("highrise", "midrise", "lowrise"), p=p)
            if kind == "highrise" and self.block_area[i] < 40000:
                kind = "midrise"
            self.block_kind[i] = kind
        self.lanes: list[Line] = []
        self.subblocks: list[tuple[int, Polygon]] = []
        for i in urban.tolist():
            kind = self.block_kind[i]
            land = self.block_land[i]
            parts = polygon_parts(land, 500.0)
            if kind in ("midrise", "lowrise", "civic", "dorm") or (
                    kind == "highrise" and self.block_area[i] > 140000):
                pitch = 110 if kind == "lowrise" else 150
                for part in parts:
                    self._lanes(i, part, pitch)
            else:
                self.subblocks += [(i, p) for p in parts]
        # assign special uses to sub-blocks
        sub_kind = []
        for i, _ in self.subblocks:
            k = self.block_kind[i]
            sub_kind.append({"industrial": "industrial_park", "park": "park",
                             "commercial": "commercial"}.get(k, k))
        sub_kind = np.array(sub_kind, dtype=object)
        sub_area = np.array([p.area for _, p in self.subblocks])
        civic_idx = [s for s, (i, _) in enumerate(self.subblocks) if self.block_kind[i] == "civic"]
        civic_idx.sort(key=lambda s: (-sub_area[s], s))
        extra_hospital = 1 if len(civic_idx) < 2 else 0
        for k, s in enumerate(civic_idx):
            if len(civic_idx) < 2:
                sub_kind[s] = "lowrise_small"
            else:
                sub_kind[s] = "hospital" if k == 0 else "lowrise_small" if k == 1 else "commercial"
        dorm_idx = [s for s, (i, _) in enumerate(self.subblocks) if self.block_kind[i] == "dorm"]
        dorm_idx.sort(key=lambda s: (-sub_area[s], s))
        for s in dorm_idx[1:]:
            sub_kind[s] = "vacant"
        pool = [s for s in range(len(sub_kind))
                if sub_kind[s] in ("midrise", "lowrise") and 9000 < sub_area[s] < 45000]
        pool = list(rng.permutation(pool))
        wants = ([("school", max(1, round(6 * self.scale)))]
                 + [("market", max(1, round(3 * self.scale)))]
                 + [("hospital", max(0, round(2 * self.scale) - 1) + extra_hospital)]
                 + [("commercial", max(1, round(6 * self.scale)))])
        taken_blocks: set[int] = set()
        for kind, count in wants:
            got = 0
            for s in list(pool):
                if got >= count:
                    break
                b = self.subblocks[s][0]
                if b in taken_blocks:
                    continue
                sub_kind[s] = kind
                pool.remove(s)
                taken_blocks.add(b)
                got += 1
        # a few vacant / green plots
        for s in pool:
            if rng.uniform() < 0.12:
                sub_kind[s] = "vacant"
        self.sub_kind = sub_kind
        self._urban_buildings()

    def _lane_name(self, part: Polygon) -> str:
        """Lanes are named after the longest street along their block: 韶山路三巷."""
        env = part.buffer(15)
        best, best_len = None, 0.0
        for ln in self.road_lines:
            if ln.kind in ("arterial", "local") and ln.geom.intersects(env):
                length = ln.geom.intersection(env).length
                if length > best_len + 1e-9:
                    best, best_len = ln.name, length
        if best is None:
            return self.names.take(self.rng.choice(N.LANE_SUFFIX))
        k = self.lane_count.get(best, 0) + 1
        self.lane_count[best] = k
        return f"{best}{N.numeral(k)}巷"

    def _lanes(self, block: int, part: Polygon, pitch: float) -> None:
        rng = self.rng
        ang, long, short, c = oriented(part)
        n = int(round(long / (pitch * rng.uniform(0.9, 1.15)))) - 1
        lanes = []
        clip = part.buffer(0.5)
        for k in range(1, n + 1):
            s = -long / 2 + k * long / (n + 1) + rng.normal(0, 8)
            p0 = rotate_xy(np.array([[s, -short / 2 - 40]]), ang)[0] + c
            p1 = rotate_xy(np.array([[s + rng.normal(0, 6), short / 2 + 40]]), ang)[0] + c
            geom = wiggly(p0, p1, rng, rng.uniform(0, 4), step=10).intersection(clip)
            for g in polyline_parts(geom):
                if g.length > 40:
                    lanes.append(Line(g, "lane", self._lane_name(part)))
        if short > 2.2 * pitch:  # deep blocks also get a lengthwise lane
            s = rng.normal(0, 10)
            p0 = rotate_xy(np.array([[-long / 2 - 40, s]]), ang)[0] + c
            p1 = rotate_xy(np.array([[long / 2 + 40, s + rng.normal(0, 6)]]), ang)[0] + c
            geom = wiggly(p0, p1, rng, rng.uniform(0, 4), step=10).intersection(clip)
            for g in polyline_parts(geom):
                if g.length > 40:
                    lanes.append(Line(g, "lane", self._lane_name(part)))
        self.lanes += lanes
        if not lanes:
            self.subblocks.append((block, part))
            return
        edges = node([part.exterior, *part.interiors, *[ln.geom for ln in lanes]])
        for f in faces(edges, part):
            if f.area > 500:
                self.subblocks.append((block, f))

    def _urban_buildings(self) -> None:
        rng = self.rng
        self.compounds: list[dict] = []
        for (b, poly), kind in zip(self.subblocks, self.sub_kind, strict=True):
            if kind == "vacant":
                continue
            if kind in SITE_BUILDINGS or kind == "industrial_park":
                continue  # sites are built below (industrial park spans several blocks)
            wanted = {"lowrise_small": "midrise"}.get(kind, kind)
            free = self._buildable(poly, self.lanes)
            ang = south_facing(oriented(poly)[0])
            chain = {"highrise": ("highrise", "midrise"), "midrise": ("midrise", "lowrise")}
            for ctype in chain.get(wanted, (wanted,)):  # awkward plots fall back to smaller houses
                t = COMPOUND_TYPES[ctype]
                w = rng.uniform(*t["w"])
                d_ = rng.uniform(*t["d"])
                centres = pack(free, ang, w, d_, w + rng.uniform(*t["gap_x"]),
                               d_ + rng.uniform(*t["gap_y"]), rng)
                if len(centres) >= 2:
                    break
            if kind == "dorm":
                centres = centres[: int(rng.integers(5, 8))]
            if ctype in ("midrise", "lowrise") and len(centres) > 3:
                keep = rng.uniform(size=len(centres)) > 0.08  # open space, demolished plots
                centres = centres[keep]
            if not len(centres):
                continue
            n = len(centres)
            base = int(rng.integers(t["floors"][0], t["floors"][1] + 1))
            floors = np.clip(base + rng.integers(-2, 3, n) * (ctype == "highrise"),
                             t["floors"][0], t["floors"][1])
            units = max(1, int(round(w / t["unit_m"])))
            hpu = t["hpu"] if ctype != "lowrise" else int(rng.integers(1, 3))
            hh = floors * units * hpu
            if ctype in ("midrise", "lowrise"):  # some flats empty or merged
                hh = np.maximum(1, hh - rng.integers(0, max(2, hh.min() // 6), n))
            if kind == "lowrise_small":  # one small old compound in the civic centre
                k = int(np.searchsorted(np.cumsum(hh), rng.integers(80, 220))) + 1
                centres, floors, hh = centres[:k], floors[:k], hh[:k]
                n = len(hh)
            if ctype == "highrise":  # large compounds stay below ~2,600 households
                while hh.sum() > 2600 and len(hh) > 1:
                    drop = int(rng.integers(len(hh)))
                    centres, floors, hh = (np.delete(v, drop, axis=0) for v in (centres, floors, hh))
                    n = len(hh)
            pop = np.round(hh * rng.uniform(2.45, 3.05, n)).astype(int)
            cid = f"C{len(self.compounds) + 1:04d}"
            self.compounds.append(dict(id=cid, block=b, poly=poly, kind=ctype,
                                       small=kind == "lowrise_small"))
            self.bld.add(centres, w=w, d=d_, angle=ang, floors=floors, units=units,
                         households=hh, population=pop, use="residential", compound=cid,
                         block=b)
        self._calibrate()
        # special sites
        site_parts: list[tuple[str, list[tuple[int, Polygon]]]] = []
        ind = [(b, p) for (b, p), k in zip(self.subblocks, self.sub_kind, strict=True)
               if k == "industrial_park"]
        if ind:
            site_parts.append(("industrial_park", ind))
        for (b, p), k in zip(self.subblocks, self.sub_kind, strict=True):
            if k in SITE_BUILDINGS and k != "industrial_park":
                site_parts.append((k, [(b, p)]))
        for kind, parts in site_parts:
            whole = shapely.union_all([p for _, p in parts])
            if kind == "industrial_park":  # the park spans its internal streets
                site = max(polygon_parts(whole.buffer(-(ROAD_HALF_WIDTH["arterial"] + 1.0))),
                           key=lambda g: g.area, default=None)
            else:
                site = max(polygon_parts(self._buildable(whole, self.lanes, setback=0.0)),
                           key=lambda g: g.area, default=None)
            if site is None or site.area < 2000:
                continue
            site = max(polygon_parts(site.simplify(1.0).buffer(-0.5, join_style="mitre")),
                       key=lambda g: g.area)
            sid = f"S{len(self.sites) + 1:03d}"
            self.sites.append(dict(id=sid, kind=kind, block=parts[0][0], poly=site))
            wr, dr, gx, gy, fl, cap = SITE_BUILDINGS[kind]
            for b, p in parts:
                free = self._buildable(p, self.lanes, setback=4.0).intersection(site.buffer(-4))
                ang = south_facing(oriented(p)[0]) if kind != "park" else rng.uniform(-0.5, 0.5)
                w, d_ = rng.uniform(*wr), rng.uniform(*dr)
                px, py = w + rng.uniform(*gx), d_ + rng.uniform(*gy)
                own = oriented(free)[0] if not free.is_empty else ang
                # small or slanted plots get smaller buildings along the plot
                for shrink, a in ((1.0, ang), (0.7, ang), (0.5, ang), (0.7, own), (0.5, own),
                                  (0.35, own)):
                    centres = pack(free, a, w * shrink, d_ * shrink, px * shrink, py * shrink, rng)
                    if len(centres):
                        w, d_, ang = w * shrink, d_ * shrink, a
                        break
                centres = centres[: cap]
                if kind == "park" and len(centres):
                    centres = centres[: int(rng.integers(1, 3))]
                n = len(centres)
                floors = rng.integers(fl[0], fl[1] + 1, n)
                self.bld.add(centres, w=w, d=d_, angle=ang, floors=floors, units=0,
                             households=0, population=0, use=kind, compound=sid, block=b)

    def _calibrate(self, per_scale: float = 29500.0, cap: float = 2600.0) -> None:
        """Scale flats per building so the city holds about ``per_scale * scale`` households
        (land-use draws vary a lot between seeds); big compounds stay below ``cap``."""
        c = self.bld.cols
        hh = np.asarray(c["households"], float)
        if not len(hh):
            return
        comp = np.asarray(c["compound"], dtype=object)
        kinds = {x["id"]: x["kind"] if not x.get("small") else "small" for x in self.compounds}
        adjustable = np.array([kinds.get(k) in ("highrise", "midrise", "lowrise")
                               for k in comp]) & (hh > 0)
        fixed = hh[~adjustable].sum()
        f = np.clip((per_scale * self.scale - fixed) / max(hh[adjustable].sum(), 1.0), 0.6, 1.6)
        new = hh * np.where(adjustable, f, 1.0)
        _, inv = np.unique(comp, return_inverse=True)
        tot = np.bincount(inv, weights=new)
        shrink = np.minimum(1.0, cap / np.maximum(tot, 1.0))[inv]
        new = np.where(adjustable, np.maximum(1, np.round(new * shrink)), hh).astype(int)
        pop = np.asarray(c["population"], float)
        ratio = np.where(hh > 0, pop / np.maximum(hh, 1), 0)
        c["households"] = new.tolist()
        c["population"] = np.round(new * ratio).astype(int).tolist()

