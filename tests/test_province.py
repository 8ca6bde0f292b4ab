"""Province scale: the validation rules stay O(n log n) in the grids, per parent and overall.

The serial-order rule (``code_order``) is checked by sorting; these tests hold it to the pairwise
rule it replaces (same grids flagged) and run plans with thousands of grids under one parent
and 200,000 grids in a subprocess whose peak memory is measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from gridgis import validate
from tests.province import province_plan

ROOT = Path(__file__).resolve().parents[1]


def pairwise_code_order(grids) -> dict[str, set[str]]:
    """The serial-order rule as pairs (the former formulation): per community, the grids of
    every pair where the grid clearly north-west of the other carries the higher serial."""
    cen = shapely.centroid(np.asarray(grids.geometry.array))
    df = pd.DataFrame({"code": grids["grid_code"].to_numpy(), "prefix": grids["grid_code"].str[:12],
                       "serial": grids["grid_code"].str[12:].astype(int),
                       "x": shapely.get_x(cen), "y": shapely.get_y(cen),
                       "size": np.sqrt(grids.area.to_numpy())})
    df["margin"] = np.maximum(1.0, 0.1 * df.groupby("prefix")["size"].transform("median"))
    pairs = df.merge(df, on="prefix", suffixes=("_a", "_b"))
    bad = pairs[(pairs["serial_a"] < pairs["serial_b"])
                & (pairs["x_b"] < pairs["x_a"] - pairs["margin_a"])
                & (pairs["y_b"] > pairs["y_a"] + pairs["margin_a"])]
    return {p: set(g["code_a"]) | set(g["code_b"]) for p, g in bad.groupby("prefix")}


def shuffled(grids, parents, rng, k: int):
    """``grids`` with the serials of ``k`` communities permuted in part (a few swaps each)
    and one community numbered backwards."""
    g = grids.copy()
    codes = g["grid_code"].to_numpy(dtype=object).copy()
    comm = g["community_code"].to_numpy()
    chosen = rng.choice(parents["code"].to_numpy(), k + 1, replace=False)
    for i, c in enumerate(chosen):
        rows = np.flatnonzero(comm == c)
        if i == 0:
            codes[rows] = codes[rows[::-1]]
            continue
        for _ in range(3):
            a, b = rng.choice(rows, 2, replace=False)
            codes[a], codes[b] = codes[b], codes[a]
    g["grid_code"] = codes
    return g


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_code_order_flags_the_grids_of_the_pairwise_rule(seed):
    grids, parents = province_plan(9, 40, seed=seed)
    rng = np.random.default_rng(seed)
    plan = shuffled(grids, parents, rng, 4)
    want = pairwise_code_order(plan)
    assert len(want) >= 2  # the shuffles did break the order somewhere
    found = validate(plan, parents).select("code_order")
    assert {f.parent: set(f.grids) for f in found} == want
    for f in found:
        assert f.unit == "grids" and f.measure == len(want[f.parent])
        assert f.severity == "warning"
    assert not validate(grids, parents).select("code_order")  # reading order: clean


def test_code_order_on_ties_and_a_single_row():
    """Grids on one lattice row (equal y) or one column (equal x) are never 'clearly'
    north-west of each other, whatever their serials."""
    boxes = [shapely.box(x, 0, x + 100, 100) for x in range(0, 1000, 100)]
    boxes += [shapely.box(0, y, 100, y + 100) for y in range(-1000, 0, 100)]
    import geopandas as gpd

    codes = [f"430302001001{s:03d}" for s in range(len(boxes), 0, -1)]
    grids = gpd.GeoDataFrame({"grid_code": codes}, geometry=boxes, crs="EPSG:4547")
    assert pairwise_code_order(grids) == {}
    assert not validate(grids).select("code_order")
    one = validate(grids.iloc[:1]).select("code_order")
    assert one == []


def _peak_run(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line; add its peak RSS (MB)."""
    script = textwrap.dedent(code) + textwrap.dedent("""
        with open("/proc/self/status") as fh:  # this process's own high-water mark
            out["peak_mb"] = [int(x.split()[1]) / 1024 for x in fh if x.startswith("VmHWM:")][0]
        print(json.dumps(out))
    """)
    res = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=600, env={"PYTHONPATH": str(ROOT),
                                                      "OMP_NUM_THREADS": "1", "PATH": "/usr/bin"})
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_six_thousand_grids_under_one_parent():
    """A city-wide scheme (4-digit serials) with 6,000 grids under one parent: validated with
    every geometry rule in a few seconds and well under 2 GB, numbered backwards in one run
    (every grid out of order: about 18 million breaking pairs)."""
    out = _peak_run("""
        import json, time
        from gridgis import validate
        from gridgis.rules import load_rules
        from tests.province import province_plan, wide_scheme
        grids, parents = province_plan(1, 6000, serial_width=4)
        rules = load_rules({"codes": wide_scheme(4)})
        t = time.perf_counter()
        clean = validate(grids, parents, rules=rules)
        t_clean = time.perf_counter() - t
        back = grids.assign(grid_code=grids["grid_code"].to_numpy()[::-1])
        order = validate(back, parents, rules=rules).select("code_order")
        out = {"n": len(grids), "clean": [f.rule for f in clean.findings], "t": t_clean,
               "order": [(f.parent, f.measure) for f in order]}
    """)
    assert out["n"] == 6000 and out["clean"] == []
    (parent, measure), = out["order"]
    assert parent == "430102000001" and measure > 5000
    assert out["peak_mb"] < 2048
    assert out["t"] < 60  # a guard against pairing (the pairwise rule needs minutes here)


def test_two_hundred_thousand_grids_code_rules_in_bounded_memory():
    """200,000 grids in 200 parents (1,000 each, 4-digit serials), three communities out of
    order: the code rules run within 2 GB."""
    out = _peak_run("""
        import json
        import geopandas as gpd, numpy as np, shapely
        from gridgis.validation.codes import check_codes
        from gridgis.validation.prepare import grid_kinds, prepare_grids
        from tests.province import wide_scheme
        n_par, per, side = 200, 1000, 100.0
        i = np.arange(n_par * per)
        par, k = i // per, i % per
        x = (par % 20) * 32 * side + (k % 32) * side
        y = -(par // 20) * 32 * side - (k // 32) * side
        serial = k + 1
        for p in (3, 77, 150):
            serial[par == p] = serial[par == p][::-1]
        codes = [f"4301{p + 1:08d}{s:04d}" for p, s in zip(par, serial)]
        grids = gpd.GeoDataFrame({"grid_code": codes}, crs="EPSG:4547",
                                 geometry=shapely.box(x, y - side, x + side, y))
        plan, _, _ = prepare_grids(grids, scheme=wide_scheme(4))
        found = check_codes(plan, wide_scheme(4), False, grid_kinds(plan.gdf), {"basic"})
        out = {"rules": sorted({f.rule for f in found}),
               "parents": sorted(f.parent for f in found if f.rule == "code_order")}
    """)
    assert out["rules"] == ["code_order"]
    assert out["parents"] == ["430100000004", "430100000078", "430100000151"]
    assert out["peak_mb"] < 2048
