"""A raster lookup index for exact point-in-grid assignment.

The plan's bounding box is cut into a regular raster of square cells. Every cell that a grid
boundary touches (its closed square, widened by a small margin) is an *edge cell*; all other
cells lie wholly inside one face of the plan (inside one grid, or outside all grids). Non-edge
cells are grouped into 4-connected components with :func:`scipy.ndimage.label` (two
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
from scipy import ndimage

# lookup values of a raster cell: >= 0 grid position, OUTSIDE, or _EDGE_BASE - k for edge cell k
OUTSIDE = -1
_EDGE_BASE = -2

# point status codes returned by GridIndex.locate
ST_INSIDE = 0
ST_BOUNDARY = 1
ST_OUTSIDE = 2

# Shewchuk's error bound of the orientation determinant computed in doubles: when
# |det| > _CCW_ERR * (|detleft| + |detright|) its sign is the exact sign.
_EPS = 2.0**-53
_CCW_ERR = (3.0 + 16.0 * _EPS) * _EPS
_PIECE_EPS = 1e-3  # in cells: far above rounding error, so closed cells are covered


def _orient(ax, ay, bx, by, cx, cy) -> tuple[np.ndarray, np.ndarray]:
    """Orientation determinant of (a, b, c) (> 0: c left of a->b) and its error bound.

    The sign of the determinant is exact wherever its magnitude exceeds the bound.
    """
    dl = (ax - cx) * (by - cy)
    dr = (ay - cy) * (bx - cx)
    return dl - dr, _CCW_ERR * (np.abs(dl) + np.abs(dr))


def _hash4(a, b, c, d) -> np.ndarray:
    """A 64-bit hash of four float arrays (equal inputs, equal hashes)."""
    h = np.zeros(len(a), dtype=np.uint64)
    for arr, mult in ((a, 0x9E3779B97F4A7C15), (b, 0xC2B2AE3D27D4EB4F),
                      (c, 0x165667B19E3779F9), (d, 0xD6E8FEB86659FD93)):
        bits = np.ascontiguousarray(arr, dtype=np.float64).view(np.uint64)
        h ^= bits * np.uint64(mult)
        h = (h << np.uint64(13)) | (h >> np.uint64(51))
    return h


def _segments_noded(ax, ay, bx, by, cx, cy, dx, dy) -> bool:
    """True when every pair of segments (a-b, c-d) is disjoint or shares just one endpoint.

    Orientation signs count only beyond their error bound; a doubtful pair answers False.
    """
    share_ac = (ax == cx) & (ay == cy)
    share_ad = (ax == dx) & (ay == dy)
    share_bc = (bx == cx) & (by == cy)
    share_bd = (bx == dx) & (by == dy)
    shared = share_ac | share_ad | share_bc | share_bd
    # pairs without a shared endpoint: disjoint boxes (exact comparisons), or each segment
    # strictly on one side of the other's line
    apart_boxes = (
        (np.maximum(ax, bx) < np.minimum(cx, dx)) | (np.maximum(cx, dx) < np.minimum(ax, bx))
        | (np.maximum(ay, by) < np.minimum(cy, dy)) | (np.maximum(cy, dy) < np.minimum(ay, by))
    )
    free = ~shared & ~apart_boxes
    o1, e1 = _orient(ax[free], ay[free], bx[free], by[free], cx[free], cy[free])
    o2, e2 = _orient(ax[free], ay[free], bx[free], by[free], dx[free], dy[free])
    o3, e3 = _orient(cx[free], cy[free], dx[free], dy[free], ax[free], ay[free])
    o4, e4 = _orient(cx[free], cy[free], dx[free], dy[free], bx[free], by[free])
    c_d_one_side = (np.abs(o1) > e1) & (np.abs(o2) > e2) & ((o1 > 0) == (o2 > 0))
    a_b_one_side = (np.abs(o3) > e3) & (np.abs(o4) > e4) & ((o3 > 0) == (o4 > 0))
    if not (c_d_one_side | a_b_one_side).all():
        return False
    # pairs sharing an endpoint v: the other endpoints u (of a-b) and w (of c-d) must not lie
    # on one ray from v (which would make the segments overlap)
    s = np.flatnonzero(shared)
    if not len(s):
        return True
    a_shared = share_ac[s] | share_ad[s]
    vx = np.where(a_shared, ax[s], bx[s])
    vy = np.where(a_shared, ay[s], by[s])
    ux = np.where(a_shared, bx[s], ax[s])
    uy = np.where(a_shared, by[s], ay[s])
    c_shared = share_ac[s] | share_bc[s]
    wx = np.where(c_shared, dx[s], cx[s])
    wy = np.where(c_shared, dy[s], cy[s])
    o, e = _orient(vx, vy, ux, uy, wx, wy)
    px, py = (ux - vx) * (wx - vx), (uy - vy) * (wy - vy)
    dot = px + py
    opposite = dot < -_CCW_ERR * (np.abs(px) + np.abs(py))
    return bool(((np.abs(o) > e) | opposite).all())


def _suspects(geoms: np.ndarray) -> np.ndarray:
    """Polygons that are invalid or have an edge that is not valid in the coverage.

    GEOS flags an edge as invalid when it lies inside or crosses a neighbouring polygon, or
    when it does not match the neighbour's edge exactly; so where two grids overlap, every
    grid whose boundary runs through another grid's interior is flagged.
    """
    bad = ~shapely.is_valid(geoms)
    try:
        edges = shapely.coverage_invalid_edges(geoms)
    except shapely.errors.GEOSException:  # pragma: no cover - GEOS refuses odd input
        return np.ones(len(geoms), dtype=bool)
    return bad | ~(shapely.is_missing(edges) | shapely.is_empty(edges))


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


class GridIndex:
    """Exact point-in-polygon index over the polygons of a grid plan.

    Parameters
    ----------
    geoms
        Array of Polygon/MultiPolygon geometries (missing or empty ones are never matched).
    rank
        Tie-break order: where several polygons hold a point, the one with the smallest rank wins
        (:func:`gridgis.assign.assign` passes the rank of the grid code). Defaults to position.
    cells
        Approximate number of raster cells. More cells mean fewer exact tests per point but a
        longer build; the default is about 500 per polygon, between 2**14 and 2**22.
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
        usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
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
            suspects = _suspects(geoms[usable])
        self.suspect[self._pos] = suspects
        self.is_coverage = not suspects.any()
        self._mark_complex(*tables)
        self._centre_references(tables[0])

    # ---- build ----------------------------------------------------------------------------
    def _build(self, cells: int | None) -> tuple:
        minx, miny, maxx, maxy = self.bounds
        if cells is None:
            cells = int(np.clip(500 * len(self._pos), 2**14, 2**22))
        w, h = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)
        size = float(np.sqrt(w * h / cells))
        size = max(size, w / 8192, h / 8192, 1e-9)
        # two spare cells on every side: no boundary comes near the raster's outer cells
        self.size = size
        self.x0, self.y0 = minx - 2 * size, miny - 2 * size
        self.nx = int(np.ceil(w / size)) + 4
        self.ny = int(np.ceil(h / size)) + 4
        ncell = self.nx * self.ny

        seg = self._segments()
        cell, piece_seg = self._pieces(seg)
        edge = np.zeros(ncell + 1, dtype=bool)
        edge[cell] = True
        edge[ncell] = False
        edge_cells = np.flatnonzero(edge[:-1])

        tables = self._edge_tables(seg, cell, piece_seg, edge_cells)

        # faces: 4-connected components of non-edge cells, one exact test per component
        labels, nlab = ndimage.label(~edge[:-1].reshape(self.ny, self.nx))
        labels = labels.ravel()
        rep = np.zeros(nlab + 1, dtype=np.int64)
        rep[labels] = np.arange(ncell)
        ry, rx = np.divmod(rep[1:], self.nx)
        cx, cy = self.x0 + (rx + 0.5) * size, self.y0 + (ry + 0.5) * size
        face = np.full(nlab, OUTSIDE, dtype=np.int64)
        face_overlap = np.zeros(nlab, dtype=np.int32)
        qi, qp = self.tree.query(shapely.points(cx, cy), predicate="intersects")
        if len(qi):
            # several polygons hold a face only where grids overlap: the smallest rank wins
            order = np.lexsort((self.rank[qp], qi))
            qi, qp = qi[order], qp[order]
            first = np.r_[True, qi[1:] != qi[:-1]]
            face[qi[first]] = qp[first]
            face_overlap = np.bincount(qi, minlength=nlab).astype(np.int32)
        self.face_overlap = face_overlap
        self.any_overlap = bool((face_overlap > 1).any())

        # one extra entry at the end answers points outside the raster (and NaN)
        face = np.r_[OUTSIDE, face, OUTSIDE].astype(np.int32)
        labels = np.r_[labels, nlab + 1]
        lookup = face[labels]
        lookup[edge_cells] = _EDGE_BASE - np.arange(len(edge_cells), dtype=np.int32)
        self.lookup = lookup
        if self.any_overlap:  # polygons holding each non-edge cell (> 1 where grids overlap)
            self.cover = np.r_[0, np.minimum(face_overlap, 127), 0].astype(np.int8)[labels]
        else:
            self.cover = None
        self._references(edge_cells)
        return tables

    def _references(self, edge_cells: np.ndarray) -> None:
        """For every edge cell, a side-adjacent non-edge cell whose centre has a known grid.

        A point of the edge cell reaches that centre along a straight line that meets no
        boundary except the segments listed for its own cell (the neighbour is touched by
        none), which is what :meth:`_walk` relies on.
        """
        ne = len(edge_cells)
        self.ref_x = np.zeros(ne)
        self.ref_y = np.zeros(ne)
        self.ref_face = np.full(ne, -2, dtype=np.int64)  # -2: no reference cell
        need = np.flatnonzero(self.cell_seg < 0)  # cells with one segment use _half_plane
        j, i = np.divmod(edge_cells[need], self.nx)
        for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            ni, nj = i + di, j + dj
            inside = (ni >= 0) & (ni < self.nx) & (nj >= 0) & (nj < self.ny)
            nb = np.where(inside, nj * self.nx + ni, self.nx * self.ny)
            val = self.lookup[nb]
            ok = inside & (val > _EDGE_BASE) & (self.ref_face[need] == -2)
            if self.cover is not None:
                ok &= self.cover[nb] <= 1
            at = need[ok]
            self.ref_face[at] = np.maximum(val[ok], -1)
            self.ref_x[at] = self.x0 + (ni[ok] + 0.5) * self.size
            self.ref_y[at] = self.y0 + (nj[ok] + 0.5) * self.size

    def _segments(self) -> dict[str, np.ndarray]:
        """Every ring segment of every usable polygon, with its polygon and interior side."""
        parts, pidx = shapely.get_parts(self.geoms[self._pos], return_index=True)
        rings, ridx = shapely.get_rings(parts, return_index=True)
        # get_rings lists each polygon's exterior ring first, then its holes
        hole = np.r_[False, ridx[1:] == ridx[:-1]]
        # interior on the left of the ring's direction: exterior CCW, or hole CW
        inner_left = shapely.is_ccw(rings) != hole
        coords, cidx = shapely.get_coordinates(rings, return_index=True)
        same = np.flatnonzero(cidx[1:] == cidx[:-1])
        ring = cidx[same]
        return {
            "x0": coords[same, 0], "y0": coords[same, 1],
            "x1": coords[same + 1, 0], "y1": coords[same + 1, 1],
            "poly": self._pos[pidx[ridx[ring]]], "inner_left": inner_left[ring],
        }

    def _pieces(self, seg: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Cells touched by every segment (a superset) and the segment of each touch."""
        inv = 1.0 / self.size
        u0 = (seg["x0"] - self.x0) * inv
        v0 = (seg["y0"] - self.y0) * inv
        du = (seg["x1"] - self.x0) * inv - u0
        dv = (seg["y1"] - self.y0) * inv - v0
        # split every segment into pieces shorter than one cell along either axis, so that each
        # piece's box (widened by eps) spans at most 2 x 2 cells
        eps = _PIECE_EPS
        k = np.maximum(np.ceil(np.maximum(np.abs(du), np.abs(dv)) / (1 - 4 * eps)), 1).astype(np.int64)
        sid = np.repeat(np.arange(len(k)), k)
        step = np.arange(len(sid)) - np.repeat(np.cumsum(k) - k, k)
        kk = k[sid]
        t0, t1 = step / kk, (step + 1) / kk
        su0, sv0, sdu, sdv = u0[sid], v0[sid], du[sid], dv[sid]
        pu0, pu1 = su0 + t0 * sdu, su0 + t1 * sdu
        pv0, pv1 = sv0 + t0 * sdv, sv0 + t1 * sdv
        i0 = np.floor(np.minimum(pu0, pu1) - eps).astype(np.int64)
        i1 = np.floor(np.maximum(pu0, pu1) + eps).astype(np.int64)
        j0 = np.floor(np.minimum(pv0, pv1) - eps).astype(np.int64)
        j1 = np.floor(np.maximum(pv0, pv1) + eps).astype(np.int64)
        xi, yj = i1 > i0, j1 > j0
        cells = [j0 * self.nx + i0, j0[xi] * self.nx + i1[xi], j1[yj] * self.nx + i0[yj]]
        both = xi & yj
        cells.append(j1[both] * self.nx + i1[both])
        segs = [sid, sid[xi], sid[yj], sid[both]]
        cell = np.clip(np.concatenate(cells), 0, self.nx * self.ny - 1)
        return cell, np.concatenate(segs)

    def _edge_tables(self, seg, cell, piece_seg, edge_cells) -> tuple:
        """Per edge cell: candidate grids and its single crossing segment (if only one).

        Returns what :meth:`_mark_complex` needs once the suspect grids are known.
        """
        # geometric segments: the two copies of a shared edge (one per grid, opposite
        # directions) become one segment with a grid on its left and one on its right
        x0, y0, x1, y1 = seg["x0"], seg["y0"], seg["x1"], seg["y1"]
        flip = (x1 < x0) | ((x1 == x0) & (y1 < y0))
        ax, ay = np.where(flip, x1, x0), np.where(flip, y1, y0)
        bx, by = np.where(flip, x0, x1), np.where(flip, y0, y1)
        # identical segments sort next to each other by a hash of their coordinates (a hash
        # collision can only split a group, which costs speed, never exactness)
        order = np.argsort(_hash4(ax, ay, bx, by))
        new = np.r_[True, (np.diff(ax[order]) != 0) | (np.diff(ay[order]) != 0)
                    | (np.diff(bx[order]) != 0) | (np.diff(by[order]) != 0)]
        gid = np.empty(len(order), dtype=np.int64)
        gid[order] = np.cumsum(new) - 1
        ngeo = int(new.sum())
        first = order[new]
        self.gx0, self.gy0, self.gx1, self.gy1 = ax[first], ay[first], bx[first], by[first]
        left = seg["inner_left"] != flip  # the copy's grid lies left of the canonical direction
        poly = seg["poly"]
        self.g_left = np.full(ngeo, -1, dtype=np.int64)
        self.g_right = np.full(ngeo, -1, dtype=np.int64)
        self.g_left[gid[left]] = poly[left]
        self.g_right[gid[~left]] = poly[~left]
        # two grids on one side of a segment overlap there; a zero-length segment has no side
        crowded = (np.bincount(gid[left], minlength=ngeo) > 1) | (np.bincount(gid[~left], minlength=ngeo) > 1)
        point_like = (self.gx0 == self.gx1) & (self.gy0 == self.gy1)

        # distinct geometric segments per edge cell (kcell[start] lists the edge cells in
        # increasing order, like edge_cells)
        key = np.sort(cell * ngeo + gid[piece_seg])
        key = key[np.r_[True, key[1:] != key[:-1]]]
        kcell, kg = np.divmod(key, ngeo)
        start = np.flatnonzero(np.r_[True, kcell[1:] != kcell[:-1]])
        count = np.diff(np.r_[start, len(kcell)])

        # the distinct segments of each edge cell (CSR), for the walk of _walk()
        self.seg_indptr = np.r_[start, len(kcell)].astype(np.int64)
        self.seg_indices = kg
        self._proven = not crowded.any() and not point_like.any() and self._no_overlap(start, count, kg)
        single = count == 1
        g = kg[start]
        ok = single & ~crowded[g] & ~point_like[g]
        cell_seg = np.full(len(edge_cells), -1, dtype=np.int64)
        cell_seg[ok] = g[ok]
        self.cell_seg = cell_seg
        self.complex = np.zeros(len(edge_cells), dtype=bool)
        # candidate grids per edge cell (CSR): the grids on either side of its segments
        self._set_candidates(edge_cells, np.r_[kcell, kcell], np.r_[self.g_left[kg], self.g_right[kg]])
        return edge_cells, cell, poly[piece_seg], crowded[gid[piece_seg]]

    def _no_overlap(self, start: np.ndarray, count: np.ndarray, kg: np.ndarray) -> bool:
        """True when the segments prove that no two grids overlap (valid polygons assumed).

        With no segment having two grids on one side, the proof needs: (a) segments meet only
        at shared endpoints (checked pairwise in every cell they share, with exact
        orientation signs; anything doubtful fails the proof), and (b) no one-sided segment
        lies in another grid. Then a face held by k >= 2 grids would have an edge to a face
        held by fewer, across which exactly one grid ends, on a one-sided segment whose open
        side is still inside another grid: which (b) rules out.
        """
        # (a) every pair of distinct segments listed in the same cell
        multi = np.flatnonzero(count > 1)
        if len(multi):
            c = count[multi]
            pos = np.repeat(start[multi], c) + (np.arange(c.sum()) - np.repeat(np.cumsum(c) - c, c))
            end = np.repeat(start[multi] + c, c)
            later = end - pos - 1  # partners after each position in its cell
            i = np.repeat(pos, later)
            j = i + 1 + (np.arange(later.sum()) - np.repeat(np.cumsum(later) - later, later))
            g1, g2 = kg[i], kg[j]
            if not _segments_noded(self.gx0[g1], self.gy0[g1], self.gx1[g1], self.gy1[g1],
                                   self.gx0[g2], self.gy0[g2], self.gx1[g2], self.gy1[g2]):
                return False
        # (b) the midpoint of every one-sided segment touches no grid but its own
        one = np.flatnonzero((self.g_left < 0) | (self.g_right < 0))
        owner = np.maximum(self.g_left[one], self.g_right[one])
        mx = (self.gx0[one] + self.gx1[one]) / 2
        my = (self.gy0[one] + self.gy1[one]) / 2
        qi, qp = self.tree.query(shapely.points(mx, my), predicate="intersects")
        return not (qp != owner[qi]).any()

    def _set_candidates(self, edge_cells, cand_cell, cand_poly) -> None:
        m = cand_poly >= 0
        npoly = len(self.geoms)
        ckey = np.sort(cand_cell[m] * npoly + cand_poly[m])
        ckey = ckey[np.r_[True, ckey[1:] != ckey[:-1]]]
        ccell, cpoly = np.divmod(ckey, npoly)
        edge_pos = np.searchsorted(edge_cells, ccell)
        self.indptr = np.searchsorted(edge_pos, np.arange(len(edge_cells) + 1)).astype(np.int64)
        self.indices = cpoly.astype(np.int32)

    def _centre_references(self, edge_cells: np.ndarray) -> None:
        """Cells crossed by several segments without a non-edge neighbour: their own centre,
        located once with exact tests, is the reference of the walk (it stays in the cell)."""
        need = np.flatnonzero((self.cell_seg < 0) & (self.ref_face == -2) & ~self.complex)
        if not len(need):
            return
        cy, cx = np.divmod(edge_cells[need], self.nx)
        px = self.x0 + (cx + 0.5) * self.size
        py = self.y0 + (cy + 0.5) * self.size
        grid = np.full(len(need), -1, dtype=np.int64)
        status = np.full(len(need), ST_OUTSIDE, dtype=np.int8)
        with self._lock:
            self._ensure_prepared()
            self._exact(px, py, np.arange(len(need)), need, grid, status)
        known = status != ST_BOUNDARY  # a centre on a boundary is no use as a reference
        at = need[known]
        self.ref_face[at] = np.where(status[known] == ST_INSIDE, grid[known], -1)
        self.ref_x[at] = px[known]
        self.ref_y[at] = py[known]

    def _mark_complex(self, edge_cells, cell, piece_poly, piece_crowded) -> None:
        """Complex cells: touched by a suspect grid or a segment with two grids on one side.

        A grid may hold such a cell entirely without its boundary touching it (where grids
        overlap), so these cells also list the grids that contain their centre, and their
        points are tested against every candidate.
        """
        flagged = self.suspect[piece_poly] | piece_crowded
        if not flagged.any():
            return
        ccells = np.unique(cell[flagged])
        self.complex[np.searchsorted(edge_cells, ccells)] = True
        self.cell_seg[self.complex] = -1
        cy, cx = np.divmod(ccells, self.nx)
        qi, qp = self.tree.query(
            shapely.points(self.x0 + (cx + 0.5) * self.size, self.y0 + (cy + 0.5) * self.size),
            predicate="intersects",
        )
        hit = np.flatnonzero(flagged)
        counts = np.diff(self.indptr)
        old_cell = np.repeat(edge_cells, counts)
        self._set_candidates(
            edge_cells,
            np.r_[old_cell, cell[hit], ccells[qi]],
            np.r_[self.indices.astype(np.int64), piece_poly[hit], qp],
        )

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
            ecell = _EDGE_BASE - self.lookup[self.cells_of(x[todo], y[todo])]
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
        todo = np.flatnonzero(val <= _EDGE_BASE)
        if len(todo):
            todo = self._half_plane(x, y, todo, _EDGE_BASE - val[todo], grid, status)
        if len(todo):
            todo = self._walk(x, y, todo, _EDGE_BASE - self.lookup[cell[todo]], grid, status)
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
        o_p, b_p = _orient(ax, ay, bx, by, px, py)
        o_r, b_r = _orient(ax, ay, bx, by, rx, ry)
        o_a, b_a = _orient(px, py, rx, ry, ax, ay)
        o_b, b_b = _orient(px, py, rx, ry, bx, by)
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
            err = np.where(cross, (b_p + b_r) / span + 4 * _EPS, 0.0)
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
        bound = _CCW_ERR * (np.abs(dl) + np.abs(dr))
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
                m = ndimage.maximum_filter1d(plan, size=2 * k + 1, axis=0, mode="constant")
                m = ndimage.maximum_filter1d(m, size=2 * k + 1, axis=1, mode="constant")
                self._near = np.r_[m.ravel().astype(bool), True]
                self._near_k = k
            near = self._near
        return near[self.cells_of(np.asarray(x, float), np.asarray(y, float))]

    @property
    def stats(self) -> dict[str, float]:
        """Size of the raster and share of edge cells (for tuning and benchmarks)."""
        ncell = self.nx * self.ny
        edge = self.lookup[:-1] <= _EDGE_BASE
        return {
            "cells": ncell,
            "cell_size": self.size,
            "edge_share": float(edge.mean()),
            "single_segment_share": float((self.cell_seg >= 0).mean()) if len(self.cell_seg) else 0.0,
            "complex_share": float(self.complex.mean()) if len(self.complex) else 0.0,
            "coverage": self.is_coverage,
        }
