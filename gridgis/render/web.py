"""Interactive grid maps as ONE self-contained HTML file that works on an offline intranet.

folium writes pages that load Leaflet, jQuery, Bootstrap and plugin files from public CDNs; a
government intranet cannot reach them and the map comes up blank. :func:`offline_html` rewrites
such a page so that it needs nothing but itself:

- every ``<script src>`` / ``<link href>`` that folium, branca or a supported plugin references
  is replaced by the inline content of a vendored copy in ``gridgis/render/js/`` (see its
  README for packages, versions and licences);
- assets the page does not use are dropped instead of inlined (jQuery unless a popup or script
  calls ``$``, Bootstrap unless its classes are used, Font Awesome / Glyphicons / awesome-markers
  unless an icon uses them);
- ``url(...)`` references inside the inlined CSS (Leaflet's layer and marker images, icon fonts)
  become ``data:`` URIs; Leaflet's default marker icon is pointed at inline images too;
- when the page holds Chinese (CJK) text, the bundled CJK font (:mod:`gridgis.render.fonts`),
  cut down to the characters the page uses, is inlined as an ``@font-face`` so labels render on
  machines without any CJK font;
- if any reference that would leave the machine remains (an unknown plugin's script, an online
  tile layer without ``allow_online_tiles=True``, a remote image), :class:`GridGISError` is
  raised naming it.

:func:`interactive_map` draws a plan: grids colored by community (neighbours in different hues)
or by a column, tooltips, permanent labels that appear as you zoom in, a layer control, the
plan's own roads and rivers as a light base layer (no tiles needed), and optional overlays
(validation findings, a heatmap, address or event points).

Example
-------
>>> from gridgis.render.web import interactive_map
>>> m = interactive_map(grids, roads=roads, rivers=rivers, communities=communities,
...                     out="plan.html")                                  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html as html_mod
import io
import json
import math
import mimetypes
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from ..errors import CRSError, GridGISError, SchemaError
from ..writing import write_text
from .fonts import FAMILY, FONT_PATH, font_face_css

__all__ = [
    "ASSET_DIR",
    "external_references",
    "interactive_map",
    "offline_html",
    "save_offline",
]

#: Vendored JavaScript/CSS (minified files and their licences).
ASSET_DIR = Path(__file__).with_name("js")

# ---- vendored assets ------------------------------------------------------------------------------


def _uses(pattern: str) -> Any:
    rx = re.compile(pattern)
    return lambda content: bool(rx.search(content))


_USES_JQUERY = _uses(r"\$\(|\bjQuery\b|\$\.(?:ajax|get|getJSON|each|extend)\(")
_USES_BOOTSTRAP = _uses(
    r"data-bs-|\bclass\s*=\s*\\?[\"'][^\"'<>]*\b(?:btn|card|badge|alert|container-fluid|"
    r"form-control|form-select|navbar|modal|dropdown|list-group|d-flex|col-(?:sm|md|lg)-\d+)\b"
)
_USES_AWESOME = _uses(r"L\.AwesomeMarkers")
_USES_FONTAWESOME = _uses(
    r"\"prefix\":\s*\"fa[srlb]?\"|\bclass\s*=\s*\\?[\"'][^\"'<>]*\bfa[srlb]?\s|"
    r"\bfa-(?:solid|regular|brands)\b"
)
_USES_GLYPHICONS = _uses(r"\"prefix\":\s*\"glyphicon\"|\bglyphicon-[a-z]")
_ROTATE = re.compile(r"\bfa-rotate-(-?\d+)\b")


@dataclass(frozen=True)
class _Asset:
    """A vendored file that stands in for a CDN URL matching ``pattern``."""

    name: str
    pattern: str  # regex searched in the URL (case-insensitive)
    file: str | None  # path under ASSET_DIR; None: generated
    kind: str  # "js" | "css"
    needed: Any = None  # callable(content) -> bool; None: always needed when referenced


_ASSETS: tuple[_Asset, ...] = (
    _Asset("leaflet", r"leaflet(?:[@/][\d.]+)?/(?:dist/)?leaflet(?:-src)?\.js$", "leaflet/leaflet.js", "js"),
    _Asset("leaflet_css", r"leaflet(?:[@/][\d.]+)?/(?:dist/)?leaflet\.css$", "leaflet/leaflet.css", "css"),
    _Asset("jquery", r"(?:^|/)jquery(?:-[\d.]+)?(?:\.min)?\.js$", "jquery/jquery.min.js", "js", _USES_JQUERY),
    _Asset("bootstrap", r"bootstrap[@/]5[\d.]*/(?:dist/)?js/bootstrap(?:\.bundle)?(?:\.min)?\.js$",
           "bootstrap/bootstrap.bundle.min.js", "js", _USES_BOOTSTRAP),
    _Asset("bootstrap_css", r"bootstrap[@/]5[\d.]*/(?:dist/)?css/bootstrap(?:\.min)?\.css$",
           "bootstrap/bootstrap.min.css", "css", _USES_BOOTSTRAP),
    _Asset("glyphicons_css", r"/bootstrap-glyphicons\.css$", "glyphicons/glyphicons.css", "css",
           _USES_GLYPHICONS),
    _Asset("awesome_markers", r"/leaflet\.awesome-markers(?:\.min)?\.js$",
           "awesome-markers/leaflet.awesome-markers.min.js", "js", _USES_AWESOME),
    _Asset("awesome_markers_css", r"/leaflet\.awesome-markers(?:\.min)?\.css$",
           "awesome-markers/leaflet.awesome-markers.css", "css", _USES_AWESOME),
    _Asset("awesome_markers_font_css", r"font-?awesome.*/(?:all|fontawesome|font-awesome)(?:\.min)?\.css$",
           "fontawesome/css/all.min.css", "css", _USES_FONTAWESOME),
    _Asset("awesome_rotate_css", r"/leaflet\.awesome\.rotate(?:\.min)?\.css$", None, "css",
           lambda c: _USES_AWESOME(c) and any(int(a) % 360 for a in _ROTATE.findall(c))),
    _Asset("markercluster", r"/leaflet\.markercluster(?:-src)?\.js$",
           "markercluster/leaflet.markercluster.js", "js"),
    _Asset("markercluster_css", r"/MarkerCluster\.css$", "markercluster/MarkerCluster.css", "css"),
    _Asset("markercluster_default_css", r"/MarkerCluster\.Default\.css$",
           "markercluster/MarkerCluster.Default.css", "css"),
    _Asset("d3_v3", r"(?:d3[@/]3[\d.]*/d3|/d3\.v3)(?:\.min)?\.js$", "d3/d3.min.js", "js"),
    # folium's own plugin files (leaflet.heat, heatmap.js): read from the installed folium package
    _Asset("folium_template", r"python-visualization/folium[^/]*/folium/templates/[\w.-]+\.js$",
           None, "js"),
    _Asset("leaflet_heat", r"leaflet\.heat.*/leaflet-heat\.js$", None, "js"),
)

_SCRIPT_SRC = re.compile(
    r"<script\b(?P<attrs>[^>]*?)\bsrc\s*=\s*(?P<q>[\"'])(?P<url>.*?)(?P=q)(?P<rest>[^>]*)>\s*</script\s*>",
    re.I | re.S,
)
_LINK_HREF = re.compile(r"<link\b[^>]*?\bhref\s*=\s*(?P<q>[\"'])(?P<url>.*?)(?P=q)[^>]*?/?>", re.I | re.S)
_CSS_URL = re.compile(r"url\(\s*(?P<q>[\"']?)(?P<url>[^\"')]+?)(?P=q)\s*\)")
_CJK = re.compile(r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_ENTITY = re.compile(r"&#(?:x([0-9a-fA-F]+)|(\d+));")


def _read_asset(rel: str) -> str:
    path = ASSET_DIR / rel
    if not path.exists():
        raise GridGISError(f"vendored asset {rel} is missing from {ASSET_DIR}",
                           fix="reinstall gridgis (the package data under gridgis/render/js)")
    return path.read_text(encoding="utf-8")


def _data_uri(path: Path) -> str:
    mime = {".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".otf": "font/otf",
            ".svg": "image/svg+xml", ".png": "image/png"}.get(path.suffix.lower())
    mime = mime or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css_urls(css: str, base: Path) -> str:
    """Replace every relative ``url(...)`` of a vendored stylesheet by a data URI."""

    def repl(m: re.Match) -> str:
        url = m.group("url").strip()
        if url.startswith(("data:", "#")):
            return m.group(0)
        if re.match(r"(?:[a-z]+:)?//", url, re.I):
            raise GridGISError(f"vendored stylesheet references {url}",
                               fix="vendor that file under gridgis/render/js and point the CSS at it")
        target = (base / url.split("?")[0].split("#")[0]).resolve()
        if not target.is_file():
            raise GridGISError(f"vendored stylesheet references {url}, not found beside it ({target})",
                               fix="add the file or remove the rule from the vendored CSS")
        return f"url({_data_uri(target)})"

    return _CSS_URL.sub(repl, css)


@lru_cache(maxsize=32)
def _asset_text(asset_name: str, url: str) -> str:
    asset = next(a for a in _ASSETS if a.name == asset_name)
    if asset.name in ("folium_template", "leaflet_heat"):
        fname = "leaflet_heat.min.js" if asset.name == "leaflet_heat" else url.rsplit("/", 1)[-1]
        path = resources.files("folium") / "templates" / fname
        if not path.is_file():
            raise GridGISError(f"no local copy of {url} (folium's templates/{fname} is missing)",
                               fix="reinstall folium, or remove the plugin from the map")
        return path.read_text(encoding="utf-8")
    assert asset.file is not None
    text = _read_asset(asset.file)
    if asset.kind == "css":
        text = _inline_css_urls(text, (ASSET_DIR / asset.file).parent)
    if asset.name == "leaflet":
        text += "\n" + _leaflet_default_icon_js()
    return text


def _leaflet_default_icon_js() -> str:
    """Point L.Icon.Default at inline copies of Leaflet's marker images."""
    img = ASSET_DIR / "leaflet" / "images"
    return (
        "L.Icon.Default.imagePath='';L.Icon.Default.mergeOptions({"
        f"iconUrl:'{_data_uri(img / 'marker-icon.png')}',"
        f"iconRetinaUrl:'{_data_uri(img / 'marker-icon-2x.png')}',"
        f"shadowUrl:'{_data_uri(img / 'marker-shadow.png')}'}});"
    )


def _rotate_css(content: str) -> str:
    angles = sorted({int(a) for a in _ROTATE.findall(content)})
    return "".join(f".awesome-marker i.fa-rotate-{a}{{transform:rotate({a}deg)}}" for a in angles)


def _match_asset(url: str) -> _Asset | None:
    for asset in _ASSETS:
        if re.search(asset.pattern, url, re.I):
            return asset
    return None


def _script(js: str) -> str:
    return "<script>" + re.sub(r"</(script)", r"<\\/\1", js, flags=re.I) + "</script>"


def _style(css: str) -> str:
    return "<style>" + re.sub(r"</(style)", r"<\\/\1", css, flags=re.I) + "</style>"


# ---- CJK font -------------------------------------------------------------------------------------


def _page_chars(content: str) -> set[str]:
    chars = set(content)
    chars.update(chr(int(h, 16)) for h in _U_ESCAPE.findall(content))
    for hx, dec in _ENTITY.findall(content):
        try:
            chars.add(chr(int(hx, 16) if hx else int(dec)))
        except (ValueError, OverflowError):
            continue
    return chars


@lru_cache(maxsize=16)
def _font_subset_css(chars: str) -> str:
    """``@font-face`` with the bundled CJK font cut down to ``chars`` (WOFF, base64)."""
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont
    except ImportError:  # pragma: no cover - fontTools comes with matplotlib
        return font_face_css()
    opts = subset.Options()
    opts.flavor = "woff"
    opts.hinting = False
    opts.desubroutinize = True
    opts.notdef_outline = True
    opts.name_IDs = ["*"]
    font = TTFont(str(FONT_PATH), lazy=True, recalcBBoxes=False)
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=sorted({ord(c) for c in chars}))
    sub.subset(font)
    buf = io.BytesIO()
    font.flavor = "woff"
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f"@font-face{{font-family:'{FAMILY}';src:url(data:font/woff;base64,{data}) format('woff');}}"


#: Leaflet's font stack with the bundled CJK font before the generic family.
FONT_STACK = f"\"Helvetica Neue\",Arial,Helvetica,'{FAMILY}',sans-serif"


def _cjk_font_block(content: str) -> str:
    chars = _page_chars(content)
    cjk = {c for c in chars if _CJK.match(c)}
    if not cjk:
        return ""
    # characters the font lacks are ignored by the subsetter
    wanted = {c for c in chars if ord(c) > 0x7F and not c.isspace()} | {chr(c) for c in range(0x20, 0x7F)}
    face = _font_subset_css("".join(sorted(wanted)))
    rule = (f"body,.leaflet-container,.gg-label,.gg-panel,.deck-tooltip{{font-family:{FONT_STACK}}}")
    return f'<style id="gridgis-cjk-font">{face}{rule}</style>'


# ---- offline page ---------------------------------------------------------------------------------

_REF_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("script", re.compile(r"<script\b[^>]*?\bsrc\s*=\s*[\"']?(?!data:)([^\"'\s>]+)", re.I)),
    ("link", re.compile(r"<link\b[^>]*?\bhref\s*=\s*[\"']?(?!data:)([^\"'\s>]+)", re.I)),
    ("resource", re.compile(
        r"<(?:img|iframe|source|video|audio|embed|track|input|image)\b[^>]*?\s(?:src|data|poster|href)"
        r"\s*=\s*\\?[\"']?((?:https?:)?//[^\"'\s>\\]+)", re.I)),
    ("css-url", re.compile(r"url\(\s*[\"']?\s*((?:https?:)?//[^\"'\s)]+)", re.I)),
    ("css-import", re.compile(r"@import\s+(?:url\()?\s*[\"']?((?:https?:)?//[^\"'\s);]+)", re.I)),
    ("tiles", re.compile(r"L\.tileLayer(?:\.wms)?\(\s*[\"']((?:https?:)?//[^\"']+)", re.I)),
    ("overlay", re.compile(r"L\.(?:imageOverlay|videoOverlay|svgOverlay)\(\s*[\"']((?:https?:)?//[^\"']+)", re.I)),
    ("fetch", re.compile(r"\b(?:fetch|\$\.ajax|\$\.getJSON|\$\.get)\(\s*[\"']((?:https?:)?//[^\"']+)", re.I)),
)


def external_references(page: str) -> list[tuple[str, str]]:
    """References in an HTML page that would load something from outside the file.

    Returns ``[(kind, url), ...]`` where kind is ``script`` / ``link`` (any ``<script src>`` or
    ``<link href>`` that is not a ``data:`` URI), ``resource`` (remote ``<img>``, ``<iframe>`` …),
    ``css-url`` / ``css-import``, ``tiles`` (a Leaflet tile layer URL), ``overlay`` or ``fetch``.
    Links a user may click (``<a href>``) and XML namespaces are not references.
    """
    out: list[tuple[str, str]] = []
    for kind, rx in _REF_PATTERNS:
        out.extend((kind, m.group(1)) for m in rx.finditer(page))
    return out


def _render(m: Any) -> str:
    if isinstance(m, str):
        return m
    if hasattr(m, "get_root"):
        return m.get_root().render()
    raise GridGISError(f"cannot make an offline page of a {type(m).__name__}",
                       fix="pass a folium.Map (or any folium element) or an HTML string")


def offline_html(
    m: Any,
    *,
    keep: Iterable[str] = (),
    allow_online_tiles: bool = False,
    cjk_font: bool | None = None,
) -> str:
    """One self-contained HTML page from a folium map (or any HTML string).

    Parameters
    ----------
    m
        A ``folium.Map`` (or other folium element with a root figure) or an HTML string.
    keep
        Names of droppable assets to inline even when the page does not seem to use them:
        ``"jquery"``, ``"bootstrap"``, ``"bootstrap_css"``, ``"glyphicons_css"``,
        ``"awesome_markers"``, ``"awesome_markers_css"``, ``"awesome_markers_font_css"``.
    allow_online_tiles
        Accept tile layers that load from the internet (``tiles="OpenStreetMap"`` …); every
        script and stylesheet is still inlined. Default False: such a page is refused.
    cjk_font
        Inline the bundled CJK font (subset to the characters on the page). ``None`` (default):
        only when the page contains CJK text.

    Returns
    -------
    str
        The page. Raises :class:`~gridgis.errors.GridGISError` when a reference that leaves the
        machine remains (an unknown plugin, a remote image, online tiles not allowed).
    """
    page = _render(m)
    keep = set(keep)
    # what the page itself says, without the tags that load libraries
    content = _LINK_HREF.sub("", _SCRIPT_SRC.sub("", page))
    unresolved: list[str] = []

    def resolve(url: str, kind: str) -> str | None:
        """Inline text for ``url`` ('' = drop), or None when it cannot be resolved."""
        if url.startswith("data:"):
            return None
        asset = _match_asset(url)
        if asset is None or asset.kind != kind:
            return None
        if asset.needed is not None and asset.name not in keep and not asset.needed(content):
            return ""
        if asset.name == "awesome_rotate_css":
            return _rotate_css(content)
        return _asset_text(asset.name, url)

    def script_repl(mt: re.Match) -> str:
        url = html_mod.unescape(mt.group("url"))
        text = resolve(url, "js")
        if text is None:
            if not url.startswith("data:"):
                unresolved.append(url)
            return mt.group(0)
        return _script(text) if text else ""

    def link_repl(mt: re.Match) -> str:
        tag = mt.group(0)
        url = html_mod.unescape(mt.group("url"))
        if not re.search(r"\brel\s*=\s*[\"']?stylesheet", tag, re.I):
            if re.search(r"\brel\s*=\s*[\"']?(?:preconnect|dns-prefetch|preload|prefetch|icon)", tag, re.I) \
                    and not url.startswith("data:"):
                return ""  # hints and favicons are not needed offline
            return tag
        text = resolve(url, "css")
        if text is None:
            if not url.startswith("data:"):
                unresolved.append(url)
            return tag
        return _style(text) if text else ""

    page = _SCRIPT_SRC.sub(script_repl, page)
    page = _LINK_HREF.sub(link_repl, page)
    if unresolved:
        raise GridGISError(
            "offline HTML: no local copy of " + ", ".join(dict.fromkeys(unresolved)),
            fix="remove the plugin that needs it, or vendor the file under gridgis/render/js "
                "and register it in gridgis.render.web._ASSETS",
        )
    if cjk_font is not False and 'id="gridgis-cjk-font"' not in page:
        block = _cjk_font_block(content) if cjk_font is None else _cjk_font_block(content + "网")
        if block:
            page = _insert_head(page, block)
    refs = [(k, u) for k, u in external_references(page)
            if not (allow_online_tiles and k == "tiles")]
    if refs:
        listed = "; ".join(f"{k} {u}" for k, u in refs[:10])
        more = f" (+{len(refs) - 10} more)" if len(refs) > 10 else ""
        raise GridGISError(
            f"offline HTML would still load from outside the file: {listed}{more}",
            fix="use tiles=None (or allow_online_tiles=True for tile layers), embed images as "
                "data URIs, and drop plugins that fetch data",
        )
    return page


def _insert_head(page: str, block: str) -> str:
    m = re.search(r"</head\s*>", page, re.I)
    if m:
        return page[: m.start()] + block + page[m.start():]
    return block + page


def save_offline(m: Any, path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`offline_html` of ``m`` to ``path`` (UTF-8); returns the path.

    Keyword arguments go to :func:`offline_html`.
    """
    path = Path(path)
    return write_text(path, offline_html(m, **kwargs))


# ---- geometry helpers -----------------------------------------------------------------------------

#: Coordinates are rounded to 6 decimals of a degree (about 0.1 m).
COORD_DECIMALS = 6

_PALETTE = (
    "#8dd3c7", "#fdb462", "#bebada", "#fb8072", "#80b1d3", "#b3de69", "#fccde5", "#ffed6f",
    "#bc80bd", "#ccebc5", "#a6cee3", "#e5c494",
)
_KIND_ZH = {
    "basic": "基础网格", "school": "学校", "hospital": "医院", "market": "市场",
    "industrial_park": "工业园区", "park": "公园", "commercial": "商务楼宇",
}
_SEVERITY_COLORS = {"error": "#d7191c", "warning": "#f28e2b"}
_URGENCY_COLORS = {"一般": "#3182bd", "重要": "#fd8d3c", "重要紧急": "#d62728"}


def kind_names() -> dict[str, str]:
    """English grid kind → Chinese name (shared with the static 2.5D map when available)."""
    try:
        from .static25d import KIND_NAMES
    except ImportError:  # pragma: no cover
        return dict(_KIND_ZH)
    return {**_KIND_ZH, **KIND_NAMES}


def _check_layer(gdf: Any, name: str) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SchemaError(f"{name}: expected a GeoDataFrame, got {type(gdf).__name__}",
                          fix=f"read the {name} layer with gridgis.io.read_vector")
    if gdf.crs is None:
        raise CRSError(f"{name}: the layer has no CRS", source=name,
                       fix="set it with gdf.set_crs(...) (e.g. EPSG:4547 or EPSG:4326)")
    return gdf


def to_wgs84(gdf: gpd.GeoDataFrame, name: str = "layer", *, simplify_m: float = 0.0,
             coverage: bool = False) -> gpd.GeoDataFrame:
    """Layer in EPSG:4326 for web display: empty rows removed, simplified, coordinates rounded.

    ``simplify_m`` is a tolerance in metres applied in a metric CRS; ``coverage=True`` simplifies
    a polygon coverage (grids) edge by edge so neighbours keep shared boundaries.
    """
    from ..crs import metric_crs, to_crs

    gdf = _check_layer(gdf, name)
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if simplify_m > 0 and len(gdf):
        mcrs = metric_crs(gdf)
        met = gdf.to_crs(mcrs)
        geoms = np.asarray(met.geometry.array)
        simple = None
        if coverage and hasattr(shapely, "coverage_simplify"):
            try:
                if shapely.coverage_is_valid(geoms):
                    simple = shapely.coverage_simplify(geoms, simplify_m)
            except shapely.errors.GEOSException:
                simple = None
        if simple is None:
            simple = shapely.simplify(geoms, simplify_m, preserve_topology=True)
        met = met.set_geometry(gpd.GeoSeries(simple, index=met.index, crs=mcrs))
        gdf = met
    out = to_crs(gdf, 4326)
    rounded = shapely.transform(np.asarray(out.geometry.array),
                                lambda c: np.round(c, COORD_DECIMALS))
    return out.set_geometry(gpd.GeoSeries(rounded, index=out.index, crs=4326))


def _geojson(gdf: gpd.GeoDataFrame, columns: Iterable[str]) -> dict[str, Any]:
    cols = [c for c in columns if c in gdf.columns]
    df = gdf[cols + [gdf.geometry.name]].copy()
    for c in cols:
        s = df[c]
        if pd.api.types.is_float_dtype(s):
            df[c] = s.round(2).astype(object).where(s.notna(), None)
        elif pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s):
            df[c] = s.astype(object).where(s.notna(), None)
        else:
            df[c] = s.astype(object).where(s.notna(), "").astype(str)
    return json.loads(df.to_json(drop_id=True, na="null"))


def _hex_to_rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _shade(color: str, factor: float) -> str:
    """Lighten (factor > 1) or darken (< 1) a hex color."""
    r, g, b = _hex_to_rgb(color)
    if factor >= 1:
        t = factor - 1
        r, g, b = (int(round(v + (255 - v) * t)) for v in (r, g, b))
    else:
        r, g, b = (int(round(v * factor)) for v in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def _greedy_colors(geoms: np.ndarray, keys: list[Any]) -> dict[Any, int]:
    """Color index per key such that touching geometries get different indices (greedy)."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(keys)
    if len(geoms) > 1:
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            if i < j:
                graph.add_edge(keys[i], keys[j])
    return nx.greedy_color(graph, strategy="largest_first")


def community_colors(grids: gpd.GeoDataFrame, palette: Iterable[str] = _PALETTE) -> pd.Series:
    """A fill color per grid: a hue per community (neighbouring communities differ), with
    neighbouring grids inside a community in alternating shades. Deterministic."""
    from ..crs import to_metric

    palette = list(palette)
    met = to_metric(grids)
    if schema.COMMUNITY_CODE in met.columns:
        comm = met[schema.COMMUNITY_CODE].astype(str).to_numpy()
    elif schema.GRID_CODE in met.columns:
        comm = met[schema.GRID_CODE].astype(str).str[:12].to_numpy()
    else:
        comm = np.array(["all"] * len(met))
    codes = sorted(set(comm))
    geoms = np.asarray(met.geometry.array)
    unions = np.array([shapely.union_all(shapely.buffer(geoms[comm == c], 0.5)) for c in codes])
    hue = _greedy_colors(unions, codes)
    shade = np.zeros(len(met), dtype=int)
    for c in codes:
        idx = np.flatnonzero(comm == c)
        local = _greedy_colors(shapely.buffer(geoms[idx], 0.5), list(range(len(idx))))
        shade[idx] = [local[k] for k in range(len(idx))]
    factors = (1.0, 0.82, 1.22, 0.68, 1.38)
    colors = [_shade(palette[hue[c] % len(palette)], factors[s % len(factors)])
              for c, s in zip(comm, shade, strict=True)]
    return pd.Series(colors, index=grids.index, name="fill")


def column_colors(values: pd.Series, *, cmap: str = "YlOrRd", k: int = 5,
                  scheme: str = "quantiles") -> tuple[pd.Series, list[tuple[str, str]]]:
    """Colors for a column: classes of a numeric column (mapclassify ``scheme``) or one color
    per category. Returns the colors and the legend ``[(color, label), ...]``."""
    import matplotlib
    from matplotlib.colors import to_hex

    s = pd.Series(values)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        x = s.astype(float)
        valid = x.notna().to_numpy()
        colors = pd.Series("#cccccc", index=s.index)
        legend: list[tuple[str, str]] = []
        if valid.any():
            uniq = np.unique(x[valid])
            kk = int(min(k, len(uniq)))
            if kk <= 1:
                bins = np.array([uniq.max()])
                cls = np.zeros(valid.sum(), dtype=int)
            else:
                import mapclassify

                cl = mapclassify.classify(x[valid].to_numpy(), scheme=scheme, k=kk)
                bins, cls = np.asarray(cl.bins), np.asarray(cl.yb)
            cm = matplotlib.colormaps[cmap]
            pal = [to_hex(cm(0.15 + 0.8 * i / max(len(bins) - 1, 1))) for i in range(len(bins))]
            colors[valid] = [pal[c] for c in cls]
            lo = float(np.nanmin(x))
            for i, b in enumerate(bins):
                legend.append((pal[i], f"{_fmt(lo if i == 0 else bins[i - 1])} – {_fmt(b)}"))
        if (~valid).any():
            legend.append(("#cccccc", "无数据"))
        return colors, legend
    cats = sorted(s.dropna().astype(str).unique())
    pal = {c: _PALETTE[i % len(_PALETTE)] for i, c in enumerate(cats)}
    colors = s.astype(str).map(pal).where(s.notna(), "#cccccc")
    names = kind_names()
    return colors, [(pal[c], names.get(c, c)) for c in cats[:24]]


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.2f}"


# ---- folium pieces ------------------------------------------------------------------------------


def _js_json(value: Any) -> str:
    """Compact JSON for inline <script> (UTF-8 kept, ``</`` escaped)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _label_layer_class() -> Any:
    import folium
    from branca.element import Template

    class GridLabels(folium.map.Layer):
        """Permanent labels (HTML, not interactive) at given points, shown by zoom level."""

        _template = Template(
            """
            {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.layerGroup();
            (function () {
                // row: [lat, lon, class, html, [short from, short until, long from]]
                var rows = {{ this.rows_json }}, items = [], layer = {{ this.get_name() }};
                for (var i = 0; i < rows.length; i++) {
                    var r = rows[i];
                    items.push([L.marker([r[0], r[1]], {
                        icon: L.divIcon({className: 'gg-label ' + r[2], html: r[3], iconSize: null}),
                        interactive: false, keyboard: false
                    }).addTo(layer), r[4]]);
                }
                var map = {{ this._parent.get_name() }};
                function show(el, on) { if (el) el.style.display = on ? 'inline' : 'none'; }
                function levels() {
                    var z = map.getZoom();
                    for (var i = 0; i < items.length; i++) {
                        var el = items[i][0].getElement(), t = items[i][1];
                        if (!el) continue;
                        show(el.querySelector('.gg-s'), z >= t[0] && z < t[1]);
                        show(el.querySelector('.gg-l'), z >= t[2]);
                    }
                }
                map.on('zoomend', levels);
                layer.on('add', levels);
                levels();
            })();
            {% endmacro %}
            """
        )

        def __init__(self, rows: list[list[Any]], *, name: str = "标签", show: bool = True):
            super().__init__(name=name, overlay=True, control=True, show=show)
            self._name = "GridLabels"
            self.rows_json = _js_json(rows)

    return GridLabels


def _css_element(css: str) -> Any:
    from branca.element import Element

    return Element(f"<style>{css}</style>")


_MAP_CSS = """
.gg-label{white-space:nowrap;pointer-events:none}
.gg-label .gg-in{position:absolute;transform:translate(-50%,-50%);text-align:center;line-height:1.15;
 color:#222;text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff;font-size:11px}
.gg-label .gg-s,.gg-label .gg-l{display:none}
.gg-label.gg-c .gg-in{font-size:13px;font-weight:bold;color:#333}
.gg-panel{position:absolute;z-index:1000;background:rgba(255,255,255,.9);padding:4px 8px;
 border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);font-size:12px}
.gg-title{top:10px;left:50%;transform:translateX(-50%);font-size:15px;font-weight:bold}
.gg-legend{bottom:24px;right:10px;line-height:1.5}
.gg-legend i{display:inline-block;width:14px;height:10px;margin-right:5px;border:1px solid #777}
"""


_NO_ZOOM = 99  # "never" as a zoom level


def _fit_zoom(room_m: np.ndarray, width_px: np.ndarray, lat: float) -> np.ndarray:
    """Smallest zoom at which a label ``width_px`` wide fits into ``room_m`` metres."""
    base = 156543.03392 * max(math.cos(math.radians(lat)), 0.05)  # metres per pixel at zoom 0
    z = np.ceil(np.log2(base * np.asarray(width_px, float) / np.maximum(room_m, 0.5)))
    return np.clip(z, 0, 22).astype(int)


def _label_room(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label points (centres of the largest inscribed circles) and the room there (diameter, m)."""
    try:
        lines = shapely.maximum_inscribed_circle(geoms, 1.0)
        pts = shapely.get_point(lines, 0)
        room = 2.0 * shapely.length(lines)
    except (AttributeError, shapely.errors.GEOSException):
        pts = shapely.point_on_surface(geoms)
        room = np.sqrt(shapely.area(geoms))
    bad = shapely.is_missing(pts) | shapely.is_empty(pts)
    if bad.any():
        pts[bad] = shapely.point_on_surface(geoms[bad])
        room[bad] = np.sqrt(shapely.area(geoms[bad]))
    return pts, np.nan_to_num(room, nan=0.0)


def _text_px(texts: pd.Series, size: float) -> np.ndarray:
    """Approximate rendered width of labels: CJK characters one em, others 0.6 em."""
    s = texts.astype(str)
    wide = s.str.count(_CJK.pattern).to_numpy()
    return (wide + 0.6 * (s.str.len().to_numpy() - wide)) * size + 8


def _to_latlon(points: np.ndarray, crs: Any) -> np.ndarray:
    pts = gpd.GeoSeries(points, crs=crs).to_crs(4326)
    return np.round(np.column_stack([pts.y, pts.x]), COORD_DECIMALS)


def _as_findings(findings: Any) -> gpd.GeoDataFrame:
    if hasattr(findings, "to_geodataframe"):
        findings = findings.to_geodataframe()
    gdf = _check_layer(findings, "findings")
    for col in ("severity", "rule", "message"):
        if col not in gdf.columns:
            raise SchemaError(f"findings: column {col!r} is missing",
                              fix="pass ValidationReport.to_geodataframe() or a layer with "
                                  "severity, rule and message columns")
    return gdf


def _point_layer_class() -> Any:
    import folium
    from branca.element import Template

    class PointLayer(folium.map.Layer):
        """Many points as canvas circle markers; compact rows, tooltips built on hover."""

        _template = Template(
            """
            {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.layerGroup();
            (function () {
                var rows = {{ this.rows_json }}, colors = {{ this.colors|tojson }},
                    names = {{ this.fields|tojson }}, renderer = L.canvas({pane: {{ this.pane|tojson }}});
                function esc(s) { return String(s).replace(/[&<>"]/g, function (c) {
                    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; }); }
                rows.forEach(function (r) {
                    var mk = L.circleMarker([r[0], r[1]], {renderer: renderer, radius: {{ this.radius }},
                        color: '#ffffff', weight: 0.6, fillColor: colors[r[2]], fillOpacity: 0.9});
                    mk.bindTooltip(function () {
                        var out = [];
                        for (var i = 0; i < names.length; i++) {
                            if (r[3 + i] !== '' && r[3 + i] !== null) out.push('<b>' + esc(names[i]) + '</b> ' + esc(r[3 + i]));
                        }
                        return out.join('<br>');
                    }, {sticky: true});
                    mk.addTo({{ this.get_name() }});
                });
            })();
            {% endmacro %}
            """
        )

        def __init__(self, rows: list[list[Any]], colors: list[str], fields: list[str], *,
                     name: str, pane: str, radius: float = 3.5, show: bool = True):
            super().__init__(name=name, overlay=True, control=True, show=show)
            self._name = "PointLayer"
            self.rows_json = _js_json(rows)
            self.colors, self.fields = colors, fields
            self.pane, self.radius = pane, float(radius)

    return PointLayer


_POINT_FIELDS = (schema.EVENT_ID, schema.ADDRESS_ID, schema.CATEGORY, schema.URGENCY, schema.STAGE,
                 schema.ADDRESS, schema.GRID_CODE, "status", schema.MATCH)


def _add_points(m: Any, name: str, pts: gpd.GeoDataFrame, max_points: int, seed: int,
                color: str = "#6a3d9a") -> None:
    pts = _check_layer(pts, name)
    total = len(pts)
    pts = pts[pts.geometry.notna() & ~pts.geometry.is_empty]
    if (~pts.geom_type.isin(["Point"])).any():
        pts = pts.set_geometry(pts.geometry.representative_point())
    n_located = len(pts)
    label = name
    if n_located > max_points:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(n_located, size=max_points, replace=False))
        pts = pts.iloc[keep]
        label = f"{name}（显示 {max_points:,} / {total:,}）"
    elif n_located < total:
        label = f"{name}（{n_located:,} / {total:,} 有坐标）"
    pts = to_wgs84(pts, name)
    fields = [c for c in _POINT_FIELDS if c in pts.columns][:4]
    if schema.URGENCY in pts.columns:
        levels = list(schema.URGENCY_LEVELS) if hasattr(schema, "URGENCY_LEVELS") else list(_URGENCY_COLORS)
        colors = [_URGENCY_COLORS.get(u, "#555555") for u in levels] + ["#555555"]
        ci = pts[schema.URGENCY].astype(str).map({u: i for i, u in enumerate(levels)})
        ci = ci.fillna(len(levels)).astype(int).to_numpy()
    else:
        colors, ci = [color], np.zeros(len(pts), dtype=int)
    lat = np.round(pts.geometry.y.to_numpy(), COORD_DECIMALS)
    lon = np.round(pts.geometry.x.to_numpy(), COORD_DECIMALS)
    cols = [pts[f].astype(object).where(pts[f].notna(), "").astype(str).tolist() for f in fields]
    rows = [[float(a), float(b), int(c), *vals]
            for a, b, c, *vals in zip(lat, lon, ci, *cols, strict=True)]
    _point_layer_class()(rows, colors, [_ALIASES.get(f, f) for f in fields], name=label,
                         pane="gg-points").add_to(m)


_ALIASES = {
    schema.GRID_CODE: "网格编码", schema.GRID_NAME: "网格名称", schema.HOUSEHOLDS: "户数",
    schema.POPULATION: "人口", "kind_zh": "类型", schema.COMMUNITY_CODE: "社区编码",
    schema.EVENT_ID: "事件编号", schema.ADDRESS_ID: "地址编号", schema.CATEGORY: "类别",
    schema.URGENCY: "紧急程度", schema.STAGE: "环节", schema.ADDRESS: "地址", "status": "状态",
    schema.MATCH: "匹配", "severity": "级别", "rule": "规则", "message": "说明", "grids": "网格",
    schema.FLAG: "标记",
}


def grid_fills(grids: gpd.GeoDataFrame, color: str | None) -> tuple[pd.Series, list[tuple[str, str]]]:
    """Fill colour of every grid and legend entries: by community (``None``) or by a column."""
    if color is None:
        return community_colors(grids), []
    if color not in grids.columns:
        raise SchemaError(f"grids: no column {color!r} to color by",
                          fix=f"use one of {', '.join(map(str, grids.columns[:12]))}")
    return column_colors(grids[color])


def interactive_map(
    grids: gpd.GeoDataFrame,
    *,
    roads: gpd.GeoDataFrame | None = None,
    rivers: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    findings: Any = None,
    heatmap: Any = None,
    points: gpd.GeoDataFrame | Mapping[str, gpd.GeoDataFrame] | None = None,
    tiles: str | None = None,
    labels: bool | str = True,
    out: str | Path | None = None,
    color: str | None = None,
    title: str | None = None,
    simplify_m: float = 1.0,
    max_points: int = 5000,
    label_zoom: int | None = None,
    seed: int = 0,
) -> Any:
    """Interactive folium map of a grid plan, ready to be written as one offline HTML file.

    Parameters
    ----------
    grids
        The plan (``grid_code``, ``grid_name``, ``community_code``, ``kind``, ``households``,
        ``population``, polygons) in any CRS; reprojected to EPSG:4326 for display.
    roads, rivers
        Drawn as a light base layer under the grids (no tiles needed).
    communities
        Community outlines (and names at the overview zoom); without it, outlines are the
        unions of the grids per ``community_code``.
    findings
        Validation findings: a :class:`~gridgis.findings.ValidationReport` or a GeoDataFrame
        with ``severity``, ``rule``, ``message``; errors red, warnings orange.
    heatmap
        A folium layer (e.g. :func:`gridgis.render.heatmap_maps.heatmap_overlay`) or a
        :class:`gridgis.events.Raster`.
    points
        Address or event points (GeoDataFrame, or ``{layer name: GeoDataFrame}``) as circle
        markers (events colored by urgency). At most ``max_points`` per layer are drawn (a
        seeded random sample); the layer name then says how many of how many.
    tiles
        None (default): no tile layer, plain background. A folium tile name
        (``"OpenStreetMap"``, ``"CartoDB positron"`` …) or URL template adds online tiles.
    labels
        True: grid serials (last 3 code digits) from a middle zoom, grid names from a closer one,
        community names at the overview. ``"code"``: full codes instead of names; a column name:
        that column; False: none.
    out
        When given, the map is written there with :func:`save_offline`.
    color
        None: by community. A column name: classes of a numeric column, or one color per
        category (``kind`` …), with a legend.
    title
        Optional title shown at the top.
    simplify_m
        Display simplification tolerance in metres (grids keep shared edges).
    label_zoom
        Zoom from which grid labels show (default: where the serials fit the median grid);
        before it, community names show where they fit. Every label shows only once it fits
        inside its grid (names at least two levels after ``label_zoom`` when given).

    Returns
    -------
    folium.Map
    """
    import folium

    grids = _check_layer(grids, "grids")
    grids = schema.normalize_columns(grids, source="grids")
    if len(grids) == 0:
        raise SchemaError("grids: the plan has no rows", fix="pass a plan with at least one grid")
    from ..crs import to_metric

    grids_m = to_metric(grids[~(grids.geometry.isna() | grids.geometry.is_empty)])
    if len(grids_m) == 0:
        raise SchemaError("grids: every geometry is empty", fix="check the plan's geometry column")
    g = to_wgs84(grids_m, "grids", simplify_m=simplify_m, coverage=True)
    west, south, east, north = g.total_bounds
    lat0 = (south + north) / 2
    m = folium.Map(location=[lat0, (west + east) / 2], zoom_start=14, tiles=None,
                   control_scale=True, zoom_control=True)
    m.options["maxZoom"] = 20  # no tile layer sets it (marker clusters need one)
    css = _MAP_CSS
    if tiles is None:
        css += ".leaflet-container{background:#f3f1ec !important}"
    m.get_root().header.add_child(_css_element(css), name="gridgis_css")
    for pane, z in (("gg-base", 350), ("gg-outline", 430), ("gg-findings", 440), ("gg-points", 450)):
        folium.map.CustomPane(pane, z_index=z, pointer_events=pane not in ("gg-base", "gg-outline")
                              ).add_to(m)
    if tiles is not None:
        folium.TileLayer(tiles, name="在线底图", control=True).add_to(m)

    # base layer: the plan's own roads and rivers
    if rivers is not None and len(rivers):
        rv = to_wgs84(rivers, "rivers", simplify_m=simplify_m)
        width = pd.to_numeric(rv["width_m"], errors="coerce") if "width_m" in rv.columns else None
        rv = rv.assign(_w=(np.clip((width.fillna(20) / 6).to_numpy(), 2, 10) if width is not None
                           else 4.0))
        folium.GeoJson(
            _geojson(rv, ["name", "_w"]), name="水系",
            style_function=lambda f: {"color": "#9cc3e6", "weight": f["properties"]["_w"],
                                      "opacity": 1.0, "fill": False},
            pane="gg-base", interactive=False, show=True,
        ).add_to(m)
    if roads is not None and len(roads):
        rd = to_wgs84(roads, "roads", simplify_m=simplify_m)
        weights = {"arterial": 4.0, "local": 2.2, "lane": 1.0}
        cls = rd[schema.ROAD_CLASS].astype(str) if schema.ROAD_CLASS in rd.columns else pd.Series("local", index=rd.index)
        rd = rd.assign(_w=cls.map(weights).fillna(1.5).to_numpy())
        folium.GeoJson(
            _geojson(rd, ["_w"]), name="道路",
            style_function=lambda f: {"color": "#ffffff" if f["properties"]["_w"] >= 2 else "#e2ded6",
                                      "weight": f["properties"]["_w"], "opacity": 1.0,
                                      "fill": False},
            pane="gg-base", interactive=False,
        ).add_to(m)

    # grids
    fills, legend = grid_fills(grids_m, color)
    names = kind_names()
    gd = g.assign(_fill=fills.reindex(g.index).to_numpy())
    if schema.KIND in gd.columns:
        gd["kind_zh"] = gd[schema.KIND].astype(str).map(lambda k: names.get(k, k))
    fields = [c for c in (schema.GRID_CODE, schema.GRID_NAME, schema.HOUSEHOLDS, schema.POPULATION,
                          "kind_zh", color) if c is not None and c in gd.columns]
    fields = list(dict.fromkeys(fields))
    data = _geojson(gd, fields + ["_fill"])
    fill_opacity = 0.62 if heatmap is None else 0.3  # let a heatmap show through
    folium.GeoJson(
        data, name="网格",
        style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#ffffff",
                                  "weight": 1.2, "fillOpacity": fill_opacity, "opacity": 0.95},
        highlight_function=lambda f: {"weight": 3, "color": "#333333", "fillOpacity": 0.75},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[_ALIASES.get(f, f) for f in fields],
                                      sticky=True),
    ).add_to(m)

    # community outlines (and district boundary)
    if communities is not None and len(communities):
        cm_m = to_metric(_check_layer(communities, "communities"), grids_m.crs)
    else:
        key = schema.COMMUNITY_CODE if schema.COMMUNITY_CODE in grids_m.columns else None
        cm_m = (grids_m.dissolve(by=key, as_index=False)[[key, grids_m.geometry.name]] if key
                else gpd.GeoDataFrame(geometry=[shapely.union_all(np.asarray(grids_m.geometry.array))],
                                      crs=grids_m.crs))
    cm = to_wgs84(cm_m, "communities", simplify_m=simplify_m, coverage=True)
    folium.GeoJson(
        _geojson(cm, []), name="社区界线",
        style_function=lambda f: {"color": "#444444", "weight": 2.0, "fill": False, "opacity": 0.9},
        pane="gg-outline", interactive=False,
    ).add_to(m)
    outer = shapely.union_all(shapely.buffer(np.asarray(cm_m.geometry.array), 0.5))
    district = to_wgs84(gpd.GeoDataFrame(geometry=[outer], crs=cm_m.crs), "district",
                        simplify_m=max(simplify_m, 1.0))
    folium.GeoJson(
        _geojson(district, []), name="外边界", control=False,
        style_function=lambda f: {"color": "#222222", "weight": 3.2, "fill": False, "opacity": 1.0},
        pane="gg-outline", interactive=False,
    ).add_to(m)

    # overlays
    if heatmap is not None:
        layer = heatmap
        if not hasattr(heatmap, "add_to"):
            from .heatmap_maps import heatmap_overlay

            layer = heatmap_overlay(heatmap)
        layer.add_to(m)
    if findings is not None:
        fd = _as_findings(findings)
        if len(fd):
            fd = to_wgs84(fd, "findings")
            fd = fd.assign(_c=fd["severity"].astype(str).map(_SEVERITY_COLORS).fillna("#7b3294").to_numpy())
            ffields = [c for c in ("severity", "rule", "message", "grids") if c in fd.columns]
            folium.GeoJson(
                _geojson(fd, ffields + ["_c"]), name=f"校验问题（{len(fd)}）",
                style_function=lambda f: {"color": f["properties"]["_c"], "weight": 2.5,
                                          "fillColor": f["properties"]["_c"], "fillOpacity": 0.45,
                                          "radius": 6},
                marker=folium.CircleMarker(radius=6, pane="gg-findings"),
                tooltip=folium.GeoJsonTooltip(fields=ffields,
                                              aliases=[_ALIASES.get(f, f) for f in ffields],
                                              sticky=True, max_width=360),
                pane="gg-findings",
            ).add_to(m)
    if points is not None:
        layers = points.items() if isinstance(points, Mapping) else [("点位", points)]
        for i, (name, pts) in enumerate(layers):
            if pts is not None and len(pts):
                _add_points(m, str(name), pts, max_points, seed + i)

    # labels: each shows only in the zoom range where it fits its grid (community)
    if labels:
        rows, detail = _label_rows(grids_m, labels, lat0, label_zoom)
        if communities is not None and len(communities) and "name" in communities.columns:
            c_pts, c_room = _label_room(np.asarray(cm_m.geometry.array))
            c_names = cm_m["name"].astype(str)
            c_from = _fit_zoom(1.5 * c_room, _text_px(c_names, 13.0), lat0)  # may overhang a bit
            latlon = _to_latlon(c_pts, cm_m.crs)
            rows += [[float(a), float(b), "gg-c",
                      f'<div class="gg-in"><span class="gg-s">{html_mod.escape(n)}</span></div>',
                      [int(z0), int(detail), _NO_ZOOM]]
                     for (a, b), n, z0 in zip(latlon, c_names, c_from, strict=True)]
        _label_layer_class()(rows, name="标签").add_to(m)

    if legend:
        items = "".join(f"<div><i style='background:{c}'></i>{html_mod.escape(t)}</div>"
                        for c, t in legend)
        head = html_mod.escape(_ALIASES.get(color, str(color)))
        m.get_root().html.add_child(_panel(f"<b>{head}</b>{items}", "gg-legend"))
    if title:
        m.get_root().html.add_child(_panel(html_mod.escape(title), "gg-title"))
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[south, west], [north, east]], padding=(10, 10))
    if out is not None:
        save_offline(m, out, allow_online_tiles=tiles is not None)
    return m


def _panel(inner: str, cls: str) -> Any:
    from branca.element import Element

    return Element(f'<div class="gg-panel {cls}">{inner}</div>')


def _label_rows(grids_m: gpd.GeoDataFrame, labels: bool | str, lat: float,
                label_zoom: int | None) -> tuple[list[list[Any]], int]:
    """Label rows for the grids and the zoom from which grid detail starts (community labels
    give way there): the zoom at which the short labels fit the median grid, or ``label_zoom``."""
    pts, room = _label_room(np.asarray(grids_m.geometry.array))
    latlon = _to_latlon(pts, grids_m.crs)
    n = len(grids_m)
    code = (grids_m[schema.GRID_CODE].astype(str) if schema.GRID_CODE in grids_m.columns
            else pd.Series([str(i + 1) for i in range(n)], index=grids_m.index))
    if labels is True or labels == "name":
        long_text = (grids_m[schema.GRID_NAME].astype(str) if schema.GRID_NAME in grids_m.columns
                     else code)
    elif labels == "code":
        long_text = code
    elif isinstance(labels, str) and labels in grids_m.columns:
        long_text = grids_m[labels].astype(str)
    else:
        raise SchemaError(f"labels={labels!r}: not True/False, 'name', 'code' or a column of grids",
                          fix="use labels='name', labels='code' or an existing column name")
    short_text = code.str[-3:] if labels is True or labels == "name" else long_text
    short_fit = _fit_zoom(room, _text_px(short_text, 11.0), lat)
    long_fit = _fit_zoom(room, _text_px(long_text, 11.0), lat)
    detail = int(np.median(short_fit)) if label_zoom is None else int(label_zoom)
    short_from = np.maximum(short_fit, detail)
    long_from = np.maximum(long_fit, detail + 1) if label_zoom is None else \
        np.maximum(long_fit, detail + 2)
    esc = html_mod.escape
    rows = [[float(a), float(b), "",
             f'<div class="gg-in"><span class="gg-s">{esc(s)}</span><span class="gg-l">{esc(t)}</span></div>',
             [int(z0), int(z1), int(z1)]]
            for (a, b), s, t, z0, z1 in zip(latlon, short_text, long_text, short_from, long_from,
                                            strict=True)]
    return rows, detail
