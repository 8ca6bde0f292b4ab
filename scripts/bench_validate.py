"""Benchmark: validate a 10,000-grid plan (bar: ≤ 20 s on one core).

Builds a synthetic district of 100 communities × 100 Voronoi grids (EPSG:4547), with 50,000
buildings and addresses, and plants defects: digitising noise on 5 % of the grids, 10 missing
grids (gaps) and 10 grids drawn 20 m into a neighbour (overlaps). Then it times

1. ``gridgis.validate`` with every rule (parents, buildings, addresses);
2. ``gridgis.validate`` with the grids and parents only (coverage/nesting/shape/code rules);
3. the anchor: the same gap and overlap check with plain geopandas ``overlay``
   (``overlay(grids, grids, "intersection")`` for overlaps, ``overlay(parents, grids,
   "difference")`` for gaps),

and prints the time and peak memory of each step, the ratio and the gap/overlap areas both
found. Run: ``python scripts/bench_validate.py [--grids-per-side 10] [--per-community 100]``;
province scale (bar: grids + parents ≤ 10 s on 2 cores): ``python scripts/bench_validate.py
--grids 200000 --per-community 19 --buildings-per-grid 2``.
"""

from __future__ import annotations

import argparse
import math
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from _bench import step  # noqa: E402

from gridgis.validation import validate  # noqa: E402
from gridgis.validation._threads import threads  # noqa: E402

CRS = "EPSG:4547"
X0, Y0 = 391_000.0, 3_082_000.0


def make_plan(side: int, per_community: int, per_grid: int = 5, seed: int = 0):
    """``side²`` square communities of 1 km², each tiled by ``per_community`` Voronoi grids."""
    rng = np.random.default_rng(seed)
    comm_rows, grid_rows = [], []
    size = 1000.0
    for j in range(side):
        for i in range(side):
            k = j * side + i + 1
            code = f"430302{1 + k // 1000:03d}{k % 1000:03d}"
            x, y = X0 + i * size, Y0 - j * size
            poly = shapely.box(x, y - size, x + size, y)
            comm_rows.append({"code": code, "area_kind": "urban", "geometry": poly})
            pts = rng.uniform([x + 5, y - size + 5], [x + size - 5, y - 5], (per_community, 2))
            cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts),
                                                               extend_to=poly, ordered=True))
            cells = shapely.intersection(cells, poly)
            cen = shapely.centroid(cells)
            order = np.lexsort((shapely.get_x(cen), -np.floor(shapely.get_y(cen) / 100)))
            for s, c in enumerate(order, start=1):
                grid_rows.append({"grid_code": f"{code}{s:03d}", "community_code": code,
                                  "kind": "basic", "households": int(rng.integers(300, 500)),
                                  "population": 0, "flag": "", "geometry": cells[c]})
    comm = gpd.GeoDataFrame(comm_rows, crs=CRS)
    grids = gpd.GeoDataFrame(grid_rows, crs=CRS)
    grids["population"] = grids["households"] * 3
    # buildings: 5 small squares at random points inside each grid (8 m from its edge)
    cells = np.asarray(grids.geometry.array)
    inner = shapely.buffer(cells, -8.0)
    inner = np.where(shapely.is_empty(inner), cells, inner)
    pts = _points_in(inner, per_grid, rng)
    b = gpd.GeoDataFrame({"building_id": [f"B{i}" for i in range(len(pts))],
                          "households": 1, "population": 3},
                         geometry=shapely.buffer(pts, 3.0, cap_style="square"), crs=CRS)
    a = gpd.GeoDataFrame({"address_id": [f"A{i}" for i in range(len(pts))]},
                         geometry=pts, crs=CRS)
    return comm, grids, b, a


def _points_in(geoms: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random points inside each polygon (its point on surface when a draw misses)."""
    x0, y0, x1, y1 = shapely.bounds(geoms).T
    fallback = shapely.point_on_surface(geoms)
    out = []
    for _ in range(n):
        p = shapely.points(rng.uniform(x0, x1), rng.uniform(y0, y1))
        out.append(np.where(shapely.contains(geoms, p), p, fallback))
    return np.concatenate(out)


def plant_defects(grids: gpd.GeoDataFrame, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    g = grids.copy()
    geoms = np.asarray(g.geometry.array, dtype=object).copy()
    n = len(g)
    noisy = rng.choice(n, n // 20, replace=False)
    geoms[noisy] = shapely.buffer(geoms[noisy], -0.15, join_style="mitre")
    grow = rng.choice(np.setdiff1d(np.arange(n), noisy), 10, replace=False)
    geoms[grow] = shapely.buffer(geoms[grow], 20.0, join_style="mitre")
    g = g.set_geometry(gpd.GeoSeries(geoms, crs=g.crs))
    drop = rng.choice(np.setdiff1d(np.arange(n), np.r_[noisy, grow]), 10, replace=False)
    return g.drop(index=g.index[drop]).reset_index(drop=True)


def overlay_check(grids: gpd.GeoDataFrame, parents: gpd.GeoDataFrame) -> tuple[float, float]:
    """Gap and overlap areas with plain geopandas overlay (the anchor)."""
    g = grids[["grid_code", "geometry"]].copy()
    inter = gpd.overlay(g, g.rename(columns={"grid_code": "other"}), how="intersection",
                        keep_geom_type=True)
    inter = inter[inter["grid_code"] < inter["other"]]
    overlap_area = float(inter.area[inter.area > 0.01].sum())
    gaps = gpd.overlay(parents[["code", "geometry"]], g, how="difference", keep_geom_type=True)
    gaps = gaps.explode(index_parts=False)
    gap_area = float(gaps.area[gaps.area > 0.01].sum())
    return gap_area, overlap_area


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grids-per-side", type=int, default=10, help="communities per side")
    ap.add_argument("--per-community", type=int, default=100, help="grids per community")
    ap.add_argument("--grids", type=int, default=None,
                    help="plan size: about this many grids (communities per side follow from "
                         "--per-community); e.g. --grids 200000 --per-community 19")
    ap.add_argument("--buildings-per-grid", type=int, default=5)
    ap.add_argument("--skip-anchor", action="store_true", help="skip the geopandas overlay run")
    ap.add_argument("--skip-all-rules", action="store_true",
                    help="skip the run with buildings and addresses")
    ap.add_argument("--repair", action="store_true", help="also time gridgis.repair on the plan")
    args = ap.parse_args()
    side = args.grids_per_side
    if args.grids:
        side = max(1, round(math.sqrt(args.grids / args.per_community)))

    with step("make plan") as s:
        comm, grids, buildings, addresses = make_plan(side, args.per_community,
                                                      args.buildings_per_grid)
        plan = plant_defects(grids)
    print(f"plan: {len(plan):,} grids in {len(comm):,} communities, {len(buildings):,} buildings,"
          f" {len(addresses):,} addresses (made in {s.seconds:.1f} s)")

    full = None
    if not args.skip_all_rules:
        with step("gridgis validate, all rules") as s_full:
            full = validate(plan, comm, buildings, addresses)
        print(s_full.line(f"{len(full.findings):,} findings, {len(full.errors):,} errors"))
    with step("gridgis validate, grids + parents") as s_geo:
        geo = validate(plan, comm)
    gap = sum(f.measure for f in geo.select("gap"))
    ov = sum(f.measure for f in geo.select("overlap"))
    print(s_geo.line(f"gaps {gap:,.1f} m², overlaps {ov:,.1f} m²"))
    print(geo.counts().to_string(index=False))
    # like for like with the anchor: only the gap and overlap checks
    from gridgis.rules import load_rules
    from gridgis.validation.coverage import check_gaps, check_overlaps
    from gridgis.validation.prepare import prepare_grids, prepare_parents

    with step("gridgis gap + overlap checks only") as s_cov:
        prepared, _, mcrs = prepare_grids(plan)
        tol = load_rules(None).tolerances
        cov = check_overlaps(prepared, tol) + check_gaps(prepared, prepare_parents(comm, mcrs),
                                                         tol)
    print(s_cov.line(f"{len(cov):,} findings"))
    if not args.skip_anchor:
        with step("anchor: geopandas overlay gap+overlap") as s_anchor:
            gap_a, ov_a = overlay_check(plan, comm)
        print(s_anchor.line(f"gaps {gap_a:,.1f} m², overlaps {ov_a:,.1f} m²"))
        t_anchor = s_anchor.seconds
        ratios = [f"gap+overlap only {t_anchor / s_cov.seconds:.1f}x",
                  f"grids + parents {t_anchor / s_geo.seconds:.1f}x"]
        if full is not None:
            ratios.append(f"all rules {t_anchor / s_full.seconds:.1f}x")
        print("ratio overlay / gridgis: " + ", ".join(ratios))
    if args.repair:
        from gridgis.repairs import repair

        with step("gridgis repair (with re-validation)") as s_rep:
            res = repair(plan, comm, buildings)
        print(s_rep.line(f"{len(res.log):,} changes; after: "
                         f"{res.report.summary().splitlines()[0]}"))
    bar = 20.0 if len(plan) <= 20_000 else 10.0
    t_bar = s_full.seconds if full is not None and len(plan) <= 20_000 else s_geo.seconds
    what = "all-rules" if full is not None and len(plan) <= 20_000 else "grids + parents"
    status = "PASS" if t_bar <= bar else "FAIL"
    print(f"bar: {what} validation of {len(plan):,} grids ≤ {bar:.0f} s: {status} "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; threads "
          f"{threads()})")


if __name__ == "__main__":
    main()
