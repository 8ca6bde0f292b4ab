"""Exception hierarchy of gridgis.

Every error that comes from bad input is a :class:`GridGISError` subclass whose message names
*what* is wrong, *where* (file, layer, row or feature) and, when possible, *how to fix it*.
The CLI maps :class:`GridGISError` to exit code 2.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from .i18n import tr

__all__ = [
    "CRSError",
    "CodeSchemeError",
    "DatabaseError",
    "GeometryError",
    "GridGISError",
    "InputFileError",
    "OutputError",
    "PartitionError",
    "RulesError",
    "SchemaError",
    "_CLI_OPTIONS",
    "_ROLE",
    "cli_options",
    "in_cli",
    "input_role",
    "option",
    "with_options",
]


class GridGISError(Exception):
    """Base class of every error raised by gridgis on bad input or impossible requests.

    Parameters
    ----------
    message
        What went wrong.
    source
        File path, URL or layer the problem was found in (optional).
    where
        Row, feature, key or column the problem is in (optional).
    fix
        A hint on how to fix the input (optional).
    """

    def __init__(
        self,
        message: str,
        *,
        source: object | None = None,
        where: object | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.source = None if source is None else str(source)
        self.where = None if where is None else str(where)
        self.fix = fix
        super().__init__(self._format())

    def _format(self) -> str:
        # a source or place that is a setting is named as the interface in use spells it
        spelled = _CLI_OPTIONS.get() or {}
        parts = []
        if self.source:
            parts.append(spelled.get(self.source) or self.source)
        if self.where:
            parts.append(spelled.get(self.where) or self.where)
        prefix = ": ".join(parts)
        text = tr("{where}: {message}", where=prefix, message=self.message) if prefix else self.message
        if self.fix:
            text += tr(" (fix: {fix})", fix=self.fix)
        return text


class InputFileError(GridGISError):
    """A file cannot be found, opened, decoded or parsed."""


class SchemaError(GridGISError):
    """A required column is missing, or a column has values of the wrong type."""


class GeometryError(GridGISError):
    """Geometries are missing, empty, invalid or of the wrong type."""


class CRSError(GridGISError):
    """A layer has no CRS, an unknown CRS, or coordinates that do not fit its CRS."""


class RulesError(GridGISError):
    """A rules (profile) file is malformed: unknown key, wrong type or value out of range."""


class CodeSchemeError(GridGISError):
    """A grid-code scheme is invalid or cannot hold the grids it must number."""


class PartitionError(GridGISError):
    """The builder cannot produce a partition from the given inputs."""


class DatabaseError(GridGISError):
    """A PostGIS read or write failed."""


class OutputError(GridGISError):
    """An output cannot be written where asked, or would overwrite one of the inputs."""


# ---- fixes that name what exists in the interface in use ----------------------------------------
# The CLI sets, around each input it reads, how that input's Python keywords are spelled as its
# options (``layer`` → ``--grids-layer``); a fix then suggests ``--grids-layer NAME`` on the CLI
# and ``layer='NAME'`` in Python, and nothing the user cannot type.
_CLI_OPTIONS: ContextVar[Mapping[str, str] | None] = ContextVar("gridgis_cli_options", default=None)


@contextmanager
def cli_options(**options: str) -> Iterator[None]:
    """Spell Python keywords as CLI options in the fixes of errors raised inside the block.

    >>> with cli_options(layer="--grids-layer"):
    ...     option("layer", "NAME"), option("crs")
    ('--grids-layer NAME', None)
    >>> option("layer", "NAME")
    "layer='NAME'"
    """
    token = _CLI_OPTIONS.set(options)
    try:
        yield
    finally:
        _CLI_OPTIONS.reset(token)


_ROLE: ContextVar[str | None] = ContextVar("gridgis_input_role", default=None)


@contextmanager
def input_role(role: str) -> Iterator[None]:
    """Inside the block, a reader's ``layer`` is the caller's ``<role>_layer`` (and so on).

    >>> with input_role("parents"):
    ...     option("layer", "NAME")
    "parents_layer='NAME'"
    """
    token = _ROLE.set(role)
    try:
        yield
    finally:
        _ROLE.reset(token)


def in_cli() -> bool:
    """Whether errors raised here are shown on the command line (inside :func:`cli_options`).

    >>> in_cli()
    False
    """
    return _CLI_OPTIONS.get() is not None


def option(keyword: str, value: str = "…") -> str | None:
    """How to set ``keyword`` in the interface in use, or ``None`` when it has no such setting."""
    role = _ROLE.get()
    keyword = f"{role}_{keyword}" if role else keyword
    spelled = _CLI_OPTIONS.get()
    if spelled is None:
        return f"{keyword}={value!r}"
    flag = spelled.get(keyword)
    return f"{flag} {value}" if flag else None


def with_options(text: str | None, *settings: tuple[str, str]) -> str | None:
    """``text`` followed by ", or pass <settings>" for the settings that exist in the interface.

    >>> from gridgis.i18n import use_language
    >>> with use_language("en"):
    ...     with_options("name them 经度/纬度", ("lon", "COLUMN"), ("lat", "COLUMN"))
    "name them 经度/纬度, or pass lon='COLUMN' lat='COLUMN'"
    """
    spelled = [s for s in (option(k, v) for k, v in settings) if s]
    if not spelled:
        return text
    joined = " ".join(spelled)
    if text:
        return tr("{fix}, or pass {settings}", fix=text, settings=joined)
    return tr("pass {settings}", settings=joined)
