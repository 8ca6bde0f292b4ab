"""gridgis: build, validate, code, assign and render management grids (网格化服务管理).

The most used functions are available at the top level and imported lazily, so that
``import gridgis`` stays fast and light::

    import gridgis
    layers = gridgis.load_sample()
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from .errors import GridGISError
from .i18n import get_language, set_language
from .rules import Rules, load_rules

__version__ = "0.1.0"

# Library code logs to the "gridgis" loggers and stays quiet unless the application (the CLI, a
# notebook) configures logging.
logging.getLogger("gridgis").addHandler(logging.NullHandler())

# public name -> "module:attribute"
_LAZY = {
    "load_sample": "gridgis.samples:load_sample",
    "generate_district": "gridgis.samples:generate_district",
    "build_grids": "gridgis.partition:build_grids",
    "validate": "gridgis.validation:validate",
    "repair": "gridgis.repairs:repair",
    "assign": "gridgis.assignment:assign",
    "assign_file": "gridgis.assignment:assign_file",
    "assign_codes": "gridgis.codes:assign_codes",
    "recode": "gridgis.codes:recode",
    "recode_table": "gridgis.codes:recode_table",
    "Plan": "gridgis.plan:Plan",
    "read_plan": "gridgis.versions:read_plan",
    "save_version": "gridgis.versions:save_version",
    "grid_map_25d": "gridgis.render:grid_map_25d",
    "build_report": "gridgis.workflows:build_report",
    "run_demo": "gridgis.workflows:run_demo",
    "read_vector": "gridgis.io:read_vector",
    "read_points": "gridgis.io:read_points",
    "read_table": "gridgis.io:read_table",
}

__all__ = ["GridGISError", "Rules", "get_language", "load_rules", "set_language", "__version__",
           *_LAZY]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'gridgis' has no attribute {name!r}")
    module, attr = target.split(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
