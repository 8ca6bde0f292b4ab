"""Offline asset inliner: make an HTML page (folium map or any HTML string) need nothing but itself.

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

Example
-------
>>> import folium
>>> from gridgis.render.assets import save_offline
>>> save_offline(folium.Map(tiles=None), "map.html")                  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html as html_mod
import io
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import GridGISError
from ..i18n import _, tr
from ..writing import write_text
from .fonts import FAMILY, FONT_PATH, font_face_css

__all__ = [
    "ASSET_DIR",
    "CJK_CHARS",
    "FONT_STACK",
    "external_references",
    "insert_head",
    "offline_html",
    "read_asset",
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
#: One CJK character (ideographs, CJK punctuation, full-width forms).
CJK_CHARS = re.compile(r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_ENTITY = re.compile(r"&#(?:x([0-9a-fA-F]+)|(\d+));")


def read_asset(rel: str) -> str:
    """Text of a vendored file under :data:`ASSET_DIR`.

    Examples
    --------
    >>> read_asset("leaflet/leaflet.css").startswith("/*")            # doctest: +SKIP
    True
    """
    path = ASSET_DIR / rel
    if not path.exists():
        raise GridGISError(tr("vendored asset {rel} is missing from {ASSET_DIR}",
                              rel=rel, ASSET_DIR=ASSET_DIR),
                           fix=_("reinstall gridgis (the package data under gridgis/render/js)"))
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
            raise GridGISError(tr("vendored stylesheet references {url}", url=url),
                               fix=_("vendor that file under gridgis/render/js and point the "
                                     "CSS at it"))
        target = (base / url.split("?")[0].split("#")[0]).resolve()
        if not target.is_file():
            raise GridGISError(tr("vendored stylesheet references {url}, not found beside it "
                                  "({target})",
                                  url=url, target=target),
                               fix=_("add the file or remove the rule from the vendored CSS"))
        return f"url({_data_uri(target)})"

    return _CSS_URL.sub(repl, css)


@lru_cache(maxsize=32)
def _asset_text(asset_name: str, url: str) -> str:
    asset = next(a for a in _ASSETS if a.name == asset_name)
    if asset.name in ("folium_template", "leaflet_heat"):
        fname = "leaflet_heat.min.js" if asset.name == "leaflet_heat" else url.rsplit("/", 1)[-1]
        path = resources.files("folium") / "templates" / fname
        if not path.is_file():
            raise GridGISError(tr("no local copy of {url} (folium's templates/{fname} is "
                                  "missing)",
                                  url=url, fname=fname),
                               fix=_("reinstall folium, or remove the plugin from the map"))
        return path.read_text(encoding="utf-8")
    assert asset.file is not None
    text = read_asset(asset.file)
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
    cjk = {c for c in chars if CJK_CHARS.match(c)}
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

    Examples
    --------
    >>> external_references('<script src="https://cdn.example/x.js"></script>')
    [('script', 'https://cdn.example/x.js')]
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
    raise GridGISError(tr("cannot make an offline page of a {name}", name=type(m).__name__),
                       fix=_("pass a folium.Map (or any folium element) or an HTML string"))


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

    Examples
    --------
    >>> import folium
    >>> page = offline_html(folium.Map(tiles=None))
    >>> external_references(page)
    []
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
            tr("offline HTML: no local copy of {files}", files=", ".join(dict.fromkeys(unresolved))),
            fix=_("remove the plugin that needs it, or vendor the file under "
                  "gridgis/render/js and register it in gridgis.render.assets._ASSETS"),
        )
    if cjk_font is not False and 'id="gridgis-cjk-font"' not in page:
        block = _cjk_font_block(content) if cjk_font is None else _cjk_font_block(content + "网")
        if block:
            page = insert_head(page, block)
    refs = [(k, u) for k, u in external_references(page)
            if not (allow_online_tiles and k == "tiles")]
    if refs:
        listed = "; ".join(f"{k} {u}" for k, u in refs[:10])
        more = f" (+{len(refs) - 10} more)" if len(refs) > 10 else ""
        raise GridGISError(
            tr("offline HTML would still load from outside the file: {listed}{more}",
               listed=listed, more=more),
            fix=_("use tiles=None (or allow_online_tiles=True for tile layers), embed images "
                  "as data URIs, and drop plugins that fetch data"),
        )
    return page


def insert_head(page: str, block: str) -> str:
    """``page`` with ``block`` inserted just before ``</head>`` (at the start without one).

    Examples
    --------
    >>> insert_head("<html><head></head></html>", "<style></style>")
    '<html><head><style></style></head></html>'
    """
    m = re.search(r"</head\s*>", page, re.I)
    if m:
        return page[: m.start()] + block + page[m.start():]
    return block + page


def save_offline(m: Any, path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`offline_html` of ``m`` to ``path`` (UTF-8); returns the path.

    Keyword arguments go to :func:`offline_html`.

    Examples
    --------
    >>> import folium
    >>> save_offline(folium.Map(tiles=None), "map.html")              # doctest: +SKIP
    PosixPath('map.html')
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text(path, offline_html(m, **kwargs))

