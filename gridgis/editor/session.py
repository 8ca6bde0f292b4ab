"""The map editor of a plan: browser events in, one :class:`~gridgis.plan.Plan` edit each, and
the map, the side panel and the findings brought up to date after it.

Every event the browser sends is a small dict (see :meth:`PlanEditor.handle`), recorded in
:attr:`PlanEditor.events`; :meth:`PlanEditor.replay` plays a recorded session again (notebooks
run that way unattended) and :meth:`PlanEditor.code` writes the session as Python that repeats
it on the saved version.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from .. import schema
from ..errors import GridGISError
from ..i18n import _, tr
from ..render.colors import kind_names
from ._basemap import basemap_images
from ._features import Display
from ._panel import panel_html
from ._replay import session_code
from ._text import STATUS_COLOURS, TEXT, texts
from .widget import EditorWidget

__all__ = ["EditorError", "PlanEditor"]

log = logging.getLogger(__name__)

#: Most buildings drawn at once (those in view).
MAX_BUILDINGS = 8000
_EDITS = ("merge", "split_line", "split_parts", "transfer", "rename", "set_kind", "undo",
          "redo", "save")


class EditorError(GridGISError):
    """An editor action that cannot run as asked (nothing selected, no line drawn …)."""


class PlanEditor:
    """An interactive map editor for a :class:`gridgis.Plan` in Jupyter.

    Shown by ending a cell with it (``plan.edit()`` does both). Clicks and drawings in the map
    arrive as events; every edit is one call of a :class:`~gridgis.plan.Plan` method, so the
    plan's history, undo/redo and versions are those of code.

    Parameters
    ----------
    plan
        The plan to edit (edited in place).
    basemap
        Optional local basemap: a folder of XYZ tiles ``{z}/{x}/{y}.png`` or an ``.mbtiles``
        file; nothing is ever downloaded.
    height
        Height of the map in pixels.

    Examples
    --------
    >>> editor = plan.edit()  # doctest: +SKIP
    >>> editor.handle({"type": "click", "code": "430302001001001"})  # doctest: +SKIP
    >>> editor.handle({"type": "click", "code": "430302001001002", "add": True})  # doctest: +SKIP
    >>> editor.handle({"type": "merge"}).edit.op  # doctest: +SKIP
    'merge'
    """

    def __init__(self, plan: Any, *, basemap: str | Path | None = None, height: int = 560):
        self.plan = plan
        #: Events handled so far, in order (what :meth:`replay` takes).
        self.events: list[dict[str, Any]] = []
        #: Wall time of the last event, map and panel update included (seconds).
        self.last_seconds = 0.0
        #: ``(history length, note)`` of every save made in the editor.
        self.saves: list[tuple[int, str]] = []
        self.start_version = plan.version
        self.start_path = plan.path
        # edits made in code before the editor opened and not saved belong to the session's
        # code too (they come first); a plan saved since has its baseline at the current state
        self.start_steps = len(plan.history) if plan.baseline is plan.state.grids else 0
        self._drawn: tuple[str, Any] | None = None
        self._status: dict[str, str] = {}
        self._names = dict(plan.context.codes.community_names)
        ctx = plan.context
        self.display = Display(ctx.metric_crs)
        self.display.set_origin(tuple(plan.state.grids.total_bounds))
        self._building_tree: Any = None
        self.widget = EditorWidget(self._receive, height=height)
        w = self.widget
        w.origin = list(self.display.origin)
        w.extent = self.display.view_bounds(tuple(plan.state.grids.total_bounds))
        w.texts = texts()
        w.colours = dict(STATUS_COLOURS)
        names = kind_names()
        w.kinds = [[k, names.get(k, k)] for k in (schema.BASIC, *plan.rules.special.kinds)]
        if ctx.communities is not None:
            w.communities = self.display.paths(ctx.communities.geometry.array, simplify=1.0)
        if basemap is not None:
            w.basemap = basemap_images(basemap, self.display)
        self.refresh(tr(TEXT["ready"], grids=len(plan)))

    # -- display ----------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict):  # what shows where widgets cannot (a plain console)
            data["text/plain"] = tr(TEXT["plain"], grids=len(self.plan),
                                                      edits=len(self.plan.history))
        return bundle

    def __repr__(self) -> str:
        return f"<PlanEditor of {self.plan!r}: {len(self.events)} events>"

    @property
    def selected(self) -> list[str]:
        """Codes of the selected grids."""
        return list(self.widget.selected)

    @property
    def panel(self) -> str:
        """HTML of the side panel."""
        return self.widget.panel

    @property
    def status(self) -> str:
        """The last message shown under the map."""
        return self.widget.status

    def refresh(self, message: str | None = None) -> None:
        """Bring map, panel and buttons in step with the plan (after an edit made in code)."""
        state = self.plan.state
        feats = self.display.grids(state.grids, state.findings)
        self._status = {f["c"]: f["s"] for f in feats}
        w = self.widget
        with w.hold_sync():
            w.grids = feats
            w.selected = [c for c in w.selected if c in self._status]
            w.panel = panel_html(state.grids, w.selected, state.findings, self._status,
                                 self._names)
            w.can_undo = self.plan.can_undo
            w.can_redo = self.plan.can_redo
            if message is not None:
                w.status = message

    def _select(self, codes: list[str], message: bool = True) -> None:
        w = self.widget
        with w.hold_sync():
            w.selected = list(dict.fromkeys(codes))
            state = self.plan.state
            w.panel = panel_html(state.grids, w.selected, state.findings, self._status,
                                 self._names)
            if message:
                w.status = tr(TEXT["selected"], n=len(w.selected))

    # -- events -----------------------------------------------------------------------------------
    def _receive(self, event: dict[str, Any]) -> None:
        try:
            self.handle(event)
        except GridGISError as exc:  # shown to the planner, not raised into the browser
            log.debug("editor event %s refused: %s", event.get("type"), exc)

    def handle(self, event: dict[str, Any]) -> Any:
        """Handle one event of the browser (or of a recorded session).

        Events are dicts with a ``type``:

        ``click`` (``code``, ``add``, ``at``)
            Select grid ``code`` (``add``: add it to / remove it from the selection; no code
            clears the selection). ``at`` (Web Mercator), where the click was, decides when
            given: a replayed click selects the grid there, whatever its code now.
        ``box`` (``bounds`` ``[x0, y0, x1, y1]`` in Web Mercator, ``add``)
            Select the grids the box touches.
        ``draw`` (``shape`` ``"line"`` or ``"polygon"``, ``coords`` in Web Mercator)
            Keep a drawn line or area for the next split or transfer.
        ``merge``, ``split_line``, ``split_parts`` (``parts``), ``transfer``, ``rename``
        (``name``), ``set_kind`` (``kind``), ``undo``, ``redo``, ``save`` (``note``)
            One edit of the plan on the selection; ``transfer`` moves the buildings inside
            the drawn area to the selected grid.
        ``buildings`` (``show``, ``bounds``)
            Show or hide the buildings in view.
        ``code``
            Put the session as Python (:meth:`code`) in the widget, to copy.

        Returns
        -------
        Whatever the plan method returned (an :class:`~gridgis.plan.EditResult`, an
        :class:`~gridgis.plan.Edit`, a version number) or ``None``.

        Raises
        ------
        GridGISError
            If the edit cannot run (the message also goes to :attr:`status`).
        """
        t0 = time.perf_counter()
        kind = event.get("type")
        method = getattr(self, f"_on_{kind}", None)
        if method is None:
            raise EditorError(tr("unknown editor event {kind}", kind=repr(kind)), where="event",
                              fix=tr("use one of: {choices}",
                                     choices=", ".join(("click", "box", "draw", *_EDITS))))
        self.events.append(dict(event))
        try:
            out = method(event)
        except GridGISError as exc:
            self.widget.status = tr(TEXT["failed"], error=exc)
            self.last_seconds = time.perf_counter() - t0
            raise
        self.last_seconds = time.perf_counter() - t0
        return out

    def replay(self, events: list[dict[str, Any]]) -> list[Any]:
        """Handle recorded events in order (e.g. a session saved from :attr:`events`).

        Examples
        --------
        >>> editor.replay([{"type": "click", "code": "430302001001001"},
        ...                {"type": "split_parts", "parts": 2}])  # doctest: +SKIP
        """
        return [self.handle(e) for e in events]

    def code(self) -> str:
        """The edits of this session as Python that repeats them on the version the session
        started from (lines and areas as WKT). Unsaved edits the plan had when the editor
        opened come first; grids made during the session are named through the results of the
        edits that made them (a replay may give them other fresh codes).

        Examples
        --------
        >>> print(editor.code())  # doctest: +SKIP
        import gridgis
        plan = gridgis.Plan.open('district.gpkg', version=1)
        plan.merge(['430302001001001', '430302001001002'], name=None)
        """
        return session_code(self.plan, self.start_path, self.start_version,
                            self.plan.history[self.start_steps:], self.saves,
                            self.start_steps)

    # -- selection and drawing ----------------------------------------------------------------------
    def _on_click(self, e: dict[str, Any]) -> None:
        code = e.get("code")
        sel = list(self.widget.selected)
        if e.get("at"):
            # where the click was decides (a replayed session may meet other codes there)
            code = self._grid_at(e["at"]) or code
        if code is not None and str(code) not in self._status:
            raise EditorError(tr("no grid {code} on the map", code=repr(code)), where="click")
        if not e.get("add"):
            sel = [] if code is None else [str(code)]
        elif code is not None:
            sel = [c for c in sel if c != code] if code in sel else [*sel, str(code)]
        self._select(sel)

    def _grid_at(self, at: Any) -> str | None:
        pt = shapely.Point(self.display.from_display([at])[0])
        rows = self.plan.context.grid_index.rows(pt, "intersects")
        return str(self.plan.state.grids[schema.GRID_CODE].iloc[rows[0]]) if len(rows) else None

    def _on_clear(self, _e: dict[str, Any]) -> None:
        self._select([])

    def _on_box(self, e: dict[str, Any]) -> None:
        x0, y0, x1, y1 = (float(v) for v in e["bounds"])
        xy = self.display.from_display([[x0, y0], [x1, y1], [x0, y1], [x1, y0]])
        box = shapely.box(*xy.min(axis=0), *xy.max(axis=0))
        g = self.plan.state.grids
        rows = self.plan.context.grid_index.rows(box, "intersects")
        codes = g[schema.GRID_CODE].astype(str).to_numpy(object)[np.sort(rows)].tolist()
        self._select([*self.widget.selected, *codes] if e.get("add") else codes)

    def _on_draw(self, e: dict[str, Any]) -> None:
        shape = e.get("shape")
        xy = self.display.from_display(e.get("coords", []))
        if shape == "line" and len(xy) >= 2:
            geom = shapely.LineString(xy)
        elif shape == "polygon" and len(xy) >= 3:
            geom = shapely.make_valid(shapely.Polygon(xy))
        else:
            raise EditorError(tr("the drawn shape needs more points"), where="draw",
                              fix=_("click at least two points for a line, three for an area"))
        self._drawn = (shape, geom)
        path = self.display.paths([geom], simplify=0)[0]
        self.widget.drawing = {"shape": shape, "d": path}
        self.widget.status = tr(TEXT[f"drawn_{shape}"], n=len(xy))

    def _drawn_as(self, shape: str) -> Any:
        if self._drawn is None or self._drawn[0] != shape:
            raise EditorError(_(TEXT["need_line" if shape == "line" else "need_polygon"]),
                              where=shape)
        return self._drawn[1]

    def _one(self) -> str:
        sel = self.widget.selected
        if len(sel) != 1:
            raise EditorError(_(TEXT["need_one"]), where="selection")
        return sel[0]

    def _on_code(self, _e: dict[str, Any]) -> str:
        self.widget.code = self.code()
        return self.widget.code

    def _on_buildings(self, e: dict[str, Any]) -> None:
        show = bool(e.get("show", True))
        self.widget.show_buildings = show
        if not show or self.plan.context.buildings is None:
            self.widget.buildings = []
            return
        ctx = self.plan.context
        if e.get("bounds"):
            x0, y0, x1, y1 = (float(v) for v in e["bounds"])
            xy = self.display.from_display([[x0, y0], [x1, y1], [x0, y1], [x1, y0]])
            rows = ctx.buildings_in(shapely.box(*xy.min(axis=0), *xy.max(axis=0)))
        else:
            rows = np.arange(len(ctx.buildings))
        geoms = np.asarray(ctx.buildings.geometry.array, dtype=object)[rows[:MAX_BUILDINGS]]
        self.widget.buildings = self.display.paths(geoms, simplify=0.2)

    # -- edits ------------------------------------------------------------------------------------
    def _after(self, result: Any, select: list[str]) -> Any:
        edit = result.edit
        self._drawn = None
        self.widget.drawing = {}
        self.refresh(tr(TEXT["done"], what=edit.description, seconds=result.seconds,
                                         caused=len(result.caused),
                                         cleared=len(result.cleared)))
        self._select([c for c in select if c in self._status], message=False)
        return result

    def _on_merge(self, e: dict[str, Any]) -> Any:
        sel = list(self.widget.selected)
        if len(sel) < 2:
            raise EditorError(_(TEXT["need_two"]), where="selection")
        return self._after(self.plan.merge(sel, name=e.get("name") or None), [sel[0]])

    def _on_split_line(self, _e: dict[str, Any]) -> Any:
        line = self._drawn_as("line")
        code = self._one()
        line_out = _to_plan_crs(self.plan, line)
        r = self.plan.split(code, line=line_out)
        return self._after(r, [code, *r.added])

    def _on_split_parts(self, e: dict[str, Any]) -> Any:
        code = self._one()
        r = self.plan.split(code, by="buildings", parts=int(e.get("parts", 2)))
        return self._after(r, [code, *r.added])

    def _on_transfer(self, _e: dict[str, Any]) -> Any:
        area = self._drawn_as("polygon")
        to = self._one()
        ctx = self.plan.context
        state = self.plan.state
        rows = ctx.buildings_in(area)
        if state.building_grid is not None:
            rows = rows[state.building_grid[rows] != to]
        if not len(rows):
            raise EditorError(_(TEXT["no_buildings_in_area"]), where="area")
        bld = ctx.buildings
        ids = (bld[schema.BUILDING_ID].astype(str).to_numpy(object)[rows]
               if schema.BUILDING_ID in bld else bld.index.astype(str).to_numpy()[rows])
        return self._after(self.plan.transfer(buildings=ids.tolist(), to=to), [to])

    def _on_rename(self, e: dict[str, Any]) -> Any:
        name = str(e.get("name") or "").strip()
        if not name:
            raise EditorError(_(TEXT["need_name"]), where="name")
        code = self._one()
        return self._after(self.plan.rename(code, name), [code])

    def _on_set_kind(self, e: dict[str, Any]) -> Any:
        code = self._one()
        return self._after(self.plan.set_kind(code, str(e.get("kind"))), [code])

    def _on_undo(self, _e: dict[str, Any]) -> Any:
        edit = self.plan.undo()
        self.refresh(tr(TEXT["undone"], what=edit.description))
        return edit

    def _on_redo(self, _e: dict[str, Any]) -> Any:
        edit = self.plan.redo()
        self.refresh(tr(TEXT["redone"], what=edit.description))
        return edit

    def _on_save(self, e: dict[str, Any]) -> int:
        note = str(e.get("note") or "").strip()
        if not note:
            raise EditorError(_(TEXT["need_note"]), where="note")
        version = self.plan.save(note=note, author=str(e.get("author") or ""))
        self.saves.append((len(self.plan.history), note))
        self.refresh(tr(TEXT["saved"], version=version, note=note))
        return version


def _to_plan_crs(plan: Any, geom: Any) -> Any:
    """A metric geometry in the plan's CRS (what the Plan methods take)."""
    if plan.crs is None or plan.crs.equals(plan.metric_crs):
        return geom
    import geopandas as gpd

    return gpd.GeoSeries([geom], crs=plan.metric_crs).to_crs(plan.crs)
