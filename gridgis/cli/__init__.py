"""The ``gridgis`` command line: ``gridgis <verb> [inputs] --options``.

Exit codes (scripts can act on them):

* 0 — done, nothing to report;
* 1 — done, and rule violations were found (validate, repair, build, assign --strict …);
* 2 — bad input, bad usage, or an output that cannot be written (the message names the file,
  where in it, and the option that fixes it);
* 3 — an internal error: one line on the terminal, the traceback in a log file whose path is
  printed (``--debug`` prints it instead).

Messages are printed as they are (no markup, no wrapping), so paths and 15-digit codes can be
copied from them. Outputs never overwrite inputs and are written atomically
(:mod:`gridgis.writing`). Every verb's ``--help`` shows an example.

Modules: ``_app`` (the app, global options, logging and shared output helpers), ``_options``
(options several verbs share), one module per group of verbs (``plans``, ``maps``, ``tables``, ``prints``)
and ``_main`` (the entry point and exit codes). Readers that turn the files named on the command
line into checked layers live in :mod:`gridgis.workflows.readers`.
"""

from __future__ import annotations

from . import maps, plans, prints, tables
from ._app import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_VIOLATIONS, app
from ._help import help_texts, missing_typer_hooks
from ._main import main

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

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_OK", "EXIT_VIOLATIONS", "app", "help_texts", "main",
           "missing_typer_hooks"]
