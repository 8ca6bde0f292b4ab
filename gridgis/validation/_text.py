"""Numbers and lists of grids as text in finding messages."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["short_number", "wide", "names", "format_measure", "grid_list"]


def short_number(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.1f}"
    return f"{x:.2g}"


def wide(width: float, noise: bool) -> str:
    return f"about {width:.2f} m wide" if noise else f"up to {short_number(width)} m wide"


def names(grids: list[str] | tuple[str, ...], limit: int = 4) -> str:
    grids = list(grids)
    text = ", ".join(grids[:limit])
    return text + (f" and {len(grids) - limit} more" if len(grids) > limit else "")


def format_measure(value: float | None) -> str:
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
    shown = ", ".join(grids[:limit])
    return shown + (f" +{len(grids) - limit}" if len(grids) > limit else "")
