"""Linework step of :func:`gridgis.partition.build_grids`: the lines every arrangement is made of,
and the labels of an arrangement's faces.

The base lines are the community boundaries, locked-grid and special-site outlines, roads and
rivers. :class:`Linework` also labels the faces of any arrangement of them (community, locked
grid, special site, basic land), places buildings in faces and merges slivers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._geometry import Arrangement, first_container
from ._faces import best_neighbour
from ._prepare import Inputs
from .blocks import as_lines, merge_slivers
from .geom import near_lines, segment_tree
from .special import owner_labels

__all__ = ["BARRIER_TOL_M", "LOCK_SNAP_M", "MICRO_FACE_M2", "FaceLabels", "Linework", "make_linework"]

#: faces smaller than this (square metres) are noding noise and join a neighbour
MICRO_FACE_M2 = 1e-3
#: lines closer than this to a locked grid's outline are snapped onto it (metres)
LOCK_SNAP_M = 0.01
#: an arrangement edge whose midpoint is this close to a barrier line lies on it (metres)
BARRIER_TOL_M = 1e-2


class FaceLabels(NamedTuple):
    """Per face: community, locked grid and special site (``-1`` for none), basic land."""

    comm: np.ndarray
    lock: np.ndarray
    site: np.ndarray
    basic: np.ndarray


@dataclass
class Linework:
    """Base lines and barrier lines of a run, and the labelling of arrangements of them."""

    inp: Inputs
    base_lines: np.ndarray
    barrier_lines: np.ndarray
    lock_outline: shapely.Geometry | None
    lane_lines: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    """Lanes (service roads, footways, paths …): block boundaries only inside a block too big
    for one grid."""
    _on_barrier: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, dtype=complex), np.zeros(0, dtype=bool)),
        init=False, repr=False)

    @cached_property
    def barrier_tree(self) -> shapely.STRtree | None:
        """Tree of the barrier lines' segments (built on first use)."""
        return segment_tree(self.barrier_lines)

    def on_barrier(self, points: np.ndarray) -> np.ndarray:
        """Whether each point (``(n, 2)``) lies within :data:`BARRIER_TOL_M` of a barrier line.

        Points seen before are answered from a cache (the arrangements of the refinement
        rounds of a run share most of their edges), the others with a tree of the barrier
        segments built once.
        """
        key = points[:, 0] + 1j * points[:, 1]
        known, value = self._on_barrier
        pos = np.minimum(np.searchsorted(known, key), max(len(known) - 1, 0))
        seen = (known[pos] == key) if len(known) else np.zeros(len(key), dtype=bool)
        out = np.zeros(len(key), dtype=bool)
        out[seen] = value[pos[seen]]
        new = np.flatnonzero(~seen)
        if len(new):
            out[new] = near_lines(points[new], self.barrier_lines, BARRIER_TOL_M,
                                  self.barrier_tree)
            keys, first = np.unique(key[new], return_index=True)
            known = np.concatenate([known, keys])
            order = np.argsort(known, kind="stable")
            self._on_barrier = (known[order],
                                np.concatenate([value, out[new][first]])[order])
        return out

    def snap(self, lines: np.ndarray) -> np.ndarray:
        """Snap lines running along a locked grid's outline onto it, so that the outline
        survives the noding exactly (no micro slivers along it)."""
        if self.lock_outline is None or len(lines) == 0:
            return lines
        return shapely.snap(lines, self.lock_outline, tolerance=LOCK_SNAP_M)

    def label(self, arr: Arrangement) -> FaceLabels:
        """Community, locked grid, special site and basic-land flag of every face."""
        inp = self.inp
        face_comm = first_container(arr.rep, inp.cgeoms)
        f_lock = owner_labels(arr.rep, face_comm, inp.lock_geoms, inp.lock_comm)
        f_site = owner_labels(arr.rep, face_comm, inp.site_geoms, inp.site_comm)
        f_site[f_lock >= 0] = -1
        # micro faces (noding noise) take the labels of the neighbour they share most with
        micro = arr.area < MICRO_FACE_M2
        if micro.any():
            src = best_neighbour(arr, micro, face_comm)
            has = src >= 0
            for a in (f_lock, f_site):
                a[micro] = np.where(has[micro], a[np.maximum(src[micro], 0)], -1)
            face_comm[micro & ~has] = -1  # isolated noise (< MICRO_FACE_M2) is left out
        basic = (face_comm >= 0) & (f_lock < 0) & (f_site < 0)
        return FaceLabels(face_comm, f_lock, f_site, basic)

    def place_buildings(self, arr: Arrangement) -> np.ndarray:
        """Face of every building (by its representative point), ``-1`` when none."""
        inp = self.inp
        face = np.full(len(inp.bgeoms), -1, dtype=np.int64)
        if inp.bvalid.any():
            face[inp.bvalid] = first_container(inp.bpts[inp.bvalid], arr.faces,
                                               predicate="intersects")
        return face

    def slivers(self, arr: Arrangement, group: np.ndarray) -> np.ndarray:
        """``group`` with slivers merged into a neighbouring group."""
        tol = self.inp.rules.tolerances
        return merge_slivers(
            arr, group, min_area=tol.sliver_area_m2, min_thinness=tol.sliver_thinness,
            max_width=self.inp.opts.sliver_max_width_m,
        )


def make_linework(inp: Inputs) -> Linework:
    """Base lines (clipped roads and rivers, outlines) and barrier lines of a run.

    Examples
    --------
    >>> lw = make_linework(inp)                                             # doctest: +SKIP
    >>> len(lw.base_lines) > len(inp.codes)                                 # doctest: +SKIP
    True
    """
    xmin, ymin, xmax, ymax = inp.comm_m.total_bounds
    pad = 1.0
    net = pd.concat([inp.roads_m[[schema.ROAD_CLASS, "geometry"]],
                     inp.rivers_m[[schema.ROAD_CLASS, "geometry"]]], ignore_index=True)
    clipped = shapely.clip_by_rect(net.geometry.to_numpy(), xmin - pad, ymin - pad, xmax + pad,
                                   ymax + pad)
    barrier_mask = net[schema.ROAD_CLASS].isin(inp.opts.barrier_classes).to_numpy()
    lane_mask = (net[schema.ROAD_CLASS] == "lane").to_numpy()
    barrier_lines = as_lines(net.geometry.to_numpy()[barrier_mask])
    lock_geoms = inp.lock_geoms
    lock_outline = shapely.union_all(as_lines(lock_geoms)) if len(lock_geoms) else None
    lw = Linework(inp, np.empty(0, dtype=object), barrier_lines, lock_outline)
    lw.lane_lines = lw.snap(as_lines(clipped[lane_mask]))
    vg_lines = as_lines(inp.vg.geometry.to_numpy()) if inp.vg is not None else []
    lw.base_lines = np.concatenate(
        [as_lines(inp.cgeoms), as_lines(lock_geoms), lw.snap(as_lines(inp.site_geoms)),
         lw.snap(as_lines(clipped[~lane_mask])), lw.snap(np.asarray(vg_lines, dtype=object))]
    )
    return lw
