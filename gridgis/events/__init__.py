"""Events reported by grid workers: records, deadlines, statistics, density and hot spots.

- :mod:`~gridgis.events.records`: :func:`load` and :func:`clean` office event tables
  (every row kept, with ``status`` and ``problem``), label normalisation;
- :mod:`~gridgis.events.times`: :func:`parse_times` for the date-time formats of exports;
- :mod:`~gridgis.events.deadlines`: :func:`deadlines` by urgency and category (on site, solved);
- :mod:`~gridgis.events.indicators`: :func:`event_indicators` (通报 figures by grid, community,
  street, department and month/quarter/year);
- :mod:`~gridgis.events.workdays`: Chinese working days (holidays, 调休);
- :mod:`~gridgis.events.stats`: :func:`grid_stats`, :func:`trend`, :func:`period_index`,
  :func:`attach_grid_codes`;
- :mod:`~gridgis.events.density`: kernel density :func:`kde` / :func:`kde_frames` giving a
  :class:`Raster` (:mod:`~gridgis.events.raster`);
- :mod:`~gridgis.events.hotspots`: Getis–Ord Gi* hot and cold spots (density);
- :mod:`~gridgis.events.rates`: :func:`rate_hotspots`, hot spots relative to households or
  population (Poisson excess, empirical-Bayes rates).

Example
-------
>>> from gridgis import events
>>> ev = events.load("事件台账.xlsx")                       # doctest: +SKIP
>>> ev["status"].value_counts()                           # doctest: +SKIP
>>> stats = events.grid_stats(events.attach_grid_codes(ev, grids), grids)   # doctest: +SKIP
>>> raster = events.kde(ev, bandwidth=300, clip=district)                   # doctest: +SKIP
"""

from .deadlines import category_rule_names, deadline_arrays, deadlines
from .density import KERNELS, kde, kde_frames, kernel_constant, kernel_profile
from .hotspots import (
    HOTSPOT_LABELS,
    MIN_GROUP_EVENTS,
    event_hotspots,
    event_hotspots_by,
    getis_ord,
    hotspot_label,
    hotspots_by_grid,
    spatial_weights,
)
from .indicators import INDICATORS, STAGE_SPANS, attach_units, event_indicators, group_medians
from .points import clip_geometry, to_metric_points
from .raster import Raster
from .rates import eb_rates, overdispersion, poisson_excess, rate_hotspots
from .records import (
    INVALID,
    LEVEL_ALIASES,
    OK,
    PROBLEM,
    SATISFACTION_ALIASES,
    SOURCE_ROW,
    STAGE_ALIASES,
    STAGE_TIMES,
    STATUS,
    UNCATEGORISED,
    URGENCY_ALIASES,
    WARNING,
    clean,
    load,
    normalize_category,
    normalize_stage,
    normalize_urgency,
)
from .stats import attach_grid_codes, grid_stats, grid_stats_file, period_index, trend
from .times import parse_times
from .workdays import CalendarWarning, add_working_days, calendar_years, is_working_day

__all__ = [
    "INDICATORS",
    "STAGE_SPANS",
    "attach_units",
    "event_indicators",
    "group_medians",
    "CalendarWarning",
    "add_working_days",
    "calendar_years",
    "category_rule_names",
    "deadline_arrays",
    "is_working_day",
    "eb_rates",
    "overdispersion",
    "poisson_excess",
    "rate_hotspots",
    "HOTSPOT_LABELS",
    "hotspot_label",
    "INVALID",
    "LEVEL_ALIASES",
    "SATISFACTION_ALIASES",
    "STAGE_TIMES",
    "KERNELS",
    "MIN_GROUP_EVENTS",
    "OK",
    "PROBLEM",
    "Raster",
    "SOURCE_ROW",
    "STAGE_ALIASES",
    "STATUS",
    "UNCATEGORISED",
    "URGENCY_ALIASES",
    "WARNING",
    "attach_grid_codes",
    "clean",
    "clip_geometry",
    "deadlines",
    "event_hotspots",
    "event_hotspots_by",
    "getis_ord",
    "grid_stats",
    "grid_stats_file",
    "hotspots_by_grid",
    "kde",
    "kde_frames",
    "kernel_constant",
    "kernel_profile",
    "load",
    "normalize_category",
    "normalize_stage",
    "normalize_urgency",
    "parse_times",
    "period_index",
    "spatial_weights",
    "to_metric_points",
    "trend",
]
