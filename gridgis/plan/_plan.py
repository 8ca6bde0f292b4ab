"""The :class:`Plan` front class: a grid plan edited step by step, re-validated as you go.

The work is done by the modules of the package: :mod:`.context` (layers, building arrays,
spatial indexes), :mod:`.operations` (the edits as proposals), :mod:`.retile` (exact
re-tiling), :mod:`.revalidate` (local re-validation), :mod:`.history` (records, undo/redo) and
:mod:`.summary` (per-community table).
"""

from __future__ import annotations

import importlib
import time
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
from ..i18n import _
from ..rules import Rules
from ..validation import ERROR, Finding, ValidationReport
from ..versions import diff
from ._edits import PlanEdits
from ._svg import svg_map
from .context import CONTEXT_LAYERS, PlanContext, read_plan_file
from .history import Edit, History, PlanState
from .revalidate import run_validate
from .summary import community_summary

__all__ = ["EDITOR_MODULE", "Plan"]

#: Module whose ``open_editor(plan, **options)`` :meth:`Plan.edit` calls (an interface above the
#: plan layer: loaded by name, never imported here).
EDITOR_MODULE = "gridgis.editor"


class Plan(PlanEdits):
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
        """The current findings as a :class:`~gridgis.validation.ValidationReport` (write it as a page with
        :func:`gridgis.render.validation_page.write_validation_page`)."""
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
        """The row of one grid (in the plan's CRS).

        Examples
        --------
        >>> plan.grid("430302001001001")["households"]  # doctest: +SKIP
        312
        """
        return self.grids.iloc[self._state.row(code)]

    def summary(self) -> pd.DataFrame:
        """One row per community (:func:`gridgis.plan.community_summary`): name, grids,
        basic/special grids, households of basic grids (min/median/max), residents, and
        current errors/warnings.

        Examples
        --------
        >>> plan.summary().sort_values("households", ascending=False).head()  # doctest: +SKIP
        """
        return community_summary(self._state.grids, self.context.communities,
                                 self._state.findings)

    def neighbours(self, code: str) -> list[str]:
        """Codes of the grids sharing an edge with grid ``code``.

        Examples
        --------
        >>> plan.neighbours("430302001001001")  # doctest: +SKIP
        ['430302001001002', '430302001001005']
        """
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
        report. Findings are replaced in place; this is not an edit.

        Examples
        --------
        >>> plan.validate().summary()  # doctest: +SKIP
        """
        t = time.perf_counter()
        report = run_validate(self.context, self._state.grids)
        self.last_validate_seconds = time.perf_counter() - t
        self._skipped = report.skipped
        self._state = replace(self._state, findings=list(report.findings))
        return self.report

    # -- comparison and saving --------------------------------------------------------------------
    def diff(self, other: Plan | gpd.GeoDataFrame | None = None, **kwargs: Any
             ) -> gpd.GeoDataFrame:
        """Grids that differ from ``other`` (default: the plan as opened or last saved), with
        household deltas (:func:`gridgis.versions.diff`); ``other`` is the *before* side.

        Examples
        --------
        >>> plan.diff()[["grid_code", "change", "households_delta"]]  # doctest: +SKIP
        >>> plan.diff(Plan.open("district.gpkg", version=1))  # doctest: +SKIP
        """
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

        Examples
        --------
        >>> plan.save("district.gpkg", note="merge two small grids", author="王芳")  # doctest: +SKIP
        2
        """
        from ..versions import known_codes, save_version

        target = Path(path) if path is not None else self.path
        if target is None:
            raise InputFileError(_("no file to save to"), fix=_("pass a path: plan.save('plans.gpkg')"))
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
    def map_html(self, width: int = 640, height: int = 480, *,
                 community: str | None = None) -> str:
        """A small self-contained HTML map (inline SVG, no network) of the plan and its
        findings: grids coloured by their worst finding, hover for code, name, households and
        findings. ``community`` zooms to one community (its neighbours drawn around it).

        In a notebook: ``IPython.display.HTML(plan.map_html(community="430302001002"))``.

        Examples
        --------
        >>> from IPython.display import HTML  # doctest: +SKIP
        >>> HTML(plan.map_html(community="430302001002"))  # doctest: +SKIP
        """
        return svg_map(self._state.grids, self._state.findings, self.context.communities,
                       width, height, community)

    def _repr_html_(self) -> str:
        return self.map_html()

    def edit(self, **options: Any) -> Any:
        """Open the plan in the map editor (Jupyter): click or box-select grids, draw split
        lines and areas, merge, split, transfer, rename, undo/redo and save, with households
        and findings updated after each edit. Every edit is a method call of this plan.

        The editor (:mod:`gridgis.editor`, an interface above this layer) is loaded by name,
        like a plotting backend: ``options`` go to :class:`gridgis.editor.PlanEditor`
        (``basemap=`` a local tile folder or MBTiles file, ``height=``).

        Examples
        --------
        >>> editor = gridgis.Plan.open("district.gpkg").edit()  # doctest: +SKIP
        >>> editor  # the map, in a notebook  # doctest: +SKIP
        >>> print(editor.code())  # the session as Python  # doctest: +SKIP
        """
        return importlib.import_module(EDITOR_MODULE).open_editor(self, **options)
