"""The prepared plan: :class:`PlanIndex` (lookup index, metric copy, CRS conversion, nearest grid).

A :class:`PlanIndex` is picklable, so the same object is shipped to dask workers.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
import shapely

from .. import schema
from .._geometry import present, ring_segments
from ..crs import convert, is_metric, points_to_wgs84
from ..errors import CRSError, SchemaError, with_options
from ..i18n import _, tr
from ..rules import Rules, load_rules
from ._exact import ST_INSIDE, ST_OUTSIDE
from ._segments import Segments, paired
from ._status import (
    DIST_OF_STATUS,
    M_INVALID,
    M_NEAREST,
    MATCH_OF_STATUS,
    MATCH_VALUES,
    R_CONVERT,
    R_FAR,
    R_INFINITE,
    R_MISSING,
    R_NEAREST,
    R_OVERLAP,
    R_RANGE,
    R_SHARED,
    R_SWAPPED,
    R_ZERO,
    REASON_OF_STATUS,
    REASONS,
    fill_reason,
)
from .index import GridIndex

if TYPE_CHECKING:  # imported where used: a plan read without them (the lean CLI path) needs neither
    import geopandas as gpd
    import pandas as pd

__all__ = ["HALVES_FROM", "Assigned", "PlanIndex"]

#: Points from which ``to_plan`` with a thread pool converts two halves at once.
HALVES_FROM = 20_000

# ---- the prepared plan ------------------------------------------------------------------------------
class PlanIndex:
    """A grid plan prepared for assignment; build it once, assign many tables with it.

    Parameters
    ----------
    grids
        Grid plan (GeoDataFrame with an explicit CRS and polygonal geometries).
    code_column
        Column of ``grids`` holding the grid code (Chinese aliases such as 网格编码 accepted).
    max_distance
        Metres within which a point outside every grid still gets the nearest grid; ``None``
        takes ``rules.assign.max_distance_m``, ``0`` disables the nearest-grid rule.
    rules
        Rules file / mapping / :class:`~gridgis.rules.Rules` (for ``max_distance_m`` and
        ``far_outside_m``).
    cells
        Number of raster cells of the lookup index (default scales with the number of grids).

    Raises
    ------
    SchemaError, CRSError, GeometryError
        Missing or duplicate grid codes, a plan without CRS, non-polygonal geometries.
    """

    def __init__(
        self,
        grids: gpd.GeoDataFrame,
        *,
        code_column: str = schema.GRID_CODE,
        max_distance: float | None = None,
        rules: Rules | str | dict | None = None,
        cells: int | None = None,
    ) -> None:
        from .._inputs import as_layer, metric

        grids = as_layer(grids, "grids", missing="keep")
        if code_column not in grids.columns:
            raise SchemaError(
                tr("grid plan has no {code_column!r} column; found {original_headers}",
                   code_column=code_column, original_headers=schema.original_headers(grids)),
                source=schema.label(grids, "grids"),
                fix=with_options(None, ("code_column", "COLUMN")) or tr("code the plan first"),
            )
        self._settings(code_column, max_distance, rules)
        codes = grids[code_column]
        if codes.isna().any():
            rows = list(np.flatnonzero(codes.isna().to_numpy())[:10])
            raise SchemaError(
                _("grid plan has grids without a code"), source="grids", where=tr("rows {rows}", rows=rows),
                fix=_("give every grid a code (gridgis codes) before assigning"),
            )
        self._codes(codes.astype(str).to_numpy(dtype=object), schema.label(grids, "grids"))
        grids_m = metric(grids)
        self._geometries(np.asarray(grids.geometry.array, dtype=object), pyproj.CRS.from_user_input(grids.crs),
                         np.asarray(grids_m.geometry.array, dtype=object),
                         pyproj.CRS.from_user_input(grids_m.crs), cells)

    @classmethod
    def from_arrays(
        cls,
        codes: np.ndarray,
        geoms: np.ndarray,
        crs: Any,
        *,
        code_column: str = schema.GRID_CODE,
        max_distance: float | None = None,
        rules: Rules | str | dict | None = None,
        cells: int | None = None,
        source: str = "grids",
        metric: tuple[np.ndarray, Any] | None = None,
    ) -> PlanIndex:
        """A plan prepared from arrays: grid codes (text) and polygons in a metric CRS, or in
        another CRS with their metric copy.

        The same index as ``PlanIndex(grids)`` for a GeoDataFrame of these codes and
        geometries, without pandas or geopandas (the command line's quick path reads a
        GeoPackage with :mod:`sqlite3`).

        Parameters
        ----------
        codes
            Grid codes as text, one per geometry, unique.
        geoms
            Polygons (shapely), ``None`` where a grid has no geometry.
        crs
            The CRS of ``geoms``: a projected CRS in metres (the plan is its own metric copy),
            or any CRS when ``metric`` is given.
        code_column, max_distance, rules, cells
            As for :class:`PlanIndex`.
        source
            The plan's name in messages.
        metric
            ``(geometries, crs)``: the same polygons in a projected CRS in metres (distances
            are measured there), as :func:`gridgis.crs.metric_crs` chooses it for the plan.

        Raises
        ------
        CRSError
            No CRS in metres: ``crs`` is not one and ``metric`` is not given.
        SchemaError
            Missing or duplicate codes.

        Examples
        --------
        >>> import numpy as np, shapely
        >>> plan = PlanIndex.from_arrays(np.array(["001", "002"], dtype=object),
        ...                              np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]),
        ...                              "EPSG:4547")
        >>> plan.n_grids, plan.max_distance
        (2, 100.0)
        """
        metric_geoms, metric_crs = (geoms, crs) if metric is None else metric
        if not is_metric(metric_crs):
            raise CRSError(tr("the plan's CRS {crs} is not a projected CRS in metres", crs=str(metric_crs)),
                           source=source, fix=_("build the index from the GeoDataFrame: PlanIndex(grids)"))
        codes = np.asarray(codes, dtype=object)
        missing = np.flatnonzero([not isinstance(c, str) for c in codes])
        if len(missing):
            raise SchemaError(
                _("grid plan has grids without a code"), source=source,
                where=tr("rows {rows}", rows=list(missing[:10])),
                fix=_("give every grid a code (gridgis codes) before assigning"),
            )
        self = cls.__new__(cls)
        self._settings(code_column, max_distance, rules)
        self._codes(codes, source)
        self._geometries(np.asarray(geoms, dtype=object), pyproj.CRS.from_user_input(crs),
                         np.asarray(metric_geoms, dtype=object),
                         pyproj.CRS.from_user_input(metric_crs), cells)
        return self

    def _settings(self, code_column: str, max_distance: float | None, rules: Any) -> None:
        rules_ = load_rules(rules)
        self.code_column = code_column
        self.max_distance = float(rules_.assign.max_distance_m if max_distance is None else max_distance)
        if not self.max_distance >= 0:
            raise SchemaError(tr("max_distance must be >= 0 metres, got {max_distance!r}",
                                 max_distance=max_distance))
        self.far_outside = float(rules_.assign.far_outside_m)
        self.reasons = tuple(
            r.format(max_d=self.max_distance, far=self.far_outside, n="several") for r in REASONS
        )

    def _codes(self, codes: np.ndarray, source: str) -> None:
        """Unique codes, their ranks (the tie-break: position in sorted order) and sorted list."""
        order = np.argsort(codes.astype(str), kind="stable")
        ordered = codes[order]
        same = ordered[1:] == ordered[:-1]
        if same.any():
            dup = np.zeros(len(codes), dtype=bool)
            dup[order[1:][same]] = True
            dup[order[:-1][same]] = True
            raise SchemaError(
                tr("duplicate grid codes {sorted}", sorted=sorted(set(codes[dup]))[:10]), source=source,
                fix=_("grid codes must be unique; re-code the plan"),
            )
        rank = np.empty(len(codes), dtype=np.int64)
        rank[order] = np.arange(len(codes))
        self.codes = codes  # in plan order
        self.sorted_codes = ordered.astype(str).astype(object)
        self.rank = rank

    def _geometries(self, geoms: np.ndarray, crs: pyproj.CRS, metric_geoms: np.ndarray,
                    metric_crs: pyproj.CRS, cells: int | None) -> None:
        """The plan's polygons, their metric copy for distances, and the lazy caches."""
        self.crs = crs
        self.geoms = geoms
        self._cells = cells
        self._index: GridIndex | None = None
        self.metric = metric_crs
        self._metric_plan = self.crs.equals(self.metric)  # distances measured in the plan's CRS
        self.metric_geoms = metric_geoms
        usable = present(metric_geoms)
        self.metric_bounds = (shapely.total_bounds(metric_geoms[usable]) if usable.any()
                              else np.full(4, np.nan))
        self._metric_tree: Segments | None = None  # built on first nearest-grid query
        self._lock = threading.Lock()  # lazy caches, when two threads assign halves of a table

    @property
    def categories(self) -> pd.Index:
        """The grid codes in sorted order (the categories of the output's code column)."""
        import pandas as pd

        return pd.Index(self.sorted_codes, dtype=object, name=self.code_column)

    # -- pickling: segment buckets are rebuilt lazily where the object lands --
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_metric_tree"] = None
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def index(self) -> GridIndex:
        """The raster lookup index (built on first use)."""
        if self._index is None:
            self.build()
        return self._index  # type: ignore[return-value]

    def build(self, cells: int | None = None, parallel: bool | None = None) -> PlanIndex:
        """Build the raster lookup index now (optionally with a given number of cells).

        ``parallel`` runs GEOS's coverage check on a second thread (default: when the machine
        has more than one core).
        """
        if parallel is None:
            parallel = (os.cpu_count() or 1) > 1
        self._index = GridIndex(self.geoms, self.rank, cells=cells or self._cells, parallel=parallel)
        return self

    @property
    def n_grids(self) -> int:
        return len(self.codes)

    @property
    def built(self) -> bool:
        """Whether the raster lookup index is built already."""
        return self._index is not None

    @property
    def cells(self) -> int | None:
        """Number of raster cells asked for when the plan was prepared (``None``: automatic)."""
        return self._cells

    # -- coordinate conversion --
    def to_plan(self, x: np.ndarray, y: np.ndarray, src: pyproj.CRS | str,
                pool: Executor | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Convert coordinates from ``src`` (a pyproj CRS, "GCJ02" or "BD09") to the plan's CRS.

        With a thread ``pool`` a large array is converted in two halves at once (PROJ works
        without holding the GIL).
        """
        if isinstance(src, str):
            x, y = points_to_wgs84(x, y, src)
            src = pyproj.CRS.from_epsg(4326)
        if src.equals(self.crs):
            return x, y
        return convert(src, self.crs, x, y, pool if len(x) >= HALVES_FROM else None)

    def plan_to_metric(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Convert plan coordinates to the metric CRS used for distances."""
        if self._metric_plan:
            return x, y
        return convert(self.crs, self.metric, x, y)

    def _bbox_distance(self, xm: np.ndarray, ym: np.ndarray) -> np.ndarray:
        bx0, by0, bx1, by1 = self.metric_bounds
        dx = np.maximum(np.maximum(bx0 - xm, xm - bx1), 0.0)
        dy = np.maximum(np.maximum(by0 - ym, ym - by1), 0.0)
        with np.errstate(invalid="ignore"):
            d = np.hypot(dx, dy)
        return np.where(np.isfinite(d), d, np.inf)

    # -- the core --
    def assign_xy(
        self,
        x: np.ndarray,
        y: np.ndarray,
        src: pyproj.CRS | str,
        pre: np.ndarray | None = None,
        pool: ThreadPoolExecutor | None = None,
    ) -> Assigned:
        """Assign coordinate arrays given in ``src``.

        Parameters
        ----------
        x, y
            Coordinates as given (longitude/latitude for geographic CRSs), NaN where missing.
        src
            CRS of ``x``/``y``: a pyproj CRS, or ``"GCJ02"`` / ``"BD09"``.
        pre
            Reason codes of rows already known to be invalid (``-1`` elsewhere), e.g. text that
            is not a number or a geometry that is not a point.
        pool
            Optional thread pool for the coordinate conversion and the array work of the
            raster lookup.
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        n = len(x)
        pre_reason = np.full(n, -1, dtype=np.int16) if pre is None else np.asarray(pre, np.int16).copy()
        geographic = isinstance(src, str) or src.is_geographic
        # coordinate checks: full-array passes only until something is found
        finite = np.isfinite(x)
        finite &= np.isfinite(y)
        if not finite.all():
            with np.errstate(invalid="ignore"):
                nan = np.isnan(x) | np.isnan(y)
            fill_reason(pre_reason, nan, R_MISSING)
            fill_reason(pre_reason, ~finite & ~nan, R_INFINITE)
        zero = x == 0
        zero &= y == 0
        if zero.any():
            fill_reason(pre_reason, zero, R_ZERO)
        if geographic:
            with np.errstate(invalid="ignore"):
                out_range = (np.abs(x) > 180) | (np.abs(y) > 90)
            if out_range.any():
                fill_reason(pre_reason, out_range, R_RANGE)
        bad_mask = pre_reason >= 0
        bad = np.flatnonzero(bad_mask)
        if not len(bad):
            xg, yg = self.to_plan(x, y, src, pool)
            converted = xg is not x
        else:
            good = np.flatnonzero(~bad_mask)
            xg = np.full(n, np.nan)
            yg = np.full(n, np.nan)
            xg[good], yg[good] = self.to_plan(x[good], y[good], src, pool)
            converted = True
        xg = np.asarray(xg, dtype=float)
        yg = np.asarray(yg, dtype=float)
        if converted:
            conv = ~bad_mask & ~(np.isfinite(xg) & np.isfinite(yg))
            if conv.any():
                pre_reason[conv] = R_CONVERT
                xg[conv] = np.nan
                yg[conv] = np.nan
                bad_mask |= conv
                bad = np.flatnonzero(bad_mask)

        loc = self.index.locate(xg, yg, pool=pool)
        grid = loc.grid
        # status -> match, reason and distance by table lookup; then points held by several grids
        match = MATCH_OF_STATUS[loc.status]
        reason = REASON_OF_STATUS[loc.status]
        distance = DIST_OF_STATUS[loc.status]
        if len(loc.multi):
            reason[loc.multi] = np.where(loc.status[loc.multi] == ST_INSIDE, R_OVERLAP, R_SHARED)

        outside = np.flatnonzero(loc.status == ST_OUTSIDE)
        if len(bad):
            outside = outside[~bad_mask[outside]]
        far = np.zeros(0, dtype=np.int64)
        if len(outside):
            xm, ym = self.plan_to_metric(xg[outside], yg[outside])
            is_far = self._bbox_distance(xm, ym) > self.far_outside
            far = outside[is_far]
            near = outside[~is_far]
            if len(near):
                maybe = None
                if self._metric_plan:  # plan CRS is metric: the raster can rule points out
                    maybe = self.index.maybe_near(xg[near], yg[near], self.max_distance)
                g, d = self._nearest(xm[~is_far], ym[~is_far], maybe)
                got = g >= 0
                grid[near[got]] = g[got]
                distance[near[got]] = d[got]
                match[near[got]] = M_NEAREST
                reason[near[got]] = R_NEAREST
        if len(bad) or len(far):
            reason[bad] = pre_reason[bad]
            reason[far] = R_FAR
            # swapped longitude/latitude: the swapped point lands at (or near) the plan
            suspect = np.r_[bad[pre_reason[bad] == R_RANGE], far]
            if len(suspect):
                swapped = self._lands_near(y[suspect], x[suspect], src)
                reason[suspect[swapped]] = R_SWAPPED
            invalid = np.r_[bad, far]
            match[invalid] = M_INVALID
            grid[invalid] = -1
            distance[invalid] = np.nan
        return Assigned(grid=grid, match=match, reason=reason, distance=distance)

    def _nearest(self, xm: np.ndarray, ym: np.ndarray, maybe: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Nearest grid within ``max_distance`` metres (ties: smallest code), else -1.

        ``maybe`` marks the points that can be that near at all (a cheap raster test).
        """
        n = len(xm)
        grid = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.nan)
        if self.max_distance <= 0 or not n:
            return grid, dist
        cand = self._bbox_distance(xm, ym) <= self.max_distance
        if maybe is not None:
            cand &= maybe
        sel = np.flatnonzero(cand)
        if not len(sel):
            return grid, dist
        seg = self._segments()
        px, py = xm[sel], ym[sel]
        md = self.max_distance
        qi, si = seg.candidates(px, py)
        if not len(qi):
            return grid, dist
        # squared distance from each point to each candidate segment; the foot of the
        # perpendicular is clamped to the segment, and an endpoint is taken as is (so that
        # grids meeting at a vertex are exactly equally near)
        x0, y0, dx, dy, l2 = seg.x0[si], seg.y0[si], seg.dx[si], seg.dy[si], seg.l2[si]
        qx, qy = px[qi], py[qi]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = ((qx - x0) * dx + (qy - y0) * dy) / l2
        t = np.where(l2 > 0, t, 0.0)
        fx = np.where(t <= 0, x0, np.where(t >= 1, seg.x1[si], x0 + t * dx))
        fy = np.where(t <= 0, y0, np.where(t >= 1, seg.y1[si], y0 + t * dy))
        d2 = (qx - fx) ** 2 + (qy - fy) ** 2
        # per point: the smallest distance, then the smallest code among grids that near
        starts = np.flatnonzero(np.r_[True, qi[1:] != qi[:-1]])
        dmin = np.minimum.reduceat(d2, starts)
        owner = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(qi)]))
        tie = d2 <= dmin[owner] * (1 + 1e-12) + 1e-18
        big = np.iinfo(np.int64).max
        rmin = np.minimum.reduceat(np.where(tie, self.rank[seg.poly[si]], big), starts)
        within = dmin <= md * md
        pts = sel[qi[starts]][within]
        grid[pts] = self._pos_of_rank[rmin[within]]
        dist[pts] = np.sqrt(dmin[within])
        return grid, dist

    @property
    def _pos_of_rank(self) -> np.ndarray:
        pos = np.empty(len(self.rank), dtype=np.int64)
        pos[self.rank] = np.arange(len(self.rank))
        return pos

    def _segments(self) -> Segments:
        """Boundary segments of the plan in the metric CRS, bucketed for distance queries.

        For a valid coverage only the segments with a grid on one side are kept: the nearest
        grid of a point outside every grid is reached through the plan's outer boundary (or the
        boundary of a gap), and a grid touching that point only at a vertex of a shared edge
        reaches it through its own outer segment ending there.
        """
        with self._lock:
            if self._metric_tree is None:
                self._metric_tree = self._build_segments()
        return self._metric_tree

    def _build_segments(self) -> Segments:
        gi = self.index
        if self._metric_plan and gi.is_coverage and hasattr(gi, "g_left"):
            # the plan is metric: the index already paired the shared segments
            one = (gi.g_left < 0) | (gi.g_right < 0)
            a = np.c_[gi.gx0[one], gi.gy0[one]]
            b = np.c_[gi.gx1[one], gi.gy1[one]]
            return Segments(a, b, np.maximum(gi.g_left[one], gi.g_right[one]), self.max_distance)
        gm = self.metric_geoms
        ok = np.flatnonzero(present(gm))
        parts, pidx = shapely.get_parts(gm[ok], return_index=True)
        seg = ring_segments(parts)
        a, b, poly = seg.a, seg.b, ok[pidx[seg.owner]]
        if self.index.is_coverage and len(a):
            outer = ~paired(a, b)
            a, b, poly = a[outer], b[outer], poly[outer]
        return Segments(a, b, poly, self.max_distance)

    def _lands_near(self, x: np.ndarray, y: np.ndarray, src: pyproj.CRS | str) -> np.ndarray:
        """Whether points (already swapped) are valid and within the plan's far-outside margin."""
        geographic = isinstance(src, str) or src.is_geographic
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(x) & np.isfinite(y)
            if geographic:
                ok &= (np.abs(x) <= 180) & (np.abs(y) <= 90)
        res = np.zeros(len(x), dtype=bool)
        if ok.any():
            xg, yg = self.to_plan(x[ok], y[ok], src)
            xm, ym = self.plan_to_metric(np.asarray(xg, float), np.asarray(yg, float))
            res[ok] = self._bbox_distance(xm, ym) <= self.far_outside
        return res

    # -- tables --
    def empty_counts(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(self.n_grids, dtype=np.int64), np.zeros(len(MATCH_VALUES), dtype=np.int64)

    def counts(self, a: Assigned, codes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Points per grid (in category order, i.e. sorted by code) and per match status."""
        if codes is None:
            codes = self.category_codes(a)
        per = np.bincount(codes + 1, minlength=self.n_grids + 1)[1:]
        st = np.array([np.count_nonzero(a.match == k) for k in range(len(MATCH_VALUES))])
        return per.astype(np.int64), st.astype(np.int64)

    def category_codes(self, a: Assigned) -> np.ndarray:
        """Category code (rank of the grid code) per point, ``-1`` where no grid."""
        return np.r_[self.rank, -1][a.grid]

    def columns(self, a: Assigned, codes: np.ndarray | None = None) -> dict[str, Any]:
        """The output columns of an :class:`Assigned` as pandas-ready arrays."""
        import pandas as pd

        if codes is None:
            codes = self.category_codes(a)
        return {
            self.code_column: pd.Categorical.from_codes(codes, dtype=self.code_dtype, validate=False),
            schema.MATCH: pd.Categorical.from_codes(a.match, dtype=self.match_dtype, validate=False),
            schema.MATCH_REASON: pd.Categorical.from_codes(
                a.reason, dtype=self.reason_dtype, validate=False
            ),
            schema.DISTANCE_M: a.distance,
        }

    @property
    def code_dtype(self) -> pd.CategoricalDtype:
        import pandas as pd

        return pd.CategoricalDtype(self.categories)

    @property
    def match_dtype(self) -> pd.CategoricalDtype:
        import pandas as pd

        return pd.CategoricalDtype(pd.Index(MATCH_VALUES, dtype=object))

    @property
    def reason_dtype(self) -> pd.CategoricalDtype:
        import pandas as pd

        return pd.CategoricalDtype(pd.Index(self.reasons, dtype=object))

    def reason_texts(self) -> dict[str, str]:
        """``{reason as in match_reason: its text for people}`` in the language in use.

        Examples
        --------
        >>> from gridgis.i18n import use_language
        >>> with use_language("zh"):                               # doctest: +SKIP
        ...     plan.reason_texts()["inside the grid"]
        '在网格内'
        """
        fields = {"max_d": self.max_distance, "far": self.far_outside, "n": _("several")}
        return {api: tr(template, **fields) for api, template in zip(self.reasons, REASONS, strict=True)}


@dataclass
class Assigned:
    """Raw per-point arrays of one assignment run (plan positions, status and reason codes)."""

    grid: np.ndarray
    match: np.ndarray
    reason: np.ndarray
    distance: np.ndarray


