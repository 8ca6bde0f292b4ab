"""The quick path of ``gridgis assign``: a plain command run without the Typer app.

A one-shot ``gridgis assign addresses.csv --grids plan.gpkg -o out.csv`` spends most of its time
importing typer, pandas and geopandas. :func:`run_quick` reads such a command line itself and
runs :mod:`gridgis.assignment.quick` (numpy, shapely, pyproj and the standard library). It takes
only what it handles exactly as the full command does; for anything else — another verb, help,
an option it does not know, an input :mod:`gridgis.assignment.quick` does not take, any error —
it returns ``None`` before writing anything, and the Typer app runs the command, with the same
result, messages and exit code.

Taken: the global options ``-q``, ``--debug`` and ``--lang``, then ``assign`` with one points file
and ``--grids/-g``, ``--out/-o``, ``--grids-layer``, ``--lon``, ``--lat``, ``--crs``,
``--code-column``, ``--max-distance``, ``--rules``, ``--chunk-size`` and ``--strict``. Its status
lines go through the same logging handler as the app's (rich on a terminal); it shows no
progress bar, as the file it takes is read in well under a second. The Typer app runs every
command when the environment sets ``GRIDGIS_QUICK=0``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

__all__ = ["run_quick"]

logger = logging.getLogger(__name__)

_GLOBAL_FLAGS = {"-q": "quiet", "--quiet": "quiet", "--debug": "debug"}
_VALUES = {"--grids": "grids", "-g": "grids", "--out": "out", "-o": "out",
           "--grids-layer": "grids_layer", "--lon": "lon", "--lat": "lat", "--crs": "crs",
           "--code-column": "code_column", "--max-distance": "max_distance", "--rules": "rules",
           "--chunk-size": "chunk_size"}
_FLAGS = {"--strict": ("strict", True), "--no-strict": ("strict", False)}


def _parse(argv: list[str]) -> dict[str, object] | None:
    """The options of a plain ``assign`` command line, or ``None``."""
    opts: dict[str, object] = {"quiet": False, "debug": False, "lang": None, "strict": False,
                               "code_column": "grid_code"}
    args = list(argv)
    while args and args[0].startswith("-"):
        arg = args.pop(0)
        if arg in _GLOBAL_FLAGS:
            opts[_GLOBAL_FLAGS[arg]] = True
        elif arg == "--lang" and args:
            opts["lang"] = args.pop(0)
        elif arg.startswith("--lang="):
            opts["lang"] = arg.split("=", 1)[1]
        else:
            return None
    if not args or args.pop(0) != "assign":
        return None
    points: list[str] = []
    while args:
        arg = args.pop(0)
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in _VALUES and (eq or args):
            opts[_VALUES[name]] = inline if eq else args.pop(0)
        elif arg in _FLAGS:
            key, flag = _FLAGS[arg]
            opts[key] = flag
        elif arg.startswith("-"):
            return None  # help, an option handled only by the full command, or a typo
        else:
            points.append(arg)
    if len(points) != 1 or "grids" not in opts or "out" not in opts:
        return None
    opts["points"] = points[0]
    return opts


def _numbers(opts: dict[str, object]) -> bool:
    """Convert ``--max-distance`` and ``--chunk-size`` as Typer would; False when they are not
    numbers or out of range (the full command then says so)."""
    try:
        if "max_distance" in opts:
            opts["max_distance"] = float(str(opts["max_distance"]))
        return int(str(opts.get("chunk_size", 1))) >= 1
    except ValueError:
        return False


def run_quick(argv: list[str]) -> int | None:
    """Run a plain ``gridgis assign`` command line quickly; ``None`` when it is not one.

    Examples
    --------
    >>> run_quick(["--help"]) is None
    True
    >>> run_quick(["assign", "a.csv", "--grids", "plan.gpkg", "-o", "out.csv", "--per-grid",
    ...            "n.csv"]) is None
    True
    """
    if os.environ.get("GRIDGIS_QUICK", "1").strip() in ("0", "false", "no", "off"):
        return None
    opts = _parse(argv)
    if opts is None or not _numbers(opts):
        return None
    from ..assignment import MATCH_VALUES
    from ..assignment.quick import GpkgPlan, NotQuick, assign_csv
    from ..assignment.result import summary_line
    from ..i18n import _, normalize_language, tr, use_language
    from ._log import EXIT_OK, EXIT_VIOLATIONS, error, remove_logging, say, setup_logging

    try:
        lang = None if opts["lang"] is None else normalize_language(str(opts["lang"]))
    except Exception:
        return None
    grids, out = str(opts["grids"]), Path(str(opts["out"]))
    rules = None if opts.get("rules") is None else Path(str(opts["rules"]))
    try:
        with use_language(lang):
            setup_logging(quiet=bool(opts["quiet"]))
            try:
                plan = GpkgPlan(grids, opts.get("grids_layer"),  # type: ignore[arg-type]
                                code_column=str(opts["code_column"]),
                                max_distance=opts.get("max_distance"),  # type: ignore[arg-type]
                                rules=rules)
                res = assign_csv(Path(str(opts["points"])), plan, out, crs=opts.get("crs"),
                                 lon=opts.get("lon"), lat=opts.get("lat"),  # type: ignore[arg-type]
                                 inputs=(grids, rules))
            except KeyboardInterrupt:
                error(_("interrupted; outputs not finished were left untouched"))
                return 130
            except Exception as exc:  # noqa: BLE001 - the full command gives the result or error
                logger.debug("full path: %s", exc if isinstance(exc, NotQuick) else repr(exc))
                return None
            say(summary_line(res.per_status, res.per_grid))
            say(tr("wrote {path}", path=out))
    finally:
        remove_logging()
    bad = int(sum(res.per_status[MATCH_VALUES.index(m)] for m in ("invalid", "unmatched")))
    return EXIT_VIOLATIONS if opts["strict"] and bad else EXIT_OK
