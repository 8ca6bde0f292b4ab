"""Benchmark: rewriting a 1,000,000-row table from old grid codes to new ones.

Runs, on the same synthetic data, the anchor (a plain ``pandas.merge`` of the table with a
one-successor-per-code crosswalk) and ``gridgis.codes.recode_table`` (which also locates rows
of split grids by their coordinates, reports unknown codes and keeps every row), first in
memory and then file to file (CSV in, CSV out). Prints the times and the ratio.

Usage: ``python scripts/bench_recode.py [--rows 1000000] [--seed 0]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgis.codes import assign_codes, recode, recode_table

CRS = "EPSG:4547"
X0, Y0, SIZE = 400_000.0, 3_080_000.0, 1000.0


def voronoi_plan(n_side: int, per: int, rng: np.random.Generator,
                 redraw: set[int] = frozenset(), base: dict | None = None):
    """Voronoi grids in ``n_side**2`` square communities (``per`` seeds each)."""
    rows, seeds = [], {}
    for k in range(n_side * n_side):
        i, j = k % n_side, k // n_side
        box = shapely.box(X0 + i * SIZE, Y0 - (j + 1) * SIZE, X0 + (i + 1) * SIZE, Y0 - j * SIZE)
        code = f"430302001{k + 1:03d}"
        if base is not None and k not in redraw:
            s = base[code]
        else:
            x0, y0, x1, y1 = box.bounds
            s = np.column_stack([rng.uniform(x0 + 10, x1 - 10, per),
                                 rng.uniform(y0 + 10, y1 - 10, per)])
        seeds[code] = s
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(s), extend_to=box))
        for cell in cells:
            rows.append({"community_code": code, "geometry": shapely.intersection(cell, box)})
    return gpd.GeoDataFrame(rows, crs=CRS), seeds


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)

    old, seeds = voronoi_plan(6, 25, rng)
    old = assign_codes(old)
    new, _ = voronoi_plan(6, 25, rng, redraw={3, 14, 20}, base=seeds)
    res = recode(old, new)
    print(f"plan: {len(old)} old grids, {len(new)} new grids; crosswalk relations "
          f"{res.summary().to_dict()}")

    # the table: events with WGS84 coordinates, coded by the old plan
    n = args.rows
    x0, y0, x1, y1 = old.total_bounds
    x, y = rng.uniform(x0 + 1, x1 - 1, n), rng.uniform(y0 + 1, y1 - 1, n)
    pts = shapely.points(x, y)
    hit = shapely.STRtree(np.asarray(old.geometry.array)).query(pts, predicate="within")
    code = np.empty(n, dtype=object)
    code[hit[0]] = old["grid_code"].to_numpy()[hit[1]]
    lon, lat = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=CRS).to_crs(4326).pipe(
        lambda s: (s.x.to_numpy(), s.y.to_numpy()))
    table = pd.DataFrame({
        "event_id": np.arange(n).astype(str), "grid_code": code,
        "category": rng.choice(["环境卫生", "治安", "消防"], n),
        "lon": lon.round(7), "lat": lat.round(7),
    })
    cw = res.crosswalk
    share = cw["hh_share"].fillna(cw["area_share"])
    one = (cw.assign(_s=share).dropna(subset=["old_code"])
           .sort_values(["old_code", "_s"], ascending=[True, False])
           .drop_duplicates("old_code")[["old_code", "new_code"]])

    def anchor():
        return table.merge(one, left_on="grid_code", right_on="old_code", how="left")

    def ours():
        return recode_table(table, res)

    # warm up both once (imports, caches)
    anchor()
    ours()
    merged, t_anchor = timed(anchor)
    result, t_ours = timed(ours)
    split_rows = int(result.counts.get("located", 0) + result.counts.get("located_outside", 0))
    print(f"in memory, {n:,} rows ({split_rows:,} located by coordinates):")
    print(f"  pandas merge      {t_anchor:7.2f} s")
    print(f"  gridgis recode    {t_ours:7.2f} s   ratio {t_ours / t_anchor:5.1f}x")
    print(f"  statuses: {result.counts.to_dict()}")

    with tempfile.TemporaryDirectory() as tmp:
        src, out_a, out_b = Path(tmp, "events.csv"), Path(tmp, "a.csv"), Path(tmp, "b.csv")
        table.to_csv(src, index=False)

        def anchor_file():
            df = pd.read_csv(src, dtype={"grid_code": str, "event_id": str})
            df.merge(one, left_on="grid_code", right_on="old_code", how="left").to_csv(
                out_a, index=False)

        def ours_file():
            recode_table(src, res, out=out_b)

        _, t_anchor_f = timed(anchor_file)
        _, t_ours_f = timed(ours_file)
        # where the file-to-file time goes
        from gridgis import io as gio

        read, t_read = timed(lambda: gio.read_table(src))
        rewritten, t_rewrite = timed(lambda: recode_table(read, res))
        _, t_write = timed(lambda: gio.write_table(rewritten.table, out_b))
    print("file to file (CSV read + rewrite + CSV write):")
    print(f"  pandas merge      {t_anchor_f:7.2f} s")
    print(f"  gridgis recode    {t_ours_f:7.2f} s   ratio {t_ours_f / t_anchor_f:5.1f}x")
    print(f"    of which gridgis.io.read_table {t_read:.2f} s, recode_table {t_rewrite:.2f} s, "
          f"gridgis.io.write_table {t_write:.2f} s")
    print(f"bar (rewrite <= 10 s for 1,000,000 rows): in memory "
          f"{'PASS' if t_ours <= 10 else 'FAIL'}, file to file {'PASS' if t_ours_f <= 10 else 'FAIL'}")


if __name__ == "__main__":
    main()
