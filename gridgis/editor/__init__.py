"""The planner's map editor in Jupyter (``plan.edit()``): select grids on a map, draw split lines
and areas, merge, split, transfer, rename, undo/redo and save, with the households, the size
status and the findings updated after every edit.

The browser side is an anywidget (:mod:`gridgis.editor.widget`) whose script ships with gridgis:
nothing is fetched at run time. :class:`PlanEditor` turns its events into
:class:`~gridgis.plan.Plan` edits.

Examples
--------
>>> editor = gridgis.Plan.open("district.gpkg").edit()  # doctest: +SKIP
>>> editor  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from .session import EditorError, PlanEditor
from .widget import EditorWidget

__all__ = ["EditorError", "EditorWidget", "PlanEditor", "open_editor"]


def open_editor(plan: Any, **options: Any) -> PlanEditor:
    """The map editor of ``plan`` (what :meth:`gridgis.Plan.edit` returns).

    Examples
    --------
    >>> open_editor(plan, height=480)  # doctest: +SKIP
    """
    return PlanEditor(plan, **options)
