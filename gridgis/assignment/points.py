"""Assign address and event points to the grids of a plan (the in-memory path): :func:`assign`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import schema
from ..errors import SchemaError
from ..i18n import _, tr
from ..rules import Rules
from .coordinates import extract_xy
from .plan_index import Assigned, PlanIndex
from .result import AssignResult, per_grid_series, status_series

__all__ = ["assign", "assign_frame"]

def _chunks(n: int, chunk_size: int | None) -> Iterator[slice]:
    step = n if not chunk_size or chunk_size >= n else int(chunk_size)
    for start in range(0, max(n, 1), max(step, 1)):
        yield slice(start, min(start + step, n))


def assign_frame(
    points: pd.DataFrame,
    plan: PlanIndex,
    *,
    crs: Any = None,
    lon: Any = None,
    lat: Any = None,
    chunk_size: int | None = None,
    progress: bool = False,
    coords: tuple | None = None,
    pool: ThreadPoolExecutor | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Assign one in-memory table; return the output table and the per-grid / status counts.

    ``coords`` may carry the result of :func:`extract_xy` when it was computed already.

    Examples
    --------
    >>> plan = PlanIndex(grids)                                     # doctest: +SKIP
    >>> table, per_grid, per_status = assign_frame(points, plan)  # doctest: +SKIP
    """
    x, y, src, pre = coords if coords is not None else extract_xy(points, crs, lon=lon, lat=lat)
    n = len(points)
    parts: list[Assigned] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="pt", desc=_("assign points"))
    for sl in _chunks(n, chunk_size):
        if pool is not None and sl.stop - sl.start >= 200_000:
            # two halves on two threads (numpy and pyproj release the GIL; the GEOS tests and
            # lazy caches take a lock)
            h = (sl.start + sl.stop) // 2
            other = pool.submit(plan.assign_xy, x[h:sl.stop], y[h:sl.stop], src, pre[h:sl.stop])
            parts.append(plan.assign_xy(x[sl.start:h], y[sl.start:h], src, pre[sl.start:h]))
            parts.append(other.result())
        else:
            parts.append(plan.assign_xy(x[sl], y[sl], src, pre[sl]))
        if bar is not None:
            bar.update(sl.stop - sl.start)
    if bar is not None:
        bar.close()
    a = parts[0] if len(parts) == 1 else Assigned(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in ("grid", "match", "reason", "distance"))
    )
    codes = plan.category_codes(a)
    out = points.copy(deep=False)
    for name, values in plan.columns(a, codes).items():
        out[name] = values
    per, st = plan.counts(a, codes)
    return out, per, st


class _NoPool:
    """Stand-in for a thread pool on small inputs: ``with _NoPool() as pool`` gives ``None``."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _is_dask(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] in {"dask", "dask_geopandas", "dask_expr"} and hasattr(
        obj, "npartitions"
    )


def assign(
    points: pd.DataFrame | gpd.GeoDataFrame | Any,
    grids: gpd.GeoDataFrame | PlanIndex,
    *,
    crs: Any = None,
    code_column: str = schema.GRID_CODE,
    max_distance: float | None = None,
    rules: Rules | str | dict | None = None,
    chunk_size: int | None = None,
    progress: bool = False,
    lon: Any = None,
    lat: Any = None,
) -> AssignResult:
    """Assign every address/event point to one grid of a plan.

    Rules (exact, deterministic, in the plan's own CRS):

    * a point strictly inside a grid gets that grid (``match="inside"``);
    * a point exactly on a boundary (a shared edge or vertex, or the plan's outer edge) gets,
      among the grids whose closed polygon covers it, the one whose code sorts first
      (``"boundary"``); where grids overlap, the smallest code among those holding the point;
    * a point outside every grid gets the nearest grid within ``max_distance`` metres, measured in
      a metric CRS (``"nearest"``, with ``distance_m``), else none (``"unmatched"``);
    * missing, non-numeric or infinite coordinates, 0/0 placeholders, longitude/latitude out of
      range or apparently swapped, non-point geometries, and points more than
      ``rules.assign.far_outside_m`` outside the plan's extent are ``"invalid"`` with a reason.

    No row is dropped or reordered and no row raises: problems are reported in ``match`` and
    ``match_reason``.

    Parameters
    ----------
    points
        GeoDataFrame of points, or a table with longitude/latitude under any alias (经度/纬度,
        lng/lat, x/y …), or a dask(-geopandas) dataframe of either (processed per partition).
    grids
        The plan (GeoDataFrame with grid codes and an explicit CRS) or a :class:`PlanIndex`
        built from it (to reuse the index across calls).
    crs
        CRS of the point coordinates: any pyproj CRS (``"EPSG:4326"``, CGCS2000 ``"EPSG:4490"``,
        a Gauss-Krüger zone …) or ``"GCJ02"`` (Amap/Tencent) / ``"BD09"`` (Baidu). Defaults to
        the GeoDataFrame's CRS, or WGS84 for lon/lat tables.
    code_column
        Column of ``grids`` holding the grid code; the output column gets the same name. An
        existing column of that name in ``points`` is replaced (as are ``match``,
        ``match_reason`` and ``distance_m``).
    max_distance
        Metres for the nearest-grid rule (default ``rules.assign.max_distance_m``; 0 disables).
    rules
        Rules file, mapping or :class:`~gridgis.rules.Rules`.
    chunk_size
        Process the points in slices of this many rows (bounds the temporary memory).
    progress
        Show a progress bar.
    lon, lat
        Column names of the coordinates when the headers are not recognised.

    Returns
    -------
    AssignResult
        ``.table`` (the rows with ``grid_code`` – categorical over the plan's codes –, ``match``,
        ``match_reason``, ``distance_m``), ``.per_grid`` and ``.status_counts``.

    Raises
    ------
    SchemaError, CRSError, GeometryError
        Only for problems of the whole input (no coordinate columns, no CRS, a bad plan).

    Examples
    --------
    >>> res = gridgis.assign(addresses, grids)                 # doctest: +SKIP
    >>> res.status_counts                                      # doctest: +SKIP
    >>> res = gridgis.assign(events_df, grids, crs="GCJ02")    # Amap coordinates # doctest: +SKIP
    """
    if isinstance(grids, PlanIndex):
        plan = grids
        if code_column != plan.code_column and code_column != schema.GRID_CODE:
            raise SchemaError(
                tr("code_column={code_column!r} differs from the PlanIndex's {code_column2!r}",
                   code_column=code_column, code_column2=plan.code_column)
            )
        if max_distance is not None or rules is not None:
            raise SchemaError(
                _("max_distance/rules are fixed when the PlanIndex is built"),
                fix=_("pass them to PlanIndex(grids, max_distance=..., rules=...)"),
            )
    else:
        plan = PlanIndex(grids, code_column=code_column, max_distance=max_distance, rules=rules)
    if _is_dask(points):
        from .scale import assign_dask

        return assign_dask(points, plan, crs=crs, lon=lon, lat=lat)
    n = len(points)
    threads = n >= 100_000 and (os.cpu_count() or 1) > 1
    with ThreadPoolExecutor(max_workers=2) if threads else _NoPool() as pool:
        coords = None
        if not plan.built:
            # size the raster to the work (a small table does not need a fine index), and build
            # it on a second thread while the coordinates are read out of the table
            cells = plan.cells or int(
                np.clip(min(500 * max(plan.n_grids, 1), 4 * max(n, 1)), 2**14, 2**22)
            )
            if pool is not None:
                building = pool.submit(plan.build, cells)
                try:
                    coords = extract_xy(points, crs, lon=lon, lat=lat, pool=pool)
                finally:
                    building.result()
            else:
                plan.build(cells)
        table, per, st = assign_frame(
            points, plan, crs=crs, lon=lon, lat=lat, chunk_size=chunk_size, progress=progress,
            coords=coords, pool=pool,
        )
    return AssignResult(
        table=table, _per_grid=per_grid_series(plan, per), _status_counts=status_series(st),
        plan=plan,
    )

