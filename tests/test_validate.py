"""Validator: every rule found on a plan that breaks it, nothing found on a clean plan."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridgis.errors import CRSError, SchemaError
from gridgis.rules import load_rules
from gridgis.validation import RULES, ValidationReport, validate
from tests.browser import needs_chromium, open_page
from tests.corpus.plans import C1, C3, corpus, make_district

CORPUS = corpus()
BY_NAME = {c.name: c for c in CORPUS}


def run(case, **kw) -> ValidationReport:
    return validate(**case.layers(), **kw)


def found(report: ValidationReport) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in report.findings:
        out.setdefault(f.rule, set()).add(f.severity)
    return out


@pytest.fixture(scope="module")
def reports() -> dict[str, ValidationReport]:
    return {c.name: run(c) for c in CORPUS}


@pytest.mark.parametrize("name", [c.name for c in CORPUS])
def test_corpus_case(name, reports):
    """Each defect is found with its severity, and nothing unrelated is reported."""
    case, report = BY_NAME[name], reports[name]
    got = found(report)
    for rule, severities in case.expect.items():
        assert rule in got, f"{name}: {rule} not found; got {got}"
        assert severities <= got[rule], f"{name}: {rule} severities {got[rule]} != {severities}"
    unexpected = set(got) - set(case.expect) - case.allowed
    assert not unexpected, f"{name}: unexpected {unexpected}: " + "; ".join(
        f.message for f in report.findings if f.rule in unexpected)


def test_every_rule_has_a_breaking_case():
    expected = set().union(*(c.expect for c in CORPUS))
    assert set(RULES) <= expected, f"rules without a corpus case: {set(RULES) - expected}"


def test_clean_plan_is_clean(reports):
    for name in ("clean", "clean_no_parents", "sizes_from_buildings"):
        r = reports[name]
        assert r.clean and r.ok and not r.has_errors, r.summary()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(1, 10_000))
def test_no_false_alarm_on_random_clean_plans(seed):
    d = make_district(seed)
    r = validate(**d.layers())
    assert r.clean, r.summary()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(1, 10_000), pick=st.integers(0, 10_000))
def test_removed_grid_is_a_gap_of_its_area(seed, pick):
    d = make_district(seed)
    i = pick % len(d.grids)
    hole = d.grids.geometry.iloc[i]
    grids = d.grids.drop(index=d.grids.index[i])
    r = validate(grids, d.communities)
    gaps = r.select("gap")
    assert sum(f.measure for f in gaps) == pytest.approx(hole.area, rel=1e-6)
    assert all(f.severity == "error" for f in gaps)


# ---- measures and messages ---------------------------------------------------------------------


def test_gap_measure_is_the_hole(reports):
    (f,) = reports["gap_interior"].select("gap")
    assert f.unit == "m²" and 1500 < f.measure < 2000
    assert len(f.grids) == 3 and f.parent == C1
    assert f.geometry.area == pytest.approx(f.measure)


def test_gaps_of_0_3m_are_noise_warnings_with_width(reports):
    for name in ("digitised_0.3m_gaps", "digitised_0.3m_gaps_no_parents"):
        gaps = reports[name].select("gap")
        assert gaps and all(f.noise and f.severity == "warning" for f in gaps)
        assert all(0.14 < f.width_m < 0.31 for f in gaps), [f.width_m for f in gaps]
        assert all("m wide" in f.message for f in gaps)
        assert reports[name].ok  # noise alone does not fail a plan


def test_gap_width_tolerance_comes_from_rules():
    case = BY_NAME["digitised_0.3m_gaps"]
    strict = load_rules({"tolerances": {"gap_width_m": 0.2}})
    r = run(case, rules=strict)
    assert {f.severity for f in r.select("gap")} == {"error"}


def test_overlap_measure(reports):
    case = BY_NAME["overlap"]
    (f,) = reports["overlap"].select("overlap")
    g = case.district.grids.set_index("grid_code").geometry
    a, b = f.grids
    assert f.measure == pytest.approx(g[a].intersection(g[b]).area, rel=1e-6)
    assert f.severity == "error" and not f.noise


def test_crossing_the_community_line(reports):
    r = reports["drawn_across_community_line"]
    cross = r.select("crosses_parent", severity="error")
    assert all(f.parent == C1 for f in cross)
    # the strip drawn into the neighbour is about 15 m wide along the shared line
    total = sum(f.measure for f in cross)
    assert 10_000 < total < 25_000


def test_sizes_and_flags(reports):
    r = reports["sizes"]
    below = r.select("size_below_min")
    assert {f.severity for f in below} == {"error", "warning"}
    assert [f.measure for f in below if f.severity == "warning"] == [120]
    above = r.select("size_above_max")
    units = {f.unit for f in above}
    assert units == {"households", "residents"}  # urban by households, rural by residents
    school = BY_NAME["sizes"].district.grids.query("kind == 'school'")["grid_code"].iloc[0]
    assert not [f for f in r.findings if school in f.grids]  # special grids: no minimum


def test_item_findings_name_items(reports):
    r = reports["buildings"]
    (un,) = r.select("building_unassigned")
    assert un.item == "B_OUTSIDE" and un.measure > 0 and un.unit == "households"
    (sp,) = r.select("building_split")
    assert sp.item == "B_SPLIT" and len(sp.grids) == 2
    (ad,) = reports["addresses"].select("address_unassigned")
    assert ad.item == "A_FAR"


def test_code_findings(reports):
    (dup,) = reports["code_duplicate"].select("code_duplicate")
    assert dup.measure == 2
    mal = reports["code_malformed"].select("code_malformed")
    assert len(mal) == 3
    assert any("no code" in f.message for f in mal)
    (order,) = reports["code_order"].select("code_order")
    assert order.parent == C1 and order.severity == "warning"


def test_code_scheme_comes_from_rules_codes():
    """Without ``scheme=``, validate (like the CLI) reads the code scheme from ``[codes]``."""
    d = make_district(0)
    grids = d.grids.copy()
    serial = {s: s if s < 900 else s + 8100 for s in range(1, 1000)}  # specials: 9000-9999
    grids["grid_code"] = [f"{c[:12]}-{serial[int(c[12:])]:04d}" for c in grids["grid_code"]]
    rules = load_rules({"codes": {"separator": "-", "serial_width": 4,
                                  "ranges": {"basic": {"start": 1, "stop": 8999},
                                             "special": {"start": 9000, "stop": 9999}}}})
    assert validate(grids, d.communities).select("code_malformed")
    assert validate(grids, d.communities, rules=rules).clean
    # an explicit scheme still wins over the rules
    assert validate(grids, d.communities, rules=rules, scheme={}).select("code_malformed")
    import gridgis

    assert gridgis.repair(grids, d.communities, rules=rules).report.clean


def test_point_on_shared_edge_is_in_one_grid():
    d = make_district(0)
    g = d.grids[d.grids["community_code"] == C3]
    a, b = g.geometry.iloc[0], g.geometry.iloc[1]
    shared = a.intersection(b)
    if shared.length == 0:
        a, b = g.geometry.iloc[0], g.geometry.iloc[2]
        shared = a.intersection(b)
    p = shared.interpolate(0.5, normalized=True)
    addr = gpd.GeoDataFrame({"address_id": ["X"]}, geometry=[p], crs=d.grids.crs)
    r = validate(d.grids, d.communities, addresses=addr)
    assert r.clean, r.summary()


# ---- inputs --------------------------------------------------------------------------------------


def test_chinese_headers_and_geographic_crs():
    d = make_district(0)
    grids = d.grids.rename(columns={"grid_code": "网格编码", "community_code": "所属社区",
                                    "households": "户数", "population": "人口",
                                    "kind": "网格类型"}).to_crs(4326)
    r = validate(grids, d.communities.to_crs(4326), d.buildings, d.addresses)
    assert r.clean, r.summary()
    assert r.metric_crs.is_projected
    broken = BY_NAME["gap_interior"].district
    r2 = validate(broken.grids.to_crs(4326), broken.communities)
    assert r2.rules_found() == {"gap"}


def test_chinese_kind_names():
    d = make_district(0)
    d.grids["kind"] = d.grids["kind"].map({"basic": "基础网格", "school": "学校"})
    assert validate(d.grids, d.communities, d.buildings).clean


def test_bad_inputs_raise_gridgis_errors():
    d = make_district(0)
    with pytest.raises(CRSError):
        validate(d.grids.set_crs(None, allow_override=True))
    with pytest.raises(SchemaError):
        validate(pd.DataFrame(d.grids.drop(columns="geometry")))
    with pytest.raises(CRSError):
        validate(d.grids, d.communities.set_crs(None, allow_override=True))


def test_addresses_as_lonlat_table():
    d = make_district(0)
    table = pd.DataFrame({"地址编号": d.addresses["address_id"], "经度": d.addresses["lon"],
                          "纬度": d.addresses["lat"]})
    table.loc[len(table)] = ["FAR", 113.5, 28.2]
    r = validate(d.grids, d.communities, addresses=table)
    assert [f.item for f in r.findings] == ["FAR"]


def test_grid_without_code_column():
    d = make_district(0)
    r = validate(d.grids.drop(columns=["grid_code"]), d.communities)
    assert r.rules_found() == {"code_malformed"}
    assert all(f.grids[0].startswith("#") for f in r.findings)


# ---- report outputs ------------------------------------------------------------------------------


def test_report_outputs(tmp_path, reports):
    r = reports["realistic_mix"]
    gdf = r.to_geodataframe()
    assert len(gdf) == len(r.findings) and gdf.crs == BY_NAME["realistic_mix"].district.grids.crs
    assert set(gdf.columns) >= {"rule", "severity", "grids", "measure", "unit", "message",
                                "geometry"}
    gdf.to_file(tmp_path / "findings.gpkg", layer="findings")  # mixed geometry writes fine
    data = json.loads(r.to_json(tmp_path / "r.json"))
    assert data["ok"] is False and data["n_errors"] == len(r.errors)
    lon, lat = np.array([c for f in data["findings"] if f["geometry"]
                         for c in _coords(f["geometry"])]).T
    assert 112 < lon.min() and lon.max() < 114 and 27 < lat.min() and lat.max() < 29
    text = r.summary()
    assert "FAILED" in text and RULES["crosses_parent"].title in text
    from rich.console import Console

    console = Console(record=True, width=160)
    console.print(r)
    assert RULES["crosses_parent"].title in console.export_text()


def test_clean_summary(reports):
    assert reports["clean"].summary().startswith("OK:")


def test_html_is_offline_and_lists_every_finding(tmp_path, reports):
    from gridgis.render import external_references
    from gridgis.render.validation_page import write_validation_page

    r = reports["realistic_mix"]
    path = write_validation_page(r, tmp_path / "v.html")
    html = path.read_text(encoding="utf-8")
    assert external_references(html) == [] and "//cdn" not in html
    assert html.count('<tr id="f') == len(r.findings)
    placed = sum(f.geometry is not None and not f.geometry.is_empty for f in r.findings)
    assert html.count("data-b=") == placed
    assert "What the rules mean" in html and RULES["crosses_parent"].title in html
    assert r.status_line() in html
    for rule in r.rules_found():
        assert f'data-rule="{rule}"' in html and RULES[rule].title in html


def test_validation_report_has_no_html_writer():
    """The page is an output (gridgis.render.validation_page), not a method of the report."""
    assert not hasattr(ValidationReport, "to_html")


def _coords(geom: dict) -> list:
    return list(shapely.get_coordinates(shapely.geometry.shape(geom)))


def test_top_level_functions_callable_after_submodule_import():
    import gridgis
    import gridgis.repairs  # noqa: F401
    import gridgis.validation  # noqa: F401

    assert callable(gridgis.validate) and callable(gridgis.repair)
    assert gridgis.validate.__module__ == "gridgis.validation.core"
    assert gridgis.repair.__module__ == "gridgis.repairs.core"
    d = make_district(0)
    assert gridgis.validate(d.grids, d.communities).clean
    assert gridgis.repair(d.grids, d.communities).report.clean


@pytest.mark.parametrize("first", ["gridgis.validation", "gridgis.repairs", "gridgis"])
def test_validate_is_a_function_whatever_is_imported_first(first):
    import subprocess
    import sys

    code = (f"import {first}, gridgis, gridgis.validation, gridgis.repairs, types\n"
            "assert isinstance(gridgis.validate, types.FunctionType), gridgis.validate\n"
            "assert isinstance(gridgis.repair, types.FunctionType), gridgis.repair\n"
            "from gridgis.validation import validate\n"
            "assert gridgis.validate is validate\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_enclave_grid_is_not_a_gap_and_a_hole_is():
    d = make_district(0)
    g = d.grids
    i = int(np.argmax(g.geometry.area))
    host = g.geometry.iloc[i]
    inner = host.centroid.buffer(30, quad_segs=4)
    assert host.contains(inner)
    g.loc[g.index[i], "geometry"] = host.difference(inner)
    holed = validate(g, d.communities)
    assert holed.rules_found() == {"gap"}
    (f,) = holed.select("gap")
    assert f.measure == pytest.approx(inner.area) and f.grids == (g["grid_code"].iloc[i],)
    row = g.iloc[[i]].copy()
    row["grid_code"] = row["grid_code"].str[:12] + "099"
    row["geometry"] = [inner]
    row["households"] = 350
    enclave = gpd.GeoDataFrame(pd.concat([g, row], ignore_index=True), crs=g.crs)
    r = validate(enclave, d.communities)
    assert not r.rules_found() & {"gap", "overlap", "multipart", "sliver"}, r.summary()


@pytest.mark.browser
@needs_chromium
def test_validation_page_in_browser(tmp_path, reports):
    """Offline page: Leaflet draws every finding, nothing leaves the machine, a click zooms."""
    import os
    from pathlib import Path

    from gridgis.render.validation_page import write_validation_page

    r = reports["realistic_mix"]
    path = write_validation_page(r, tmp_path / "v.html")
    find = "Object.values(window).find(v => v instanceof L.Map)"
    res = open_page(path, wait=1.0, evaluate={
        "drawn": f"(() => {{ let n = 0; {find}.eachLayer(l => {{ if (l.feature && "
                 "l.feature.properties.rule) n++; }); return n; })()",
        "rows": "document.querySelectorAll('#gv-findings tr[data-i]').length",
        "zoom0": f"{find}.getZoom()",
        "click": f"(() => {{ document.getElementById('f0').click(); return new Promise(res => "
                 f"setTimeout(() => res([{find}.getZoom(), location.hash]), 500)); }})()",
    })
    assert res.problems == []
    placed = sum(f.geometry is not None and not f.geometry.is_empty for f in r.findings)
    assert res.values["drawn"] == placed and res.values["rows"] == len(r.findings)
    zoom, anchor = res.values["click"]
    assert zoom > res.values["zoom0"] and anchor == "#f0"
    if os.environ.get("GRIDGIS_SCREENSHOT_DIR"):
        res.save(Path(os.environ["GRIDGIS_SCREENSHOT_DIR"]) / "validation_page.png")
