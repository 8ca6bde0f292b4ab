"""Interactive maps as one offline HTML file: folium plan map and deck.gl 2.5D map.

The pages are checked as text (no reference leaves the file, assets dropped or inlined) and
opened in headless chromium with the network cut and no CJK system font: the screenshot shows
the grids, nothing failed to load, the console is clean, Chinese labels are in the DOM and are
drawn with the font the page brings.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridgis import codes, partition
from gridgis.errors import CRSError, GridGISError, SchemaError
from gridgis.i18n import use_language
from gridgis.render import assets, to_wgs84, web
from gridgis.render.deck import deck_map_25d
from gridgis.samples import load_sample

from .browser import blank_page, colored_fraction, needs_chromium, open_page

FIND_MAP = "Object.values(window).find(v => v instanceof L.Map)"


def _keep_screenshot(result, name: str) -> None:
    """Set GRIDGIS_SCREENSHOT_DIR to keep the browser screenshots for a look."""
    folder = os.environ.get("GRIDGIS_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        result.save(Path(folder) / name)


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(scope="module")
def plan(sample):
    s = sample
    built = partition.build_grids(s["communities"], roads=s["roads"], buildings=s["buildings"],
                                  special_sites=s["special_sites"], rivers=s["rivers"], seed=0)
    return codes.assign_codes(built.grids, communities=s["communities"])


@pytest.fixture(scope="module")
def findings(plan, sample):
    from gridgis.validation import validate

    return validate(plan, sample["communities"], buildings=sample["buildings"])


@pytest.fixture(scope="module")
def map_page(tmp_path_factory, plan, sample, findings):
    out = tmp_path_factory.mktemp("web") / "plan.html"
    with use_language("zh"):  # the office's page, in Chinese
        m = web.interactive_map(plan, roads=sample["roads"], rivers=sample["rivers"],
                                communities=sample["communities"], findings=findings,
                                points={"事件": sample["events"]}, out=out, title="样例区网格图")
    return m, out


@pytest.fixture(scope="module")
def deck_page(tmp_path_factory, plan, sample):
    out = tmp_path_factory.mktemp("deck") / "plan25d.html"
    with use_language("zh"):
        return deck_map_25d(plan, buildings=sample["buildings"], roads=sample["roads"],
                            rivers=sample["rivers"], out=out, title="样例区 2.5D 网格图")


def _has(s: str, page: str) -> bool:
    """``s`` is on the page, as UTF-8 or as JSON ``\\u`` escapes (folium's ``tojson``)."""
    return s in page or json.dumps(s)[1:-1] in page


def _small_map(**kw) -> folium.Map:
    m = folium.Map(location=[27.85, 112.92], zoom_start=14, tiles=None, **kw)
    m.options["maxZoom"] = 19
    return m


# ---- offline_html as text ------------------------------------------------------------------------


def test_folium_default_page_becomes_self_contained():
    m = _small_map()
    folium.Marker([27.85, 112.92], tooltip="tip").add_to(m)
    raw = m.get_root().render()
    assert re.search(r"<script[^>]+src=\"https://cdn", raw)  # what folium writes by itself
    page = assets.offline_html(m)
    assert assets.external_references(page) == []
    assert not re.search(r"<script[^>]*\ssrc=|<link[^>]*\shref=", page)
    assert "L.Icon.Default.imagePath=''" in page and "data:image/png;base64," in page
    # nothing on the page uses jQuery, Bootstrap, icon fonts or awesome-markers: all dropped
    assert "jQuery v3" not in page and not re.search(r"Bootstrap +v5", page)
    assert "Font Awesome" not in page and "Glyphicons" not in page and "AwesomeMarkers" not in page
    assert "@font-face" not in page  # no CJK text, no font
    assert len(page) < 200_000


def test_assets_inlined_when_used():
    m = _small_map()
    folium.Marker([27.85, 112.92], popup="弹窗").add_to(m)  # popups are built with jQuery
    folium.Marker([27.851, 112.921], icon=folium.Icon(color="red")).add_to(m)  # glyphicon
    folium.Marker([27.852, 112.922], icon=folium.Icon(prefix="fa", icon="house", angle=30)).add_to(m)
    folium.plugins.MarkerCluster(locations=[[27.84, 112.91], [27.841, 112.911]]).add_to(m)
    folium.plugins.HeatMap([[27.85, 112.93, 1.0]]).add_to(m)
    page = assets.offline_html(m)
    assert assets.external_references(page) == []
    for marker in ("jQuery v3", "Glyphicons Halflings", "Font Awesome", "AwesomeMarkers",
                   "L.MarkerClusterGroup", "simpleheat", ".awesome-marker i.fa-rotate-30"):
        assert marker in page, marker
    assert not re.search(r"Bootstrap +v5", page)
    assert "@font-face{font-family:'gridgis CJK Sans'" in page  # 弹窗 is CJK
    assert re.search(r"Bootstrap +v5", assets.offline_html(_small_map(), keep=["bootstrap_css"]))
    assert assets.offline_html(page) == page  # idempotent: an offline page stays as it is
    with pytest.raises(GridGISError, match="cannot make an offline page of a int"):
        assets.offline_html(3)


def test_unknown_plugin_and_online_tiles_are_refused():
    m = _small_map()
    folium.plugins.Fullscreen().add_to(m)
    with pytest.raises(GridGISError, match=r"no local copy of https://cdn.jsdelivr.net/npm/leaflet.fullscreen"):
        assets.offline_html(m)
    online = folium.Map(location=[27.85, 112.92], tiles="OpenStreetMap")
    with pytest.raises(GridGISError, match=r"tiles https://tile.openstreetmap.org"):
        assets.offline_html(online)
    page = assets.offline_html(online, allow_online_tiles=True)
    assert [k for k, _ in assets.external_references(page)] == ["tiles"]


@pytest.mark.parametrize("snippet,kind", [
    ('<img src="https://example.com/a.png">', "resource"),
    ("<style>.x{background:url(//example.com/b.png)}</style>", "css-url"),
    ("<style>@import 'https://example.com/c.css';</style>", "css-import"),
    ('<script src="lib/local.js"></script>', "script"),
    ('<link rel="stylesheet" href="http://example.com/d.css">', "link"),
    ('<script>fetch("https://example.com/e.json")</script>', "fetch"),
    ('<script>L.imageOverlay("https://example.com/f.png", b)</script>', "overlay"),
])
def test_external_references_found(snippet, kind):
    page = f"<html><head></head><body>{snippet}</body></html>"
    assert [k for k, _ in assets.external_references(page)] == [kind]
    with pytest.raises(GridGISError, match="outside the file|no local copy"):
        assets.offline_html(page)


def test_links_and_namespaces_are_not_references():
    page = ('<html><head></head><body><a href="https://leafletjs.com">Leaflet</a>'
            '<svg xmlns="http://www.w3.org/2000/svg"></svg>'
            "<style>.y{background:url(data:image/png;base64,AAAA)}</style></body></html>")
    assert assets.external_references(page) == []
    assert assets.offline_html(page) == page


def test_cjk_font_is_a_subset_of_the_page_text():
    page = assets.offline_html('<html><head></head><body><script>var s = "\\u7f51\\u683c";</script>'
                            "<p>&#x793e;&#21306;</p></body></html>")
    face = re.search(r"src:url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", page)
    assert face, "no inline font"
    import base64
    import io

    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(base64.b64decode(face.group(1))))
    cmap = font.getBestCmap()
    assert {ord(c) for c in "网格社区"} <= set(cmap)  # \u escapes and entities count
    assert ord("省") not in cmap and len(face.group(1)) < 60_000


# ---- the sample plan map -------------------------------------------------------------------------


def test_interactive_map_of_the_sample(map_page, plan):
    m, path = map_page
    text = path.read_text(encoding="utf-8")
    assert assets.external_references(text) == []
    assert 200_000 < path.stat().st_size < 2_500_000
    assert "风车路社区第1网格" in text  # labels are written as UTF-8
    assert _has("事件（显示 5,000 / 10,710）", text)  # capped point layer says so
    for alias in ("网格编码", "网格名称", "户数", "人口", "类型", "校验问题"):
        assert _has(alias, text), alias
    # every grid has a label, plus one per community
    assert text.count('class=\\"gg-s\\"') + text.count('class="gg-s"') >= len(plan)
    # coordinates in WGS84 around Xiangtan, rounded to 6 decimals
    coords = [float(x) for x in re.findall(r"\[(112\.\d+),\s*27\.\d+\]", text)[:200]]
    assert coords and all(len(f"{c:.10f}".rstrip("0").split(".")[1]) <= 6 for c in coords)
    bounds = m.get_bounds()
    assert 27.7 < bounds[0][0] < bounds[1][0] < 28.0 and 112.8 < bounds[0][1] < bounds[1][1] < 113.1


def test_interactive_map_any_crs_and_column_colors(plan, sample, tmp_path):
    wgs = plan.to_crs(4326)
    with use_language("zh"):
        m = web.interactive_map(wgs, color="kind", labels="code", tiles=None,
                                points=sample["addresses"], max_points=500)
    page = assets.offline_html(m)
    assert _has("基础网格", page) and "gg-legend" in page
    assert plan["grid_code"].iloc[0] in page
    assert _has(f"点位（显示 500 / {len(sample['addresses']):,}）", page)
    # online tiles stay available: scripts still inline, only the tiles come from the internet
    out = tmp_path / "online.html"
    web.interactive_map(plan, tiles="OpenStreetMap", out=out)
    assert [k for k, _ in assets.external_references(out.read_text(encoding="utf-8"))] == ["tiles"]
    m2 = web.interactive_map(plan, color="households", labels=False)
    assert "gg-label" not in m2.get_root().render().split("</style>", 1)[1]


def test_interactive_map_errors(plan):
    with pytest.raises(CRSError, match="no CRS"):
        web.interactive_map(gpd.GeoDataFrame(plan.drop(columns="geometry"),
                                             geometry=list(plan.geometry), crs=None))
    with pytest.raises(SchemaError, match="no column 'nope'"):
        web.interactive_map(plan, color="nope")
    with pytest.raises(SchemaError, match="labels="):
        web.interactive_map(plan, labels="nope")
    with pytest.raises(SchemaError, match="findings: column 'severity'"):
        web.interactive_map(plan, findings=plan[["geometry"]])


def test_coverage_simplification_keeps_shared_edges(plan):
    g = to_wgs84(plan, "grids", simplify_m=5.0, coverage=True)
    geoms = np.asarray(g.to_crs(plan.crs).geometry.array)
    assert shapely.coverage_is_valid(geoms, gap_width=0.0)
    n_before = shapely.get_num_coordinates(np.asarray(plan.geometry.array)).sum()
    assert shapely.get_num_coordinates(geoms).sum() < n_before


# ---- deck.gl 2.5D page ---------------------------------------------------------------------------


def _without_libraries(page: str) -> str:
    return re.sub(r"<script>.{100000,}?</script>", "<script></script>", page, flags=re.S)


def test_deck_page_is_self_contained(deck_page, plan):
    text = deck_page.read_text(encoding="utf-8")
    page = _without_libraries(text)  # the bundles mention URLs in messages they never load here
    assert len(text) - len(page) > 1_600_000  # deck.gl is inline
    assert not re.search(r"<script[^>]*\ssrc=|<link[^>]*\shref=", page)
    assert "mapbox" not in page.lower() and "carto" not in page.lower()
    assert assets.external_references(page) == []
    assert "@font-face{font-family:'gridgis CJK Sans'" in text
    assert '"@@type":"PolygonLayer"' in text and '"id":"buildings"' in text
    assert 1_700_000 < deck_page.stat().st_size < 4_000_000
    html = deck_map_25d(plan, height=None, color="kind")
    assert isinstance(html, str) and "gg-legend" in html


# ---- in a browser, network cut, no CJK system font ------------------------------------------------


@pytest.mark.browser
@needs_chromium
def test_browser_helper_sees_failures(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<html><head><link rel="stylesheet" href="https://example.com/x.css"></head>'
                    "<body><script>console.error('boom'); null.x;</script></body></html>")
    r = open_page(page, wait=0.2)
    assert [f["url"] for f in r.failed_requests] == ["https://example.com/x.css"]
    assert r.external_requests == ["https://example.com/x.css"]
    assert any("boom" in e for e in r.console_errors)
    assert any("TypeError" in e for e in r.console_errors)


@pytest.mark.browser
@needs_chromium
def test_offline_map_in_browser(map_page, plan, tmp_path):
    _, path = map_page
    tip = (f"(() => {{ const m = {FIND_MAP}; let gj = null;"
           " m.eachLayer(l => { if (!gj && l.feature && l.feature.properties.grid_code) gj = l; });"
           " gj.fire('mouseover', {latlng: gj.getBounds().getCenter()}, true);"
           " const t = document.querySelector('.leaflet-tooltip'); return t ? t.innerText : null; })()")
    basic = plan[plan["kind"] == "basic"]
    name = basic.loc[basic.to_crs(4547).area.idxmax(), "grid_name"]  # its name fits at zoom 17
    # zoom to that grid's label: names drawn inside the window
    zoom = (f"(() => {{ const m = {FIND_MAP}; let at = null;"
            " m.eachLayer(l => { const h = l.options && l.options.icon && l.options.icon.options.html;"
            f" if (!at && h && h.indexOf({json.dumps(name)}) >= 0) at = l.getLatLng(); }});"
            " m.setView(at, 17, {animate: false});"
            " return new Promise(res => setTimeout(() => res(Array.from("
            "document.querySelectorAll('.gg-label .gg-l')).filter(e => { const b = e.getBoundingClientRect();"
            " return b.width > 0 && b.right > 0 && b.bottom > 0 && b.left < innerWidth && b.top < innerHeight; })"
            ".map(e => e.textContent)), 300)); })()")
    r = open_page(path, system_cjk_fonts=False, wait=1.0, evaluate={
        "font": "document.fonts.ready.then(() => document.fonts.check(\"12px 'gridgis CJK Sans'\", '网格'))",
        "names": "Array.from(document.querySelectorAll('.gg-label .gg-l')).map(e => e.textContent)",
        "hidden": "Array.from(document.querySelectorAll('.gg-label .gg-l')).filter(e => e.offsetWidth > 0).length",
        "tooltip": tip,
        "visible": zoom,  # last: the screenshot is taken zoomed in
    })
    assert r.problems == []
    assert r.values["font"] is True
    assert set(plan["grid_name"]) <= set(r.values["names"])
    # names are hidden at the overview zoom and drawn once zoomed in
    assert r.values["hidden"] == 0 and name in r.values["visible"]
    assert "网格编码" in r.values["tooltip"] and re.search(r"\d{15}", r.values["tooltip"])
    _keep_screenshot(r, "plan_zoomed.png")
    img = r.image()
    assert img.shape == (800, 1200, 3)
    blank = open_page(blank_page(tmp_path / "blank.html"))
    _keep_screenshot(blank, "blank.png")
    assert colored_fraction(blank.image()) < 0.01
    assert colored_fraction(img[100:700, 250:950]) > 0.5


@pytest.mark.browser
@needs_chromium
def test_deck_map_in_browser(deck_page, tmp_path):
    r = open_page(deck_page, webgl=True, system_cjk_fonts=False, wait=1.0, width=900, height=600,
                  evaluate={
        "font": "document.fonts.ready.then(() => document.fonts.check(\"12px 'gridgis CJK Sans'\", '网格图'))",
        "layers": "gridgisDeck.props.layers.map(l => l.id)",
        "picked": "(() => { const o = gridgisDeck.pickObject({x: 450, y: 320, radius: 4});"
                  " return o && o.object ? (o.object.grid_code || o.object.building_id) : null; })()",
        "webgl": "!!document.createElement('canvas').getContext('webgl2')",
    })
    assert r.problems == []
    assert r.values["webgl"] is True and r.values["font"] is True
    assert r.values["layers"] == ["rivers", "roads", "grids", "buildings"]
    assert r.values["picked"]  # something was drawn under the centre of the view
    _keep_screenshot(r, "plan25d.png")
    img = r.image()
    assert img.shape == (600, 900, 3)
    assert colored_fraction(img[200:460, 220:700]) > 0.5
