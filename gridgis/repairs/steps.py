"""The steps of a repair run over a mutable copy of the plan, each logging its changes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from .. import schema
from .._geometry import EMPTY_POLYGON, explode, polygonal, widths
from ..rules import Rules
from ..validation.coverage import closing_envelope
from ..validation.limits import SLIVER_THIN_MAX_FACTOR
from ..validation.prepare import PreparedPlan
from .split import nearest_split, shared_length

__all__ = ["Change", "RepairWork", "merged", "assign_homes", "clip_to_parents", "resolve_overlaps",
           "fill_gaps", "reattach_parts", "absorb_slivers"]


@dataclass(frozen=True)
class Change:
    """One change made by :func:`repair`.

    Attributes
    ----------
    action
        ``fix_geometry``, ``remove_empty``, ``clip_to_parent``, ``resolve_overlap``, ``fill_gap``,
        ``close_noise_gaps``, ``reattach_part``, ``absorb_sliver``, ``move_households``,
        ``match_edges`` or ``not_repaired``.
    grids
        Grids concerned; for moves ``(from, to)`` (``""`` for land that had no grid).
    area_m2
        Area moved or changed.
    households, population, buildings
        Counts moved with the area (``None`` when not known).
    message
        The change in plain words.
    geometry
        The area concerned (metric CRS of the result).
    """

    action: str
    grids: tuple[str, ...]
    area_m2: float
    message: str
    households: float | None = None
    population: float | None = None
    buildings: int | None = None
    geometry: BaseGeometry | None = None


def merged(*geoms: BaseGeometry) -> BaseGeometry:
    """Polygonal union of grids and pieces.

    A unary union: the binary ``shapely.union`` of a grid and a many-part noise strip can drop
    slivers of the strip (GEOS falls back to snapping when the overlay is not robust), which
    reopens the gaps just closed.

    >>> merged(shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)).area
    2.0
    """
    union = shapely.union_all(np.array(geoms, dtype=object))
    return polygonal(np.array([union], dtype=object))[0]


class RepairWork:
    """Mutable state of a repair run (metric CRS)."""

    def __init__(self, plan: PreparedPlan, rules: Rules):
        self.plan = plan
        self.labels = plan.labels
        self.geom = plan.geom.copy()
        self.alive = plan.usable.copy()
        self.tol = rules.tolerances
        self.log: list[Change] = []
        self.home = np.full(len(self.geom), -1, dtype=int)
        self.absorbed_into: dict[int, int] = {}

    def add(self, *args, **kwargs) -> None:
        self.log.append(Change(*args, **kwargs))

    def living(self, rows: np.ndarray | None = None) -> np.ndarray:
        idx = np.flatnonzero(self.alive & ~shapely.is_empty(self.geom))
        return idx if rows is None else np.intersect1d(idx, rows)

    def give(self, targets: dict[int, list[BaseGeometry]]) -> None:
        """Union pieces into their target grids."""
        for t, pieces in targets.items():
            self.geom[t] = merged(self.geom[t], *pieces)

    def best_neighbour(self, piece: BaseGeometry, candidates: np.ndarray) -> tuple[int, float]:
        """Candidate (row) sharing the longest edge with ``piece``; ``(-1, 0)`` if none touches."""
        candidates = np.asarray([c for c in candidates if not self.geom[c].is_empty], dtype=int)
        if not len(candidates):
            return -1, 0.0
        near = shapely.dwithin(self.geom[candidates], piece, self.tol.touch_m)
        candidates = candidates[near]
        if not len(candidates):
            return -1, 0.0
        shared = shared_length(np.full(len(candidates), piece, dtype=object),
                                self.geom[candidates], self.tol.touch_m)
        k = int(np.lexsort((candidates, -shared))[0])
        return int(candidates[k]), float(shared[k])


# ---- steps -------------------------------------------------------------------------------------


def assign_homes(w: RepairWork, parents: gpd.GeoDataFrame | None) -> None:
    """Give every living grid the community it is repaired in (``w.home``), logging grids
    that lie outside every community or mostly in another one.

    Examples
    --------
    >>> assign_homes(work, parents)  # doctest: +SKIP
    """
    if parents is None:
        w.home[:] = 0
        return
    codes = parents[schema.CODE].to_numpy()
    pgeom = np.asarray(parents.geometry.array, dtype=object)
    pos = {c: i for i, c in reversed(list(enumerate(codes)))}
    rows = w.living()
    named = np.array([pos.get(c, -1) for c in w.plan.named[rows]], dtype=int)
    area = shapely.area(w.geom[rows])
    share = np.zeros(len(rows))
    has = named >= 0
    share[has] = shapely.area(shapely.intersection(w.geom[rows[has]], pgeom[named[has]])) / area[has]
    w.home[rows] = np.where(share >= 0.5, named, -1)
    todo = rows[w.home[rows] < 0]
    if len(todo):
        tree = shapely.STRtree(pgeom)
        gi, pi = tree.query(w.geom[todo], predicate="intersects")
        if len(gi):
            inter = shapely.area(shapely.intersection(w.geom[todo][gi], pgeom[pi]))
            df = pd.DataFrame({"g": gi, "p": pi, "a": inter}).sort_values(
                ["g", "a", "p"], ascending=[True, False, True])
            best = df.drop_duplicates("g")
            best = best[best["a"] > w.tol.area_floor_m2]
            w.home[todo[best["g"].to_numpy()]] = best["p"].to_numpy()
        for r in todo:
            label = w.labels[r]
            if w.home[r] < 0:
                w.alive[r] = False  # left as is, outside every community
                w.add("not_repaired", (label,), 0.0,
                      f"grid {label} lies outside every community; left unchanged",
                      geometry=w.geom[r])
            elif codes[w.home[r]] != w.plan.named[r]:
                named_txt = w.plan.named[r] or "no community"
                w.add("not_repaired", (label,), 0.0,
                      f"grid {label} names {named_txt} but lies mostly in community "
                      f"{codes[w.home[r]]}; repaired inside {codes[w.home[r]]}, its code and "
                      f"community_code need fixing", geometry=w.geom[r])


def clip_to_parents(w: RepairWork, parents: gpd.GeoDataFrame) -> None:
    """Clip every grid to its home community, logging the area cut off.

    Examples
    --------
    >>> clip_to_parents(work, parents)  # doctest: +SKIP
    """
    codes = parents[schema.CODE].to_numpy()
    pgeom = np.asarray(parents.geometry.array, dtype=object)
    shapely.prepare(pgeom)
    rows = w.living()
    rows = rows[w.home[rows] >= 0]
    inside = shapely.covered_by(w.geom[rows], pgeom[w.home[rows]])
    rows = rows[~inside]
    if not len(rows):
        return
    clipped = polygonal(shapely.intersection(w.geom[rows], pgeom[w.home[rows]]))
    cut = polygonal(shapely.difference(w.geom[rows], pgeom[w.home[rows]]))
    cut_area = shapely.area(cut)
    for k, r in enumerate(rows):
        if cut_area[k] > w.tol.area_floor_m2:  # smaller cuts are overlay residue: leave the grid
            w.geom[r] = clipped[k]
            w.add("clip_to_parent", (w.labels[r],), float(cut_area[k]),
                  f"grid {w.labels[r]} clipped to community {codes[w.home[r]]}: "
                  f"{cut_area[k]:,.1f} m² outside it removed", geometry=cut[k])


def resolve_overlaps(w: RepairWork) -> None:
    """Give each overlapping piece to the claimant with the longest shared edge.

    Examples
    --------
    >>> resolve_overlaps(work)  # doctest: +SKIP
    """
    rows = w.living()
    g = w.geom[rows]
    tree = shapely.STRtree(g)
    a, b = tree.query(g, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    if not len(a):
        return
    ov = shapely.relate_pattern(g[a], g[b], "2********")
    a, b = rows[a[ov]], rows[b[ov]]
    if not len(a):
        return
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    pieces = polygonal(shapely.intersection(w.geom[a], w.geom[b]))
    keep = shapely.area(pieces) > w.tol.area_floor_m2  # smaller ones are overlay residue
    a, b, pieces = a[keep], b[keep], pieces[keep]
    if not len(a):
        return
    # remove all contested land from every claimant ...
    contested: dict[int, list[BaseGeometry]] = defaultdict(list)
    for i, j, p in zip(a, b, pieces, strict=True):
        contested[i].append(p)
        contested[j].append(p)
    for r, ps in contested.items():
        cut = ps[0] if len(ps) == 1 else shapely.union_all(np.array(ps, dtype=object))
        w.geom[r] = polygonal(np.array([shapely.difference(w.geom[r], cut)], dtype=object))[0]
    # ... then hand each piece to the claimant whose remainder shares the longest edge with it
    share_a = shared_length(pieces, w.geom[a], w.tol.touch_m)
    share_b = shared_length(pieces, w.geom[b], w.tol.touch_m)
    empty_a = shapely.is_empty(w.geom[a])
    win = np.where(share_b > share_a, b, a)
    win = np.where((share_a == 0) & (share_b == 0) & empty_a & ~shapely.is_empty(w.geom[b]), b,
                   win)
    # pieces of three-way overlaps overlap each other: earlier pieces take precedence
    ptree = shapely.STRtree(pieces)
    k, earlier = ptree.query(pieces, predicate="intersects")
    sel = earlier < k
    k, earlier = k[sel], earlier[sel]
    if len(k):
        sel = shapely.relate_pattern(pieces[k], pieces[earlier], "2********")
        k, earlier = k[sel], earlier[sel]
    before: dict[int, list[int]] = defaultdict(list)
    for x, y in zip(k, earlier, strict=True):
        before[int(x)].append(int(y))
    final = pieces.copy()
    for x in sorted(before):
        final[x] = polygonal(np.array([shapely.difference(
            pieces[x], shapely.union_all(final[before[x]]))], dtype=object))[0]
    targets: dict[int, list[BaseGeometry]] = defaultdict(list)
    for x in range(len(final)):
        piece = final[x]
        if piece.is_empty or piece.area <= 1e-9:
            continue
        i, j, t = int(a[x]), int(b[x]), int(win[x])
        targets[t].append(piece)
        lose = j if t == i else i
        if piece.area > w.tol.area_floor_m2:
            w.add("resolve_overlap", (w.labels[lose], w.labels[t]), float(piece.area),
                  f"overlap of {piece.area:,.1f} m² between {w.labels[i]} and {w.labels[j]} "
                  f"given to {w.labels[t]}", geometry=piece)
    w.give(targets)


def fill_gaps(w: RepairWork, parents: gpd.GeoDataFrame | None) -> None:
    """Fill the gaps of every community (or of the whole plan without communities).

    Examples
    --------
    >>> fill_gaps(work, parents)  # doctest: +SKIP
    """
    tol = w.tol
    groups: list[tuple[BaseGeometry, np.ndarray, str | None]] = []
    if parents is not None:
        codes = parents[schema.CODE].to_numpy()
        pgeom = np.asarray(parents.geometry.array, dtype=object)
        rows = w.living()
        for p in range(len(parents)):
            members = rows[w.home[rows] == p]
            groups.append((pgeom[p], members, codes[p]))
    else:
        rows = w.living()
        union = shapely.union_all(w.geom[rows])
        groups.append((closing_envelope(union, max(tol.gap_width_m, tol.snap_m)), rows, None))
    for envelope, members, code in groups:
        where = f" in community {code}" if code else ""
        if not len(members):
            if code and envelope.area > tol.area_floor_m2:
                w.add("not_repaired", (), float(envelope.area),
                      f"community {code} has no grid; its {envelope.area:,.0f} m² stay a gap",
                      geometry=envelope)
            continue
        gap, placed = _fill_group(w, envelope, members, where)
        if gap is None or gap.area - sum(p.area for p in placed) <= tol.area_floor_m2:
            continue
        # leftovers (pieces the split could not place): each to its best neighbour
        done = shapely.union_all(np.array(placed, dtype=object)) if placed else EMPTY_POLYGON
        rest, _ = explode(np.array([shapely.difference(gap, done)], dtype=object), tol.area_floor_m2)
        w.give(_to_best_neighbours(w, rest, members, where, digits=2)[0])


def _to_best_neighbours(w: RepairWork, pieces: Any, members: np.ndarray, where: str, *, digits: int
                        ) -> tuple[dict[int, list[BaseGeometry]], list[BaseGeometry]]:
    """Give each gap piece to the member grid with the longest shared edge, logging each move.

    Returns the pieces per receiving grid and the pieces placed; a piece touching no grid is
    logged as not repaired.
    """
    targets: dict[int, list[BaseGeometry]] = defaultdict(list)
    placed: list[BaseGeometry] = []
    for piece in pieces:
        t, _ = w.best_neighbour(piece, members)
        if t < 0:
            w.add("not_repaired", (), float(piece.area),
                  f"gap of {piece.area:,.1f} m²{where} touches no grid; left open",
                  geometry=piece)
            continue
        targets[t].append(piece)
        placed.append(piece)
        w.add("fill_gap", ("", w.labels[t]), float(piece.area),
              f"gap of {piece.area:,.{digits}f} m²{where} given to grid {w.labels[t]} "
              f"(longest shared edge)", geometry=piece)
    return targets, placed


def _fill_group(w: RepairWork, envelope: BaseGeometry, members: np.ndarray, where: str
                ) -> tuple[BaseGeometry | None, list[BaseGeometry]]:
    """Fill the gaps of one community (or of the whole plan without parents).

    Returns the gap found (``None`` when there is none) and the pieces placed in grids.
    """
    tol = w.tol
    r = tol.gap_width_m / 2.0
    union = shapely.union_all(w.geom[members])
    parts, _ = explode(np.array([shapely.difference(envelope, union)], dtype=object),
                       tol.area_floor_m2)
    if not len(parts):
        return None, []  # nothing but overlay residue
    gap = shapely.multipolygons(parts)
    core = shapely.intersection(
        shapely.buffer(shapely.buffer(gap, -r, join_style="mitre"), r, join_style="mitre"), gap)
    wide, _ = explode(np.array([core], dtype=object), tol.area_floor_m2)
    narrow = polygonal(np.array([shapely.difference(gap, core)], dtype=object))[0]
    targets, placed = _to_best_neighbours(w, wide, members, where, digits=1)
    w.give(targets)
    if narrow.is_empty or narrow.area <= 1e-9:
        return gap, placed
    targets = defaultdict(list)
    # outline densification of the split: 50 x the typical strip width, within 5..20 m
    width = min(float(np.median(widths(shapely.get_parts(narrow), tol.gap_width_m,
                                       tol.width_rel))), tol.gap_width_m)
    step = float(np.clip(50 * width, 5.0, 20.0))
    split = nearest_split(narrow, w.geom[members], step, tol.triangulation_grid_m)
    for zone, c in split:
        t = int(members[c])
        parts = shapely.get_parts(zone)
        touching = shapely.dwithin(parts, w.geom[t], tol.touch_m)
        if touching.all():
            targets[t].append(zone)
            continue
        if touching.any():
            targets[t].append(shapely.multipolygons(parts[touching]))
        for piece in parts[~touching]:
            t2, _ = w.best_neighbour(piece, members)
            if t2 >= 0:
                targets[t2].append(piece)
    for t, ps in sorted(targets.items()):
        placed.extend(ps)
        area = float(sum(p.area for p in ps))
        if area > tol.area_floor_m2:
            w.add("close_noise_gaps", ("", w.labels[t]), area,
                  f"narrow gaps{where} (snapping noise, {area:,.2f} m²) closed into grid "
                  f"{w.labels[t]}", geometry=ps[0] if len(ps) == 1 else
                  shapely.geometrycollections(ps))
    w.give(targets)
    return gap, placed


def reattach_parts(w: RepairWork, weights: np.ndarray | None) -> None:
    """Give detached pieces of multipart grids to the neighbour with the longest shared edge.

    A piece given to a grid it touches only at a corner leaves that grid in pieces too, so this
    runs a few rounds.

    Examples
    --------
    >>> reattach_parts(work, None)  # doctest: +SKIP
    """
    for _ in range(3):
        rows = w.living()
        multi = rows[shapely.get_num_geometries(w.geom[rows]) > 1]
        if not len(multi):
            return
        for r in multi:
            _reattach(w, int(r), weights)


def _reattach(w: RepairWork, r: int, weights: np.ndarray | None) -> None:
    """Keep the main piece of grid ``r`` (most households, else largest) and place the others.

    Pieces below the area floor are placed too (without a log entry): dropped, they would leave
    holes in the plan.
    """
    parts = shapely.get_parts(w.geom[r])
    parts = parts[shapely.area(parts) > 0]
    if len(parts) < 2:
        w.geom[r] = parts[0] if len(parts) else w.geom[r]
        return
    score = shapely.area(parts)
    if weights is not None:
        pts = weights  # buildings' representative points with households as weights
        hh = np.array([float(pts[1][shapely.contains_xy(p, pts[0][:, 0], pts[0][:, 1])].sum())
                       for p in parts])
        score = hh * 1e12 + score
    keep = int(np.argmax(score))
    members = w.living()
    members = members[(w.home[members] == w.home[r]) & (members != r)]
    w.geom[r] = parts[keep]
    for k in np.argsort(-shapely.area(parts), kind="stable"):
        piece = parts[k]
        if k == keep:
            continue
        logged = piece.area > w.tol.area_floor_m2
        t, shared = w.best_neighbour(piece, members)
        if _join_back(w, r, piece, shared, logged):
            continue
        if t < 0:
            w.geom[r] = merged(w.geom[r], piece)
            if logged:
                w.add("not_repaired", (w.labels[r],), float(piece.area),
                      f"detached piece of grid {w.labels[r]} ({piece.area:,.1f} m²) touches no "
                      f"other grid of its community; kept", geometry=piece)
            continue
        w.geom[t] = merged(w.geom[t], piece)
        if logged:
            w.add("reattach_part", (w.labels[r], w.labels[t]), float(piece.area),
                  f"detached piece of grid {w.labels[r]} ({piece.area:,.1f} m²) given to grid "
                  f"{w.labels[t]} (longest shared edge)", geometry=piece)


def _join_back(w: RepairWork, r: int, piece: BaseGeometry, shared: float,
               logged: bool = True) -> bool:
    """Join a piece that lies within the touch distance of its own grid back to it.

    Digitising noise can leave a piece a hair's breadth from the grid it came from or was given
    to: the two share an edge within ``touch_m`` yet no union merges them. When that
    edge is longer than the one with the best neighbour (``shared``), the hairline between them
    (minus other grids) is added and the piece stays in its grid. Returns whether it was joined.
    """
    main = w.geom[r]
    gap = float(shapely.distance(piece, main))
    if gap > w.tol.touch_m:
        return False
    own = float(shared_length(np.array([piece], dtype=object), np.array([main], dtype=object),
                              w.tol.touch_m)[0])
    if own <= max(shared, 0.0):
        return False
    reach = gap + 1e-6
    near = shapely.clip_by_rect(main, *shapely.buffer(piece, 2 * reach).bounds)
    bridge = shapely.intersection(shapely.buffer(piece, reach, quad_segs=2),
                                  shapely.buffer(near, reach, quad_segs=2))
    others = w.living()
    others = others[(others != r) & shapely.intersects(w.geom[others], bridge)]
    if len(others):
        bridge = shapely.difference(bridge, shapely.union_all(w.geom[others]))
    joined = merged(main, piece, bridge)
    if shapely.get_num_geometries(joined) >= shapely.get_num_geometries(main) + 1:
        return False  # the bridge did not connect them
    w.geom[r] = joined
    if not logged:
        return True
    w.add("reattach_part", (w.labels[r], w.labels[r]), float(piece.area),
          f"piece of grid {w.labels[r]} ({piece.area:,.2f} m²) lay {gap:.2g} m from the rest of "
          f"it (digitising noise); joined back", geometry=piece)
    return True


def absorb_slivers(w: RepairWork) -> None:
    """Merge tiny or thin grids into the neighbour with the longest shared edge.

    Examples
    --------
    >>> absorb_slivers(work)  # doctest: +SKIP
    """
    tol = w.tol
    for _ in range(3):  # slivers next to slivers: a few rounds
        rows = w.living()
        g = w.geom[rows]
        area = shapely.area(g)
        perim = shapely.length(g)
        thin = 4 * np.pi * area / np.maximum(perim, 1e-12) ** 2
        bad = rows[(area < tol.sliver_area_m2) | ((thin < tol.sliver_thinness) & (
            area < SLIVER_THIN_MAX_FACTOR * tol.sliver_area_m2))]
        if not len(bad):
            return
        changed = False
        for r in bad[np.argsort(shapely.area(w.geom[bad]), kind="stable")]:
            if w.geom[r].is_empty:
                continue
            members = w.living()
            members = members[(w.home[members] == w.home[r]) & (members != r)]
            t, _ = w.best_neighbour(w.geom[r], members)
            if t < 0:
                continue
            piece = w.geom[r]
            w.geom[t] = merged(w.geom[t], piece)
            w.geom[r] = EMPTY_POLYGON
            w.alive[r] = False
            w.absorbed_into[r] = t
            w.add("absorb_sliver", (w.labels[r], w.labels[t]), float(piece.area),
                  f"sliver grid {w.labels[r]} ({piece.area:,.1f} m²) merged into grid "
                  f"{w.labels[t]}", geometry=piece)
            changed = True
        if not changed:
            return
