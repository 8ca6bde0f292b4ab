"""Address/event-to-grid assignment: exact, every row accounted for, fast, and able to scale out.

``gridgis.assign(points, grids)`` (:func:`gridgis.assignment.assign`) returns every input row, in its order, with ``grid_code``,
``match``, ``match_reason`` and ``distance_m``:

========== ===============================================================================
match      rule
========== ===============================================================================
inside     the point lies strictly inside a grid (where grids overlap: the smallest code
           among the grids whose interior holds it)
boundary   the point lies exactly on a boundary (shared edge or vertex, or the plan's outer
           edge): among the grids whose closed polygon covers it, the smallest grid code
nearest    outside every grid: the nearest grid within ``max_distance`` metres, measured in a
           metric CRS (ties: the smallest code); ``distance_m`` says how far
unmatched  outside every grid and farther than ``max_distance`` from all of them
invalid    missing/non-numeric/infinite coordinates, 0/0, longitude/latitude out of range or
           apparently swapped, non-point geometry, or more than ``far_outside_m`` outside the
           plan's extent; ``match_reason`` says which
========== ===============================================================================

"Smallest" compares grid codes as text, which for fixed-length numeric codes is numeric order.
All tests are exact in the plan's own CRS (GEOS predicates, or an orientation test with a
proven error bound); nothing is dropped and no row raises.

Entry points: :func:`assign` (in-memory tables, and dask/dask-geopandas dataframes partition by
partition, see ``docs/dask.md``), :func:`assign_file` (files larger than memory, in chunks),
:class:`PlanIndex` (a prepared plan to reuse), :class:`GridIndex` (the raster lookup index).
"""

from __future__ import annotations

import importlib
from typing import Any

from ._status import MATCH_VALUES

# public name -> module: loaded on first use, so that the command line's quick path (which
# needs only the plan index) imports neither pandas nor geopandas
_LAZY = {"find_lonlat": "coordinates", "assign_file": "files", "GridIndex": "index",
         "PlanIndex": "plan_index", "assign": "points", "AssignResult": "result"}

__all__ = ["MATCH_VALUES", "AssignResult", "GridIndex", "PlanIndex", "assign", "assign_file", "find_lonlat"]


_MODULES = {"coordinates", "files", "index", "plan_index", "points", "quick", "result", "scale"}


def __getattr__(name: str) -> Any:
    if name in _MODULES:  # ``gridgis.assignment.files`` after ``import gridgis.assignment``
        return importlib.import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
