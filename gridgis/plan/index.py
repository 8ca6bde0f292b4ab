"""R-tree spatial indexes of an editable plan.

:class:`GridIndex` indexes the grids and is updated in place when the plan changes: only grids
whose geometry changed are deleted and inserted again (an edit touches a handful of grids, so
nothing is rebuilt). :class:`PointIndex` indexes fixed points (building points). Both answer
``query(geoms, predicate)`` like :meth:`shapely.STRtree.query` with an array of geometries:
pairs ``(input position, item position)``.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from rtree import index as rindex

from .. import schema
from .._geometry import present

__all__ = ["GridIndex", "PointIndex"]


def _new_rtree() -> rindex.Index:
    return rindex.Index(interleaved=True)


def _pairs(tree: rindex.Index, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs ``(input position, tree id)`` whose bounding boxes meet."""
    geoms = np.asarray(geoms, dtype=object)
    ok = np.flatnonzero(present(geoms)) if len(geoms) else np.zeros(0, dtype=np.int64)
    if not len(ok) or len(tree) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    b = shapely.bounds(geoms[ok])
    ids, counts = tree.intersection_v(np.ascontiguousarray(b[:, :2]),
                                      np.ascontiguousarray(b[:, 2:]))
    return (np.repeat(ok, np.asarray(counts, dtype=np.int64)),
            np.asarray(ids).astype(np.int64))


def _keep(predicate: str | None, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if predicate is None:
        return np.ones(len(a), dtype=bool)
    return np.asarray(getattr(shapely, predicate)(a, b), dtype=bool)


def _as_array(geoms: Any) -> np.ndarray:
    if isinstance(geoms, shapely.Geometry):
        return np.array([geoms], dtype=object)
    return np.asarray(geoms, dtype=object)


class GridIndex:
    """R-tree over the grids of a plan, kept in step with the plan by :meth:`sync`.

    Entries are keyed by grid code and geometry: :meth:`sync` deletes the entries of grids that
    were removed or whose geometry object changed and inserts the new ones; everything else
    stays. Query results are row positions in the grid table of the last :meth:`sync`.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame({"grid_code": ["a", "b"]},
    ...                      geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> idx = GridIndex.from_grids(g)
    >>> idx.query(shapely.box(1.5, 0.2, 1.6, 0.3))[1].tolist()
    [1]
    >>> idx.sync(g.iloc[[1]].reset_index(drop=True))
    (1, 0)
    >>> len(idx)
    1
    """

    def __init__(self) -> None:
        self._tree = _new_rtree()
        self._next = 0
        self._entry: dict[str, tuple[int, Any]] = {}   # code -> (id, geometry)
        self._bounds: dict[int, tuple[float, ...]] = {}  # id -> bounds of indexed entries
        self._geom_of = np.empty(0, dtype=object)      # id -> geometry
        self._row_of = np.empty(0, dtype=np.int64)      # id -> row of the last sync

    @classmethod
    def from_grids(cls, grids: gpd.GeoDataFrame) -> GridIndex:
        """A fresh index of ``grids`` (a table with ``grid_code``)."""
        out = cls()
        out.sync(grids)
        return out

    def __len__(self) -> int:
        return len(self._entry)

    def sync(self, grids: gpd.GeoDataFrame) -> tuple[int, int]:
        """Bring the index in step with ``grids``; returns ``(deleted, inserted)`` entries."""
        codes = grids[schema.GRID_CODE].to_numpy(object)
        geoms = np.asarray(grids.geometry.array, dtype=object)
        wanted = dict(zip(codes.tolist(), geoms.tolist(), strict=True))
        deleted = 0
        for code, (eid, geom) in list(self._entry.items()):
            if wanted.get(code, None) is not geom or code not in wanted:
                bounds = self._bounds.pop(eid, None)
                if bounds is not None:
                    self._tree.delete(eid, bounds)
                del self._entry[code]
                deleted += 1
        inserted = 0
        for code, geom in wanted.items():
            if code in self._entry:
                continue
            eid = self._next
            self._next += 1
            self._entry[code] = (eid, geom)
            inserted += 1
            if geom is not None and not shapely.is_empty(geom):
                bounds = tuple(float(v) for v in shapely.bounds(geom))
                self._bounds[eid] = bounds
                self._tree.insert(eid, bounds)
        self._geom_of = np.empty(self._next, dtype=object)
        self._row_of = np.full(self._next, -1, dtype=np.int64)
        for row, code in enumerate(codes.tolist()):
            eid, geom = self._entry[code]
            self._geom_of[eid] = geom
            self._row_of[eid] = row
        return deleted, inserted

    def query(self, geoms: Any, predicate: str | None = "intersects"
              ) -> tuple[np.ndarray, np.ndarray]:
        """Pairs ``(input position, grid row)`` where ``predicate(input, grid)`` holds.

        ``predicate`` is a shapely predicate name (``intersects``, ``contains`` …) or ``None``
        for bounding boxes only. Pairs are sorted by input, then row.
        """
        geoms = _as_array(geoms)
        qi, ids = _pairs(self._tree, geoms)
        rows = self._row_of[ids] if len(ids) else ids
        keep = rows >= 0
        qi, ids, rows = qi[keep], ids[keep], rows[keep]
        if len(qi):
            keep = _keep(predicate, geoms[qi], self._geom_of[ids])
            qi, rows = qi[keep], rows[keep]
        order = np.lexsort((rows, qi))
        return qi[order], rows[order]

    def rows(self, geom: shapely.Geometry, predicate: str | None = "intersects") -> np.ndarray:
        """Sorted rows of the grids meeting ``geom`` (by ``predicate``)."""
        return np.unique(self.query(geom, predicate)[1])


class PointIndex:
    """R-tree over fixed points (e.g. the representative points of buildings).

    Examples
    --------
    >>> import numpy as np, shapely
    >>> idx = PointIndex(shapely.points(np.array([[0.5, 0.5], [3.0, 3.0]])))
    >>> idx.within(shapely.box(0, 0, 1, 1)).tolist()
    [0]
    """

    def __init__(self, points: np.ndarray) -> None:
        self.points = np.asarray(points, dtype=object)
        ok = np.flatnonzero(present(self.points)) if len(self.points) else \
            np.zeros(0, dtype=np.int64)
        self._tree = _new_rtree()
        if len(ok):
            xy = shapely.get_coordinates(self.points[ok])
            boxes = np.ascontiguousarray(np.hstack([xy, xy]))
            arrays = (ok.astype(np.int64), boxes[:, :2].copy(), boxes[:, 2:].copy())
            try:
                self._tree = rindex.Index(arrays, interleaved=True)
            except NotImplementedError:  # pragma: no cover - libspatialindex < 2.1
                self._tree = rindex.Index(((int(i), tuple(b), None) for i, b in
                                           zip(ok, boxes, strict=True)), interleaved=True)

    def __len__(self) -> int:
        return len(self.points)

    def query(self, geoms: Any, predicate: str | None = "intersects"
              ) -> tuple[np.ndarray, np.ndarray]:
        """Pairs ``(input position, point position)`` where ``predicate(input, point)`` holds,
        sorted by input, then point."""
        geoms = _as_array(geoms)
        qi, pi = _pairs(self._tree, geoms)
        if len(qi):
            keep = _keep(predicate, geoms[qi], self.points[pi])
            qi, pi = qi[keep], pi[keep]
        order = np.lexsort((pi, qi))
        return qi[order], pi[order]

    def within(self, geom: shapely.Geometry) -> np.ndarray:
        """Sorted positions of the points intersecting ``geom``."""
        return np.unique(self.query(geom, "intersects")[1])
