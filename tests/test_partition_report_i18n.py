"""The build report in the office's language: ``detail`` texts come from the message catalogue
(Chinese by default), the machine-readable columns (item, ids, community codes, reason codes)
stay canonical English."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import geopandas as gpd
import shapely

from gridgis import schema
from gridgis.i18n import use_language
from gridgis.partition import build_grids

ROOT = Path(__file__).resolve().parents[1]
CRS = 32650
X0, Y0 = 500_000.0, 3_000_000.0
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]{2,}[^A-Za-z{}]+[A-Za-z]{2,}")


def _layers():
    """A community with a compound split by a street into parts, a small lone community below
    the minimum, a building with bad households and one outside every community."""
    comm = gpd.GeoDataFrame(
        {schema.CODE: ["430302001001", "430302001002"]},
        geometry=[shapely.box(X0, Y0, X0 + 600, Y0 + 400),
                  shapely.box(X0 + 600, Y0, X0 + 700, Y0 + 100)], crs=CRS)
    roads = gpd.GeoDataFrame({schema.ROAD_CLASS: ["local"]},
                             geometry=[shapely.LineString([(X0 + 300, Y0), (X0 + 300, Y0 + 400)])],
                             crs=CRS)
    pts = [(x, y) for x in range(25, 600, 50) for y in range(25, 400, 50)]
    hh = [40.0] * len(pts)
    comp = ["BIG" if 200 <= x <= 400 else "" for x, _ in pts]
    pts += [(650, 50), (2000, 2000)]
    hh += [-3.0, 10.0]
    comp += ["", ""]
    b = gpd.GeoDataFrame({schema.HOUSEHOLDS: hh, schema.COMPOUND_ID: comp},
                         geometry=[shapely.box(X0 + x - 10, Y0 + y - 8, X0 + x + 10, Y0 + y + 8)
                                   for x, y in pts], crs=CRS)
    return comm, roads, b


def test_report_details_follow_the_language_and_codes_stay_english():
    comm, roads, b = _layers()
    with use_language("zh"):
        zh = build_grids(comm, roads, b).report
    with use_language("en"):
        en = build_grids(comm, roads, b).report
    assert {"bad_households", "outside_communities", "below_min"} <= set(zh["reason"])
    machine = ["item", "item_id", "community_code", "reason"]
    assert zh[machine].equals(en[machine])
    assert zh["detail"].str.contains(CJK).all(), zh.loc[~zh["detail"].str.contains(CJK)]
    assert not en["detail"].str.contains(CJK).any()
    assert (zh["detail"] != en["detail"]).all()


def _english_details(tree: ast.AST) -> list[int]:
    """Lines where a report row's detail or a region's reason is an English literal."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        args: list[ast.expr] = []
        if isinstance(f, ast.Attribute) and f.attr == "add" and len(node.args) >= 5:
            args = [node.args[4]]  # Report.add(item, id, community, reason, detail)
        elif isinstance(f, ast.Name) and f.id == "Region" and len(node.args) >= 3:
            args = [node.args[2]]  # Region(nodes, flag, reason, cause)
        for a in args:
            if isinstance(a, ast.Constant) and isinstance(a.value, str) and ENGLISH.search(a.value):
                found.append(node.lineno)
            if isinstance(a, ast.JoinedStr):
                found.append(node.lineno)
    return found


def test_no_report_detail_is_written_outside_the_catalogue():
    found = []
    for path in sorted((ROOT / "gridgis" / "partition").glob("*.py")):
        lines = _english_details(ast.parse(path.read_text(encoding="utf-8")))
        found += [f"{path.name}:{n}" for n in lines]
    assert not found, found
    bad = ast.parse('rep.add("grid", g, c, "x", f"{n} households over")\n'
                    'Region(p, "out_of_range", "no split found", "x")')
    assert len(_english_details(bad)) == 2
