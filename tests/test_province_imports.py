"""A cold ``gridgis assign`` loads what assigning needs, not the report, maps or statistics.

Start-up time decides a one-shot call on a small file: the CLI modules import the verbs'
workflows lazily. The run below is a real ``gridgis assign`` in a fresh interpreter; the
modules it loaded are read from ``sys.modules`` as it exits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from gridgis.io import read_table

ROOT = Path(__file__).resolve().parents[1]

#: Packages and gridgis modules that assigning points to grids never needs.
HEAVY = ["scipy", "matplotlib", "sklearn", "folium", "jinja2", "reportlab", "duckdb", "dask",
         "networkx", "openpyxl", "gridgis.events", "gridgis.render", "gridgis.partition",
         "gridgis.validation", "gridgis.plan", "gridgis.repairs", "gridgis.editor",
         "gridgis.workflows.bulletins", "gridgis.workflows.report",
         "gridgis.workflows.event_outputs", "gridgis.workflows.demo"]

_RUN = """
import atexit, json, sys
atexit.register(lambda: print("MODULES " + json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["gridgis", *sys.argv[1:]]
from gridgis.cli import main
sys.exit(main())
"""


def test_cold_assign_imports_no_heavy_module(tmp_path):
    cells = [shapely.box(x, 3_000_000, x + 500, 3_000_500) for x in (400_000, 400_500)]
    gpd.GeoDataFrame({"grid_code": ["430302001001001", "430302001001002"]}, geometry=cells,
                     crs="EPSG:4547").to_file(tmp_path / "plan.gpkg")
    pts = gpd.GeoSeries(shapely.points([[400_100, 3_000_100], [400_900, 3_000_400]]),
                        crs="EPSG:4547").to_crs(4326)
    pd.DataFrame({"id": ["a", "b"], "lon": pts.x, "lat": pts.y}).to_csv(tmp_path / "p.csv",
                                                                       index=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    res = subprocess.run([sys.executable, "-c", _RUN, "-q", "assign", "p.csv", "--grids",
                          "plan.gpkg", "-o", "out.csv"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    line = [ln for ln in res.stderr.splitlines() if ln.startswith("MODULES ")][-1]
    loaded = json.loads(line.removeprefix("MODULES "))
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == []
    out = read_table(tmp_path / "out.csv")  # a table for people: its headers read back
    assert out["grid_code"].tolist() == ["430302001001001", "430302001001002"]
