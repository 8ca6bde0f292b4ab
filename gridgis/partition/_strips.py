"""Road space of the block step: empty strips between parallel ways go to the blocks beside them.

Between two carriageways, a carriageway and its sidewalk, the ramps of an interchange or inside
a roundabout the arrangement makes faces without a building that are only a road's width wide.
Left alone, such a face becomes a unit, and a grid takes it as a long thin arm. Here each such
*strip* is split along its middle — the Voronoi diagram of the boundaries it shares with the
blocks around it — and every piece joins the block it borders, so grid lines run inside the
street corridor and no grid gets an arm. A strip with one neighbouring block joins it whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from .._geometry import Arrangement, first_container
from ._faces import union_faces
from .blocks import group_perimeter

__all__ = ["StripSplit", "assign_strips", "find_strips"]

#: spacing (metres) of the points sampled along a strip's borders for its Voronoi split
SAMPLE_M = 2.0


@dataclass
class StripSplit:
    """Strips of one arrangement: the lines that cut them and who gets each piece."""

    cut_lines: np.ndarray
    """Lines splitting the strips along their middles (to add to the arrangement)."""
    regions: np.ndarray
    """Per piece of land: the part of a strip going to one neighbouring block."""
    region_owner: np.ndarray
    """Per region: a point inside a face of the block that gets it (stable across arrangements)."""
    n_strips: int
    area_m2: float


def _strip_blocks(arr: Arrangement, block: np.ndarray, nbld: np.ndarray,
                  max_width: float) -> np.ndarray:
    """Blocks without buildings whose mean width ``2A/P`` is below ``max_width``."""
    n = int(block.max()) + 1 if (block >= 0).any() else 0
    ok = block >= 0
    area = np.bincount(block[ok], weights=arr.area[ok], minlength=n)
    per = group_perimeter(block, arr, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.where(per > 0, 2 * area / per, np.inf)
    return (nbld[:n] == 0) & (width < max_width)


def _border_points(arr: Arrangement, block: np.ndarray, takers: np.ndarray, s: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Points (every ``SAMPLE_M``) on the borders of strip block ``s`` with the blocks that may
    take a piece of it (``takers``), and the block each point borders."""
    e = arr.edges
    bi, bj = block[e.i], block[e.j]
    pts, owner = [], []
    for mine, other in ((bi, bj), (bj, bi)):
        rows = np.flatnonzero((mine == s) & (other >= 0) & takers[np.maximum(other, 0)])
        if len(rows) == 0:
            continue
        segs = np.isin(e.seg_pair, rows)
        a, b = e.seg_a[segs], e.seg_b[segs]
        nb = other[e.seg_pair[segs]]
        n_pts = np.maximum(np.ceil(np.hypot(*(b - a).T) / SAMPLE_M).astype(int), 1)
        t = np.concatenate([(np.arange(k) + 0.5) / k for k in n_pts])
        rep = np.repeat(np.arange(len(a)), n_pts)
        pts.append(a[rep] + (b[rep] - a[rep]) * t[:, None])
        owner.append(nb[rep])
    if not pts:
        return np.empty((0, 2)), np.empty(0, dtype=np.int64)
    return np.concatenate(pts), np.concatenate(owner)


def _split_one(geom: shapely.Geometry, pts: np.ndarray, owner: np.ndarray
               ) -> tuple[list[shapely.Geometry], list[int], np.ndarray]:
    """Voronoi split of one strip: its pieces, their owners and the cut lines."""
    cells = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(pts), extend_to=shapely.buffer(shapely.envelope(geom), 10.0),
        ordered=True))
    labels = np.unique(owner)
    regions = [shapely.coverage_union_all(cells[owner == k]) for k in labels]
    outline = shapely.boundary(shapely.buffer(shapely.envelope(geom), 10.0))
    inner = shapely.difference(shapely.union_all(shapely.boundary(np.array(regions))), outline)
    cuts = shapely.get_parts(shapely.intersection(inner, geom))
    cuts = cuts[shapely.get_type_id(cuts) == 1] if len(cuts) else cuts
    pieces = [shapely.intersection(r, geom) for r in regions]
    return pieces, labels.tolist(), cuts


def find_strips(arr: Arrangement, block: np.ndarray, block_comm: np.ndarray, nbld: np.ndarray,
                max_width: float) -> StripSplit:
    """The strips of an arrangement's blocks and how they are split.

    Parameters
    ----------
    arr, block, block_comm
        Faces, their block (``-1``: not basic land) and every block's community.
    nbld
        Buildings per block.
    max_width
        Empty blocks narrower than this on average (``2A/P``, metres) are strips.

    Examples
    --------
    >>> split = find_strips(arr, block, nbld, 25.0)                          # doctest: +SKIP
    >>> split.n_strips, len(split.cut_lines)                                # doctest: +SKIP
    (3, 5)
    """
    strip = _strip_blocks(arr, block, nbld, max_width)
    cuts: list[np.ndarray] = []
    regions: list[shapely.Geometry] = []
    owners: list[shapely.Geometry] = []
    rep_of_block = _block_points(arr, block, len(strip))
    n_done, area = 0, 0.0
    for s in np.flatnonzero(strip).tolist():
        takers = ~strip & (block_comm[: len(strip)] == block_comm[s])
        pts, owner = _border_points(arr, block, takers, s)
        if len(pts) == 0:
            continue  # touches no ordinary block: left as it is
        geom = union_faces(arr.faces[block == s])
        if len(np.unique(owner)) == 1:
            pieces, labels, lines = [geom], [int(owner[0])], np.empty(0, dtype=object)
        else:
            pieces, labels, lines = _split_one(geom, pts, owner)
        regions += pieces
        owners += [rep_of_block[k] for k in labels]
        cuts.append(lines)
        n_done += 1
        area += float(shapely.area(geom))
    return StripSplit(
        cut_lines=np.concatenate(cuts) if cuts else np.empty(0, dtype=object),
        regions=np.array(regions, dtype=object), region_owner=np.array(owners, dtype=object),
        n_strips=n_done, area_m2=area)


def _block_points(arr: Arrangement, block: np.ndarray, n: int) -> np.ndarray:
    """One representative point per block (of its largest face)."""
    out = np.full(n, None, dtype=object)
    order = np.lexsort((-arr.area, block))
    first = np.r_[True, block[order][1:] != block[order][:-1]]
    for f in order[first]:
        if block[f] >= 0:
            out[block[f]] = arr.rep[f]
    return out


def assign_strips(arr: Arrangement, block: np.ndarray, split: StripSplit) -> np.ndarray:
    """``block`` of an arrangement that contains the cut lines, with every strip piece given to
    the block of its owner; labels renumbered ``0..B-1``.

    Examples
    --------
    >>> block = assign_strips(arr2, block2, split)                          # doctest: +SKIP
    """
    if len(split.regions) == 0:
        return block
    out = block.copy()
    region = first_container(arr.rep, split.regions, predicate="intersects")
    owner_face = first_container(np.asarray(split.region_owner), arr.faces,
                                 predicate="intersects")
    hit = (region >= 0) & (out >= 0)
    target = owner_face[region[hit]]
    good = (target >= 0) & (block[np.maximum(target, 0)] >= 0)
    idx = np.flatnonzero(hit)[good]
    out[idx] = block[target[good]]
    valid = out >= 0
    _, inv = np.unique(out[valid], return_inverse=True)
    out[valid] = inv
    return out
