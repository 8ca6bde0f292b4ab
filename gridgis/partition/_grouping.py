"""Grouping step of :func:`gridgis.partition.build_grids`: units into grids, per community.

Per community (per connected piece of its basic land) the unit graph is split into ``k``
contiguous grids within ``[min, max]`` (:func:`.regions.plan_regions`). Where a community admits
no plan, its blocks are cut into smaller units and the community planned again
(``BuildOptions.refine_rounds`` rounds, a small tree budget in early rounds), then once more
with the full search. Plans of communities whose units did not change are reused. Where no
plan keeps every compound of a community whole, its compounds are freed and the fewest of them
cut (:mod:`._whole`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..i18n import tr
from ._blocking import Blocks, straddled_blocks
from ._compounds import PLAIN
from ._exhaustive import exhaustive_plan, stranded_unit
from ._gather import gather_compounds
from ._graphs import graph_key, group_graph, local_graph, strong_graph
from ._holes import open_rings
from ._linework import Linework
from ._unitize import UnitCache, Units, make_units
from ._whole import cut_cost, keep_whole
from .geom import polsby_popper
from .graph import SizeRule
from .regions import Region, RegionOptions, UnitGraph, plan_regions

__all__ = ["EARLY_BUDGET", "RETRIES_MAX", "RETRIES_MIN", "GridUnits", "Grouping", "group_into_grids",
           "plan_score", "retries_for"]

#: spanning trees per grid in early refinement rounds (a failure there is cheap)
EARLY_BUDGET = 12

#: re-seeded searches of a community left with an unsolved grid (more for bigger communities)
RETRIES_MIN = 4
RETRIES_MAX = 16

#: Polsby–Popper under which a grid counts as thin when plans are compared, and the weight of
#: the shortfall (see :func:`plan_score`)
THIN_BAR = 0.30
THIN_WEIGHT = 10.0

#: one planned grid: community index, its units, flag, reason and cause
GridUnits = tuple[int, np.ndarray, str, str, str]


@dataclass
class Grouping:
    """Units of the last round, the grids planned on them and the run's counters."""

    units: Units
    grid_units: list[GridUnits]
    n_split: int
    """Blocks cut into several units."""
    timings: dict[str, float] = field(default_factory=dict)
    rings: list[int] = field(default_factory=list)
    """Community of every grid left ringing another (a ring that could not be cut open)."""
    loose: list[int] = field(default_factory=list)
    """Communities where compounds may be cut: keeping them whole left no plan in range."""
    proven: list[int] = field(default_factory=list)
    """Communities of ``loose`` where an exhaustive search proved that no plan keeps every
    compound whole."""
    extra: dict[int, int] = field(default_factory=dict)
    """Pieces beyond the fewest of the compounds above the maximum, per community where the
    fewest left no plan in range (:data:`._compounds.PLAIN`: not cut on their own)."""


@dataclass
class _Notes:
    """What a planning pass found besides the grids."""

    rings: list[int] = field(default_factory=list)
    """Community of every grid left ringing another."""
    proven: set[int] = field(default_factory=set)
    """Communities where keeping every compound whole was proven impossible."""


def _unsolved(regions: list) -> int:
    """Grids of a plan flagged because no contiguous split was found."""
    return sum(r.cause == "no_contiguous_split" for r in regions)


def _search(local: UnitGraph, rule, lw: Linework, code: str, opts: RegionOptions,
            retry: RegionOptions | None) -> list:
    """Plan of one community. With ``retry`` (the final rounds), every connected piece left
    with an unsolved grid is searched again: exhaustively when it is small (a plan, or the
    proof that none exists), else with other random trees and the options ``retry`` (a fixed
    number of re-seeded searches, so a seed always gives the same plan)."""
    regions = plan_regions(local, np.arange(local.n), rule, lw.inp.rng(code), opts)
    if retry is None or not _unsolved(regions):
        return regions
    out = [r for r in regions if r.cause != "oversize"]
    over = [r for r in regions if r.cause == "oversize"]
    rest = np.concatenate([r.nodes for r in out]) if out else np.zeros(0, dtype=np.int64)
    result = list(over)
    for comp in local.components(rest):
        mine = [r for r in out if np.isin(r.nodes, comp).any()]
        result += mine if not _unsolved(mine) else _search_piece(local, comp, rule, lw,
                                                                 f"{code}:{comp[0]}", retry, mine)
    return result


def region_pp(g: UnitGraph, regions: list) -> np.ndarray:
    """Polsby–Popper of every region (exact, from the units' areas and shared boundaries)."""
    lab = np.full(g.n, -1, dtype=np.int64)
    for i, r in enumerate(regions):
        lab[r.nodes] = i
    n = len(regions)
    ok = lab >= 0
    area = np.bincount(lab[ok], weights=g.area[ok], minlength=n)
    per = np.bincount(lab[ok], weights=g.perimeter[ok], minlength=n)
    inside = (lab[g.eu] == lab[g.ev]) & (lab[g.eu] >= 0)
    per -= 2 * np.bincount(lab[g.eu][inside], weights=g.length[inside], minlength=n)
    return polsby_popper(area, np.maximum(per, 1e-9))


def plan_score(g: UnitGraph, regions: list) -> tuple[int, int, float]:
    """How good a plan is, higher is better: fewest flagged grids, then fewest unsolved, then
    ``Σ log PP`` plus a heavy penalty for every grid below the compactness bar (so lifting the
    thinnest grids counts most)."""
    logpp = np.log(np.clip(region_pp(g, regions), 1e-6, None))
    below = np.minimum(logpp - math.log(THIN_BAR), 0.0)  # how far grids sit below the bar
    return (-sum(bool(r.flag) for r in regions), -_unsolved(regions),
            float(logpp.sum() + THIN_WEIGHT * below.sum()))


def _most_compact(local: UnitGraph, rule, lw: Linework, code: str, opts: RegionOptions,
                  best: list) -> list:
    """``best`` or, when better (:func:`plan_score`), one of ``restarts - 1`` searches with
    other random trees. The searches are spent where a grid is below the compactness bar; a
    plan with a flagged grid keeps the searches that explain the flag."""
    if any(r.flag for r in best) or region_pp(local, best).min() >= THIN_BAR:
        return best
    nodes = np.arange(local.n)
    score = plan_score(local, best)
    for k in range(1, lw.inp.opts.restarts):
        again = plan_regions(local, nodes, rule, lw.inp.rng(f"{code}:restart{k}"), opts)
        s = plan_score(local, again)
        if s > score:
            best, score = again, s
    return best


def _search_piece(local: UnitGraph, comp: np.ndarray, rule, lw: Linework, key: str,
                  opts: RegionOptions, regions: list) -> list:
    """One connected piece with an unsolved grid: searched exhaustively or re-seeded."""
    plan, exhaustive = exhaustive_plan(local, comp, rule)
    if plan is not None:
        return [Region(p) for p in plan]
    note = tr("an exhaustive search over all {n} units found no contiguous split within the "
              "rule", n=len(comp))
    stuck = None if exhaustive else stranded_unit(local, comp, rule)
    if stuck is not None:
        note = tr("no plan exists: a unit of {m:.0f} is below the minimum {lo:.0f}, and with "
                  "any of its neighbours it passes the maximum {hi:.0f}",
                  m=local.measures[stuck, 0], lo=rule.lo[0], hi=rule.hi[0])
    elif not exhaustive:
        tries = retries_for(len(comp))
        for t in range(1, tries + 1):
            again = plan_regions(local, comp, rule, lw.inp.rng(f"{key}:retry{t}"), opts)
            if _unsolved(again) < _unsolved(regions):
                regions = again
            if not _unsolved(regions):
                return regions
        note = tr("after {n} searches with different random trees", n=tries + 1)
    for r in regions:
        if r.cause == "no_contiguous_split":
            r.reason = tr("{reason} ({note})", reason=r.reason, note=note)
            r.proven = exhaustive or stuck is not None
    return regions


def retries_for(n_units: int) -> int:
    """Re-seeded searches for a community of ``n_units`` units that found no plan."""
    return int(min(RETRIES_MAX, RETRIES_MIN + n_units // 10))


def _plan_communities(lw: Linework, units: Units, opts: RegionOptions, final: bool,
                      plan_cache: dict[bytes | tuple, list], notes: _Notes, polish: bool = False,
                      loose: frozenset[int] = frozenset()
                      ) -> tuple[list[GridUnits], list[int]]:
    """Grids of every community on the current units; communities without a contiguous plan.
    Communities with a grid ringing another that could not be cut open go to ``notes``. With
    ``polish`` the plans are compared with other searches and the most compact kept. In the
    final rounds the communities of ``loose`` get full re-seeded retries of unsolved pieces,
    the others retries with the early round's budget."""
    inp = lw.inp
    # before the last relaxation a failed search only needs to say so: no fallback plan, and
    # retries with the early round's budget
    probe = dataclasses.replace(opts, fallback=False)
    probe_retry = dataclasses.replace(probe, budget=min(opts.budget, EARLY_BUDGET))
    ug = group_graph(units.arr, units.face_unit, units.n_units, units.unit_meas,
                     units.pair_barrier, units.labels.comm)
    grid_units: list[GridUnits] = []
    failing: list[int] = []
    for ci in range(len(inp.codes)):
        nodes = np.flatnonzero(units.unit_comm == ci)
        if len(nodes) == 0:
            continue
        rule, cols = inp.rules_by_comm[ci]
        g = UnitGraph(units.unit_meas[:, cols], ug.area, ug.perimeter, ug.eu, ug.ev, ug.length,
                      ug.barrier)
        local = strong_graph(local_graph(g, nodes), inp.opts.min_contact_m, rule.lo[0])
        # the full search where nothing is left to relax (compounds may be cut); before that
        # the search asks whether a plan with whole compounds is easily found
        last = ci in loose
        base = graph_key(ci, local)
        key = base + (b"early" if not final else b"final" if last else b"probe")
        solved = [plan_cache.get(base + m) for m in (b"early", b"probe")]
        solved = [p for p in solved if p is not None and not _unsolved(p)]
        if key not in plan_cache and solved:  # a plan found by a smaller search stands
            plan_cache[key] = solved[-1]
        if key not in plan_cache:
            search, retry = ((opts, None) if not final else (opts, opts) if last
                             else (probe, probe_retry))
            plan_cache[key] = _search(local, rule, lw, str(inp.codes[ci]), search, retry)
        regions = plan_cache[key]
        if polish:
            regions = _most_compact(local, rule, lw, str(inp.codes[ci]), opts, regions)
        if units.unit_group is not None:  # compounds gathered, or kept whole where they may be cut
            settle = _Settle(lw, local, units.unit_group[nodes], rule, str(inp.codes[ci]), opts,
                             plan_cache, last)
            regions, proven = settle(key, regions)
            if polish and last:  # the most compact plan may keep fewer compounds whole
                regions = settle.better(regions, settle(key, plan_cache[key])[0])
            if proven:
                notes.proven.add(ci)
        regions, left = open_rings(local, regions, rule)
        notes.rings += [ci] * left
        if any(r.cause == "no_contiguous_split" for r in regions):
            failing.append(ci)
        for r in regions:
            members = nodes[r.nodes]
            flag, reason, cause = r.flag, r.reason, r.cause
            if flag == "oversize_unit":
                flag = cause = units.unit_flag.get(int(members[0]), "oversize_building")
                reason = tr("one building (or an unsplittable block) exceeds the maximum")
            grid_units.append((ci, members, flag, reason, cause))
    return grid_units, failing


@dataclass
class _Settle:
    """Compounds of one community's plan gathered (:func:`._gather.gather_compounds`) and,
    where compounds may be cut (``last``), kept whole as far as a plan allows
    (:func:`._whole.keep_whole`); cached by plan key."""

    lw: Linework
    local: UnitGraph
    group: np.ndarray
    rule: SizeRule
    code: str
    opts: RegionOptions
    plan_cache: dict
    last: bool

    def __call__(self, key: bytes, regions: list) -> tuple[list, bool]:
        """The plan settled, and whether keeping every compound whole was proven impossible."""
        # keyed by the plan itself: the polished plan is often the first one
        gkey = (key, self.group.tobytes(), *(r.nodes.tobytes() for r in regions))
        if gkey not in self.plan_cache:
            out = gather_compounds(self.local, regions, self.rule, self.group)
            self.plan_cache[gkey] = (keep_whole(self.local, out, self.group, self.rule,
                                                self._search, self._gather)
                                     if self.last else (out, False))
        return self.plan_cache[gkey]

    def better(self, a: list, b: list) -> list:
        """The plan cutting fewer compounds, then the more compact (:func:`plan_score`)."""
        def rank(p: list) -> tuple:
            return cut_cost(self.local, p, self.group, self.rule), tuple(
                -x for x in plan_score(self.local, p))
        return a if rank(a) <= rank(b) else b

    def _search(self, graph: UnitGraph, name: str) -> list:
        # many tries, each needing only to say whether a plan is easily found
        probe = dataclasses.replace(self.opts, fallback=False)
        retry = dataclasses.replace(probe, budget=min(self.opts.budget, EARLY_BUDGET))
        return _search(graph, self.rule, self.lw, f"{self.code}:{name}", probe, retry)

    def _gather(self, plan: list) -> list:
        return gather_compounds(self.local, plan, self.rule, self.group)


def _refine(lw: Linework, blocks: Blocks, failing: list[int], rnd: int,
            piece_cap: dict[int, np.ndarray]) -> bool:
    """Lower the cut cap of the blocks of failing communities; whether any block changed."""
    added = False
    for ci in failing:
        rule, cols = lw.inp.rules_by_comm[ci]
        lo, hi = float(rule.lo[0]), float(rule.hi[0])
        width = hi - lo if np.isfinite(hi) and hi > lo else max(lo, 1.0)
        p = max(width / (2**rnd), 1.0)
        for b in np.flatnonzero(blocks.block_comm == ci).tolist():
            if blocks.nbld_block[b] < 2 or blocks.block_meas[b, cols[0]] <= p:
                continue
            cap_b = np.array(blocks.caps[b], dtype=float)
            cap_b[cols[0]] = p
            if b not in piece_cap or piece_cap[b][cols[0]] > p:
                piece_cap[b] = cap_b
                added = True
    return added


def group_into_grids(lw: Linework, blocks: Blocks) -> Grouping:
    """Units and grids of every community, refining units where a community admits no plan.

    Examples
    --------
    >>> grouping = group_into_grids(lw, make_blocks(lw))                    # doctest: +SKIP
    >>> len(grouping.grid_units) > 0                                        # doctest: +SKIP
    True
    """
    opts = lw.inp.opts
    # blocks over the maximum, and blocks a compound lies in with others, are cut
    piece_cap: dict[int, np.ndarray] = {
        int(b): blocks.caps[b] for b in np.union1d(blocks.oversize, straddled_blocks(blocks))}
    cache = UnitCache()
    plan_cache: dict[bytes | tuple, list] = {}
    t_units = t_regions = 0.0
    rounds = 0
    early = dataclasses.replace(opts.regions, budget=min(opts.regions.budget, EARLY_BUDGET),
                                fallback=False)
    rebuild, final, rnd = True, False, 0
    loose: frozenset[int] = frozenset()
    extra: dict[int, int] = {}
    while True:
        final = final or rnd >= opts.refine_rounds
        if rebuild:
            rounds += 1
            t = time.perf_counter()
            units = make_units(lw, blocks, piece_cap, cache, loose, extra)
            t_units += time.perf_counter() - t
        t = time.perf_counter()
        notes = _Notes()
        grid_units, failing = _plan_communities(lw, units, opts.regions if final else early,
                                                final, plan_cache, notes, loose=loose)
        t_regions += time.perf_counter() - t
        more = [ci for ci in failing if ci in units.pieced and extra.get(ci, 0) < PLAIN]
        if final and more:
            # a compound above the maximum in the fewest pieces left no plan: one piece more
            extra.update({ci: extra.get(ci, 0) + 1 for ci in more})
            rebuild = True
            continue
        if final and failing and not loose:
            # the size rule comes first: where whole compounds leave no plan, let them be cut
            loose, rebuild = frozenset(failing), True
            continue
        if final or not failing:
            break
        # refine: cut the blocks of failing communities into smaller units and try again
        added = _refine(lw, blocks, failing, rnd, piece_cap)
        # with nothing left to refine, plan once more with the full search (same units)
        rebuild, final = added, final or not added
        rnd += 1
    if lw.inp.opts.restarts > 1:  # the plans kept: the most compact of several searches
        t = time.perf_counter()
        notes = _Notes()
        grid_units, _ = _plan_communities(lw, units, opts.regions if final else early, final,
                                          plan_cache, notes, polish=True, loose=loose)
        t_regions += time.perf_counter() - t
    timings = {"rounds": rounds, "units": t_units, "regions": t_regions}
    return Grouping(units=units, grid_units=grid_units, n_split=len(piece_cap), timings=timings,
                    rings=notes.rings, loose=sorted(loose), proven=sorted(notes.proven),
                    extra=extra)
