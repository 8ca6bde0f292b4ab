"""Repair the geometry of a grid plan and log every change.

:func:`repair` fixes what a validator finding marked *repairable* (:data:`gridgis.validation.RULES`):

1. **invalid geometry** is made valid (``shapely.make_valid``), empty grids are removed;
2. **crossings / outside parts** are clipped to the grid's community (the one its
   ``community_code`` / code prefix names, or, when most of the grid lies elsewhere, the
   community holding most of it);
3. **overlaps**: each overlapping piece goes to the claimant with the longest shared edge;
4. **gaps**: each wide gap piece goes to the neighbouring grid of the same community with the
   longest shared edge; narrow gaps (snapping noise, narrower than ``gap_width_m``) are split
   between the grids on either side, each taking the half nearest to it — this closes networks of
   digitising gaps without handing a whole web of strips to one grid;
5. **detached pieces** of multipart grids go to the neighbour with the longest shared edge;
6. **slivers** (tiny or thin grids) are merged into the neighbour with the longest shared edge;
7. **edges are matched**: ``shapely.coverage_clean`` (automatic sub-millimetre snapping) gives
   shared edges identical vertices, so the plan is an exact polygon coverage
   (``shapely.coverage_is_valid``) that coverage union/simplify can rely on.

Every change is logged (:class:`Change`: action, grids, area moved). When buildings are given,
households and residents are moved with their buildings and the grid attributes updated; without
buildings only whole absorbed grids carry their counts over. The result is re-validated.

Codes, sizes and wrong community labels are planning decisions and are left to the builder,
:mod:`gridgis.plan` and :mod:`gridgis.codes`; they stay in the re-validation report.

Modules: :mod:`~gridgis.repairs.core` (``repair``, ``RepairResult``), :mod:`~gridgis.repairs.steps`
(the steps above over a mutable copy of the plan, and :class:`Change`),
:mod:`~gridgis.repairs.split` (shared edge lengths, the split of narrow gaps).

Examples
--------
>>> from gridgis.repairs import repair
>>> fixed = repair(plan, parents=communities, buildings=buildings)  # doctest: +SKIP
"""

from .core import RepairResult, repair
from .steps import Change

__all__ = ["repair", "RepairResult", "Change"]
