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

Usage::

    python scripts/bench_partition.py                       # bundled sample district
    python scripts/bench_partition.py --scale 2 --construction 10 --sa 2
    python scripts/bench_partition.py --large               # + >= 100k households, gridgis only
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import shapely


def load(scale: float, seed: int) -> dict:
    """Sample layers: the bundled file (scale 1, seed 0) or a generated district."""
    from gridgis.samples import generate_district, load_sample

    if scale == 1 and seed == 0:
        return load_sample()
    return generate_district(seed=seed, scale=scale)


def pp(geoms: np.ndarray) -> np.ndarray:
    return 4 * np.pi * shapely.area(geoms) / shapely.length(geoms) ** 2


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="sample scale (1 = bundled sample)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--construction", type=int, default=10,
                    help="spopt max_iterations_construction (default 10)")
    ap.add_argument("--sa", type=int, default=2, help="spopt max_iterations_sa (default 2)")
    ap.add_argument("--large", action="store_true",
                    help="also build a generated district with >= 100,000 households")
    args = ap.parse_args()

    from gridgis.partition import build_grids
    from gridgis.rules import load_rules

    rules = load_rules()
    layers = load(args.scale, args.seed)
    hh = int(layers["buildings"]["households"].sum())
    print(f"district: {len(layers['communities'])} communities, {len(layers['buildings'])} "
          f"buildings, {hh} households (scale {args.scale}, seed {args.seed})")

    t0 = time.perf_counter()
    res = build_grids(layers["communities"], layers["roads"], layers["buildings"],
                      special_sites=layers.get("special_sites"), rivers=layers.get("rivers"),
                      seed=args.seed)
    t_build = time.perf_counter() - t0
    t_regions = res.stats["seconds"]["regions"]
    units = res.units.to_crs(res.grids.crs)
    comm = layers["communities"]
    kinds = dict(zip(comm["code"], comm["area_kind"], strict=True))

    spopt_rows, t_spopt = run_spopt(units, comm, rules, args.construction, args.sa)
    sp = pd.DataFrame(spopt_rows)
    in_sp = set(sp["community_code"])

    g = res.grids[(res.grids["kind"] == "basic") & res.grids["community_code"].isin(in_sp)]
    g_val = np.array([row[rules.profile_for(kinds[row["community_code"]]).measure]
                      for _, row in g.iterrows()])
    g_lo = np.array([rules.profile_for(kinds[c]).bounds[0] for c in g["community_code"]])
    g_hi = np.array([rules.profile_for(kinds[c]).bounds[1] for c in g["community_code"]])
    g_in = (g_val >= g_lo) & (g_val <= g_hi)
    g_flag = (g["flag"] != "").to_numpy()
    s_in = ((sp["value"] >= sp["lo"]) & (sp["value"] <= sp["hi"])).to_numpy()
    g_pp = pp(g.geometry.to_numpy()).mean()
    s_pp = pp(sp["geometry"].to_numpy()).mean()

    print(f"\nsame units: {len(units)} units in {len(in_sp)} communities "
          f"(spopt MaxPHeuristic threshold=min, max_iterations_construction={args.construction},"
          f" max_iterations_sa={args.sa}, top_n=2)")
    table = pd.DataFrame(
        {
            "regions": [len(g), len(sp)],
            "within [min,max]": [f"{g_in.mean():.1%}", f"{s_in.mean():.1%}"],
            "unflagged within": [f"{g_in[~g_flag].mean():.1%}", "-"],
            "flagged exceptions": [int(g_flag.sum()), "-"],
            "mean Polsby-Popper": [round(g_pp, 3), round(s_pp, 3)],
            "region step s": [round(t_regions, 2), round(t_spopt, 2)],
            "whole run s": [round(t_build, 2), round(t_spopt, 2)],
        },
        index=["gridgis", "spopt max-p"],
    )
    print(table.to_string())
    print(f"\nratios gridgis/spopt: compactness {g_pp / s_pp:.2f}x, "
          f"region-step time {t_regions / t_spopt:.3f}x, whole build vs spopt "
          f"{t_build / t_spopt:.3f}x")

    print("\nbars on this district:")
    for k, v in check_bars(layers, res).items():
        print(f"  {k}: {v}")

    if args.large:
        big = load(4.0, args.seed)
        t0 = time.perf_counter()
        res_big = build_grids(big["communities"], big["roads"], big["buildings"],
                              special_sites=big.get("special_sites"), rivers=big.get("rivers"),
                              seed=args.seed)
        print(f"\ngenerated district (scale 4) built in {time.perf_counter() - t0:.1f} s; bars:")
        for k, v in check_bars(big, res_big).items():
            print(f"  {k}: {v}")
        print(f"  mean Polsby-Popper (basic): {res_big.stats['mean_polsby_popper_basic']:.3f}")


if __name__ == "__main__":
    main()
