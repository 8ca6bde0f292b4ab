"""Synthetic district: boundary, river, streets, blocks, land use, buildings and admin units.

Everything is built in a local metric frame (metres, origin near the district centre) and
shifted to EPSG:4547 at the end. The admin units are unions of one shared set of faces (the
polygons formed by arterials, local streets, the river and the district boundary), so streets
and communities tile their parents exactly by construction.
"""


from __future__ import annotations

import numpy as np
import shapely
from shapely import LineString

from . import _names as N
from ._catalog import (
    CREEK_WIDTH,
    PRIORITY,
    RIVER_WIDTH,
    ROAD_HALF_WIDTH,
    Buildings,
    Line,
)
from ._geom import (
    TWO_PI,
    Warp,
    blob,
    faces,
    node,
    oriented,
    polygon_parts,
    polyline_parts,
    rotate_xy,
    wiggly,
)
from ._settlements import Settlements
from ._urban import UrbanLand

__all__ = ["DistrictBuilder"]


class DistrictBuilder(UrbanLand, Settlements):
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
            self._corr: dict[int, tuple[Line, object]] = {}
        env = shapely.box(*area.bounds).buffer(40, join_style="mitre")
        cut = [self._wet.intersection(env)]
        for ln in [*self.road_lines, *extra_lines]:
            if ln.geom.intersects(env):
                # keyed by the line's id, holding the line: a line freed while its id stayed in
                # the cache would let a new line reuse the id and get the wrong corridor
                key = id(ln)
                if key not in self._corr:
                    self._corr[key] = (ln, ln.geom.buffer(ROAD_HALF_WIDTH[ln.kind] + 1.0,
                                                          quad_segs=2))
                cut.append(self._corr[key][1])
        free = area.difference(shapely.union_all(cut))
        return free.buffer(-setback, quad_segs=2) if setback else free

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
        prio = np.array([PRIORITY[ln.kind] for ln in src])
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
        streets = sorted({self.comm_street[c] for c in ids})  # streets that kept a community

        def nw_key(p):  # a community without blocks has no position: it sorts first
            p = np.nan_to_num(np.asarray(p, dtype=float))
            return (-round(float(p[1]) / 50.0), float(p[0]))

        spos = {s: np.mean([self.comm_pos[c] for c in ids if self.comm_street[c] == s], axis=0)
                for s in streets}
        jd = sorted((s for s in streets if not self.street_is_town[s]), key=lambda s: nw_key(spos[s]))
        towns = sorted((s for s in streets if self.street_is_town[s]), key=lambda s: nw_key(spos[s]))
        self.street_code, self.street_name = {}, {}
        for k, s in enumerate(jd):
            self.street_code[s] = _street_code(k, 0)
            self.street_name[s] = (N.STREETS[k] if k < len(N.STREETS)
                                   else self.place_names.take("街道"))
        n_zhen = n_xiang = 0
        for k, s in enumerate(towns):
            name = N.TOWNS[k] if k < len(N.TOWNS) else self.vnames.take("镇")
            if name.endswith("乡"):
                code = _street_code(n_xiang, 200)
                n_xiang += 1
            else:
                code = _street_code(n_zhen, 100)
                n_zhen += 1
            self.street_code[s] = code
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


def _street_code(k: int, base: int) -> str:
    """9-digit code of the ``k``-th street (``base`` 0), town (100) or township (200): 99 per
    district, further ones in the next district codes (a city of several districts)."""
    district = int(N.DISTRICT_CODE) + k // 99
    return f"{district}{base + k % 99 + 1:03d}"
