"""What the command line needs before it knows which verb runs (no typer, no pandas): exit
codes, the global options' state, the logging handler, status and error lines."""

from __future__ import annotations

import logging
import sys

from ..i18n import tr

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_VIOLATIONS",
    "State",
    "error",
    "remove_logging",
    "say",
    "setup_logging",
]

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
log = logging.getLogger("gridgis")
_HANDLER_NAME = "gridgis-cli"


class State:
    """Global CLI options (set by the callback)."""

    quiet: bool = False
    verbose: bool = False
    debug: bool = False


def setup_logging(*, quiet: bool = False, verbose: bool = False) -> logging.Handler:
    """Send the ``gridgis`` loggers to stderr at the level ``-q``/``-v`` ask for.

    On a terminal a :class:`rich.logging.RichHandler` prints the messages (warnings and errors
    highlighted); in files and pipes a plain handler prints each message as it is, never wrapped,
    so paths and 15-digit codes can be copied. Calling it again replaces the handler.

    Examples
    --------
    >>> handler = setup_logging(quiet=True)
    >>> logging.getLogger("gridgis").level == logging.WARNING
    True
    """
    remove_logging()
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(
            console=Console(stderr=True, soft_wrap=True), show_time=False, show_path=False,
            show_level=verbose, markup=False, rich_tracebacks=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
    handler.set_name(_HANDLER_NAME)
    log.addHandler(handler)
    log.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)
    return handler


def remove_logging() -> None:
    """Take the CLI's handler off the ``gridgis`` logger and restore its level."""
    for old in [h for h in log.handlers if h.get_name() == _HANDLER_NAME]:
        log.removeHandler(old)
    log.setLevel(logging.NOTSET)


def say(message: str) -> None:
    """A status line of a verb (INFO on the ``gridgis.cli`` logger; hidden by ``--quiet``)."""
    logging.getLogger("gridgis.cli").info(message)


def error(message: str) -> None:
    """An error line on stderr, printed whatever the log level."""
    print(tr("error: {message}", message=message), file=sys.stderr, flush=True)
