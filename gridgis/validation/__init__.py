"""Validate any grid plan (builder output or hand-drawn in desktop GIS) against the rules.

:func:`validate` checks a plan and returns a :class:`ValidationReport`. The rules (ids in
:data:`RULES`, explained there):

- geometry: ``empty_grid``, ``invalid_geometry``, ``multipart``, ``sliver``;
- seamless coverage: ``gap``, ``overlap`` (between grids and against the parent boundary);
- nesting: ``crosses_parent``, ``outside_parent``, ``wrong_parent``, ``unknown_parent``;
- size: ``size_below_min``, ``size_above_max``, ``size_unknown``, ``kind_unknown``;
- items: ``building_unassigned``, ``building_in_two``, ``building_split``,
  ``address_unassigned``, ``address_in_two``;
- codes: ``code_malformed``, ``code_duplicate``, ``code_prefix``, ``code_order``.

Tolerances (from the rules file, ``[tolerances]``)
--------------------------------------------------
Every gap, overlap and piece of a grid outside its community larger than ``area_floor_m2``
(0.01 m²) is reported (smaller ones are floating-point residue of overlays). Pieces *narrower*
than ``gap_width_m`` (their largest inscribed circle has a diameter below it) are still reported
with their area and width, but as **warnings** marked ``noise=True``: they are digitising/snapping
noise, not planning decisions, and :func:`gridgis.repairs.repair` removes them. A piece outside the parent smaller
than ``outside_parent_m2`` is noise too. Wider pieces are errors. A sliver grid is tiny (below
``sliver_area_m2``) or thin (Polsby-Popper 4πA/P² below ``sliver_thinness``) *and* small
(below 100 × ``sliver_area_m2``): a long grid of several hectares along a river is a planning
choice, not a sliver.

All measures are computed in a metric CRS (:func:`gridgis.crs.metric_crs`). The offline HTML
page of a report is drawn by :func:`gridgis.render.validation_page.write_validation_page`.

Modules: :mod:`~gridgis.validation.core` (``validate``), :mod:`~gridgis.validation.prepare`,
one module per group of checks (``coverage``, ``nesting``, ``shape``, ``items``, ``sizes``,
``codes``), :mod:`~gridgis.validation.report` (findings and the report),
:mod:`~gridgis.validation.catalogue` (the rule table). Reading the files of a run is
:func:`gridgis.workflows.readers.read_validation_inputs`.

Examples
--------
>>> from gridgis.validation import validate
>>> report = validate(plan, parents=communities)  # doctest: +SKIP
>>> print(report.summary())  # doctest: +SKIP
"""

from __future__ import annotations

from .catalogue import RULE_ORDER, RULES, RuleInfo
from .core import validate
from .prepare import as_codes, grid_kinds
from .report import ERROR, SEVERITIES, WARNING, Finding, ValidationReport, sort_findings

__all__ = [
    "validate", "ValidationReport", "Finding", "RuleInfo", "RULES", "RULE_ORDER",
    "ERROR", "WARNING", "SEVERITIES", "sort_findings", "as_codes", "grid_kinds",
]
