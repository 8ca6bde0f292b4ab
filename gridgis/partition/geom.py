"""Vectorised measures of the builder: polygon compactness and nearness to lines.

Ring segments and shared edges of the noded arrangement are in :mod:`gridgis._geometry`.
"""

from __future__ import annotations

import numpy as np
import shapely

from .._geometry import line_segments, segment_lines

__all__ = [
    "near_lines",
    "polsby_popper",
    "segment_tree",
]


def polsby_popper(area: np.ndarray, perimeter: np.ndarray) -> np.ndarray:
    """Polsby–Popper compactness ``4πA/P²`` (1 for a circle).

    Examples
    --------
    >>> import numpy as np
    >>> polsby_popper(np.array([1.0]), np.array([4.0])).round(3).tolist()
    [0.785]
    """
    area = np.asarray(area, dtype=float)
    perimeter = np.asarray(perimeter, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 4.0 * np.pi * area / perimeter**2
    return np.where(perimeter > 0, out, 0.0)


def segment_tree(lines: np.ndarray) -> shapely.STRtree | None:
    """An ``STRtree`` of the single segments of ``lines`` (``None`` when there are none): one
    small segment per tree entry keeps exact distance tests cheap.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> len(segment_tree(np.array([shapely.LineString([(0, 0), (1, 0), (1, 1)])])))
    2
    """
    if len(lines) == 0:
        return None
    a, b = line_segments(lines)
    return shapely.STRtree(segment_lines(a, b)) if len(a) else None


def near_lines(points: np.ndarray, lines: np.ndarray, tol: float,
               tree: shapely.STRtree | None = None) -> np.ndarray:
    """Boolean per point: within ``tol`` of any of ``lines`` (``tree``: their
    :func:`segment_tree`, when at hand).

    Examples
    --------
    >>> import numpy as np, shapely
    >>> pts = np.array([[0.0, 0.5], [0.0, 5.0]])
    >>> near_lines(pts, np.array([shapely.LineString([(0, 0), (1, 0)])]), tol=1.0).tolist()
    [True, False]
    """
    out = np.zeros(len(points), dtype=bool)
    tree = tree if tree is not None else segment_tree(lines)
    if len(points) == 0 or tree is None:
        return out
    hit = tree.query(shapely.points(points), predicate="dwithin", distance=tol)
    out[np.unique(hit[0])] = True
    return out
