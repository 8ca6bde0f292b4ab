"""Every user-facing text of the map editor, as message ids of :mod:`gridgis.i18n` (Chinese by
default): marked here with ``N_``, translated where shown (:func:`texts`, ``tr``)."""

from __future__ import annotations

from ..i18n import N_, _

__all__ = ["SEVERITY", "STATUS", "STATUS_COLOURS", "TEXT", "status_label", "texts"]

#: Size status of a grid → its name (a message id).
STATUS = {
    "ok": N_("within the size range"),
    "below": N_("below the minimum"),
    "above": N_("above the maximum"),
    "special": N_("special grid"),
    "unknown": N_("size unknown"),
}
#: Size status → fill colour on the map.
STATUS_COLOURS = {"ok": "#9ad29a", "below": "#f6d55c", "above": "#ed5f55", "special": "#7fb2e5",
                  "unknown": "#c8c8c8"}

SEVERITY = {"error": N_("Error"), "warning": N_("Warning")}

#: Buttons, prompts and messages (``{}`` fields filled by ``gridgis.i18n.tr``).
TEXT = {
    # toolbar
    "mode_select": N_("Select"),
    "mode_line": N_("Draw a line"),
    "mode_polygon": N_("Draw an area"),
    "finish": N_("Finish drawing"),
    "merge": N_("Merge selected"),
    "split_line": N_("Split along the line"),
    "split_parts": N_("Split by buildings"),
    "parts": N_("Parts"),
    "transfer": N_("Move buildings in the area to the selected grid"),
    "rename": N_("Rename"),
    "name_placeholder": N_("New name"),
    "set_kind": N_("Change kind"),
    "undo": N_("Undo"),
    "redo": N_("Redo"),
    "buildings": N_("Show buildings"),
    "save": N_("Save as a new version"),
    "note_placeholder": N_("Version note"),
    "clear": N_("Clear selection"),
    "show_code": N_("Session as code"),
    "hint": N_("Click a grid to select it, Shift+click to add, Shift+drag to select a box; "
               "drag to pan, scroll to zoom; when drawing, click to add points, double-click "
               "to finish, Esc to cancel."),
    # panel
    "panel_title": N_("Selected grids"),
    "panel_none": N_("No grid selected. The district has {grids} grids: {statuses}; {errors} "
                     "errors, {warnings} warnings."),
    "col_code": N_("Code"),
    "col_name": N_("Name"),
    "col_kind": N_("Kind"),
    "col_status": N_("Size"),
    "col_households": N_("Households"),
    "col_population": N_("Residents"),
    "col_community": N_("Community"),
    "total": N_("Total of {n} grids: {households} households, {population} residents"),
    "findings": N_("Findings"),
    "no_findings": N_("The selected grids have no findings."),
    "legend": N_("Legend"),
    # status line
    "ready": N_("Ready: {grids} grids."),
    "done": N_("{what}: {seconds:.2f} s; {caused} findings caused, {cleared} cleared."),
    "undone": N_("Undone: {what}"),
    "redone": N_("Redone: {what}"),
    "saved": N_("Saved as version {version}: {note}"),
    "drawn_line": N_("Line drawn ({n} points): select the grid to split and press "
                     "'Split along the line'."),
    "drawn_polygon": N_("Area drawn ({n} points): select the receiving grid and press "
                        "'Move buildings in the area to the selected grid'."),
    "selected": N_("{n} grids selected."),
    "failed": N_("Not done: {error}"),
    "plain": N_("Grid map editor: {grids} grids, {edits} edits (shown as an interactive map "
                "in Jupyter)"),
    # refusals of the editor itself
    "need_two": N_("Select at least two grids to merge"),
    "need_one": N_("Select exactly one grid"),
    "need_line": N_("First draw a line across the grid on the map"),
    "need_polygon": N_("First draw an area on the map"),
    "no_buildings_in_area": N_("The area holds no building of another grid"),
    "need_name": N_("Type the new name"),
    "need_note": N_("Type a note for the version"),
}


def texts() -> dict[str, str]:
    """The toolbar and panel texts in the language in use (for the browser).

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("zh"):
    ...     texts()["merge"]
    '合并所选'
    """
    return {k: _(v) for k, v in TEXT.items()}


def status_label(status: str) -> str:
    """Name of a size status in the language in use."""
    return _(STATUS.get(status, STATUS["unknown"]))
