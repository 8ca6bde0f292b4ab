"""The Typer app with every verb registered (imported when a command runs through Typer)."""

from __future__ import annotations

from . import maps, plans, prints, tables
from ._app import app

__all__ = ["app"]

# the verbs, in the order ``gridgis --help`` lists them
for _name, _verb in [
    ("demo", plans.demo_cmd),
    ("build", plans.build_cmd),
    ("assign", tables.assign_cmd),
    ("validate", plans.validate_cmd),
    ("repair", plans.repair_cmd),
    ("render", maps.render_cmd),
    ("report", maps.report_cmd),
    ("heatmap", maps.heatmap_cmd),
    ("recode", tables.recode_cmd),
    ("recode-table", tables.recode_table_cmd),
    ("summary", prints.summary_cmd),
    ("atlas", prints.atlas_cmd),
    ("notice", prints.notice_cmd),
]:
    app.command(_name)(_verb)
