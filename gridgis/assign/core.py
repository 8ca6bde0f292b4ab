"""Assign address and event points to the grids of a plan (the in-memory path).

See :func:`assign` for the rules. The heavy lifting is done by :class:`PlanIndex`, which holds
the raster lookup index (:class:`gridgis.assign.index.GridIndex`), the metric copy of the plan
used for distances, and the conversion from the points' CRS to the plan's CRS. A
:class:`PlanIndex` is picklable, so the same object is shipped to dask workers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import schema
from ..crs import metric_crs, points_to_wgs84, resolve_crs
from ..errors import CRSError, GeometryError, SchemaError, with_options
from ..rules import Rules, load_rules
from .index import ST_BOUNDARY, ST_INSIDE, ST_OUTSIDE, GridIndex

# ---- match statuses and reasons ------------------------------------------------------------------
INSIDE, BOUNDARY, NEAREST, UNMATCHED, INVALID = "inside", "boundary", "nearest", "unmatched", "invalid"
MATCH_VALUES = (INSIDE, BOUNDARY, NEAREST, UNMATCHED, INVALID)
_M_INSIDE, _M_BOUNDARY, _M_NEAREST, _M_UNMATCHED, _M_INVALID = range(5)

# reason codes (index into PlanIndex.reasons)
R_INSIDE = 0
R_OVERLAP = 1
R_SHARED = 2
R_EDGE = 3
R_NEAREST = 4
R_UNMATCHED = 5
R_MISSING = 6
R_NOT_NUMBER = 7
R_INFINITE = 8
R_ZERO = 9
R_SWAPPED = 10
R_RANGE = 11
R_FAR = 12
R_NOT_POINT = 13
R_CONVERT = 14

_REASONS = (
    "inside the grid",
    "inside {n} overlapping grids; the smallest grid code was chosen",
    "on a boundary shared by several grids; the smallest grid code was chosen",
    "on the outer boundary of the grid",
    "outside every grid; nearest grid within {max_d:g} m",
    "outside every grid; no grid within {max_d:g} m",
    "missing coordinate",
    "coordinate is not a number",
    "coordinate is infinite",
    "coordinates are 0/0 (a placeholder, not a location)",
    "longitude and latitude apparently swapped",
    "longitude/latitude out of range",
    "more than {far:g} m outside the plan's extent",
    "geometry is not a point",
    "coordinates cannot be converted to the plan's CRS",
)


# lookup tables indexed by the status of GridIndex.locate
_MATCH_OF_STATUS = np.array([_M_INSIDE, _M_BOUNDARY, _M_UNMATCHED], dtype=np.int8)
_REASON_OF_STATUS = np.array([R_INSIDE, R_EDGE, R_UNMATCHED], dtype=np.int16)
_DIST_OF_STATUS = np.array([0.0, 0.0, np.nan])
assert (ST_INSIDE, ST_BOUNDARY, ST_OUTSIDE) == (0, 1, 2)


def _fill(reason: np.ndarray, mask: np.ndarray, code: int) -> None:
    """Set ``code`` where ``mask`` holds and no reason was set before (first reason wins)."""
    reason[mask & (reason < 0)] = code


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
        if not isinstance(grids, gpd.GeoDataFrame):
            raise SchemaError(
                f"grids must be a GeoDataFrame, got {type(grids).__name__}",
                fix="read the plan with gridgis.read_vector(path)",
            )
        if code_column not in grids.columns:
            grids = schema.normalize_columns(grids, extra_aliases=None)
            if code_column not in grids.columns:
                raise SchemaError(
                    f"grid plan has no {code_column!r} column; found {schema.original_headers(grids)}",
                    source=schema.label(grids, "grids"),
                    fix=with_options(None, ("code_column", "COLUMN")) or "code the plan first",
                )
        if grids.crs is None:
            raise CRSError(
                "grid plan has no CRS", source="grids", fix="set it with grids.set_crs('EPSG:4547')"
            )
        rules_ = load_rules(rules)
        self.code_column = code_column
        self.max_distance = float(rules_.assign.max_distance_m if max_distance is None else max_distance)
        if not self.max_distance >= 0:
            raise SchemaError(f"max_distance must be >= 0 metres, got {max_distance!r}")
        self.far_outside = float(rules_.assign.far_outside_m)

        codes = grids[code_column]
        if codes.isna().any():
            rows = list(np.flatnonzero(codes.isna().to_numpy())[:10])
            raise SchemaError(
                "grid plan has grids without a code", source="grids", where=f"rows {rows}",
                fix="give every grid a code (gridgis codes) before assigning",
            )
        codes = codes.astype(str).to_numpy(dtype=object)
        dup = pd.Series(codes).duplicated(keep=False).to_numpy()
        if dup.any():
            raise SchemaError(
                f"duplicate grid codes {sorted(set(codes[dup]))[:10]}", source=schema.label(grids, "grids"),
                fix="grid codes must be unique; re-code the plan",
            )
        geoms = np.asarray(grids.geometry.array, dtype=object)
        kinds = shapely.get_type_id(geoms)
        bad = ~np.isin(kinds, (3, 6)) & ~shapely.is_missing(geoms)
        if bad.any():
            rows = list(np.flatnonzero(bad)[:10])
            raise GeometryError(
                "grid plan has non-polygonal geometries", source="grids", where=f"rows {rows}",
                fix="grids must be Polygon or MultiPolygon",
            )
        if not (~(shapely.is_missing(geoms) | shapely.is_empty(geoms))).any():
            raise GeometryError(
                "grid plan has no polygons", source="grids",
                fix="pass a plan with at least one grid geometry",
            )
        # tie-break rank = position of the code in sorted order; categories are the sorted codes
        order = np.argsort(codes.astype(str), kind="stable")
        rank = np.empty(len(codes), dtype=np.int64)
        rank[order] = np.arange(len(codes))
        self.codes = codes  # in plan order
        self.categories = pd.Index(codes[order].astype(str), dtype=object, name=code_column)
        self.rank = rank
        self.crs = pyproj.CRS.from_user_input(grids.crs)
        self.geoms = geoms
        self._cells = cells
        self._index: GridIndex | None = None
        # metric copy of the plan for distances
        self.metric = metric_crs(grids)
        self._to_metric = None if self.crs.equals(self.metric) else pyproj.Transformer.from_crs(
            self.crs, self.metric, always_xy=True
        )
        gm = geoms if self._to_metric is None else np.asarray(grids.geometry.to_crs(self.metric).array)
        self.metric_geoms = gm
        usable = ~(shapely.is_missing(gm) | shapely.is_empty(gm))
        self.metric_bounds = shapely.total_bounds(gm[usable]) if usable.any() else np.full(4, np.nan)
        self._metric_tree: _Segments | None = None  # built on first nearest-grid query
        self.reasons = tuple(
            r.format(max_d=self.max_distance, far=self.far_outside, n="several") for r in _REASONS
        )
        self._transformers: dict[str, pyproj.Transformer] = {}
        self._lock = threading.Lock()  # lazy caches, when two threads assign halves of a table

    # -- pickling: transformers and segment buckets are rebuilt lazily where the object lands --
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_transformers"] = {}
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

    # -- coordinate conversion --
    def _transformer(self, src: pyproj.CRS, dst: pyproj.CRS) -> pyproj.Transformer:
        key = f"{src.to_wkt()}->{dst.to_wkt()}"
        with self._lock:
            tr = self._transformers.get(key)
            if tr is None:
                tr = pyproj.Transformer.from_crs(src, dst, always_xy=True)
                self._transformers[key] = tr
        return tr

    def to_plan(self, x: np.ndarray, y: np.ndarray, src: pyproj.CRS | str) -> tuple[np.ndarray, np.ndarray]:
        """Convert coordinates from ``src`` (a pyproj CRS, "GCJ02" or "BD09") to the plan's CRS."""
        if isinstance(src, str):
            x, y = points_to_wgs84(x, y, src)
            src = pyproj.CRS.from_epsg(4326)
        if src.equals(self.crs):
            return x, y
        with np.errstate(all="ignore"):
            return self._transformer(src, self.crs).transform(x, y, errcheck=False)

    def plan_to_metric(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Convert plan coordinates to the metric CRS used for distances."""
        if self._to_metric is None:
            return x, y
        with np.errstate(all="ignore"):
            return self._transformer(self.crs, self.metric).transform(x, y, errcheck=False)

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
            Optional thread pool for the array work of the raster lookup.
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
            _fill(pre_reason, nan, R_MISSING)
            _fill(pre_reason, ~finite & ~nan, R_INFINITE)
        zero = x == 0
        zero &= y == 0
        if zero.any():
            _fill(pre_reason, zero, R_ZERO)
        if geographic:
            with np.errstate(invalid="ignore"):
                out_range = (np.abs(x) > 180) | (np.abs(y) > 90)
            if out_range.any():
                _fill(pre_reason, out_range, R_RANGE)
        bad_mask = pre_reason >= 0
        bad = np.flatnonzero(bad_mask)
        if not len(bad):
            xg, yg = self.to_plan(x, y, src)
            converted = xg is not x
        else:
            good = np.flatnonzero(~bad_mask)
            xg = np.full(n, np.nan)
            yg = np.full(n, np.nan)
            xg[good], yg[good] = self.to_plan(x[good], y[good], src)
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
        match = _MATCH_OF_STATUS[loc.status]
        reason = _REASON_OF_STATUS[loc.status]
        distance = _DIST_OF_STATUS[loc.status]
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
                if self._to_metric is None:  # plan CRS is metric: the raster can rule points out
                    maybe = self.index.maybe_near(xg[near], yg[near], self.max_distance)
                g, d = self._nearest(xm[~is_far], ym[~is_far], maybe)
                got = g >= 0
                grid[near[got]] = g[got]
                distance[near[got]] = d[got]
                match[near[got]] = _M_NEAREST
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
            match[invalid] = _M_INVALID
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

    def _segments(self) -> _Segments:
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

    def _build_segments(self) -> _Segments:
        gi = self.index
        if self._to_metric is None and gi.is_coverage and hasattr(gi, "g_left"):
            # the plan is metric: the index already paired the shared segments
            one = (gi.g_left < 0) | (gi.g_right < 0)
            a = np.c_[gi.gx0[one], gi.gy0[one]]
            b = np.c_[gi.gx1[one], gi.gy1[one]]
            return _Segments(a, b, np.maximum(gi.g_left[one], gi.g_right[one]), self.max_distance)
        gm = self.metric_geoms
        ok = np.flatnonzero(~(shapely.is_missing(gm) | shapely.is_empty(gm)))
        parts, pidx = shapely.get_parts(gm[ok], return_index=True)
        rings, ridx = shapely.get_rings(parts, return_index=True)
        coords, cidx = shapely.get_coordinates(rings, return_index=True)
        same = np.flatnonzero(cidx[1:] == cidx[:-1])
        a, b = coords[same], coords[same + 1]
        poly = ok[pidx[ridx[cidx[same]]]]
        if self.index.is_coverage and len(a):
            outer = ~_paired(a, b)
            a, b, poly = a[outer], b[outer], poly[outer]
        return _Segments(a, b, poly, self.max_distance)

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
        return pd.CategoricalDtype(self.categories)

    @property
    def match_dtype(self) -> pd.CategoricalDtype:
        return pd.CategoricalDtype(pd.Index(MATCH_VALUES, dtype=object))

    @property
    def reason_dtype(self) -> pd.CategoricalDtype:
        return pd.CategoricalDtype(pd.Index(self.reasons, dtype=object))


def _paired(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Segments (a[i] -> b[i]) that occur more than once, in either direction."""
    flip = (b[:, 0] < a[:, 0]) | ((b[:, 0] == a[:, 0]) & (b[:, 1] < a[:, 1]))
    lo = np.where(flip[:, None], b, a)
    hi = np.where(flip[:, None], a, b)
    order = np.lexsort((hi[:, 1], hi[:, 0], lo[:, 1], lo[:, 0]))
    key = np.c_[lo, hi][order]
    dup = np.r_[False, (key[1:] == key[:-1]).all(axis=1)]
    dup[:-1] |= dup[1:]
    out = np.zeros(len(a), dtype=bool)
    out[order] = dup
    return out


class _Segments:
    """Boundary segments (metric CRS) of the plan in square buckets, for distance queries.

    Every segment is listed in each bucket that its bounding box, widened by ``reach``, meets;
    so the segments within ``reach`` of a point are all listed in the point's own bucket.
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, poly: np.ndarray, reach: float) -> None:
        self.x0, self.y0, self.x1, self.y1 = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
        self.dx, self.dy = self.x1 - self.x0, self.y1 - self.y0
        self.l2 = self.dx**2 + self.dy**2
        self.poly = poly
        lo = np.minimum(a, b) - reach
        hi = np.maximum(a, b) + reach
        if not len(a):
            lo = hi = np.zeros((1, 2))
        gmin, gmax = lo.min(axis=0), hi.max(axis=0)
        extent = float(max(gmax - gmin))
        size = max(reach, extent / 1024, 1e-9)
        while True:
            i0 = ((lo - gmin) / size).astype(np.int64)
            i1 = ((hi - gmin) / size).astype(np.int64)
            span = i1 - i0 + 1
            reps = span[:, 0] * span[:, 1]
            if reps.sum() <= max(8 * len(a), 1 << 20):
                break
            size *= 2  # long segments in small buckets: coarser buckets, fewer listings
        self.size, self.gmin = size, gmin
        self.nb = (((gmax - gmin) / size).astype(np.int64) + 1)
        sid = np.repeat(np.arange(len(a)), reps)
        r = np.arange(len(sid)) - np.repeat(np.cumsum(reps) - reps, reps)
        w = span[sid, 0]
        bucket = (i0[sid, 1] + r // w) * self.nb[0] + (i0[sid, 0] + r % w)
        order = np.argsort(bucket, kind="stable")
        self.members = sid[order]
        self.indptr = np.searchsorted(bucket[order], np.arange(self.nb[0] * self.nb[1] + 1))

    def candidates(self, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, segment) pairs to test, grouped by point in increasing order."""
        bi = ((px - self.gmin[0]) / self.size).astype(np.int64)
        bj = ((py - self.gmin[1]) / self.size).astype(np.int64)
        ok = (bi >= 0) & (bi < self.nb[0]) & (bj >= 0) & (bj < self.nb[1]) & (px >= self.gmin[0]) & (
            py >= self.gmin[1]
        )
        pt = np.flatnonzero(ok)
        b = bj[ok] * self.nb[0] + bi[ok]
        start = self.indptr[b]
        count = self.indptr[b + 1] - start
        qi = np.repeat(pt, count)
        off = np.arange(len(qi)) - np.repeat(np.cumsum(count) - count, count)
        return qi, self.members[np.repeat(start, count) + off]


@dataclass
class Assigned:
    """Raw per-point arrays of one assignment run (plan positions, status and reason codes)."""

    grid: np.ndarray
    match: np.ndarray
    reason: np.ndarray
    distance: np.ndarray


# ---- reading coordinates out of tables --------------------------------------------------------------
def find_lonlat(columns: Any) -> tuple[Any, Any] | tuple[None, None]:
    """Columns holding longitude and latitude (canonical names or any alias), else ``(None, None)``."""
    lon = lat = None
    for col in columns:
        name = schema.canonical_name(col)
        if name == schema.LON and lon is None:
            lon = col
        elif name == schema.LAT and lat is None:
            lat = col
    return (lon, lat) if lon is not None and lat is not None else (None, None)


_FULLWIDTH_NUMBER = str.maketrans("０１２３４５６７８９．－＋　", "0123456789.-+ ")


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column as floats; also return where text was present but is not a number.

    Blank text counts as missing; surrounding spaces are ignored, and full-width digits
    (１１２．９, common in spreadsheets typed with a Chinese input method) are read as digits.
    """
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        arr = values.to_numpy(dtype=float, na_value=np.nan)
        return arr, np.zeros(len(arr), dtype=bool)
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan, copy=True)
    missing = values.isna().to_numpy()
    retry = np.flatnonzero(np.isnan(num) & ~missing)
    text = np.zeros(len(num), dtype=bool)
    if len(retry):  # e.g. " 112.9 " or "" : strip, then parse again
        sub = values.iloc[retry].astype(str).str.translate(_FULLWIDTH_NUMBER).str.strip()
        blank = (sub == "").to_numpy()
        again = pd.to_numeric(sub.where(~blank, None), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        num[retry] = again
        text[retry] = ~blank & np.isnan(again)
    return num, text


def extract_xy(
    points: pd.DataFrame,
    crs: Any = None,
    *,
    lon: Any = None,
    lat: Any = None,
    pool: ThreadPoolExecutor | None = None,
) -> tuple[np.ndarray, np.ndarray, pyproj.CRS | str, np.ndarray]:
    """Coordinates, their CRS and pre-detected reasons from a GeoDataFrame or lon/lat table.

    A GeoDataFrame's point geometries are used (in ``crs`` when given, else in its own CRS); a
    plain table needs longitude/latitude columns (any alias; WGS84 unless ``crs`` says otherwise).
    With a thread ``pool``, x and y are read out of the geometries concurrently.
    """
    n = len(points)
    pre = np.full(n, -1, dtype=np.int16)
    lon_col, lat_col = (lon, lat) if lon is not None and lat is not None else find_lonlat(points.columns)
    use_geometry = isinstance(points, gpd.GeoDataFrame) and points._geometry_column_name in points.columns
    if use_geometry:
        src = crs if crs is not None else points.crs
        if src is None:
            raise CRSError(
                "points have no CRS", source="points",
                fix="set it with points.set_crs('EPSG:4326') or pass crs=",
            )
        geoms = np.asarray(points.geometry.array, dtype=object)
        try:
            if pool is not None:
                get_y = pool.submit(shapely.get_y, geoms)
                try:
                    x = shapely.get_x(geoms)
                finally:
                    y = get_y.result()
            else:
                x = shapely.get_x(geoms)
                y = shapely.get_y(geoms)
        except shapely.errors.GEOSException:  # empty points
            empty = shapely.is_empty(geoms)
            ok_geoms = np.where(empty, None, geoms)
            x = shapely.get_x(ok_geoms)
            y = shapely.get_y(ok_geoms)
        nan = np.flatnonzero(np.isnan(x) | np.isnan(y))
        if len(nan):
            kinds = shapely.get_type_id(geoms[nan])
            empty = shapely.is_empty(geoms[nan])
            pre[nan[(kinds > 0)]] = R_NOT_POINT
            pre[nan[(kinds == 0) & ~empty]] = R_MISSING
            pre[nan[(kinds == -1) | empty]] = R_MISSING
            if lon_col is not None:
                # rows without geometry: the raw lon/lat text tells why (read_points keeps it)
                sub = points.iloc[nan]
                _, tx = _numbers(sub[lon_col])
                _, ty = _numbers(sub[lat_col])
                missing = (kinds == -1) | empty
                pre[nan[missing & (tx | ty)]] = R_NOT_NUMBER
    else:
        if lon_col is None:
            raise SchemaError(
                f"no longitude/latitude columns; found {list(map(str, points.columns))}",
                source="points", fix="name them 经度/纬度 or lon/lat, or pass lon=/lat=",
            )
        src = crs if crs is not None else "EPSG:4326"
        x, tx = _numbers(points[lon_col])
        y, ty = _numbers(points[lat_col])
        pre[tx | ty] = R_NOT_NUMBER
    return x, y, resolve_crs(src), pre


# ---- public API ---------------------------------------------------------------------------------------
@dataclass
class AssignResult:
    """Result of :func:`assign`.

    Attributes
    ----------
    table
        The input rows in their order, plus ``grid_code`` (categorical over all grid codes of the
        plan), ``match``, ``match_reason`` and ``distance_m``. A dask (geo)dataframe when the
        input was one (lazy), ``None`` for :func:`assign_file` (the rows are in the file).
    per_grid
        Points per grid code, every grid of the plan included (zeros too), sorted by code.
    status_counts
        Points per match status (inside, boundary, nearest, unmatched, invalid), zeros included.
    path
        Output file written by :func:`assign_file`.
    """

    table: Any
    _per_grid: pd.Series | None = None
    _status_counts: pd.Series | None = None
    path: Any = None
    plan: PlanIndex | None = field(default=None, repr=False)

    @property
    def per_grid(self) -> pd.Series:
        if self._per_grid is None:
            self._compute_lazy()
        return self._per_grid  # type: ignore[return-value]

    @property
    def status_counts(self) -> pd.Series:
        if self._status_counts is None:
            self._compute_lazy()
        return self._status_counts  # type: ignore[return-value]

    def _compute_lazy(self) -> None:
        import dask

        plan = self.plan
        assert plan is not None and self.table is not None
        per, st = dask.compute(
            self.table[plan.code_column].value_counts(), self.table[schema.MATCH].value_counts()
        )
        self._per_grid = _per_grid_series(plan, per.reindex(plan.categories, fill_value=0).to_numpy())
        self._status_counts = _status_series(
            per_status=st.reindex(pd.Index(MATCH_VALUES), fill_value=0).to_numpy()
        )

    def compute(self) -> AssignResult:
        """Materialise a dask result as a local one (no-op for local results)."""
        if hasattr(self.table, "compute") and hasattr(self.table, "npartitions"):
            import dask

            table, per, st = dask.compute(
                self.table,
                self.table[self.plan.code_column].value_counts(),  # type: ignore[union-attr]
                self.table[schema.MATCH].value_counts(),
            )
            plan = self.plan
            assert plan is not None
            return AssignResult(
                table=table,
                _per_grid=_per_grid_series(plan, per.reindex(plan.categories, fill_value=0).to_numpy()),
                _status_counts=_status_series(
                    st.reindex(pd.Index(MATCH_VALUES), fill_value=0).to_numpy()
                ),
                plan=plan,
            )
        return self

    def summary(self) -> str:
        """One line per match status, e.g. for the CLI."""
        st = self.status_counts
        total = int(st.sum())
        parts = [f"{k}: {int(v):,}" for k, v in st.items()]
        empty = int((self.per_grid == 0).sum())
        return f"{total:,} rows — " + ", ".join(parts) + f"; {empty} grid(s) without points"


def _per_grid_series(plan: PlanIndex, counts: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(counts, dtype=np.int64), index=plan.categories.copy(), name="count")


def _status_series(per_status: np.ndarray) -> pd.Series:
    return pd.Series(
        np.asarray(per_status, dtype=np.int64), index=pd.Index(MATCH_VALUES, name=schema.MATCH),
        name="count",
    )


def _chunks(n: int, chunk_size: int | None) -> Iterator[slice]:
    step = n if not chunk_size or chunk_size >= n else int(chunk_size)
    for start in range(0, max(n, 1), max(step, 1)):
        yield slice(start, min(start + step, n))


def assign_frame(
    points: pd.DataFrame,
    plan: PlanIndex,
    *,
    crs: Any = None,
    lon: Any = None,
    lat: Any = None,
    chunk_size: int | None = None,
    progress: bool = False,
    coords: tuple | None = None,
    pool: ThreadPoolExecutor | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Assign one in-memory table; return the output table and the per-grid / status counts.

    ``coords`` may carry the result of :func:`extract_xy` when it was computed already.
    """
    x, y, src, pre = coords if coords is not None else extract_xy(points, crs, lon=lon, lat=lat)
    n = len(points)
    parts: list[Assigned] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="pt", desc="assign")
    for sl in _chunks(n, chunk_size):
        if pool is not None and sl.stop - sl.start >= 200_000:
            # two halves on two threads (numpy and pyproj release the GIL; the GEOS tests and
            # lazy caches take a lock)
            h = (sl.start + sl.stop) // 2
            other = pool.submit(plan.assign_xy, x[h:sl.stop], y[h:sl.stop], src, pre[h:sl.stop])
            parts.append(plan.assign_xy(x[sl.start:h], y[sl.start:h], src, pre[sl.start:h]))
            parts.append(other.result())
        else:
            parts.append(plan.assign_xy(x[sl], y[sl], src, pre[sl]))
        if bar is not None:
            bar.update(sl.stop - sl.start)
    if bar is not None:
        bar.close()
    a = parts[0] if len(parts) == 1 else Assigned(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in ("grid", "match", "reason", "distance"))
    )
    codes = plan.category_codes(a)
    out = points.copy(deep=False)
    for name, values in plan.columns(a, codes).items():
        out[name] = values
    per, st = plan.counts(a, codes)
    return out, per, st


class _NoPool:
    """Stand-in for a thread pool on small inputs: ``with _NoPool() as pool`` gives ``None``."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _is_dask(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] in {"dask", "dask_geopandas", "dask_expr"} and hasattr(
        obj, "npartitions"
    )


def assign(
    points: pd.DataFrame | gpd.GeoDataFrame | Any,
    grids: gpd.GeoDataFrame | PlanIndex,
    *,
    crs: Any = None,
    code_column: str = schema.GRID_CODE,
    max_distance: float | None = None,
    rules: Rules | str | dict | None = None,
    chunk_size: int | None = None,
    progress: bool = False,
    lon: Any = None,
    lat: Any = None,
) -> AssignResult:
    """Assign every address/event point to one grid of a plan.

    Rules (exact, deterministic, in the plan's own CRS):

    * a point strictly inside a grid gets that grid (``match="inside"``);
    * a point exactly on a boundary (a shared edge or vertex, or the plan's outer edge) gets,
      among the grids whose closed polygon covers it, the one whose code sorts first
      (``"boundary"``); where grids overlap, the smallest code among those holding the point;
    * a point outside every grid gets the nearest grid within ``max_distance`` metres, measured in
      a metric CRS (``"nearest"``, with ``distance_m``), else none (``"unmatched"``);
    * missing, non-numeric or infinite coordinates, 0/0 placeholders, longitude/latitude out of
      range or apparently swapped, non-point geometries, and points more than
      ``rules.assign.far_outside_m`` outside the plan's extent are ``"invalid"`` with a reason.

    No row is dropped or reordered and no row raises: problems are reported in ``match`` and
    ``match_reason``.

    Parameters
    ----------
    points
        GeoDataFrame of points, or a table with longitude/latitude under any alias (经度/纬度,
        lng/lat, x/y …), or a dask(-geopandas) dataframe of either (processed per partition).
    grids
        The plan (GeoDataFrame with grid codes and an explicit CRS) or a :class:`PlanIndex`
        built from it (to reuse the index across calls).
    crs
        CRS of the point coordinates: any pyproj CRS (``"EPSG:4326"``, CGCS2000 ``"EPSG:4490"``,
        a Gauss-Krüger zone …) or ``"GCJ02"`` (Amap/Tencent) / ``"BD09"`` (Baidu). Defaults to
        the GeoDataFrame's CRS, or WGS84 for lon/lat tables.
    code_column
        Column of ``grids`` holding the grid code; the output column gets the same name. An
        existing column of that name in ``points`` is replaced (as are ``match``,
        ``match_reason`` and ``distance_m``).
    max_distance
        Metres for the nearest-grid rule (default ``rules.assign.max_distance_m``; 0 disables).
    rules
        Rules file, mapping or :class:`~gridgis.rules.Rules`.
    chunk_size
        Process the points in slices of this many rows (bounds the temporary memory).
    progress
        Show a progress bar.
    lon, lat
        Column names of the coordinates when the headers are not recognised.

    Returns
    -------
    AssignResult
        ``.table`` (the rows with ``grid_code`` – categorical over the plan's codes –, ``match``,
        ``match_reason``, ``distance_m``), ``.per_grid`` and ``.status_counts``.

    Raises
    ------
    SchemaError, CRSError, GeometryError
        Only for problems of the whole input (no coordinate columns, no CRS, a bad plan).

    Examples
    --------
    >>> res = gridgis.assign(addresses, grids)                 # doctest: +SKIP
    >>> res.status_counts                                      # doctest: +SKIP
    >>> res = gridgis.assign(events_df, grids, crs="GCJ02")    # Amap coordinates # doctest: +SKIP
    """
    if isinstance(grids, PlanIndex):
        plan = grids
        if code_column != plan.code_column and code_column != schema.GRID_CODE:
            raise SchemaError(
                f"code_column={code_column!r} differs from the PlanIndex's {plan.code_column!r}"
            )
        if max_distance is not None or rules is not None:
            raise SchemaError(
                "max_distance/rules are fixed when the PlanIndex is built",
                fix="pass them to PlanIndex(grids, max_distance=..., rules=...)",
            )
    else:
        plan = PlanIndex(grids, code_column=code_column, max_distance=max_distance, rules=rules)
    if _is_dask(points):
        from .scale import assign_dask

        return assign_dask(points, plan, crs=crs, lon=lon, lat=lat)
    n = len(points)
    threads = n >= 100_000 and (os.cpu_count() or 1) > 1
    with ThreadPoolExecutor(max_workers=2) if threads else _NoPool() as pool:
        coords = None
        if plan._index is None:
            # size the raster to the work (a small table does not need a fine index), and build
            # it on a second thread while the coordinates are read out of the table
            cells = plan._cells or int(
                np.clip(min(500 * max(plan.n_grids, 1), 4 * max(n, 1)), 2**14, 2**22)
            )
            if pool is not None:
                building = pool.submit(plan.build, cells)
                try:
                    coords = extract_xy(points, crs, lon=lon, lat=lat, pool=pool)
                finally:
                    building.result()
            else:
                plan.build(cells)
        table, per, st = assign_frame(
            points, plan, crs=crs, lon=lon, lat=lat, chunk_size=chunk_size, progress=progress,
            coords=coords, pool=pool,
        )
    return AssignResult(
        table=table, _per_grid=_per_grid_series(plan, per), _status_counts=_status_series(st),
        plan=plan,
    )


__all__ = [
    "AssignResult",
    "PlanIndex",
    "assign",
    "assign_frame",
    "extract_xy",
    "find_lonlat",
    "MATCH_VALUES",
]
