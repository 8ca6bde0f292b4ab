"""The console script as batch users run it: help, exit codes and error messages."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gridgis.cli import app

SCRIPT = shutil.which("gridgis", path=os.path.dirname(sys.executable)) or "gridgis"
VERBS = sorted(c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_every_capability_has_a_verb():
    assert {"demo", "build", "validate", "repair", "assign", "recode", "recode-table", "render",
            "heatmap", "report"} <= set(VERBS)


@pytest.mark.parametrize("verb", VERBS)
def test_help_has_an_example(verb):
    res = run(verb, "--help")
    assert res.returncode == 0, res.stderr
    assert "Example" in res.stdout and f"gridgis {verb}" in res.stdout


def test_no_arguments_shows_help():
    res = run()
    assert "Usage" in res.stdout + res.stderr


def test_unknown_verb_is_bad_input():
    assert run("frobnicate").returncode == 2


def test_missing_file_names_it(tmp_path):
    res = run("validate", str(tmp_path / "nope.gpkg"))
    assert res.returncode == 2
    assert "nope.gpkg" in res.stderr and "not found" in res.stderr
    assert "Traceback" not in res.stderr


def test_wrong_layer_names_the_layers(tmp_path):
    import geopandas as gpd
    import shapely

    p = tmp_path / "plan.gpkg"
    gpd.GeoDataFrame({"grid_code": ["1"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4547).to_file(
        p, layer="grids", engine="pyogrio")
    res = run("validate", str(p), "--layer", "grid")
    assert res.returncode == 2
    assert "no layer 'grid'" in res.stderr and "grids" in res.stderr


def test_broken_csv_is_bad_input(tmp_path):
    import geopandas as gpd
    import shapely

    plan = tmp_path / "plan.gpkg"
    gpd.GeoDataFrame({"grid_code": ["1"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326).to_file(
        plan, layer="grids", engine="pyogrio")
    bad = tmp_path / "addr.csv"
    bad.write_bytes('地址,经度,纬度\n"甲,112.9\n乙,1,2,3,4\n'.encode("gbk"))
    res = run("assign", str(bad), "--grids", str(plan), "-o", str(tmp_path / "o.csv"))
    assert res.returncode == 2, res.stderr
    assert "addr.csv" in res.stderr and "Traceback" not in res.stderr
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    res = run("assign", str(empty), "--grids", str(plan), "-o", str(tmp_path / "o.csv"))
    assert res.returncode == 2 and "empty" in res.stderr


def test_bad_rules_file_is_bad_input(tmp_path):
    bad_rules = tmp_path / "r.toml"
    bad_rules.write_text("[urban]\nmin_households = 'x'\n", encoding="utf-8")
    res = run("validate", "data/samples/sample_district.gpkg", "--layer", "communities",
              "--rules", str(bad_rules), cwd=Path(__file__).parents[1])
    assert res.returncode == 2 and "min_households" in res.stderr
