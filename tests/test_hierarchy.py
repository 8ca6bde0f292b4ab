"""Administrative hierarchy: nesting of every level (validate) and roll-ups at every level."""

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import affinity

from gridgis.plan import level_summary
from gridgis.validation import validate
from gridgis.validation.hierarchy import Level, admin_levels, check_hierarchy, level_digits


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English (the message ids)."""
    from gridgis.i18n import use_language

    with use_language("en"):
        yield


def _errors(findings, rule=None):
    return [f for f in findings if f.severity == "error" and (rule is None or f.rule == rule)]


def test_sample_levels_nest(sample_layers):
    s = sample_layers
    levels = admin_levels(district=s["district"], streets=s["streets"],
                          communities=s["communities"])
    assert [lv.digits for lv in levels] == [6, 9, 12]
    assert _errors(check_hierarchy(levels)) == []


def test_level_digits_follow_the_code_scheme():
    assert level_digits({"parent_length": 14}) == {"district": 8, "street": 11, "community": 14,
                                                   "grid": 17}


def test_community_named_under_wrong_street(sample_layers):
    s = sample_layers
    bad = s["communities"].copy()
    bad.loc[0, "parent_code"] = "430302002"
    found = _errors(check_hierarchy({"street": s["streets"], "community": bad}))
    wrong = [f for f in found if f.rule == "wrong_parent"]
    assert len(wrong) == 1 and wrong[0].grids == (bad.loc[0, "code"],)
    assert "street 430302001" in wrong[0].message and "community" in wrong[0].message
    assert [f.rule for f in found if f.rule == "code_prefix"] == ["code_prefix"]


def test_community_moved_into_another_street(sample_layers):
    s = sample_layers
    bad = s["communities"].copy()
    target = s["streets"].geometry.iloc[1].representative_point()
    c0 = bad.geometry.iloc[0].centroid
    bad.loc[0, "geometry"] = affinity.translate(bad.geometry.iloc[0], target.x - c0.x,
                                                target.y - c0.y)
    found = _errors(check_hierarchy({"district": s["district"], "street": s["streets"],
                                     "community": bad}))
    rules = {f.rule for f in found}
    assert {"wrong_parent", "gap", "overlap"} <= rules
    gap = next(f for f in found if f.rule == "gap")
    assert gap.parent == "430302001" and gap.message.startswith("[community in street]")


def test_validate_reports_a_community_in_the_wrong_street(sample_layers, sample_plan):
    s = sample_layers
    bad = s["communities"].copy()
    bad.loc[3, "parent_code"] = "430302003"
    report = validate(sample_plan, parents=bad, levels={"district": s["district"],
                                                        "street": s["streets"]})
    hits = [f for f in report.errors if f.rule == "wrong_parent" and "street" in f.message]
    assert [f.grids for f in hits] == [(bad.loc[3, "code"],)]
    clean = validate(sample_plan, parents=s["communities"],
                     levels={"district": s["district"], "street": s["streets"]})
    assert not [f for f in clean.errors if f.message.startswith("[")]


def test_missing_level_for_part_of_the_area(sample_layers):
    s = sample_layers
    part = s["communities"].iloc[1:]
    found = _errors(check_hierarchy({"street": s["streets"], "community": part}), "gap")
    assert len(found) == 1
    assert found[0].parent == "430302001"
    assert found[0].measure == pytest.approx(s["communities"].geometry.iloc[0].area, rel=1e-3)


def test_grid_in_the_wrong_street(sample_layers, sample_plan):
    s = sample_layers
    grids = sample_plan.copy()
    # a grid of street 001 whose code (and community) say street 002
    i = int(np.flatnonzero(grids["community_code"].str.startswith("430302001"))[0])
    grids.loc[grids.index[i], "community_code"] = "430302002001"
    grids.loc[grids.index[i], "grid_code"] = "430302002001950"
    found = check_hierarchy(admin_levels(streets=s["streets"], communities=s["communities"],
                                         grids=grids))
    street_hits = [f for f in found if f.message.startswith("[grid in street]")]
    assert [f.grids for f in street_hits] == [("430302002001950",)]


def test_intermediate_grid_levels():
    """A county's own grid levels: first-level grids hold second-level grids."""
    crs = "EPSG:4547"
    import geopandas as gpd

    top = gpd.GeoDataFrame({"code": ["A1", "A2"]},
                           geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)],
                           crs=crs)
    sub = gpd.GeoDataFrame(
        {"code": ["A1-1", "A1-2", "A2-1"], "parent_code": ["A1", "A1", "A1"]},
        geometry=[shapely.box(0, 0, 50, 100), shapely.box(50, 0, 100, 100),
                  shapely.box(100, 0, 190, 100)], crs=crs)
    found = _errors(check_hierarchy([Level("grid1", top), Level("grid2", sub)]))
    assert {(f.rule, f.grids) for f in found if f.rule == "wrong_parent"} == {
        ("wrong_parent", ("A2-1",))}
    gaps = [f for f in found if f.rule == "gap"]
    assert len(gaps) == 1 and gaps[0].measure == pytest.approx(1000.0)


# ---- roll-ups ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rollups(sample_layers, sample_plan):
    from gridgis.assignment import assign

    s = sample_layers
    plan = sample_plan
    report = validate(plan, parents=s["communities"], buildings=s["buildings"])
    events = assign(s["events"], plan).table
    addresses = assign(s["addresses"], plan).table
    layers = {"communities": s["communities"], "streets": s["streets"],
              "district": s["district"]}
    return {by: level_summary(plan, by, layers=layers, findings=report.findings,
                              addresses=addresses, events=events)
            for by in ("grid", "community", "street", "district")}, events, addresses


SUMMED = ["grids", "basic", "special", "households", "population", "errors", "warnings",
          "size_findings", "addresses", "events", "events_due", "events_on_time"]


@pytest.mark.parametrize("child,parent", [("grid", "community"), ("community", "street"),
                                          ("street", "district")])
def test_rollup_totals_equal_the_sum_of_children(rollups, child, parent):
    tables, _, _ = rollups
    lower, upper = tables[child], tables[parent]
    kinds = [c for c in upper.columns if c.startswith("kind:")]
    sums = lower.groupby("parent")[SUMMED + kinds].sum()
    pd.testing.assert_frame_equal(sums.reindex(upper.index).fillna(0).astype(int),
                                  upper[SUMMED + kinds].astype(int), check_names=False)
    share = upper["events_on_time"] / upper["events_due"]
    np.testing.assert_allclose(upper["on_time_share"], share)
    assert (upper["children"] == lower.groupby("parent").size().reindex(upper.index)
            .fillna(0)).all()


def test_rollup_counts_match_the_inputs(rollups, sample_layers, sample_plan):
    tables, events, addresses = rollups
    district = tables["district"].iloc[0]
    assert district["name"] == "雨湖区"
    assert district["grids"] == len(sample_plan)
    assert district["households"] == sample_plan["households"].sum()
    assert district["events"] == events["grid_code"].isin(set(sample_plan["grid_code"])).sum()
    assert district["addresses"] == addresses["grid_code"].isin(
        set(sample_plan["grid_code"])).sum()
    streets = tables["street"]
    assert list(streets.index) == sorted(sample_layers["streets"]["code"])
    assert streets.loc["430302001", "name"] == "城正街街道"
    assert 0.5 < district["on_time_share"] <= 1.0


def test_rollup_unknown_level_is_an_input_error(sample_plan):
    from gridgis.errors import GridGISError

    with pytest.raises(GridGISError, match="unknown level 'county'"):
        level_summary(sample_plan, "county")


def test_report_tables_per_level(sample_layers, sample_plan):
    from gridgis.i18n import use_language
    from gridgis.workflows.prints import level_tables

    s = sample_layers
    report = validate(sample_plan, parents=s["communities"])
    with use_language("zh"):
        tables = level_tables(sample_plan, {"communities": s["communities"], "streets": s["streets"],
                                            "district": s["district"]},
                              findings=report.findings)
    assert list(tables) == ["district", "street", "community"]
    for col in ("网格数", "户数", "人口", "错误", "警告"):
        totals = {k: t[col].sum() for k, t in tables.items()}
        assert totals["district"] == totals["street"] == totals["community"]
    assert tables["street"].index.name == "街道（乡镇）"
    assert list(tables["street"]["名称"]) == list(s["streets"].sort_values("code")["name"])
