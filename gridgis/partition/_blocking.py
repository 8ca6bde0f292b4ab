"""Block step of :func:`gridgis.partition.build_grids`: the first arrangement and its blocks.

Basic faces of a community (cut at hair-thin necks, slivers merged into neighbours) form the
blocks; buildings are placed in them and the blocks over a community's maximum are found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._geometry import Arrangement
from ._linework import FaceLabels, Linework
from ._prepare import caps_of
from .blocks import arrangement, neck_cuts

__all__ = ["Blocks", "make_blocks"]


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


def make_blocks(lw: Linework) -> Blocks:
    """Arrange the base lines, cut necks, merge slivers and measure the blocks.

    Examples
    --------
    >>> blocks = make_blocks(make_linework(inp))                            # doctest: +SKIP
    >>> blocks.n_blocks >= len(inp.codes)                                   # doctest: +SKIP
    True
    """
    inp, opts = lw.inp, lw.inp.opts
    base_lines = lw.base_lines
    arr = arrangement(base_lines)
    lab = lw.label(arr)
    necks = neck_cuts(arr.faces[lab.basic], opts.min_contact_m) if opts.min_contact_m > 0 else []
    if len(necks):  # cut faces at hair-thin necks, so no grid is two lobes joined by one
        base_lines = np.concatenate([base_lines, lw.snap(necks)])
        arr = arrangement(base_lines)
        lab = lw.label(arr)
    block = lw.slivers(arr, np.where(lab.basic, lab.comm, -1))
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
    nbld_block = np.bincount(bblock[inb], minlength=n_blocks) if n_blocks else np.zeros(0, int)
    return Blocks(base_lines=base_lines, arr=arr, labels=lab, block=block, n_blocks=n_blocks,
                  bface=bface, bblock=bblock, block_meas=block_meas, block_comm=block_comm,
                  caps=caps, oversize=oversize, nbld_block=nbld_block)
