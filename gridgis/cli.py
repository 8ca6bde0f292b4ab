"""The ``gridgis`` command line: ``gridgis <verb> [inputs] --options``.

Exit codes (scripts can act on them): 0 ok, 1 rule violations found, 2 bad input.
Every verb's ``--help`` shows an example. Library functions stay quiet; the CLI shows progress.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .errors import GridGISError

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT = 0, 1, 2

app = typer.Typer(
    name="gridgis",
    help="Grid management (网格化服务管理) toolkit: build, validate, code, assign and render grids.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


class State:
    """Global CLI options (set by the callback)."""

    quiet: bool = False
    verbose: bool = False


@app.callback()
def _main(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print more detail.")] = False,
) -> None:
    State.quiet, State.verbose = quiet, verbose


def say(message: str) -> None:
    """Print a status line to stderr unless ``--quiet``."""
    if not State.quiet:
        console.print(message)


def progress_enabled() -> bool:
    """Whether long work should show a progress bar."""
    return not State.quiet


# ---- verbs -------------------------------------------------------------------------------------
# Each verb is a thin wrapper over a library function; keep logic in the library.


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("demo_output"),
    seed: Annotated[int, typer.Option(help="Random seed of the builder.")] = 0,
) -> None:
    """Run the main job on the bundled sample district.

    Example: ``gridgis demo -o demo_output``
    """
    from .demo import run_demo

    run_demo(out, seed=seed, say=say, progress=progress_enabled())


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: runs the app and maps errors to exit codes."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except GridGISError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
        return EXIT_BAD_INPUT
    except SystemExit as exc:  # typer/click exits (e.g. --help, usage errors)
        code = exc.code if isinstance(exc.code, int) else 0
        return code
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.exceptions.Exit):
            return exc.exit_code
        if isinstance(exc, click.ClickException):
            exc.show()
            return EXIT_BAD_INPUT
        if isinstance(exc, click.exceptions.Abort):
            return EXIT_BAD_INPUT
        raise
    return rv if isinstance(rv, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
