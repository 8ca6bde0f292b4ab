"""Edit records and the undo/redo history of a :class:`gridgis.plan.Plan`.

A :class:`PlanState` is one immutable snapshot of the plan (grids, findings, the grid of every
building, the pending crosswalk). An edit never changes a state: it makes a new one, and
:class:`History` keeps ``(edit, before, after)`` steps so that :meth:`History.undo` and
:meth:`History.redo` return exactly the earlier or later snapshot.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import schema
from ..errors import GridGISError, SchemaError
from ..i18n import _, tr
from ..people import header
from ..people import value as people_value
from ..validation import ERROR, Finding
from ..validation.catalogue import rule_title

__all__ = ["Edit", "EditResult", "PlanState", "Step", "History"]


@dataclass(frozen=True)
class Edit:
    """One edit in a plan's history.

    Attributes
    ----------
    step
        1 for the first edit of the session, 2 for the next …
    op
        ``merge``, ``split``, ``transfer``, ``rebuild``, ``rename``, ``set_kind``, ``repair`` or
        ``recode``.
    description
        The edit in plain words.
    params
        The arguments it was called with.
    added, removed, changed
        Grid codes the edit created, removed, or changed (geometry or attributes).
    n_caused, n_cleared
        Number of findings the edit caused / cleared.
    seconds
        Wall time of the edit, validation included.

    Examples
    --------
    >>> e = Edit(step=1, op="rename", description="rename g1: a → b", params={})
    >>> str(e)
    '#1 rename g1: a → b (+0 / -0 findings, 0.00 s)'
    """

    step: int
    op: str
    description: str
    params: dict[str, Any]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    n_caused: int = 0
    n_cleared: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (f"#{self.step} {self.description} "
                f"(+{self.n_caused} / -{self.n_cleared} findings, {self.seconds:.2f} s)")


@dataclass
class EditResult:
    """What an edit did: the grids it touched and the findings it caused or cleared.

    Attributes
    ----------
    edit
        The :class:`Edit` record (also in :attr:`Plan.history`).
    caused
        Findings present after the edit that were not there before.
    cleared
        Findings the edit removed.
    changed
        ``(before, after)`` pairs of findings that remain but with another measure or severity
        (e.g. a grid still below the minimum, with more households now).
    scope
        Communities that were re-validated.
    seconds, validate_seconds
        Wall time of the whole edit and of its validation part.

    Examples
    --------
    >>> r = EditResult(Edit(step=1, op="rename", description="rename g1", params={}))
    >>> r.ok, r.summary().splitlines()[-1]
    (True, '  no finding caused or cleared')
    """

    edit: Edit
    caused: list[Finding] = field(default_factory=list)
    cleared: list[Finding] = field(default_factory=list)
    changed: list[tuple[Finding, Finding]] = field(default_factory=list)
    scope: tuple[str, ...] = ()
    seconds: float = 0.0
    validate_seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    """Extra outputs of some edits: ``build_report`` (rebuild), ``repair_log`` (repair)."""

    @property
    def added(self) -> tuple[str, ...]:
        """Codes of the grids the edit created."""
        return self.edit.added

    @property
    def removed(self) -> tuple[str, ...]:
        """Codes of the grids the edit removed."""
        return self.edit.removed

    @property
    def ok(self) -> bool:
        """True when the edit caused no error."""
        return not any(f.severity == ERROR for f in self.caused)

    def summary(self) -> str:
        """The edit and its findings in a few lines of text (in the language in use)."""
        lines = [tr("{what} — {seconds:.2f} s (validation {validate:.2f} s)",
                    what=self.edit.description, seconds=self.seconds,
                    validate=self.validate_seconds)]
        if self.added:
            lines.append("  " + tr("new grids: {codes}", codes=", ".join(self.added)))
        if self.removed:
            lines.append("  " + tr("removed grids: {codes}", codes=", ".join(self.removed)))
        for title, f in self._rows():
            line = f"  {title} [{_severity(f)}] {rule_title(f.rule)}: {f.message}"
            before = self._before.get(id(f))
            lines.append(line + tr(" (was {measure})", measure=_fmt_measure(before))
                         if before is not None else line)
        if not (self.caused or self.cleared or self.changed):
            lines.append("  " + _("no finding caused or cleared"))
        return "\n".join(lines)

    @property
    def _before(self) -> dict[int, Finding]:
        return {id(after): before for before, after in self.changed}

    def _rows(self) -> list[tuple[str, Finding]]:
        """``(what happened, finding)`` for each finding caused, cleared or changed."""
        rows = [(_("caused"), f) for f in self.caused] + [(_("cleared"), f) for f in self.cleared]
        return rows + [(_("changed"), after) for _before, after in self.changed]

    def __repr__(self) -> str:
        return (f"<EditResult {self.edit.op}: +{len(self.caused)} / -{len(self.cleared)} "
                f"findings, {self.seconds:.2f} s>")

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = self._rows()
        body = "".join(
            f"<tr><td>{html.escape(t)}</td><td>{html.escape(_severity(f))}</td>"
            f"<td>{html.escape(rule_title(f.rule))}</td><td>{html.escape(f.message)}</td></tr>"
            for t, f in rows)
        head = html.escape(tr("{what} — {seconds:.2f} s", what=self.edit.description,
                              seconds=self.seconds))
        if not rows:
            return f"<p>{head}: {html.escape(_('no finding caused or cleared'))}</p>"
        heads = "".join(f"<th>{html.escape(h)}</th>" for h in
                        ("", header("severity"), header("rule"), header("message")))
        return f"<p>{head}</p><table><tr>{heads}</tr>{body}</table>"


def _severity(f: Finding) -> str:
    return str(people_value("severity", f.severity))


def _fmt_measure(f: Finding) -> str:
    if f.measure is None:
        return _severity(f)
    return f"{f.measure:,.4g} {people_value('unit', f.unit)}".strip()


@dataclass(frozen=True)
class PlanState:
    """One snapshot of an edited plan.

    Attributes
    ----------
    grids
        The grids in the metric CRS (RangeIndex, canonical columns first; households and
        population as floats).
    findings
        The findings of the validator on these grids (errors first).
    building_grid
        Grid code of every building of the plan's context (``None``: in no grid), or ``None``
        when the plan has no buildings.
    crosswalk
        Crosswalk of the last :meth:`~gridgis.plan.Plan.recode`, stored by the next save.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame({"grid_code": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)])
    >>> PlanState(grids=g, findings=[], building_grid=None).row("a")
    0
    """

    grids: gpd.GeoDataFrame
    findings: list[Finding]
    building_grid: np.ndarray | None
    crosswalk: pd.DataFrame | None = None

    def row(self, code: Any) -> int:
        """Row position of grid ``code``.

        Raises
        ------
        SchemaError
            If no grid has this code.
        """
        codes = self.grids[schema.GRID_CODE].to_numpy(object)
        hit = np.flatnonzero(codes == str(code))
        if not len(hit):
            raise SchemaError(tr("no grid with code {code!r} in the plan", code=code), where=str(code),
                              fix=tr("see plan.codes for the codes of the current plan"))
        return int(hit[0])

    def geometry(self, code: Any) -> Any:
        """Geometry of grid ``code`` (metric CRS)."""
        return self.grids.geometry.iloc[self.row(code)]


@dataclass(frozen=True)
class Step:
    """One applied edit with the states before and after it."""

    edit: Edit
    before: PlanState
    after: PlanState


class History:
    """Undo and redo stacks of applied edits.

    Examples
    --------
    >>> h = History()
    >>> h.can_undo, h.can_redo
    (False, False)
    """

    def __init__(self) -> None:
        self._undo: list[Step] = []
        self._redo: list[Step] = []

    @property
    def edits(self) -> list[Edit]:
        """Edits applied so far (undone edits are not listed)."""
        return [s.edit for s in self._undo]

    @property
    def can_undo(self) -> bool:
        """True when there is an edit to undo."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """True when there is an undone edit to redo."""
        return bool(self._redo)

    def __len__(self) -> int:
        return len(self._undo)

    def push(self, edit: Edit, before: PlanState, after: PlanState) -> None:
        """Record an applied edit; the redo stack is dropped."""
        self._undo.append(Step(edit, before, after))
        self._redo.clear()

    def undo(self) -> Step:
        """Move the last edit to the redo stack and return its step.

        Raises
        ------
        GridGISError
            If there is nothing to undo.
        """
        return _move_last(self._undo, self._redo, "nothing to undo")

    def redo(self) -> Step:
        """Move the last undone edit back and return its step.

        Raises
        ------
        GridGISError
            If there is nothing to redo.
        """
        return _move_last(self._redo, self._undo, "nothing to redo")


def _move_last(src: list[Step], dst: list[Step], empty: str) -> Step:
    """Move the last step of ``src`` onto ``dst`` and return it (``empty``: the error text)."""
    if not src:
        raise GridGISError(empty)
    step = src.pop()
    dst.append(step)
    return step
