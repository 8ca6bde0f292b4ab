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


@pytest.mark.slow
def test_demo_then_validate_render_report(tmp_path):
    out = tmp_path / "demo"
    res = run("demo", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "validation: 0 errors" in res.stderr
    for name in ("plan.gpkg", "validation.html", "grid_map_25d.png", "grid_map_25d.svg",
                 "grid_summary.csv", "map.html", "map_25d.html"):
        assert (out / name).stat().st_size > 1000, name
    assert (out / "events" / "events_heatmap.png").exists()
    # the plan file carries its context layers: validation needs no other input
    res = run("validate", str(out / "plan.gpkg"))
    assert res.returncode == 0, res.stderr + res.stdout
    res = run("render", str(out / "plan.gpkg"), "-o", str(tmp_path / "m.png"), "--dpi", "60",
              "--color", "households", "--labels", "none")
    assert res.returncode == 0 and (tmp_path / "m.png").stat().st_size > 10_000, res.stderr
    res = run("--quiet", "report", str(out / "plan.gpkg"), "--events",
              str(Path(__file__).parents[1] / "data/samples/events_gbk.csv"), "-o", str(tmp_path / "rep"))
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip() == ""  # --quiet: nothing but errors
    assert (tmp_path / "rep" / "report.pdf").stat().st_size > 50_000
    res = run("report", str(out / "plan.gpkg"), "--events", str(tmp_path / "missing.csv"))
    assert res.returncode == 2 and "missing.csv" in res.stderr


def test_build_verb_and_local_rebuild(tmp_path):
    import geopandas as gpd

    from gridgis.versions import read_plan

    sample = str(Path(__file__).parents[1] / "data/samples/sample_district.gpkg")
    plan = tmp_path / "plan.gpkg"
    res = run("build", sample, "-o", str(plan))
    assert res.returncode == 0, res.stderr
    first = read_plan(plan)
    assert first["grid_code"].str.len().eq(15).all() and first["grid_code"].is_unique
    assert (tmp_path / "plan.report.csv").exists()
    res = run("build", sample, "-o", str(tmp_path / "x.gpkg"), "--community", "430302002002")
    assert res.returncode == 2 and "--locked" in res.stderr
    again = tmp_path / "again.gpkg"
    res = run("build", sample, "-o", str(again), "--locked", str(plan), "--community", "430302002002",
              "--seed", "3")
    assert res.returncode == 0, res.stderr
    second = read_plan(again)
    outside = first[first["community_code"] != "430302002002"].set_index("grid_code")
    kept = second.set_index("grid_code").reindex(outside.index)
    assert kept.geometry.notna().all()
    moved = gpd.GeoSeries(kept.geometry).symmetric_difference(outside.geometry, align=True).area
    assert (moved < 0.01).all()  # grids outside the rebuilt community are kept (codes and shapes)
    res = run("build", str(tmp_path / "nope.gpkg"), "-o", str(plan))
    assert res.returncode == 2 and "not found" in res.stderr
