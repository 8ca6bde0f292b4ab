"""PostGIS round trips against a real server started on loopback."""

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridgis import io
from gridgis.errors import DatabaseError, GridGISError
from gridgis.postgis import list_tables, write_layers, write_postgis

from .pg_server import postgis_server, unavailable_reason
from .sysdeps import require_system

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def pg_url():
    reason = unavailable_reason()
    require_system(f"PostgreSQL + PostGIS server ({reason})", reason is None,
                   "Debian packages postgresql and postgresql-<major>-postgis-3, e.g. "
                   "postgresql-15-postgis-3 on Debian 12 (`make sysdeps` as root)")
    with postgis_server() as url:
        yield url


def _plan(n=4, households=400):
    return gpd.GeoDataFrame(
        {
            "grid_code": [f"430302001001{i:03d}" for i in range(1, n + 1)],
            "grid_name": [f"第{i}网格" for i in range(1, n + 1)],
            "households": [households] * n,
        },
        geometry=[shapely.box(i * 100, 0, i * 100 + 100, 100) for i in range(n)],
        crs=4547,
    )


def test_round_trip_plan_with_chinese_text(pg_url):
    plan = _plan()
    write_postgis({"grids": plan, "plan_meta": pd.DataFrame({"note": ["初版"]})}, pg_url)
    assert "grids" in list_tables(pg_url)
    back = io.read_vector(pg_url, layer="grids", geometry="polygon")
    assert back.crs.to_epsg() == 4547
    assert back["grid_name"].tolist() == plan["grid_name"].tolist()
    assert back.geometry.geom_equals(plan.geometry).all()


def test_failed_write_keeps_previous_version(pg_url):
    write_postgis({"grids": _plan(households=400)}, pg_url)
    bad = _plan(households=999).set_crs(None, allow_override=True)  # no CRS: rejected
    with pytest.raises(DatabaseError):
        write_postgis({"grids": _plan(households=999), "broken": bad}, pg_url)
    # a write that fails inside the database after the first table was replaced
    clash = pd.DataFrame({"x": [object()]})
    with pytest.raises(DatabaseError, match="rolled back"):
        write_postgis({"grids": _plan(households=777), "clash": clash}, pg_url)
    back = io.read_vector(pg_url, layer="grids")
    assert back["households"].tolist() == [400] * 4


def test_write_layers_to_url_and_errors(pg_url, tmp_path):
    write_layers({"grids2": _plan(2)}, pg_url)
    assert len(io.read_vector(pg_url, layer="grids2")) == 2
    with pytest.raises(GridGISError, match="no spatial table 'nope'"):
        io.read_vector(pg_url, layer="nope")
    with pytest.raises(GridGISError, match="say which table"):
        io.read_vector(pg_url)
    with pytest.raises(GridGISError, match="plain identifier"):
        io.read_vector(pg_url, layer="grids; drop table grids")
    bad_url = pg_url.rsplit(":", 1)[0] + ":1/gridgis"
    with pytest.raises(DatabaseError, match="cannot"):
        io.read_vector(bad_url, layer="grids")
    write_layers({"grids": _plan(3)}, tmp_path / "p.gpkg")
    assert len(io.read_vector(tmp_path / "p.gpkg")) == 3


def test_cli_reads_and_writes_postgis(pg_url, sample_plan, sample_layers, tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    script = shutil.which("gridgis", path=os.path.dirname(sys.executable)) or "gridgis"
    write_postgis({"plan": sample_plan, "communities": sample_layers["communities"]}, pg_url)

    def run(*args):
        return subprocess.run([script, *args], capture_output=True, text=True, timeout=300)

    res = run("validate", pg_url, "--layer", "plan", "--parents", pg_url, "--parents-layer", "communities")
    assert res.returncode == 0, res.stderr
    res = run("repair", pg_url, "--layer", "plan", "--parents", pg_url, "--parents-layer", "communities",
              "-o", pg_url)
    assert res.returncode == 0, res.stderr
    fixed = io.read_vector(pg_url, layer="grids")
    assert len(fixed) == len(sample_plan)
    res = run("render", pg_url, "--layer", "plan", "-o", str(tmp_path / "m.png"), "--dpi", "40")
    assert res.returncode == 0 and (tmp_path / "m.png").exists(), res.stderr
    res = run("validate", pg_url, "--layer", "nope")
    assert res.returncode == 2 and "no spatial table" in res.stderr
