"""Fill colours and legends of grid maps: a hue per community, classes of a column, kind names.

Example
-------
>>> from gridgis.render.colors import grid_fills
>>> fills, legend = grid_fills(grids, "households")                  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._inputs import metric
from ..errors import SchemaError
from ..i18n import N_, _, tr
from ._common import hex_to_rgb
from .colouring import colour_classes

__all__ = ["KIND_NAMES", "PALETTE", "column_colors", "community_colors", "grid_fills", "kind_names"]

#: Community hues of the maps (pastel, distinguishable side by side); the more saturated ones
#: first, since a district's communities seldom need more than four colour classes.
PALETTE = (
    "#8dd3c7", "#fdb462", "#80b1d3", "#fb8072", "#b3de69", "#bebada", "#fccde5", "#ffed6f",
    "#bc80bd", "#ccebc5", "#a6cee3", "#e5c494",
)
#: Grid kind → its name for people (English message ids, shown through :func:`kind_names`).
KIND_NAMES = {
    schema.BASIC: N_("Basic grid"), "school": N_("School"), "hospital": N_("Hospital"),
    "market": N_("Market"), "industrial_park": N_("Industrial park"), "park": N_("Park"),
    "commercial": N_("Commercial building"),
}


def kind_names() -> dict[str, str]:
    """Grid kind → its name in the language in use (Chinese by default).

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("zh"):
    ...     kind_names()["school"]
    '学校'
    """
    return {kind: _(name) for kind, name in KIND_NAMES.items()}


def _shade(color: str, factor: float) -> str:
    """Lighten (factor > 1) or darken (< 1) a hex color."""
    r, g, b = hex_to_rgb(color)
    if factor >= 1:
        t = factor - 1
        r, g, b = (int(round(v + (255 - v) * t)) for v in (r, g, b))
    else:
        r, g, b = (int(round(v * factor)) for v in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def community_colors(grids: gpd.GeoDataFrame, palette: Iterable[str] = PALETTE) -> pd.Series:
    """A fill color per grid: a hue per community (neighbouring communities differ), with
    neighbouring grids inside a community in alternating shades, so that no two neighbouring
    grids share a colour (graph colouring, :mod:`gridgis.render.colouring`). Deterministic;
    the static maps, the print pages and the interactive maps all use it.

    Examples
    --------
    >>> community_colors(grids).iloc[0]                                # doctest: +SKIP
    '#8dd3c7'
    """
    palette = list(palette)
    met = metric(grids)
    if schema.COMMUNITY_CODE in met.columns:
        comm = met[schema.COMMUNITY_CODE].astype(str).to_numpy()
    elif schema.GRID_CODE in met.columns:
        comm = met[schema.GRID_CODE].astype(str).str[:12].to_numpy()
    else:
        comm = np.array(["all"] * len(met))
    codes = sorted(set(comm))
    geoms = np.asarray(met.geometry.array)
    unions = np.array([shapely.union_all(geoms[comm == c]) for c in codes])
    hue = colour_classes(unions, codes, touch_m=1.0)
    shade = np.zeros(len(met), dtype=int)
    for c in codes:
        idx = np.flatnonzero(comm == c)
        local = colour_classes(geoms[idx], list(range(len(idx))), touch_m=1.0)
        shade[idx] = [local[k] for k in range(len(idx))]
    factors = (1.0, 0.72, 1.32, 0.52, 1.55, 0.86, 1.16)
    colors = [_shade(palette[hue[c] % len(palette)], factors[s % len(factors)])
              for c, s in zip(comm, shade, strict=True)]
    return pd.Series(colors, index=grids.index, name="fill")


def _numeric_classes(x: pd.Series, cmap: str, k: int, scheme: str) -> tuple[pd.Series, list[tuple[str, str]]]:
    import matplotlib
    from matplotlib.colors import to_hex

    valid = x.notna().to_numpy()
    colors = pd.Series("#cccccc", index=x.index)
    legend: list[tuple[str, str]] = []
    if valid.any():
        uniq = np.unique(x[valid])
        kk = int(min(k, len(uniq)))
        if kk <= 1:
            bins = np.array([uniq.max()])
            cls = np.zeros(valid.sum(), dtype=int)
        else:
            import mapclassify

            cl = mapclassify.classify(x[valid].to_numpy(), scheme=scheme, k=kk)
            bins, cls = np.asarray(cl.bins), np.asarray(cl.yb)
        cm = matplotlib.colormaps[cmap]
        pal = [to_hex(cm(0.15 + 0.8 * i / max(len(bins) - 1, 1))) for i in range(len(bins))]
        colors[valid] = [pal[c] for c in cls]
        lo = float(np.nanmin(x))
        for i, b in enumerate(bins):
            legend.append((pal[i], f"{_fmt(lo if i == 0 else bins[i - 1])} – {_fmt(b)}"))
    if (~valid).any():
        legend.append(("#cccccc", _("no data")))
    return colors, legend


def column_colors(values: pd.Series, *, cmap: str = "YlOrRd", k: int = 5,
                  scheme: str = "quantiles") -> tuple[pd.Series, list[tuple[str, str]]]:
    """Colors for a column: classes of a numeric column (mapclassify ``scheme``) or one color
    per category. Returns the colors and the legend ``[(color, label), ...]``.

    Examples
    --------
    >>> import pandas as pd
    >>> colors, legend = column_colors(pd.Series(["school", "basic", "school"]))
    >>> [name for _, name in legend] == [kind_names()["basic"], kind_names()["school"]]
    True
    """
    s = pd.Series(values)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return _numeric_classes(s.astype(float), cmap, k, scheme)
    cats = sorted(s.dropna().astype(str).unique())
    pal = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(cats)}
    colors = s.astype(str).map(pal).where(s.notna(), "#cccccc")
    names = kind_names()
    return colors, [(pal[c], names.get(c, c)) for c in cats[:24]]


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.2f}"


def grid_fills(grids: gpd.GeoDataFrame, color: str | None) -> tuple[pd.Series, list[tuple[str, str]]]:
    """Fill colour of every grid and legend entries: by community (``None``) or by a column.

    Examples
    --------
    >>> fills, legend = grid_fills(grids, None)                       # doctest: +SKIP
    """
    if color is None:
        return community_colors(grids), []
    if color not in grids.columns:
        raise SchemaError(tr("grids: no column {color!r} to color by", color=color),
                          fix=tr("use one of {join}",
                                 join=', '.join(map(str, grids.columns[:12]))))
    return column_colors(grids[color])
