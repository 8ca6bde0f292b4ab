"""Repair the geometry of a grid plan and log every change.

:func:`repair` fixes what a validator finding marked *repairable* (:data:`gridgis.findings.RULES`):

1. **invalid geometry** is made valid (``shapely.make_valid``), empty grids are removed;
2. **crossings / outside parts** are clipped to the grid's community (the one its
   ``community_code`` / code prefix names, or, when most of the grid lies elsewhere, the
   community holding most of it);
3. **overlaps**: each overlapping piece goes to the claimant with the longest shared edge;
4. **gaps**: each wide gap piece goes to the neighbouring grid of the same community with the
   longest shared edge; narrow gaps (snapping noise, narrower than ``gap_width_m``) are split
   between the grids on either side, each taking the half nearest to it — this closes networks of
   digitising gaps without handing a whole web of strips to one grid;
5. **detached pieces** of multipart grids go to the neighbour with the longest shared edge;
6. **slivers** (tiny or thin grids) are merged into the neighbour with the longest shared edge;
7. **edges are matched**: ``shapely.coverage_clean`` (automatic sub-millimetre snapping) gives
   shared edges identical vertices, so the plan is an exact polygon coverage
   (``shapely.coverage_is_valid``) that coverage union/simplify can rely on.

Every change is logged (:class:`Change`: action, grids, area moved). When buildings are given,
households and residents are moved with their buildings and the grid attributes updated; without
buildings only whole absorbed grids carry their counts over. The result is re-validated.

Codes, sizes and wrong community labels are planning decisions and are left to the builder,
:mod:`gridgis.plan` and :mod:`gridgis.codes`; they stay in the re-validation report.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from . import schema
from ._callable import make_module_callable
from .crs import to_crs
from .findings import ValidationReport
from .rules import Rules, load_rules
from .validate import (
    AREA_FLOOR_M2,
    SLIVER_THIN_MAX_FACTOR,
    _closing_envelope,
    _metric_layer,
    _Plan,
    explode,
    locate_points,
    polygonal,
    prepare_grids,
    prepare_parents,
    representative_points,
    single_parts,
    validate,
    widths,
)

__all__ = ["repair", "RepairResult", "Change"]

_EPS = 0.01  # metres: touching tolerance for shared edges
_EMPTY = shapely.Polygon()


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


@dataclass
class RepairResult:
    """Result of :func:`repair`: the fixed plan, the change log and its validation report."""

    plan: gpd.GeoDataFrame
    log: list[Change]
    report: ValidationReport
    before: ValidationReport | None = None
    metric_crs: Any = None
    notes: list[str] = field(default_factory=list)

    def __iter__(self):  # allows ``plan, log, report = repair(...)``
        return iter((self.plan, self.log, self.report))

    def log_frame(self, crs: Any = None) -> gpd.GeoDataFrame:
        """The change log as a GeoDataFrame in ``crs`` (default: the plan's CRS)."""
        rows = [{"action": c.action, "grids": "; ".join(c.grids), "area_m2": c.area_m2,
                 "households": c.households, "population": c.population,
                 "buildings": c.buildings, "message": c.message} for c in self.log]
        df = pd.DataFrame(rows, columns=["action", "grids", "area_m2", "households", "population",
                                         "buildings", "message"])
        gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([c.geometry for c in self.log],
                                                          crs=self.metric_crs))
        target = self.plan.crs if crs is None else crs
        return to_crs(gdf, target) if target is not None else gdf

    def summary(self) -> str:
        """Counts of changes per action, then the status of the repaired plan."""
        counts: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        for c in self.log:
            counts[c.action][0] += 1
            counts[c.action][1] += c.area_m2
        lines = [f"{len(self.log)} changes:"]
        for action, (n, area) in counts.items():
            lines.append(f"  {action:<18} {int(n):>5}  {area:,.1f} m²")
        lines.extend(self.notes)
        lines.append("after repair: " + self.report.summary(max_rows=10))
        return "\n".join(lines)


# ---- geometry helpers ------------------------------------------------------------------------


def _shared_length(pieces: np.ndarray, grids: np.ndarray) -> np.ndarray:
    """Length of the boundary of each piece that runs along the paired grid."""
    if not len(pieces):
        return np.zeros(0)
    return shapely.length(shapely.intersection(shapely.boundary(pieces),
                                               shapely.buffer(grids, _EPS, quad_segs=2)))


def _tiles(region: BaseGeometry, size: float) -> np.ndarray:
    """Polygon pieces of ``region`` cut by a square tiling (keeps triangulations small)."""
    parts = shapely.get_parts(region)
    x0, y0, x1, y1 = region.bounds
    xs = np.arange(x0, x1 + size, size)
    ys = np.arange(y0, y1 + size, size)
    xx, yy = np.meshgrid(xs[:-1], ys[:-1]) if len(xs) > 1 and len(ys) > 1 else (
        np.array([[x0]]), np.array([[y0]]))
    boxes = shapely.box(xx.ravel(), yy.ravel(), xx.ravel() + size, yy.ravel() + size)
    tree = shapely.STRtree(parts)
    bi, pi = tree.query(boxes, predicate="intersects")
    pieces = polygonal(shapely.intersection(parts[pi], boxes[bi]))
    out, _ = explode(pieces, 0.0)
    return out


def _triangles(pieces: np.ndarray) -> np.ndarray:
    """Constrained Delaunay triangles of polygons (a piece that fails stays whole)."""
    try:
        return shapely.get_parts(shapely.constrained_delaunay_triangles(pieces))
    except shapely.errors.GEOSException:
        out = []
        for piece in pieces:
            for attempt in (piece, shapely.set_precision(piece, 1e-4)):
                try:
                    out.append(shapely.get_parts(shapely.constrained_delaunay_triangles(attempt)))
                    break
                except shapely.errors.GEOSException:
                    continue
            else:  # pragma: no cover - degenerate outline: keep the piece whole
                out.append(np.array([piece], dtype=object))
        return np.concatenate(out) if out else np.array([], dtype=object)


def _segments(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-point segments of linework and the index of the line each comes from."""
    parts, pidx = shapely.get_parts(lines, return_index=True)  # multi-part boundaries
    pc, pi = shapely.get_coordinates(parts, return_index=True)
    start = np.flatnonzero(np.r_[pi[1:] == pi[:-1], False])  # consecutive points of one part
    seg = shapely.linestrings(np.stack([pc[start], pc[start + 1]], axis=1))
    return seg, pidx[pi[start]]


def _nearest_split(region: BaseGeometry, cand: np.ndarray, step: float) -> list[tuple[BaseGeometry, int]]:
    """Split a narrow ``region`` between candidate grids, each taking the part nearest to it.

    The region (cut into 50 m tiles, outline densified every ``step`` metres) is triangulated
    (constrained Delaunay); each triangle goes to the candidate nearest its centroid and the
    triangles of one candidate are merged. In a strip between two grids the cut runs along the
    middle of the strip.
    """
    pieces = shapely.segmentize(_tiles(region, 50.0), step)
    tri = _triangles(pieces)
    tri = tri[shapely.area(tri) > 0]
    if not len(tri):
        return []
    # nearest candidate by its nearest boundary segment (cheap distances, unlike whole polygons)
    near = shapely.STRtree(cand).query(shapely.box(*region.bounds).buffer(step * 4),
                                       predicate="intersects")
    seg, owner = _segments(shapely.boundary(cand[near]))
    tree = shapely.STRtree(seg)
    ti, si = tree.query_nearest(shapely.centroid(tri), all_matches=False)
    label = np.full(len(tri), -1)
    label[ti] = near[owner[si]]
    out = []
    for c in np.unique(label[label >= 0]):
        try:
            zone = shapely.coverage_union_all(tri[label == c])
        except shapely.errors.GEOSException:
            zone = shapely.union_all(tri[label == c])
        zone = polygonal(np.array([zone], dtype=object))[0]
        if not zone.is_empty:
            out.append((zone, int(c)))
    return out


class _Work:
    """Mutable state of a repair run (metric CRS)."""

    def __init__(self, plan: _Plan, rules: Rules):
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
            merged = (shapely.union(self.geom[t], pieces[0]) if len(pieces) == 1 else
                      shapely.union_all(np.array([self.geom[t], *pieces], dtype=object)))
            self.geom[t] = polygonal(np.array([merged], dtype=object))[0]

    def best_neighbour(self, piece: BaseGeometry, candidates: np.ndarray) -> tuple[int, float]:
        """Candidate (row) sharing the longest edge with ``piece``; ``(-1, 0)`` if none touches."""
        candidates = np.asarray([c for c in candidates if not self.geom[c].is_empty], dtype=int)
        if not len(candidates):
            return -1, 0.0
        near = shapely.dwithin(self.geom[candidates], piece, _EPS)
        candidates = candidates[near]
        if not len(candidates):
            return -1, 0.0
        shared = _shared_length(np.full(len(candidates), piece, dtype=object),
                                self.geom[candidates])
        k = int(np.lexsort((candidates, -shared))[0])
        return int(candidates[k]), float(shared[k])


# ---- steps -------------------------------------------------------------------------------------


def _assign_homes(w: _Work, parents: gpd.GeoDataFrame | None) -> None:
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
            best = best[best["a"] > AREA_FLOOR_M2]
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


def _clip(w: _Work, parents: gpd.GeoDataFrame) -> None:
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
        if cut_area[k] > AREA_FLOOR_M2:  # smaller cuts are overlay residue: leave the grid
            w.geom[r] = clipped[k]
            w.add("clip_to_parent", (w.labels[r],), float(cut_area[k]),
                  f"grid {w.labels[r]} clipped to community {codes[w.home[r]]}: "
                  f"{cut_area[k]:,.1f} m² outside it removed", geometry=cut[k])


def _resolve_overlaps(w: _Work) -> None:
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
    keep = shapely.area(pieces) > AREA_FLOOR_M2  # smaller ones are overlay residue
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
    share_a = _shared_length(pieces, w.geom[a])
    share_b = _shared_length(pieces, w.geom[b])
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
        if piece.area > AREA_FLOOR_M2:
            w.add("resolve_overlap", (w.labels[lose], w.labels[t]), float(piece.area),
                  f"overlap of {piece.area:,.1f} m² between {w.labels[i]} and {w.labels[j]} "
                  f"given to {w.labels[t]}", geometry=piece)
    w.give(targets)


def _fill_gaps(w: _Work, parents: gpd.GeoDataFrame | None) -> None:
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
        groups.append((_closing_envelope(union, max(tol.gap_width_m, tol.snap_m)), rows, None))
    for envelope, members, code in groups:
        where = f" in community {code}" if code else ""
        if not len(members):
            if code and envelope.area > AREA_FLOOR_M2:
                w.add("not_repaired", (), float(envelope.area),
                      f"community {code} has no grid; its {envelope.area:,.0f} m² stay a gap",
                      geometry=envelope)
            continue
        gap, placed = _fill_group(w, envelope, members, where)
        if gap is None or gap.area - sum(p.area for p in placed) <= AREA_FLOOR_M2:
            continue
        # leftovers (pieces the split could not place): each to its best neighbour
        done = shapely.union_all(np.array(placed, dtype=object)) if placed else _EMPTY
        rest, _ = explode(np.array([shapely.difference(gap, done)], dtype=object), AREA_FLOOR_M2)
        w.give(_to_best_neighbours(w, rest, members, where, digits=2)[0])


def _to_best_neighbours(w: _Work, pieces: Any, members: np.ndarray, where: str, *, digits: int
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


def _fill_group(w: _Work, envelope: BaseGeometry, members: np.ndarray, where: str
                ) -> tuple[BaseGeometry | None, list[BaseGeometry]]:
    """Fill the gaps of one community (or of the whole plan without parents).

    Returns the gap found (``None`` when there is none) and the pieces placed in grids.
    """
    tol = w.tol
    r = tol.gap_width_m / 2.0
    union = shapely.union_all(w.geom[members])
    parts, _ = explode(np.array([shapely.difference(envelope, union)], dtype=object),
                       AREA_FLOOR_M2)
    if not len(parts):
        return None, []  # nothing but overlay residue
    gap = shapely.multipolygons(parts)
    core = shapely.intersection(
        shapely.buffer(shapely.buffer(gap, -r, join_style="mitre"), r, join_style="mitre"), gap)
    wide, _ = explode(np.array([core], dtype=object), AREA_FLOOR_M2)
    narrow = polygonal(np.array([shapely.difference(gap, core)], dtype=object))[0]
    targets, placed = _to_best_neighbours(w, wide, members, where, digits=1)
    w.give(targets)
    if narrow.is_empty or narrow.area <= 1e-9:
        return gap, placed
    targets = defaultdict(list)
    width = float(np.clip(np.median(widths(shapely.get_parts(narrow), tol.gap_width_m)),
                          0.05, tol.gap_width_m))
    step = float(np.clip(50 * width, 5.0, 20.0))
    split = _nearest_split(narrow, w.geom[members], step)
    for zone, c in split:
        t = int(members[c])
        parts = shapely.get_parts(zone)
        touching = shapely.dwithin(parts, w.geom[t], _EPS)
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
        if area > AREA_FLOOR_M2:
            w.add("close_noise_gaps", ("", w.labels[t]), area,
                  f"narrow gaps{where} (snapping noise, {area:,.2f} m²) closed into grid "
                  f"{w.labels[t]}", geometry=ps[0] if len(ps) == 1 else
                  shapely.geometrycollections(ps))
    w.give(targets)
    return gap, placed


def _reattach_parts(w: _Work, weights: np.ndarray | None) -> None:
    rows = w.living()
    multi = rows[shapely.get_num_geometries(w.geom[rows]) > 1]
    for r in multi:
        parts = shapely.get_parts(w.geom[r])
        parts = parts[shapely.area(parts) > AREA_FLOOR_M2]  # drop overlay residue
        if len(parts) < 2:
            w.geom[r] = parts[0] if len(parts) else w.geom[r]
            continue
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
        for k, piece in enumerate(parts):
            if k == keep:
                continue
            t, _ = w.best_neighbour(piece, members)
            if t < 0:
                w.geom[r] = shapely.union(w.geom[r], piece)
                w.add("not_repaired", (w.labels[r],), float(piece.area),
                      f"detached piece of grid {w.labels[r]} ({piece.area:,.1f} m²) touches no "
                      f"other grid of its community; kept", geometry=piece)
                continue
            w.geom[t] = polygonal(np.array([shapely.union(w.geom[t], piece)], dtype=object))[0]
            w.add("reattach_part", (w.labels[r], w.labels[t]), float(piece.area),
                  f"detached piece of grid {w.labels[r]} ({piece.area:,.1f} m²) given to grid "
                  f"{w.labels[t]} (longest shared edge)", geometry=piece)


def _absorb_slivers(w: _Work) -> None:
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
            w.geom[t] = polygonal(np.array([shapely.union(w.geom[t], piece)], dtype=object))[0]
            w.geom[r] = _EMPTY
            w.alive[r] = False
            w.absorbed_into[r] = t
            w.add("absorb_sliver", (w.labels[r], w.labels[t]), float(piece.area),
                  f"sliver grid {w.labels[r]} ({piece.area:,.1f} m²) merged into grid "
                  f"{w.labels[t]}", geometry=piece)
            changed = True
        if not changed:
            return


# ---- entry point -------------------------------------------------------------------------------


def repair(
    grids: gpd.GeoDataFrame,
    parents: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    rules: Rules | dict | str | None = None,
    *,
    addresses: gpd.GeoDataFrame | pd.DataFrame | None = None,
    scheme: Any = None,
) -> RepairResult:
    """Fix the geometry of a plan (gaps, overlaps, crossings, pieces, slivers) and log it.

    Parameters
    ----------
    grids, parents, buildings, addresses, rules, scheme
        As for :func:`gridgis.validate.validate`. Without ``parents`` only gaps between grids
        (holes and narrow notches) can be filled; nothing is clipped.

    Returns
    -------
    RepairResult
        ``plan`` (canonical columns, input CRS, one row per surviving grid; removed grids are in
        the log), ``log`` (list of :class:`Change`), ``report`` (validation of the repaired
        plan) and ``before`` (validation of the input).

    Examples
    --------
    >>> fixed = repair(plan, parents=communities, buildings=buildings)  # doctest: +SKIP
    >>> fixed.report.ok, len(fixed.log)  # doctest: +SKIP
    >>> fixed.plan.to_file("plan_fixed.gpkg")  # doctest: +SKIP
    """
    rules = load_rules(rules)
    before = validate(grids, parents, buildings, addresses, rules, scheme=scheme)
    plan, geom_findings, mcrs = prepare_grids(grids, scheme=scheme)
    w = _Work(plan, rules)
    p = prepare_parents(parents, mcrs) if parents is not None else None
    b = None
    if buildings is not None:
        b = schema.normalize_columns(buildings, source="buildings")
        b = _metric_layer(b, mcrs, "buildings").reset_index(drop=True)

    for f in geom_findings:
        r = int(np.flatnonzero(plan.labels == f.grids[0])[0])
        if f.rule == "invalid_geometry":
            w.add("fix_geometry", f.grids, float(shapely.area(w.geom[r])),
                  f"{f.message}; made valid", geometry=w.geom[r])
        elif f.rule == "empty_grid":
            w.add("remove_empty", f.grids, 0.0, f"{f.message}; removed",
                  households=_attr(plan.gdf, schema.HOUSEHOLDS, r),
                  population=_attr(plan.gdf, schema.POPULATION, r))

    weights = None
    if b is not None:
        bpts = representative_points(np.asarray(b.geometry.array, dtype=object))
        before_loc = locate_points(plan, bpts).grid_of
        hh = (pd.to_numeric(b[schema.HOUSEHOLDS], errors="coerce").fillna(0).to_numpy()
              if schema.HOUSEHOLDS in b else np.zeros(len(b)))
        ok = ~(shapely.is_missing(bpts) | shapely.is_empty(bpts))
        weights = (shapely.get_coordinates(bpts[ok]), hh[ok])

    _assign_homes(w, p)
    if p is not None:
        _clip(w, p)
    _resolve_overlaps(w)
    _fill_gaps(w, p)
    _reattach_parts(w, weights)
    _absorb_slivers(w)
    # duplicates and grids emptied by the steps above
    for r in np.flatnonzero(w.alive & (shapely.area(w.geom) <= AREA_FLOOR_M2)):
        w.alive[r] = False
        w.add("remove_empty", (w.labels[r],), 0.0,
              f"grid {w.labels[r]} has no land left (it duplicated its neighbours); removed",
              households=_attr(plan.gdf, schema.HOUSEHOLDS, r),
              population=_attr(plan.gdf, schema.POPULATION, r))

    out = plan.gdf.copy()
    # grids left unchanged outside every community stay in the plan
    untouched = plan.usable & ~w.alive & (w.home < 0)
    geoms = np.where(untouched, plan.geom, w.geom)
    keep = (w.alive | untouched) & ~shapely.is_empty(geoms)
    out = out.set_geometry(gpd.GeoSeries(single_parts(geoms, AREA_FLOOR_M2), crs=mcrs))
    notes: list[str] = []
    _update_counts(w, out, b, before_loc if b is not None else None, keep, notes)
    out = out[keep].reset_index(drop=True)
    matched = _match_edges(np.asarray(out.geometry.array, dtype=object))
    final = _in_crs(out, grids.crs)
    after = validate(final, parents, buildings, addresses, rules, scheme=scheme)
    if matched is not None:
        # edge-matched coverage (shared edges with identical vertices), kept when it validates
        # at least as well as the plan before matching
        alt = _in_crs(out.set_geometry(gpd.GeoSeries(matched, crs=mcrs)), grids.crs)
        alt_report = validate(alt, parents, buildings, addresses, rules, scheme=scheme)
        if (len(alt_report.errors), len(alt_report.warnings)) <= (len(after.errors),
                                                                  len(after.warnings)):
            final, after = alt, alt_report
            changed = int((shapely.get_num_coordinates(matched) != shapely.get_num_coordinates(
                np.asarray(out.geometry.array, dtype=object))).sum())
            w.add("match_edges", (), 0.0,
                  f"shared edges of {changed} grid(s) given identical vertices "
                  f"(sub-millimetre snapping): the plan is an exact polygon coverage")
    out = final
    return RepairResult(plan=out, log=w.log, report=after, before=before, metric_crs=mcrs,
                        notes=notes)


def _in_crs(plan: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    """``plan`` in ``crs``, every geometry valid there too: reprojection (to degrees above all)
    can fold a narrow neck onto itself, so such grids are made valid again in ``crs``."""
    out = to_crs(plan, crs)
    geoms = np.asarray(out.geometry.array, dtype=object)
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if not bad.any():
        return out
    fixed = geoms.copy()
    fixed[bad] = polygonal(shapely.make_valid(geoms[bad], method="structure"))
    return out.set_geometry(gpd.GeoSeries(fixed, index=out.index, crs=out.crs))


def _match_edges(geoms: np.ndarray) -> np.ndarray | None:
    """Make shared edges carry identical vertices (``shapely.coverage_clean`` with its automatic,
    sub-millimetre snapping); ``None`` when that would change any grid beyond overlay residue."""
    if not len(geoms):
        return None
    try:
        if shapely.coverage_is_valid(geoms):
            return None
        cleaned = polygonal(shapely.coverage_clean(geoms))
    except shapely.errors.GEOSException:  # pragma: no cover - GEOS could not node the plan
        return None
    before, after = shapely.area(geoms), shapely.area(cleaned)
    if (after <= 0).any() or (np.abs(after - before) > np.maximum(AREA_FLOOR_M2, 1e-6 * before)).any():
        return None
    return single_parts(cleaned, AREA_FLOOR_M2)


def _attr(gdf: pd.DataFrame, col: str, r: int) -> float | None:
    if col not in gdf:
        return None
    v = pd.to_numeric(pd.Series([gdf[col].iloc[r]]), errors="coerce").iloc[0]
    return None if pd.isna(v) else float(v)


def _update_counts(w: _Work, out: gpd.GeoDataFrame, b: gpd.GeoDataFrame | None,
                   before_loc: np.ndarray | None, keep: np.ndarray, notes: list[str]) -> None:
    """Move households/residents with their buildings (or with absorbed grids) and log it."""
    cols = [c for c in (schema.HOUSEHOLDS, schema.POPULATION) if c in out]
    if b is not None:
        shown = w.plan
        after_plan = _Plan(gdf=out, labels=shown.labels, codes=shown.codes, named=shown.named,
                           geom=np.where(keep, np.asarray(out.geometry.array, dtype=object), _EMPTY),
                           usable=keep, uidx=np.flatnonzero(keep),
                           tree=shapely.STRtree(np.asarray(out.geometry.array, dtype=object)[keep]))
        bpts = representative_points(np.asarray(b.geometry.array, dtype=object))
        after_loc = locate_points(after_plan, bpts).grid_of
        moved = before_loc != after_loc
        vals = {c: (pd.to_numeric(b[c], errors="coerce").fillna(0).to_numpy()
                    if c in b else np.zeros(len(b))) for c in (schema.HOUSEHOLDS, schema.POPULATION)}
        for c in cols:
            col = pd.to_numeric(out[c], errors="coerce").to_numpy(dtype=float)
            delta = np.zeros(len(out))
            src, dst = before_loc[moved], after_loc[moved]
            v = vals[c][moved]
            np.add.at(delta, dst[dst >= 0], v[dst >= 0])
            np.add.at(delta, src[src >= 0], -v[src >= 0])
            new = np.where(np.isnan(col), col, col + delta)
            out[c] = np.round(new).astype(np.int64) if pd.api.types.is_integer_dtype(
                out[c].dtype) else new
        if moved.any():
            df = pd.DataFrame({"src": before_loc[moved], "dst": after_loc[moved],
                               "hh": vals[schema.HOUSEHOLDS][moved],
                               "pop": vals[schema.POPULATION][moved]})
            for (s, d), grp in df.groupby(["src", "dst"], sort=True):
                sl = w.labels[s] if s >= 0 else ""
                dl = w.labels[d] if d >= 0 else ""
                w.add("move_households", (sl, dl), 0.0,
                      f"{len(grp)} building(s), {grp['hh'].sum():,.0f} households and "
                      f"{grp['pop'].sum():,.0f} residents moved from "
                      f"{'no grid' if s < 0 else 'grid ' + sl} to "
                      f"{'no grid' if d < 0 else 'grid ' + dl}",
                      households=float(grp["hh"].sum()), population=float(grp["pop"].sum()),
                      buildings=len(grp))
        return
    moved_area = any(c.action in ("resolve_overlap", "fill_gap", "clip_to_parent",
                                  "reattach_part") and c.area_m2 > 1.0 for c in w.log)
    for r, t in w.absorbed_into.items():
        while t in w.absorbed_into:
            t = w.absorbed_into[t]
        for c in cols:
            v = _attr(w.plan.gdf, c, r)
            if v:
                cur = pd.to_numeric(pd.Series([out[c].iloc[t]]), errors="coerce").iloc[0]
                out.loc[out.index[t], c] = (0 if pd.isna(cur) else cur) + v
    if moved_area:
        notes.append("households/residents of moved land are unknown without buildings: "
                     "grid counts were not changed (pass buildings= to move them)")


make_module_callable(__name__, repair)
