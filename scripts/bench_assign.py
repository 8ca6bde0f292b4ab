"""Benchmark: gridgis.assign against geopandas.sjoin(predicate="within"), in one run.

Generates a plan of N grids (a Voronoi tessellation clipped to an irregular district outline, in
CGCS2000 / 3-degree Gauss-Krüger CM 114E, with 15-digit codes) and M points (most inside the
district, some around it), then times, from in-memory points to grid codes:

* anchor:  ``geopandas.sjoin(points, grids, predicate="within")`` (STRtree build included);
* gridgis: ``gridgis.assignment.assign(points, grids)`` (index build, validity checks, nearest-grid
  search for points outside and the output table included);
* anchor: DuckDB spatial (``duckdb`` with the spatial extension of the ``duckdb-extension-spatial``
  package, loaded from disk), a join on ``ST_Intersects`` at the same thread count (``--threads``),
  from the coordinate and WKB arrays to a (point, grid) table;
* cold: a fresh ``gridgis assign`` process on ``--cold-points`` CSV rows against a fresh script
  doing the same with geopandas (imports, reading and writing included; ``bench_cold_assign.py``).

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
import os
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
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


def spatial_extension() -> str:
    """Path of DuckDB's spatial extension shipped by the ``duckdb-extension-spatial`` package
    (loaded from disk: nothing is downloaded)."""
    import duckdb_extension_spatial

    root = Path(duckdb_extension_spatial.__file__).parent / "extensions"
    found = sorted(root.glob("*/spatial.duckdb_extension"))
    if not found:
        raise SystemExit(f"no spatial extension under {root}")
    return str(found[-1])


def duckdb_connection(threads: int):
    import duckdb

    con = duckdb.connect(config={"threads": threads, "autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    con.execute(f"LOAD '{spatial_extension()}'")
    return con


def run_duckdb(con, points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """Points to grids in DuckDB spatial: a join on ``ST_Intersects`` (its spatial join),
    from the coordinate and WKB arrays to a (point, grid_code) table. A point on a shared edge
    comes back once per grid it touches; a point in no grid does not come back."""
    import pyarrow as pa

    xy = shapely.get_coordinates(np.asarray(points.geometry.array))
    pts = pa.table({"i": np.arange(len(xy)), "x": xy[:, 0], "y": xy[:, 1]})
    g = pa.table({"grid_code": grids["grid_code"].to_numpy(dtype=str),
                  "wkb": shapely.to_wkb(np.asarray(grids.geometry.array))})
    con.register("pts", pts)
    con.register("g", g)
    out = con.execute(
        "WITH gg AS (SELECT grid_code, ST_GeomFromWKB(wkb) AS geom FROM g) "
        "SELECT p.i, gg.grid_code FROM pts p JOIN gg ON ST_Intersects(gg.geom, ST_Point(p.x, p.y))"
    ).to_arrow_table().to_pandas()
    con.unregister("pts")
    con.unregister("g")
    return out


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
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1),
                    help="threads of DuckDB (gridgis uses up to 2)")
    ap.add_argument("--cold-points", type=int, default=100_000,
                    help="rows of the cold CLI comparison (0: skip it)")
    ap.add_argument("--skip-duckdb", action="store_true")
    ap.add_argument("--plan", choices=["voronoi", "streets"], default="voronoi",
                    help="voronoi: straight-edged grids (~7 vertices each); streets: grids with "
                         "wiggly street-like edges (~150 vertices each)")
    args = ap.parse_args(argv)

    make = voronoi_plan if args.plan == "voronoi" else wiggly_plan
    grids, outline = make(args.grids, args.seed)
    points = random_points(outline, args.points, seed=args.seed + 1)
    print(f"plan: {len(grids)} grids, {shapely.get_num_coordinates(grids.geometry.values).sum():,} "
          f"vertices; points: {len(points):,} ({CRS}); threads: {args.threads}")

    con = None if args.skip_duckdb else duckdb_connection(args.threads)
    t_sjoin, t_ours, t_duck = [], [], []
    joined = result = duck = None
    for _ in range(args.repeat):
        t, joined = timed(run_sjoin, points, grids)
        t_sjoin.append(t)
        t, result = timed(run_gridgis, points, grids)
        t_ours.append(t)
        if con is not None:
            t, duck = timed(run_duckdb, con, points, grids)
            t_duck.append(t)

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
    print(f"anchor geopandas.sjoin(within): best {best_s:.3f} s  runs {[round(t, 3) for t in t_sjoin]}")
    if con is not None:
        print(f"anchor DuckDB spatial join     : best {min(t_duck):.3f} s  runs "
              f"{[round(t, 3) for t in t_duck]}")
    print(f"gridgis.assign                 : best {best_o:.3f} s  runs {[round(t, 3) for t in t_ours]}")
    print(f"index: {result.plan.index.stats}")
    print(f"status: {dict(result.status_counts)} (every row back: {len(table) == len(points)})")
    print(f"sjoin matched {len(matched):,}; gridgis inside {inside_ours:,}; "
          f"disagreements on sjoin-matched points: {n_disagree}")
    out = {"ratio": ratio, "paired_ratio": paired, "gridgis_s": best_o, "sjoin_s": best_s,
           "disagree": n_disagree}
    print(f"ratio (sjoin / gridgis): {ratio:.2f}x best vs best; {paired:.2f}x median of paired runs")
    if con is not None:
        d = duck.drop_duplicates("i")
        hit = d["i"].to_numpy()
        n_dd = int((ours[hit] != d["grid_code"].to_numpy()).sum())
        extra = len(duck) - len(d)
        out["duckdb_s"] = min(t_duck)
        out["duckdb_ratio"] = min(t_duck) / best_o
        print(f"ratio (DuckDB / gridgis): {out['duckdb_ratio']:.2f}x best vs best; DuckDB "
              f"returned {len(duck):,} rows ({extra:,} points twice, "
              f"{len(points) - len(d):,} points not at all); disagreements: {n_dd}")
    print(f"gridgis points/s: {len(points) / best_o:,.0f}   sjoin points/s: {len(points) / best_s:,.0f}")
    if args.cold_points:  # a fresh `gridgis assign` against a fresh geopandas script
        from bench_cold_assign import main as cold_main

        cold = cold_main(["--points", str(args.cold_points), "--grids", str(args.grids),
                          "--repeat", str(max(args.repeat, 3))])
        out["cold_ratio"] = min(c["ratio_wall"] for c in cold.values())
    if n_disagree:
        raise SystemExit("gridgis disagrees with sjoin")
    return out


if __name__ == "__main__":
    main()
