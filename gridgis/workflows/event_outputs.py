"""The event outputs of a district: maps, per-grid statistics, hot spots, trend, animation.

Used by ``gridgis heatmap`` and by the demo (:func:`gridgis.workflows.run_demo`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .. import schema
from ..events import (
    MIN_GROUP_EVENTS,
    attach_grid_codes,
    clean,
    event_hotspots,
    event_hotspots_by,
    grid_stats,
    hotspots_by_grid,
    kde,
    rate_hotspots,
    trend,
)
from ..i18n import tr
from ..io import write_gpkg, write_table
from ..people import for_people
from ..render import (
    animated_heatmap_html,
    heatmap_map,
    save_grid_event_map,
    save_heatmap,
    save_hotspot_map,
    save_hotspots_by_group,
)

__all__ = ["write_event_outputs"]


def write_event_outputs(
    events: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    out_dir: str | Path,
    *,
    district: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    planted: gpd.GeoDataFrame | None = None,
    rules: Any = None,
    bandwidth: float = 300.0,
    cell_size: float | None = None,
    hotspot_cell: float = 150.0,
    freq: str = "W",
    seed: int = 0,
    permutations: int = 0,
    html_outputs: bool = True,
    prefix: str = "events",
    period: tuple[Any, Any] = (None, None),
) -> dict[str, Path]:
    """Write the event outputs of a district into ``out_dir``.

    Files (``<prefix>`` defaults to ``events``):

    - ``_heatmap.png``: kernel density over grid, community and district outlines;
    - ``_by_grid.png``: events per 100 households of every grid;
    - ``_hotspots.png``: dense event clusters, Gi* of counts on a ``hotspot_cell`` m lattice
      (FDR-corrected), with ``planted``/known problem areas dashed;
    - ``_hotspots_by_category.png``: the same per event category (small multiples);
    - ``_grid_hotspots.png``: hot spots relative to households (:func:`~gridgis.events.rate_hotspots`);
    - ``_by_grid.csv``: per-grid statistics, expected counts, rate and lattice hot-spot columns;
    - ``_bulletin.xlsx``: the monthly bulletin (通报) for ``period`` (default: last whole month);
    - ``_hotspots.gpkg``: layers ``cells`` (lattice Gi*), ``cells_by_category`` and ``grids``
      (per-grid table);
    - ``_trend.csv``: weekly and monthly counts by category;
    - ``_heatmap_animated.html``: offline time animation (day/week/month, filters);
    - ``_heatmap.html``: offline interactive map.

    Events without a ``grid_code`` are assigned to ``grids`` first; events that are not yet
    cleaned (no ``status`` column) go through :func:`gridgis.events.clean`.

    Returns
    -------
    dict
        Output name → path.

    Examples
    --------
    >>> import gridgis
    >>> from gridgis.workflows import write_event_outputs
    >>> layers = gridgis.load_sample()                                   # doctest: +SKIP
    >>> files = write_event_outputs(events, grids, "event_maps",
    ...                             district=layers["district"])         # doctest: +SKIP
    >>> files["heatmap_png"]                                             # doctest: +SKIP
    PosixPath('event_maps/events_heatmap.png')
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ev = events if "status" in events.columns else clean(events)
    if schema.GRID_CODE not in ev.columns:
        ev = attach_grid_codes(ev, grids)
    clip = district if district is not None else grids
    written: dict[str, Path] = {}
    valid = ev.loc[(ev["status"] != "invalid").to_numpy()]
    raster = kde(valid, bandwidth=bandwidth, cell_size=cell_size, clip=clip)
    period = pd.to_datetime(valid[schema.REPORTED_AT], errors="coerce")
    span = (tr("{start} to {end}", start=f"{period.min():%Y-%m-%d}", end=f"{period.max():%Y-%m-%d}")
            if period.notna().any() else "")
    written["heatmap_png"] = save_heatmap(
        raster, out / f"{prefix}_heatmap.png", grids=grids, communities=communities, district=district,
        title=tr("Event heatmap {span}", span=span).strip(),
    )
    stats = grid_stats(ev, grids, rules=rules)
    written["by_grid_png"] = save_grid_event_map(
        stats, out / f"{prefix}_by_grid.png", communities=communities, district=district,
        title=tr("Events per 100 households by grid {span}", span=span).strip(),
    )
    cells = event_hotspots(valid, clip, cell_size=hotspot_cell, permutations=permutations, seed=seed)
    written["hotspots_png"] = save_hotspot_map(
        cells, out / f"{prefix}_hotspots.png", grids=grids, communities=communities, district=district,
        planted=planted,
    )
    if communities is not None and len(valid):
        written["bulletin_xlsx"] = _write_bulletin(ev, grids, communities, streets, period, rules,
                                                   out / f"{prefix}_bulletin.xlsx")
    by_cat = None
    sizes = valid[schema.CATEGORY].value_counts()
    # a map per category only for categories large enough; the all-events outputs are always made
    if len(sizes) > 1 and (sizes >= MIN_GROUP_EVENTS).any():
        by_cat = event_hotspots_by(valid, clip, schema.CATEGORY, cell_size=hotspot_cell,
                                   permutations=permutations, seed=seed)
        written["hotspots_by_category_png"] = save_hotspots_by_group(
            by_cat, out / f"{prefix}_hotspots_by_category.png", grids=grids, district=district,
            planted=planted,
        )
    table = hotspots_by_grid(stats, cells)
    if (pd.to_numeric(stats.get(schema.HOUSEHOLDS, pd.Series()), errors="coerce") > 0).sum() >= 3:
        table = rate_hotspots(table, "n_events", schema.HOUSEHOLDS)
        written["grid_hotspots_png"] = save_hotspot_map(
            table, out / f"{prefix}_grid_hotspots.png", communities=communities, district=district,
            planted=planted,
        )
    csv_path = out / f"{prefix}_by_grid.csv"
    write_table(for_people(pd.DataFrame(table.drop(columns=table.geometry.name))), csv_path)
    written["by_grid_csv"] = csv_path
    layers = {"cells": cells, "grids": table}
    if by_cat is not None:
        layers["cells_by_category"] = by_cat
    written["hotspots_gpkg"] = write_gpkg(layers, out / f"{prefix}_hotspots.gpkg")
    written["trend_csv"] = _write_trend(valid, out / f"{prefix}_trend.csv")
    if html_outputs:
        written["animated_html"] = animated_heatmap_html(
            ev, out / f"{prefix}_heatmap_animated.html", grids=grids, communities=communities,
            district=district, bandwidth=bandwidth, freq=freq,
        )
        heatmap_map(raster, grids=table, district=district, path=out / f"{prefix}_heatmap.html")
        written["heatmap_html"] = out / f"{prefix}_heatmap.html"
    return written


def _write_bulletin(ev: pd.DataFrame, grids: gpd.GeoDataFrame, communities: Any, streets: Any,
                    period: tuple[Any, Any], rules: Any, path: Path) -> Path:
    """The monthly bulletin of the events as a workbook."""
    from .bulletins import bulletin, write_bulletin_excel

    b = bulletin(ev, grids, communities=communities, streets=streets, start=period[0], end=period[1],
                 rules=rules)
    return write_bulletin_excel(b, path)


def _write_trend(events: pd.DataFrame, path: Path) -> Path:
    """Weekly and monthly event counts by category, stacked in one CSV (``freq`` column)."""
    trends = []
    for f in ("W", "M"):
        t = trend(events, freq=f, by=schema.CATEGORY)
        t.insert(0, "freq", f)
        t.index = t.index.astype(str)
        trends.append(t)
    write_table(for_people(pd.concat(trends).fillna(0).reset_index()), path)
    return path
