"""Building the raster lookup tables of :class:`gridgis.assignment.GridIndex`.

:class:`RasterTables` is the build half of the index: the raster, its edge cells, the pieces of
segments per cell, the reference points of the walks and the candidate grids per cell.
"""

from __future__ import annotations

import numpy as np
import shapely

from .._geometry import first_hit
from ._exact import (
    EDGE_BASE,
    OUTSIDE,
    PIECE_EPS,
    ST_BOUNDARY,
    ST_INSIDE,
    ST_OUTSIDE,
    hash4,
    segments_noded,
)

__all__ = ["RasterTables"]


class RasterTables:
    """Build steps of the lookup tables (mixed into :class:`gridgis.assignment.GridIndex`)."""


    def _build(self, cells: int | None) -> tuple:
        minx, miny, maxx, maxy = self.bounds
        if cells is None:
            cells = int(np.clip(500 * len(self._pos), 2**14, 2**20))
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
        labels, nlab = _components(~edge[:-1], self.nx)
        rep = np.zeros(nlab + 1, dtype=np.int64)
        rep[labels] = np.arange(ncell)
        ry, rx = np.divmod(rep[1:], self.nx)
        cx, cy = self.x0 + (rx + 0.5) * size, self.y0 + (ry + 0.5) * size
        face = np.full(nlab, OUTSIDE, dtype=np.int64)
        face_overlap = np.zeros(nlab, dtype=np.int32)
        qi, qp = self.tree.query(shapely.points(cx, cy), predicate="intersects")
        if len(qi):
            # several polygons hold a face only where grids overlap: the smallest rank wins
            hit = first_hit(qi, qp, nlab, self.rank)
            face = np.where(hit >= 0, hit, face)
            face_overlap = np.bincount(qi, minlength=nlab).astype(np.int32)
        self.face_overlap = face_overlap
        self.any_overlap = bool((face_overlap > 1).any())

        # one extra entry at the end answers points outside the raster (and NaN)
        face = np.r_[OUTSIDE, face, OUTSIDE].astype(np.int32)
        labels = np.r_[labels, nlab + 1]
        lookup = face[labels]
        lookup[edge_cells] = EDGE_BASE - np.arange(len(edge_cells), dtype=np.int32)
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
            ok = inside & (val > EDGE_BASE) & (self.ref_face[need] == -2)
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
        eps = PIECE_EPS
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
        # of the (up to) 2 x 2 cells of a piece's box, only those the piece itself comes within
        # eps of: a diagonal piece misses one corner cell of its box, and listing that cell
        # would make it a one-segment cell decided by the side of a segment that is not in it
        # (wrong when another boundary runs between them)
        cells, segs = [], []
        for ci, cj in ((i0, j0), (i1, j0), (i0, j1), (i1, j1)):
            hit = _touches(pu0, pv0, pu1, pv1, ci, cj, eps)
            if ci is i1:
                hit &= i1 > i0
            if cj is j1:
                hit &= j1 > j0
            cells.append(cj[hit] * self.nx + ci[hit])
            segs.append(sid[hit])
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
        order = np.argsort(hash4(ax, ay, bx, by))
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
            if not segments_noded(self.gx0[g1], self.gy0[g1], self.gx1[g1], self.gy1[g1],
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


def _components(free: np.ndarray, nx: int) -> tuple[np.ndarray, int]:
    """4-connected components of the ``True`` cells of a raster stored row by row (``nx`` cells
    a row): labels ``1..n`` (``0`` for ``False`` cells) and ``n``, as ``scipy.ndimage.label``.

    Each row's runs of ``True`` cells are nodes, runs that touch across two rows are joined;
    the components of that small graph come from union by hooking (each round, every root
    with a neighbouring root of a smaller number is hooked under the smallest, then every node
    points to its root by pointer jumping). Vectorised, and no scipy import on the path of a
    cold ``gridgis assign``.
    """
    n = len(free)
    labels = np.zeros(n, dtype=np.int64)
    if not free.any():
        return labels, 0
    first = np.zeros(n, dtype=bool)
    first[::nx] = True
    starts = free & (first | ~np.r_[False, free[:-1]])
    run = np.cumsum(starts) - 1
    n_runs = int(run[-1]) + 1
    below = np.flatnonzero(free[:-nx] & free[nx:]) if n > nx else np.zeros(0, dtype=np.int64)
    a, b = run[below], run[below + nx]  # both non-decreasing in scan order: sorted pairs
    keep = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])] if len(a) else np.zeros(0, bool)
    a, b = a[keep], b[keep]
    parent = np.arange(n_runs)
    while len(a):
        pa, pb = parent[a], parent[b]
        differ = pa != pb
        if not differ.any():
            break
        a, b, pa, pb = a[differ], b[differ], pa[differ], pb[differ]
        np.minimum.at(parent, np.maximum(pa, pb), np.minimum(pa, pb))
        while True:
            up = parent[parent]
            if np.array_equal(up, parent):
                break
            parent = up
    roots, comp = np.unique(parent, return_inverse=True)
    labels[free] = comp[run[free]] + 1
    return labels, len(roots)


def _touches(u0: np.ndarray, v0: np.ndarray, u1: np.ndarray, v1: np.ndarray, i: np.ndarray,
             j: np.ndarray, eps: float) -> np.ndarray:
    """Whether each segment (u0, v0)-(u1, v1) meets the cell [i, i+1] x [j, j+1] widened by
    ``eps`` (Liang-Barsky clipping; raster units). Rounding errors are far below ``eps``.

    Examples
    --------
    >>> z, one = np.zeros(1), np.ones(1)
    >>> _touches(z + 0.2, z + 0.6, z + 1.4, z + 1.8, one, z, 1e-3)     # the corner cell (1, 0)
    array([False])
    >>> _touches(z + 0.2, z + 0.6, z + 1.4, z + 1.8, z, one, 1e-3)
    array([ True])
    """
    lo = np.zeros(len(u0))
    hi = np.ones(len(u0))
    ok = np.ones(len(u0), dtype=bool)
    for a, d, c in ((u0, u1 - u0, i), (v0, v1 - v0, j)):
        low, high = c - eps, c + 1 + eps
        flat = d == 0
        ok &= ~flat | ((a >= low) & (a <= high))
        with np.errstate(divide="ignore", invalid="ignore"):
            ta, tb = (low - a) / d, (high - a) / d
        lo = np.where(flat, lo, np.maximum(lo, np.minimum(ta, tb)))
        hi = np.where(flat, hi, np.minimum(hi, np.maximum(ta, tb)))
    return ok & (lo <= hi)
