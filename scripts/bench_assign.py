"""Benchmark: gridgis.assign against geopandas.sjoin(predicate="within"), in one run.

Generates a plan of N grids (a Voronoi tessellation clipped to an irregular district outline, in
CGCS2000 / 3-degree Gauss-Krüger CM 114E, with 15-digit codes) and M points (most inside the
district, some around it), then times, from in-memory points to grid codes:

* anchor:  ``geopandas.sjoin(points, grids, predicate="within")`` (STRtree build included);
* gridgis: ``gridgis.assignment.assign(points, grids)`` (index build, validity checks, nearest-grid
  search for points outside and the output table included).

Each is run ``--repeat`` times, alternating; the best run of each is compared (and the median of
the per-round ratios, which is steadier on a busy machine). The script checks that gridgis
agrees with sjoin on every point sjoin matched, and prints the ratio and points/s. gridgis uses
a second thread (index build beside the coordinate read-out) when more than one core is
available.

    python scripts/bench_assign.py                 # 1,000,000 points, 1,000 grids
    python scripts/bench_assign.py --plan streets  # grids with ~150 vertices each
    python scripts/bench_assign.py --points 200000 --grids 300 --repeat 2
"""

from __future__ import annotations

import argparse
import gc
import time

import geopandas as gpd
import numpy as np
import shapely

import gridgis.assignment as ga

CRS = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E (Xiangtan is near 112.9E)
CENTRE = (393_000.0, 3_081_000.0)


def district_outline(seed: int = 0, radius: float = 6000.0) -> shapely.Polygon:
    """An irregular, star-like district outline about 2 * radius across."""
    rng = np.random.default_rng(seed)
    ang = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    r = radius * (1 + 0.22 * np.sin(3 * ang) + 0.08 * np.clip(rng.standard_normal(len(ang)), -2, 2))
    return shapely.Polygon(np.c_[CENTRE[0] + r * np.cos(ang), CENTRE[1] + r * np.sin(ang)])


def voronoi_plan(n_grids: int = 1000, seed: int = 0) -> tuple[gpd.GeoDataFrame, shapely.Polygon]:
    """A plan of ``n_grids`` Voronoi grids clipped to the district outline (a valid coverage)."""
    rng = np.random.default_rng(seed)
    outline = district_outline(seed)
    minx, miny, maxx, maxy = outline.bounds
    seeds = np.empty((0, 2))
    while len(seeds) < n_grids:
        cand = rng.uniform([minx, miny], [maxx, maxy], size=(n_grids, 2))
        seeds = np.vstack([seeds, cand[shapely.contains_xy(outline, cand[:, 0], cand[:, 1])]])
    seeds = seeds[:n_grids]
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline.buffer(1000))
    )
    cells = shapely.intersection(cells, outline)
    cells = cells[~shapely.is_empty(cells)]
    c = shapely.centroid(cells)
    cells = cells[np.lexsort((shapely.get_x(c), -shapely.get_y(c)))]  # north->south, west->east
    codes = [f"430302001{1 + i // 999:03d}{1 + i % 999:03d}" for i in range(len(cells))]
    grids = gpd.GeoDataFrame({"grid_code": codes}, geometry=cells, crs=CRS)
    return grids, outline


def wiggly_plan(n_grids: int = 1024, seed: int = 0, spacing: float = 10.0) -> tuple[gpd.GeoDataFrame, shapely.Polygon]:
    """A plan of street-following grids: a lattice of wiggly lines with a vertex every
    ``spacing`` metres (about 150 vertices per grid), polygonised into a valid coverage."""
    rng = np.random.default_rng(seed)
    k = int(round(np.sqrt(n_grids)))
    side = 12_000.0
    step = side / k
    t = np.linspace(0.0, side, int(side / spacing) + 1)
    x0, y0 = CENTRE[0] - side / 2, CENTRE[1] - side / 2
    lines = []
    for i in range(k + 1):
        border = i in (0, k)
        wig = np.zeros(len(t)) if border else 25 * np.sin(t / 150 + rng.uniform(0, 6.28)) + rng.normal(0, 3, len(t))
        lines.append(shapely.LineString(np.c_[x0 + t, y0 + i * step + wig]))
        wig = np.zeros(len(t)) if border else 25 * np.sin(t / 150 + rng.uniform(0, 6.28)) + rng.normal(0, 3, len(t))
        lines.append(shapely.LineString(np.c_[x0 + i * step + wig, y0 + t]))
    cells = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(lines))))
    cells = cells[shapely.area(cells) > 0.01 * step * step]
    c = shapely.centroid(cells)
    cells = cells[np.lexsort((shapely.get_x(c), -shapely.get_y(c)))]
    codes = [f"430302001{1 + i // 999:03d}{1 + i % 999:03d}" for i in range(len(cells))]
    grids = gpd.GeoDataFrame({"grid_code": codes}, geometry=cells, crs=CRS)
    return grids, shapely.box(x0, y0, x0 + side, y0 + side)


def random_points(outline: shapely.Polygon, n: int, seed: int = 1, outside_share: float = 0.05,
                  margin: float = 300.0) -> gpd.GeoDataFrame:
    """``n`` points: most uniformly inside the outline, ``outside_share`` in a ring around it."""
    rng = np.random.default_rng(seed)
    n_out = int(n * outside_share)
    ring = shapely.difference(outline.buffer(margin), outline)
    parts = []
    for shape, k in ((outline, n - n_out), (ring, n_out)):
        minx, miny, maxx, maxy = shape.bounds
        got = np.empty((0, 2))
        shapely.prepare(shape)
        while len(got) < k:
            cand = rng.uniform([minx, miny], [maxx, maxy], size=(max(2 * (k - len(got)), 16), 2))
            got = np.vstack([got, cand[shapely.contains_xy(shape, cand[:, 0], cand[:, 1])]])
        parts.append(got[:k])
    xy = np.vstack(parts)[rng.permutation(n)]
    return gpd.GeoDataFrame(
        {"event_id": np.arange(n)}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS
    )


def run_sjoin(points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.sjoin(points, grids, predicate="within")


def run_gridgis(points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> ga.AssignResult:
    return ga.assign(points, grids)


def timed(fn, *args):
    gc.collect()
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--grids", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plan", choices=["voronoi", "streets"], default="voronoi",
                    help="voronoi: straight-edged grids (~7 vertices each); streets: grids with "
                         "wiggly street-like edges (~150 vertices each)")
    args = ap.parse_args(argv)

    make = voronoi_plan if args.plan == "voronoi" else wiggly_plan
    grids, outline = make(args.grids, args.seed)
    points = random_points(outline, args.points, seed=args.seed + 1)
    print(f"plan: {len(grids)} grids, {shapely.get_num_coordinates(grids.geometry.values).sum():,} "
          f"vertices; points: {len(points):,} ({CRS})")

    t_sjoin, t_ours = [], []
    joined = result = None
    for _ in range(args.repeat):
        t, joined = timed(run_sjoin, points, grids)
        t_sjoin.append(t)
        t, result = timed(run_gridgis, points, grids)
        t_ours.append(t)

    # agreement on every point sjoin matched
    table = result.table
    ours = table["grid_code"].astype(object).to_numpy()
    matched = joined.index.to_numpy()
    if not joined.index.is_unique:
        raise SystemExit("sjoin matched a point to two grids: the plan overlaps")
    agree = ours[matched] == joined["grid_code"].to_numpy()
    n_disagree = int((~agree).sum())
    inside_ours = int((table["match"] == "inside").sum())

    best_s, best_o = min(t_sjoin), min(t_ours)
    ratio = best_s / best_o
    paired = float(np.median(np.array(t_sjoin) / np.array(t_ours)))
    print(f"geopandas.sjoin(within): best {best_s:.3f} s  runs {[round(t, 3) for t in t_sjoin]}")
    print(f"gridgis.assign         : best {best_o:.3f} s  runs {[round(t, 3) for t in t_ours]}")
    print(f"index: {result.plan.index.stats}")
    print(f"status: {dict(result.status_counts)}")
    print(f"sjoin matched {len(matched):,}; gridgis inside {inside_ours:,}; "
          f"disagreements on sjoin-matched points: {n_disagree}")
    print(f"ratio (sjoin / gridgis): {ratio:.2f}x best vs best; {paired:.2f}x median of paired runs")
    print(f"gridgis points/s: {len(points) / best_o:,.0f}   sjoin points/s: {len(points) / best_s:,.0f}")
    if n_disagree:
        raise SystemExit("gridgis disagrees with sjoin")
    return {"ratio": ratio, "paired_ratio": paired, "gridgis_s": best_o, "sjoin_s": best_s,
            "disagree": n_disagree}


if __name__ == "__main__":
    main()
