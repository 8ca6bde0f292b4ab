"""A raster lookup index for exact point-in-grid assignment.

The plan's bounding box is cut into a regular raster of square cells. Every cell that a grid
boundary touches (its closed square, widened by a small margin) is an *edge cell*; all other
cells lie wholly inside one face of the plan (inside one grid, or outside all grids). Non-edge
cells are grouped into 4-connected components (union by hooking; two
side-adjacent cells that no boundary touches lie in the same face), and one exact
point-in-polygon test per component tells which grid that face belongs to (several where grids
overlap).

A point is then resolved by one array lookup of its cell. Points in edge cells:

* a cell crossed by a single segment is split by it into two parts, each inside a known grid
  (or outside): the side of the point is the sign of the 2-D orientation determinant;
* in a cell crossed by several segments the point walks in a straight line to the centre of a
  side-adjacent non-edge cell (or of its own cell, located once at build time): if the walk
  crosses no segment the point shares that centre's grid, otherwise it lies on its own side of
  the crossed segment nearest to it;
* what remains (points within rounding distance of a segment or vertex, cells touched by grids
  that may overlap) gets exact GEOS tests (:func:`shapely.contains_xy` /
  :func:`shapely.intersects_xy` on prepared polygons) against every candidate grid of the cell.

Orientation signs are trusted only beyond Shewchuk's forward error bound, so every answer is the
exact answer for the coordinates as stored. Grids are known not to overlap either by a proof
from the segments (noded, no two grids on one side of a segment, no one-sided segment inside
another grid) or, failing that, by GEOS's coverage check; where they may overlap, cells also
list the grids that contain their centre, and all candidates are tested.

Everything is vectorised: there is no Python loop over points or over grids. The result does not
depend on the raster resolution, which only trades build time against query time.

Rules: a point gets the grid whose interior contains it (the smallest rank where grids overlap);
a point on a boundary gets, among the grids whose closed polygon covers it, the smallest rank.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely

from .._geometry import present
from ._exact import (
    CCW_ERR,
    EDGE_BASE,
    EPS,
    OUTSIDE,
    ST_BOUNDARY,
    ST_INSIDE,
    ST_OUTSIDE,
    coverage_suspects,
    orient,
)
from ._raster import RasterTables

__all__ = ["EDGE_BASE", "OUTSIDE", "ST_BOUNDARY", "ST_INSIDE", "ST_OUTSIDE", "GridIndex", "Located"]

@dataclass
class Located:
    """Result of :meth:`GridIndex.locate` for arrays of coordinates.

    Attributes
    ----------
    grid
        Position (0-based, in the index's polygon order) of the grid assigned, ``-1`` when none.
    status
        ``ST_INSIDE``, ``ST_BOUNDARY`` or ``ST_OUTSIDE`` per point.
    multi
        Positions of the points held by more than one grid (on a shared boundary, or where
        grids overlap), and ``n_multi`` how many grids hold each of them.
    """

    grid: np.ndarray
    status: np.ndarray
    multi: np.ndarray
    n_multi: np.ndarray


class GridIndex(RasterTables):
    """Exact point-in-polygon index over the polygons of a grid plan.

    Parameters
    ----------
    geoms
        Array of Polygon/MultiPolygon geometries (missing or empty ones are never matched).
    rank
        Tie-break order: where several polygons hold a point, the one with the smallest rank wins
        (:func:`gridgis.assignment.assign` passes the rank of the grid code). Defaults to position.
    cells
        Approximate number of raster cells. More cells mean fewer exact tests per point but a
        longer build; the default is about 500 per polygon, between 2**14 and 2**20 (a finer
        raster of a province-size plan costs more to build and memory than it saves per point).
    parallel
        Run GEOS's coverage check on a second thread while the raster is built.
    """

    def __init__(
        self,
        geoms: np.ndarray,
        rank: np.ndarray | None = None,
        *,
        cells: int | None = None,
        parallel: bool = False,
    ) -> None:
        geoms = np.asarray(geoms, dtype=object)
        self.geoms = geoms
        n = len(geoms)
        self.rank = np.arange(n, dtype=np.int64) if rank is None else np.asarray(rank, np.int64)
        usable = present(geoms)
        self.usable = usable
        self._pos = np.flatnonzero(usable)  # polygons that take part
        self.tree = shapely.STRtree(np.where(usable, geoms, None))
        self._prepared = False
        self._lock = threading.Lock()  # GEOS exact tests and lazy tables: one thread at a time
        self.suspect = np.zeros(n, dtype=bool)
        self.is_coverage = False
        self.indptr = np.zeros(1, dtype=np.int64)
        self.indices = np.zeros(0, dtype=np.int32)
        self.cell_seg = np.zeros(0, dtype=np.int64)
        self.complex = np.zeros(0, dtype=bool)
        self.face_overlap = np.zeros(0, dtype=np.int32)
        self.any_overlap = False
        if len(self._pos) == 0:
            self.bounds = (0.0, 0.0, 0.0, 0.0)
            self.nx = self.ny = 1
            self.x0 = self.y0 = 0.0
            self.size = 1.0
            self.lookup = np.full(2, OUTSIDE, dtype=np.int32)
            self.cover = np.zeros(2, dtype=np.int8)
            return
        self.bounds = tuple(float(v) for v in shapely.total_bounds(geoms[usable]))
        # Do grids overlap? The raster build proves "no" for most plans (see _no_overlap); if
        # it cannot, GEOS's coverage check names the suspect grids (invalid ones, and those
        # whose edges lie in or cross a neighbour): the cells their boundaries touch then get
        # complete candidate lists and full tests.
        if parallel:
            with ThreadPoolExecutor(max_workers=1) as pool:
                checking = pool.submit(shapely.is_valid, geoms[usable])
                try:
                    tables = self._build(cells)
                finally:
                    valid = checking.result()
        else:
            valid = shapely.is_valid(geoms[usable])
            tables = self._build(cells)
        if valid.all() and self._proven:
            suspects = np.zeros(len(self._pos), dtype=bool)
        else:
            suspects = coverage_suspects(geoms[usable])
        self.suspect[self._pos] = suspects
        self.is_coverage = not suspects.any()
        self._mark_complex(*tables)
        self._centre_references(tables[0])
    # ---- queries ---------------------------------------------------------------------------
    def _ensure_prepared(self) -> None:
        if not self._prepared:
            shapely.prepare(self.geoms[self.usable])
            self._prepared = True

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_prepared"] = False  # prepared GEOS state does not survive pickling
        state.pop("_near", None)
        state.pop("_near_k", None)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def cells_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Raster cell of each point; ``nx * ny`` (the spare last entry) outside or for NaN.

        Truncation toward zero maps points just left of / below the raster into its first
        column / row: these spare cells are never edge cells and lie outside every grid, so
        they answer "outside", which is right for those points too.
        """
        inv = 1.0 / self.size
        u = np.subtract(x, self.x0)
        u *= inv
        v = np.subtract(y, self.y0)
        v *= inv
        with np.errstate(invalid="ignore", over="ignore"):
            iu = u.astype(np.int64)
            iv = v.astype(np.int64)
        ok = iu.view(np.uint64) < self.nx
        ok &= iv.view(np.uint64) < self.ny
        iv *= self.nx
        iv += iu
        return np.where(ok, iv, self.nx * self.ny)

    def locate(self, x: np.ndarray, y: np.ndarray, pool: Executor | None = None) -> Located:
        """Find the grid of each point (coordinates in the CRS of the polygons).

        NaN coordinates come back as ``ST_OUTSIDE`` with grid ``-1``. With a thread ``pool``,
        the array work runs on two halves of the points concurrently; the exact GEOS tests for
        the few points left over always run on the calling thread.
        """
        x = np.ascontiguousarray(x, dtype=float)
        y = np.ascontiguousarray(y, dtype=float)
        n = len(x)
        if pool is not None and n >= 200_000:
            h = n // 2
            other = pool.submit(self._fast, x[h:], y[h:])
            first = self._fast(x[:h], y[:h])
            second = other.result()
            grid = np.concatenate([first[0], second[0]])
            status = np.concatenate([first[1], second[1]])
            multi = [first[2], second[2] + h]
            n_multi = [first[3], second[3]]
            todo = np.concatenate([first[4], second[4] + h])
        else:
            grid, status, m0, c0, todo = self._fast(x, y)
            multi, n_multi = [m0], [c0]
        if len(todo):
            ecell = EDGE_BASE - self.lookup[self.cells_of(x[todo], y[todo])]
            with self._lock:  # prepared GEOS geometries are not safe to share between threads
                self._ensure_prepared()
                found = self._exact(x, y, todo, ecell, grid, status)
            multi.append(found[0])
            n_multi.append(found[1])
        return Located(grid=grid, status=status, multi=np.concatenate(multi),
                       n_multi=np.concatenate(n_multi))

    def _fast(self, x: np.ndarray, y: np.ndarray):
        """Raster lookup and half-plane tests (arrays only): grid, status, multiply held points
        and their counts, and the points that still need an exact test."""
        cell = self.cells_of(x, y)
        val = self.lookup[cell]
        grid = np.maximum(val, -1).astype(np.int64)
        status = np.where(val >= 0, ST_INSIDE, ST_OUTSIDE).astype(np.int8)
        many = np.zeros(0, dtype=np.int64)
        count = np.zeros(0, dtype=np.int64)
        if self.cover is not None:  # faces held by several overlapping grids
            cov = self.cover[cell]
            many = np.flatnonzero(cov > 1)
            count = cov[many].astype(np.int64)
        todo = np.flatnonzero(val <= EDGE_BASE)
        if len(todo):
            todo = self._half_plane(x, y, todo, EDGE_BASE - val[todo], grid, status)
        if len(todo):
            todo = self._walk(x, y, todo, EDGE_BASE - self.lookup[cell[todo]], grid, status)
        return grid, status, many, count, todo

    def _walk(self, x, y, todo, ecell, grid, status) -> np.ndarray:
        """Resolve points of cells crossed by several segments by walking to a reference point.

        From the point p to the centre r of a neighbouring non-edge cell (grid known), the only
        boundary that can be met is the cell's own segments. If none is crossed, p lies in r's
        grid; otherwise p lies on its own side of the crossed segment nearest to p, whose grid
        on that side is known. Orientations are only trusted beyond their error bound, and a
        walk that passes close to a vertex or along a segment is left to the exact tests.
        """
        usable = (self.ref_face[ecell] > -2) & ~self.complex[ecell]
        sel = todo[usable]
        e = ecell[usable]
        if not len(sel):
            return todo
        start = self.seg_indptr[e]
        cnt = self.seg_indptr[e + 1] - start
        pi = np.repeat(np.arange(len(sel)), cnt)
        g = self.seg_indices[np.repeat(start, cnt) + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))]
        px, py = x[sel][pi], y[sel][pi]
        rx, ry = self.ref_x[e][pi], self.ref_y[e][pi]
        ax, ay, bx, by = self.gx0[g], self.gy0[g], self.gx1[g], self.gy1[g]
        o_p, b_p = orient(ax, ay, bx, by, px, py)
        o_r, b_r = orient(ax, ay, bx, by, rx, ry)
        o_a, b_a = orient(px, py, rx, ry, ax, ay)
        o_b, b_b = orient(px, py, rx, ry, bx, by)
        sure_p, sure_r = np.abs(o_p) > b_p, np.abs(o_r) > b_r
        sure_ab = (np.abs(o_a) > b_a) & (np.abs(o_b) > b_b)
        # a pair is undecided when p or r may lie on the segment's line, or when p and r are
        # on either side of it and an endpoint may lie on the walk: those points go to the
        # exact tests
        sides_differ = (o_p > 0) != (o_r > 0)
        ends_differ = (o_a > 0) != (o_b > 0)
        doubt = ~(sure_p & sure_r) | (sides_differ & ~sure_ab)
        cross = sides_differ & ends_differ & ~doubt
        # where the walk meets each crossed segment (0 at p, 1 at r), with its error bound
        with np.errstate(divide="ignore", invalid="ignore"):
            span = np.abs(o_p) + np.abs(o_r)
            lam = np.where(cross, np.abs(o_p) / span, np.inf)
            err = np.where(cross, (b_p + b_r) / span + 4 * EPS, 0.0)
        n = len(sel)
        bad = np.zeros(n, dtype=bool)
        bad[pi[doubt]] = True
        first = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
        lmin = np.minimum.reduceat(lam, first)
        is_min = cross & (lam == lmin[pi])
        n_min = np.add.reduceat(is_min, first)
        top = np.full(n, -np.inf)
        top[pi[is_min]] = (lam + err)[is_min]
        # the nearest crossing must be nearest beyond doubt (else the walk passes a vertex)
        clash = cross & ~is_min & (lam - err <= top[pi])
        bad[pi[clash]] = True
        bad |= n_min > 1
        hit = cross & is_min
        side_poly = np.where(o_p > 0, self.g_left[g], self.g_right[g])
        result = self.ref_face[e].copy()
        result[pi[hit]] = side_poly[hit]
        good = ~bad
        pts = sel[good]
        grid[pts] = result[good]
        status[pts] = np.where(result[good] >= 0, ST_INSIDE, ST_OUTSIDE)
        return np.r_[todo[~usable], sel[bad]]

    def _half_plane(self, x, y, todo, ecell, grid, status) -> np.ndarray:
        """Resolve points in cells crossed by a single segment; return the points left over."""
        g = self.cell_seg[ecell]
        has = g >= 0
        sel = todo[has]
        g = g[has]
        px, py = x[sel], y[sel]
        # orient2d(a, b, p) = (ax - px) * (by - py) - (ay - py) * (bx - px); > 0: p left of a->b
        dl = (self.gx0[g] - px) * (self.gy1[g] - py)
        dr = (self.gy0[g] - py) * (self.gx1[g] - px)
        det = dl - dr
        bound = CCW_ERR * (np.abs(dl) + np.abs(dr))
        is_left = det > bound
        sure = is_left | (det < -bound)
        poly = np.where(is_left, self.g_left[g], self.g_right[g])[sure]
        pts = sel[sure]
        grid[pts] = poly
        status[pts] = np.where(poly >= 0, ST_INSIDE, ST_OUTSIDE)
        return np.r_[todo[~has], sel[~sure]]

    def _exact(self, x, y, todo, ecell, grid, status) -> tuple[np.ndarray, np.ndarray]:
        """Exact GEOS tests of points against every candidate grid of their edge cell.

        Candidates are complete: every grid whose boundary touches the cell, plus (complex
        cells) every grid holding the cell's centre. All of them are tested, so the rule holds
        even where grids overlap by less than GEOS's coverage check notices.
        """
        grid[todo] = -1
        status[todo] = ST_OUTSIDE
        start = self.indptr[ecell]
        c = self.indptr[ecell + 1] - start
        pi = np.repeat(np.arange(len(todo)), c)
        ci = self.indices[np.repeat(start, c) + (np.arange(c.sum()) - np.repeat(np.cumsum(c) - c, c))]
        pts = todo[pi]
        inside = shapely.contains_xy(self.geoms[ci], x[pts], y[pts])
        m1, c1 = self._resolve(pts[inside], ci[inside], ST_INSIDE, grid, status)
        held = np.zeros(len(todo), dtype=bool)
        held[pi[inside]] = True
        rest = ~held[pi]
        pts, ci = pts[rest], ci[rest]
        on = shapely.intersects_xy(self.geoms[ci], x[pts], y[pts])
        m2, c2 = self._resolve(pts[on], ci[on], ST_BOUNDARY, grid, status)
        return np.r_[m1, m2], np.r_[c1, c2]

    def _resolve(self, pts, polys, st, grid, status) -> tuple[np.ndarray, np.ndarray]:
        """Give each point the smallest-rank polygon among its (point, polygon) hits.

        Returns the points with more than one hit and their number of hits.
        """
        if not len(pts):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        order = np.lexsort((self.rank[polys], pts))
        pts, polys = pts[order], polys[order]
        first = np.flatnonzero(np.r_[True, pts[1:] != pts[:-1]])
        up = pts[first]
        grid[up] = polys[first]
        status[up] = st
        hits = np.diff(np.r_[first, len(pts)])
        return up[hits > 1], hits[hits > 1]

    def maybe_near(self, x: np.ndarray, y: np.ndarray, distance: float) -> np.ndarray:
        """False where a point is certainly farther than ``distance`` (CRS units) from every grid.

        Cells within ``ceil(distance / size) + 1`` cells (Chebyshev) of a cell that touches a
        grid are near; a point outside the raster is reported as possibly near.
        """
        k = int(np.ceil(distance / self.size)) + 1
        with self._lock:
            if getattr(self, "_near_k", None) != k:
                plan = (self.lookup[:-1] != OUTSIDE).reshape(self.ny, self.nx).view(np.uint8)
                m = _dilate(_dilate(plan, k, axis=0), k, axis=1)
                self._near = np.r_[m.ravel(), True]
                self._near_k = k
            near = self._near
        return near[self.cells_of(np.asarray(x, float), np.asarray(y, float))]

    @property
    def stats(self) -> dict[str, float]:
        """Size of the raster and share of edge cells (for tuning and benchmarks)."""
        ncell = self.nx * self.ny
        edge = self.lookup[:-1] <= EDGE_BASE
        return {
            "cells": ncell,
            "cell_size": self.size,
            "edge_share": float(edge.mean()),
            "single_segment_share": float((self.cell_seg >= 0).mean()) if len(self.cell_seg) else 0.0,
            "complex_share": float(self.complex.mean()) if len(self.complex) else 0.0,
            "coverage": self.is_coverage,
        }


def _dilate(a: np.ndarray, k: int, axis: int) -> np.ndarray:
    """True where a cell within ``k`` cells along ``axis`` is set (a 1-D maximum filter of
    width ``2k + 1`` with zeros outside), by running sums."""
    pad = [(0, 0)] * a.ndim
    pad[axis] = (k + 1, k)
    c = np.cumsum(np.pad(a.astype(np.int32), pad), axis=axis)
    n = a.shape[axis]
    hi = np.take(c, np.arange(2 * k + 1, 2 * k + 1 + n), axis=axis)
    lo = np.take(c, np.arange(n), axis=axis)
    return hi - lo > 0
