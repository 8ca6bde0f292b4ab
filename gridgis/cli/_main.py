"""The console-script entry point: run the app and map every outcome to an exit code.

A plain ``gridgis assign`` is first offered to the quick path (:mod:`gridgis.cli._quick`: no
typer, pandas or geopandas); everything else, and whatever the quick path does not take, runs
the Typer app, whose modules are imported only then."""

from __future__ import annotations

import atexit
import os
import sys
import time
import traceback
from pathlib import Path
from typing import NoReturn

from ..errors import GridGISError
from ..i18n import _, tr, use_language
from ._log import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, State, error, remove_logging

__all__ = ["console", "internal_error", "log_path", "main"]


def log_path() -> Path:
    import tempfile  # only when an internal error is logged: not on a quick command's path

    base = os.environ.get("GRIDGIS_LOG_DIR") or os.path.join(tempfile.gettempdir(), "gridgis-logs")
    folder = Path(base)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"gridgis-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"


def internal_error(exc: BaseException) -> int:
    """Exit 3: one line on the terminal, the traceback in a log file (or on stderr with --debug)."""
    text = "".join(traceback.format_exception(exc))
    if State.debug:
        print(text, file=sys.stderr)
        error(tr("internal error ({name}); please report it with the traceback above",
                 name=type(exc).__name__))
        return EXIT_INTERNAL
    try:
        path = log_path()
        path.write_text(f"gridgis {' '.join(sys.argv[1:])}\n{text}", encoding="utf-8")
        where = tr("details in {path}", path=path)
    except OSError:
        where = _("run again with --debug for details")
    error(tr("internal error ({name}: {exc}); {where}. Please report it with that file.",
             name=type(exc).__name__, exc=str(exc)[:200], where=where))
    return EXIT_INTERNAL


def console() -> NoReturn:
    """The ``gridgis`` command (and ``python -m gridgis.cli``): :func:`main`, then exit.

    After a quick ``assign`` (:mod:`gridgis.cli._quick`) the process ends without tearing the
    interpreter down: exit handlers run and the output streams are flushed (every file of the
    quick path is closed and renamed into place by then), and the 15–20 ms Python spends freeing
    every module and object is saved. Every other command exits the usual way.
    """
    args = sys.argv[1:]
    from ._quick import run_quick

    code = run_quick(args)
    if code is None:
        sys.exit(main(args, quick=False))
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code)


def main(argv: list[str] | None = None, *, quick: bool = True) -> int:
    """Console-script entry point: runs the app and maps every outcome to an exit code.

    ``--lang zh|en`` before the verb (else ``$GRIDGIS_LANG``, else Chinese) sets the language of
    messages, help, pages and tables for this run. The logging handler the app installs is
    removed on return and the language set before is restored, so calling ``main`` from Python
    (tests, scripts) leaves the ``gridgis`` loggers and language as they were.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    if quick:
        from ._quick import run_quick

        code = run_quick(args)
        if code is not None:
            return code
    from ._help import lang_argument

    try:
        lang = lang_argument(args)
    except GridGISError as exc:
        error(str(exc))
        return EXIT_BAD_INPUT
    try:
        with use_language(lang):
            return _run(args)
    finally:
        remove_logging()


def _run(argv: list[str]) -> int:
    import typer
    from typer._click import exceptions as click_exc

    from ._help import localized_command, show_usage_error
    from ._verbs import app

    try:
        rv = localized_command(app).main(args=argv, standalone_mode=False, prog_name="gridgis")
    except GridGISError as exc:
        error(str(exc))
        return EXIT_BAD_INPUT
    except click_exc.UsageError as exc:  # usage errors, bad option values
        show_usage_error(exc, error)
        return EXIT_BAD_INPUT
    except click_exc.ClickException as exc:
        error(_(exc.format_message()))
        return EXIT_BAD_INPUT
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except (typer.Abort, KeyboardInterrupt):
        error(_("interrupted; outputs not finished were left untouched"))
        return 130
    except OSError as exc:  # disk full, permission lost mid-run …: an output cannot be written
        name = exc.filename or ""
        error(f"{name}: {exc.strerror or exc}" if name else f"{exc.strerror or exc}")
        return EXIT_BAD_INPUT
    except Exception as exc:
        return internal_error(exc)
    return rv if isinstance(rv, int) else EXIT_OK
