"""Block step of :func:`gridgis.partition.build_grids`: the first arrangement and its blocks.

Basic faces of a community (cut at hair-thin necks, slivers merged into neighbours) form the
blocks; buildings are placed in them and the blocks over a community's maximum are found.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import shapely

from .._geometry import Arrangement
from ._compounds import common_label, straddling
from ._linework import FaceLabels, Linework
from ._prepare import caps_of
from ._strips import StripSplit, assign_strips, find_strips
from .blocks import arrangement, as_lines, neck_cuts

__all__ = ["Blocks", "make_blocks", "straddled_blocks"]


@dataclass
class Blocks:
    """The first arrangement, its labels and blocks, and the buildings and measures per block."""

    base_lines: np.ndarray
    """Base lines plus the neck cuts."""
    arr: Arrangement
    labels: FaceLabels
    block: np.ndarray
    """Block of every face (``-1``: not basic land)."""
    n_blocks: int
    bface: np.ndarray
    """Face of every building."""
    bblock: np.ndarray
    """Block of every building."""
    block_meas: np.ndarray
    block_comm: np.ndarray
    caps: np.ndarray
    """(households, population) maximum of every block's community."""
    oversize: np.ndarray
    """Blocks over their community's maximum."""
    nbld_block: np.ndarray
    """Buildings per block."""
    straddle: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    """Per building: its compound when the compound fits in a grid but lies in several blocks
    (:func:`._compounds.straddling`), else -1."""
    n_strips: int = 0
    """Strips of road space split between the blocks beside them."""
    strip_area_m2: float = 0.0


def straddled_blocks(blocks: Blocks) -> np.ndarray:
    """Blocks holding part of a compound that lies in several blocks together with other
    buildings: they are cut around their compounds (:func:`._compounds.straddling`)."""
    held = blocks.straddle >= 0
    if not held.any():
        return np.zeros(0, dtype=np.int64)
    placed = blocks.bblock >= 0
    label = np.where(blocks.straddle >= 0, blocks.straddle, -1)
    pure = common_label(blocks.bblock[placed], label[placed], blocks.n_blocks)
    mine = np.unique(blocks.bblock[held & placed])
    return mine[pure[mine] < 0]


def _arrange(lw: Linework, lines: np.ndarray
             ) -> tuple[np.ndarray, Arrangement, FaceLabels, np.ndarray]:
    """Arrangement of ``lines`` cut at hair-thin necks, its labels and blocks (slivers merged)."""
    arr = arrangement(lines)
    lab = lw.label(arr)
    width = lw.inp.opts.min_contact_m
    necks = neck_cuts(arr.faces[lab.basic], width) if width > 0 else []
    if len(necks):  # cut faces at hair-thin necks, so no grid is two lobes joined by one
        lines = np.concatenate([lines, lw.snap(necks)])
        arr = arrangement(lines)
        lab = lw.label(arr)
    return lines, arr, lab, lw.slivers(arr, np.where(lab.basic, lab.comm, -1))


def _lanes_inside(lanes: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """The parts of ``lanes`` inside ``faces``."""
    if len(lanes) == 0 or len(faces) == 0:
        return np.empty(0, dtype=object)
    li, fi = shapely.STRtree(faces).query(lanes, predicate="intersects")
    return as_lines(shapely.intersection(lanes[li], faces[fi]))


def _measure(lw: Linework, base_lines: np.ndarray, arr: Arrangement, lab: FaceLabels,
             block: np.ndarray, strips: StripSplit | None = None) -> Blocks:
    """Buildings, measures, community and cap of every block."""
    inp = lw.inp
    n_blocks = int(block.max()) + 1 if (block >= 0).any() else 0
    bface = lw.place_buildings(arr)
    bblock = np.where(bface >= 0, block[np.maximum(bface, 0)], -1)
    inb = bblock >= 0
    block_meas = np.zeros((n_blocks, 2))
    if inb.any():
        for c in range(2):
            block_meas[:, c] = np.bincount(bblock[inb], weights=inp.bmeas[inb, c],
                                           minlength=n_blocks)
    block_comm = np.full(n_blocks, -1, dtype=np.int64)
    block_comm[block[block >= 0]] = lab.comm[block >= 0]
    caps = np.array(
        [[np.inf, np.inf] if c < 0 else caps_of(inp.rules_by_comm[c]) for c in block_comm]
    ).reshape(-1, 2)
    oversize = np.flatnonzero((block_meas > caps + 1e-9).any(axis=1))
    straddle = straddling(inp.group_of, bblock, inp.bmeas, block_comm, caps)
    nbld_block = np.bincount(bblock[inb], minlength=n_blocks) if n_blocks else np.zeros(0, int)
    return Blocks(base_lines=base_lines, arr=arr, labels=lab, block=block, n_blocks=n_blocks,
                  bface=bface, bblock=bblock, block_meas=block_meas, block_comm=block_comm,
                  caps=caps, oversize=oversize, nbld_block=nbld_block, straddle=straddle,
                  n_strips=strips.n_strips if strips else 0,
                  strip_area_m2=strips.area_m2 if strips else 0.0)


def make_blocks(lw: Linework) -> Blocks:
    """Arrange the base lines, cut necks, merge slivers and measure the blocks.

    Lanes join the arrangement inside the blocks over their community's maximum only; strips
    of road space (empty faces a road's width wide) are split along their middles between the
    blocks beside them (:mod:`._strips`).

    Examples
    --------
    >>> blocks = make_blocks(make_linework(inp))                            # doctest: +SKIP
    >>> blocks.n_blocks >= len(inp.codes)                                   # doctest: +SKIP
    True
    """
    lines, arr, lab, block = _arrange(lw, lw.base_lines)
    b = _measure(lw, lines, arr, lab, block)
    lanes = _lanes_inside(lw.lane_lines, arr.faces[np.isin(block, b.oversize)])
    if len(lanes):
        lines, arr, lab, block = _arrange(lw, np.concatenate([lines, lanes]))
        b = _measure(lw, lines, arr, lab, block)
    split = find_strips(arr, block, b.block_comm, b.nbld_block, lw.inp.opts.strip_max_width_m)
    if split.n_strips == 0:
        return b
    if len(split.cut_lines):
        lines, arr, lab, block = _arrange(lw, np.concatenate([lines, lw.snap(split.cut_lines)]))
    return _measure(lw, lines, arr, lab, assign_strips(arr, block, split), split)
