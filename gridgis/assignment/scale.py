"""Assignment of dask(-geopandas) dataframes: one task per partition, same rules, same result.

The prepared plan (:class:`~gridgis.assignment.PlanIndex`, with its lookup index built once on
the client) travels to the workers as a single shared graph dependency, so every worker
receives it once rather than once per partition. Each partition is assigned exactly as
:func:`gridgis.assignment.assign` assigns an in-memory table, so the concatenated result equals the
single-machine result row for row. See ``docs/dask.md`` for running it on a cluster.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .plan_index import PlanIndex
from .points import assign_frame
from .result import AssignResult

__all__ = ["assign_dask"]


def _assign_partition(part: pd.DataFrame, plan: PlanIndex, crs: Any, lon: Any, lat: Any) -> pd.DataFrame:
    table, _, _ = assign_frame(part, plan, crs=crs, lon=lon, lat=lat)
    return table


def assign_dask(
    points: Any,
    plan: PlanIndex,
    *,
    crs: Any = None,
    lon: Any = None,
    lat: Any = None,
) -> AssignResult:
    """Assign a dask or dask-geopandas dataframe lazily, partition by partition.

    Returns an :class:`AssignResult` whose ``table`` is lazy (write it with
    ``result.table.to_parquet(...)`` or call ``result.compute()``); ``per_grid`` and
    ``status_counts`` are computed on first access.

    Examples
    --------
    >>> import dask_geopandas                                        # doctest: +SKIP
    >>> lazy = assign_dask(dask_geopandas.from_geopandas(points, 4), PlanIndex(grids))  # doctest: +SKIP
    >>> lazy.compute().status_counts                                 # doctest: +SKIP
    """
    import dask

    if not plan.built:
        plan.build()
    meta = _assign_partition(points._meta, plan, crs, lon, lat)
    shared = dask.delayed(plan, pure=True, traverse=False)
    table = points.map_partitions(_assign_partition, shared, crs, lon, lat, meta=meta)
    return AssignResult(table=table, plan=plan)
