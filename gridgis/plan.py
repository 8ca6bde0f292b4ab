"""Planner workflow: a grid plan you edit step by step, re-validated as you go.

A :class:`Plan` holds a grid plan with its context (communities, buildings, addresses, roads,
rules) and offers the edits planners make in a notebook::

    plan = gridgis.Plan.open("district.gpkg")           # latest saved version
    r = plan.merge(["430302001001001", "430302001001002"])
    r                                                    # findings the edit caused / cleared
    plan.split("430302001002003", by="buildings", parts=2)
    plan.undo()
    plan.save(note="merge two small grids", author="王芳")

Every edit keeps the seamless coverage exact (see :mod:`gridgis.edits`), recounts households and
residents from the buildings, re-validates only the communities it touched (and the
communities next to the edited grids) and returns an :class:`EditResult` listing the findings
it caused, cleared or changed. ``undo()``/``redo()`` restore the exact earlier state;
``history`` lists the edits; ``diff()`` compares with the opened (or any) plan; ``save()``
appends a version to the versions GeoPackage (:mod:`gridgis.versions`).

Codes during editing: a merged grid keeps the code of the first grid listed, a split grid keeps
its code on the part with the most households and the other parts get fresh serials never used
in the plan or its versions file; a rebuilt community is re-coded against its old grids
(:func:`gridgis.codes.recode`). Before saving, :meth:`Plan.recode` re-codes the whole plan
against the opened version and keeps the crosswalk, which :meth:`Plan.save` stores with the new
version.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from . import schema
from .codes import CodeScheme, load_scheme, parse_codes
from .crs import metric_crs, to_crs
from .edits import (
    EXTEND_M,
    InexactEdit,
    Retiling,
    assemble,
    check_neighbours,
    clip_lines,
    compare_findings,
    coverage_ok,
    extend_ends,
    interior_lines,
    retile,
    touching,
)
from .errors import (
    CRSError,
    GeometryError,
    GridGISError,
    InputFileError,
    PartitionError,
    SchemaError,
)
from .rules import Rules, load_rules
from .validation import ERROR, WARNING, Finding, ValidationReport, sort_findings
from .versions import diff

__all__ = ["Plan", "Edit", "EditResult", "diff"]

BASIC = "basic"
_GRID_COLUMNS = (schema.GRID_CODE, schema.GRID_NAME, schema.COMMUNITY_CODE, schema.KIND,
                 schema.HOUSEHOLDS, schema.POPULATION, schema.FLAG)
_GEOM_FIX = ("pass a shapely geometry, a GeoSeries, or a list of (x, y) coordinates in the "
             "plan's CRS")
_CONTEXT_LAYERS = ("communities", "buildings", "addresses", "roads", "rivers", "special_sites")


# ---- records -------------------------------------------------------------------------------------


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
        """The edit and its findings in a few lines of text."""
        lines = [f"{self.edit.description} — {self.seconds:.2f} s "
                 f"(validation {self.validate_seconds:.2f} s)"]
        if self.added:
            lines.append(f"  new grids: {', '.join(self.added)}")
        if self.removed:
            lines.append(f"  removed grids: {', '.join(self.removed)}")
        for title, items in (("caused", self.caused), ("cleared", self.cleared)):
            for f in items:
                lines.append(f"  {title:<7} [{f.severity}] {f.rule}: {f.message}")
        for before, after in self.changed:
            lines.append(f"  changed [{after.severity}] {after.rule}: {after.message} "
                         f"(was {_fmt_measure(before)})")
        if not (self.caused or self.cleared or self.changed):
            lines.append("  no finding caused or cleared")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<EditResult {self.edit.op}: +{len(self.caused)} / -{len(self.cleared)} "
                f"findings, {self.seconds:.2f} s>")

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = []
        for title, items in (("caused", self.caused), ("cleared", self.cleared)):
            rows += [(title, f) for f in items]
        rows += [("changed", after) for _, after in self.changed]
        body = "".join(
            f"<tr><td>{t}</td><td>{html.escape(f.severity)}</td><td>{html.escape(f.rule)}</td>"
            f"<td>{html.escape(f.message)}</td></tr>" for t, f in rows)
        head = html.escape(f"{self.edit.description} — {self.seconds:.2f} s")
        if not rows:
            return f"<p>{head}: no finding caused or cleared.</p>"
        return (f"<p>{head}</p><table><tr><th></th><th>severity</th><th>rule</th>"
                f"<th>message</th></tr>{body}</table>")


def _fmt_measure(f: Finding) -> str:
    if f.measure is None:
        return f.severity
    return f"{f.measure:,.4g} {f.unit}".strip()


@dataclass
class _State:
    grids: gpd.GeoDataFrame  # metric CRS, RangeIndex, canonical columns first
    findings: list[Finding]
    bgrid: np.ndarray | None  # grid code of every building (None: in no grid)
    crosswalk: pd.DataFrame | None = None


@dataclass
class _Step:
    edit: Edit
    before: _State
    after: _State


# ---- helpers -------------------------------------------------------------------------------------


def _as_gdf(obj: Any, what: str) -> gpd.GeoDataFrame:
    if isinstance(obj, gpd.GeoDataFrame):
        if obj.crs is None:
            raise CRSError(f"the {what} layer has no CRS", source=what,
                           fix="set it, e.g. gdf.set_crs('EPSG:4547')")
        return obj
    if what == "addresses" and isinstance(obj, pd.DataFrame):
        df = schema.normalize_columns(obj, required=[schema.LON, schema.LAT], source=what)
        return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df[schema.LON], df[schema.LAT]),
                                crs="EPSG:4326")
    raise SchemaError(f"{what} must be a GeoDataFrame, got {type(obj).__name__}", source=what,
                      fix="read it with gridgis.read_vector(path)")


def _metric(gdf: gpd.GeoDataFrame, mcrs: Any) -> gpd.GeoDataFrame:
    if gdf.crs is not None and gdf.crs.equals(mcrs):
        return gdf
    return to_crs(gdf, mcrs)


def _str_codes(values: Any) -> np.ndarray:
    from .validation import as_codes

    return as_codes(values)


def _first_hit(pi: np.ndarray, gi: np.ndarray, n: int, rank: np.ndarray | None = None
               ) -> np.ndarray:
    """For each of ``n`` query items the hit with the lowest ``rank`` (default: index)."""
    out = np.full(n, -1, dtype=np.int64)
    if len(pi):
        key = gi if rank is None else rank[gi]
        order = np.lexsort((key, pi))
        pi, gi = pi[order], gi[order]
        first = np.r_[True, pi[1:] != pi[:-1]]
        out[pi[first]] = gi[first]
    return out


def _geometries(obj: Any, crs: Any, mcrs: Any) -> np.ndarray:
    """Geometries from a shapely geometry, a list of them, coordinates, or a GeoSeries/frame."""
    if isinstance(obj, (gpd.GeoDataFrame, gpd.GeoSeries)):
        gs = obj.geometry if isinstance(obj, gpd.GeoDataFrame) else obj
        if gs.crs is None:
            gs = gs.set_crs(crs)
        return np.asarray(gs.to_crs(mcrs).array, dtype=object)
    if isinstance(obj, BaseGeometry):
        geoms = np.array([obj], dtype=object)
    elif isinstance(obj, (list, tuple)) and obj and all(isinstance(g, BaseGeometry) for g in obj):
        geoms = np.array(obj, dtype=object)
    else:
        try:
            coords = np.asarray(obj, dtype=float)
        except (TypeError, ValueError):
            raise GeometryError(f"cannot read a geometry from {type(obj).__name__}",
                                fix=_GEOM_FIX) from None
        if coords.ndim != 2 or coords.shape[1] != 2 or len(coords) < 2:
            raise GeometryError("coordinates must be a list of (x, y) pairs", fix=_GEOM_FIX)
        geoms = np.array([shapely.LineString(coords)], dtype=object)
    gs = gpd.GeoSeries(geoms, crs=crs)
    return np.asarray(gs.to_crs(mcrs).array, dtype=object)


# ---- the plan ------------------------------------------------------------------------------------


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
        grids = _as_gdf(grids, "grids")
        self.rules: Rules = load_rules(rules)
        self.scheme: CodeScheme = load_scheme(scheme)
        self.seed = int(seed)
        self.path: Path | None = Path(path) if path is not None else None
        self._crs = grids.crs
        present = ~(grids.geometry.isna() | grids.geometry.is_empty)
        if not present.any():
            raise SchemaError("no grid has a geometry", source="grids")
        self._mcrs = metric_crs(grids[present])
        self._inputs: dict[str, gpd.GeoDataFrame] = {}

        # context layers (metric)
        self._comm = None
        if communities is not None:
            c = schema.normalize_columns(_as_gdf(communities, "communities"),
                                         required=[schema.CODE], source="communities")
            self._inputs["communities"] = communities
            c = _metric(c, self._mcrs).reset_index(drop=True).copy()
            c[schema.CODE] = _str_codes(c[schema.CODE])
            if schema.NAME not in c:
                c[schema.NAME] = c[schema.CODE]
            c[schema.NAME] = c[schema.NAME].astype(object).where(c[schema.NAME].notna(),
                                                                 c[schema.CODE]).astype(str)
            if schema.AREA_KIND not in c:
                c[schema.AREA_KIND] = "urban"
            self._comm = c
        self._comm_names = ({} if self._comm is None else
                            dict(zip(self._comm[schema.CODE], self._comm[schema.NAME], strict=True)))
        self._bld = self._bpts = self._bhh = self._bpop = self._bcomm = None
        if buildings is not None:
            self._inputs["buildings"] = buildings
            b = schema.normalize_columns(_as_gdf(buildings, "buildings"), source="buildings")
            b = _metric(b, self._mcrs).reset_index(drop=True)
            from ._geometry import representative_points

            self._bld = b
            self._bpts = representative_points(np.asarray(b.geometry.array, dtype=object))
            self._bhh = (pd.to_numeric(b[schema.HOUSEHOLDS], errors="coerce").fillna(0)
                         .to_numpy(float) if schema.HOUSEHOLDS in b else np.zeros(len(b)))
            self._bpop = (pd.to_numeric(b[schema.POPULATION], errors="coerce").fillna(0)
                          .to_numpy(float) if schema.POPULATION in b else np.zeros(len(b)))
            self._bcomm = self._locate_community(self._bpts)
        self._addr = self._acomm = None
        if addresses is not None:
            self._inputs["addresses"] = addresses
            a = schema.normalize_columns(_as_gdf(addresses, "addresses"), source="addresses")
            a = _metric(a, self._mcrs).reset_index(drop=True)
            self._addr = a
            self._acomm = self._locate_community(np.asarray(a.geometry.array, dtype=object))
        self._roads = self._context(roads, "roads")
        self._rivers = self._context(rivers, "rivers")
        self._sites = self._context(special_sites, "special_sites")
        self._units = self._context(units, "units")

        g = self._prepare_grids(grids)
        self._known: set[str] = set()
        self._undo: list[_Step] = []
        self._redo: list[_Step] = []
        bgrid = None
        if self._bld is not None:
            bgrid = self._locate_buildings(np.asarray(g.geometry.array, dtype=object),
                                           g[schema.GRID_CODE].to_numpy(object))
            hh, pop = self._sums(bgrid, g[schema.GRID_CODE].to_numpy(object))
            g[schema.HOUSEHOLDS] = hh
            g[schema.POPULATION] = pop
        t = time.perf_counter()
        report = self._run_validate(g)
        self.last_validate_seconds = time.perf_counter() - t
        self._skipped = report.skipped
        self._state = _State(grids=g, findings=list(report.findings), bgrid=bgrid)
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
        """Open a plan from a GeoPackage.

        A versions file (:mod:`gridgis.versions`) gives its latest version (or ``version``);
        any other file the layer ``layer`` (default: a layer named ``grids`` or ``plan``).
        Context layers named ``communities``, ``buildings``, ``addresses``, ``roads``,
        ``rivers`` and ``special_sites`` in the same file are used unless given here.

        Raises
        ------
        InputFileError
            If the file is missing or holds no plan layer.
        """
        from .io import list_layers, read_vector
        from .versions import META_LAYER, known_codes, load_version

        path = Path(path)
        if not path.exists():
            raise InputFileError("file not found", source=path)
        layers = list_layers(path)
        versioned = META_LAYER in layers and layer is None
        if versioned:
            grids = load_version(path, version)
        else:
            if layer is None:
                layer = next((n for n in ("grids", "plan") if n in layers), None)
                if layer is None:
                    raise InputFileError(
                        f"no plan layer found; layers are {layers}", source=path,
                        fix="pass layer=NAME, or save a plan there with Plan.save / "
                            "gridgis.versions.save_version")
            grids = read_vector(path, layer=layer)
        given = {"communities": communities, "buildings": buildings, "addresses": addresses,
                 "roads": roads, "rivers": rivers, "special_sites": special_sites}
        for name in _CONTEXT_LAYERS:
            if given[name] is None and name in layers:
                given[name] = read_vector(path, layer=name, allow_empty=True)
        plan = cls(grids, given["communities"], given["buildings"], given["addresses"], rules,
                   roads=given["roads"], rivers=given["rivers"],
                   special_sites=given["special_sites"], scheme=scheme, seed=seed, path=path)
        if versioned:
            plan._known = set(known_codes(path))
            plan._seen |= plan._known
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
        """
        from .partition import build_grids

        res = build_grids(communities, roads, buildings, rules, special_sites=special_sites,
                          seed=seed, rivers=rivers)
        plan = cls(res.grids, communities, buildings, addresses, rules, roads=roads,
                   rivers=rivers, special_sites=special_sites, units=res.units, scheme=scheme,
                   seed=seed)
        plan.build_result = res
        return plan

    def _context(self, gdf: gpd.GeoDataFrame | None, what: str) -> gpd.GeoDataFrame | None:
        if gdf is None:
            return None
        self._inputs[what] = gdf
        out = schema.normalize_columns(_as_gdf(gdf, what), source=what)
        return _metric(out, self._mcrs).reset_index(drop=True)

    def _locate_community(self, points: np.ndarray) -> np.ndarray:
        out = np.full(len(points), "", dtype=object)
        if self._comm is None or not len(points):
            return out
        ok = ~(shapely.is_missing(points) | shapely.is_empty(points))
        tree = shapely.STRtree(np.asarray(self._comm.geometry.array, dtype=object))
        pi, ci = tree.query(points[ok], predicate="intersects")
        hit = _first_hit(pi, ci, int(ok.sum()))
        codes = self._comm[schema.CODE].to_numpy(object)
        res = np.where(hit >= 0, codes[np.maximum(hit, 0)], "")
        out[ok] = res
        return out

    def _prepare_grids(self, grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        g = schema.normalize_columns(grids, source="grids")
        g = _metric(g, self._mcrs).reset_index(drop=True).copy()
        n = len(g)
        geoms = np.asarray(g.geometry.array, dtype=object)
        # zero-length segments (repeated vertices) would not survive re-tiling on one side of
        # a shared edge only; dropping them everywhere keeps shared edges identical
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        if ok.any():
            geoms = geoms.copy()
            geoms[ok] = shapely.remove_repeated_points(geoms[ok], 0.0)
            g = g.set_geometry(gpd.GeoSeries(geoms, index=g.index, crs=g.crs))
        # community of each grid: column, code prefix, location
        comm = (_str_codes(g[schema.COMMUNITY_CODE]) if schema.COMMUNITY_CODE in g
                else np.full(n, "", dtype=object))
        codes = (_str_codes(g[schema.GRID_CODE]) if schema.GRID_CODE in g
                 else np.full(n, "", dtype=object))
        missing_comm = comm == ""
        if missing_comm.any():
            parsed = parse_codes(codes[missing_comm], self.scheme)
            pc = parsed[schema.COMMUNITY_CODE].astype(object).where(parsed["valid"], "")
            comm[missing_comm] = pc.fillna("").to_numpy(object)
        still = comm == ""
        if still.any() and self._comm is not None:
            from ._geometry import representative_points

            ok = still & ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
            comm[ok] = self._locate_community(representative_points(geoms[ok]))
        g[schema.COMMUNITY_CODE] = comm
        kind = (g[schema.KIND].astype(object).where(g[schema.KIND].notna(), BASIC)
                if schema.KIND in g else pd.Series(BASIC, index=g.index, dtype=object))
        g[schema.KIND] = kind.map(lambda v: str(v).strip() or BASIC).to_numpy(object)
        # codes: unique; missing ones get fresh serials
        dup = pd.Series(codes).duplicated(keep=False).to_numpy() & (codes != "")
        if dup.any():
            raise SchemaError(
                f"grid codes must be unique to edit a plan; duplicated: "
                f"{sorted(set(codes[dup]))[:5]}", source="grids",
                where=f"rows {np.flatnonzero(dup)[:10].tolist()}",
                fix="re-code the plan first (gridgis.codes.assign_codes) or fix the codes")
        self._seen = getattr(self, "_seen", set()) | set(codes[codes != ""])
        for i in np.flatnonzero(codes == ""):
            codes[i] = self._fresh_code(comm[i], g[schema.KIND].iloc[i], set(codes))
        g[schema.GRID_CODE] = codes
        if schema.GRID_NAME in g:
            name = g[schema.GRID_NAME].astype(object)
            g[schema.GRID_NAME] = name.where(name.notna() & (name.astype(str) != ""),
                                             pd.Series(codes)).astype(str).to_numpy(object)
        else:
            g[schema.GRID_NAME] = codes
        if schema.FLAG in g:
            g[schema.FLAG] = g[schema.FLAG].astype(object).where(g[schema.FLAG].notna(), "") \
                .astype(str).replace({"nan": "", "<NA>": "", "None": ""}).to_numpy(object)
        else:
            g[schema.FLAG] = ""
        for col in (schema.HOUSEHOLDS, schema.POPULATION):
            g[col] = (pd.to_numeric(g[col], errors="coerce") if col in g
                      else pd.Series(np.nan, index=g.index)).astype(float)
        extra = [c for c in g.columns if c not in _GRID_COLUMNS and c != g.geometry.name]
        return gpd.GeoDataFrame(g[[*_GRID_COLUMNS, *extra]], geometry=g.geometry,
                                crs=self._mcrs)

    # -- views ----------------------------------------------------------------------------------
    @property
    def crs(self) -> Any:
        """CRS of the plan as given (outputs use it)."""
        return self._crs

    @property
    def metric_crs(self) -> Any:
        """Metric CRS the edits and checks run in."""
        return self._mcrs

    @property
    def grids(self) -> gpd.GeoDataFrame:
        """The current plan (a copy, in the plan's CRS)."""
        g = self._state.grids.copy()
        for col in (schema.HOUSEHOLDS, schema.POPULATION):
            if g[col].notna().all():
                g[col] = g[col].round().astype(np.int64)
        return g if g.crs.equals(self._crs) else to_crs(g, self._crs)

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
                                 geometry=g.geometry, crs=self._mcrs)
        parents = None
        if self._comm is not None:
            parents = self._comm[[schema.CODE, schema.NAME, "geometry"]]
        return ValidationReport(findings=list(self._state.findings), crs=self._crs,
                                metric_crs=self._mcrs, grids=shown, parents=parents,
                                rules=self.rules, n_grids=len(g), skipped=dict(self._skipped))

    @property
    def history(self) -> list[Edit]:
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
        return len(self._state.grids)

    def __repr__(self) -> str:
        f = self._state.findings
        n_err = sum(1 for x in f if x.severity == ERROR)
        return (f"<Plan {len(self)} grids in {self._state.grids[schema.COMMUNITY_CODE].nunique()} "
                f"communities: {n_err} errors, {len(f) - n_err} warnings; "
                f"{len(self._undo)} edits>")

    def grid(self, code: str) -> pd.Series:
        """The row of one grid (in the plan's CRS)."""
        i = self._row(code)
        return self.grids.iloc[i]

    def summary(self) -> pd.DataFrame:
        """One row per community: grids, basic/special grids, households of basic grids
        (min/median/max), residents, and current errors/warnings."""
        g = self._state.grids
        comm = g[schema.COMMUNITY_CODE].astype(str)
        basic = g[schema.KIND] == BASIC
        hh = g[schema.HOUSEHOLDS].where(basic)
        out = pd.DataFrame({
            "grids": g.groupby(comm).size(),
            "basic": basic.groupby(comm).sum().astype(int),
            "special": (~basic).groupby(comm).sum().astype(int),
            "households_min": hh.groupby(comm).min(),
            "households_median": hh.groupby(comm).median(),
            "households_max": hh.groupby(comm).max(),
            "households": g[schema.HOUSEHOLDS].groupby(comm).sum(min_count=1),
            "population": g[schema.POPULATION].groupby(comm).sum(min_count=1),
        })
        out.index.name = schema.COMMUNITY_CODE
        code_comm = dict(zip(g[schema.GRID_CODE], comm, strict=True))
        errors: dict[str, int] = {}
        warnings: dict[str, int] = {}
        for f in self._state.findings:
            c = f.parent or next((code_comm[x] for x in f.grids if x in code_comm), "")
            bucket = errors if f.severity == ERROR else warnings
            bucket[c] = bucket.get(c, 0) + 1
        extra = sorted((set(errors) | set(warnings)) - set(out.index))
        if extra:
            out = out.reindex([*out.index, *extra])
        out["errors"] = [errors.get(c, 0) for c in out.index]
        out["warnings"] = [warnings.get(c, 0) for c in out.index]
        out.insert(0, schema.NAME, [self._comm_names.get(c, "") for c in out.index])
        for col in ("grids", "basic", "special"):
            out[col] = out[col].fillna(0).astype(int)
        return out

    # -- validation -----------------------------------------------------------------------------
    def _run_validate(self, grids: gpd.GeoDataFrame, parents: gpd.GeoDataFrame | None = None,
                      bmask: np.ndarray | None = None, amask: np.ndarray | None = None
                      ) -> ValidationReport:
        from .validation import validate

        b = self._bld if bmask is None or self._bld is None else self._bld[bmask]
        a = self._addr if amask is None or self._addr is None else self._addr[amask]
        return validate(grids, parents=parents if parents is not None else self._comm,
                        buildings=b, addresses=a, rules=self.rules,
                        scheme=self.scheme)

    def _revalidate(self, old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, touched: set[str],
                    full: bool) -> tuple[list[Finding], list[Finding], list[Finding], tuple]:
        """Validate what an edit touched; return (all findings, before-in-scope, after-in-scope,
        scope communities)."""
        findings = self._state.findings
        if full or self._comm is None:
            report = self._run_validate(new)
            self._skipped = report.skipped
            return list(report.findings), list(findings), list(report.findings), ()
        geoms = np.asarray(new.geometry.array, dtype=object)
        codes = new[schema.GRID_CODE].to_numpy(object)
        comm = new[schema.COMMUNITY_CODE].to_numpy(object)
        old_comm = dict(zip(old[schema.GRID_CODE], old[schema.COMMUNITY_CODE], strict=True))
        code_comm = {**old_comm, **dict(zip(codes, comm, strict=True))}
        scope = {code_comm[c] for c in touched if c in code_comm}
        rows = np.flatnonzero(np.isin(codes, list(touched)))
        if len(rows):  # communities of the grids next to the edited ones
            tree = shapely.STRtree(geoms)
            near = touching(tree, geoms, rows)
            scope |= set(comm[near])
        scope.discard("")
        pc = self._comm[self._comm[schema.CODE].isin(scope)]
        tree = shapely.STRtree(geoms)
        _, hit = tree.query(np.asarray(pc.geometry.array, dtype=object), predicate="intersects")
        sub_rows = np.union1d(np.flatnonzero(np.isin(comm, list(scope))), hit)
        sub = new.iloc[sub_rows]
        bmask = None if self._bcomm is None else np.isin(self._bcomm, list(scope))
        amask = None if self._acomm is None else np.isin(self._acomm, list(scope))
        report = self._run_validate(sub, pc, bmask, amask)

        def in_scope(f: Finding) -> bool:
            if f.rule == "code_duplicate":
                return False
            if f.parent:
                return f.parent in scope
            return any(code_comm.get(x, "") in scope for x in f.grids)

        kept = [f for f in findings if not in_scope(f)]
        before = [f for f in findings if in_scope(f)]
        after = [f for f in report.findings if in_scope(f)]
        return sort_findings(kept + after), before, after, tuple(sorted(scope))

    def validate(self) -> ValidationReport:
        """Re-validate the whole plan (edits re-validate only what they touch) and return the
        report. Findings are replaced in place; this is not an edit."""
        t = time.perf_counter()
        report = self._run_validate(self._state.grids)
        self.last_validate_seconds = time.perf_counter() - t
        self._skipped = report.skipped
        self._state = replace(self._state, findings=list(report.findings))
        return self.report

    # -- households -------------------------------------------------------------------------------
    def _locate_buildings(self, geoms: np.ndarray, codes: np.ndarray,
                          subset: np.ndarray | None = None) -> np.ndarray:
        """Grid code of each building (of ``subset`` positions when given) by its point."""
        pts = self._bpts if subset is None else self._bpts[subset]
        out = np.full(len(pts), None, dtype=object)
        ok = ~(shapely.is_missing(pts) | shapely.is_empty(pts))
        if not ok.any() or not len(geoms):
            return out
        tree = shapely.STRtree(geoms)
        pi, gi = tree.query(pts[ok], predicate="intersects")
        rank = np.argsort(np.argsort(codes.astype(str), kind="stable"), kind="stable")
        hit = _first_hit(pi, gi, int(ok.sum()), rank)
        res = np.where(hit >= 0, codes[np.maximum(hit, 0)], None)
        out[ok] = res
        return out

    def _sums(self, bgrid: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = {c: i for i, c in enumerate(codes)}
        idx = np.array([pos.get(c, -1) if c is not None else -1 for c in bgrid], dtype=np.int64)
        ok = idx >= 0
        hh = np.bincount(idx[ok], weights=self._bhh[ok], minlength=len(codes))
        pop = np.bincount(idx[ok], weights=self._bpop[ok], minlength=len(codes))
        return hh, pop

    # -- codes ------------------------------------------------------------------------------------
    def _serial(self, code: str, community: str, kind: str) -> int | None:
        """Serial of ``code`` in ``community``'s range for ``kind`` (None when it is not one)."""
        rng = self.scheme.range_for(kind)
        head = f"{community}{self.scheme.separator}{rng.prefix}"
        tail = code[len(head):]
        if code.startswith(head) and len(tail) == self.scheme.serial_width and tail.isdigit():
            serial = int(tail)
            return serial if rng.start <= serial <= rng.stop else None
        return None

    def _fresh_code(self, community: str, kind: str, taken: set[str]) -> str:
        """A code never used in this plan, its session or its versions file."""
        used = set(self._seen) | set(taken)
        if hasattr(self, "_state"):
            used |= set(self._state.grids[schema.GRID_CODE])
        rng = self.scheme.range_for(kind)
        if community:
            serials = {s for s in (self._serial(c, community, kind) for c in used
                                   if c.startswith(community)) if s is not None}
            candidates = [max(serials) + 1] if serials else [rng.start]
            candidates += list(range(rng.start, rng.stop + 1))
            for s in candidates:
                if rng.start <= s <= rng.stop:
                    try:
                        code = self.scheme.format(community, s, kind)
                    except GridGISError:
                        break
                    if code not in used:
                        self._seen.add(code)
                        return code
        k = 1
        while f"{community or 'grid'}-new{k}" in used:
            k += 1
        code = f"{community or 'grid'}-new{k}"
        self._seen.add(code)
        return code

    def _new_name(self, code: str, community: str, kind: str, base_name: str, part: int) -> str:
        serial = self._serial(code, community, kind)
        if kind == BASIC and community in self._comm_names and serial is not None:
            return f"{self._comm_names[community]}第{serial}网格"
        return f"{base_name}-{part}"

    # -- edit machinery ---------------------------------------------------------------------------
    def _row(self, code: Any) -> int:
        codes = self._state.grids[schema.GRID_CODE].to_numpy(object)
        hit = np.flatnonzero(codes == str(code))
        if not len(hit):
            raise SchemaError(f"no grid with code {code!r} in the plan", where=str(code),
                              fix="see plan.codes for the codes of the current plan")
        return int(hit[0])

    def _commit(self, op: str, description: str, params: dict[str, Any],
                new: gpd.GeoDataFrame, *, added: Sequence[str] = (), removed: Sequence[str] = (),
                changed: Sequence[str] = (), recount: Sequence[str] = (), full: bool = False,
                crosswalk: pd.DataFrame | None = None, t0: float | None = None) -> EditResult:
        """Recount, re-validate, record and apply an edit."""
        t0 = time.perf_counter() if t0 is None else t0
        old_state = self._state
        new = new.reset_index(drop=True)
        bgrid = old_state.bgrid
        if self._bld is not None and (recount or full):
            bgrid = self._recount(new, bgrid, set(recount) | set(removed), full)
        tv = time.perf_counter()
        touched = set(added) | set(removed) | set(changed)
        findings, before, after, scope = self._revalidate(old_state.grids, new, touched, full)
        caused, cleared, changed_f = compare_findings(before, after)
        t_end = time.perf_counter()
        edit = Edit(step=len(self._undo) + 1, op=op, description=description, params=params,
                    added=tuple(added), removed=tuple(removed), changed=tuple(changed),
                    n_caused=len(caused), n_cleared=len(cleared), seconds=t_end - t0)
        new_state = _State(grids=new, findings=findings, bgrid=bgrid,
                           crosswalk=crosswalk if crosswalk is not None else old_state.crosswalk)
        self._undo.append(_Step(edit, old_state, new_state))
        self._redo.clear()
        self._state = new_state
        self._seen |= set(new[schema.GRID_CODE])
        self.last_validate_seconds = t_end - tv
        return EditResult(edit=edit, caused=sort_findings(caused), cleared=sort_findings(cleared),
                          changed=changed_f, scope=scope, seconds=t_end - t0,
                          validate_seconds=t_end - tv)

    def _recount(self, new: gpd.GeoDataFrame, bgrid: np.ndarray, codes: set[str], full: bool
                 ) -> np.ndarray:
        """Re-locate the buildings of the grids ``codes`` and update households/population."""
        gcodes = new[schema.GRID_CODE].to_numpy(object)
        geoms = np.asarray(new.geometry.array, dtype=object)
        if full or bgrid is None:
            bgrid = self._locate_buildings(geoms, gcodes)
            hh, pop = self._sums(bgrid, gcodes)
            new[schema.HOUSEHOLDS] = hh
            new[schema.POPULATION] = pop
            return bgrid
        rows = np.flatnonzero(np.isin(gcodes, list(codes)))
        bgrid = bgrid.copy()
        # buildings that were in one of these grids or in none, and those now inside them
        was = np.array([c is None or c in codes for c in bgrid], dtype=bool)
        if len(rows):
            tree = shapely.STRtree(geoms[rows])
            ok = ~(shapely.is_missing(self._bpts) | shapely.is_empty(self._bpts))
            pi, _ = tree.query(self._bpts[ok], predicate="intersects")
            inside = np.zeros(len(bgrid), dtype=bool)
            inside[np.flatnonzero(ok)[pi]] = True
            cand = np.flatnonzero(was | inside)
        else:
            cand = np.flatnonzero(was)
        if len(cand):
            loc = self._locate_buildings(geoms[rows], gcodes[rows], cand) if len(rows) else \
                np.full(len(cand), None, dtype=object)
            # a building on the edge of an untouched grid stays there
            stay = ~was[cand] & np.array([x is None for x in loc], dtype=bool)
            loc[stay] = bgrid[cand][stay]
            keep_old = ~was[cand] & np.array([x is not None for x in loc], dtype=bool)
            loc[keep_old] = bgrid[cand][keep_old]
            bgrid[cand] = loc
        hh, pop = self._sums(bgrid, gcodes)
        new.loc[rows, schema.HOUSEHOLDS] = hh[rows]
        new.loc[rows, schema.POPULATION] = pop[rows]
        return bgrid

    def _apply_retiling(self, ret: Retiling, labels: np.ndarray, edited: Sequence[int],
                        new_parts: list[dict[str, Any]]) -> tuple[gpd.GeoDataFrame, list, list,
                                                                   list]:
        """Turn relabelled faces into a new grid table.

        ``labels[k]`` is the new owner of pair ``k`` of ``ret``: a grid index, or ``n + j`` for
        the ``j``-th entry of ``new_parts`` (dicts with ``community_code``, ``kind``,
        ``base`` (row whose attributes it copies) and optional ``grid_code``/``grid_name``).
        Returns the table and the codes added, removed and changed.
        """
        g = self._state.grids
        n = len(g)
        geoms = np.asarray(g.geometry.array, dtype=object)
        edited_set = set(int(e) for e in edited)
        neighbours = [int(r) for r in ret.region if int(r) not in edited_set]
        out = assemble(ret, labels, geoms, keep_same=neighbours)
        check_neighbours(geoms, out, neighbours)
        # the re-tiled region must stay a valid coverage if it was one
        tree = shapely.STRtree(geoms)
        ring = touching(tree, geoms, ret.region)
        region_set = set(int(r) for r in ret.region)
        old_ring = geoms[ring]
        new_ring = np.array([out[int(r)] if int(r) in out else geoms[r] for r in ring
                             if int(r) in out or int(r) not in region_set]
                            + [v for k, v in out.items() if k >= n], dtype=object)
        if coverage_ok(old_ring) and not coverage_ok(new_ring):
            raise InexactEdit("the edit would break the exact coverage of its neighbourhood")
        # households without buildings: share of each old grid's count by area
        hh_new: dict[int, float] = {}
        pop_new: dict[int, float] = {}
        if self._bld is None:
            farea = ret.arr.area[ret.pf]
            tot = pd.Series(farea).groupby(ret.pg).transform("sum").to_numpy()
            share = np.where(tot > 0, farea / np.maximum(tot, 1e-12), 0.0)
            for col, acc in ((schema.HOUSEHOLDS, hh_new), (schema.POPULATION, pop_new)):
                vals = g[col].to_numpy(float)[ret.pg] * share
                for lab, v in zip(labels.tolist(), vals.tolist(), strict=True):
                    acc[lab] = acc.get(lab, 0.0) + (0.0 if math.isnan(v) else v)
        new = g.copy()
        new_geoms = geoms.copy()
        changed, removed = [], []
        codes = g[schema.GRID_CODE].to_numpy(object)
        for r in sorted(edited_set | set(neighbours)):
            if r in out:
                if out[r] is not geoms[r]:
                    new_geoms[r] = out[r]
                if r in edited_set:
                    changed.append(codes[r])
            else:
                removed.append(codes[r])
        new = new.set_geometry(gpd.GeoSeries(new_geoms, crs=self._mcrs))
        if self._bld is None:
            for r, v in hh_new.items():
                if r < n:
                    new.loc[r, schema.HOUSEHOLDS] = v
                    new.loc[r, schema.POPULATION] = pop_new.get(r, 0.0)
        rows = []
        added = []
        taken = set(codes)
        for j, part in enumerate(new_parts):
            lab = n + j
            if lab not in out:
                continue
            base = g.iloc[int(part["base"])]
            row = base.copy()
            comm = part.get("community_code", base[schema.COMMUNITY_CODE])
            kind = part.get("kind", base[schema.KIND])
            code = part.get("grid_code") or self._fresh_code(comm, kind, taken)
            taken.add(code)
            row[schema.GRID_CODE] = code
            row[schema.COMMUNITY_CODE] = comm
            row[schema.KIND] = kind
            row[schema.GRID_NAME] = part.get("grid_name") or self._new_name(
                code, comm, kind, str(base[schema.GRID_NAME]), j + 2)
            row[schema.FLAG] = part.get("flag", "")
            row[schema.HOUSEHOLDS] = hh_new.get(lab, np.nan) if self._bld is None else np.nan
            row[schema.POPULATION] = pop_new.get(lab, np.nan) if self._bld is None else np.nan
            row[new.geometry.name] = out[lab]
            rows.append(row)
            added.append(code)
        keep = ~np.isin(codes, removed)
        new = new[keep]
        if rows:
            extra = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=new.geometry.name,
                                     crs=self._mcrs)
            new = pd.concat([new, extra], ignore_index=True)
        new = gpd.GeoDataFrame(new, geometry=g.geometry.name, crs=self._mcrs).reset_index(
            drop=True)
        return new, added, removed, changed

    def _retile_edit(self, edited: Sequence[int], lines_for: Any, relabel: Any
                     ) -> tuple[gpd.GeoDataFrame, list, list, list]:
        """Re-tile around ``edited`` (retrying with shorter line extensions when the first
        noding disturbs a neighbour) and apply ``relabel(ret) -> (labels, new_parts)``."""
        g = self._state.grids
        geoms = np.asarray(g.geometry.array, dtype=object)
        tree = shapely.STRtree(geoms)
        last: Exception | None = None
        for extend in (EXTEND_M, 0.002):
            ret = retile(geoms, edited, lines_for(extend), tree)
            labels, parts = relabel(ret)
            try:
                return self._apply_retiling(ret, labels, edited, parts)
            except InexactEdit as exc:
                last = exc
        raise PartitionError(
            f"the edit could not be applied exactly ({last})",
            fix="draw the line or area a little differently (away from grid corners)")

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
        t0 = time.perf_counter()
        codes = [str(c) for c in dict.fromkeys(codes)]
        if len(codes) < 2:
            raise PartitionError("merge needs at least two grid codes", where=str(codes))
        rows = [self._row(c) for c in codes]
        g = self._state.grids
        comms = set(g[schema.COMMUNITY_CODE].iloc[rows])
        if len(comms) > 1:
            raise PartitionError(
                f"grids {codes} lie in different communities {sorted(comms)}",
                fix="a grid never crosses its community line: merge grids of one community")
        from ._geometry import fast_union

        geoms = np.asarray(g.geometry.array, dtype=object)
        merged = fast_union(geoms[rows])
        parts = shapely.get_parts(merged)
        if len(parts[shapely.area(parts) > 0.01]) > 1:
            raise PartitionError(
                f"grids {codes} do not form one connected piece",
                fix="merge grids that share an edge (see plan.neighbours(code))")
        keep = rows[0]
        new = g.copy()
        new_geoms = geoms.copy()
        new_geoms[keep] = merged if merged.geom_type != "MultiPolygon" or len(parts) != 1 \
            else parts[0]
        new = new.set_geometry(gpd.GeoSeries(new_geoms, crs=self._mcrs))
        for col in (schema.HOUSEHOLDS, schema.POPULATION):
            new.loc[keep, col] = g[col].iloc[rows].sum(min_count=1)
        if name is not None:
            new.loc[keep, schema.GRID_NAME] = str(name)
        removed = codes[1:]
        new = new[~new[schema.GRID_CODE].isin(removed)]
        desc = f"merge {', '.join(codes)} into {codes[0]}"
        return self._commit("merge", desc, {"codes": codes, "name": name}, new,
                            removed=removed, changed=[codes[0]], recount=[codes[0]], t0=t0)

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
        t0 = time.perf_counter()
        if (line is None) == (by is None):
            raise PartitionError("give either line=… or by='buildings'", where="split")
        r = self._row(code)
        g = self._state.grids
        geom = g.geometry.iloc[r]
        if line is not None:
            lines_m = _geometries(line, self._crs, self._mcrs)

            def lines_for(extend: float) -> np.ndarray:
                return clip_lines(lines_m, geom, extend)

            if not len(lines_for(EXTEND_M)):
                raise PartitionError(f"the line does not reach grid {code}",
                                     fix="draw it across the grid, in the plan's CRS")
            desc = f"split {code} along a line"
            params: dict[str, Any] = {"code": code, "line": shapely.to_wkt(
                shapely.union_all(lines_m), rounding_precision=3)}

            def relabel(ret: Retiling) -> tuple[np.ndarray, list[dict]]:
                mine = ret.pg == r
                faces = np.unique(ret.pf[mine])
                groups = self._merge_slivers(ret, faces)
                if groups.max() < 1:
                    raise PartitionError(
                        f"the line does not cut grid {code} into pieces",
                        fix="draw the line across the whole grid, from one edge to another")
                return self._part_labels(ret, r, faces, groups)
        elif by == "buildings":
            parts = int(parts)
            if parts < 2:
                raise PartitionError("parts must be at least 2", where=f"parts={parts}")
            b_in = self._buildings_in(geom)
            rng_seed = self.seed if seed is None else int(seed)

            def lines_for(extend: float) -> np.ndarray:
                from .partition.units import split_lines

                cut = split_lines(geom, np.asarray(self._bld.geometry.array)[b_in]) \
                    if self._bld is not None and len(b_in) else np.empty(0, dtype=object)
                cut = clip_lines(cut, geom, extend) if len(cut) else cut
                road = [clip_lines(np.asarray(x.geometry.array, dtype=object), geom, extend)
                        for x in (self._roads, self._rivers) if x is not None]
                return np.concatenate([cut, *road]) if road else cut

            desc = f"split {code} into {parts} grids by buildings"
            params = {"code": code, "by": by, "parts": parts, "seed": rng_seed}

            def relabel(ret: Retiling) -> tuple[np.ndarray, list[dict]]:
                faces = np.unique(ret.pf[ret.pg == r])
                groups = self._split_faces(ret, faces, r, parts, rng_seed, code)
                return self._part_labels(ret, r, faces, groups)
        else:
            raise PartitionError(f"unknown split mode by={by!r}", fix="use by='buildings'")
        new, added, removed, changed = self._retile_edit([r], lines_for, relabel)
        return self._commit("split", desc, params, new, added=added, removed=removed,
                            changed=changed, recount=[*added, *changed], t0=t0)

    def _buildings_in(self, geom: BaseGeometry) -> np.ndarray:
        if self._bld is None:
            return np.zeros(0, dtype=np.int64)
        ok = ~(shapely.is_missing(self._bpts) | shapely.is_empty(self._bpts))
        idx = np.flatnonzero(ok)
        hit = shapely.intersects(geom, self._bpts[idx])
        return idx[hit]

    def _merge_slivers(self, ret: Retiling, faces: np.ndarray) -> np.ndarray:
        """Group faces of one grid, merging slivers into their neighbours; labels 0..k-1."""
        from .partition.blocks import merge_slivers

        tol = self.rules.tolerances
        group = np.full(len(ret.arr.faces), -1, dtype=np.int64)
        group[faces] = 0
        lab = merge_slivers(ret.arr, group, min_area=tol.sliver_area_m2,
                            min_thinness=tol.sliver_thinness, max_width=4.0)
        _, inv = np.unique(lab[faces], return_inverse=True)
        return inv

    def _split_faces(self, ret: Retiling, faces: np.ndarray, r: int, parts: int, seed: int,
                     code: str) -> np.ndarray:
        """Group the faces of grid ``r`` into ``parts`` contiguous, balanced regions."""
        from .partition.regions import RegionOptions, SizeRule, UnitGraph, plan_component

        arr = ret.arr
        nf = len(faces)
        if nf < parts:
            raise PartitionError(
                f"grid {code} falls into only {nf} building cell(s); cannot make {parts} grids",
                fix="split it with a line instead, or ask for fewer parts")
        local = np.full(len(arr.faces), -1, dtype=np.int64)
        local[faces] = np.arange(nf)
        meas = np.zeros((nf, 2))
        if self._bld is not None:
            b_in = self._buildings_in(shapely.union_all(arr.faces[faces]))
            if len(b_in):
                tree = shapely.STRtree(arr.faces[faces])
                pi, fi = tree.query(self._bpts[b_in], predicate="intersects")
                hit = _first_hit(pi, fi, len(b_in))
                okb = hit >= 0
                meas[:, 0] = np.bincount(hit[okb], weights=self._bhh[b_in][okb], minlength=nf)
                meas[:, 1] = np.bincount(hit[okb], weights=self._bpop[b_in][okb], minlength=nf)
        profile = self.rules.profile_for(self._area_kind(
            self._state.grids[schema.COMMUNITY_CODE].iloc[r]))
        basis = 0 if profile.basis == "households" else 1
        m = meas[:, [basis, 1 - basis]]
        total = m.sum(axis=0)
        if total[0] <= 0:  # no households: balance area
            m = np.column_stack([arr.area[faces], np.zeros(nf)])
            total = m.sum(axis=0)
        lo, hi = profile.bounds
        if not (parts * lo <= total[0] <= parts * hi) or total[0] <= 0 or m is not meas:
            lo, hi = 0.6 * total[0] / parts, 1.4 * total[0] / parts
        rule = SizeRule(lo=np.array([lo, 0.0]), hi=np.array([hi, np.inf]),
                        target=float(total[0] / parts))
        e = arr.edges
        inside = (local[e.i] >= 0) & (local[e.j] >= 0)
        eu, ev = local[e.i[inside]], local[e.j[inside]]
        swap = eu > ev
        eu, ev = np.where(swap, ev, eu), np.where(swap, eu, ev)
        graph = UnitGraph(m, arr.area[faces], arr.perimeter[faces], eu, ev,
                          e.length[inside], np.zeros(int(inside.sum())))
        if len(graph.components(np.arange(nf))) > 1:
            raise PartitionError(f"grid {code} is in several pieces; repair it before splitting")
        rng = np.random.default_rng([seed & 0xFFFFFFFF, int(r)])
        regions = plan_component(graph, np.arange(nf), rule, rng, RegionOptions(), k=parts)
        groups = np.zeros(nf, dtype=np.int64)
        for k, reg in enumerate(regions):
            groups[reg.nodes] = k
        return groups

    def _area_kind(self, community: str) -> str:
        if self._comm is None:
            return "urban"
        hit = self._comm[self._comm[schema.CODE] == community]
        return str(hit[schema.AREA_KIND].iloc[0]) if len(hit) else "urban"

    def _part_labels(self, ret: Retiling, r: int, faces: np.ndarray, groups: np.ndarray
                     ) -> tuple[np.ndarray, list[dict]]:
        """Labels for a split of grid ``r`` whose ``faces`` fall into ``groups``; the group
        with the most households keeps the grid's row (code)."""
        n = len(self._state.grids)
        k = int(groups.max()) + 1
        weight = np.zeros(k)
        area = np.bincount(groups, weights=ret.arr.area[faces], minlength=k)
        if self._bld is not None:
            b_in = self._buildings_in(self._state.grids.geometry.iloc[r])
            if len(b_in):
                tree = shapely.STRtree(ret.arr.faces[faces])
                pi, fi = tree.query(self._bpts[b_in], predicate="intersects")
                hit = _first_hit(pi, fi, len(b_in))
                ok = hit >= 0
                weight = np.bincount(groups[hit[ok]], weights=self._bhh[b_in][ok], minlength=k)
        keeper = int(np.lexsort((-area, -weight))[0])
        order = [keeper] + [x for x in np.lexsort((-area, -weight)).tolist() if x != keeper]
        target = {grp: (r if i == 0 else n + i - 1) for i, grp in enumerate(order)}
        face_group = dict(zip(faces.tolist(), groups.tolist(), strict=True))
        labels = ret.pg.copy()
        mine = np.flatnonzero(ret.pg == r)
        labels[mine] = [target[face_group[int(f)]] for f in ret.pf[mine]]
        new_parts = [{"base": r} for _ in range(k - 1)]
        return labels, new_parts

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
        t0 = time.perf_counter()
        if to is None:
            raise PartitionError("say which grid receives the land: transfer(..., to=CODE)")
        if items is not None:
            units, buildings, area = self._guess_items(items, units, buildings, area)
        if sum(x is not None for x in (units, buildings, area)) != 1:
            raise PartitionError("give exactly one of units=, buildings= or area=")
        t = self._row(to)
        g = self._state.grids
        geoms = np.asarray(g.geometry.array, dtype=object)
        comm = g[schema.COMMUNITY_CODE].to_numpy(object)
        same_comm = comm == comm[t]
        if buildings is not None:
            ids = [str(x) for x in (buildings if isinstance(buildings, (list, tuple, np.ndarray,
                                                                         pd.Series, pd.Index))
                                    else [buildings])]
            sel = self._building_rows(ids)
            pts = self._bpts[sel]
            tree = shapely.STRtree(geoms)
            pi, gi = tree.query(pts, predicate="intersects")
            src = sorted(set(int(x) for x in gi if same_comm[x] and x != t))
            if not src:
                raise PartitionError(
                    f"none of buildings {ids[:5]} lies in another grid of community {comm[t]}",
                    fix="transfer buildings of the same community from a neighbouring grid")
            bgeo = np.asarray(self._bld.geometry.array, dtype=object)

            def lines_for(extend: float) -> np.ndarray:
                from .partition.units import split_lines

                out = []
                for s in src:
                    b_in = self._buildings_in(geoms[s])
                    cut = split_lines(geoms[s], bgeo[b_in])
                    if len(cut):
                        out.append(clip_lines(cut, geoms[s], extend))
                return np.concatenate(out) if out else np.empty(0, dtype=object)

            def moving(ret: Retiling) -> np.ndarray:
                tree_f = shapely.STRtree(ret.arr.faces)
                pi, fi = tree_f.query(pts, predicate="intersects")
                hit = _first_hit(pi, fi, len(pts))
                return np.isin(ret.pf, hit[hit >= 0])

            what = f"buildings {', '.join(ids[:3])}{' …' if len(ids) > 3 else ''}"
            params: dict[str, Any] = {"buildings": ids, "to": to}
        else:
            if units is not None:
                if self._units is None:
                    raise PartitionError("the plan has no units",
                                         fix="open it with Plan.build, or pass units=")
                ids = list(units) if isinstance(units, (list, tuple, np.ndarray, pd.Series)) \
                    else [units]
                uid = self._units["unit_id"].to_numpy() if "unit_id" in self._units else \
                    self._units.index.to_numpy()
                sel = np.isin(uid, ids)
                if not sel.any():
                    raise PartitionError(f"no unit with id in {ids[:5]}")
                piece = shapely.union_all(np.asarray(self._units.geometry.array)[sel])
                what = f"units {', '.join(str(x) for x in ids[:3])}"
                params = {"units": [int(x) if isinstance(x, (int, np.integer)) else x
                                    for x in ids], "to": to}
            else:
                piece = shapely.union_all(_geometries(area, self._crs, self._mcrs))
                what = "an area"
                params = {"area": shapely.to_wkt(piece, rounding_precision=3), "to": to}
            if self._comm is not None:
                cg = self._comm[self._comm[schema.CODE] == comm[t]]
                if len(cg):
                    piece = shapely.intersection(piece, cg.geometry.iloc[0])
            tree = shapely.STRtree(geoms)
            hit = tree.query(piece, predicate="intersects")
            src = sorted(int(x) for x in hit if same_comm[x] and x != t and
                         shapely.area(shapely.intersection(geoms[x], piece)) > 0.01)
            if not src:
                raise PartitionError(f"{what} overlap(s) no other grid of community {comm[t]}",
                                     fix="draw the area over land of a neighbouring grid of the "
                                         "same community")
            boundary = shapely.boundary(piece)

            def lines_for(extend: float) -> np.ndarray:
                return clip_lines(np.array([boundary], dtype=object),
                                  shapely.union_all(geoms[src]), extend)

            def moving(ret: Retiling) -> np.ndarray:
                inside = shapely.within(ret.arr.rep, piece)
                return inside[ret.pf]

        def relabel(ret: Retiling) -> tuple[np.ndarray, list[dict]]:
            labels = ret.pg.copy()
            mv = moving(ret) & np.isin(ret.pg, src)
            if not mv.any():
                raise PartitionError(f"no land of another grid moves to {to}",
                                     fix="check the ids / the area")
            labels[mv] = t
            return labels, []

        new, added, removed, changed = self._retile_edit([t, *src], lines_for, relabel)
        desc = f"transfer {what} to {to}"
        return self._commit("transfer", desc, params, new, removed=removed, changed=changed,
                            recount=changed, t0=t0)

    def _guess_items(self, items: Any, units: Any, buildings: Any, area: Any) -> tuple:
        if isinstance(items, (BaseGeometry, gpd.GeoSeries, gpd.GeoDataFrame)) or (
                isinstance(items, (list, tuple)) and items and
                all(isinstance(x, BaseGeometry) for x in items)):
            return units, buildings, items
        seq = list(items) if isinstance(items, (list, tuple, np.ndarray, pd.Series, pd.Index)) \
            else [items]
        if self._bld is not None and schema.BUILDING_ID in self._bld:
            bids = set(self._bld[schema.BUILDING_ID].astype(str))
            if all(str(x) in bids for x in seq):
                return units, seq, area
        if self._units is not None and all(isinstance(x, (int, np.integer)) for x in seq):
            return seq, buildings, area
        raise PartitionError(f"cannot tell what {seq[:3]} are",
                             fix="pass buildings=[ids], units=[ids] or area=polygon")

    def _building_rows(self, ids: list[str]) -> np.ndarray:
        if self._bld is None:
            raise PartitionError("the plan has no buildings", fix="pass buildings= to the Plan")
        col = (self._bld[schema.BUILDING_ID].astype(str).to_numpy(object)
               if schema.BUILDING_ID in self._bld else self._bld.index.astype(str).to_numpy())
        sel = np.flatnonzero(np.isin(col, ids))
        missing = sorted(set(ids) - set(col[sel]))
        if missing:
            raise PartitionError(f"unknown building id(s) {missing[:5]}", where="buildings")
        return sel

    def rebuild(self, community: str, rules: Rules | dict | str | None = None, *,
                seed: int | None = None, keep: Iterable[str] = ()) -> EditResult:
        """Rebuild the basic grids of one community with the builder, the rest locked.

        Special grids of the community and the grids in ``keep`` stay as they are; the rest of
        the community's land is handed to :func:`gridgis.build_grids` (with ``rules``, default
        the plan's) and the new grids are re-coded against the old ones
        (:func:`gridgis.codes.recode`: essentially unchanged grids keep their codes). Every
        other grid stays exactly as it was.

        Raises
        ------
        PartitionError
            If the plan has no communities layer, or the builder produces no grid.
        """
        from .codes import recode
        from .partition import build_grids

        t0 = time.perf_counter()
        if self._comm is None:
            raise PartitionError("rebuild needs the communities layer",
                                 fix="pass communities= to the Plan")
        community = str(community)
        crow = self._comm[self._comm[schema.CODE] == community]
        if not len(crow):
            raise PartitionError(f"no community {community!r}", where=community)
        keep = {str(k) for k in keep}
        g = self._state.grids
        comm = g[schema.COMMUNITY_CODE].to_numpy(object)
        codes = g[schema.GRID_CODE].to_numpy(object)
        in_c = comm == community
        redo = np.flatnonzero(in_c & (g[schema.KIND].to_numpy(object) == BASIC) &
                              ~np.isin(codes, list(keep)))
        if not len(redo):
            raise PartitionError(f"community {community} has no basic grid to rebuild")
        locked = g.iloc[np.flatnonzero(in_c & ~np.isin(np.arange(len(g)), redo))]
        bsel = None if self._bcomm is None else self._bcomm == community
        bld = None if self._bld is None else self._bld[bsel]
        use_rules = self.rules if rules is None else rules
        seed = self.seed if seed is None else int(seed)
        res = build_grids(crow, self._roads, bld, use_rules, locked=locked if len(locked) else None,
                          seed=seed, rivers=self._rivers)
        built = res.grids.to_crs(self._mcrs) if not res.grids.crs.equals(self._mcrs) else res.grids
        fresh = ~built[schema.GRID_CODE].isin(locked[schema.GRID_CODE])
        new_grids = built[fresh.to_numpy()].reset_index(drop=True)
        if not len(new_grids):
            raise PartitionError(f"the builder made no grid in community {community}")
        bgeoms = np.asarray(built.geometry.array, dtype=object)
        lines = extend_ends(interior_lines(bgeoms, fresh.to_numpy()))
        ngeoms = np.asarray(new_grids.geometry.array, dtype=object)
        n = len(g)

        def lines_for(extend: float) -> np.ndarray:
            return clip_lines(lines, shapely.union_all(g.geometry.to_numpy()[redo]), extend)

        def relabel(ret: Retiling) -> tuple[np.ndarray, list[dict]]:
            labels = ret.pg.copy()
            mine = np.flatnonzero(np.isin(ret.pg, redo))
            reps = ret.arr.rep[ret.pf[mine]]
            tree = shapely.STRtree(ngeoms)
            pi, ni = tree.query(reps, predicate="intersects")
            hit = _first_hit(pi, ni, len(reps))
            miss = hit < 0
            if miss.any():
                hit[miss] = tree.query_nearest(reps[miss], all_matches=False)[1]
            labels[mine] = n + hit
            parts = [{"base": int(redo[0]), "community_code": community, "kind": BASIC,
                      "grid_code": f"__new{j}",
                      "grid_name": str(new_grids[schema.GRID_NAME].iloc[j]),
                      "flag": str(new_grids[schema.FLAG].iloc[j] or "")}
                     for j in range(len(new_grids))]
            return labels, parts

        new, added, removed, changed = self._retile_edit(list(redo), lines_for, relabel)
        # every old basic grid of the community is replaced
        old_codes = [str(c) for c in codes[redo]]
        new = new[~new[schema.GRID_CODE].isin(old_codes)].reset_index(drop=True)
        temp = new[schema.GRID_CODE].astype(str).str.startswith("__new").to_numpy()
        old_sub = g.iloc[redo]
        new_sub = new[temp]
        households = None if self._bld is None else self._bld[bsel]
        retired = sorted(self._seen | set(new[schema.GRID_CODE][~temp]))
        rc = recode(old_sub, new_sub, households=households, scheme=self.scheme,
                    retired=[c for c in retired if c not in set(old_sub[schema.GRID_CODE])])
        new_codes = rc.plan[schema.GRID_CODE].astype(str).to_numpy(object)
        new.loc[temp, schema.GRID_CODE] = new_codes
        old_names = dict(zip(old_sub[schema.GRID_CODE], old_sub[schema.GRID_NAME], strict=True))
        names = new.loc[temp, schema.GRID_NAME].to_numpy(object)
        new.loc[temp, schema.GRID_NAME] = [
            old_names[c] if c in old_names else self._new_name(c, community, BASIC, nm, 0)
            for c, nm in zip(new_codes, names, strict=True)]
        kept = set(new_codes) & set(old_codes)
        added = sorted(set(new_codes) - kept)
        removed = sorted(set(old_codes) - kept)
        changed = sorted(kept)
        desc = f"rebuild community {community} ({len(old_codes)} → {len(new_codes)} grids)"
        params = {"community": community, "seed": seed, "keep": sorted(keep),
                  "rules": None if rules is None else str(rules)}
        result = self._commit("rebuild", desc, params, new, added=added, removed=removed,
                              changed=changed, recount=[*added, *changed], t0=t0)
        result.details["build_report"] = res.report
        return result

    def rename(self, code: str, name: str) -> EditResult:
        """Give grid ``code`` the name ``name`` (``grid_name``)."""
        t0 = time.perf_counter()
        r = self._row(code)
        new = self._state.grids.copy()
        old = new[schema.GRID_NAME].iloc[r]
        new.loc[r, schema.GRID_NAME] = str(name)
        return self._commit("rename", f"rename {code}: {old} → {name}",
                            {"code": code, "name": str(name)}, new, changed=[code], t0=t0)

    def set_kind(self, code: str, kind: str) -> EditResult:
        """Make grid ``code`` a basic grid or a special grid of ``kind`` (school, market …).

        Raises
        ------
        SchemaError
            If ``kind`` is neither ``basic`` nor a special kind of the rules.
        """
        t0 = time.perf_counter()
        kind = str(kind).strip()
        allowed = {BASIC, *self.rules.special.kinds}
        if kind not in allowed:
            raise SchemaError(f"unknown grid kind {kind!r}", where=code,
                              fix=f"use one of {sorted(allowed)} (rules [special] kinds)")
        r = self._row(code)
        new = self._state.grids.copy()
        old = new[schema.KIND].iloc[r]
        new.loc[r, schema.KIND] = kind
        return self._commit("set_kind", f"set kind of {code}: {old} → {kind}",
                            {"code": code, "kind": kind}, new, changed=[code], t0=t0)

    def repair(self) -> EditResult:
        """Repair the plan's geometry (:func:`gridgis.repair`) as one undoable edit.

        Gaps, overlaps, crossings, detached pieces and slivers are fixed; the change log is in
        ``result.details["repair_log"]``.
        """
        from .repairs import repair

        t0 = time.perf_counter()
        old = self._state.grids
        res = repair(old, self._comm, self._bld, self.rules, addresses=self._addr,
                     scheme=self.scheme)
        new = self._prepare_grids(res.plan)
        self._seen |= set(old[schema.GRID_CODE])
        old_codes, new_codes = set(old[schema.GRID_CODE]), set(new[schema.GRID_CODE])
        removed = sorted(old_codes - new_codes)
        merged = old.merge(pd.DataFrame({schema.GRID_CODE: new[schema.GRID_CODE],
                                         "_g": new.geometry.to_numpy()}), on=schema.GRID_CODE)
        moved = shapely.area(shapely.symmetric_difference(
            merged.geometry.to_numpy(), merged["_g"].to_numpy())) > 1e-6
        changed = sorted(merged[schema.GRID_CODE][moved])
        result = self._commit("repair", f"repair the plan ({len(res.log)} changes)",
                              {}, new, removed=removed, changed=changed, full=True, t0=t0)
        result.details["repair_log"] = res.log_frame()
        return result

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
        from .codes import recode

        t0 = time.perf_counter()
        base = self._baseline if against is None else _metric(
            schema.normalize_columns(against, source="against"), self._mcrs)
        cur = self._state.grids
        households = self._bld if self._bld is not None else None
        rc = recode(base, cur, households=households, scheme=self.scheme,
                    retired=sorted(self._known), same_threshold=same_threshold,
                    communities=self._comm)
        new = cur.copy()
        new[schema.GRID_CODE] = rc.plan[schema.GRID_CODE].astype(str).to_numpy(object)
        mapping = dict(zip(cur[schema.GRID_CODE], new[schema.GRID_CODE], strict=True))
        renamed = {a: b for a, b in mapping.items() if a != b}
        names = new[schema.GRID_NAME].to_numpy(object).copy()
        for i, (a, b) in enumerate(zip(cur[schema.GRID_CODE], new[schema.GRID_CODE],
                                       strict=True)):
            if a != b and names[i] == a:
                names[i] = b
        new[schema.GRID_NAME] = names
        desc = f"re-code against the opened plan ({len(renamed)} codes changed)"
        result = self._commit("recode", desc, {"same_threshold": same_threshold}, new,
                              added=sorted(renamed.values()), removed=sorted(renamed),
                              full=True, crosswalk=rc.crosswalk, t0=t0)
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
        if not self._undo:
            raise GridGISError("nothing to undo")
        step = self._undo.pop()
        self._redo.append(step)
        self._state = step.before
        return step.edit

    def redo(self) -> Edit:
        """Redo the last undone edit; returns it.

        Raises
        ------
        GridGISError
            If there is nothing to redo.
        """
        if not self._redo:
            raise GridGISError("nothing to redo")
        step = self._redo.pop()
        self._undo.append(step)
        self._state = step.after
        return step.edit

    def neighbours(self, code: str) -> list[str]:
        """Codes of the grids sharing an edge with grid ``code``."""
        r = self._row(code)
        g = self._state.grids
        geoms = np.asarray(g.geometry.array, dtype=object)
        hit = shapely.STRtree(geoms).query(geoms[r], predicate="intersects")
        out = []
        for h in hit:
            if h != r and shapely.length(shapely.intersection(
                    shapely.boundary(geoms[r]), shapely.boundary(geoms[h]))) > 0:
                out.append(str(g[schema.GRID_CODE].iloc[h]))
        return sorted(out)

    # -- comparison and saving --------------------------------------------------------------------
    def diff(self, other: Plan | gpd.GeoDataFrame | None = None, **kwargs: Any
             ) -> gpd.GeoDataFrame:
        """Grids that differ from ``other`` (default: the plan as opened or last saved), with
        household deltas (:func:`gridgis.versions.diff`); ``other`` is the *before* side."""
        if other is None:
            before = self._baseline
        elif isinstance(other, Plan):
            before = other._state.grids
        else:
            before = other
        return diff(before, self._state.grids, **kwargs).pipe(
            lambda d: to_crs(d, self._crs) if not d.crs.equals(self._crs) else d)

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
        from .versions import known_codes, save_version

        target = Path(path) if path is not None else self.path
        if target is None:
            raise InputFileError("no file to save to", fix="pass a path: plan.save('plans.gpkg')")
        cw = crosswalk if crosswalk is not None else self._state.crosswalk
        context = {k: v for k, v in self._inputs.items() if k in _CONTEXT_LAYERS}
        version = save_version(self.grids, target, author=author, note=note, crosswalk=cw,
                               context=context)
        self.path = target
        self.version = version
        self._baseline = self._state.grids
        self._known = set(known_codes(target))
        self._seen |= self._known
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
        return _svg_map(self, width, height, community)

    def _repr_html_(self) -> str:
        return self.map_html()


# ---- small offline map --------------------------------------------------------------------------


def _svg_map(plan: Plan, width: int, height: int, community: str | None = None) -> str:
    g = plan._state.grids
    findings = plan._state.findings
    geoms = np.asarray(g.geometry.array, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any():
        return "<p>empty plan</p>"
    focus = ok
    if community is not None:
        focus = ok & (g[schema.COMMUNITY_CODE].to_numpy(object) == str(community))
        if not focus.any():
            raise SchemaError(f"no grid in community {community!r}", where=str(community))
    x0, y0, x1, y1 = shapely.total_bounds(geoms[focus])
    if community is not None:  # a margin, and only what shows
        m = 0.05 * max(x1 - x0, y1 - y0)
        x0, y0, x1, y1 = x0 - m, y0 - m, x1 + m, y1 + m
        ok = ok & shapely.intersects(geoms, shapely.box(x0, y0, x1, y1))
        findings = [f for f in findings if f.geometry is None or
                    shapely.intersects(f.geometry, shapely.box(x0, y0, x1, y1))]
    pad = 8
    scale = min((width - 2 * pad) / max(x1 - x0, 1e-9), (height - 2 * pad) / max(y1 - y0, 1e-9))
    h = int(math.ceil((y1 - y0) * scale + 2 * pad))

    def path(geom: BaseGeometry) -> str:
        simple = shapely.simplify(geom, 0.7 / scale)
        parts = []
        for poly in shapely.get_parts(simple):
            if poly.geom_type != "Polygon":
                continue
            for ring in (poly.exterior, *poly.interiors):
                xy = np.asarray(ring.coords)
                px = np.round((xy[:, 0] - x0) * scale + pad, 1)
                py = np.round((y1 - xy[:, 1]) * scale + pad, 1)
                pts = " ".join(f"{a:g},{b:g}" for a, b in zip(px, py, strict=True))
                parts.append(f"M{pts}Z")
        return "".join(parts)

    worst: dict[str, str] = {}
    notes: dict[str, list[str]] = {}
    for f in findings:
        for code in f.grids:
            if worst.get(code) != ERROR:
                worst[code] = f.severity
            notes.setdefault(code, []).append(f"[{f.severity}] {f.rule}")
    fills = {ERROR: "#f3a5a5", WARNING: "#ffe28a"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
           f'viewBox="0 0 {width} {h}" style="background:#fafafa;font:11px sans-serif">']
    for i in np.flatnonzero(ok):
        row = g.iloc[i]
        code = str(row[schema.GRID_CODE])
        fill = fills.get(worst.get(code, ""), "#dbe9f6" if row[schema.KIND] != BASIC
                         else "#e3f0da")
        hh = row[schema.HOUSEHOLDS]
        tip = [f"{code} {row[schema.GRID_NAME]}", f"kind: {row[schema.KIND]}",
               f"households: {'' if pd.isna(hh) else int(round(hh))}"]
        tip += notes.get(code, [])[:6]
        out.append(f'<path d="{path(geoms[i])}" fill="{fill}" stroke="#555" '
                   f'stroke-width="0.6" fill-rule="evenodd"><title>'
                   f'{html.escape(chr(10).join(tip))}</title></path>')
    if plan._comm is not None:
        cg = np.asarray(plan._comm.geometry.array, dtype=object)
        cg = cg[shapely.intersects(cg, shapely.box(x0, y0, x1, y1))]
        out.append(f'<path d="{"".join(path(c) for c in cg)}" fill="none" stroke="#222" '
                   f'stroke-width="1.6" pointer-events="none"/>')
    shown = 0
    for f in findings:
        if f.geometry is None or f.geometry.is_empty or shown >= 200:
            continue
        colour = "#d62728" if f.severity == ERROR else "#e69500"
        tip = html.escape(f"[{f.severity}] {f.rule}: {f.message}")
        geom = f.geometry
        if geom.geom_type in ("Point", "MultiPoint"):
            for p in shapely.get_parts(geom)[:20]:
                cx = (p.x - x0) * scale + pad
                cy = (y1 - p.y) * scale + pad
                out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{colour}">'
                           f'<title>{tip}</title></circle>')
        else:
            from ._geometry import polygonal

            poly = polygonal(np.array([geom], dtype=object))[0]
            if poly.is_empty:
                continue
            out.append(f'<path d="{path(poly)}" fill="{colour}" fill-opacity="0.35" '
                       f'stroke="{colour}" stroke-width="1.5"><title>{tip}</title></path>')
        shown += 1
    out.append("</svg>")
    n_err = sum(1 for f in findings if f.severity == ERROR)
    head = (f"<p><b>{len(g)} grids</b>, {n_err} errors, {len(findings) - n_err} warnings "
            f"(hover a grid for details; red: errors, yellow: warnings)</p>")
    return f'<div style="max-width:{width}px">{head}{"".join(out)}</div>'
