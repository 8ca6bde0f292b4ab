"""Maps: 2.5D static grid maps (PNG/SVG/PDF), event maps, and offline interactive HTML.

Chinese text uses the bundled font (:mod:`gridgis.render.fonts`), so nothing depends on the
fonts installed on the machine; HTML pages inline every script, stylesheet and font they use.
"""

from .deck import deck_html, deck_map_25d
from .fonts import register_cjk_font
from .static25d import grid_map_25d, save_figure
from .web import external_references, interactive_map, offline_html, save_offline

__all__ = [
    "deck_html", "deck_map_25d", "external_references", "grid_map_25d", "interactive_map",
    "offline_html", "register_cjk_font", "save_figure", "save_offline",
]
