"""Workflows: the event-outputs bundle of a district and the demo on the sample district."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd
import pytest

from gridgis.render import external_references
from gridgis.workflows import run_demo, write_event_outputs

from .events_fixtures import make_communities, make_district, make_events, make_grids

README = Path(__file__).parents[1] / "README.md"

# What the README's words for the contents of ``events/`` stand for.
EVENT_FILES = {
    "heatmap": ["events_heatmap.png"],
    "per-grid rates": ["events_by_grid.png", "events_by_grid.csv"],
    "hot spots": ["events_hotspots.png", "events_hotspots.gpkg"],
    "monthly bulletin": ["events_bulletin.xlsx"],
    "weekly/monthly trend": ["events_trend.csv"],
    "time-animated heatmap page": ["events_heatmap_animated.html"],
}


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def documented_demo_outputs() -> list[str]:
    """File names the README says ``make demo`` writes (``a.png/.svg`` gives both files)."""
    text = README.read_text(encoding="utf-8")
    para = re.search(r"`make demo` writes into `demo_output/`:(.*?)\n\n", text, re.S)
    assert para, "README no longer lists the demo's outputs"
    body = " ".join(para.group(1).split())
    names = []
    for item in re.findall(r"`([^`]+)`", body):
        if item.endswith("/"):
            continue
        stem, _, rest = item.partition(".")
        names += [f"{stem}.{ext.lstrip('.')}" for ext in rest.split("/")]
    events = re.search(r"`events/` \((.*?)\)", body)
    assert events, "README no longer describes the events/ folder"
    for words, files in EVENT_FILES.items():
        assert words in events.group(1), words
        names += [f"events/{f}" for f in files]
    return names


@pytest.fixture(scope="module")
def district_data():
    grids = make_grids()
    return grids, make_district(grids), make_communities(grids), make_events(grids)


def test_write_event_outputs(tmp_path, district_data):
    grids, district, communities, ev = district_data
    out = write_event_outputs(ev, grids, tmp_path, district=district, communities=communities,
                              bandwidth=200, permutations=199)
    for key in ("heatmap_png", "by_grid_png", "hotspots_png", "grid_hotspots_png", "hotspots_by_category_png"):
        assert _is_png(out[key]) and out[key].stat().st_size > 20_000, key
    from gridgis.people import header

    table = pd.read_csv(out["by_grid_csv"], encoding="utf-8-sig")  # English: readable headers
    assert len(table) == len(grids) and table[header("n_events")].sum() == len(ev)
    assert {header(c) for c in ("rate_per_100hh", "on_time_share", "expected", "hotspot",
                                "hot_level")} <= set(table.columns)
    trend = pd.read_csv(out["trend_csv"], encoding="utf-8-sig")
    weekly = trend[trend[header("freq")] == "W"].drop(
        columns=[header("period"), header("freq")]).to_numpy().sum()
    assert weekly == len(ev)
    import pyogrio

    assert set(pyogrio.list_layers(out["hotspots_gpkg"])[:, 0]) == {"cells", "cells_by_category", "grids"}
    assert out["animated_html"].exists()
    # the offline interactive heatmap is always written, and needs nothing outside the file
    assert out["heatmap_html"] == tmp_path / "events_heatmap.html"
    page = out["heatmap_html"].read_text(encoding="utf-8")
    assert "L.imageOverlay" in page and "data:image/png;base64," in page
    assert external_references(page) == []
    assert set(grids["grid_code"]) <= set(re.findall(r'"grid_code": ?"(\d+)"', page))


def test_readme_lists_the_demo_outputs():
    names = documented_demo_outputs()
    assert {"plan.gpkg", "grid_map_25d.png", "grid_map_25d.svg", "validation.html",
            "validation.json", "grid_summary.csv", "events/events_trend.csv"} <= set(names)


def test_demo_writes_every_documented_output(tmp_path, caplog, capsys):
    out = tmp_path / "demo"
    with caplog.at_level(logging.INFO, logger="gridgis"):
        written = run_demo(out)
    for name in documented_demo_outputs():
        path = out / name
        assert path.is_file() and path.stat().st_size > 0, name
        assert path in set(written.values()), name
    import pyogrio

    # the plan file carries the context layers the README names
    layers = set(pyogrio.list_layers(out / "plan.gpkg")[:, 0])
    assert {"communities", "buildings", "roads", "addresses"} <= layers
    # quiet library: progress goes to the log, nothing is printed
    assert capsys.readouterr().err == ""
    messages = [r.getMessage() for r in caplog.records if r.name == "gridgis.workflows.demo"]
    assert any(m.startswith("[6/6]") for m in messages)
    assert "validation: 0 errors" in messages[-1]
