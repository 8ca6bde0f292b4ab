"""Hot and cold spots of events: Getis–Ord Gi* whose test includes the focal unit.

Gi* (Getis & Ord 1992; Ord & Getis 1995) compares the sum of a value over a unit and its
neighbours with what a random arrangement of the same values would give. A large positive
z-score marks a cluster of high values (hot spot, 热点), a large negative one a cluster of low
values (cold spot, 冷点). Significance is the two-sided normal-theory p of the z-score by
default, or, with ``permutations > 0``, total permutations of all values including the focal
one (seeded); see :mod:`gridgis.events._gistar` for why not esda's conditional permutations
(they hold the focal value fixed, so one extreme grid is never flagged while its neighbours
are). The classes follow the usual 99 % / 95 % / 90 % confidence bins (ArcGIS' ``Gi_Bin``),
optionally with a false-discovery-rate correction. p-values are float64.

Gi* of raw counts finds where events are *dense*; where people live densely that is mostly
the city centre. For hot spots relative to the households or population exposed, see
:func:`gridgis.events.rate_hotspots`.

Two levels:

:func:`getis_ord`
    Gi* of a per-grid value, e.g. events per 100 households from
    :func:`gridgis.events.grid_stats`: clusters of grids with high (low) rates.
:func:`event_hotspots`
    Gi* of event counts on a regular lattice of square cells (the way incident hot-spot
    analysis is usually done, e.g. ArcGIS' optimized hot-spot analysis): finds compact
    clusters of events that are smaller than a grid or sit in grids without households
    (markets, commercial streets), where a per-household rate is undefined.
    :func:`hotspots_by_grid` then tells, per grid, how much of it lies in hot cells.

Example
-------
>>> from gridgis.events import event_hotspots, getis_ord, grid_stats, hotspots_by_grid
>>> stats = grid_stats(assigned, grids)                         # doctest: +SKIP
>>> hs = getis_ord(stats, "rate_per_100hh", seed=0)             # doctest: +SKIP
>>> cells = event_hotspots(assigned, district)                  # doctest: +SKIP
>>> per_grid = hotspots_by_grid(grids, cells)                   # doctest: +SKIP
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._inputs import as_layer, metric
from ..errors import GridGISError, SchemaError
from ..i18n import _, tr
from ._gistar import HOTSPOT_LABELS, classify, gi_star, hotspot_label, star_matrix
from .points import clip_geometry, to_metric_points

__all__ = [
    "HOTSPOT_LABELS",
    "MIN_GROUP_EVENTS",
    "event_hotspots",
    "event_hotspots_by",
    "getis_ord",
    "hotspot_label",
    "hotspots_by_grid",
    "spatial_weights",
]

#: Fewest events a group (category …) needs for a hot-spot map of its own.
MIN_GROUP_EVENTS = 30


def spatial_weights(
    gdf: gpd.GeoDataFrame, kind: str = "queen", *, k: int = 6, distance: float | None = None
) -> Any:
    """Binary spatial weights between the rows of ``gdf`` (libpysal ``W``, ids = row positions).

    Parameters
    ----------
    kind
        ``"queen"`` (share a boundary point), ``"rook"`` (share an edge), ``"knn"`` (``k``
        nearest centroids) or ``"distance"`` (centroids within ``distance`` metres).
        Contiguity weights attach every island (a grid with no neighbour) to its nearest
        grid, so no grid is left out of the statistic.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from gridgis.events import spatial_weights
    >>> row = gpd.GeoDataFrame(geometry=[shapely.box(i, 0, i + 1, 1) for i in range(4)],
    ...                        crs="EPSG:4547")
    >>> spatial_weights(row, "rook").cardinalities
    {0: 1, 1: 2, 2: 2, 3: 1}
    """
    from libpysal import weights as lw

    if len(gdf) < 3:
        raise GridGISError(tr("need at least 3 grids for hot-spot analysis, got {n_gdf}",
                              n_gdf=len(gdf)))
    geo = gdf.geometry.reset_index(drop=True)
    frame = gpd.GeoDataFrame(geometry=geo, crs=gdf.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind in ("queen", "rook"):
            cls = lw.Queen if kind == "queen" else lw.Rook
            w = cls.from_dataframe(frame, use_index=False, silence_warnings=True)
            if w.islands:
                knn = lw.KNN.from_dataframe(_centroids(frame), k=1, use_index=False)
                w = lw.util.attach_islands(w, knn)
        elif kind == "knn":
            w = lw.KNN.from_dataframe(_centroids(frame), k=min(k, len(frame) - 1), use_index=False)
        elif kind == "distance":
            if not distance:
                raise GridGISError(_("distance weights need distance= (metres)"))
            w = lw.DistanceBand.from_dataframe(
                _centroids(frame), threshold=float(distance), binary=True, silence_warnings=True,
                use_index=False,
            )
        else:
            raise GridGISError(
                tr("unknown weights kind {kind!r}", kind=kind), fix=_("use 'queen', 'rook', 'knn' or 'distance'")
            )
    w.transform = "B"
    return w


def _centroids(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is not None and not frame.crs.is_projected:
        frame = metric(frame)
    return gpd.GeoDataFrame(geometry=frame.geometry.centroid, crs=frame.crs)


def getis_ord(
    grids: gpd.GeoDataFrame,
    value: str = "rate_per_100hh",
    *,
    weights: str | Any = "queen",
    k: int = 6,
    distance: float | None = None,
    permutations: int = 0,
    seed: int = 0,
    alpha: float = 0.05,
    fdr: bool = False,
) -> gpd.GeoDataFrame:
    """Getis–Ord Gi* hot and cold spots of a per-grid value.

    Parameters
    ----------
    grids
        Grid layer with ``value`` (e.g. the result of :func:`gridgis.events.grid_stats`).
        Grids where the value is missing (e.g. a rate of a grid without households) are
        left out of the statistic and come back with ``hotspot = "no data"``.
    value
        Column to analyse (``rate_per_100hh``, ``n_events`` …).
    weights
        ``"queen"`` (default), ``"rook"``, ``"knn"``, ``"distance"`` or a libpysal ``W`` whose
        ids are the row positions of the analysed grids; see :func:`spatial_weights`.
    k, distance
        Parameters of ``"knn"`` / ``"distance"`` weights.
    permutations
        0 (default): two-sided normal-theory p-values; otherwise the number of total
        permutations (all values, the focal one included) for pseudo p-values (999 gives p
        down to 0.002 two-sided).
    seed
        Seed of the permutations (deterministic results).
    alpha
        Significance level of the ``hotspot`` column.
    fdr
        Control the false discovery rate (Benjamini–Hochberg over all grids) instead of
        testing every grid at ``alpha``; ``gi_bin`` then marks only FDR-significant grids.

    Returns
    -------
    geopandas.GeoDataFrame
        ``grids`` with ``gi_z`` (z-score of Gi*), ``gi_p`` (two-sided p-value, float64: the
        permutation p when ``permutations > 0``, else the normal-theory p), ``gi_p_norm``
        (two-sided normal-theory p), ``gi_bin`` (±3/±2/±1 = hot/cold at 99/95/90 % confidence, 0 not significant),
        ``hotspot`` (``"hot"``, ``"cold"``, ``"not significant"``, ``"no data"`` at
        ``alpha``) and ``hotspot_label`` (legend text in the language in use). ``attrs`` holds the
        parameters.

    Examples
    --------
    >>> from gridgis.events import getis_ord, grid_stats
    >>> hs = getis_ord(grid_stats(events, grids), "rate_per_100hh", seed=0)   # doctest: +SKIP
    >>> hs["hotspot"].value_counts()                                          # doctest: +SKIP
    """
    if value not in grids.columns:
        raise SchemaError(tr("grids have no column {value!r}", value=value), fix=_("compute it with "
                                                                   "gridgis.events.grid_stats"))
    y_all = pd.to_numeric(grids[value], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(y_all)
    if ok.sum() < 3:
        raise GridGISError(tr("only {sum} grids have a {value!r} value; need at least 3",
                              sum=int(ok.sum()), value=value))
    sub = grids.loc[ok]
    if isinstance(weights, str):
        w = spatial_weights(sub, weights, k=k, distance=distance)
    else:
        w = weights
        if w.n != int(ok.sum()):
            raise GridGISError(tr("weights cover {n} units, but {sum} grids have values",
                                  n=w.n, sum=int(ok.sum())))
    out = grids.copy()
    n = len(grids)
    z = np.full(n, np.nan)
    p = np.full(n, np.nan)
    pn = np.full(n, np.nan)
    z[ok], p[ok], pn[ok] = gi_star(y_all[ok], w, permutations=permutations, seed=seed)
    classify(out, z, p, pn, ok, alpha=alpha, fdr=fdr)
    out.attrs.update(
        value=value,
        weights=weights if isinstance(weights, str) else "custom",
        permutations=permutations,
        seed=seed,
        alpha=alpha,
        fdr=fdr,
    )
    return out


def _lattice_weights(keep: np.ndarray, nx: int, ny: int, cell: float, distance: float) -> Any:
    """Binary weights between lattice cells whose centres are within ``distance`` (not self)."""
    import scipy.sparse as sp
    from libpysal.weights import WSP

    lookup = np.full(nx * ny, -1, dtype=np.int64)
    lookup[keep] = np.arange(len(keep))
    ii, jj = keep % nx, keep // nx
    r = int(distance // cell)
    rows, cols = [], []
    for dx in range(-r, r + 1):
        for dy in range(-r, r + 1):
            if (dx == 0 and dy == 0) or math.hypot(dx, dy) * cell > distance + 1e-9:
                continue
            i2, j2 = ii + dx, jj + dy
            inside = (i2 >= 0) & (i2 < nx) & (j2 >= 0) & (j2 < ny)
            nb = np.full(len(keep), -1, dtype=np.int64)
            nb[inside] = lookup[j2[inside] * nx + i2[inside]]
            m = nb >= 0
            rows.append(np.flatnonzero(m))
            cols.append(nb[m])
    r_ = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c_ = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    mat = sp.csr_matrix((np.ones(len(r_)), (r_, c_)), shape=(len(keep), len(keep)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = WSP(mat).to_W(silence_warnings=True)
    w.transform = "B"
    return w


def event_hotspots(
    events: gpd.GeoDataFrame,
    area: Any,
    *,
    cell_size: float = 150.0,
    distance: float | None = None,
    weights: str | None = None,
    permutations: int = 0,
    seed: int = 0,
    alpha: float = 0.05,
    fdr: bool = True,
    min_cover: float = 0.25,
    exposure: gpd.GeoDataFrame | None = None,
    exposure_col: str = "households",
) -> gpd.GeoDataFrame:
    """Hot and cold spots of event counts on a square lattice over ``area``.

    Without ``exposure``: Gi* of the counts (where events are dense). With ``exposure`` (the
    grids, or any polygons with a household/population column): each cell expects its share of
    the exposure (spread over each polygon by area) times all events, and the count over the
    cell and its neighbours is tested against ``Poisson`` of the expected count over the same
    cells (:func:`gridgis.events.poisson_excess`): where events are unusually frequent for the
    people who live there, not where people live densely.

    Parameters
    ----------
    events
        Point events (rows with ``status == "invalid"`` or without a point are ignored; their
        number is in ``attrs["skipped"]``).
    area
        Polygon layer (district, or the grids) or shapely geometry in the events' metric CRS;
        cells covering at least ``min_cover`` of their area with it are analysed.
    cell_size
        Lattice cell edge in metres.
    distance
        Neighbourhood radius in metres (cell centres within it are neighbours); default
        2.5 × ``cell_size`` (the 20 nearest cells).
    weights
        Optional column of per-event weights (default: each event counts 1).
    permutations, seed, alpha, fdr
        0 (default): normal-theory p-values; otherwise the number of total permutations and
        their seed (see :func:`getis_ord`); significance level; Benjamini–Hochberg false
        discovery rate control across cells (default on, as in optimized hot-spot analysis).
        With permutations the smallest p is 2/(permutations + 1), so FDR over many cells
        needs many permutations; the analytical p has no such floor.
    min_cover
        Smallest share of a cell that must lie inside ``area``.
    exposure, exposure_col
        Polygons and their exposure column for rate hot spots (``attrs["method"]`` is then
        ``"poisson"``, else ``"gi*"``); ``permutations`` is not used then.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per analysed cell (metric CRS): ``cell_id``, ``col``, ``row`` (from the
        south-west), ``n_events`` (weighted count), ``gi_z``, ``gi_p``, ``gi_p_norm``,
        ``gi_bin``, ``hotspot``, ``hotspot_label`` and the cell square as geometry.

    Examples
    --------
    >>> from gridgis.events import event_hotspots
    >>> cells = event_hotspots(events, district, cell_size=150, seed=0)      # doctest: +SKIP
    >>> cells.loc[cells["hotspot"] == "hot", ["cell_id", "n_events", "gi_z"]]  # doctest: +SKIP
    """
    if cell_size <= 0:
        raise GridGISError(tr("cell_size must be positive, got {cell_size}",
                              cell_size=cell_size))
    ev = events
    if "status" in ev.columns:
        ev = ev.loc[(ev["status"] != "invalid").to_numpy()]
    crs = None
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries) and area.crs is not None and area.crs.is_projected:
        crs = area.crs
    x, y, w, mcrs = to_metric_points(ev, crs=crs, weights=weights)
    geom = clip_geometry(area, mcrs)
    if geom is None:
        raise GridGISError(_("event_hotspots needs an area (district or grids)"))
    xmin, ymin, xmax, ymax = geom.bounds
    nx = max(1, int(math.ceil((xmax - xmin) / cell_size)))
    ny = max(1, int(math.ceil((ymax - ymin) / cell_size)))
    ci = np.floor((x - xmin) / cell_size).astype(np.int64)
    cj = np.floor((y - ymin) / cell_size).astype(np.int64)
    inside = (ci >= 0) & (ci < nx) & (cj >= 0) & (cj < ny)
    counts = np.bincount(cj[inside] * nx + ci[inside], weights=None if w is None else w[inside],
                         minlength=nx * ny).astype(float)
    gx = xmin + np.arange(nx) * cell_size
    gy = ymin + np.arange(ny) * cell_size
    boxes = shapely.box(gx[None, :], gy[:, None], gx[None, :] + cell_size, gy[:, None] + cell_size).ravel()
    shapely.prepare(geom)
    cover = np.zeros(nx * ny)
    touching = shapely.intersects(geom, boxes)
    cover[touching] = shapely.area(shapely.intersection(boxes[touching], geom)) / cell_size**2
    keep = np.flatnonzero(cover >= min_cover)
    if len(keep) < 3:
        raise GridGISError(tr("only {n_keep} lattice cells in the area", n_keep=len(keep)), fix=_("use a smaller cell_size"))
    dist = float(distance) if distance else 2.5 * cell_size
    wts = _lattice_weights(keep, nx, ny, cell_size, dist)
    yv = counts[keep]
    n = len(keep)
    dispersion = None
    if exposure is None:
        z, p, pn = gi_star(yv, wts, permutations=permutations, seed=seed)
    else:
        z, p, dispersion = _exposure_test(yv, wts, _cell_exposure(boxes[keep], exposure, exposure_col, mcrs))
        pn = p.copy()
    out = gpd.GeoDataFrame(
        {"cell_id": keep, "col": keep % nx, "row": keep // nx, "n_events": yv},
        geometry=boxes[keep], crs=mcrs,
    )
    classify(out, np.asarray(z, float), np.asarray(p, float), np.asarray(pn, float),
              np.ones(n, dtype=bool), alpha=alpha, fdr=fdr)
    out.attrs.update(
        cell_size=float(cell_size), distance=dist, permutations=permutations, seed=seed,
        method="gi*" if exposure is None else "poisson", exposure=None if exposure is None else exposure_col,
        dispersion=dispersion,
        alpha=alpha, fdr=fdr, n_events=int(len(x)), outside=int((~inside).sum()),
        skipped=int(len(events) - len(x)),
    )
    return out


def _exposure_test(counts: np.ndarray, wts: Any, exposure: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Counts of each cell and its neighbours against their share of the exposure."""
    from .rates import overdispersion, poisson_excess

    star = star_matrix(wts)
    expected = exposure * counts.sum() / max(exposure.sum(), 1e-12)
    dispersion = overdispersion(star @ counts, star @ expected)
    z, p = poisson_excess(counts, expected, star, dispersion=dispersion)
    return z, p, dispersion


def _cell_exposure(cells: np.ndarray, polygons: gpd.GeoDataFrame, column: str, crs: Any) -> np.ndarray:
    """Exposure of each cell: every polygon's ``column`` spread over its area."""
    if column not in polygons.columns:
        raise SchemaError(tr("exposure layer has no column {column!r}", column=column), source="exposure",
                          fix=_("give the grids with households, or name the column with exposure_col"))
    poly = polygons.to_crs(crs) if not polygons.crs.equals(crs) else polygons
    value = pd.to_numeric(poly[column], errors="coerce").fillna(0).clip(lower=0).to_numpy(dtype=float)
    geoms = poly.geometry.values
    ci, gi = shapely.STRtree(cells).query(geoms, predicate="intersects")[::-1]
    share = shapely.area(shapely.intersection(cells[ci], geoms[gi])) / np.maximum(shapely.area(geoms[gi]), 1e-9)
    out = np.zeros(len(cells))
    np.add.at(out, ci, share * value[gi])
    return out


def event_hotspots_by(
    events: gpd.GeoDataFrame,
    area: Any,
    by: str = "category",
    *,
    min_events: int = MIN_GROUP_EVENTS,
    **kwargs: Any,
) -> gpd.GeoDataFrame:
    """:func:`event_hotspots` for each group of events (e.g. each category), stacked.

    Clusters of one kind of event (street vending around a market, noise around a night
    market) stand out against that kind's own background, where in all events together they
    drown in the general density of the city centre.

    Parameters
    ----------
    by
        Column to group by (``"category"``, ``"urgency"`` …).
    min_events
        Groups with fewer usable events are skipped (listed in ``attrs["skipped_groups"]``).
    **kwargs
        Passed to :func:`event_hotspots` (cell size, distance, permutations, seed, fdr …).

    Returns
    -------
    geopandas.GeoDataFrame
        The lattice rows of every group with a ``group`` column; ``attrs["groups"]`` gives
        each group's number of events and hot cells.

    Examples
    --------
    >>> from gridgis.events import event_hotspots_by
    >>> by_cat = event_hotspots_by(events, district, "category", seed=0)     # doctest: +SKIP
    >>> by_cat.attrs["groups"]                                               # doctest: +SKIP
    """
    if by not in events.columns:
        raise SchemaError(tr("events have no column {by!r}", by=by))
    ev = events
    if "status" in ev.columns:
        ev = ev.loc[(ev["status"] != "invalid").to_numpy()]
    labels = ev[by].astype("string").fillna(_("unknown"))
    parts, groups, skipped = [], {}, []
    for name in sorted(labels.unique()):
        sub = ev.loc[(labels == name).to_numpy()]
        if len(sub) < min_events:
            skipped.append(str(name))
            continue
        cells = event_hotspots(sub, area, **kwargs)
        cells.insert(0, "group", str(name))
        groups[str(name)] = {"events": int(len(sub)), "hot_cells": int((cells["hotspot"] == "hot").sum())}
        parts.append(cells)
    if not parts:
        raise GridGISError(tr("no {by} group has {min_events} or more events",
                              by=by, min_events=min_events))
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    out.attrs.update(parts[0].attrs)
    out.attrs.update(by=by, groups=groups, skipped_groups=skipped)
    return out


def hotspots_by_grid(grids: gpd.GeoDataFrame, cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Per grid, how much of it lies in significant hot cells of :func:`event_hotspots`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``grids`` with ``hot_cells`` (hot cells whose centre is in the grid), ``hot_share``
        (share of the grid's area covered by hot cells), ``hot_events`` (events in the hot
        cells counted in ``hot_cells``) and ``hot_level`` (highest ``gi_bin`` of those cells:
        3 = 99 %, 2 = 95 %, 1 = 90 %, 0 none).

    Examples
    --------
    >>> from gridgis.events import event_hotspots, hotspots_by_grid
    >>> per_grid = hotspots_by_grid(grids, event_hotspots(events, district))  # doctest: +SKIP
    >>> per_grid.sort_values("hot_share", ascending=False).head()             # doctest: +SKIP
    """
    for layer, name in ((grids, "grids"), (cells, "cells")):
        as_layer(layer, name, missing="keep", allow_empty=True, normalize=False)
    g = grids.to_crs(cells.crs) if not grids.crs.equals(cells.crs) else grids
    hot = cells.loc[(cells["hotspot"] == "hot").to_numpy()]
    out = grids.copy()
    n = len(g)
    hot_cells = np.zeros(n, dtype=int)
    hot_events = np.zeros(n)
    share = np.zeros(n)
    level = np.zeros(n, dtype=int)
    if len(hot):
        garr = g.geometry.values
        tree = shapely.STRtree(garr)
        cen = shapely.centroid(hot.geometry.values)
        ci, gi = tree.query(cen, predicate="within")
        np.add.at(hot_cells, gi, 1)
        np.add.at(hot_events, gi, hot["n_events"].to_numpy()[ci])
        hi, gj = tree.query(hot.geometry.values, predicate="intersects")
        inter = shapely.area(shapely.intersection(hot.geometry.values[hi], garr[gj]))
        keep = inter > 0
        area = np.zeros(n)
        np.add.at(area, gj[keep], inter[keep])
        share = area / np.maximum(shapely.area(garr), 1e-9)
        np.maximum.at(level, gi, hot["gi_bin"].to_numpy()[ci])
    out["hot_cells"] = hot_cells
    out["hot_share"] = np.clip(share, 0, 1)
    out["hot_events"] = hot_events
    out["hot_level"] = level
    return out
