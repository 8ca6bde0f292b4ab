"""The edit methods of :class:`gridgis.plan.Plan`: each runs an edit of
:mod:`gridgis.plan.operations` (or :mod:`gridgis.plan.wholeplan`) on the current state and
applies the proposal (recount, local re-validation, history)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd

from .._inputs import as_layer, metric
from ..rules import Rules
from . import operations as ops
from . import wholeplan
from .context import PlanContext
from .history import Edit, EditResult, History, PlanState
from .revalidate import apply_edit

__all__ = ["PlanEdits"]


class PlanEdits:
    """Edits, undo and redo of a plan (the base of :class:`gridgis.plan.Plan`, which sets the
    attributes below).

    Examples
    --------
    >>> plan.merge(["430302001001001", "430302001001002"])  # doctest: +SKIP
    <EditResult merge: +1 / -0 findings, 0.12 s>
    """

    context: PlanContext
    last_validate_seconds: float
    _state: PlanState
    _history: History
    _baseline: gpd.GeoDataFrame
    _known: set[str]
    _skipped: dict[str, Any]

    # -- edit machinery ---------------------------------------------------------------------------
    def _set_state(self, state: PlanState) -> None:
        self._state = state
        self.context.grid_index.sync(state.grids)

    def _apply(self, p: ops.Proposal, t0: float) -> EditResult:
        """Recount, re-validate, record and apply a proposed edit."""
        old = self._state
        result, state, skipped = apply_edit(self.context, old, p, len(self._history) + 1, t0)
        if skipped is not None:
            self._skipped = skipped
        self._history.push(result.edit, old, state)
        self._state = state
        self.last_validate_seconds = result.validate_seconds
        return result

    def _edit(self, operation: Any, *args: Any, **kwargs: Any) -> EditResult:
        t0 = time.perf_counter()
        return self._apply(operation(self.context, self._state, *args, **kwargs), t0)

    # -- edits ------------------------------------------------------------------------------------
    def merge(self, codes: Sequence[str], *, name: str | None = None) -> EditResult:
        """Merge neighbouring grids of one community into one.

        The merged grid keeps the code, name, kind and flag of the first grid listed (``name``
        renames it); its polygon is the coverage union of the grids (exact, shared edges
        dissolve).

        Raises
        ------
        PartitionError
            If fewer than two grids are given, they lie in different communities, or they do
            not form one connected piece.

        Examples
        --------
        >>> r = plan.merge(["430302001001001", "430302001001002"], name="幸福里")  # doctest: +SKIP
        >>> r.removed, [f.rule for f in r.caused]  # doctest: +SKIP
        (('430302001001002',), ['size_above_max'])
        """
        return self._edit(ops.merge, codes, name=name)

    def split(self, code: str, line: Any = None, *, by: str | None = None, parts: int = 2,
              seed: int | None = None) -> EditResult:
        """Split a grid by a line, or by its buildings into ``parts`` balanced grids.

        Parameters
        ----------
        code
            The grid to split.
        line
            A line (shapely LineString/MultiLineString, GeoSeries, or ``(x, y)`` coordinates
            in the plan's CRS) drawn across the grid; only the part inside the grid cuts. A line
            crossing the grid several times gives several pieces.
        by
            ``"buildings"``: cut along the lines between buildings (Voronoi of building
            outlines, and roads), grouping the cells into ``parts`` contiguous grids of about
            equal households with the builder's region splitter (by area when the grid holds no
            households).
        parts
            Number of grids for ``by="buildings"``.
        seed
            Seed of the region splitter (default: the plan's).

        The piece with the most households (largest area on ties) keeps the code and name;
        the others get fresh codes.

        Raises
        ------
        PartitionError
            If the line does not cut the grid, or the grid has too few building cells.

        Examples
        --------
        >>> r = plan.split("430302001001003", by="buildings", parts=2)  # doctest: +SKIP
        >>> r.added  # doctest: +SKIP
        ('430302001001031',)
        >>> plan.split("430302001001004", line=[(x0, y0), (x1, y1)])  # doctest: +SKIP
        """
        return self._edit(ops.split, code, line, by=by, parts=parts, seed=seed)

    def transfer(self, items: Any = None, to: str | None = None, *, units: Any = None,
                 buildings: Any = None, area: Any = None) -> EditResult:
        """Move land from neighbouring grids to grid ``to``.

        What moves is given by one of:

        ``buildings``
            Building ids (``building_id``): the cell of each building (the land nearer to it
            than to the other buildings of its grid) moves with it.
        ``units``
            Unit ids of the builder's units (``plan.units``): their land moves.
        ``area``
            Polygons (shapely, GeoSeries, in the plan's CRS): the land of other grids inside
            them moves.
        ``items``
            Any of these, guessed: geometries are an area, ids found in ``building_id`` are
            buildings, other integers are units.

        Only land of the target's community moves (grids never cross community lines).

        Raises
        ------
        PartitionError
            If nothing would move.

        Examples
        --------
        >>> plan.transfer(buildings=["B00012", "B00013"], to="430302001001001")  # doctest: +SKIP
        >>> plan.transfer(area=shapely.box(x0, y0, x1, y1), to="430302001001001")  # doctest: +SKIP
        """
        return self._edit(ops.transfer, items, to, units=units, buildings=buildings, area=area)

    def rebuild(self, community: str, rules: Rules | dict | str | None = None, *,
                seed: int | None = None, keep: Iterable[str] = ()) -> EditResult:
        """Rebuild the basic grids of one community with the builder, the rest locked.

        Special grids of the community and the grids in ``keep`` stay as they are; the rest of
        the community's land is handed to :func:`gridgis.build_grids` (with ``rules``, default
        the plan's) and the new grids are re-coded against the old ones
        (:func:`gridgis.codes.recode`: essentially unchanged grids keep their codes). Every
        other grid stays exactly as it was. The builder's report is in
        ``result.details["build_report"]``.

        Raises
        ------
        PartitionError
            If the plan has no communities layer, or the builder produces no grid.

        Examples
        --------
        >>> r = plan.rebuild("430302001001", rules={"urban": {"max_households": 420}})  # doctest: +SKIP
        >>> r.details["build_report"]  # doctest: +SKIP
        """
        return self._edit(ops.rebuild, community, rules, seed=seed, keep=keep)

    def rename(self, code: str, name: str) -> EditResult:
        """Give grid ``code`` the name ``name`` (``grid_name``).

        Examples
        --------
        >>> plan.rename("430302001001001", "幸福里第1网格").edit.op  # doctest: +SKIP
        'rename'
        """
        return self._edit(ops.rename, code, name)

    def set_kind(self, code: str, kind: str) -> EditResult:
        """Make grid ``code`` a basic grid or a special grid of ``kind`` (school, market …).

        Raises
        ------
        SchemaError
            If ``kind`` is neither ``basic`` nor a special kind of the rules.

        Examples
        --------
        >>> plan.set_kind("430302001001001", "school").caused  # doctest: +SKIP
        """
        return self._edit(ops.set_kind, code, kind)

    def repair(self) -> EditResult:
        """Repair the plan's geometry (:func:`gridgis.repair`) as one undoable edit.

        Gaps, overlaps, crossings, detached pieces and slivers are fixed; the change log is in
        ``result.details["repair_log"]``.

        Examples
        --------
        >>> r = plan.repair()  # doctest: +SKIP
        >>> r.details["repair_log"].head()  # doctest: +SKIP
        """
        t0 = time.perf_counter()
        return self._apply(wholeplan.repair(self.context, self._state), t0)

    def recode(self, against: gpd.GeoDataFrame | None = None, *, same_threshold: float = 0.9
               ) -> Any:
        """Re-code the plan against the opened (last saved) plan, as one undoable edit.

        Grids that are essentially unchanged keep their codes; the others get fresh codes never
        used in the versions file (:func:`gridgis.codes.recode`). The crosswalk is kept and
        stored by the next :meth:`save`.

        Returns
        -------
        gridgis.codes.RecodeResult
            With ``plan``, ``crosswalk`` and ``retired``; ``result.edit`` is the edit record.

        Examples
        --------
        >>> rc = plan.recode()  # doctest: +SKIP
        >>> rc.crosswalk.head()  # doctest: +SKIP
        >>> plan.save(note="re-coded")  # doctest: +SKIP
        """
        t0 = time.perf_counter()
        base = self._baseline if against is None else metric(
            as_layer(against, "against", missing="keep", allow_empty=True),
            self.context.metric_crs)
        p, rc = wholeplan.recode(self.context, self._state, base, self._known, same_threshold)
        result = self._apply(p, t0)
        rc.edit = result.edit
        rc.edit_result = result
        return rc

    # -- history ----------------------------------------------------------------------------------
    def undo(self) -> Edit:
        """Undo the last edit (the plan, counts and findings return exactly to their state
        before it); returns the edit undone.

        Raises
        ------
        GridGISError
            If there is nothing to undo.

        Examples
        --------
        >>> plan.merge(["430302001001001", "430302001001002"])  # doctest: +SKIP
        >>> plan.undo().op  # doctest: +SKIP
        'merge'
        """
        step = self._history.undo()
        self._set_state(step.before)
        return step.edit

    def redo(self) -> Edit:
        """Redo the last undone edit; returns it.

        Raises
        ------
        GridGISError
            If there is nothing to redo.

        Examples
        --------
        >>> plan.redo().op  # doctest: +SKIP
        'merge'
        """
        step = self._history.redo()
        self._set_state(step.after)
        return step.edit
