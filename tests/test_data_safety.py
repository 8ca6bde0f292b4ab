"""Data safety: outputs never destroy inputs, versions files only gain versions, writes are atomic.

The kill tests start real ``gridgis`` processes on 1,000,000-row outputs, kill them with SIGKILL
while they write, and check that the earlier output is still complete (or that the new one is).
"""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gridgis.versions import list_versions, save_version
from gridgis.writing import check_output, replacing

SCRIPT = shutil.which("gridgis", path=os.path.dirname(sys.executable)) or "gridgis"


def run(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=600, **kw)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def small_plan(n: int = 4, crs: int = 4547) -> gpd.GeoDataFrame:
    cells = [shapely.box(391_000 + 100 * i, 3_082_000, 391_100 + 100 * i, 3_082_100) for i in range(n)]
    return gpd.GeoDataFrame({"grid_code": [f"430302001001{i + 1:03d}" for i in range(n)],
                             "community_code": ["430302001001"] * n, "kind": ["basic"] * n,
                             "households": [400] * n}, geometry=cells, crs=crs)


@pytest.fixture
def versions_file(tmp_path) -> Path:
    path = tmp_path / "v.gpkg"
    save_version(small_plan(), path, author="王芳", note="first")
    comm = gpd.GeoDataFrame({"code": ["430302001001"], "area_kind": ["urban"]},
                            geometry=[shapely.box(391_000, 3_082_000, 391_400, 3_082_100)], crs=4547)
    save_version(small_plan(), path, note="second", context={"communities": comm})
    return path


# ---- outputs never destroy inputs ---------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ("repair", "{v}", "-o", "{v}"),
    ("validate", "{v}", "--gpkg", "{v}"),
    ("validate", "{v}", "--json", "{v}"),
    ("render", "{v}", "-o", "{v}"),
    ("recode", "{v}", "{v}", "-o", "{v}"),
])
def test_output_that_is_an_input_is_refused(versions_file, args):
    before = digest(versions_file)
    res = run(*(a.format(v=versions_file) for a in args))
    assert res.returncode == 2, res.stderr
    assert "one of the inputs" in res.stderr and "v.gpkg" in res.stderr
    assert "Traceback" not in res.stderr
    assert digest(versions_file) == before


def test_output_through_a_link_is_still_an_input(versions_file):
    link = versions_file.with_name("link.gpkg")
    os.link(versions_file, link)
    with pytest.raises(Exception, match="one of the inputs"):
        check_output(link, inputs=[versions_file])


def test_recode_table_onto_its_input_is_refused(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("grid_code\n430302001001001\n", encoding="utf-8")
    cw = tmp_path / "cw.csv"
    cw.write_text("old_code,new_code,relation\n430302001001001,430302001001001,same\n")
    before = digest(table)
    res = run("recode-table", table, "--crosswalk", cw, "-o", table)
    assert res.returncode == 2 and "one of the inputs" in res.stderr
    assert digest(table) == before


def test_build_into_its_district_is_refused(tmp_path):
    district = tmp_path / "d.gpkg"
    shutil.copy(Path(__file__).parents[1] / "data" / "samples" / "sample_district.gpkg", district)
    before = digest(district)
    res = run("build", district, "-o", district)
    assert res.returncode == 2 and "one of the inputs" in res.stderr
    assert digest(district) == before


def test_repair_in_place_adds_a_version(versions_file):
    res = run("repair", versions_file, "--in-place", "--note", "修复")
    assert res.returncode in (0, 1), res.stderr
    meta = list_versions(versions_file)
    assert meta["version"].tolist() == [1, 2, 3] and meta["note"].iloc[-1] == "修复"
    assert {"communities", "changes"} <= set(pyogrio.list_layers(versions_file)[:, 0])


def test_repair_into_another_geopackage_keeps_its_other_layers(versions_file, tmp_path):
    other = tmp_path / "other.gpkg"
    pyogrio.write_dataframe(small_plan(1), other, layer="keep_me")
    res = run("repair", versions_file, "-o", other)
    assert res.returncode in (0, 1), res.stderr
    assert {"keep_me", "grids", "changes"} == set(pyogrio.list_layers(other)[:, 0])


def test_validate_gpkg_touches_only_findings(versions_file, tmp_path):
    other = tmp_path / "findings.gpkg"
    pyogrio.write_dataframe(small_plan(1), other, layer="keep_me")
    res = run("validate", versions_file, "--gpkg", other)
    assert res.returncode in (0, 1), res.stderr
    assert {"keep_me", "findings"} == set(pyogrio.list_layers(other)[:, 0])


def test_second_build_adds_version_two(tmp_path):
    district = Path(__file__).parents[1] / "data" / "samples" / "sample_district.gpkg"
    out = tmp_path / "pv.gpkg"
    for note in ("first", "second"):
        res = run("--quiet", "build", district, "-o", out, "--note", note)
        assert res.returncode in (0, 1), res.stderr
    meta = list_versions(out)
    assert meta["version"].tolist() == [1, 2] and meta["note"].tolist() == ["first", "second"]


# ---- atomic replacement ---------------------------------------------------------------------------
def test_failed_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


def _big_points(path: Path, n: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    pd.DataFrame({"id": np.arange(n), "lon": 112.9 + rng.random(n) * 0.01,
                  "lat": 27.85 + rng.random(n) * 0.01}).to_csv(path, index=False)


@pytest.fixture(scope="module")
def big_inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big")
    _big_points(folder / "points.csv")
    plan = small_plan(4).to_crs(4326)
    plan.to_file(folder / "plan.gpkg", layer="grids", engine="pyogrio")
    return folder


def _count_rows(path: Path) -> int:
    if path.suffix == ".parquet":
        return pd.read_parquet(path).shape[0]
    if path.suffix == ".gpkg":
        return int(pyogrio.read_info(path, layer="assigned")["features"])
    return pd.read_csv(path).shape[0]


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".gpkg"])
def test_kill_during_assign_keeps_the_earlier_output(big_inputs, tmp_path, suffix):
    points, plan = big_inputs / "points.csv", big_inputs / "plan.gpkg"
    out = tmp_path / f"a{suffix}"
    first = run("--quiet", "assign", points, "--grids", plan, "-o", out, "--chunk-size", "100000")
    assert first.returncode == 0, first.stderr
    before = digest(out)
    for delay in (1.0, 2.5, 4.0):  # early, middle and late in the write
        proc = subprocess.Popen([SCRIPT, "--quiet", "assign", str(points), "--grids", str(plan),
                                 "-o", str(out), "--chunk-size", "100000"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # either the complete old file or the complete new one: never a part of either
        assert digest(out) == before or _count_rows(out) == 1_000_000
        assert _count_rows(out) == 1_000_000


@pytest.mark.slow
def test_kill_during_version_append_keeps_every_version(tmp_path):
    path = tmp_path / "v.gpkg"
    rng = np.random.default_rng(1)
    n = 1_000_000
    xs, ys = 391_000 + rng.random(n) * 5000, 3_082_000 + rng.random(n) * 5000
    bldg = gpd.GeoDataFrame({"households": np.ones(n, dtype=int)},
                            geometry=shapely.points(xs, ys), crs=4547)
    save_version(small_plan(), path, note="first")
    before = digest(path)
    script = ("import geopandas as gpd, sys; from gridgis.versions import save_version; "
              "from tests.test_data_safety import small_plan; "
              "b = gpd.read_parquet(sys.argv[2]); "
              "save_version(small_plan(), sys.argv[1], note='second', context={'buildings': b})")
    bpath = tmp_path / "b.parquet"
    bldg.to_parquet(bpath)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    for delay in (2.0, 4.0):
        proc = subprocess.Popen([sys.executable, "-c", script, str(path), str(bpath)], env=env)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        meta = list_versions(path)  # readable, no hot journal
        assert meta["version"].tolist() in ([1], [1, 2])
        if meta["version"].tolist() == [1]:
            assert digest(path) == before
        else:
            assert int(pyogrio.read_info(path, layer="buildings")["features"]) == n
