"""The editor's Jupyter widget: an anywidget whose browser code (``js/editor.js``, an SVG map
with a toolbar and a side panel, no library and nothing fetched) ships with gridgis.

The widget only carries state; :class:`gridgis.editor.PlanEditor` fills it and handles the
events the browser sends (clicks, boxes, drawings, buttons).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import traitlets

from ..errors import GridGISError
from ..i18n import _, tr
from ..render.fonts import FAMILY, FONT_PATH

try:
    import anywidget
except ImportError as exc:  # pragma: no cover - the extra is part of dev installs
    raise GridGISError(_("the map editor needs anywidget and ipywidgets"),
                       fix=tr("install the editor extra: {command}",
                              command="pip install 'gridgis[editor]'")) from exc

__all__ = ["EditorWidget"]

_JS = Path(__file__).with_name("js")


class EditorWidget(anywidget.AnyWidget):
    """The map editor's model, synced with the browser.

    Attributes
    ----------
    grids
        One dict per grid (see :meth:`gridgis.editor.PlanEditor.refresh`).
    communities, buildings
        SVG path data of community outlines and of the buildings shown.
    selected
        Codes of the selected grids.
    drawing
        The last shape drawn: ``{"shape": "line"|"polygon", "d": path}`` or empty.
    panel, status
        HTML of the side panel; the last message.
    code
        The session as Python (filled when the browser asks for it).
    extent
        ``[x0, y0, x1, y1]`` of the plan in drawing coordinates; ``origin`` the Web Mercator
        coordinates of the drawing's (0, 0).

    Examples
    --------
    >>> w = EditorWidget()
    >>> w.selected
    []
    """

    _esm = _JS / "editor.js"
    _css = _JS / "editor.css"

    grids = traitlets.List([]).tag(sync=True)
    communities = traitlets.List([]).tag(sync=True)
    buildings = traitlets.List([]).tag(sync=True)
    basemap = traitlets.List([]).tag(sync=True)
    selected = traitlets.List([]).tag(sync=True)
    drawing = traitlets.Dict({}).tag(sync=True)
    panel = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    extent = traitlets.List([0.0, 0.0, 1.0, 1.0]).tag(sync=True)
    origin = traitlets.List([0.0, 0.0]).tag(sync=True)
    texts = traitlets.Dict({}).tag(sync=True)
    kinds = traitlets.List([]).tag(sync=True)
    colours = traitlets.Dict({}).tag(sync=True)
    can_undo = traitlets.Bool(False).tag(sync=True)
    can_redo = traitlets.Bool(False).tag(sync=True)
    show_buildings = traitlets.Bool(False).tag(sync=True)
    code = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Int(560).tag(sync=True)

    def __init__(self, handler: Callable[[dict[str, Any]], Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._handler = handler
        self.on_msg(self._receive)

    def _receive(self, _widget: Any, content: Any, _buffers: Any) -> None:
        self.receive(content)

    def receive(self, content: Any) -> None:
        """Handle a message of the browser: a font request, or an event for the editor.

        Examples
        --------
        >>> EditorWidget(print).receive({"type": "click", "code": None})
        {'type': 'click', 'code': None}
        """
        if not isinstance(content, dict):
            return
        if content.get("type") == "font":
            # the bundled CJK font, as a binary message (never part of the saved widget state)
            self.send({"type": "font", "family": FAMILY}, buffers=[FONT_PATH.read_bytes()])
        elif self._handler is not None:
            self._handler(content)
