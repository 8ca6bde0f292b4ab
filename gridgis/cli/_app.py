"""The Typer app, its global options (``-q/-v/--debug/--version``) and what every verb shares:
status lines through the ``gridgis`` logger, progress, findings tables and output checks."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from typing import Annotated, Any

import typer

from ..i18n import _, set_language
from ..writing import check_output
from ._log import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_VIOLATIONS,
    State,
    error,
    remove_logging,
    say,
    setup_logging,
)

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_VIOLATIONS",
    "State",
    "app",
    "check_outputs",
    "error",
    "print_findings",
    "progress_enabled",
    "remove_logging",
    "say",
    "setup_logging",
    "status",
]


app = typer.Typer(
    name="gridgis",
    help="Grid management toolkit: build, validate, code, assign and render grids.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"gridgis {version('gridgis')}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print more detail.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Print the traceback of an internal "
                                                        "error (exit 3) instead of logging it.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    lang: Annotated[str | None, typer.Option(
        "--lang", metavar="zh|en", help="Language of messages, help, pages and tables: zh "
                                        "(Chinese, the default) or en; also GRIDGIS_LANG.")] = None,
) -> None:
    if lang is not None:  # main() set it already; this checks it when the app runs alone
        set_language(lang)
    State.quiet, State.verbose, State.debug = quiet, verbose, debug
    setup_logging(quiet=quiet, verbose=verbose)


def progress_enabled() -> bool:
    """Whether long work should show a progress bar."""
    return not State.quiet


def status(text: str) -> Any:
    """A spinner on a terminal; nothing when stderr is a file or a pipe."""
    if State.quiet or not sys.stderr.isatty():
        return nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(text)


def print_findings(report: Any) -> None:
    """The findings as a table on a terminal; as plain lines (never wrapped) in files and pipes."""
    if sys.stderr.isatty():
        from rich.console import Console

        Console(stderr=True).print(report.rich_table(max_rows=50 if State.verbose else 20))
        from ..validation.report import skipped_line

        for what, why in report.skipped.items():
            say(skipped_line(what, why))
    else:  # the summary lists the rules not checked too
        say(report.summary(max_rows=50 if State.verbose else 20, more=_("--html lists them all")))


def check_outputs(*outputs: tuple[Any, str], inputs: tuple[Any, ...], folder: bool = False) -> None:
    """Check every ``(path, option)`` output against the inputs before any work is done."""
    for path, option in outputs:
        if path is not None and "://" not in str(path):
            check_output(path, inputs=inputs, folder=folder, option=option)
