"""The ``gridgis heatmap`` verb: outputs, problem rows, exit codes."""

from __future__ import annotations

import pandas as pd

from gridgis.cli import EXIT_BAD_INPUT, EXIT_OK, main

from .events_fixtures import make_district, make_events, make_grids


def test_heatmap_verb(tmp_path):
    grids = make_grids()
    ev = make_events(grids).iloc[:800]
    table = pd.DataFrame({
        "事件编号": ev["event_id"], "事件类型": ev["category"], "紧急程度": ev["urgency"],
        "流程环节": ev["stage"], "上报时间": ev["reported_at"].dt.strftime("%Y/%m/%d %H:%M"),
        "办结时间": ev["closed_at"].dt.strftime("%Y-%m-%d %H:%M:%S"), "经度": ev["lon"], "纬度": ev["lat"],
    })
    table.loc[3, "经度"] = None
    csv = tmp_path / "事件.csv"
    table.to_csv(csv, index=False, encoding="gbk")
    plan = tmp_path / "plan.gpkg"
    grids.to_file(plan)
    dist = tmp_path / "district.gpkg"
    make_district(grids).to_file(dist)
    out = tmp_path / "maps"
    rc = main(["-q", "heatmap", str(csv), "--grids", str(plan), "--district", str(dist), "-o", str(out),
               "--bandwidth", "200"])
    assert rc == EXIT_OK
    for name in ("events_heatmap.png", "events_by_grid.png", "events_hotspots.png", "events_by_grid.csv",
                 "events_heatmap_animated.html", "events_problems.csv"):
        assert (out / name).stat().st_size > 0, name
    problems = pd.read_csv(out / "events_problems.csv", encoding="utf-8-sig")  # for people
    assert problems["Event ID"].tolist() == [ev["event_id"].iloc[3]]
    assert problems["Problem"].iloc[0] == "no coordinates"
    stats = pd.read_csv(out / "events_by_grid.csv", encoding="utf-8-sig")  # English headers
    assert stats["Events"].sum() == 799
    assert main(["-q", "heatmap", str(tmp_path / "missing.csv"), "--grids", str(plan)]) == EXIT_BAD_INPUT
