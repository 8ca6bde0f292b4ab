"""A synthetic district, a clean grid plan of it, and a corpus of broken plans.

Everything is generated deterministically from a seed (no data files needed):

- four communities with wavy boundaries (three urban, one rural village) in two streets;
- a clean plan tiling each community with Voronoi cells, coded west→east, north→south, with
  buildings (households, residents) and one address per building;
- :func:`corpus` returns broken copies of the clean plan, one or more per validation rule, plus
  realistic ones (hand-digitised with 0.3 m gaps, vertex jitter, a plan drawn against an old
  community line). Each :class:`Case` says which rules must be found, which others may appear
  as side effects, and whether :func:`gridgis.repairs.repair` must make it clean.

``python -m tests.corpus.plans OUTDIR`` writes every case as a GeoPackage for desktop GIS.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import affinity

CRS = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E, metres (Xiangtan area)
X0, Y0 = 391_000.0, 3_082_000.0
WIDTH, HEIGHT = 2000.0, 1200.0
SPACING = 250.0

COMMUNITIES = [  # code, name, street, area_kind, quadrant (col, row) with row 0 = north
    ("430302001001", "风车坪社区", "430302001", "urban", (0, 0)),
    ("430302001002", "韶山路社区", "430302001", "urban", (0, 1)),
    ("430302002001", "雨湖社区", "430302002", "urban", (1, 0)),
    ("430302002002", "长城村", "430302002", "rural", (1, 1)),
]
C1, C2, C3, C4 = (c[0] for c in COMMUNITIES)


def _wavy(points: np.ndarray, amplitude: float, period: float, axis: int) -> shapely.LineString:
    pts = points.copy()
    other = 1 - axis
    pts[:, other] += amplitude * np.sin(2 * np.pi * (pts[:, axis] - pts[0, axis]) / period)
    return shapely.LineString(pts)


def make_communities() -> gpd.GeoDataFrame:
    """Four communities tiling a 2 km × 1.2 km district, with wavy shared boundaries."""
    outer = shapely.box(X0, Y0, X0 + WIDTH, Y0 + HEIGHT)
    ys = np.linspace(Y0 - 10, Y0 + HEIGHT + 10, 61)
    vline = _wavy(np.column_stack([np.full(61, X0 + WIDTH / 2), ys]), 25.0, 700.0, axis=1)
    xs = np.linspace(X0 - 10, X0 + WIDTH + 10, 81)
    hline = _wavy(np.column_stack([xs, np.full(81, Y0 + HEIGHT / 2)]), 20.0, 900.0, axis=0)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(
        shapely.node(shapely.union_all([outer.boundary, vline, hline])))))
    faces = shapely.intersection(faces, outer)
    faces = faces[shapely.area(faces) > 1.0]
    rows = []
    cx, cy = X0 + WIDTH / 2, Y0 + HEIGHT / 2
    for code, name, street, kind, (col, row) in COMMUNITIES:
        face = next(f for f in faces
                    if (f.centroid.x > cx) == bool(col) and (f.centroid.y < cy) == bool(row))
        rows.append({"code": code, "name": name, "parent_code": street, "area_kind": kind,
                     "geometry": face})
    return gpd.GeoDataFrame(rows, crs=CRS)


def _seeds(poly: shapely.Geometry, rng: np.random.Generator) -> np.ndarray:
    x0, y0, x1, y1 = poly.bounds
    gx = np.arange(x0 + SPACING / 2, x1, SPACING)
    gy = np.arange(y0 + SPACING / 2, y1, SPACING)
    xx, yy = np.meshgrid(gx, gy)
    pts = np.column_stack([xx.ravel(), yy.ravel()])
    pts += rng.uniform(-0.3 * SPACING, 0.3 * SPACING, pts.shape)
    inside = shapely.contains_xy(poly.buffer(-30), pts[:, 0], pts[:, 1])
    return pts[inside]


def _tile(poly: shapely.Geometry, rng: np.random.Generator) -> list[shapely.Geometry]:
    seeds = _seeds(poly, rng)
    vor = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds),
                                                     extend_to=poly.envelope.buffer(50)))
    cells = shapely.intersection(vor, poly)
    out = []
    for c in cells:
        c = shapely.make_valid(c)
        parts = [p for p in shapely.get_parts(c) if p.geom_type == "Polygon" and p.area > 1]
        out.extend(parts)
    return out


def serial_order(geoms: list[shapely.Geometry]) -> np.ndarray:
    """Order west→east, north→south: rows of SPACING height from the north, then by x."""
    cen = shapely.centroid(np.asarray(geoms, dtype=object))
    x, y = shapely.get_x(cen), shapely.get_y(cen)
    row = np.floor((Y0 + HEIGHT - y) / SPACING)
    return np.lexsort((x, row))


def _rect(x: float, y: float, w: float = 20.0, h: float = 12.0) -> shapely.Polygon:
    return shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def _buildings_in(cell: shapely.Geometry, rng: np.random.Generator, k: int) -> list[shapely.Polygon]:
    core = cell.buffer(-30)
    if core.is_empty:
        core = cell.buffer(-12)
    x0, y0, x1, y1 = core.bounds
    out: list[shapely.Polygon] = []
    tries = 0
    while len(out) < k and tries < 2000:
        tries += 1
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        b = _rect(x, y)
        if core.contains(shapely.Point(x, y)) and cell.buffer(-2).contains(b) and \
                not any(b.distance(o) < 4 for o in out):
            out.append(b)
    return out


@dataclass
class District:
    """Layers of a synthetic district and its plan (all in EPSG:4547 except addresses)."""

    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    addresses: gpd.GeoDataFrame

    def copy(self) -> District:
        return District(self.communities.copy(), self.grids.copy(), self.buildings.copy(),
                        self.addresses.copy())

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        return {"grids": self.grids, "parents": self.communities, "buildings": self.buildings,
                "addresses": self.addresses}


def make_district(seed: int = 0, drawing: gpd.GeoDataFrame | None = None) -> District:
    """A clean plan of the synthetic district.

    ``drawing`` replaces the community polygons the grids are tiled in (the parents stay the
    true communities): used to make a plan drawn against an old community line.
    """
    rng = np.random.default_rng(seed)
    comm = make_communities()
    draw = comm if drawing is None else drawing
    grid_rows, bld_rows = [], []
    for code, kind_area, poly in zip(draw["code"], draw["area_kind"], draw.geometry, strict=True):
        cells = _tile(poly, rng)
        order = serial_order(cells)
        special_at = int(np.argmin([c.area for c in cells])) if code == C3 else -1
        serials = {"basic": 0, "special": 899}  # basic 001–899, special 900–999
        for i in order:
            cell = cells[i]
            kind = "school" if i == special_at else "basic"
            pool = "basic" if kind == "basic" else "special"
            serials[pool] += 1
            serial = serials[pool]
            gcode = f"{code}{serial:03d}"
            hh_total = pop_total = 0
            if kind == "basic":
                blds = _buildings_in(cell, rng, int(rng.integers(5, 9)))
                if kind_area == "rural":
                    pop_total = int(rng.integers(600, 1400))
                    pops = rng.multinomial(pop_total - len(blds), np.ones(len(blds)) / len(blds)) + 1
                    hhs = np.ceil(pops / 3.0).astype(int)
                else:
                    hh_total = int(rng.integers(340, 460))
                    hhs = rng.multinomial(hh_total - len(blds), np.ones(len(blds)) / len(blds)) + 1
                    pops = np.round(hhs * rng.uniform(2.5, 3.1, len(blds))).astype(int)
                for j, (b, h, p) in enumerate(zip(blds, hhs, pops, strict=True)):
                    bld_rows.append({"building_id": f"B{gcode}{j:02d}", "community_code": code,
                                     "use": "residential", "floors": int(rng.integers(2, 12)),
                                     "households": int(h), "population": int(p), "geometry": b})
                hh_total, pop_total = int(hhs.sum()), int(pops.sum())
            grid_rows.append({"grid_code": gcode, "grid_name": f"第{serial}网格",
                              "community_code": code, "kind": kind, "households": hh_total,
                              "population": pop_total, "flag": "", "geometry": cell})
    grids = gpd.GeoDataFrame(grid_rows, crs=CRS)
    buildings = gpd.GeoDataFrame(bld_rows, crs=CRS)
    cen = buildings.geometry.centroid.to_crs(4326)
    addresses = gpd.GeoDataFrame({
        "address_id": [f"A{i:05d}" for i in range(len(buildings))],
        "building_id": buildings["building_id"],
        "community_code": buildings["community_code"],
        "address": [f"湖南省湘潭市雨湖区{i % 97 + 1}号" for i in range(len(buildings))],
        "lon": cen.x.to_numpy(), "lat": cen.y.to_numpy(),
    }, geometry=cen.to_numpy(), crs=4326)
    return District(comm, grids, buildings, addresses)


# ---- corpus ------------------------------------------------------------------------------------


@dataclass
class Case:
    """One broken (or clean) plan and what the validator must say about it."""

    name: str
    district: District
    expect: dict[str, set[str]]  # rule -> severities that must appear
    allowed: set[str] = field(default_factory=set)  # other rules that may appear
    repairable: bool = True
    note: str = ""
    use_parents: bool = True
    use_buildings: bool = True

    def layers(self) -> dict[str, gpd.GeoDataFrame | None]:
        d = self.district.layers()
        if not self.use_parents:
            d["parents"] = None
        if not self.use_buildings:
            d["buildings"] = None
        return d


def _grid(d: District, code: str) -> int:
    return int(np.flatnonzero(d.grids["grid_code"].to_numpy() == code)[0])


def _set_geom(d: District, i: int, geom: shapely.Geometry) -> None:
    d.grids.loc[d.grids.index[i], "geometry"] = geom


def _neighbour_pair(d: District, community: str) -> tuple[int, int]:
    """Two grids of ``community`` sharing the longest edge."""
    g = d.grids
    idx = np.flatnonzero(g["community_code"].to_numpy() == community)
    best, pair = -1.0, (idx[0], idx[1])
    for a in idx:
        for b in idx:
            if a < b:
                ln = shapely.intersection(g.geometry.iloc[a], g.geometry.iloc[b]).length
                if ln > best:
                    best, pair = ln, (a, b)
    return int(pair[0]), int(pair[1])


def _add_row(d: District, row: dict) -> None:
    d.grids = gpd.GeoDataFrame(pd.concat([d.grids, pd.DataFrame([row])], ignore_index=True),
                               geometry="geometry", crs=CRS)


def _triple_point(d: District, community: str) -> shapely.Point:
    """A vertex shared by three grids of ``community`` (interior of the community)."""
    g = d.grids[d.grids["community_code"] == community]
    comm = d.communities.set_index("code").geometry[community]
    pts = shapely.get_parts(shapely.extract_unique_points(shapely.union_all(g.geometry.boundary)))
    for p in pts:
        if comm.buffer(-40).contains(p) and int(g.geometry.distance(p).lt(1e-6).sum()) >= 3:
            return p
    raise AssertionError("no triple point")


def _jitter(geom: shapely.Geometry, rng: np.random.Generator, amount: float) -> shapely.Geometry:
    dense = shapely.segmentize(geom, 25.0)

    def ring(r: shapely.LinearRing) -> np.ndarray:
        xy = np.asarray(r.coords)[:-1]
        xy = xy + rng.uniform(-amount, amount, xy.shape)
        return np.vstack([xy, xy[:1]])

    return shapely.Polygon(ring(dense.exterior), [ring(h) for h in dense.interiors])


def corpus(seed: int = 0) -> list[Case]:
    """Every case of the corpus (a fresh copy of the district for each)."""
    base = make_district(seed)
    cases: list[Case] = [Case("clean", base.copy(), {}, note="the clean plan: no finding at all")]
    d = base.copy()
    kinds = dict(zip(d.communities["code"], d.communities["area_kind"], strict=True))
    d.grids["area_kind"] = d.grids["community_code"].map(kinds)
    with_kind = d.copy()
    cases.append(Case("clean_no_parents", d, {}, use_parents=False,
                      note="clean plan validated without a parent layer"))

    # -- geometry --------------------------------------------------------------------------------
    d = base.copy()
    i = _grid(d, f"{C1}002")
    g = d.grids.geometry.iloc[i]
    ring = list(g.exterior.coords)[:-1]
    # a zero-width spike: out 30 m and back along the same line (self-intersection)
    k = 1
    (ax, ay), (bx, by) = ring[k], ring[k + 1]
    mx, my = (ax + bx) / 2, (ay + by) / 2
    spike = [(mx, my), (mx + 0.0, my + 30.0), (mx, my)]
    bad = shapely.Polygon(ring[: k + 1] + spike + ring[k + 1:])
    _set_geom(d, i, bad)
    cases.append(Case("invalid_spike", d, {"invalid_geometry": {"error"}},
                      note="a grid digitised with a zero-width spike"))

    d = base.copy()
    _add_row(d, {"grid_code": f"{C2}090", "grid_name": "空网格", "community_code": C2,
                 "kind": "basic", "households": 400, "population": 1000, "flag": "",
                 "geometry": None})
    _add_row(d, {"grid_code": f"{C2}091", "grid_name": "空网格2", "community_code": C2,
                 "kind": "basic", "households": 400, "population": 1000, "flag": "",
                 "geometry": shapely.Polygon()})
    cases.append(Case("empty_grids", d, {"empty_grid": {"error"}},
                      note="two rows without geometry"))

    d = base.copy()
    p = _triple_point(d, C1)
    hole = p.buffer(25, quad_segs=4)
    d.grids["geometry"] = d.grids.geometry.difference(hole)
    cases.append(Case("gap_interior", d, {"gap": {"error"}},
                      allowed={"building_unassigned", "address_unassigned"},
                      note="a 25 m hole where three grids meet"))

    d = base.copy()
    comm = d.communities.set_index("code").geometry[C2]
    idx = np.flatnonzero(d.grids["community_code"].to_numpy() == C2)
    i = int(idx[0])
    edge = comm.boundary.buffer(6.0)
    _set_geom(d, i, d.grids.geometry.iloc[i].difference(edge))
    cases.append(Case("gap_boundary", d, {"gap": {"error"}},
                      allowed={"building_unassigned", "address_unassigned"},
                      note="a grid pulled 6 m back from its community boundary"))

    d = base.copy()
    d.grids["geometry"] = d.grids.geometry.buffer(-0.15, join_style="mitre")
    cases.append(Case("digitised_0.3m_gaps", d, {"gap": {"warning"}},
                      note="hand-digitised plan: every grid 0.15 m inside its lines, so 0.3 m "
                           "gaps between grids"))
    d = with_kind.copy()
    d.grids["geometry"] = d.grids.geometry.buffer(-0.15, join_style="mitre")
    cases.append(Case("digitised_0.3m_gaps_no_parents", d, {"gap": {"warning"}},
                      use_parents=False, note="0.3 m gaps found without a parent layer"))

    d = base.copy()
    rng = np.random.default_rng(seed + 1)
    d.grids["geometry"] = [_jitter(g, rng, 0.2) for g in d.grids.geometry]
    cases.append(Case("digitised_jitter", d, {"gap": {"warning"}, "overlap": {"warning"}},
                      allowed={"crosses_parent", "outside_parent"},
                      note="every vertex digitised twice with ±0.2 m error"))

    d = base.copy()
    a, b = _neighbour_pair(d, C3)
    ga, gb = d.grids.geometry.iloc[a], d.grids.geometry.iloc[b]
    _set_geom(d, a, ga.union(gb.intersection(ga.buffer(30.0))))
    cases.append(Case("overlap", d, {"overlap": {"error"}},
                      allowed={"building_in_two", "address_in_two"},
                      note="one grid drawn 30 m into its neighbour"))

    d = base.copy()
    i = _grid(d, f"{C1}003")
    row = d.grids.iloc[i].to_dict()
    row.update(grid_code=f"{C1}095")
    _add_row(d, row)
    cases.append(Case("duplicate_grid", d, {"overlap": {"error"}, "building_in_two": {"error"},
                                            "address_in_two": {"error"}},
                      allowed={"code_order"},
                      note="a grid copied and pasted under a new code"))

    # -- nesting ----------------------------------------------------------------------------------
    comm = make_communities()
    g1 = comm.geometry.iloc[0]
    g2 = comm.geometry.iloc[1]
    strip = g2.intersection(g1.buffer(15.0))
    drawing = comm.copy()
    drawing.loc[0, "geometry"] = g1.union(strip)
    drawing.loc[1, "geometry"] = g2.difference(g1.buffer(15.0))
    d = make_district(seed, drawing=drawing)
    cases.append(Case("drawn_across_community_line", d, {"crosses_parent": {"error"}},
                      note="grids of 风车坪社区 drawn against an old line 15 m inside 韶山路社区"))

    d = base.copy()
    outer = shapely.box(X0, Y0, X0 + WIDTH, Y0 + HEIGHT)
    idx = [i for i in range(len(d.grids))
           if d.grids.geometry.iloc[i].touches(outer.exterior)
           or d.grids.geometry.iloc[i].boundary.intersection(outer.exterior).length > 10]
    i = idx[0]
    _set_geom(d, i, d.grids.geometry.iloc[i].buffer(40.0, join_style="mitre").difference(
        d.grids.drop(index=d.grids.index[i]).union_all()))
    cases.append(Case("outside_district", d, {"outside_parent": {"error"}},
                      note="a boundary grid drawn 40 m beyond the district"))

    d = base.copy()
    i = _grid(d, f"{C1}004")
    d.grids.loc[d.grids.index[i], ["grid_code", "community_code"]] = [f"{C2}097", C2]
    cases.append(Case("wrong_parent", d, {"wrong_parent": {"error"}}, allowed={"code_order"},
                      repairable=False, note="a grid of 风车坪社区 labelled as 韶山路社区"))

    d = base.copy()
    i = _grid(d, f"{C1}005")
    d.grids.loc[d.grids.index[i], ["grid_code", "community_code"]] = ["430302009009001",
                                                                      "430302009009"]
    cases.append(Case("unknown_parent", d, {"unknown_parent": {"error"}}, repairable=False,
                      note="a grid naming a community that does not exist"))

    # -- shape ------------------------------------------------------------------------------------
    d = base.copy()
    a, b = _neighbour_pair(d, C2)
    ga, gb = d.grids.geometry.iloc[a], d.grids.geometry.iloc[b]
    # a 20 m piece of b, at b's vertex farthest from a
    far = max((shapely.Point(c) for c in gb.exterior.coords), key=lambda q: q.distance(ga))
    piece = gb.intersection(far.buffer(20.0))
    _set_geom(d, b, gb.difference(piece))
    _set_geom(d, a, ga.union(piece))
    cases.append(Case("multipart", d, {"multipart": {"error"}},
                      allowed={"building_unassigned"},
                      note="a grid owning a detached piece on the far side of its neighbour"))

    d = base.copy()
    i = _grid(d, f"{C3}003")
    g = d.grids.geometry.iloc[i]
    coords = np.asarray(g.exterior.coords)
    seg = np.argmax(np.hypot(*np.diff(coords, axis=0).T))
    edge = shapely.LineString(coords[seg:seg + 2])
    strip = g.intersection(edge.buffer(2.0, cap_style="flat"))
    _set_geom(d, i, g.difference(strip))
    _add_row(d, {"grid_code": f"{C3}099", "grid_name": "细条", "community_code": C3,
                 "kind": "basic", "households": 0, "population": 0, "flag": "",
                 "geometry": strip})
    cases.append(Case("sliver_thin", d, {"sliver": {"error"}},
                      allowed={"size_below_min", "code_order"},
                      note="a 2 m strip along a grid edge digitised as its own grid"))

    d = base.copy()
    i = _grid(d, f"{C3}004")
    g = d.grids.geometry.iloc[i]
    corner = shapely.Point(g.exterior.coords[0])
    tiny = g.intersection(corner.buffer(4.0))
    _set_geom(d, i, g.difference(tiny))
    _add_row(d, {"grid_code": f"{C3}098", "grid_name": "碎片", "community_code": C3,
                 "kind": "basic", "households": 0, "population": 0, "flag": "",
                 "geometry": tiny})
    cases.append(Case("sliver_tiny", d, {"sliver": {"error"}},
                      allowed={"size_below_min", "code_order"},
                      note="a tiny corner digitised as its own grid"))

    # -- sizes --------------------------------------------------------------------------------
    d = base.copy()
    g = d.grids
    basic_urban = g.index[(g["kind"] == "basic") & (g["community_code"] == C1)]
    g.loc[basic_urban[0], "households"] = 900
    g.loc[basic_urban[1], "households"] = 100
    g.loc[basic_urban[2], ["households", "flag"]] = [120, "below_min_allowed"]
    rural = g.index[g["community_code"] == C4]
    g.loc[rural[0], "population"] = 2000
    school = g.index[g["kind"] == "school"]
    g.loc[school, ["households", "population"]] = 0
    cases.append(Case("sizes", d, {"size_above_max": {"error"},
                                   "size_below_min": {"error", "warning"}},
                      repairable=False,
                      note="900 and 100 households, 120 flagged as allowed, a village grid of "
                           "2,000 residents; the school grid with 0 households is fine"))

    d = base.copy()
    d.grids["households"] = d.grids["households"].astype(float)
    d.grids.loc[d.grids.index[2], "households"] = np.nan
    cases.append(Case("size_unknown", d, {"size_unknown": {"warning"}}, repairable=False,
                      use_buildings=False, note="a grid without a household count"))

    d = base.copy()
    d.grids.loc[d.grids.index[3], "kind"] = "schol"
    cases.append(Case("kind_unknown", d, {"kind_unknown": {"warning"}}, repairable=False))

    d = base.copy()
    d.grids = d.grids.drop(columns=["households", "population"])
    cases.append(Case("sizes_from_buildings", d, {}, note="no size columns: counted from buildings"))

    # -- buildings / addresses ------------------------------------------------------------------
    d = base.copy()
    b = d.buildings
    extra = b.iloc[[0]].copy()
    extra["building_id"] = "B_OUTSIDE"
    extra["geometry"] = [_rect(X0 + WIDTH + 150, Y0 + 300)]
    a, bb = _neighbour_pair(d, C3)
    line = shapely.intersection(d.grids.geometry.iloc[a], d.grids.geometry.iloc[bb])
    mid = line.interpolate(0.5, normalized=True)
    split = b.iloc[[1]].copy()
    split["building_id"] = "B_SPLIT"
    split["geometry"] = [_rect(mid.x, mid.y, 16, 16)]
    d.buildings = gpd.GeoDataFrame(pd.concat([b, extra, split], ignore_index=True), crs=CRS)
    cases.append(Case("buildings", d, {"building_unassigned": {"error"},
                                       "building_split": {"warning"}},
                      allowed={"address_unassigned"}, repairable=False,
                      note="one building outside the district, one across a grid line"))

    d = base.copy()
    a, bb = _neighbour_pair(d, C3)
    pts = d.buildings.geometry.representative_point()
    first = [int(np.flatnonzero(pts.within(d.grids.geometry.iloc[g]).to_numpy())[0]) for g in (a, bb)]
    d.buildings = d.buildings.copy()
    d.buildings["compound_id"] = ""
    d.buildings.loc[d.buildings.index[first], "compound_id"] = "X01"
    cases.append(Case("compound_split", d, {"compound_split": {"warning"}}, repairable=False,
                      allowed={"address_unassigned"},
                      note="two buildings of one small compound in two neighbouring grids"))

    d = base.copy()
    ad = d.addresses
    extra = ad.iloc[[0]].copy()
    extra["address_id"] = "A_FAR"
    extra["geometry"] = [shapely.Point(113.5, 28.2)]
    d.addresses = gpd.GeoDataFrame(pd.concat([ad, extra], ignore_index=True), crs=4326)
    cases.append(Case("addresses", d, {"address_unassigned": {"error"}}, repairable=False,
                      note="an address geocoded 60 km away"))

    # -- codes -------------------------------------------------------------------------------------
    d = base.copy()
    d.grids.loc[d.grids.index[1], "grid_code"] = d.grids["grid_code"].iloc[0]
    cases.append(Case("code_duplicate", d, {"code_duplicate": {"error"}}, allowed={"code_order"},
                      repairable=False))

    d = base.copy()
    d.grids.loc[d.grids.index[[1, 2, 3]], "grid_code"] = ["12345", "43030200100100A", None]
    cases.append(Case("code_malformed", d, {"code_malformed": {"error"}}, repairable=False))

    d = base.copy()
    i = _grid(d, f"{C1}003")
    d.grids.loc[d.grids.index[i], "grid_code"] = f"{C2}093"
    cases.append(Case("code_prefix", d, {"code_prefix": {"error"}}, allowed={"code_order"},
                      repairable=False))

    d = base.copy()
    sub = d.grids[d.grids["community_code"] == C1]
    first, last = sub.index[0], sub.index[-1]
    d.grids.loc[[first, last], "grid_code"] = [sub.loc[last, "grid_code"],
                                                sub.loc[first, "grid_code"]]
    cases.append(Case("code_order", d, {"code_order": {"warning"}}, repairable=False,
                      note="the north-west and south-east grids swapped their serials"))

    # -- several at once (realistic) ------------------------------------------------------------
    d = make_district(seed, drawing=drawing)
    rng = np.random.default_rng(seed + 2)
    d.grids["geometry"] = [_jitter(g, rng, 0.15) for g in d.grids.geometry]
    i = int(np.flatnonzero(d.grids["community_code"].to_numpy() == C4)[0])
    d.grids.loc[d.grids.index[i], "geometry"] = affinity.translate(d.grids.geometry.iloc[i], 3, 0)
    cases.append(Case("realistic_mix", d, {"crosses_parent": {"error"}, "gap": {"error"},
                                           "overlap": {"error", "warning"}},
                      allowed={"outside_parent", "building_in_two", "address_in_two",
                               "gap", "crosses_parent", "building_unassigned",
                               "address_unassigned", "building_split"},
                      note="old community line + digitising jitter + a village grid shifted 3 m"))
    return cases


def write_corpus(out: Path, seed: int = 0) -> list[Path]:
    """Write every case as ``<name>.gpkg`` (layers grids, parents, buildings, addresses)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for case in corpus(seed):
        path = out / f"{case.name}.gpkg"
        if path.exists():
            path.unlink()
        for layer, gdf in case.layers().items():
            if gdf is not None:
                gdf.to_file(path, layer=layer, driver="GPKG")
        paths.append(path)
    return paths


if __name__ == "__main__":  # pragma: no cover
    for p in write_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "corpus_out")):
        print(p)
