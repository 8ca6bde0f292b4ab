"""Benchmark: 2.5D grid map of 1,000 grids and 20,000 buildings (bar: ≤ 20 s at 300 dpi).

Anchor, in the same run: a flat ``GeoDataFrame.plot`` of the same grids and buildings.

    python scripts/bench_render.py [--grids 1000] [--buildings 20000] [--dpi 300]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import geopandas as gpd  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402

from gridgis.render import grid_map_25d  # noqa: E402


def synthetic(n_grids: int, n_buildings: int, seed: int = 0) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Voronoi grids over a 12 km square (metric, EPSG:4547) and box-shaped buildings."""
    rng = np.random.default_rng(seed)
    x0, y0, size = 380_000.0, 3_070_000.0, 12_000.0
    pts = shapely.points(rng.uniform([x0, y0], [x0 + size, y0 + size], (n_grids, 2)))
    frame = shapely.box(x0, y0, x0 + size, y0 + size)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame))
    cells = shapely.intersection(cells, frame)
    grids = gpd.GeoDataFrame(
        {"grid_code": [f"430302{i // 900:06d}{i % 900 + 1:03d}" for i in range(len(cells))],
         "kind": np.where(rng.random(len(cells)) < 0.1, "school", "basic"),
         "households": rng.integers(300, 501, len(cells))},
        geometry=cells, crs=4547)
    centres = rng.uniform([x0, y0], [x0 + size, y0 + size], (n_buildings, 2))
    w = rng.uniform(10, 30, n_buildings)
    boxes = shapely.box(centres[:, 0] - w, centres[:, 1] - w / 2, centres[:, 0] + w, centres[:, 1] + w / 2)
    buildings = gpd.GeoDataFrame({"floors": rng.integers(1, 30, n_buildings)}, geometry=boxes, crs=4547)
    return grids, buildings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grids", type=int, default=1000)
    ap.add_argument("--buildings", type=int, default=20000)
    ap.add_argument("--dpi", type=int, default=300)
    args = ap.parse_args()
    grids, buildings = synthetic(args.grids, args.buildings)
    out = Path(tempfile.mkdtemp())
    t = time.perf_counter()
    fig, ax = plt.subplots(figsize=(11, 9))
    grids.plot(ax=ax, column="kind", edgecolor="k", linewidth=0.3)
    buildings.plot(ax=ax, color="grey")
    fig.savefig(out / "flat.png", dpi=args.dpi)
    plt.close(fig)
    t_flat = time.perf_counter() - t
    t = time.perf_counter()
    grid_map_25d(grids, buildings=buildings, height="households", color="kind", labels="code",
                 title="2.5D benchmark", out=out / "map25d.png", dpi=args.dpi)
    t_25d = time.perf_counter() - t
    print(f"grids {len(grids)}, buildings {len(buildings)}, {args.dpi} dpi")
    print(f"GeoDataFrame.plot (flat, anchor): {t_flat:6.2f} s")
    print(f"gridgis grid_map_25d (2.5D):      {t_25d:6.2f} s   ratio 2.5D/flat = {t_25d / t_flat:.2f}")
    print(f"bar ≤ 20 s: {'met' if t_25d <= 20 else 'NOT met'}")


if __name__ == "__main__":
    main()
