"""Repair: every repairable broken plan in the corpus comes out clean, and every change is logged."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gridgis.repairs import Change, repair
from gridgis.rules import load_rules
from gridgis.validation import RULES, validate
from tests.corpus.plans import C1, C3, _jitter, corpus, make_district

CORPUS = corpus()
BY_NAME = {c.name: c for c in CORPUS}
REPAIRABLE_RULES = {r for r, info in RULES.items() if info.repairable}
ACTIONS = {"fix_geometry", "remove_empty", "clip_to_parent", "resolve_overlap", "fill_gap",
           "close_noise_gaps", "reattach_part", "absorb_sliver", "move_households",
           "match_edges", "not_repaired"}


def do_repair(case, **kw):
    layers = case.layers()
    return repair(layers["grids"], layers["parents"], layers["buildings"],
                  addresses=layers["addresses"], **kw)


@pytest.fixture(scope="module")
def results():
    return {c.name: do_repair(c) for c in CORPUS}


@pytest.mark.parametrize("name", [c.name for c in CORPUS])
def test_repair_corpus_case(name, results):
    case, res = BY_NAME[name], results[name]
    if case.repairable:
        assert res.report.clean, f"{name}: {res.report.summary()}"
    else:
        left = res.report.rules_found()
        # planning problems stay, geometry problems go
        assert set(case.expect) <= left
        assert not (left & {"gap", "overlap", "crosses_parent", "outside_parent", "multipart",
                            "sliver", "invalid_geometry", "empty_grid"}), res.report.summary()
    assert all(isinstance(c, Change) and c.action in ACTIONS for c in res.log)
    assert all(c.area_m2 >= 0 for c in res.log)
    assert res.plan.crs == case.district.grids.crs
    assert set(res.plan.geom_type) == {"Polygon"}
    # an exact polygon coverage: no overlap, shared edges with identical vertices
    assert shapely.coverage_is_valid(np.asarray(res.plan.to_crs(res.metric_crs).geometry.array))


def test_clean_plan_is_left_alone(results):
    res = results["clean"]
    assert [c.action for c in res.log] in ([], ["match_edges"])
    before = BY_NAME["clean"].district.grids
    assert list(res.plan["grid_code"]) == list(before["grid_code"])
    sym = shapely.symmetric_difference(np.asarray(res.plan.geometry.array),
                                       np.asarray(before.geometry.array))
    assert shapely.area(sym).max() < 1e-6


def test_each_repair_logs_its_action(results):
    want = {
        "invalid_spike": "fix_geometry", "empty_grids": "remove_empty",
        "gap_interior": "fill_gap", "gap_boundary": "fill_gap",
        "digitised_0.3m_gaps": "close_noise_gaps", "overlap": "resolve_overlap",
        "duplicate_grid": "remove_empty", "drawn_across_community_line": "clip_to_parent",
        "outside_district": "clip_to_parent", "multipart": "reattach_part",
        "sliver_thin": "absorb_sliver", "sliver_tiny": "absorb_sliver",
        "wrong_parent": "not_repaired", "unknown_parent": "not_repaired",
    }
    for name, action in want.items():
        assert action in {c.action for c in results[name].log}, (name, results[name].log)


def test_overlap_goes_to_longest_shared_edge(results):
    case = BY_NAME["overlap"]
    (ch,) = [c for c in results["overlap"].log if c.action == "resolve_overlap"]
    loser, winner = ch.grids
    g = case.district.grids.set_index("grid_code").geometry
    piece = ch.geometry
    # shared edge with each claimant's remainder
    rest = {k: g[k].difference(piece) for k in (loser, winner)}
    edge = {k: piece.boundary.intersection(rest[k].buffer(0.01)).length for k in rest}
    assert edge[winner] >= edge[loser]


def test_counts_follow_buildings(results):
    """After repair each grid's households equal the households of the buildings inside it."""
    for case in CORPUS:
        if not case.repairable or not case.use_buildings or "households" not in case.district.grids:
            continue
        res = results[case.name]
        plan = res.plan.to_crs(case.district.buildings.crs)
        pts = case.district.buildings.geometry.representative_point()
        j = gpd.sjoin(gpd.GeoDataFrame(case.district.buildings[["households"]], geometry=pts),
                      plan[["grid_code", "geometry"]], predicate="within")
        counted = j.groupby("grid_code")["households"].sum()
        attr = plan.set_index("grid_code")["households"]
        counted = counted.reindex(attr.index, fill_value=0)
        assert (attr == counted).all(), (case.name, attr[attr != counted], counted[attr != counted])


def test_households_moved_into_a_filled_gap_are_logged():
    d = BY_NAME["gap_interior"].district.copy()
    hole_centre = [f for f in validate(d.grids, d.communities).select("gap")][0].geometry
    p = hole_centre.centroid
    b = d.buildings.iloc[[0]].copy()
    b["building_id"] = "B_IN_GAP"
    b["households"] = 37
    b["population"] = 90
    b["geometry"] = [shapely.box(p.x - 4, p.y - 4, p.x + 4, p.y + 4)]
    buildings = gpd.GeoDataFrame(pd.concat([d.buildings, b], ignore_index=True), crs=b.crs)
    res = repair(d.grids, d.communities, buildings)
    (move,) = [c for c in res.log if c.action == "move_households"]
    assert move.grids[0] == "" and move.households == 37 and move.population == 90
    assert move.buildings == 1
    target = move.grids[1]
    before = d.grids.set_index("grid_code").loc[target, "households"]
    after = res.plan.set_index("grid_code").loc[target, "households"]
    assert after == before + 37
    assert res.report.clean


def test_without_buildings_absorbed_counts_carry_over():
    d = BY_NAME["sliver_thin"].district.copy()
    d.grids.loc[d.grids["grid_code"] == f"{C3}099", "households"] = 50
    res = repair(d.grids, d.communities)
    (ch,) = [c for c in res.log if c.action == "absorb_sliver"]
    absorber = ch.grids[1]
    before = d.grids.set_index("grid_code").loc[absorber, "households"]
    assert res.plan.set_index("grid_code").loc[absorber, "households"] == before + 50
    assert f"{C3}099" not in set(res.plan["grid_code"])


def test_repair_is_idempotent(results):
    res = results["realistic_mix"]
    case = BY_NAME["realistic_mix"]
    again = repair(res.plan, case.district.communities, case.district.buildings)
    assert [c for c in again.log if c.area_m2 > 0.01] == []
    assert [c.action for c in again.log] == []  # already an exact coverage: nothing to do
    assert again.report.clean


def test_log_frame_and_summary(results):
    res = results["drawn_across_community_line"]
    frame = res.log_frame()
    assert len(frame) == len(res.log) and frame.crs == res.plan.crs
    assert {"action", "grids", "area_m2", "households", "message"} <= set(frame.columns)
    text = res.summary()
    assert "clip_to_parent" in text and "after repair: OK" in text
    plan, log, report = res  # unpacks like the documented tuple
    assert report.ok and log is res.log


def test_repair_without_parents_closes_gaps():
    case = BY_NAME["digitised_0.3m_gaps_no_parents"]
    res = do_repair(case)
    assert res.report.clean
    assert any(c.action == "close_noise_gaps" for c in res.log)


def test_area_floor_comes_from_rules_tolerances(tmp_path):
    """``[tolerances] area_floor_m2``: holes up to it are overlay residue for validate and
    repair alike."""
    d = make_district(0)
    grids = d.grids.copy()
    host = grids.geometry.iloc[0]
    c = host.representative_point()
    hole = shapely.box(c.x - 0.1, c.y - 0.25, c.x + 0.1, c.y + 0.25)  # 0.1 m², 0.2 m wide
    grids.loc[grids.index[0], "geometry"] = host.difference(hole)
    res = repair(grids, d.communities)
    assert [f.rule for f in res.before.findings] == ["gap"]
    assert "close_noise_gaps" in {c.action for c in res.log}
    rules = tmp_path / "rules.toml"
    rules.write_text("[tolerances]\narea_floor_m2 = 0.5\n", encoding="utf-8")
    assert load_rules(rules).tolerances.area_floor_m2 == 0.5
    assert validate(grids, d.communities, rules=rules).clean
    res = repair(grids, d.communities, rules=rules)
    assert res.before.clean and res.report.clean
    assert not {"close_noise_gaps", "fill_gap"} & {c.action for c in res.log}
    kept = res.plan.set_index("grid_code").geometry[grids["grid_code"].iloc[0]]
    assert kept.intersection(hole).area < 1e-6  # the residue hole was left alone


def test_crossing_repair_keeps_grids_in_their_community(results):
    res = results["drawn_across_community_line"]
    comm = BY_NAME["drawn_across_community_line"].district.communities.set_index("code").geometry
    for code, geom in zip(res.plan["community_code"], res.plan.geometry, strict=True):
        assert geom.difference(comm[code]).area < 0.01
    assert C1 in set(res.plan["community_code"])


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(1, 1000), amount=st.floats(0.05, 0.24))
# a gap piece on a community line, given to a grid it misses by 0.02 mm (left detached)
@example(seed=305, amount=0.09529416816502664)
# gap pieces touching a grid only at corners, whose crumbs were dropped and left a gap
@example(seed=904, amount=0.05298308888586299)
# a noise strip merged into its grid by a binary union that dropped slivers of it
@example(seed=317, amount=0.24)
def test_random_digitising_noise_is_repaired(seed, amount):
    res = _repair_noisy(seed, amount)
    assert res.report.clean, res.report.summary()


def _repair_noisy(seed, amount):
    d = make_district(seed)
    rng = np.random.default_rng(seed)
    d.grids["geometry"] = [_jitter(g, rng, amount) for g in d.grids.geometry]
    return repair(d.grids, d.communities, d.buildings)


def test_noise_piece_next_to_its_own_grid_is_joined_back():
    """A piece a hair's breadth (well under the touch distance) from its own grid's main piece
    is joined back to it, not left detached."""
    res = _repair_noisy(305, 0.09529416816502664)
    assert res.report.clean, res.report.summary()
    assert not [c for c in res.log if c.action == "not_repaired"], res.summary()
    assert set(res.plan.geom_type) == {"Polygon"}


def test_output_in_the_plan_crs_is_always_valid():
    """Reprojection back to the plan's CRS (degrees) can fold a narrow neck; such grids are
    made valid again in that CRS, so repair never hands back an invalid geometry."""
    import geopandas as gpd
    import shapely

    from gridgis.crs import to_crs_valid

    bow = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    plan = gpd.GeoDataFrame({"grid_code": ["a", "b"]}, geometry=[bow, shapely.box(2, 2, 3, 3)],
                            crs=4326)
    out = to_crs_valid(plan, 4326)
    assert out.is_valid.all() and shapely.area(out.geometry.to_numpy()).sum() > 0
    assert out.geometry.iloc[1].equals(plan.geometry.iloc[1])
