"""Small synthetic districts for tests and benchmarks of the builder.

``synthetic_district(seed, nx, ny)`` returns communities on a wavy arterial grid (some split by
a boundary that follows no road), local roads with dead ends, lanes, a river, residential
buildings (walk-ups and clusters of high-rise compounds), rural villages and special sites, in
EPSG:4547 (CGCS2000 / 3-degree Gauss-Krüger CM 114E). Everything is drawn from
``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgis import schema

CRS = "EPSG:4547"
_ORIGIN = (389000.0, 3080000.0)


def _wavy(p0, p1, rng, amp, n=8) -> shapely.LineString:
    t = np.linspace(0, 1, n)
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    normal = np.array([-d[1], d[0]]) / (np.hypot(*d) or 1.0)
    off = np.concatenate([[0], rng.uniform(-amp, amp, n - 2), [0]])
    pts = p0[None, :] + t[:, None] * d[None, :] + off[:, None] * normal[None, :]
    return shapely.LineString(pts)


def synthetic_district(
    seed: int = 0,
    nx: int = 3,
    ny: int = 2,
    cell: float = 600.0,
    *,
    density: float = 1.0,
    rural_share: float = 0.0,
    sites: int = 2,
    river: bool = True,
) -> dict[str, gpd.GeoDataFrame]:
    """A synthetic district: ``communities, roads, rivers, buildings, special_sites``.

    Parameters
    ----------
    seed
        Random seed.
    nx, ny
        Arterial cells in x and y; each cell is one community, about one in three is split in
        two along a line that follows no road.
    cell
        Arterial spacing in metres.
    density
        Multiplier of the households per building.
    rural_share
        Share of communities that are rural villages (sparse, population-based).
    sites
        Number of special sites (schools, hospitals, markets, parks).
    river
        Whether a river crosses the district.
    """
    rng = np.random.default_rng(seed)
    frame = _arterials(rng, nx, ny, cell)
    communities = _communities(rng, frame.cells, rural_share)
    roads = _roads(rng, frame)
    rivers = _rivers(rng, frame, river)
    special_sites = _sites(rng, communities, sites)
    buildings = _buildings(rng, frame, communities, roads, rivers, special_sites, density)
    return {
        "communities": communities,
        "roads": roads,
        "rivers": rivers,
        "buildings": buildings,
        "special_sites": special_sites,
    }


@dataclass
class _Frame:
    """Outline and arterial cells of a synthetic district."""

    x0: float
    y0: float
    W: float
    H: float
    art: list
    outline: shapely.Polygon
    cells: np.ndarray
    n_cells: int


def _arterials(rng: np.random.Generator, nx: int, ny: int, cell: float) -> _Frame:
    """Wavy arterial grid (straight outline) and the cells between the arterials."""
    x0, y0 = _ORIGIN
    W, H = nx * cell, ny * cell
    xs = x0 + np.arange(nx + 1) * cell + np.r_[0, rng.uniform(-40, 40, nx - 1), 0]
    ys = y0 + np.arange(ny + 1) * cell + np.r_[0, rng.uniform(-40, 40, ny - 1), 0]
    # arterial lines (wavy inside, straight outline)
    art = []
    for i, x in enumerate(xs):
        amp = 0 if i in (0, nx) else 15
        art.append(_wavy((x, y0), (x, y0 + H), rng, amp))
    for j, y in enumerate(ys):
        amp = 0 if j in (0, ny) else 15
        art.append(_wavy((x0, y), (x0 + W, y), rng, amp))
    outline = shapely.box(x0, y0, x0 + W, y0 + H)
    cells = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.unary_union(art))))
    cells = cells[np.argsort(shapely.get_x(shapely.centroid(cells)) * 1e7
                             - shapely.get_y(shapely.centroid(cells)))]
    return _Frame(x0, y0, W, H, art, outline, cells, nx * ny)


def _communities(rng: np.random.Generator, cells: np.ndarray, rural_share: float
                 ) -> gpd.GeoDataFrame:
    """One community per cell, about one in three urban cells split along a line off the roads."""
    comm_geoms, comm_kind = [], []
    for c in cells:
        rural = rng.random() < rural_share
        if rng.random() < 0.35 and not rural:
            minx, miny, maxx, maxy = c.bounds
            if rng.random() < 0.5:
                xm = rng.uniform(minx + 0.35 * (maxx - minx), maxx - 0.35 * (maxx - minx))
                cut = _wavy((xm, miny - 50), (xm + rng.uniform(-60, 60), maxy + 50), rng, 20)
            else:
                ym = rng.uniform(miny + 0.35 * (maxy - miny), maxy - 0.35 * (maxy - miny))
                cut = _wavy((minx - 50, ym), (maxx + 50, ym + rng.uniform(-60, 60)), rng, 20)
            parts = shapely.get_parts(
                shapely.polygonize(shapely.get_parts(shapely.unary_union([c.exterior, cut])))
            )
            parts = [p for p in parts if c.contains(p.representative_point())]
            comm_geoms.extend(parts)
            comm_kind.extend(["urban"] * len(parts))
        else:
            comm_geoms.append(c)
            comm_kind.append("rural" if rural else "urban")
    n_comm = len(comm_geoms)
    codes = [f"430302{1 + i // 6:03d}{1 + i % 6:03d}" for i in range(n_comm)]
    communities = gpd.GeoDataFrame(
        {
            schema.CODE: codes,
            schema.NAME: [f"社区{i + 1}" for i in range(n_comm)],
            schema.PARENT_CODE: [c[:9] for c in codes],
            schema.AREA_KIND: comm_kind,
        },
        geometry=comm_geoms,
        crs=CRS,
    )
    return communities


def _roads(rng: np.random.Generator, frame: _Frame) -> gpd.GeoDataFrame:
    """Arterials, local roads inside each arterial cell (some dead ends) and lanes."""
    art, cells, outline = frame.art, frame.cells, frame.outline
    roads, rclass = list(art), ["arterial"] * len(art)
    for c in cells:
        minx, miny, maxx, maxy = c.bounds
        spacing = rng.uniform(110, 200)
        for x in np.arange(minx + spacing * rng.uniform(0.6, 1.0), maxx - 40, spacing):
            y_a, y_b = miny - 30, maxy + 30
            if rng.random() < 0.2:  # dead end
                y_b = rng.uniform(miny + 0.4 * (maxy - miny), maxy - 20)
            dx = rng.uniform(-15, 15)
            roads.append(shapely.LineString([(x, y_a), (x + dx, y_b)]))
            rclass.append("local")
        spacing = rng.uniform(110, 200)
        for y in np.arange(miny + spacing * rng.uniform(0.6, 1.0), maxy - 40, spacing):
            x_a, x_b = minx - 30, maxx + 30
            if rng.random() < 0.2:
                x_a = rng.uniform(minx + 20, minx + 0.6 * (maxx - minx))
            dy = rng.uniform(-15, 15)
            roads.append(shapely.LineString([(x_a, y), (x_b, y + dy)]))
            rclass.append("local")
        for _ in range(rng.integers(0, 3)):
            px, py = rng.uniform(minx + 30, maxx - 30), rng.uniform(miny + 30, maxy - 30)
            ang = rng.uniform(0, np.pi)
            ln = rng.uniform(30, 90)
            roads.append(shapely.LineString([(px, py), (px + ln * np.cos(ang), py + ln * np.sin(ang))]))
            rclass.append("lane")
    road_geoms = shapely.intersection(np.array(roads, dtype=object), outline.buffer(30))
    keep = ~shapely.is_empty(road_geoms)
    roads_gdf = gpd.GeoDataFrame(
        {
            schema.ROAD_ID: [f"R{i:04d}" for i in range(int(keep.sum()))],
            schema.ROAD_CLASS: np.array(rclass)[keep],
        },
        geometry=road_geoms[keep],
        crs=CRS,
    )
    return roads_gdf


def _rivers(rng: np.random.Generator, frame: _Frame, river: bool) -> gpd.GeoDataFrame:
    """A river across the district (or none)."""
    x0, y0, W, H = frame.x0, frame.y0, frame.W, frame.H
    rivers_list = []
    if river:
        ry = y0 + rng.uniform(0.3, 0.7) * H
        rivers_list.append(_wavy((x0 - 20, ry), (x0 + W + 20, ry + rng.uniform(-100, 100)), rng,
                                 60, n=14))
    rivers_gdf = gpd.GeoDataFrame(
        {schema.NAME: [f"河{i + 1}" for i in range(len(rivers_list))],
         schema.ROAD_CLASS: ["river"] * len(rivers_list), "width_m": [20.0] * len(rivers_list)},
        geometry=rivers_list, crs=CRS,
    )
    return rivers_gdf


def _sites(rng: np.random.Generator, communities: gpd.GeoDataFrame, sites: int
           ) -> gpd.GeoDataFrame:
    """Special sites: boxes inside a random community, not overlapping each other."""
    comm_geoms = list(communities.geometry)
    codes = list(communities[schema.CODE])
    n_comm = len(comm_geoms)
    site_geoms, site_kind = [], []
    kinds = ["school", "hospital", "market", "park", "industrial_park", "commercial"]
    for s in range(sites):
        ci = int(rng.integers(n_comm))
        poly = comm_geoms[ci]
        for _ in range(20):
            minx, miny, maxx, maxy = poly.bounds
            w, h = rng.uniform(60, 140), rng.uniform(60, 140)
            if maxx - w <= minx or maxy - h <= miny:
                continue
            px, py = rng.uniform(minx, maxx - w), rng.uniform(miny, maxy - h)
            box = shapely.box(px, py, px + w, py + h)
            if poly.contains(box) and not any(box.intersects(g) for g in site_geoms):
                site_geoms.append(box)
                site_kind.append(kinds[s % len(kinds)])
                break
    site_comm = [codes[int(np.argmax([g.intersection(c).area for c in comm_geoms]))]
                 for g in site_geoms]
    sites_gdf = gpd.GeoDataFrame(
        {
            schema.SITE_ID: [f"S{i:03d}" for i in range(len(site_geoms))],
            schema.NAME: [f"{k}{i + 1}" for i, k in enumerate(site_kind)],
            schema.KIND: site_kind,
            schema.COMMUNITY_CODE: site_comm,
        },
        geometry=site_geoms,
        crs=CRS,
    )
    return sites_gdf


def _buildings(rng: np.random.Generator, frame: _Frame, communities: gpd.GeoDataFrame,
               roads_gdf: gpd.GeoDataFrame, rivers_gdf: gpd.GeoDataFrame,
               sites_gdf: gpd.GeoDataFrame, density: float) -> gpd.GeoDataFrame:
    """Buildings on a jittered lattice away from roads, rivers and sites."""
    x0, y0, W, H = frame.x0, frame.y0, frame.W, frame.H
    comm_geoms = list(communities.geometry)
    comm_kind = list(communities[schema.AREA_KIND])
    codes = list(communities[schema.CODE])
    site_geoms = list(sites_gdf.geometry)
    river = len(rivers_gdf) > 0
    step = 34.0
    gx, gy = np.meshgrid(np.arange(x0 + 15, x0 + W - 15, step), np.arange(y0 + 15, y0 + H - 15, step))
    px = gx.ravel() + rng.uniform(-5, 5, gx.size)
    py = gy.ravel() + rng.uniform(-5, 5, gx.size)
    pts = shapely.points(px, py)
    lines = np.concatenate([roads_gdf.geometry.to_numpy(), rivers_gdf.geometry.to_numpy()])
    tree = shapely.STRtree(lines)
    near = np.zeros(len(pts), dtype=bool)
    hit = tree.query(pts, predicate="dwithin", distance=14.0)
    near[hit[0]] = True
    if river:
        hit = shapely.STRtree(rivers_gdf.geometry.to_numpy()).query(
            pts, predicate="dwithin", distance=30.0)
        near[hit[0]] = True
    if site_geoms:
        inside_site = np.zeros(len(pts), dtype=bool)
        hit = shapely.STRtree(np.array(site_geoms, dtype=object)).query(
            pts, predicate="dwithin", distance=2.0)
        inside_site[hit[0]] = True
    else:
        inside_site = np.zeros(len(pts), dtype=bool)
    comm_of = np.full(len(pts), -1)
    hit = shapely.STRtree(np.array(comm_geoms, dtype=object)).query(pts, predicate="within")
    comm_of[hit[0]] = hit[1]
    rural_comm = np.array([k == "rural" for k in comm_kind])
    keep = ~near & ~inside_site & (comm_of >= 0)
    keep &= ~(rural_comm[np.maximum(comm_of, 0)] & (rng.random(len(pts)) < 0.7))
    keep &= rng.random(len(pts)) < 0.85
    px, py, comm_of = px[keep], py[keep], comm_of[keep]
    n_b = len(px)
    # high-rise compounds: a few centres with large buildings around them
    centres = rng.uniform([x0, y0], [x0 + W, y0 + H], size=(max(1, frame.n_cells // 2), 2))
    dist = np.min(np.hypot(px[:, None] - centres[None, :, 0], py[:, None] - centres[None, :, 1]),
                  axis=1)
    highrise = dist < 120
    floors = np.where(highrise, rng.integers(12, 33, n_b), rng.integers(2, 8, n_b))
    w = rng.uniform(10, 16, n_b)
    h = rng.uniform(18, 26, n_b)
    ang = rng.uniform(-0.15, 0.15, n_b)
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    cx = corners[None, :, 0] * w[:, None]
    cy = corners[None, :, 1] * h[:, None]
    rx = px[:, None] + cx * np.cos(ang)[:, None] - cy * np.sin(ang)[:, None]
    ry = py[:, None] + cx * np.sin(ang)[:, None] + cy * np.cos(ang)[:, None]
    coords = np.stack([rx, ry], axis=2)
    bpolys = shapely.polygons(coords)
    area = w * h
    rural_b = rural_comm[comm_of]
    hh = np.maximum(1, np.round(area * floors / 90.0 * density * rng.uniform(0.7, 1.1, n_b)))
    hh = np.where(rural_b, np.round(rng.uniform(1, 4, n_b)), hh)
    pop = np.round(hh * rng.uniform(2.4, 3.2, n_b))
    buildings = gpd.GeoDataFrame(
        {
            schema.BUILDING_ID: [f"B{i:06d}" for i in range(n_b)],
            schema.COMMUNITY_CODE: np.array(codes)[comm_of],
            schema.USE: "residential",
            schema.FLOORS: floors,
            schema.HOUSEHOLDS: hh.astype(int),
            schema.POPULATION: pop.astype(int),
        },
        geometry=bpolys,
        crs=CRS,
    )
    return buildings


def summary(layers: dict[str, gpd.GeoDataFrame]) -> pd.Series:
    """Counts of a synthetic district (communities, buildings, households …)."""
    b = layers["buildings"]
    return pd.Series(
        {
            "communities": len(layers["communities"]),
            "roads": len(layers["roads"]),
            "buildings": len(b),
            "households": int(b[schema.HOUSEHOLDS].sum()),
            "population": int(b[schema.POPULATION].sum()),
        }
    )
