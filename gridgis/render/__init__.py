"""Maps: 2.5D static grid maps (PNG/SVG/PDF), event maps, and offline interactive HTML.

Chinese text uses the bundled font (:mod:`gridgis.render.fonts`), so nothing depends on the
fonts installed on the machine.
"""

from .fonts import register_cjk_font
from .static25d import grid_map_25d, save_figure

__all__ = ["grid_map_25d", "register_cjk_font", "save_figure"]
