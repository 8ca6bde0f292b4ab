"""A cold ``gridgis assign`` loads what assigning needs, not the report, maps or statistics.

Start-up time decides a one-shot call on a small file: a plain ``gridgis assign`` (CSV onto a
GeoPackage plan, CSV out) runs the quick path without typer (nor its rich help), pandas,
geopandas, GDAL or Arrow; any other command line builds the Typer app, whose modules import the
verbs' workflows lazily. The runs below are real ``gridgis assign`` calls in a fresh interpreter;
the modules each loaded are read from ``sys.modules`` as it exits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridgis.io import read_table

ROOT = Path(__file__).resolve().parents[1]

#: Packages and gridgis modules that assigning points to grids never needs.
HEAVY = ["scipy", "matplotlib", "sklearn", "folium", "jinja2", "reportlab", "duckdb", "dask",
         "networkx", "openpyxl", "gridgis.events", "gridgis.render", "gridgis.partition",
         "gridgis.validation", "gridgis.plan", "gridgis.repairs", "gridgis.editor",
         "gridgis.workflows.bulletins", "gridgis.workflows.report",
         "gridgis.workflows.event_outputs", "gridgis.workflows.demo"]

#: What the quick path of a plain ``gridgis assign`` never needs either.
HEAVY_QUICK = [*HEAVY, "pandas", "geopandas", "pyogrio", "pyarrow", "typer", "click", "rich",
               "tqdm", "gridgis.workflows", "gridgis.io", "gridgis.cli.tables"]

_RUN = """
import atexit, json, sys
atexit.register(lambda: print("MODULES " + json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["gridgis", *sys.argv[1:]]
from gridgis.cli import console
console()
"""


def _loaded(tmp_path, *args: str, quick: bool = True) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])), "GRIDGIS_QUICK": str(int(quick))}
    res = subprocess.run([sys.executable, "-c", _RUN, "-q", "assign", *args], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    line = [ln for ln in res.stderr.splitlines() if ln.startswith("MODULES ")][-1]
    return json.loads(line.removeprefix("MODULES "))


def _heavy(loaded: list[str], names: list[str]) -> list[str]:
    return sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in names))


@pytest.fixture
def files(tmp_path):
    cells = [shapely.box(x, 3_000_000, x + 500, 3_000_500) for x in (400_000, 400_500)]
    gpd.GeoDataFrame({"grid_code": ["430302001001001", "430302001001002"]}, geometry=cells,
                     crs="EPSG:4547").to_file(tmp_path / "plan.gpkg")
    pts = gpd.GeoSeries(shapely.points([[400_100, 3_000_100], [400_900, 3_000_400]]),
                        crs="EPSG:4547").to_crs(4326)
    pd.DataFrame({"id": ["a", "b"], "lon": pts.x, "lat": pts.y}).to_csv(tmp_path / "p.csv",
                                                                       index=False)
    return tmp_path


def test_cold_assign_imports_no_heavy_module(files):
    loaded = _loaded(files, "p.csv", "--grids", "plan.gpkg", "-o", "out.csv")
    assert _heavy(loaded, HEAVY_QUICK) == []
    out = read_table(files / "out.csv")  # a table for people: its headers read back
    assert out["grid_code"].tolist() == ["430302001001001", "430302001001002"]


@pytest.mark.parametrize("quick", [True, False])
def test_console_command_flushes_its_messages_and_exit_code(files, quick):
    """The quick path ends the process without tearing the interpreter down: what it printed
    still arrives, and --strict still exits 1 for a point outside the plan."""
    pd.DataFrame({"id": ["a", "far"], "lon": [112.0, 0.5], "lat": [27.1, 0.5]}).to_csv(
        files / "q.csv", index=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])), "GRIDGIS_QUICK": str(int(quick))}
    res = subprocess.run([sys.executable, "-m", "gridgis.cli", "--lang", "en", "assign", "q.csv",
                          "--grids", "plan.gpkg", "-o", "out.csv", "--strict"], cwd=files, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 1, res.stderr
    assert "wrote out.csv" in res.stdout + res.stderr
    assert len(read_table(files / "out.csv")) == 2


def test_cold_assign_at_a_terminal_takes_the_quick_path(files):
    """Typed at a terminal (no ``-q``), a plain assign still runs the quick path: its status
    lines come through the same rich handler as the app's."""
    import pty
    import select

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])), "COLUMNS": "200"}
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", _RUN, "--lang", "en", "assign", "p.csv",
                             "--grids", "plan.gpkg", "-o", "out.csv"], cwd=files, env=env,
                            stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    text = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        try:
            chunk = os.read(leader, 65536) if ready else b""
        except OSError:  # the terminal closed with the process
            chunk = b""
        if not chunk:
            break
        text += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0, text
    out = text.decode("utf-8", "replace")
    loaded = json.loads(out[out.index("MODULES ") + 8:].split("\n")[0].strip())
    assert "rich.logging" in loaded  # the terminal's handler
    assert _heavy(loaded, [h for h in HEAVY_QUICK if h != "rich"]) == []
    assert "wrote out.csv" in out
    assert read_table(files / "out.csv")["grid_code"].tolist() == ["430302001001001",
                                                                   "430302001001002"]


def test_cold_assign_through_the_typer_app_imports_no_report_module(files):
    loaded = _loaded(files, "p.csv", "--grids", "plan.gpkg", "-o", "out.parquet", quick=False)
    assert "typer" in loaded and _heavy(loaded, HEAVY) == []
    assert pd.read_parquet(files / "out.parquet")["grid_code"].astype(str).tolist() == [
        "430302001001001", "430302001001002"]
