"""Benchmark: one generated province, end to end, with time and peak memory of every step.

A province of 200,000 grids (communities of about 19 grids, Voronoi tessellations in
EPSG:4547), 10,000,000 addresses and 10,000,000 events (WGS84 lon/lat, Parquet files, about 5 %
outside the plan), then:

1. ``validate`` of the plan with its communities (every geometry and code rule);
2. ``gridgis assign`` of the addresses and of the events, file to file, streamed in chunks,
   each in its own process (its peak memory is the verb's own; anchor: the same in memory, the
   whole table read with pandas at once);
3. ``gridgis recode-table`` of the assigned events onto a redrawn plan (every 50th grid split in
   two, rows of split grids placed by their coordinates), file to file, streamed in chunks, in
   its own process (anchor: pandas reading the whole table, ``merge`` with the one-successor
   rows of the crosswalk, and writing it);
4. per-grid event statistics of the recoded events, streamed (``gridgis.events.grid_stats_file``)
   beside the in-memory ``grid_stats`` (the anchor; both tables compared).

Every line shows the wall time, rows/s and the peak resident memory of the step (the mark is
reset before each step). Run ``python scripts/bench_province.py`` (full size: several minutes,
about 2 GB of temporary files) or smaller, e.g. ``--grids 20000 --rows 1000000``.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from _bench import Step as Timing
from _bench import step
from pyproj import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import gridgis.assignment as ga  # noqa: E402
from gridgis.events import grid_stats, grid_stats_file  # noqa: E402
from gridgis.validation import validate  # noqa: E402
from tests.province import province_plan  # noqa: E402

CATEGORIES = ["环境卫生", "治安隐患", "矛盾纠纷", "城市管理", "安全生产", "民生服务"]


def write_points(path: Path, grids: gpd.GeoDataFrame, n: int, seed: int, events: bool,
                 block: int = 1_000_000) -> None:
    """``n`` rows of WGS84 points over the plan's extent (a few percent fall outside it)."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = grids.total_bounds
    to_wgs = Transformer.from_crs(grids.crs, 4326, always_xy=True)
    writer = None
    for start in range(0, n, block):
        k = min(block, n - start)
        lon, lat = to_wgs.transform(rng.uniform(x0, x1, k), rng.uniform(y0, y1, k))
        cols = {("event_id" if events else "address_id"): np.arange(start, start + k),
                "lon": np.round(lon, 7), "lat": np.round(lat, 7)}
        if events:
            cols["category"] = np.asarray(CATEGORIES, dtype=object)[rng.integers(0, 6, k)]
            cols["reported_at"] = (np.datetime64("2025-01-01T00:00:00")
                                   + rng.integers(0, 365 * 86400, k).astype("timedelta64[s]"))
        table = pa.table(cols)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def redrawn(grids: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The plan with every 50th grid split into a west and an east half, and its crosswalk."""
    geom = np.asarray(grids.geometry.array)
    codes = grids["grid_code"].to_numpy(dtype=object)
    split = np.zeros(len(grids), dtype=bool)
    split[::50] = True
    x0, y0, x1, y1 = shapely.bounds(geom[split]).T
    mid = (x0 + x1) / 2
    west = shapely.intersection(geom[split], shapely.box(x0, y0, mid, y1))
    east = shapely.intersection(geom[split], shapely.box(mid, y0, x1, y1))
    old = codes[split]
    new_w = np.array([f"{c[:12]}{500 + 2 * int(c[12:]):03d}" for c in old], dtype=object)
    new_e = np.array([f"{c[:12]}{501 + 2 * int(c[12:]):03d}" for c in old], dtype=object)
    plan = gpd.GeoDataFrame(
        {"grid_code": np.r_[codes[~split], new_w, new_e],
         "households": np.r_[grids["households"].to_numpy()[~split],
                             grids["households"].to_numpy()[split] // 2,
                             grids["households"].to_numpy()[split] // 2]},
        geometry=np.r_[geom[~split], west, east], crs=grids.crs)
    cw = pd.DataFrame({"old_code": np.r_[codes[~split], old, old],
                       "new_code": np.r_[codes[~split], new_w, new_e],
                       "relation": np.r_[np.full((~split).sum(), "same", dtype=object),
                                         np.full(2 * split.sum(), "split", dtype=object)]})
    return plan, cw


_VERB = """
import atexit, runpy, sys

def _peak():
    with open("/proc/self/status") as fh:
        hwm = [line for line in fh if line.startswith("VmHWM:")]
    sys.stderr.write("\\nPEAK_KB " + (hwm[0].split()[1] if hwm else "0") + "\\n")

atexit.register(_peak)
sys.argv = ["gridgis", *sys.argv[1:]]
runpy.run_module("gridgis.cli", run_name="__main__")
"""


def run_verb(args: list[str], cwd: Path) -> tuple[float, float, float]:
    """Run ``gridgis <args>`` in a fresh process: wall time, its peak memory (MB, the
    process's own high-water mark, read as it exits) and its CPU seconds."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")]))}
    t = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = subprocess.run([sys.executable, "-c", _VERB, "-q", *args], cwd=cwd, env=env,
                         capture_output=True, text=True)
    seconds = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if res.returncode not in (0, 1):
        raise SystemExit(f"gridgis {' '.join(args)} failed ({res.returncode}): "
                         f"{res.stderr[-2000:]}")
    kb = [line.split()[1] for line in res.stderr.splitlines() if line.startswith("PEAK_KB")]
    return seconds, int(kb[-1]) / 1024 if kb else float("nan"), cpu


def assign_in_memory(src: Path, grids: gpd.GeoDataFrame, out: Path) -> int:
    df = pd.read_parquet(src)
    res = ga.assign(df, grids)
    res.table.to_parquet(out, index=False)
    return len(res.table)


def recode_in_memory(src: Path, cw: pd.DataFrame, out: Path) -> int:
    df = pd.read_parquet(src)
    one = cw[~cw["old_code"].duplicated(keep=False)][["old_code", "new_code"]]
    merged = df.merge(one, left_on="grid_code", right_on="old_code", how="left")
    merged.to_parquet(out, index=False)
    return len(merged)


def stats_step(path: Path, plan: gpd.GeoDataFrame, chunk_size: int, anchor: bool, show,
               n: int) -> None:
    """Step 4: per-grid statistics of an events file streamed, beside the in-memory ones."""
    with step("4 per-grid event statistics (streamed)") as s:
        stats = grid_stats_file(path, plan, chunk_size=chunk_size)
    show(s, f"{int(stats['n_events'].sum()):,} events in {len(stats):,} grids", n)
    if anchor:
        with step("  anchor: statistics in memory (pandas)") as s:
            ev = pq.read_table(path, columns=["grid_code", "category", "reported_at"]
                               ).to_pandas()
            mem = grid_stats(ev, plan)
            del ev
        same = pd.DataFrame(mem.drop(columns="geometry")).equals(
            pd.DataFrame(stats.drop(columns="geometry")))
        show(s, f"same table as streamed: {same}", n)


def events_with_codes(path: Path, plan: gpd.GeoDataFrame, n: int, seed: int = 3,
                      block: int = 1_000_000) -> None:
    """``n`` events already carrying a grid code of ``plan`` (2 % unknown), for step 4 alone."""
    rng = np.random.default_rng(seed)
    codes = plan["grid_code"].to_numpy(dtype=object)
    writer = None
    for start in range(0, n, block):
        k = min(block, n - start)
        code = codes[rng.integers(0, len(codes), k)]
        code[rng.random(k) < 0.02] = "999999999999999"
        table = pa.table({
            "event_id": np.arange(start, start + k), "grid_code": code.astype(str),
            "category": np.asarray(CATEGORIES, dtype=object)[rng.integers(0, 6, k)],
            "reported_at": (np.datetime64("2025-01-01T00:00:00")
                            + rng.integers(0, 365 * 86400, k).astype("timedelta64[s]"))})
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grids", type=int, default=200_000)
    ap.add_argument("--per-community", type=int, default=19)
    ap.add_argument("--rows", type=int, default=10_000_000, help="addresses and events each")
    ap.add_argument("--chunk-size", type=int, default=100_000, help="rows per chunk of assign")
    ap.add_argument("--skip-anchors", action="store_true", help="skip the in-memory runs")
    ap.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    ap.add_argument("--stats-only", action="store_true",
                    help="step 4 alone, on generated events that already carry grid codes")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_province_"))
    folder.mkdir(parents=True, exist_ok=True)
    n = args.rows
    lines = []

    def show(s, note: str = "", rows: int | None = None) -> None:
        rate = f"{rows / s.seconds:>12,.0f} rows/s" if rows else " " * 19
        lines.append(s.line(f"{rate}  {note}"))
        print(lines[-1], flush=True)

    try:
        if args.stats_only:
            grids, _ = province_plan(math.ceil(args.grids / args.per_community),
                                     args.per_community)
            events_with_codes(folder / "events_coded.parquet", grids, n)
            stats_step(folder / "events_coded.parquet", grids, 1_000_000,
                       not args.skip_anchors, show, n)
            return
        with step("make province (plan, points files)") as s:
            grids, parents = province_plan(math.ceil(args.grids / args.per_community),
                                           args.per_community)
            write_points(folder / "addresses.parquet", grids, n, 1, events=False)
            write_points(folder / "events.parquet", grids, n, 2, events=True)
            new_plan, cw = redrawn(grids)
        print(f"province: {len(grids):,} grids in {len(parents):,} communities, {n:,} addresses,"
              f" {n:,} events ({s.seconds:.0f} s to make)", flush=True)

        with step("1 validate (grids + communities)") as s:
            report = validate(grids, parents)
        show(s, f"{len(report.findings):,} findings", len(grids))

        grids.to_file(folder / "plan.gpkg", layer="grids")
        new_plan.to_file(folder / "plan_new.gpkg", layer="grids")
        cw.to_csv(folder / "crosswalk.csv", index=False)
        for what in ("addresses", "events"):
            sec, peak, cpu = run_verb(["assign", f"{what}.parquet", "--grids", "plan.gpkg", "-o",
                                  f"{what}_assigned.parquet", "--chunk-size",
                                  str(args.chunk_size)], folder)
            show(Timing(f"2 gridgis assign {what} (streamed, own process)", sec, peak, cpu), "",
                 n)
            if not args.skip_anchors and what == "addresses":
                with step("  anchor: assign in memory (pandas)") as s:
                    rows = assign_in_memory(folder / f"{what}.parquet", grids,
                                            folder / "mem_assigned.parquet")
                show(s, "", rows)

        sec, peak, cpu = run_verb(["recode-table", "events_assigned.parquet", "--crosswalk",
                              "crosswalk.csv", "--plan", "plan_new.gpkg", "-o",
                              "events_recoded.parquet"], folder)
        counts = pd.read_csv(folder / "events_recoded_report.csv") if (
            folder / "events_recoded_report.csv").exists() else None
        show(Timing("3 gridgis recode-table events (streamed, own process)", sec, peak, cpu),
             "" if counts is None else f"{len(counts):,} problem codes reported", n)
        if not args.skip_anchors:
            with step("  anchor: pandas merge in memory") as s:
                rows = recode_in_memory(folder / "events_assigned.parquet", cw,
                                        folder / "mem_recoded.parquet")
            show(s, "(no split rows placed)", rows)

        stats_step(folder / "events_recoded.parquet", new_plan, 1_000_000,
                   not args.skip_anchors, show, n)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    load = os.getloadavg()
    print("\n".join(["", "summary:", *lines,
                     f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
                     f"({os.cpu_count()} cores)"]))


if __name__ == "__main__":
    main()
