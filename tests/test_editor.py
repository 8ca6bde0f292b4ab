"""The map editor driven through its widget model: simulated clicks, boxes and drawings go in
as the browser sends them, and the plan, its history and the side panel are checked."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely

pytest.importorskip("anywidget")

import gridgis  # noqa: E402
from gridgis.editor import EditorError, EditorWidget, PlanEditor  # noqa: E402
from gridgis.errors import GridGISError  # noqa: E402
from gridgis.i18n import use_language  # noqa: E402

TO_MERC = pyproj.Transformer.from_crs("EPSG:4547", "EPSG:3857", always_xy=True)


def merc(xy) -> list[list[float]]:
    """Plan coordinates (EPSG:4547) → Web Mercator, as the browser sends them."""
    xy = np.asarray(xy, dtype=float)
    x, y = TO_MERC.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y]).tolist()


@pytest.fixture(autouse=True)
def chinese():
    """The editor speaks the office's language: Chinese by default (the suite runs in English)."""
    with use_language("zh"):
        yield


@pytest.fixture
def plan(sample_plan, sample_layers):
    s = sample_layers
    return gridgis.Plan(sample_plan.copy(), s["communities"], s["buildings"],
                        roads=s["roads"], rivers=s["rivers"], seed=0)


@pytest.fixture
def editor(plan):
    return plan.edit()


def _largest_basic(plan) -> str:
    g = plan.grids
    g = g[g["kind"] == "basic"]
    return str(g.loc[g["households"].idxmax(), "grid_code"])


def _line_across(plan, code: str) -> list[list[float]]:
    geom = plan.grids.set_index("grid_code").geometry[code]
    p = geom.point_on_surface()
    x0, _, x1, _ = geom.bounds
    return merc([(x0 - 10, p.y), (x1 + 10, p.y)])


def _state(ed: PlanEditor) -> dict:
    return {f["c"]: f["s"] for f in ed.widget.grids}


def test_plan_edit_returns_a_widget_shown_by_jupyter(editor, plan):
    assert isinstance(editor, PlanEditor) and isinstance(editor.widget, EditorWidget)
    bundle = editor._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("网格地图编辑器")
    w = editor.widget
    assert len(w.grids) == len(plan) and len(w.communities) == 22
    assert all(f["d"].startswith("M") and f["l"] for f in w.grids)
    assert w.texts["merge"] == "合并所选" and "就绪" in w.status
    assert "未选择网格" in w.panel and "规模达标" in w.panel  # overview + legend


def test_click_and_box_select_fill_the_panel(editor, plan):
    g = plan.grids
    a = str(g["grid_code"].iloc[3])
    b = plan.neighbours(a)[0]
    editor.handle({"type": "click", "code": a})
    assert editor.selected == [a]
    hh_a = int(g.set_index("grid_code").loc[a, "households"])
    assert a in editor.panel and f"{hh_a:,}" in editor.panel and "户数" in editor.panel
    editor.handle({"type": "click", "code": b, "add": True})
    assert editor.selected == [a, b]
    total = int(g.set_index("grid_code").loc[[a, b], "households"].sum())
    assert f"合计 2 个网格：{total:,} 户" in editor.panel
    editor.handle({"type": "click", "code": a, "add": True})  # shift-click again removes
    assert editor.selected == [b]
    editor.handle({"type": "click", "code": None})
    assert editor.selected == [] and "未选择网格" in editor.panel
    geom = g.set_index("grid_code").geometry[a]
    c = geom.representative_point()
    box = merc([(c.x - 1, c.y - 1), (c.x + 1, c.y + 1)])
    editor.handle({"type": "box", "bounds": [*box[0], *box[1]]})
    assert editor.selected == [a]
    with pytest.raises(EditorError):
        editor.handle({"type": "click", "code": "nope"})


def test_draw_split_merge_undo_redo(editor, plan):
    code = _largest_basic(plan)
    n = len(plan)
    editor.handle({"type": "click", "code": code})
    editor.handle({"type": "draw", "shape": "line", "coords": _line_across(plan, code)})
    assert editor.widget.drawing["shape"] == "line" and editor.widget.drawing["d"].startswith("M")
    r = editor.handle({"type": "split_line"})
    k = len(r.added)  # a line crossing the grid several times cuts several pieces
    assert k >= 1 and len(plan) == n + k and plan.history[-1].op == "split"
    assert set(editor.selected) == {code, *r.added}
    assert len(editor.widget.grids) == n + k and editor.widget.drawing == {}
    # the panel lists both pieces with their households, which add up to the old grid's
    hh = plan.grids.set_index("grid_code").loc[[code, *r.added], "households"]
    assert all(f"{int(v):,}" in editor.panel for v in hh)
    assert "秒" in editor.status and "新增问题" in editor.status
    # the statuses on the map follow the findings
    below = {c for f in plan.findings if f.rule == "size_below_min" for c in f.grids}
    assert {c for c, s in _state(editor).items() if s == "below"} == below
    r2 = editor.handle({"type": "merge"})
    assert len(plan) == n and plan.history[-1].op == "merge" and r2.removed == tuple(r.added)
    assert editor.selected == [code]
    editor.handle({"type": "undo"})
    assert len(plan) == n + k and editor.widget.can_redo and len(editor.widget.grids) == n + k
    assert [e.op for e in plan.history] == ["split"]
    editor.handle({"type": "redo"})
    assert len(plan) == n and not editor.widget.can_redo and editor.widget.can_undo


def test_unchanged_grids_are_not_redrawn(editor, plan):
    before = {f["c"]: f for f in editor.widget.grids}
    shapes = dict(zip(plan.state.grids["grid_code"], plan.state.grids.geometry, strict=True))
    code = _largest_basic(plan)
    editor.handle({"type": "click", "code": code})
    editor.handle({"type": "split_parts", "parts": 2})
    after = {f["c"]: f for f in editor.widget.grids}
    now = dict(zip(plan.state.grids["grid_code"], plan.state.grids.geometry, strict=True))
    same = [c for c in now if c in shapes and shapes[c].equals_exact(now[c], 0.0)]
    # a grid whose shape and findings are unchanged keeps its drawn feature (a neighbour may
    # gain a finding from the edit, e.g. a compound now split with the new grid: redrawn)
    kept = [c for c in same if c not in editor.selected and after[c] == before[c]]
    assert len(kept) > len(now) // 2
    assert all(after[c] is before[c] for c in kept)
    assert after[code]["d"] != before[code]["d"]


def test_transfer_rename_and_kind(editor, plan):
    g = plan.grids.set_index("grid_code")
    code = _largest_basic(plan)
    other = next(c for c in plan.neighbours(code)
                 if g.loc[c, "community_code"] == g.loc[code, "community_code"])
    b = plan.context.buildings
    bgrid = plan.state.building_grid
    rows = np.flatnonzero(bgrid == other)
    pts = plan.context.building_points[rows]  # one point per building, in the metric CRS
    shared = g.geometry[code].boundary
    near = rows[np.argsort(shapely.distance(pts, shared))[:2]]
    area = shapely.union_all(shapely.buffer(plan.context.building_points[near], 3.0)).convex_hull
    editor.handle({"type": "click", "code": code})
    editor.handle({"type": "draw", "shape": "polygon",
                   "coords": merc(np.asarray(area.exterior.coords))})
    r = editor.handle({"type": "transfer"})
    assert plan.history[-1].op == "transfer" and r.edit.params["to"] == code
    ids = set(b["building_id"].astype(str).to_numpy()[near])
    assert set(plan.history[-1].params["buildings"]) == ids
    assert (plan.state.building_grid[near] == code).all()
    editor.handle({"type": "rename", "name": "幸福里网格"})
    assert plan.grids.set_index("grid_code").loc[code, "grid_name"] == "幸福里网格"
    assert next(f for f in editor.widget.grids if f["c"] == code)["l"] == "幸福里网格"
    editor.handle({"type": "set_kind", "kind": "school"})
    assert _state(editor)[code] == "special" and "学校" in editor.panel


def test_refused_actions_leave_the_plan_alone(editor, plan):
    n, steps = len(plan), len(plan.history)
    editor.handle({"type": "click", "code": _largest_basic(plan)})
    with pytest.raises(EditorError):
        editor.handle({"type": "merge"})
    assert editor.status.startswith("未完成") and "至少选择两个" in editor.status
    with pytest.raises(EditorError):
        editor.handle({"type": "split_line"})  # no line drawn
    with pytest.raises(EditorError):
        editor.handle({"type": "transfer"})  # no area drawn
    with pytest.raises(EditorError):
        editor.handle({"type": "bogus"})
    with pytest.raises(GridGISError):
        editor.handle({"type": "undo"})  # nothing to undo: the plan says so
    assert len(plan) == n and len(plan.history) == steps
    # from the browser, a refused action only shows its message
    editor.widget.receive({"type": "merge"})
    assert len(plan.history) == steps


def test_session_code_and_recorded_events_replay(plan, tmp_path):
    path = tmp_path / "plans.gpkg"
    plan.save(path, note="first")
    opened = gridgis.Plan.open(path)
    editor = opened.edit()
    code = _largest_basic(opened)
    editor.handle({"type": "click", "code": code})
    editor.handle({"type": "draw", "shape": "line", "coords": _line_across(opened, code)})
    editor.handle({"type": "split_line"})
    a = editor.selected[-1]  # a new piece
    at = merc([opened.grids.set_index("grid_code").geometry[a].representative_point().coords[0]])
    editor.handle({"type": "click", "code": a, "at": at[0]})
    editor.handle({"type": "rename", "name": "新网格"})
    editor.handle({"type": "click", "code": code})
    editor.handle({"type": "split_parts", "parts": 2})
    editor.handle({"type": "undo"})
    assert editor.handle({"type": "save", "note": "hand edits"}) == 2
    src = editor.code()
    assert editor.handle({"type": "code"}) == src == editor.widget.code  # the 代码 button
    assert "Plan.open(" in src and "version=1" in src and "plan.save(note='hand edits')" in src
    assert [ln.split("(")[0] for ln in src.splitlines() if ln.startswith(("plan.", "r1 "))] == [
        "r1 = plan.split", "plan.rename", "plan.save"]
    assert "code=r1.added[" in src  # the renamed grid is a piece of the split
    ns: dict = {}
    exec(compile(src, "session.py", "exec"), ns)  # writes version 3 from version 1
    replayed = gridgis.Plan.open(path, version=3).grids
    saved = gridgis.Plan.open(path, version=2).grids
    _same_plan(replayed, saved)
    assert "新网格" in set(replayed["grid_name"])
    # the recorded events replay on the opened version as well
    again = gridgis.Plan.open(path, version=1).edit()
    again.replay([e for e in editor.events if e["type"] != "save"])
    _same_plan(again.plan.grids, saved)


def _same_plan(a, b) -> None:
    """Same grids, whatever fresh codes the new pieces got."""
    assert len(a) == len(b)
    assert sorted(a["households"]) == sorted(b["households"])
    assert np.allclose(np.sort(a.area), np.sort(b.area))
    assert len(set(a["grid_code"]) ^ set(b["grid_code"])) <= 2 * 2


def test_english_on_request(plan):
    with use_language("en"):
        ed = plan.edit()
    assert ed.widget.texts["merge"] == "Merge selected" and "Ready" in ed.status


def test_local_basemap_tiles_are_embedded(plan, tmp_path):
    import math

    from PIL import Image

    minx, miny, maxx, maxy = plan.grids.total_bounds
    cx, cy = TO_MERC.transform((minx + maxx) / 2, (miny + maxy) / 2)
    half = math.pi * 6378137.0
    for z in range(20):
        size = 2 * half / 2 ** z
        x, y = int((cx + half) // size), int((half - cy) // size)
        (tmp_path / str(z) / str(x)).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 4), (200, 220, 240)).save(tmp_path / str(z) / str(x) / f"{y}.png")
    ed = plan.edit(basemap=tmp_path)
    tiles = ed.widget.basemap
    assert tiles and all(t["href"].startswith("data:image/png;base64,") for t in tiles)
    with pytest.raises(GridGISError):
        plan.edit(basemap=tmp_path / "missing.mbtiles")


def test_buildings_on_demand(editor, plan):
    assert editor.widget.buildings == []
    editor.handle({"type": "buildings", "show": True})
    assert len(editor.widget.buildings) == len(plan.context.buildings)
    minx, miny, maxx, maxy = plan.grids.total_bounds
    box = merc([(minx, miny), ((minx + maxx) / 2, (miny + maxy) / 2)])
    editor.handle({"type": "buildings", "show": True, "bounds": [*box[0], *box[1]]})
    assert 0 < len(editor.widget.buildings) < len(plan.context.buildings)
    editor.handle({"type": "buildings", "show": False})
    assert editor.widget.buildings == [] and not editor.widget.show_buildings
