"""Planner workflow: a grid plan you edit step by step, re-validated as you go.

A :class:`Plan` holds a grid plan with its context (communities, buildings, addresses, roads,
rules) and offers the edits planners make in a notebook::

    plan = gridgis.Plan.open("district.gpkg")           # latest saved version
    r = plan.merge(["430302001001001", "430302001001002"])
    r                                                    # findings the edit caused / cleared
    plan.split("430302001002003", by="buildings", parts=2)
    plan.undo()
    plan.save(note="merge two small grids", author="王芳")

Every edit keeps the seamless coverage exact (see :mod:`gridgis.plan.retile`), recounts
households and residents from the buildings, re-validates only the communities it touched (and
the communities next to the edited grids) and returns an :class:`EditResult` listing the findings
it caused, cleared or changed. ``undo()``/``redo()`` restore the exact earlier state;
``history`` lists the edits; ``diff()`` compares with the opened (or any) plan; ``save()``
appends a version to the versions GeoPackage (:mod:`gridgis.versions`).

Codes during editing: a merged grid keeps the code of the first grid listed, a split grid keeps
its code on the part with the most households and the other parts get fresh serials never used
in the plan or its versions file; a rebuilt community is re-coded against its old grids
(:func:`gridgis.codes.recode`). Before saving, :meth:`Plan.recode` re-codes the whole plan
against the opened version and keeps the crosswalk, which :meth:`Plan.save` stores with the new
version.

The package: :class:`Plan` (front class) over :mod:`~gridgis.plan.context` (the metric CRS,
layers, building arrays and the R-tree indexes, built once: :class:`PlanContext`),
:mod:`~gridgis.plan.operations` (each edit as a function returning a proposal),
:mod:`~gridgis.plan.retile` (exact re-tiling), :mod:`~gridgis.plan.revalidate` (local
re-validation, findings caused/cleared), :mod:`~gridgis.plan.history` (edit records, undo/redo)
and :mod:`~gridgis.plan.summary` (:func:`community_summary`, the per-community table that
reports format).
"""

from __future__ import annotations

from ..versions import diff
from ._plan import Plan
from .context import PlanContext
from .history import Edit, EditResult, PlanState
from .index import GridIndex, PointIndex
from .summary import LEVELS, community_summary, grid_units, level_summary

__all__ = ["Plan", "Edit", "EditResult", "PlanState", "PlanContext", "GridIndex", "PointIndex",
           "community_summary", "diff", "LEVELS", "grid_units", "level_summary"]
