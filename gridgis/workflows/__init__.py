"""Workflows: whole jobs built from the operations and the renderers.

- :func:`run_demo`: the main job on the bundled sample district (``gridgis demo``);
- :func:`build_report`: the PDF/HTML report bundle of a plan (``gridgis report``);
- :func:`bulletin`: the monthly bulletin (通报) of event handling, ranked per street,
  community and department (Excel and a report section);
- :func:`write_event_outputs`: the event maps, statistics, hot spots, trend and animation of a
  district (``gridgis heatmap``).

Messages go to the ``gridgis.workflows.*`` loggers; nothing is printed.

Example
-------
>>> from gridgis.workflows import run_demo
>>> written = run_demo("demo_output")            # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> submodule; imported on first use, so that a verb that only needs the readers
# (``gridgis assign``) does not load the report, the demo and the event maps
_LAZY = {
    "Bulletin": "bulletins",
    "bulletin": "bulletins",
    "bulletin_section": "bulletins",
    "write_bulletin_excel": "bulletins",
    "ReportBundle": "report",
    "build_report": "report",
    "community_table": "report",
    "grid_summary": "demo",
    "run_demo": "demo",
    "sample_summary": "demo",
    "write_event_outputs": "event_outputs",
}

__all__ = [
    "Bulletin",
    "ReportBundle",
    "bulletin",
    "bulletin_section",
    "write_bulletin_excel",
    "build_report",
    "community_table",
    "grid_summary",
    "run_demo",
    "sample_summary",
    "write_event_outputs",
]

if TYPE_CHECKING:
    from .bulletins import Bulletin, bulletin, bulletin_section, write_bulletin_excel
    from .demo import grid_summary, run_demo, sample_summary
    from .event_outputs import write_event_outputs
    from .report import ReportBundle, build_report, community_table


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
