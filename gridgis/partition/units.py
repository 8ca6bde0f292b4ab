"""Units: blocks, with oversize blocks split along building clusters.

A block whose households (or population) exceed the maximum — a big residential compound — is
cut along the Voronoi edges that separate its buildings (or, when buildings carry a
``compound_id``, its compounds / village groups first; only a group above the cap is cut
between its own buildings): points are sampled along every
building outline, their Voronoi cells are labelled by building, and the cell edges between
*different* buildings form the cut lines (an approximate building tessellation, as in
``momepy.morphological_tessellation``). The lines are added to the global arrangement, so the
block falls into building cells; the cells are then grouped into connected units below the
maximum with the same region builder the grids use.
"""

from __future__ import annotations

import numpy as np
import shapely

from .._geometry import segment_lines, shared_edges

__all__ = ["OUTLINE_STEP_M", "EXTEND_M", "split_lines"]

#: spacing of the points sampled along building outlines (metres)
OUTLINE_STEP_M = 8.0
#: cut lines reach this far beyond the block so they node cleanly with its boundary (metres)
EXTEND_M = 0.05


def split_lines(block: shapely.Geometry, buildings: np.ndarray,
                labels: np.ndarray | None = None) -> np.ndarray:
    """Cut lines separating the ``buildings`` (geometries) inside ``block``.

    ``labels`` groups buildings that must stay together (e.g. the compounds or village groups
    of a block): lines are drawn only between buildings with different labels. By default every
    building is its own group.

    Returns LineStrings clipped to the block (slightly extended beyond it); empty when the
    block holds fewer than two groups.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> block = shapely.box(0, 0, 100, 50)
    >>> houses = np.array([shapely.box(10, 10, 30, 40), shapely.box(70, 10, 90, 40)])
    >>> len(split_lines(block, houses)) > 0
    True
    """
    buildings = np.asarray(buildings, dtype=object)
    if len(buildings) < 2:
        return np.empty(0, dtype=object)
    if labels is None:
        labels = np.arange(len(buildings))
    _, labels = np.unique(np.asarray(labels), return_inverse=True)
    labels = labels.reshape(-1)
    outline = shapely.segmentize(shapely.boundary(buildings), OUTLINE_STEP_M)
    coords, idx = shapely.get_coordinates(outline, return_index=True)
    point_like = shapely.get_type_id(buildings) == 0
    if point_like.any():
        pc, pidx = shapely.get_coordinates(buildings[point_like], return_index=True)
        coords = np.vstack([coords, pc])
        idx = np.concatenate([idx, np.flatnonzero(point_like)[pidx]])
    if len(coords) == 0 or len(np.unique(labels[idx])) < 2:
        return np.empty(0, dtype=object)
    # distinct points only (shared walls): keep the first building's point
    rounded = np.round(coords, 3)
    _, first = np.unique(rounded, axis=0, return_index=True)
    first = np.sort(first)
    coords, idx = coords[first], labels[idx[first]]
    if len(np.unique(idx)) < 2 or len(coords) < 3:
        return np.empty(0, dtype=object)
    env = shapely.envelope(block).buffer(50.0)
    vor = shapely.voronoi_polygons(shapely.multipoints(coords), extend_to=env, ordered=True)
    cells = shapely.get_parts(vor)
    if len(cells) != len(coords):  # degenerate input (e.g. collinear points): no cut
        return np.empty(0, dtype=object)
    se = shared_edges(cells)
    pair_diff = idx[se.i] != idx[se.j]
    seg_keep = pair_diff[se.seg_pair]
    if not seg_keep.any():
        return np.empty(0, dtype=object)
    segs = segment_lines(se.seg_a[seg_keep], se.seg_b[seg_keep])
    merged = shapely.line_merge(shapely.multilinestrings(segs))
    clipped = shapely.intersection(merged, shapely.buffer(block, EXTEND_M))
    parts = shapely.get_parts(clipped)
    parts = parts[shapely.get_type_id(parts) == 1]
    return parts[shapely.length(parts) > 0]
