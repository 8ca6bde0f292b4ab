"""Address/event-to-grid assignment: exact, every row accounted for, fast, and able to scale out.

``gridgis.assign.assign(points, grids)`` gives every row a grid code and a match status (see
:func:`gridgis.assign.core.assign` for the rules); :func:`assign_file` streams files larger than
memory in chunks; a dask(-geopandas) dataframe passed to :func:`assign` is processed partition by
partition (docs/dask.md). :class:`PlanIndex` holds a prepared plan for reuse.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .core import MATCH_VALUES, AssignResult, PlanIndex, assign, find_lonlat
from .files import assign_file
from .index import GridIndex

__all__ = ["MATCH_VALUES", "AssignResult", "GridIndex", "PlanIndex", "assign", "assign_file", "find_lonlat"]


class _CallableModule(types.ModuleType):
    """``gridgis.assign`` is both this package and the function: ``gridgis.assign(points, grids)``
    keeps working after ``import gridgis.assign`` has bound the package to that name."""

    def __call__(self, *args: Any, **kwargs: Any) -> AssignResult:
        return assign(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
