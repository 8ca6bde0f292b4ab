"""Unit step of :func:`gridgis.partition.build_grids`: blocks, or pieces of blocks, as units.

Blocks over the maximum (or cut further in refinement rounds) are cut along building clusters
(:mod:`.units`); the cut lines join the arrangement (a second polygonize) and the building cells
of each such block are grouped into connected units below the cap. Other blocks are one unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._geometry import Arrangement, first_container
from ._blocking import Blocks
from ._compounds import common_label, compound_pieces, join_compounds, oversize_cells
from ._faces import absorb_detached, attach_orphans, best_neighbour, union_faces
from ._graphs import graph_key, group_graph, local_graph, strong_graph
from ._linework import MICRO_FACE_M2, FaceLabels, Linework
from ._prepare import caps_of
from .blocks import arrangement
from .graph import SizeRule
from .regions import RegionOptions, UnitGraph, split_below
from .units import split_lines

__all__ = ["UnitCache", "Units", "cut_groups", "make_units", "split_block"]


@dataclass
class Units:
    """The arrangement of a round and its units (groups of faces) with their measures."""

    arr: Arrangement
    labels: FaceLabels
    bface: np.ndarray
    """Face of every building."""
    pair_barrier: np.ndarray
    """Barrier length along every pair of neighbouring faces."""
    face_unit: np.ndarray
    n_units: int
    unit_meas: np.ndarray
    unit_block: np.ndarray
    unit_comm: np.ndarray
    unit_flag: dict[int, str]
    pieced: frozenset[int] = frozenset()
    """Communities with a compound above the maximum cut into pieces (:mod:`._compounds`)."""
    unit_group: np.ndarray | None = None
    """Per unit: the compound all its buildings belong to when it is to be gathered (above the
    maximum, or any compound where compounds may be cut), else -1 (:mod:`._gather`)."""


@dataclass
class _Cells:
    """Cells (faces after the cuts, slivers merged) of one round, with their blocks."""

    arr: Arrangement
    labels: FaceLabels
    fblock: np.ndarray
    cell: np.ndarray
    bface: np.ndarray


def cut_groups(groups: np.ndarray, meas: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Group label of each building of a block for cutting: its compound when the compound is
    within ``cap`` (every measure), else the building itself."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    uniq, inv = np.unique(groups, return_inverse=True)
    inv = inv.reshape(-1)
    tot = np.stack([np.bincount(inv, weights=meas[:, c], minlength=len(uniq))
                    for c in range(meas.shape[1])], axis=1)
    big = (tot > np.asarray(cap, dtype=float) + 1e-9).any(axis=1)
    own = np.arange(len(groups)) + len(uniq)
    return np.where(big[inv], own, inv).astype(np.int64)


def split_block(g: UnitGraph, nodes: np.ndarray, hi: np.ndarray, hard_max: np.ndarray,
                 rng: np.random.Generator, opts: RegionOptions, min_contact: float
                 ) -> list[tuple[np.ndarray, str]]:
    """Group the cells of a block into connected units of at most ``hi`` (per measure).

    Cells above ``hi`` stay alone; those above ``hard_max`` (one building over the grid
    maximum) are flagged ``oversize_building``.
    """
    local = strong_graph(local_graph(g, nodes), min_contact, 0.0)
    hi = np.asarray(hi, dtype=float)
    over = (local.measures > hi + 1e-9).any(axis=1)
    too_big = (local.measures > np.asarray(hard_max) + 1e-9).any(axis=1)
    out: list[tuple[np.ndarray, str]] = [
        (nodes[[i]], "oversize_building" if too_big[i] else "") for i in np.flatnonzero(over)
    ]
    for comp in local.components(np.flatnonzero(~over)):
        for part in split_below(local, comp, hi, rng, opts):
            out.append((nodes[part], ""))
    return out


@dataclass
class UnitCache:
    """What :func:`make_units` keeps across the refinement rounds of a run."""

    cut: dict[tuple[int, bytes], np.ndarray] = field(default_factory=dict)
    """Cut lines of a block for one grouping of its buildings."""
    cells: dict[tuple, _Cells] = field(default_factory=dict)
    """The arrangement with the cut lines of a set of blocks, and its cells."""
    pieces: dict = field(default_factory=dict)
    """Pieces of a block's cells (:func:`_unit_of_cell`)."""


def _cut_lines(lw: Linework, blocks: Blocks, piece_cap: dict[int, np.ndarray],
               cut_cache: dict[tuple[int, bytes], np.ndarray], loose: frozenset[int]
               ) -> tuple[list[np.ndarray], tuple]:
    """Lines cutting every block of ``piece_cap`` along its building groups (cached), and the
    key of that set of lines. A compound that fits in a grid stays one group however low the
    block's cap, except in the communities of ``loose``."""
    inp = lw.inp
    cut_lines, keys = [], []
    for b in sorted(piece_cap):
        inside = np.flatnonzero(blocks.bblock == b)
        cap = piece_cap[b] if blocks.block_comm[b] in loose else blocks.caps[b]
        labels = cut_groups(inp.group_of[inside], inp.bmeas[inside], cap)
        key = (b, labels.tobytes())
        if key not in cut_cache:
            geom = union_faces(blocks.arr.faces[blocks.block == b])
            cut_cache[key] = lw.snap(split_lines(geom, inp.bgeoms[inside], labels))
        if len(cut_cache[key]):
            cut_lines.append(cut_cache[key])
            keys.append(key)
    return cut_lines, tuple(keys)


def _cells(lw: Linework, blocks: Blocks, cut_lines: list[np.ndarray]) -> _Cells:
    """Arrange the base lines with the cut lines; the faces' blocks and cells."""
    if not cut_lines:
        cell = np.where(blocks.block >= 0, np.arange(len(blocks.block)), -1)
        return _Cells(blocks.arr, blocks.labels, blocks.block, cell, blocks.bface)
    arr = arrangement(np.concatenate([blocks.base_lines, *cut_lines]))
    lab = lw.label(arr)
    face_comm, basic = lab.comm, lab.basic
    parent = first_container(arr.rep, blocks.arr.faces, predicate="intersects")
    fblock = np.where(basic & (parent >= 0), blocks.block[np.maximum(parent, 0)], -1)
    # a tiny face may touch a block of another community: never cross communities
    fblock[(fblock >= 0) & (blocks.block_comm[np.maximum(fblock, 0)] != face_comm)] = -1
    # micro faces join the block of the neighbour they share most boundary with
    micro = basic & (arr.area < MICRO_FACE_M2)
    if micro.any():
        nb = best_neighbour(arr, micro, face_comm)
        ok = micro & (nb >= 0)
        fblock[ok] = fblock[nb[ok]]
    # basic faces left without a block (numerical corner cases) join a neighbouring block
    fblock = attach_orphans(arr, fblock, basic, face_comm)
    cell = lw.slivers(arr, fblock)
    return _Cells(arr, lab, fblock, cell, lw.place_buildings(arr))


def _unit_of_cell(lw: Linework, blocks: Blocks, piece_cap: dict[int, np.ndarray], c: _Cells,
                  cell_meas: np.ndarray, cell_block: np.ndarray, pair_barrier: np.ndarray,
                  cell_group: np.ndarray, cell_gather: np.ndarray, extra: dict[int, int],
                  piece_cache: dict) -> tuple[np.ndarray, int, dict[int, str]]:
    """Unit of every cell: whole blocks, or groups of cells of a block that is split (the
    cells of a compound above the maximum in the fewest pieces, :func:`.compound_pieces`,
    and the others grouped below the block's cap, compound by compound where compounds are to
    be gathered: ``cell_gather``)."""
    inp = lw.inp
    n_cells = len(cell_meas)
    unit_of_cell = np.full(n_cells, -1, dtype=np.int64)
    unit_flag: dict[int, str] = {}
    normal = np.array([b >= 0 and b not in piece_cap for b in cell_block.tolist()], dtype=bool)
    n_units = 0
    if normal.any():
        _, inv = np.unique(cell_block[normal], return_inverse=True)
        unit_of_cell[normal] = inv
        n_units = int(inv.max()) + 1
    if piece_cap:
        cg = group_graph(c.arr, c.cell, n_cells, cell_meas, pair_barrier, c.fblock)
        for b in sorted(piece_cap):
            nodes = np.flatnonzero(cell_block == b)
            if len(nodes) == 0:
                continue
            rule, cols = inp.rules_by_comm[blocks.block_comm[b]]
            sub = UnitGraph(cell_meas[:, cols], cg.area, cg.perimeter, cg.eu, cg.ev,
                            cg.length, cg.barrier)
            groups, nodes = _pieces(lw, sub, nodes, cell_group, rule, b,
                                    extra.get(int(blocks.block_comm[b]), 0), piece_cache)
            # a unit never mixes compounds that are to be gathered
            for i, part in enumerate(_by_label(nodes, cell_gather)):
                groups += split_block(sub, part, piece_cap[b][cols], rule.hi,
                                      inp.rng(f"block:{b}" + (f":{i}" if i else "")),
                                      inp.opts.regions, inp.opts.min_contact_m)
            for nodes_g, flag in groups:
                unit_of_cell[nodes_g] = n_units
                if flag:
                    unit_flag[n_units] = flag
                n_units += 1
    return unit_of_cell, n_units, unit_flag


def _by_label(nodes: np.ndarray, label: np.ndarray) -> list[np.ndarray]:
    """``nodes`` parted by ``label`` (the unlabelled, ``-1``, first), in label order."""
    if len(nodes) == 0:
        return []
    uniq, inv = np.unique(label[nodes], return_inverse=True)
    return [nodes[inv.reshape(-1) == k] for k in range(len(uniq))]


def _pieces(lw: Linework, g: UnitGraph, nodes: np.ndarray, cell_group: np.ndarray,
            rule: SizeRule, b: int, extra: int, cache: dict
            ) -> tuple[list[tuple[np.ndarray, str]], np.ndarray]:
    """:func:`.compound_pieces` of block ``b``, reused while the block's cells are the same
    (refinement rounds rebuild every unit)."""
    if not (cell_group[nodes] >= 0).any():
        return [], nodes
    local = local_graph(g, nodes)
    key = (b, extra, graph_key(b, local) + cell_group[nodes].tobytes())
    if key not in cache:
        cache[key] = compound_pieces(local, np.arange(len(nodes)), cell_group[nodes], rule,
                                     lw.inp.rng(f"compounds:{b}"), lw.inp.opts.regions,
                                     lw.inp.opts.min_contact_m, extra)
    groups, rest = cache[key]
    return [(nodes[p], f) for p, f in groups], nodes[rest]


def _cell_groups(lw: Linework, c: _Cells, bcell: np.ndarray, n_cells: int,
                 loose: frozenset[int], straddle: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, frozenset[int]]:
    """Oversize compound of every cell (:func:`.oversize_cells`; none in the communities of
    ``loose``), the compound to gather of every cell (the oversize one, one straddling blocks,
    or in ``loose`` any compound) and the communities holding oversize cells."""
    inp = lw.inp
    cell_comm = np.full(n_cells, -1, dtype=np.int64)
    inside = c.cell >= 0
    cell_comm[c.cell[inside]] = c.labels.comm[inside]
    caps = {ci: caps_of(inp.rules_by_comm[ci]) for ci in np.unique(cell_comm).tolist() if ci >= 0}
    cap = np.array([caps.get(ci, [np.inf, np.inf]) for ci in cell_comm.tolist()],
                   dtype=float).reshape(-1, 2)
    group = oversize_cells(bcell, inp.group_of, inp.bmeas, cap, n_cells)
    placed = bcell >= 0
    # and the cells of a compound that straddles blocks, to be gathered like the oversize ones
    across = common_label(bcell[placed], straddle[placed], n_cells)
    gather = np.where(group >= 0, group, across)
    if loose:
        free = np.isin(cell_comm, list(loose))
        group[free] = -1
        anyc = common_label(bcell[placed], np.where(inp.group_of >= 0, inp.group_of, -1)[placed],
                            n_cells)
        gather[free] = anyc[free]
    return group, gather, frozenset(np.unique(cell_comm[group >= 0]).tolist())


def _joined_compounds(lw: Linework, arr: Arrangement, face_unit: np.ndarray,
                      face_comm: np.ndarray, bface: np.ndarray, n_units: int,
                      loose: frozenset[int]) -> np.ndarray | None:
    """New unit of every unit once the units sharing a compound are joined (``None``: none);
    not in the communities of ``loose``."""
    inp = lw.inp
    if n_units == 0 or len(bface) == 0:
        return None
    bunit = np.where(bface >= 0, face_unit[np.maximum(bface, 0)], -1)
    unit_comm = np.full(n_units, -1, dtype=np.int64)
    fu = face_unit >= 0
    unit_comm[face_unit[fu]] = face_comm[fu]
    cap = np.array([[np.inf, np.inf] if c < 0 else caps_of(inp.rules_by_comm[c])
                    for c in unit_comm]).reshape(-1, 2)
    ui, uj = face_unit[arr.edges.i], face_unit[arr.edges.j]
    keep = (ui >= 0) & (uj >= 0) & (ui != uj) & (face_comm[arr.edges.i] == face_comm[arr.edges.j])
    if loose:
        keep &= ~np.isin(face_comm[arr.edges.i], list(loose))
    new = join_compounds(bunit, inp.group_of, inp.bmeas, cap, (ui[keep], uj[keep]), n_units)
    return new if int(new.max()) + 1 < n_units else None


def make_units(lw: Linework, blocks: Blocks, piece_cap: dict[int, np.ndarray],
               cache: UnitCache | None = None, loose: frozenset[int] = frozenset(),
               extra: dict[int, int] | None = None) -> Units:
    """Cut the blocks of ``piece_cap`` below their caps and group all faces into units.

    Units holding one compound are joined (:mod:`._compounds`), except in the communities of
    ``loose``, where keeping compounds whole left no plan within the rule. A compound above
    the maximum is cut into the fewest pieces plus ``extra[community]`` (``extra`` of
    :data:`.PLAIN`: building by building), except in ``loose``.

    Examples
    --------
    >>> units = make_units(lw, blocks, {})                                  # doctest: +SKIP
    >>> units.n_units == blocks.n_blocks                                    # doctest: +SKIP
    True
    """
    inp = lw.inp
    cache = cache or UnitCache()
    cut_lines, key = _cut_lines(lw, blocks, piece_cap, cache.cut, loose)
    if key not in cache.cells:  # rounds that cut no block anew share the arrangement
        cache.cells[key] = _cells(lw, blocks, cut_lines)
    c = cache.cells[key]
    arr, cell, bface = c.arr, c.cell, c.bface
    face_comm = c.labels.comm
    n_cells = int(cell.max()) + 1 if (cell >= 0).any() else 0
    bcell = np.where(bface >= 0, cell[np.maximum(bface, 0)], -1)
    cell_meas = np.zeros((n_cells, 2))
    inc = bcell >= 0
    if inc.any():
        for k in range(2):
            cell_meas[:, k] = np.bincount(bcell[inc], weights=inp.bmeas[inc, k], minlength=n_cells)
    cell_block = np.full(n_cells, -1, dtype=np.int64)
    cell_block[cell[cell >= 0]] = c.fblock[cell >= 0]

    # barrier length of every shared face pair
    seg_bar = lw.on_barrier((arr.edges.seg_a + arr.edges.seg_b) / 2.0)
    seg_len = np.hypot(*(arr.edges.seg_b - arr.edges.seg_a).T)
    pair_barrier = arr.edges.sum_by_pair(np.where(seg_bar, seg_len, 0.0))

    cell_group, cell_gather, pieced = _cell_groups(lw, c, bcell, n_cells, loose,
                                                    blocks.straddle)
    extra = extra or {}
    unit_of_cell, n_units, unit_flag = _unit_of_cell(lw, blocks, piece_cap, c, cell_meas,
                                                     cell_block, pair_barrier, cell_group,
                                                     cell_gather, extra, cache.pieces)
    face_unit = np.where(cell >= 0, unit_of_cell[np.maximum(cell, 0)], -1)
    # empty pieces cut off from their unit (noding noise, a face left over by the cuts) join
    # a touching unit
    has_bld = np.zeros(len(arr.faces), dtype=bool)
    has_bld[bface[bface >= 0]] = True
    face_unit = absorb_detached(arr, face_unit, face_comm, has_bld)
    new = _joined_compounds(lw, arr, face_unit, face_comm, bface, n_units, loose)
    if new is not None:
        face_unit = np.where(face_unit >= 0, new[np.maximum(face_unit, 0)], -1)
        unit_of_cell = np.where(unit_of_cell >= 0, new[np.maximum(unit_of_cell, 0)], -1)
        unit_flag = {int(new[u]): f for u, f in unit_flag.items()}
        n_units = int(new.max()) + 1
    unit_meas = np.zeros((n_units, 2))
    unit_block = np.full(n_units, -1, dtype=np.int64)
    valid_c = unit_of_cell >= 0
    for k in range(2):
        unit_meas[:, k] = np.bincount(unit_of_cell[valid_c], weights=cell_meas[valid_c, k],
                                      minlength=n_units)
    unit_block[unit_of_cell[valid_c]] = cell_block[valid_c]
    unit_comm = np.full(n_units, -1, dtype=np.int64)
    fu = face_unit >= 0
    unit_comm[face_unit[fu]] = face_comm[fu]
    held = valid_c & (cell_meas.sum(axis=1) > 0)
    unit_group = common_label(unit_of_cell[held], cell_gather[held], n_units)
    return Units(arr=arr, labels=c.labels, bface=bface, pair_barrier=pair_barrier,
                 face_unit=face_unit, n_units=n_units, unit_meas=unit_meas,
                 unit_block=unit_block, unit_comm=unit_comm, unit_flag=unit_flag, pieced=pieced,
                 unit_group=unit_group)
