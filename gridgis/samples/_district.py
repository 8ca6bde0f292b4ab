"""Synthetic district: boundary, river, streets, blocks, land use, buildings and admin units.

Everything is built in a local metric frame (metres, origin near the district centre) and
shifted to EPSG:4547 at the end. The admin units are unions of one shared set of faces (the
polygons formed by arterials, local streets, the river and the district boundary), so streets
and communities tile their parents exactly by construction.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import LineString, Polygon

from . import _names as N
from ._geom import (
    TWO_PI,
    Warp,
    blob,
    faces,
    node,
    oriented,
    pack,
    polygon_parts,
    polyline_parts,
    rect_polygons,
    rotate_xy,
    south_facing,
    wiggly,
)

ROAD_HALF_WIDTH = {"arterial": 18.0, "local": 9.0, "lane": 3.5}
RIVER_WIDTH = 300.0
CREEK_WIDTH = 35.0
# source priorities when noded edges coincide (lower wins)
_PRIORITY = {"arterial": 0, "local": 1, "lane": 2, "river": 3, "boundary": 4, "stub": 5}


@dataclass
class Line:
    """One generated line: a road, the river, a creek, the boundary or a partition-only stub."""

    geom: LineString
    kind: str  # arterial | local | lane | river | boundary | stub
    name: str = ""
    width: float = 0.0
    bridge: bool = False


@dataclass
class Buildings:
    """Column arrays of the buildings, filled compound by compound."""

    cols: dict[str, list] = field(default_factory=lambda: {
        k: [] for k in ("cx", "cy", "w", "d", "angle", "floors", "units", "households",
                        "population", "use", "compound", "block", "group")})

    def add(self, centres: np.ndarray, *, w, d, angle, floors, units, households, population,
            use: str, compound: str, block: int, group: int = 0) -> None:
        n = len(centres)
        if not n:
            return
        c = self.cols

        def arr(v, dtype=float):
            return np.broadcast_to(np.asarray(v, dtype=dtype), (n,)).tolist()

        c["cx"] += centres[:, 0].tolist()
        c["cy"] += centres[:, 1].tolist()
        c["w"] += arr(w)
        c["d"] += arr(d)
        c["angle"] += arr(angle)
        c["floors"] += arr(floors, int)
        c["units"] += arr(units, int)
        c["households"] += arr(households, int)
        c["population"] += arr(population, int)
        c["use"] += [use] * n
        c["compound"] += [compound] * n
        c["block"] += [block] * n
        c["group"] += [group] * n

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v) for k, v in self.cols.items()}


# ---- compound types ----------------------------------------------------------------------------
# w, d: footprint ranges; gap_x/gap_y: spacing between buildings; floors; households per floor
# per unit entrance; metres of frontage per unit entrance
COMPOUND_TYPES = {
    "highrise": dict(w=(30, 42), d=(15, 18), gap_x=(18, 26), gap_y=(36, 46), floors=(18, 33),
                     hpu=2, unit_m=15),
    "midrise": dict(w=(45, 66), d=(11, 13), gap_x=(9, 14), gap_y=(15, 20), floors=(5, 7),
                    hpu=2, unit_m=16),
    "lowrise": dict(w=(12, 20), d=(9, 12), gap_x=(5, 8), gap_y=(6, 9), floors=(2, 4),
                    hpu=1, unit_m=20),
    "dorm": dict(w=(48, 54), d=(12, 13), gap_x=(12, 16), gap_y=(18, 22), floors=(5, 6),
                 hpu=2, unit_m=17),
}
SITE_BUILDINGS = {  # w, d, gap_x, gap_y, floors, max count
    "school": ((50, 70), (14, 16), (20, 30), (25, 30), (4, 5), 5),
    "hospital": ((45, 60), (18, 24), (15, 25), (20, 30), (6, 16), 4),
    "market": ((60, 90), (35, 50), (15, 20), (15, 20), (1, 2), 2),
    "commercial": ((35, 50), (25, 32), (15, 25), (20, 30), (8, 26), 4),
    "industrial_park": ((70, 120), (35, 60), (18, 25), (20, 30), (1, 3), 40),
    "park": ((10, 16), (8, 12), (60, 90), (60, 90), (1, 2), 2),
}


def _grow(allowed: np.ndarray, nbrs: list[list[int]], weight: np.ndarray, pos: np.ndarray,
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


def _kmeans_seeds(idx: np.ndarray, pos: np.ndarray, weight: np.ndarray, k: int) -> list[int]:
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


def _components(items: np.ndarray, nbrs: list[list[int]]) -> list[np.ndarray]:
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


def _partition(items: np.ndarray, nbrs: list[list[int]], weight: np.ndarray, pos: np.ndarray,
               target: float, labels: np.ndarray, min_share: float = 0.35,
               total_k: int | None = None) -> np.ndarray:
    """Group ``items`` into contiguous regions of about ``target`` weight, per connected
    component; with ``total_k`` the number of regions over all components is fixed (each
    component gets at least one, the rest by largest remainder)."""
    comps = _components(items, nbrs)
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
        seeds = _kmeans_seeds(comp, pos, weight, k)
        allowed = np.zeros(len(pos), dtype=bool)
        allowed[comp] = True
        _grow(allowed, nbrs, weight, pos, seeds, labels)
    return labels


def _fill_enclaves(labels: np.ndarray, polys: np.ndarray) -> np.ndarray:
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


class DistrictBuilder:
    """Builds one synthetic district; call :meth:`build` once."""

    def __init__(self, seed: int = 0, scale: float = 1.0) -> None:
        self.rng = np.random.default_rng(seed)
        self.scale = float(scale)
        self.L = float(np.sqrt(scale))
        self.lines: list[Line] = []
        self.names = N.NamePool(N.STEMS, self.rng)
        self.vnames = N.NamePool(N.VILLAGE_STEMS, self.rng)
        self.place_names = N.NamePool(N.STEMS, self.rng)
        self.lane_count: dict[str, int] = {}
        self.sites: list[dict] = []
        self.bld = Buildings()
        self.hamlets: list[dict] = []

    # ---- frame -------------------------------------------------------------------------------
    def frame(self) -> None:
        rng, L = self.rng, self.L
        self.a, self.b = 3300.0 * L, 2500.0 * L
        self.D = blob(0.0, 0.0, self.a, self.b, rng)
        self.Dbuf = self.D.buffer(0.5)
        # main river flows west -> east across the southern third
        x = np.linspace(-1.6 * self.a, 1.6 * self.a, int(3.2 * self.a / 20))
        ph1, ph2 = rng.uniform(0, TWO_PI, 2)
        lam = 1.7 * self.a
        y = (-0.30 * self.b + 0.13 * self.b * np.sin(TWO_PI * x / lam + ph1)
             + 0.04 * self.b * np.sin(TWO_PI * x / (0.45 * lam) + ph2))
        self.river = LineString(np.c_[x, y])
        self.W = self.river.buffer(RIVER_WIDTH / 2, cap_style="flat", quad_segs=4)
        shapely.prepare(self.W)
        # a creek from the north joins the river in the west
        xc0, xc1 = -0.55 * self.a + rng.uniform(-0.1, 0.1) * self.a, -0.35 * self.a
        yc1 = float(np.interp(xc1, x, y))
        self.creek = wiggly((xc0, 1.4 * self.b), (xc1, yc1 - 3.0), rng, 0.12 * self.b, step=20,
                            waves=1.3)
        self.Wc = self.creek.buffer(CREEK_WIDTH / 2 + 8, quad_segs=4)
        self.lines.append(Line(self.D.exterior, "boundary"))
        self.lines.append(Line(self.river.intersection(self.Dbuf), "river", "湘江", RIVER_WIDTH))
        self.lines.append(Line(self.creek.intersection(self.Dbuf), "river", "涟水", CREEK_WIDTH))
        # urban zone: east part, extending beyond the district boundary into the next district
        # the city straddles the river (about two thirds on the north bank), so it has bridges
        ry = 1080.0 * L
        rx = 1330.0 * L
        # place the city so that it always reaches the eastern district edge
        yr = float(np.interp(0.6 * self.a, x, y)) + 0.33 * ry
        ray = LineString([(0.0, yr), (3.0 * self.a, yr)]).intersection(self.D)
        x_edge = max(c[0] for c in shapely.get_coordinates(ray)) if not ray.is_empty else self.a
        cx = x_edge - 0.72 * rx
        self.Cu = np.array([cx, float(np.interp(cx, x, y)) + 0.33 * ry])
        self.U = blob(*self.Cu, rx, ry, rng, roughness=0.3).intersection(
            self.D.buffer(200))
        self.Ru = 1220.0 * L

    # ---- arterials ---------------------------------------------------------------------------
    def _road(self, geom, kind: str, name: str, bridge: bool = False) -> None:
        for part in polyline_parts(geom):
            if part.length > 1.0:
                self.lines.append(Line(part, kind, name, bridge=bridge))

    def arterials(self) -> None:
        rng, L = self.rng, self.L
        alpha = rng.uniform(-0.3, 0.3)
        self.alpha = alpha
        warp = Warp.random(rng, 120.0, 3600.0)
        R = 1.35 * 1330.0 * L
        Ubuf = self.U.buffer(0.5).intersection(self.Dbuf)
        fam_lines = []
        for fam in (0, 1):  # 0: roughly north-south lines (constant u), 1: east-west
            pos = []
            p = -R + rng.uniform(100, 350)
            while p < R:
                pos.append(p)
                p += rng.uniform(480, 720)
            pos = np.asarray(pos)
            # the lines nearest the centre continue into the countryside as county roads
            order = np.argsort(np.abs(pos), kind="stable")
            n_cont = max(1, int(round(2 * L))) if fam == 0 else max(1, int(round(1.0 * L)))
            cont = set(order[:n_cont].tolist())
            for i, u in enumerate(pos):
                span = 3.2 * R if i in cont else 1.1 * R
                t = np.arange(-span, span, 20.0)
                amp, lam_, ph = rng.uniform(15, 60), rng.uniform(1200, 2600), rng.uniform(0, TWO_PI)
                off = u + amp * np.sin(TWO_PI * t / lam_ + ph)
                local = np.c_[off, t] if fam == 0 else np.c_[t, off]
                xy = warp(rotate_xy(local, alpha) + self.Cu)
                fam_lines.append((fam, i, u, LineString(xy), i in cont))
        names = {}
        for fam, i, _u, geom, cont in fam_lines:
            suffix = "大道" if cont else "路"
            name = self.names.take(suffix)
            names[(fam, i)] = name
            clip = self.Dbuf if cont else Ubuf
            geom = geom.intersection(clip)
            self._road(geom, "arterial", name)
        # bridges: the north-south arterials nearest the centre
        ns = [(abs(u), i) for fam, i, u, _, _ in fam_lines if fam == 0]
        n_bridge = max(1, int(round(2 * L)))
        self.bridge_names = {names[(0, i)] for _, i in sorted(ns)[:n_bridge]}
        for ln in self.lines:
            if ln.kind == "arterial" and ln.name in self.bridge_names:
                ln.bridge = True
        # a diagonal avenue through the old town
        ang = alpha + np.pi / 4 * rng.choice([-1, 1]) + rng.uniform(-0.15, 0.15)
        d = np.array([np.cos(ang), np.sin(ang)])
        off = self.Cu + np.array([-d[1], d[0]]) * rng.uniform(-200, 200)
        diag = wiggly(off - 1.3 * R * d, off + 1.3 * R * d, rng, 60.0, step=20)
        diag = shapely.transform(diag, warp)
        self._road(diag.intersection(Ubuf), "arterial", self.names.take("大道"))
        # ring road along the edge of the urban zone, named by quarter
        ring = np.asarray(self.U.exterior.coords)[:-1]
        th = np.arctan2(ring[:, 1] - self.Cu[1], ring[:, 0] - self.Cu[0]) - alpha
        q = (np.floor(((th + np.pi / 4) % TWO_PI) / (np.pi / 2))).astype(int)
        start = int(np.flatnonzero(q != q[-1])[0]) if (q != q[-1]).any() else 0
        ring, q = np.roll(ring, -start, axis=0), np.roll(q, -start)
        ring = np.vstack([ring, ring[:1]])
        q = np.append(q, q[0])
        cuts = np.flatnonzero(np.diff(q) != 0) + 1
        pieces = np.split(np.arange(len(ring)), cuts)
        qname = {0: "环城东路", 1: "环城北路", 2: "环城西路", 3: "环城南路"}
        for k, idx in enumerate(pieces):
            if k + 1 < len(pieces):
                idx = np.append(idx, pieces[k + 1][0])
            if len(idx) < 2:
                continue
            self._road(LineString(ring[idx]).intersection(self.Dbuf), "arterial", qname[int(q[idx[0]])])
        # extra county roads from the ring into the countryside
        to_centre = -self.Cu / np.hypot(*self.Cu)
        base = np.arctan2(to_centre[1], to_centre[0])
        n_extra = max(1, int(round(2 * L)))
        Uin = self.U.buffer(-0.5)
        for k in range(n_extra):
            th = base + (k - (n_extra - 1) / 2) * 1.9 + rng.uniform(-0.2, 0.2)
            dvec = np.array([np.cos(th), np.sin(th)])
            far = self.Cu + 4.0 * self.a * dvec
            line = wiggly(self.Cu, far, rng, 250.0 * L, step=20, waves=1.5)
            geom = line.intersection(self.Dbuf).difference(Uin)
            self._road(geom, "arterial", self.names.take("公路"))

    # ---- land / water ----------------------------------------------------------------------
    def _land_pieces(self, lines: list[Line]) -> list[Line]:
        """Roads as drawn on land (non-bridges stop at the river bank), plus partition stubs
        from each bank end to the river centreline so admin units still close over the water."""
        out: list[Line] = []
        ends = []
        for ln in lines:
            if ln.kind in ("arterial", "local", "lane") and not ln.bridge:
                for part in polyline_parts(ln.geom.difference(self.W)):
                    if part.length > 2.0:
                        out.append(Line(part, ln.kind, ln.name))
                        ends += [part.coords[0], part.coords[-1]]
            else:
                out.append(ln)
        if ends:
            pts = shapely.points(np.asarray(ends))
            on_bank = shapely.distance(pts, self.W.exterior) < 1e-3
            pts = pts[on_bank & shapely.within(pts, self.D)]
            if len(pts):
                q = shapely.line_interpolate_point(self.river, shapely.line_locate_point(self.river, pts))
                p = shapely.get_coordinates(pts)
                qq = shapely.get_coordinates(q)
                v = qq - p
                v /= np.maximum(np.hypot(v[:, 0], v[:, 1]), 1e-9)[:, None]
                stubs = shapely.linestrings(np.stack([p, qq + 2.0 * v], axis=1))
                out += [Line(s, "stub") for s in stubs]
        return out

    # ---- local streets -----------------------------------------------------------------------
    def local_streets(self) -> None:
        rng = self.rng
        base = self._land_pieces(self.lines)
        edges = node([ln.geom for ln in base])
        self.superblocks = faces(edges, self.D)
        new: list[Line] = []
        for sb in self.superblocks:
            land = sb.difference(self.W)
            urban = bool(self.U.contains(sb.point_on_surface()))
            for part in polygon_parts(land, 20000.0):
                clip = part.buffer(0.5)
                if urban:
                    ang, long, short, c = oriented(part)
                    for axis, size, other in ((0, long, short), (1, short, long)):
                        n = int(round(size / rng.uniform(210, 260))) - 1
                        if n <= 0:
                            continue
                        for k in range(1, n + 1):
                            s = -size / 2 + k * size / (n + 1) + rng.normal(0, 18)
                            tilt = rng.normal(0, 0.06)
                            p0 = np.array([s, -other / 2 - 80])
                            p1 = np.array([s + tilt * (other + 160), other / 2 + 80])
                            if axis == 1:
                                p0, p1 = p0[::-1], p1[::-1]
                            p0 = rotate_xy(p0[None], ang)[0] + c
                            p1 = rotate_xy(p1[None], ang)[0] + c
                            geom = wiggly(p0, p1, rng, rng.uniform(0, 10), step=15)
                            new.append(Line(geom.intersection(clip), "local",
                                            self.names.take(rng.choice(N.ROAD_SUFFIX_LOCAL))))
                else:
                    n = int(np.clip(round(part.area / 0.9e6), 1, 3))
                    ring = part.exterior
                    for _ in range(n):
                        f0 = rng.uniform()
                        f1 = (f0 + rng.uniform(0.3, 0.7)) % 1.0
                        p0 = np.asarray(ring.interpolate(f0, normalized=True).coords[0])
                        p1 = np.asarray(ring.interpolate(f1, normalized=True).coords[0])
                        dist = float(np.hypot(*(p1 - p0)))
                        if dist < 150:
                            continue
                        geom = wiggly(p0, p1, rng, 0.1 * dist, step=20, extend=1.0)
                        new.append(Line(geom.intersection(clip), "local",
                                        self.names.take(rng.choice(("路", "线", "路")))))
        for ln in new:
            self._road(ln.geom, "local", ln.name)

    # ---- blocks ------------------------------------------------------------------------------
    def blocks(self) -> None:
        self.part_lines = self._land_pieces(self.lines)
        edges = node([ln.geom for ln in self.part_lines])
        self.block_polys = faces(edges, self.D)
        B = self.block_polys
        self.block_land = shapely.difference(B, self.W)
        pts = shapely.point_on_surface(np.where(shapely.is_empty(self.block_land), B,
                                                self.block_land))
        self.block_pos = shapely.get_coordinates(pts)
        self.block_urban = shapely.within(pts, self.U)
        self.block_area = shapely.area(self.block_land)
        # adjacency by shared boundary, marking shared edges that run along the main river
        tree = shapely.STRtree(B)
        i, j = tree.query(B, predicate="intersects")
        m = i < j
        i, j = i[m], j[m]
        shared = shapely.intersection(shapely.boundary(B[i]), shapely.boundary(B[j]))
        length = shapely.length(shared)
        ok = length > 1.0
        i, j, shared = i[ok], j[ok], shared[ok]
        mid = shapely.point_on_surface(shared)
        across = shapely.distance(mid, self.river) < 1e-3
        n = len(B)
        self.nbrs = [[] for _ in range(n)]
        self.nbrs_all = [[] for _ in range(n)]
        self.shared = {(int(a), int(b_)): float(v) for a, b_, v in zip(i, j, length[ok], strict=True)}
        for a, b_, x in zip(i.tolist(), j.tolist(), across.tolist(), strict=True):
            self.nbrs_all[a].append(b_)
            self.nbrs_all[b_].append(a)
            if not x:
                self.nbrs[a].append(b_)
                self.nbrs[b_].append(a)
        # road lines (as drawn) for setbacks
        self.road_lines = [ln for ln in self.part_lines if ln.kind in ROAD_HALF_WIDTH]

    def _buildable(self, area, extra_lines: list[Line] = (), setback: float = 3.0):
        """``area`` minus road corridors, water and creek banks, shrunk by ``setback``."""
        if not hasattr(self, "_wet"):
            self._wet = shapely.union_all([self.W.buffer(15, quad_segs=4), self.Wc])
            self._corr: dict[int, object] = {}
        env = shapely.box(*area.bounds).buffer(40, join_style="mitre")
        cut = [self._wet.intersection(env)]
        for ln in [*self.road_lines, *extra_lines]:
            if ln.geom.intersects(env):
                key = id(ln)
                if key not in self._corr:
                    self._corr[key] = ln.geom.buffer(ROAD_HALF_WIDTH[ln.kind] + 1.0, quad_segs=2)
                cut.append(self._corr[key])
        free = area.difference(shapely.union_all(cut))
        return free.buffer(-setback, quad_segs=2) if setback else free

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
        _partition(urban, self.nbrs, weight, self.block_pos, target, labels)
        n_urban_labels = labels.max() + 1
        # rural villages by area
        rural = np.flatnonzero(~self.block_urban & (labels < 0) & ~tiny)
        _partition(rural, self.nbrs, self.block_area, self.block_pos, 3.0e6, labels)
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
        self.block_comm = _fill_enclaves(labels, self.block_polys)
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
        pos = np.array([self.block_pos[comm == c].mean(0) for c in ids])
        urban = np.array([self.comm_urban[c] for c in ids])
        labels = np.full(n, -1)
        k_jd = max(1, int(round(hh[urban].sum() / 10000.0)))
        _partition(np.flatnonzero(urban), nbrs_l, hh, pos, 10000.0, labels, total_k=k_jd)
        n_jd = labels.max() + 1
        rural = np.flatnonzero(~urban)
        _partition(rural, nbrs_all_l, np.ones(n), pos, 6.0, labels, min_share=0.0)
        for _ in range(5):
            for i in np.flatnonzero(labels < 0).tolist():
                nb = [j for j in nbrs_all_l[i] if labels[j] >= 0]
                if nb:
                    labels[i] = labels[nb[0]]
        self.comm_ids = ids
        comm_poly = np.array([shapely.union_all(self.block_polys[comm == c]) for c in ids])
        labels = _fill_enclaves(labels, comm_poly)
        self.comm_street = {c: int(labels[index[c]]) for c in ids}
        self.street_is_town = {int(s): bool(s >= n_jd) for s in np.unique(labels)}
        self.comm_pos = {c: pos[index[c]] for c in ids}
        self.comm_hh = {c: float(hh[index[c]]) for c in ids}

    # ---- assembly ----------------------------------------------------------------------------
    def assemble(self) -> dict:
        """Final noding, codes, names and plain geometry arrays of every layer (local frame)."""
        rng = self.rng
        lanes = []
        for ln in [*self.lanes, *self.village_lanes]:
            for part in polyline_parts(ln.geom.difference(self.W)):
                if part.length > 2.0:
                    lanes.append(Line(part, "lane", ln.name))
        self.final_lanes = lanes
        all_lines = [*self.part_lines, *lanes]
        edges = node([ln.geom for ln in all_lines])
        fcs = faces(edges, self.D)
        tree = shapely.STRtree(self.block_polys)
        fi, bj = tree.query(shapely.point_on_surface(fcs), predicate="within")
        face_block = np.full(len(fcs), -1)
        face_block[fi] = bj
        if (face_block < 0).any():
            raise RuntimeError("sample generator: a face lies outside every block")
        face_comm = self.block_comm[face_block]
        comm_geom = {c: shapely.coverage_union_all(fcs[face_comm == c]) for c in self.comm_ids}
        # roads and rivers from the noded edges
        src = [ln for ln in all_lines if ln.kind in ("arterial", "local", "lane", "river")]
        src_geom = np.array([ln.geom for ln in src], dtype=object)
        prio = np.array([_PRIORITY[ln.kind] for ln in src])
        mids = shapely.line_interpolate_point(edges, 0.5, normalized=True)
        ei, sj = shapely.STRtree(src_geom).query(mids, predicate="dwithin", distance=2e-3)
        order = np.lexsort((sj, prio[sj], ei))
        ei, sj = ei[order], sj[order]
        first = np.r_[True, ei[1:] != ei[:-1]]
        ei, sj = ei[first], sj[first]
        order = np.argsort(sj, kind="stable")
        ei, sj = ei[order], sj[order]
        used, inv = np.unique(sj, return_inverse=True)
        merged = shapely.line_merge(shapely.multilinestrings(edges[ei], indices=inv))
        road_rows, river_rows = [], []
        for k, s_idx in enumerate(used.tolist()):
            ln = src[s_idx]
            g = merged[k]
            for part in shapely.get_parts(g):
                if ln.kind == "river":
                    river_rows.append((ln.name, ln.width, part))
                else:
                    road_rows.append((ln.kind, ln.name, part))
        # lanes without names (hamlet paths) take the hamlet's group name later
        return dict(faces=fcs, face_comm=face_comm, comm_geom=comm_geom, roads=road_rows,
                    rivers=river_rows, rng=rng)

    # ---- names and codes -----------------------------------------------------------------------
    def naming(self) -> None:
        """Street/town and community codes and names (north to south, west to east)."""
        ids = self.comm_ids
        streets = sorted(set(self.comm_street.values()))

        def nw_key(p):
            return (-round(float(p[1]) / 50.0), float(p[0]))

        spos = {s: np.mean([self.comm_pos[c] for c in ids if self.comm_street[c] == s], axis=0)
                for s in streets}
        jd = sorted((s for s in streets if not self.street_is_town[s]), key=lambda s: nw_key(spos[s]))
        towns = sorted((s for s in streets if self.street_is_town[s]), key=lambda s: nw_key(spos[s]))
        self.street_code, self.street_name = {}, {}
        for k, s in enumerate(jd):
            self.street_code[s] = f"{N.DISTRICT_CODE}{k + 1:03d}"
            self.street_name[s] = N.STREETS[k] if k < len(N.STREETS) else f"{N.STEMS[k]}街道"
        n_zhen = n_xiang = 0
        for k, s in enumerate(towns):
            name = N.TOWNS[k] if k < len(N.TOWNS) else f"{N.VILLAGE_STEMS[k]}镇"
            if name.endswith("乡"):
                n_xiang += 1
                code = 200 + n_xiang
            else:
                n_zhen += 1
                code = 100 + n_zhen
            self.street_code[s] = f"{N.DISTRICT_CODE}{code:03d}"
            self.street_name[s] = name
        # community names: urban ones after their main street, villages from the village pool
        used: set[str] = set()
        named = [ln for ln in self.road_lines if ln.kind in ("arterial", "local") and ln.name
                 and not ln.name.startswith("环城")]
        rl = np.array([ln.geom for ln in named], dtype=object)
        tree = shapely.STRtree(rl)
        self.comm_code, self.comm_name = {}, {}
        for s in streets:
            members = [c for c in ids if self.comm_street[c] == s]
            urb = sorted((c for c in members if self.comm_urban[c]), key=lambda c: nw_key(self.comm_pos[c]))
            vil = sorted((c for c in members if not self.comm_urban[c]), key=lambda c: nw_key(self.comm_pos[c]))
            for k, c in enumerate(urb):
                self.comm_code[c] = f"{self.street_code[s]}{k + 1:03d}"
                poly = shapely.union_all(self.block_polys[self.block_comm == c])
                name = None
                if c == 0:
                    name = self.place_names.take("园区社区")
                else:
                    hit = tree.query(poly, predicate="intersects")
                    if len(hit):
                        inside = shapely.length(shapely.intersection(rl[hit], poly))
                        for h in hit[np.argsort(-inside, kind="stable")]:
                            rn = named[h].name
                            cand = (rn if rn[-1] in "路街" else rn.rstrip("大道公线")) + "社区"
                            if cand not in used:
                                name = cand
                                break
                if name is None:
                    name = self.place_names.take("社区")
                used.add(name)
                self.comm_name[c] = name
            for k, c in enumerate(vil):
                self.comm_code[c] = f"{self.street_code[s]}{201 + k:03d}"
                self.comm_name[c] = self.vnames.take("村")
        for h in self.hamlets:
            h["lane"].name = f"{self.comm_name[h['comm']][:-1]}{N.numeral(h['group'])}组路"
