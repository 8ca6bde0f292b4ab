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

Modules: ``_log`` (exit codes, global state, logging), ``_app`` (the app, global options and
shared output helpers), ``_options`` (options several verbs share), one module per group of verbs
(``plans``, ``maps``, ``tables``, ``prints``), ``_verbs`` (the app with the verbs registered),
``_main`` (the entry point and exit codes) and ``_quick`` (a plain ``gridgis assign`` without the
Typer app, pandas or geopandas: :mod:`gridgis.assignment.quick`). Readers that turn the files named on the command
line into checked layers live in :mod:`gridgis.workflows.readers`.
"""

from __future__ import annotations

from typing import Any

from ._log import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_VIOLATIONS
from ._main import console, main

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_OK", "EXIT_VIOLATIONS", "app", "console", "help_texts",
           "main", "missing_typer_hooks"]


def __getattr__(name: str) -> Any:
    # the Typer app (every verb module with it) loads on first use: a quick ``gridgis assign``
    # never needs it
    if name == "app":
        from ._verbs import app

        return app
    if name in ("help_texts", "missing_typer_hooks"):
        from . import _help

        return getattr(_help, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
