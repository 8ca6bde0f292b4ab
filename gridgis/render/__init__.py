"""Maps: 2.5D static grid maps (PNG/SVG/PDF), event maps, and offline interactive HTML.

Chinese text uses the bundled font (:mod:`gridgis.render.fonts`), so nothing depends on the
fonts installed on the machine; HTML pages inline every script, stylesheet and font they use
(:mod:`gridgis.render.assets`).

Modules, one job each:

- :mod:`~gridgis.render.static25d`: the 2.5D report map (matplotlib);
- :mod:`~gridgis.render.deck`: the interactive 2.5D map (deck.gl);
- :mod:`~gridgis.render.web`: the interactive grid map (folium), :mod:`~gridgis.render.colors`
  its fills and legends;
- :mod:`~gridgis.render.event_maps`, :mod:`~gridgis.render.hotspot_maps`: static event maps;
- :mod:`~gridgis.render.heatmap_web`: the heatmap on a folium map;
- :mod:`~gridgis.render.animated`: the animated heatmap page;
- :mod:`~gridgis.render.assets`: the offline asset inliner.
"""

from ._common import save_figure, to_wgs84
from .animated import animated_heatmap_html
from .assets import external_references, offline_html, save_offline
from .deck import deck_html, deck_map_25d
from .event_maps import plot_grid_events, plot_heatmap, save_grid_event_map, save_heatmap
from .fonts import register_cjk_font
from .heatmap_web import heatmap_map, heatmap_overlay
from .hotspot_maps import plot_hotspots, save_hotspot_map, save_hotspots_by_group
from .static25d import grid_map_25d
from .web import interactive_map

__all__ = [
    "animated_heatmap_html", "deck_html", "deck_map_25d", "external_references", "grid_map_25d",
    "heatmap_map", "heatmap_overlay", "interactive_map", "offline_html", "plot_grid_events",
    "plot_heatmap", "plot_hotspots", "register_cjk_font", "save_figure", "save_grid_event_map",
    "save_heatmap", "save_hotspot_map", "save_hotspots_by_group", "save_offline", "to_wgs84",
]
