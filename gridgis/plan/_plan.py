"""The :class:`Plan` front class: a grid plan edited step by step, re-validated as you go.

The work is done by the modules of the package: :mod:`.context` (layers, building arrays,
spatial indexes), :mod:`.operations` (the edits as proposals), :mod:`.retile` (exact
re-tiling), :mod:`.revalidate` (local re-validation), :mod:`.history` (records, undo/redo) and
:mod:`.summary` (per-community table).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from ..codes import CodeScheme
from ..crs import to_crs
from ..errors import InputFileError
from ..findings import ERROR, Finding, ValidationReport
from ..rules import Rules
from ..versions import diff
from . import operations as ops
from . import wholeplan
from ._svg import svg_map
from ._util import to_metric
from .context import CONTEXT_LAYERS, PlanContext, read_plan_file
from .history import Edit, EditResult, History, PlanState
from .revalidate import apply_edit, run_validate
from .summary import community_summary

__all__ = ["Plan"]


class Plan:
    """A grid plan being edited, with live validation, history and versions.

    Parameters
    ----------
    grids
        The plan: polygons with ``grid_code`` (assigned when missing), ``community_code``
        (taken from the code prefix or the location when missing), ``grid_name``, ``kind``,
        ``households``, ``population``, ``flag``. Chinese headers are accepted.
    communities
        Community/village polygons (``code``, ``name``, ``area_kind``): enable the nesting and
        boundary checks, size profiles, and local re-validation.
    buildings
        Buildings with ``households``/``population``: grids are recounted from them (at once
        and after every edit), and the item checks run.
    addresses
        Address points (GeoDataFrame, or a table with WGS84 ``lon``/``lat``).
    rules
        Rules (:func:`gridgis.load_rules`): size profiles and tolerances.
    roads, rivers, special_sites
        Context for :meth:`rebuild` and :meth:`split` by buildings (cuts follow roads).
    units
        Building blocks of a builder run (``BuildResult.units``) for :meth:`transfer`.
    scheme
        Code scheme (:func:`gridgis.codes.load_scheme`) for fresh codes.
    seed
        Seed of the builder and of splits by buildings.
    path
        Versions GeoPackage the plan belongs to (default target of :meth:`save`).

    Raises
    ------
    SchemaError, CRSError
        On layers that are not GeoDataFrames, lack a CRS, or on duplicate grid codes.

    Examples
    --------
    >>> plan = Plan(grids, communities, buildings)  # doctest: +SKIP
    >>> plan.merge(["430302001001001", "430302001001002"])  # doctest: +SKIP
    <EditResult merge: +0 / -1 findings, 0.21 s>
    >>> plan.undo().op  # doctest: +SKIP
    'merge'
    """

    #: Version number the plan was opened from or last saved as (``None`` when unsaved).
    version: int | None = None
    #: The :class:`~gridgis.partition.BuildResult` when made by :meth:`build`.
    build_result: Any = None

    def __init__(
        self,
        grids: gpd.GeoDataFrame,
        communities: gpd.GeoDataFrame | None = None,
        buildings: gpd.GeoDataFrame | None = None,
        addresses: gpd.GeoDataFrame | pd.DataFrame | None = None,
        rules: Rules | dict | str | None = None,
        *,
        roads: gpd.GeoDataFrame | None = None,
        rivers: gpd.GeoDataFrame | None = None,
        special_sites: gpd.GeoDataFrame | None = None,
        units: gpd.GeoDataFrame | None = None,
        scheme: CodeScheme | dict | str | None = None,
        seed: int = 0,
        path: str | Path | None = None,
    ) -> None:
        ctx = PlanContext.from_layers(grids, communities, buildings, addresses, rules,
                                      roads=roads, rivers=rivers, special_sites=special_sites,
                                      units=units, scheme=scheme, seed=seed)
        #: The fixed context (layers in the metric CRS, building arrays, spatial indexes).
        self.context = ctx
        self.path: Path | None = Path(path) if path is not None else None
        g = ctx.prepare_grids(grids)
        bgrid = None
        if ctx.buildings is not None:
            bgrid = ctx.recount(g, None, set(), True)
        t = time.perf_counter()
        report = run_validate(ctx, g)
        self.last_validate_seconds = time.perf_counter() - t
        self._skipped = report.skipped
        self._known: set[str] = set()
        self._history = History()
        self._set_state(PlanState(grids=g, findings=list(report.findings), building_grid=bgrid))
        self._baseline = g

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        version: int | None = None,
        layer: str | None = None,
        communities: gpd.GeoDataFrame | None = None,
        buildings: gpd.GeoDataFrame | None = None,
        addresses: gpd.GeoDataFrame | pd.DataFrame | None = None,
        roads: gpd.GeoDataFrame | None = None,
        rivers: gpd.GeoDataFrame | None = None,
        special_sites: gpd.GeoDataFrame | None = None,
        rules: Rules | dict | str | None = None,
        scheme: CodeScheme | dict | str | None = None,
        seed: int = 0,
    ) -> Plan:
        """Open a plan from a file with :func:`gridgis.versions.read_plan`.

        A versions file (:mod:`gridgis.versions`) gives its latest version (or ``version``);
        a GeoPackage the layer ``layer`` (default: a layer named ``grids``, ``plan`` or
        ``网格``); any other vector source its plan layer. Context layers named
        ``communities``, ``buildings``, ``addresses``, ``roads``, ``rivers`` and
        ``special_sites`` in the same GeoPackage are used unless given here.

        Raises
        ------
        InputFileError
            If the file is missing or a GeoPackage holds no plan layer.

        Examples
        --------
        >>> plan = Plan.open("district.gpkg")  # doctest: +SKIP
        >>> plan.version  # doctest: +SKIP
        3
        """
        path = Path(path)
        given = {"communities": communities, "buildings": buildings, "addresses": addresses,
                 "roads": roads, "rivers": rivers, "special_sites": special_sites}
        grids, given, versioned = read_plan_file(path, layer, version, given)
        plan = cls(grids, given["communities"], given["buildings"], given["addresses"], rules,
                   roads=given["roads"], rivers=given["rivers"],
                   special_sites=given["special_sites"], scheme=scheme, seed=seed, path=path)
        if versioned:
            from ..versions import known_codes

            plan._known = set(known_codes(path))
            plan.context.codes.seen |= plan._known
            plan.version = grids.attrs.get("version", {}).get("version")
        return plan

    @classmethod
    def build(
        cls,
        communities: gpd.GeoDataFrame,
        roads: gpd.GeoDataFrame | None = None,
        buildings: gpd.GeoDataFrame | None = None,
        *,
        rivers: gpd.GeoDataFrame | None = None,
        special_sites: gpd.GeoDataFrame | None = None,
        addresses: gpd.GeoDataFrame | pd.DataFrame | None = None,
        rules: Rules | dict | str | None = None,
        scheme: CodeScheme | dict | str | None = None,
        seed: int = 0,
    ) -> Plan:
        """Build grids with :func:`gridgis.build_grids` and open them as a plan.

        The builder's report and statistics are kept in ``plan.build_result``.

        Examples
        --------
        >>> s = gridgis.load_sample()  # doctest: +SKIP
        >>> plan = Plan.build(s["communities"], s["roads"], s["buildings"])  # doctest: +SKIP
        """
        from ..partition import build_grids

        res = build_grids(communities, roads, buildings, rules, special_sites=special_sites,
                          seed=seed, rivers=rivers)
        plan = cls(res.grids, communities, buildings, addresses, rules, roads=roads,
                   rivers=rivers, special_sites=special_sites, units=res.units, scheme=scheme,
                   seed=seed)
        plan.build_result = res
        return plan

    # -- views ----------------------------------------------------------------------------------
    @property
    def state(self) -> PlanState:
        """The current snapshot (grids in the metric CRS, findings, buildings' grids); undo
        and redo restore earlier snapshots as they were."""
        return self._state

    @property
    def rules(self) -> Rules:
        """The plan's rules."""
        return self.context.rules

    @property
    def scheme(self) -> CodeScheme:
        """The code scheme of fresh codes."""
        return self.context.scheme

    @property
    def seed(self) -> int:
        """Seed of the builder and of splits by buildings."""
        return self.context.seed

    @property
    def crs(self) -> Any:
        """CRS of the plan as given (outputs use it)."""
        return self.context.crs

    @property
    def metric_crs(self) -> Any:
        """Metric CRS the edits and checks run in."""
        return self.context.metric_crs

    @property
    def baseline(self) -> gpd.GeoDataFrame:
        """The plan as opened or last saved (metric CRS): the default *before* of :meth:`diff`
        and of :meth:`recode`."""
        return self._baseline

    @property
    def grids(self) -> gpd.GeoDataFrame:
        """The current plan (a copy, in the plan's CRS)."""
        g = self._state.grids.copy()
        for col in (schema.HOUSEHOLDS, schema.POPULATION):
            if g[col].notna().all():
                g[col] = g[col].round().astype(np.int64)
        return g if g.crs.equals(self.crs) else to_crs(g, self.crs)

    @property
    def codes(self) -> list[str]:
        """Grid codes of the current plan."""
        return self._state.grids[schema.GRID_CODE].tolist()

    @property
    def findings(self) -> list[Finding]:
        """Current findings (errors first)."""
        return list(self._state.findings)

    @property
    def report(self) -> ValidationReport:
        """The current findings as a :class:`~gridgis.findings.ValidationReport`."""
        g = self._state.grids
        shown = gpd.GeoDataFrame(g[[schema.GRID_CODE, schema.COMMUNITY_CODE, schema.KIND]],
                                 geometry=g.geometry, crs=self.metric_crs)
        comm = self.context.communities
        parents = None if comm is None else comm[[schema.CODE, schema.NAME, "geometry"]]
        return ValidationReport(findings=list(self._state.findings), crs=self.crs,
                                metric_crs=self.metric_crs, grids=shown, parents=parents,
                                rules=self.rules, n_grids=len(g), skipped=dict(self._skipped))

    @property
    def history(self) -> list[Edit]:
        """Edits applied so far (undone edits are not listed)."""
        return self._history.edits

    @property
    def can_undo(self) -> bool:
        """True when there is an edit to undo."""
        return self._history.can_undo

    @property
    def can_redo(self) -> bool:
        """True when there is an undone edit to redo."""
        return self._history.can_redo

    def __len__(self) -> int:
        return len(self._state.grids)

    def __repr__(self) -> str:
        f = self._state.findings
        n_err = sum(1 for x in f if x.severity == ERROR)
        return (f"<Plan {len(self)} grids in {self._state.grids[schema.COMMUNITY_CODE].nunique()} "
                f"communities: {n_err} errors, {len(f) - n_err} warnings; "
                f"{len(self._history)} edits>")

    def grid(self, code: str) -> pd.Series:
        """The row of one grid (in the plan's CRS)."""
        return self.grids.iloc[self._state.row(code)]

    def summary(self) -> pd.DataFrame:
        """One row per community (:func:`gridgis.plan.community_summary`): name, grids,
        basic/special grids, households of basic grids (min/median/max), residents, and
        current errors/warnings."""
        return community_summary(self._state.grids, self.context.communities,
                                 self._state.findings)

    def neighbours(self, code: str) -> list[str]:
        """Codes of the grids sharing an edge with grid ``code``."""
        r = self._state.row(code)
        g = self._state.grids
        geoms = np.asarray(g.geometry.array, dtype=object)
        out = []
        for h in self.context.grid_index.rows(geoms[r], "intersects"):
            if h != r and shapely.length(shapely.intersection(
                    shapely.boundary(geoms[r]), shapely.boundary(geoms[h]))) > 0:
                out.append(str(g[schema.GRID_CODE].iloc[h]))
        return sorted(out)

    # -- validation -----------------------------------------------------------------------------
    def validate(self) -> ValidationReport:
        """Re-validate the whole plan (edits re-validate only what they touch) and return the
        report. Findings are replaced in place; this is not an edit."""
        t = time.perf_counter()
        report = run_validate(self.context, self._state.grids)
        self.last_validate_seconds = time.perf_counter() - t
        self._skipped = report.skipped
        self._state = replace(self._state, findings=list(report.findings))
        return self.report

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
        """
        return self._edit(ops.rebuild, community, rules, seed=seed, keep=keep)

    def rename(self, code: str, name: str) -> EditResult:
        """Give grid ``code`` the name ``name`` (``grid_name``)."""
        return self._edit(ops.rename, code, name)

    def set_kind(self, code: str, kind: str) -> EditResult:
        """Make grid ``code`` a basic grid or a special grid of ``kind`` (school, market …).

        Raises
        ------
        SchemaError
            If ``kind`` is neither ``basic`` nor a special kind of the rules.
        """
        return self._edit(ops.set_kind, code, kind)

    def repair(self) -> EditResult:
        """Repair the plan's geometry (:func:`gridgis.repair`) as one undoable edit.

        Gaps, overlaps, crossings, detached pieces and slivers are fixed; the change log is in
        ``result.details["repair_log"]``.
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
        """
        t0 = time.perf_counter()
        base = self._baseline if against is None else to_metric(
            schema.normalize_columns(against, source="against"), self.context.metric_crs)
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
        """
        step = self._history.redo()
        self._set_state(step.after)
        return step.edit

    # -- comparison and saving --------------------------------------------------------------------
    def diff(self, other: Plan | gpd.GeoDataFrame | None = None, **kwargs: Any
             ) -> gpd.GeoDataFrame:
        """Grids that differ from ``other`` (default: the plan as opened or last saved), with
        household deltas (:func:`gridgis.versions.diff`); ``other`` is the *before* side."""
        if other is None:
            before = self._baseline
        elif isinstance(other, Plan):
            before = other.state.grids
        else:
            before = other
        d = diff(before, self._state.grids, **kwargs)
        return d if d.crs.equals(self.crs) else to_crs(d, self.crs)

    def save(self, path: str | Path | None = None, *, note: str = "", author: str = "",
             crosswalk: pd.DataFrame | None = None) -> int:
        """Append the plan as a new version to the versions GeoPackage.

        Parameters
        ----------
        path
            The versions file (default: the file the plan was opened from or last saved to).
            Context layers the plan was given (communities, buildings …) are written beside
            the versions when the file lacks them, so that :meth:`open` finds them.
        note, author
            Why and by whom (stored in the ``plan_versions`` table).
        crosswalk
            Crosswalk to store with the version (default: the one of the last :meth:`recode`).

        Returns
        -------
        int
            The new version number.
        """
        from ..versions import known_codes, save_version

        target = Path(path) if path is not None else self.path
        if target is None:
            raise InputFileError("no file to save to", fix="pass a path: plan.save('plans.gpkg')")
        cw = crosswalk if crosswalk is not None else self._state.crosswalk
        context = {k: v for k, v in self.context.inputs.items() if k in CONTEXT_LAYERS}
        version = save_version(self.grids, target, author=author, note=note, crosswalk=cw,
                               context=context)
        self.path = target
        self.version = version
        self._baseline = self._state.grids
        self._known = set(known_codes(target))
        self.context.codes.seen |= self._known
        self._state = replace(self._state, crosswalk=None)
        return version

    # -- display ----------------------------------------------------------------------------------
    def to_html(self, path: str | Path, *, title: str | None = None) -> Path:
        """Write an offline HTML page of the current findings over the plan
        (:meth:`gridgis.findings.ValidationReport.to_html`)."""
        return self.report.to_html(path, title=title or "Grid plan")

    def map_html(self, width: int = 640, height: int = 480, *,
                 community: str | None = None) -> str:
        """A small self-contained HTML map (inline SVG, no network) of the plan and its
        findings: grids coloured by their worst finding, hover for code, name, households and
        findings. ``community`` zooms to one community (its neighbours drawn around it).

        In a notebook: ``IPython.display.HTML(plan.map_html(community="430302001002"))``.
        """
        return svg_map(self._state.grids, self._state.findings, self.context.communities,
                       width, height, community)

    def _repr_html_(self) -> str:
        return self.map_html()
