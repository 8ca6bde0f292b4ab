"""Turn the built district into the canonical GeoDataFrames (EPSG:4547)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from . import _names as N
from ._district import DistrictBuilder
from ._events import make_events, to_frame_times
from ._geom import rect_polygons, rotate_xy

__all__ = [
    "CRS",
    "ORIGIN",
    "build_layers",
    "to_wgs84",
]

CRS = "EPSG:4547"
ORIGIN = np.array([391650.0, 3082300.0])  # ~112.9E, 27.85N in CGCS2000 / 3-degree GK CM 114E
_TO_WGS84 = None


def to_wgs84(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:4547 metres to WGS84 lon/lat, rounded to 1e-7 degrees."""
    global _TO_WGS84
    if _TO_WGS84 is None:
        _TO_WGS84 = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    lon, lat = _TO_WGS84.transform(np.asarray(x, float), np.asarray(y, float))
    return np.round(lon, 7), np.round(lat, 7)


def _shift(geoms) -> np.ndarray:
    return shapely.transform(np.asarray(geoms, dtype=object), lambda xy: xy + ORIGIN)


def _gdf(data: dict, geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(_shift(geoms), crs=CRS), crs=CRS)


def _str(values) -> pd.Series:
    return pd.Series(list(values), dtype=object).astype("str")


def build_layers(seed: int = 0, scale: float = 1.0) -> dict[str, gpd.GeoDataFrame]:
    """Run the whole generator and return the ten canonical layers."""
    b = DistrictBuilder(seed, scale)
    b.frame()
    b.arterials()
    b.local_streets()
    b.blocks()
    b.urban()
    b.communities()
    b.rural()
    b.streets()
    b.naming()
    r = b.assemble()
    district, streets, communities = _admin_layers(b, r)
    roads, rivers = _line_layers(r)
    buildings, a, bid, comm_of = _building_layer(b)
    special_sites = _site_layer(b)
    addresses, _ = _addresses(b, a, bid, comm_of)
    layers: dict[str, gpd.GeoDataFrame] = dict(
        district=district, streets=streets, communities=communities, roads=roads, rivers=rivers,
        buildings=buildings, special_sites=special_sites, addresses=addresses,
    )
    layers["events"], layers["hotspots"] = _event_layers(b, a, scale)
    return layers


def _polygons(g: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of a geometry (empty when it has none)."""
    if g is None:
        return shapely.Polygon()
    parts = shapely.get_parts(g)
    parts = parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)]
    return shapely.union_all(parts) if len(parts) else shapely.Polygon()


def _admin_layers(b: DistrictBuilder, r: dict) -> tuple[gpd.GeoDataFrame, ...]:
    """District, streets and communities."""
    # polygons only (a community squeezed to a line by its neighbours is left out)
    geom = {c: _polygons(r["comm_geom"][c]) for c in b.comm_ids}
    comm_ids = sorted((c for c in b.comm_ids if not geom[c].is_empty), key=lambda c: b.comm_code[c])
    comm_geom = [geom[c] for c in comm_ids]
    communities = _gdf({
        "code": _str(b.comm_code[c] for c in comm_ids),
        "name": _str(b.comm_name[c] for c in comm_ids),
        "parent_code": _str(b.street_code[b.comm_street[c]] for c in comm_ids),
        "area_kind": _str("urban" if b.comm_urban[c] else "rural" for c in comm_ids),
    }, comm_geom)
    st_ids = sorted((s for s in b.street_code if any(b.comm_street[c] == s for c in comm_ids)),
                    key=lambda s: b.street_code[s])
    st_geom = [shapely.coverage_union_all(np.asarray(
        [g for c, g in zip(comm_ids, comm_geom, strict=True) if b.comm_street[c] == s], dtype=object))
        for s in st_ids]
    streets = _gdf({
        "code": _str(b.street_code[s] for s in st_ids),
        "name": _str(b.street_name[s] for s in st_ids),
        "parent_code": _str(b.street_code[s][:6] for s in st_ids),
    }, st_geom)
    # one district, or several when a city-sized scale needs more than 99 streets per kind
    d_codes = sorted({b.street_code[s][:6] for s in st_ids})
    district = _gdf({
        "code": _str(d_codes),
        "name": _str(N.DISTRICT_NAME if k == 0 else f"{N.DISTRICT_NAME[:-1]}{N.numeral(k + 1)}区"
                     for k in range(len(d_codes))),
    }, [shapely.coverage_union_all(np.asarray(
        [g for s, g in zip(st_ids, st_geom, strict=True) if b.street_code[s][:6] == d],
        dtype=object)) for d in d_codes])
    return district, streets, communities


def _line_layers(r: dict) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Roads and rivers."""
    cls_order = {"arterial": 0, "local": 1, "lane": 2}
    rows = sorted(r["roads"], key=lambda t: (cls_order[t[0]], t[1],
                                              -round(t[2].centroid.y), round(t[2].centroid.x)))
    roads = _gdf({
        "road_id": _str(f"R{k + 1:05d}" for k in range(len(rows))),
        "name": _str(t[1] for t in rows),
        "road_class": _str(t[0] for t in rows),
    }, [t[2] for t in rows])
    rivers = _gdf({
        "name": _str(t[0] for t in r["rivers"]),
        "road_class": _str("river" for _ in r["rivers"]),
        "width_m": np.array([t[1] for t in r["rivers"]], dtype=float),
    }, [t[2] for t in r["rivers"]])
    return roads, rivers


def _building_layer(b: DistrictBuilder) -> tuple[gpd.GeoDataFrame, dict, np.ndarray, np.ndarray]:
    """Buildings, and their column arrays, ids and community codes (in the layer's order)."""
    a = b.bld.arrays()
    geom = rect_polygons(a["cx"], a["cy"], a["w"], a["d"], a["angle"])
    # safety net: drop any building that touches an earlier one (never expected)
    tree = shapely.STRtree(geom)
    i, j = tree.query(geom, predicate="intersects")
    clash = np.unique(j[i < j])
    keep = np.ones(len(geom), dtype=bool)
    keep[clash] = False
    a = {k: v[keep] for k, v in a.items()}
    geom = geom[keep]
    blk = a["block"].astype(int)
    comm_of = np.array([b.comm_code[int(c)] for c in b.block_comm[blk]], dtype=object)
    order = np.lexsort((np.round(a["cx"]), -np.round(a["cy"] / 20.0), a["compound"], comm_of))
    a = {k: v[order] for k, v in a.items()}
    geom, comm_of = geom[order], comm_of[order]
    n_b = len(geom)
    bid = np.array([f"B{k + 1:06d}" for k in range(n_b)], dtype=object)
    buildings = _gdf({
        "building_id": _str(bid),
        "community_code": _str(comm_of),
        "compound_id": _str(a["compound"]),
        "use": _str(a["use"]),
        "floors": a["floors"].astype("int64"),
        "households": a["households"].astype("int64"),
        "population": a["population"].astype("int64"),
    }, geom)
    return buildings, a, bid, comm_of


def _site_layer(b: DistrictBuilder) -> gpd.GeoDataFrame:
    """Special sites, named by kind."""
    site_rows = []
    kind_count: dict[str, int] = {}
    for s in b.sites:
        kind = s["kind"]
        kind_count[kind] = kind_count.get(kind, 0) + 1
        k = kind_count[kind]
        stem = b.place_names.take("")
        if kind == "school":
            name = f"湘潭市{stem}{N.SCHOOL_KINDS[(k - 1) % len(N.SCHOOL_KINDS)]}"
        elif kind == "hospital":
            name = f"湘潭市第{N.numeral(k)}人民医院" if k <= 3 else f"{stem}社区卫生服务中心"
        elif kind == "park":
            name = "雨湖公园" if k == 1 else f"{stem}公园"
        else:
            name = stem + {"market": "农贸市场", "industrial_park": "工业园",
                           "commercial": "商业广场"}[kind]
        site_rows.append((s["id"], name, kind, b.comm_code[int(b.block_comm[s["block"]])], s["poly"]))
    return _gdf({
        "site_id": _str(t[0] for t in site_rows),
        "name": _str(t[1] for t in site_rows),
        "kind": _str(t[2] for t in site_rows),
        "community_code": _str(t[3] for t in site_rows),
    }, [t[4] for t in site_rows])


def _event_layers(b: DistrictBuilder, a: dict, scale: float
                  ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Events and hotspots."""
    ev, hot = make_events(b, a, b.rng, scale)
    lon, lat = to_wgs84(ev["x"] + ORIGIN[0], ev["y"] + ORIGIN[1])
    n = len(ev["x"])
    events = _gdf({
        "event_id": _str(f"SJ2025{k + 1:06d}" for k in range(n)),
        "category": _str(ev["category"]),
        "urgency": _str(ev["urgency"]),
        "stage": _str(ev["stage"]),
        "reported_at": to_frame_times(ev["reported_at"]),
        "closed_at": to_frame_times(ev["closed_at"]),
        "lon": lon,
        "lat": lat,
    }, shapely.points(np.c_[ev["x"], ev["y"]]))
    lon, lat = to_wgs84(hot["x"] + ORIGIN[0], hot["y"] + ORIGIN[1])
    hotspots = _gdf({
        "hotspot_id": _str(f"H{k + 1}" for k in range(len(hot["x"]))),
        "name": _str(hot["name"]),
        "category": _str(hot["category"]),
        "radius_m": hot["radius_m"],
        "n_events": hot["n_events"],
        "lon": lon,
        "lat": lat,
    }, shapely.points(np.c_[hot["x"], hot["y"]]))
    return events, hotspots


def _addresses(b: DistrictBuilder, a: dict, bid: np.ndarray, comm_of: np.ndarray):
    """One address per unit entrance of urban residential buildings, one per rural house."""
    res = a["use"] == "residential"
    comm_by_code = {b.comm_code[c]: c for c in b.comm_ids}
    street_of = {code: b.street_name[b.comm_street[c]] for code, c in comm_by_code.items()}
    name_of = {code: b.comm_name[c] for code, c in comm_by_code.items()}
    # house numbers: each urban compound gets a number on its nearest named street
    named = [ln for ln in b.road_lines if ln.kind in ("arterial", "local")]
    rl = np.array([ln.geom for ln in named], dtype=object)
    tree = shapely.STRtree(rl)
    comp_ids = sorted({c for c, u in zip(a["compound"], res, strict=True) if u and c.startswith("C")})
    comp_pos = {}
    for c in comp_ids:
        m = a["compound"] == c
        comp_pos[c] = np.array([a["cx"][m].mean(), a["cy"][m].mean()])
    number: dict[str, tuple[str, int]] = {}
    if comp_ids:
        pts = shapely.points(np.array([comp_pos[c] for c in comp_ids]))
        near = tree.nearest(pts)
        by_road: dict[str, list] = {}
        for c, p, h in zip(comp_ids, pts, near.tolist(), strict=True):
            g = rl[h]
            m = g.project(p)
            q = np.asarray(g.interpolate(m).coords[0])
            q2 = np.asarray(g.interpolate(min(g.length, m + 1.0)).coords[0])
            t = q2 - q
            pc = np.asarray(p.coords[0]) - q
            side = int(t[0] * pc[1] - t[1] * pc[0] < 0)  # 1 = right-hand side -> even numbers
            key = named[h].name
            by_road.setdefault(key, []).append((round(g.centroid.x), m, side, c))
        for road, items in by_road.items():
            items.sort()
            last = {0: -1, 1: 0}
            for *_, side, c in items:
                n = last[side] + 2 * int(b.rng.integers(1, 5))
                last[side] = n
                number[c] = (road, n)
    hamlet = {h["id"]: h for h in b.hamlets}
    # per building: entrance points and address strings
    rows_bid, rows_comm, rows_addr, rows_xy = [], [], [], []
    seq_in_comp: dict[str, int] = {}
    for k in np.flatnonzero(res).tolist():
        comp = a["compound"][k]
        code = comm_of[k]
        prefix = f"{N.CITY}{N.DISTRICT_NAME}{street_of[code]}{name_of[code]}"
        seq_in_comp[comp] = seq_in_comp.get(comp, 0) + 1
        if comp.startswith("H"):
            h = hamlet[comp]
            addrs = [f"{prefix}{N.numeral(h['group'])}组{seq_in_comp[comp]}号"]
            local = np.array([[0.0, -a["d"][k] / 2 + 1.0]])
        else:
            road, num = number[comp]
            u = max(1, int(a["units"][k]))
            addrs = [f"{prefix}{road}{num}号{seq_in_comp[comp]}栋{j + 1}单元" for j in range(u)]
            xs = -a["w"][k] / 2 + (np.arange(u) + 0.5) * a["w"][k] / u
            local = np.c_[xs, np.full(u, -a["d"][k] / 2 + 1.0)]
        xy = rotate_xy(local, a["angle"][k]) + np.array([a["cx"][k], a["cy"][k]])
        rows_xy.append(xy)
        rows_addr += addrs
        rows_bid += [bid[k]] * len(addrs)
        rows_comm += [code] * len(addrs)
    xy = np.vstack(rows_xy) if rows_xy else np.empty((0, 2))
    pts = shapely.points(xy)
    absxy = xy + ORIGIN
    lon, lat = to_wgs84(absxy[:, 0], absxy[:, 1])
    n = len(rows_addr)
    gdf = _gdf({
        "address_id": _str(f"A{k + 1:07d}" for k in range(n)),
        "building_id": _str(rows_bid),
        "community_code": _str(rows_comm),
        "address": _str(rows_addr),
        "lon": lon,
        "lat": lat,
    }, pts)
    return gdf, xy
