"""Numbers and lists of grids as text in finding messages."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..i18n import tr

__all__ = ["short_number", "wide", "names", "format_measure", "grid_list"]


def short_number(x: float) -> str:
    """A measure in a message: thousands separated, fewer decimals as it grows.

    Examples
    --------
    >>> short_number(1234.5), short_number(3.21), short_number(0.0123)
    ('1,234', '3.2', '0.012')
    """
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.1f}"
    return f"{x:.2g}"


def wide(width: float, noise: bool) -> str:
    """The width of a piece in a message.

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("en"):
    ...     wide(0.3, True)
    'about 0.30 m wide'
    """
    if noise:
        return tr("about {width:.2f} m wide", width=width)
    return tr("up to {width} m wide", width=short_number(width))


def names(grids: list[str] | tuple[str, ...], limit: int = 4) -> str:
    """Grid codes in a message, the first ``limit`` of them.

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("en"):
    ...     names(['a', 'b', 'c'], limit=2)
    'a, b and 1 more'
    """
    grids = list(grids)
    text = ", ".join(grids[:limit])
    return text + (tr(" and {n} more", n=len(grids) - limit) if len(grids) > limit else "")


def format_measure(value: float | None) -> str:
    """A measure in a table: integers without decimals, empty for none.

    Examples
    --------
    >>> format_measure(1200.0), format_measure(None)
    ('1,200', '')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    value = float(value)
    if value == int(value) and abs(value) < 1e12:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.1f}"
    return f"{value:.3g}"


def grid_list(grids: Sequence[str], limit: int) -> str:
    """Grid codes in a table cell, the first ``limit`` of them.

    Examples
    --------
    >>> grid_list(['a', 'b', 'c'], 2)
    'a, b +1'
    """
    shown = ", ".join(grids[:limit])
    return shown + (f" +{len(grids) - limit}" if len(grids) > limit else "")
