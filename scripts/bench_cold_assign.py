"""Benchmark: a cold ``gridgis assign`` against a cold geopandas script doing the same, in one run.

Both run as fresh processes (imports, reading and writing included) on the same files: a plan
GeoPackage of N grids (Voronoi grids in EPSG:4547, as in ``bench_assign.py``) and a CSV of M WGS84
points (``event_id,lon,lat``; about 5 % outside the plan), writing a CSV. The points file is
written twice: with 6 decimals, as geocoders and GPS exports write coordinates, and with every
digit of a double (17 significant digits, which every CSV reader parses more slowly):

* ``gridgis assign points.csv --grids plan.gpkg -o ours.csv`` (the command as installed,
  ``python -m gridgis.cli``: its quick path), and the same command through the Typer app
  (``GRIDGIS_QUICK=0``, the full path: pandas, geopandas, GDAL), whose file must be identical;
* the anchor, a script with geopandas: read the plan (``gpd.read_file``) and the CSV
  (``pd.read_csv``), ``sjoin(predicate="within")`` after ``to_crs``, then the boundary rule as
  close as reasonable (points not strictly inside any grid joined with ``intersects``, one grid
  per point: the smallest code), every input row back, and ``to_csv``.

gridgis's bytecode is compiled first, as an installed package has it. Each command is run
``--repeat`` times, alternating; the medians of the wall times and of the CPU times (user +
system of the child) are printed with their ratios, and the load average before and after.
The two outputs are compared on every row the anchor matched.

    python scripts/bench_cold_assign.py                 # 100,000 rows, 1,000 grids, 7 runs each
    python scripts/bench_cold_assign.py --points 20000 --repeat 3 --precision "6 decimals"
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_assign import random_points, voronoi_plan  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

ANCHOR = """
import sys
import geopandas as gpd, pandas as pd
pts, plan, out = sys.argv[1:4]
df = pd.read_csv(pts)
g = gpd.read_file(plan)[["grid_code", "geometry"]]
p = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326).to_crs(g.crs)
j = gpd.sjoin(p, g, predicate="within", how="left")
j = j[~j.index.duplicated()]
code = j["grid_code"]
rest = code.isna()  # the boundary rule: on an edge, the smallest code of the grids touching it
if rest.any():
    b = gpd.sjoin(p[rest.to_numpy()], g, predicate="intersects")
    code[b.index.unique()] = b.groupby(level=0)["grid_code"].min()
df["grid_code"] = code.to_numpy()
df.to_csv(out, index=False)
"""


def run(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


#: The coordinate texts compared: as geocoders and GPS exports write them (6 decimals, about
#: 0.1 m), and every digit of a double (17 significant digits; slower to read for Python, numpy
#: and pandas alike, though pandas' own parser hides it better).
PRECISIONS = {"6 decimals": 6, "full precision": None}


def _points_csv(path: Path, pts, decimals: int | None) -> None:
    lon, lat = pts.geometry.x, pts.geometry.y
    if decimals is not None:
        lon, lat = lon.round(decimals), lat.round(decimals)
    pd.DataFrame({"event_id": pts["event_id"], "lon": lon, "lat": lat}).to_csv(path, index=False)


def _compare(folder: Path, points: str, repeat: int) -> dict[str, float]:
    """Alternate the three commands ``repeat`` times on one points file; medians and ratios."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(ROOT), os.environ.get("PYTHONPATH")]))}
    ours = [sys.executable, "-m", "gridgis.cli", "-q", "--lang", "en", "assign", points,
            "--grids", "plan.gpkg", "-o", "ours.csv"]
    theirs = [sys.executable, "anchor.py", points, "plan.gpkg", "theirs.csv"]
    full = [*ours[:-1], "full.csv"]  # the same command through the Typer app (GRIDGIS_QUICK=0)
    load0 = os.getloadavg()
    runs: dict[str, list[tuple[float, float]]] = {"gridgis": [], "anchor": [], "full": []}
    for _ in range(repeat):
        for name, cmd, extra in (("gridgis", ours, {}), ("anchor", theirs, {}),
                                 ("full", full, {"GRIDGIS_QUICK": "0"})):
            runs[name].append(run(cmd, folder, {**env, **extra}))
    if (folder / "ours.csv").read_bytes() != (folder / "full.csv").read_bytes():
        raise SystemExit("the quick and the full command wrote different files")
    a = pd.read_csv(folder / "ours.csv", dtype=str)
    b = pd.read_csv(folder / "theirs.csv", dtype=str)
    load1 = os.getloadavg()
    hit = b["grid_code"].notna().to_numpy()
    ours_code = a.iloc[:, 3].to_numpy()  # the header is for people ("Grid code")
    disagree = int((ours_code[hit] != b["grid_code"].to_numpy()[hit]).sum())
    if len(a) != len(b) or disagree:
        raise SystemExit(f"cold runs disagree on {disagree} rows")
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
           for k, v in runs.items()}
    print(f"  {repeat} runs each; load average {load0[0]:.2f} before, {load1[0]:.2f} after")
    for k, v in runs.items():
        print(f"  {k:8} median wall {med[k][0]:.3f} s  cpu {med[k][1]:.2f} s   runs "
              f"{[round(w, 3) for w, _ in v]}")
    out = {"gridgis_wall": med["gridgis"][0], "gridgis_cpu": med["gridgis"][1],
           "anchor_wall": med["anchor"][0], "anchor_cpu": med["anchor"][1],
           "ratio_wall": med["anchor"][0] / med["gridgis"][0],
           "ratio_cpu": med["anchor"][1] / med["gridgis"][1], "load": load1[0]}
    out["full_wall"], out["full_cpu"] = med["full"]
    print(f"  ratio (anchor / gridgis): wall {out['ratio_wall']:.2f}x, cpu {out['ratio_cpu']:.2f}x;"
          f" rows the anchor matched: {int(hit.sum()):,}, disagreements: {disagree}")
    print(f"  ratio (anchor / full command): wall {med['anchor'][0] / med['full'][0]:.2f}x, "
          f"cpu {med['anchor'][1] / med['full'][1]:.2f}x (the quick path's file is identical)")
    return out


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--grids", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--precision", choices=[*PRECISIONS, "both"], default="both",
                    help="coordinate texts of the points file (default: both, one after the other)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="bench_cold_assign_"))
    grids, outline = voronoi_plan(args.grids, 0)
    grids.to_file(folder / "plan.gpkg")
    pts = random_points(outline, args.points, seed=7).to_crs(4326)
    (folder / "anchor.py").write_text(ANCHOR)
    # gridgis's bytecode, as an installed package has it (pip compiles it; a source checkout
    # run with PYTHONDONTWRITEBYTECODE would compile every module in every run)
    compileall.compile_dir(ROOT / "gridgis", quiet=1)
    names = list(PRECISIONS) if args.precision == "both" else [args.precision]
    out = {}
    try:
        for name in names:
            points = f"points_{PRECISIONS[name] or 'full'}.csv"
            _points_csv(folder / points, pts, PRECISIONS[name])
            print(f"{args.points:,} rows CSV ({name}) -> CSV onto {len(grids):,} grids (GeoPackage)")
            out[name] = _compare(folder, points, args.repeat)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"files kept in {folder}")
    return out


if __name__ == "__main__":
    main()
