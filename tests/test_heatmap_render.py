"""Event maps: static PNG/PDF, folium overlay, offline animated HTML (checked in a real browser)."""

from __future__ import annotations

import html as html_mod
import json
import os
import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from gridgis import events
from gridgis.events import kde
from gridgis.render import (
    animated_heatmap_html,
    heatmap_map,
    heatmap_overlay,
    register_cjk_font,
    save_heatmap,
    save_hotspots_by_group,
)

from .browser import colored_fraction, needs_chromium, open_page
from .events_fixtures import make_communities, make_district, make_events, make_grids
from .sysdeps import short_tmpdir


@pytest.fixture(scope="module")
def district_data():
    grids = make_grids()
    return grids, make_district(grids), make_communities(grids), make_events(grids)


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_static_maps_pdf_and_svg(tmp_path, district_data):
    grids, district, _, ev = district_data
    r = kde(ev, bandwidth=200, clip=district)
    pdf = save_heatmap(r, tmp_path / "h.pdf", grids=grids, district=district)
    assert pdf.read_bytes()[:4] == b"%PDF"
    svg = save_heatmap(r, tmp_path / "h.svg", grids=grids)
    assert b"<svg" in svg.read_bytes()[:2000]
    with pytest.raises(Exception, match="unsupported image format"):
        save_heatmap(r, tmp_path / "h.bmp")
    assert register_cjk_font()  # Chinese titles need a CJK font


def test_hotspots_by_group_with_one_group(tmp_path, district_data):
    from gridgis.events import event_hotspots_by

    grids, district, _, ev = district_data
    ev = events.clean(ev)
    one = ev[(ev["category"] == ev["category"].iloc[0]).to_numpy()]
    cells = event_hotspots_by(one, district, "category", cell_size=150, permutations=99, seed=0)
    assert cells["group"].nunique() == 1
    path = save_hotspots_by_group(cells, tmp_path / "one.png", grids=grids, district=district)
    assert _is_png(path) and path.stat().st_size > 5_000


def test_folium_overlay_is_inline_and_placed(district_data):
    grids, district, _, ev = district_data
    r = kde(ev, bandwidth=200, clip=district)
    layer = heatmap_overlay(r)
    assert layer.url.startswith("data:image/png;base64,")
    (south, west), (north, east) = layer.bounds
    lon, lat = ev["lon"], ev["lat"]
    assert west <= lon.min() and east >= lon.max() and south <= lat.min() and north >= lat.max()
    assert north - south < 0.05 and east - west < 0.05


@pytest.mark.browser
@needs_chromium
def test_heatmap_page_in_browser(tmp_path, district_data):
    """The offline heatmap page draws its overlay and Chinese title with the network cut and no
    CJK system font."""
    grids, district, _, ev = district_data
    m = heatmap_map(kde(ev, bandwidth=200, clip=district), grids=grids, district=district,
                    path=tmp_path / "h.html")
    assert m.get_name().startswith("map_")
    r = open_page(tmp_path / "h.html", system_cjk_fonts=False, wait=1.0, evaluate={
        "font": "document.fonts.ready.then(() => document.fonts.check(\"12px 'gridgis CJK Sans'\", '事件热力图'))",
        "overlay": "document.querySelectorAll('img.leaflet-image-layer').length",
    })
    assert r.problems == []
    assert r.values == {"font": True, "overlay": 1}
    assert colored_fraction(r.image()[100:700, 250:950]) > 0.5


def test_animated_html_is_self_contained(tmp_path, district_data):
    grids, district, communities, ev = district_data
    ev = events.clean(ev)
    ev.loc[0, "reported_at"] = pd.NaT
    path = animated_heatmap_html(ev, tmp_path / "a.html", grids=grids, communities=communities,
                                 district=district, bandwidth=200)
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|@import|url\(\s*['\"]?http", text)
    assert not re.search(r"src=\"https?:", text)
    assert "@font-face{font-family:'gridgis CJK Sans'" in text  # Chinese labels without system fonts
    data = json.loads(re.search(r"const D = (\{.*?\});\n", text, re.S).group(1).replace("<\\/", "</"))
    assert len(data["ex"]) == len(ev) - 1 and data["skipped"] == {"no_location": 0, "no_time": 1, "total": len(ev)}
    assert data["cats"] == sorted(ev["category"].unique()) and data["urgs"] == ["一般", "重要", "重要紧急"]
    assert len(data["outlines"]["grids"]) == len(grids)




@pytest.mark.browser
@pytest.mark.parametrize(("freq", "query"), [("W", ""), ("M", "&urgs=重要紧急&cats=环境卫生,治安隐患")])
def test_animated_html_in_browser_matches_python(chromium_exe, tmp_path, district_data, freq, query):
    """The page's in-browser KDE gives the same per-period counts and density peaks as Python."""
    grids, district, _, ev = district_data
    ev = events.clean(ev)
    cell = 25.0
    path = animated_heatmap_html(ev, tmp_path / "a.html", grids=grids, district=district,
                                 bandwidth=200, cell_size=cell)
    url = path.resolve().as_uri() + f"#freq={freq}{query}"
    profile = short_tmpdir("gridgis-chromium-")  # sockets must fit under a long TMPDIR
    res = subprocess.run(
        [chromium_exe, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
         "--disable-background-networking", "--disable-component-update", "--no-first-run",
         f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, env={**os.environ, "TMPDIR": profile},
    )
    m = re.search(r'data-selftest="([^"]+)"', res.stdout)
    assert m, res.stderr[-2000:]
    got = json.loads(html_mod.unescape(m.group(1)))
    sel = ev
    if query:
        sel = ev[(ev["urgency"] == "重要紧急") & ev["category"].isin(["环境卫生", "治安隐患"])]
    trend = events.trend(sel, freq=freq)
    full = events.trend(ev, freq=freq)  # the page keeps every period of the whole table
    assert got["n"] == len(full)
    assert got["counts"] == trend["events"].reindex(full.index, fill_value=0).tolist()
    periods = events.period_index(sel["reported_at"], freq)
    for k, p in enumerate(full.index):
        frame = sel[(periods == p).to_numpy()]
        if len(frame) == 0:
            assert got["max"][k] == 0
            continue
        r = kde(frame, bandwidth=200, cell_size=cell, clip=district, method="exact")
        assert got["max"][k] == pytest.approx(r.max, rel=0.01), (k, str(p))
    assert got["vmax"] == pytest.approx(max(got["max"]))
    assert np.isfinite(got["current"]["max"])
