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

from .bulletin import Bulletin, bulletin, bulletin_section, write_bulletin_excel
from .demo import grid_summary, run_demo, sample_summary
from .event_outputs import write_event_outputs
from .report import ReportBundle, build_report, community_table

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
