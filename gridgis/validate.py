"""Validate any grid plan (builder output or hand-drawn in desktop GIS) against the rules.

:func:`validate` checks a plan and returns a :class:`~gridgis.findings.ValidationReport`.
The rules (ids in :data:`gridgis.findings.RULES`):

- geometry: ``empty_grid``, ``invalid_geometry``, ``multipart``, ``sliver``;
- seamless coverage: ``gap``, ``overlap`` (between grids and against the parent boundary);
- nesting: ``crosses_parent``, ``outside_parent``, ``wrong_parent``, ``unknown_parent``;
- size: ``size_below_min``, ``size_above_max``, ``size_unknown``, ``kind_unknown``;
- items: ``building_unassigned``, ``building_in_two``, ``building_split``,
  ``address_unassigned``, ``address_in_two``;
- codes: ``code_malformed``, ``code_duplicate``, ``code_prefix``, ``code_order``.

Tolerances (from the rules file, ``[tolerances]``)
--------------------------------------------------
Every gap, overlap and piece of a grid outside its community larger than 0.01 m² is reported
(smaller ones are floating-point residue of overlays). Pieces *narrower* than ``gap_width_m``
(their largest inscribed circle has a diameter below it) are still reported with their area and
width, but as **warnings** marked ``noise=True``: they are digitising/snapping noise, not planning
decisions, and :func:`gridgis.repair.repair` removes them. A piece outside the parent smaller than
``outside_parent_m2`` is noise too. Wider pieces are errors. A sliver grid is tiny (below
``sliver_area_m2``) or thin (Polsby-Popper 4πA/P² below ``sliver_thinness``) *and* small
(below 100 × ``sliver_area_m2``): a long grid of several hectares along a river is a planning
choice, not a sliver.

All measures are computed in a metric CRS (:func:`gridgis.crs.metric_crs`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import schema
from ._callable import make_module_callable
from .codes import load_scheme, parse_codes
from .crs import metric_crs, to_crs
from .errors import CRSError, GeometryError, SchemaError
from .findings import ERROR, WARNING, Finding, ValidationReport, sort_findings
from .rules import Rules, load_rules
from .versions import plan_context, read_plan

__all__ = ["validate", "AREA_FLOOR_M2"]

#: Gaps, overlaps and outside pieces smaller than this are overlay residue and never reported.
AREA_FLOOR_M2 = 0.01
#: Distance within which a grid counts as touching a gap.
NEIGHBOUR_EPS_M = 0.01
#: Smaller share of a building footprint that makes it "split" between grids.
SPLIT_SHARE = 0.10
SPLIT_MIN_M2 = 1.0
#: A thin grid is a sliver only below this multiple of ``sliver_area_m2`` (5,000 m² by default).
SLIVER_THIN_MAX_FACTOR = 100.0
#: Flags that turn a size violation into a warning.
FLAG_BELOW_MIN = "below_min_allowed"
FLAG_ABOVE_MAX = "above_max_allowed"

_POLYGONAL = (shapely.GeometryType.POLYGON.value, shapely.GeometryType.MULTIPOLYGON.value)
_EMPTY_POLY = shapely.Polygon()


# ---- small helpers -------------------------------------------------------------------------------


def as_codes(values: Any) -> np.ndarray:
    """Codes as clean strings: ``None``/NaN → ``""``, ``110101001001.0`` → ``"110101001001"``."""
    s = pd.Series(values).reset_index(drop=True)
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind in ("string", "empty"):
        return s.astype(object).where(s.notna(), "").astype(str).str.strip().to_numpy(dtype=object)
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.astype(str).to_numpy(dtype=object)
    s = s.astype("object")
    out = np.empty(len(s), dtype=object)
    for i, v in enumerate(s.to_numpy()):
        if v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA:
            out[i] = ""
        elif isinstance(v, (float, np.floating)) and float(v).is_integer():
            out[i] = str(int(v))
        elif isinstance(v, (int, np.integer)):
            out[i] = str(int(v))
        else:
            out[i] = str(v).strip()
    return out


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal part of each geometry (empty polygon when there is none)."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.array(geoms, dtype=object, copy=True)
    if not len(geoms):
        return out
    types = shapely.get_type_id(geoms)
    todo = np.flatnonzero(~np.isin(types, _POLYGONAL))
    if not len(todo):
        return out
    parts, idx = shapely.get_parts(geoms[todo], return_index=True)
    # nested collections: one more level
    ptypes = shapely.get_type_id(parts)
    nested = ptypes == shapely.GeometryType.MULTIPOLYGON.value
    if nested.any():
        sub, sidx = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], sub])
        idx = np.concatenate([idx[~nested], idx[nested][sidx]])
        ptypes = shapely.get_type_id(parts)
    keep = ptypes == shapely.GeometryType.POLYGON.value
    res = np.full(len(todo), _EMPTY_POLY, dtype=object)
    if keep.any():
        present, inverse = np.unique(idx[keep], return_inverse=True)
        res[present] = shapely.multipolygons(parts[keep], indices=inverse)
    out[todo] = res
    return out


def single_parts(geoms: np.ndarray, min_area: float = 0.0) -> np.ndarray:
    """Drop parts of at most ``min_area``; MultiPolygons of one part become Polygons."""
    geoms = np.asarray(geoms, dtype=object).copy()
    if min_area > 0:
        multi = np.flatnonzero(shapely.get_num_geometries(geoms) > 1)
        if len(multi):
            parts, idx = shapely.get_parts(geoms[multi], return_index=True)
            big = shapely.area(parts) > min_area
            # keep at least the largest part of each geometry
            order = np.lexsort((-shapely.area(parts), idx))
            first = order[np.r_[True, idx[order][1:] != idx[order][:-1]]]
            big[first] = True
            present, inverse = np.unique(idx[big], return_inverse=True)
            geoms[multi[present]] = shapely.multipolygons(parts[big], indices=inverse)
    multi = (shapely.get_type_id(geoms) == shapely.GeometryType.MULTIPOLYGON.value) & (
        shapely.get_num_geometries(geoms) == 1
    )
    if multi.any():
        geoms[multi] = shapely.get_geometry(geoms[multi], 0)
    return geoms


def widths(pieces: np.ndarray, narrow_below: float = 0.0) -> np.ndarray:
    """Width of each polygon, in CRS units.

    Pieces that vanish under an inward buffer of ``narrow_below / 2`` get their mean width
    ``2·area / perimeter`` (cheap, and what "0.3 m wide" means for a digitising strip); the
    others get their largest width (diameter of the maximum inscribed circle).
    """
    pieces = np.asarray(pieces, dtype=object)
    if not len(pieces):
        return np.zeros(0)
    area, perim = shapely.area(pieces), shapely.length(pieces)
    mean = 2.0 * area / np.maximum(perim, 1e-12)
    narrow = np.zeros(len(pieces), dtype=bool)
    if narrow_below > 0:
        narrow = shapely.is_empty(shapely.buffer(pieces, -narrow_below / 2.0,
                                                 join_style="mitre"))
    out = mean.copy()
    wide = np.flatnonzero(~narrow)
    if len(wide):
        tol = np.maximum(0.01, 0.002 * np.sqrt(area[wide]))
        mic = shapely.maximum_inscribed_circle(pieces[wide], tol)
        out[wide] = np.maximum(2.0 * shapely.length(mic), mean[wide])
    if narrow_below > 0:
        out[narrow] = np.minimum(out[narrow], narrow_below * 0.999)
    return out


def explode(geoms: np.ndarray, min_area: float = AREA_FLOOR_M2) -> tuple[np.ndarray, np.ndarray]:
    """Polygon parts of ``geoms`` larger than ``min_area`` and the index of their source."""
    parts, idx = shapely.get_parts(polygonal(np.atleast_1d(np.asarray(geoms, dtype=object))),
                                   return_index=True)
    keep = shapely.area(parts) > min_area
    return parts[keep], idx[keep]


def fast_union(geoms: np.ndarray) -> shapely.Geometry:
    """Union of polygons: coverage union when they form a valid coverage, else a full union."""
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~shapely.is_empty(geoms)]
    if not len(geoms):
        return _EMPTY_POLY
    try:
        if shapely.coverage_is_valid(geoms):
            return shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:  # pragma: no cover - invalid input falls through
        pass
    return shapely.union_all(geoms)


def _flags(values: Any, n: int) -> list[set[str]]:
    if values is None:
        return [set() for _ in range(n)]
    out = []
    for v in pd.Series(values).to_numpy():
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            out.append(set())
        else:
            out.append({t for t in re.split(r"[\s,;|，；]+", str(v).strip().lower()) if t})
    return out


def _fmt(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.1f}"
    return f"{x:.2g}"


def _wide(width: float, noise: bool) -> str:
    return f"about {width:.2f} m wide" if noise else f"up to {_fmt(width)} m wide"


def _names(grids: list[str] | tuple[str, ...], limit: int = 4) -> str:
    grids = list(grids)
    text = ", ".join(grids[:limit])
    return text + (f" and {len(grids) - limit} more" if len(grids) > limit else "")


# ---- input preparation ---------------------------------------------------------------------------


@dataclass
class _Plan:
    gdf: gpd.GeoDataFrame  # metric, canonical columns
    labels: np.ndarray  # grid code or "#row"
    codes: np.ndarray  # code strings ("" when missing)
    named: np.ndarray  # community each grid names ("" when none)
    geom: np.ndarray  # polygonal, valid, metric (empty when unusable)
    usable: np.ndarray  # bool
    uidx: np.ndarray  # positions of usable rows
    tree: shapely.STRtree  # over geom[uidx]


def _check_layer(layer: Any, name: str, *, allow_frame: bool = False) -> gpd.GeoDataFrame:
    if isinstance(layer, gpd.GeoDataFrame):
        return layer
    if allow_frame and isinstance(layer, pd.DataFrame):
        df = schema.normalize_columns(layer, required=[schema.LON, schema.LAT], source=name)
        return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df[schema.LON], df[schema.LAT]),
                                crs="EPSG:4326")
    raise SchemaError(
        f"{name} must be a GeoDataFrame, got {type(layer).__name__}",
        source=name, fix="read it with gridgis.read_vector(path)",
    )


def _metric_layer(layer: gpd.GeoDataFrame, mcrs: Any, name: str) -> gpd.GeoDataFrame:
    if layer.crs is None:
        raise CRSError(f"the {name} layer has no CRS", source=name,
                       fix="set it, e.g. gdf.set_crs('EPSG:4547')")
    return to_crs(layer, mcrs)


def prepare_grids(grids: gpd.GeoDataFrame, *, scheme: Any = None,
                  metric: Any = None) -> tuple[_Plan, list[Finding], Any]:
    """Normalise a plan, move it to a metric CRS and clean its geometry for the checks.

    Returns the prepared plan, the geometry findings (empty/invalid) and the metric CRS.
    """
    grids = _check_layer(grids, "grids")
    gdf = schema.normalize_columns(grids, source="grids")
    if gdf.crs is None:
        raise CRSError("the grids layer has no CRS", source="grids",
                       fix="set it, e.g. gdf.set_crs('EPSG:4547')")
    raw = np.asarray(gdf.geometry.array, dtype=object)
    present = ~(shapely.is_missing(raw) | shapely.is_empty(raw))
    if not present.any():
        raise GeometryError("no grid has a geometry", source="grids", fix="check the layer")
    mcrs = metric if metric is not None else metric_crs(gdf[present])
    gdf = _metric_layer(gdf, mcrs, "grids").reset_index(drop=True)
    n = len(gdf)
    codes = (as_codes(gdf[schema.GRID_CODE]) if schema.GRID_CODE in gdf
             else np.full(n, "", dtype=object))
    labels = np.array([c if c else f"#{i}" for i, c in enumerate(codes)], dtype=object)
    if schema.COMMUNITY_CODE in gdf:
        named = as_codes(gdf[schema.COMMUNITY_CODE])
    else:
        named = np.full(n, "", dtype=object)
    if not all(named):  # community from the code prefix where community_code is missing
        parsed = parse_codes(codes, scheme)
        prefix = parsed[schema.COMMUNITY_CODE].astype(object).to_numpy()
        prefix = np.array(["" if pd.isna(x) else str(x) for x in prefix], dtype=object)
        named = np.where(named == "", prefix, named)

    geom = np.asarray(gdf.geometry.array, dtype=object)
    findings: list[Finding] = []
    types = shapely.get_type_id(geom)
    valid = shapely.is_valid(geom)
    bad_type = present & ~np.isin(types, _POLYGONAL)
    invalid = present & ~bad_type & ~valid
    clean = geom.copy()
    clean[~present] = _EMPTY_POLY
    for i in np.flatnonzero(invalid | bad_type):
        g = geom[i]
        if bad_type[i]:
            msg = f"grid {labels[i]} is a {g.geom_type}, not a polygon"
        else:
            msg = f"grid {labels[i]} has an invalid polygon: {shapely.is_valid_reason(g)}"
        fixed = g if valid[i] else shapely.make_valid(g, method="structure", keep_collapsed=False)
        clean[i] = polygonal(np.array([fixed], dtype=object))[0]
        findings.append(Finding("invalid_geometry", ERROR, (labels[i],), None, "", msg,
                                geometry=g, parent=named[i] or None))
    clean = polygonal(clean)
    area = shapely.area(clean)
    empty = area <= 0
    for i in np.flatnonzero(empty):
        why = "has no geometry" if not present[i] else "has zero area"
        findings.append(Finding("empty_grid", ERROR, (labels[i],), 0.0, "m²",
                                f"grid {labels[i]} {why}", geometry=None, parent=named[i] or None))
    clean[empty] = _EMPTY_POLY
    usable = ~empty
    uidx = np.flatnonzero(usable)
    plan = _Plan(gdf=gdf, labels=labels, codes=codes, named=named, geom=clean, usable=usable,
                 uidx=uidx, tree=shapely.STRtree(clean[uidx]))
    return plan, findings, mcrs


def prepare_parents(parents: gpd.GeoDataFrame, mcrs: Any) -> gpd.GeoDataFrame:
    """Parent (community) layer in the metric CRS with ``code`` strings and valid polygons."""
    parents = _check_layer(parents, "parents")
    p = schema.normalize_columns(parents, required=[schema.CODE], source="parents")
    p = _metric_layer(p, mcrs, "parents").reset_index(drop=True)
    p[schema.CODE] = as_codes(p[schema.CODE])
    g = np.asarray(p.geometry.array, dtype=object)
    g = np.where(shapely.is_missing(g), _EMPTY_POLY, g)
    bad = ~shapely.is_valid(g)
    if bad.any():
        g[bad] = shapely.make_valid(g[bad], method="structure", keep_collapsed=False)
    p = p.set_geometry(gpd.GeoSeries(polygonal(g), crs=p.crs))
    return p


# ---- checks --------------------------------------------------------------------------------------


def _neighbours(plan: _Plan, pieces: np.ndarray) -> list[list[str]]:
    out: list[list[str]] = [[] for _ in range(len(pieces))]
    if not len(pieces):
        return out
    pi, gi = plan.tree.query(pieces, predicate="dwithin", distance=NEIGHBOUR_EPS_M)
    for p, g in zip(pi, gi, strict=True):
        out[p].append(plan.labels[plan.uidx[g]])
    return [sorted(set(x)) for x in out]


def _parent_of(parents: gpd.GeoDataFrame | None, pieces: np.ndarray) -> list[str | None]:
    if parents is None or not len(pieces):
        return [None] * len(pieces)
    pts = shapely.point_on_surface(pieces)
    tree = shapely.STRtree(np.asarray(parents.geometry.array))
    pi, qi = tree.query(pts, predicate="intersects")
    out: list[str | None] = [None] * len(pieces)
    codes = parents[schema.CODE].to_numpy()
    for p, q in zip(pi, qi, strict=True):
        if out[p] is None:
            out[p] = codes[q]
    return out


def _check_overlaps(plan: _Plan, tol: Any) -> list[Finding]:
    ug = plan.geom[plan.uidx]
    a, b = plan.tree.query(ug, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    if not len(a):
        return []
    ov = shapely.relate_pattern(ug[a], ug[b], "2********")
    a, b = a[ov], b[ov]
    if not len(a):
        return []
    inter = polygonal(shapely.intersection(ug[a], ug[b]))
    area = shapely.area(inter)
    keep = area > AREA_FLOOR_M2
    a, b, inter, area = a[keep], b[keep], inter[keep], area[keep]
    width = widths(inter, tol.gap_width_m)
    full_a = shapely.area(ug[a])
    full_b = shapely.area(ug[b])
    out = []
    for k in range(len(a)):
        ga, gb = plan.labels[plan.uidx[a[k]]], plan.labels[plan.uidx[b[k]]]
        noise = bool(width[k] < tol.gap_width_m)
        same = abs(area[k] - full_a[k]) < 1e-6 * full_a[k] + AREA_FLOOR_M2 and \
            abs(area[k] - full_b[k]) < 1e-6 * full_b[k] + AREA_FLOOR_M2
        if same:
            msg = f"grids {ga} and {gb} have the same boundary (duplicate, {_fmt(area[k])} m²)"
        else:
            msg = (f"grids {ga} and {gb} overlap by {_fmt(area[k])} m² "
                   f"({_wide(width[k], noise)})")
        if noise:
            msg += f"; narrower than {tol.gap_width_m:g} m: digitising noise"
        pa = plan.named[plan.uidx[a[k]]] or None
        out.append(Finding("overlap", WARNING if noise else ERROR, tuple(sorted((ga, gb))),
                           float(area[k]), "m²", msg, geometry=inter[k], parent=pa, noise=noise,
                           width_m=float(width[k])))
    return out


def _closing_envelope(union: shapely.Geometry, radius: float) -> shapely.Geometry:
    """Union with its holes filled and notches narrower than 2·radius closed (no parents)."""
    closed = shapely.buffer(shapely.buffer(union, radius, join_style="mitre", mitre_limit=10.0),
                            -radius, join_style="mitre", mitre_limit=10.0)
    closed = shapely.union(closed, union)
    parts = shapely.get_parts(closed)
    return shapely.union_all(shapely.polygons(shapely.get_exterior_ring(parts)))


def _check_gaps(plan: _Plan, parents: gpd.GeoDataFrame | None, tol: Any) -> list[Finding]:
    union = fast_union(plan.geom[plan.uidx])
    if parents is not None:
        envelope = fast_union(np.asarray(parents.geometry.array))
    else:
        envelope = _closing_envelope(union, max(tol.gap_width_m, tol.snap_m))
    gaps, _ = explode(shapely.difference(envelope, union))
    if parents is not None and len(gaps):
        # one finding per community: cut gaps at community lines
        pg = np.asarray(parents.geometry.array, dtype=object)
        gi, pi = shapely.STRtree(pg).query(gaps, predicate="intersects")
        gaps, _ = explode(shapely.intersection(gaps[gi], pg[pi]))
    if not len(gaps):
        return []
    width = widths(gaps, tol.gap_width_m)
    area = shapely.area(gaps)
    neigh = _neighbours(plan, gaps)
    owner = _parent_of(parents, gaps)
    out = []
    for k in range(len(gaps)):
        if parents is None and len(neigh[k]) < 2:
            continue  # a notch of one grid's outline, not a gap between grids
        noise = bool(width[k] < tol.gap_width_m)
        where = f" in community {owner[k]}" if owner[k] else ""
        if neigh[k]:
            msg = (f"gap of {_fmt(area[k])} m² ({_wide(width[k], noise)}){where} "
                   f"next to grid{'s' if len(neigh[k]) > 1 else ''} {_names(neigh[k])}")
        else:
            msg = f"gap of {_fmt(area[k])} m²{where} with no grid at all"
        if noise:
            msg += f"; narrower than {tol.gap_width_m:g} m: digitising noise"
        out.append(Finding("gap", WARNING if noise else ERROR, tuple(neigh[k]), float(area[k]),
                           "m²", msg, geometry=gaps[k], parent=owner[k], noise=noise,
                           width_m=float(width[k])))
    return out


def _check_nesting(plan: _Plan, parents: gpd.GeoDataFrame, tol: Any) -> list[Finding]:
    codes = parents[schema.CODE].to_numpy()
    pgeom = np.asarray(parents.geometry.array, dtype=object)
    pos = {c: i for i, c in reversed(list(enumerate(codes)))}
    ptree = shapely.STRtree(pgeom)
    out: list[Finding] = []
    rows = plan.uidx
    named = plan.named[rows]
    pidx = np.array([pos.get(c, -1) for c in named], dtype=int)
    for r in rows[pidx < 0]:
        what = (f"names community {plan.named[r]}, which is not in the parent layer"
                if plan.named[r] else "names no community (no community_code, no code prefix)")
        out.append(Finding("unknown_parent", ERROR, (plan.labels[r],), None, "",
                           f"grid {plan.labels[r]} {what}", geometry=plan.geom[r],
                           parent=plan.named[r] or None))
    known = pidx >= 0
    rows, pidx = rows[known], pidx[known]
    g = plan.geom[rows]
    shapely.prepare(pgeom)
    inside = shapely.covered_by(g, pgeom[pidx])
    rows, pidx, g = rows[~inside], pidx[~inside], g[~inside]
    if not len(rows):
        return out
    area = shapely.area(g)
    outside = polygonal(shapely.difference(g, pgeom[pidx]))
    out_area = shapely.area(outside)
    sel = out_area > AREA_FLOOR_M2
    rows, pidx, g, area, outside, out_area = (x[sel] for x in (rows, pidx, g, area, outside, out_area))
    # which other parents the outside parts fall in
    oi, oq = ptree.query(outside, predicate="intersects")
    cand: dict[int, list[int]] = defaultdict(list)
    for i, q in zip(oi, oq, strict=True):
        if q != pidx[i]:
            cand[i].append(q)
    for k, r in enumerate(rows):
        label, home = plan.labels[r], codes[pidx[k]]
        others = cand.get(k, [])
        pieces_in = [polygonal(np.array([shapely.intersection(outside[k], pgeom[q])]))[0]
                     for q in others]
        in_area = np.array([p.area for p in pieces_in]) if pieces_in else np.zeros(0)
        share_home = 1.0 - out_area[k] / area[k]
        if len(in_area) and in_area.max() > area[k] * share_home:
            best = others[int(np.argmax(in_area))]
            pct = 100.0 * in_area.max() / area[k]
            out.append(Finding(
                "wrong_parent", ERROR, (label,), round(100 * share_home, 1), "% in named community",
                f"grid {label} is under community {home} but {pct:.0f}% of it lies in community "
                f"{codes[best]}", geometry=g[k], parent=home))
            continue
        for q, piece, a in zip(others, pieces_in, in_area, strict=True):
            if a <= AREA_FLOOR_M2:
                continue
            w = float(widths(np.array([piece]), tol.gap_width_m)[0])
            noise = bool(w < tol.gap_width_m or a < tol.outside_parent_m2)
            msg = (f"grid {label} (community {home}) reaches {_fmt(a)} m² into community "
                   f"{codes[q]} ({_wide(w, w < tol.gap_width_m)})")
            if noise:
                msg += "; below tolerance: digitising noise"
            out.append(Finding("crosses_parent", WARNING if noise else ERROR, (label,), float(a),
                               "m²", msg, geometry=piece, parent=home, noise=noise, width_m=w))
        beyond = outside[k]
        if others:
            beyond = shapely.difference(beyond, shapely.union_all(pgeom[others]))
        beyond = polygonal(np.array([beyond]))[0]
        ba = beyond.area
        if ba > AREA_FLOOR_M2:
            w = float(widths(np.array([beyond]), tol.gap_width_m)[0])
            noise = bool(w < tol.gap_width_m or ba < tol.outside_parent_m2)
            msg = (f"grid {label} has {_fmt(ba)} m² outside every community "
                   f"({_wide(w, w < tol.gap_width_m)})")
            if noise:
                msg += "; below tolerance: digitising noise"
            out.append(Finding("outside_parent", WARNING if noise else ERROR, (label,), float(ba),
                               "m²", msg, geometry=beyond, parent=home, noise=noise, width_m=w))
    return out


def _check_shape(plan: _Plan, tol: Any) -> list[Finding]:
    out = []
    g = plan.geom[plan.uidx]
    nparts = shapely.get_num_geometries(g)
    area = shapely.area(g)
    for k in np.flatnonzero(nparts > 1):
        r = plan.uidx[k]
        parts = shapely.get_parts(g[k])
        parts = parts[shapely.area(parts) > AREA_FLOOR_M2]  # overlay residue is no piece
        if len(parts) < 2:
            continue
        pa = shapely.area(parts)
        order = np.argsort(-pa)
        rest = shapely.multipolygons(parts[order[1:]])
        sizes = ", ".join(_fmt(x) for x in pa[order[1:]][:5])
        out.append(Finding(
            "multipart", ERROR, (plan.labels[r],), float(len(parts)), "parts",
            f"grid {plan.labels[r]} is in {len(parts)} separate pieces (main piece "
            f"{_fmt(pa[order[0]])} m², detached {sizes} m²)",
            geometry=rest, parent=plan.named[r] or None))
    # single polygons whose lobes are joined only by a neck narrower than gap_width_m
    single = np.flatnonzero(nparts == 1)
    if len(single) and tol.gap_width_m > 0:
        r_neck = tol.gap_width_m / 2.0
        opened = shapely.buffer(g[single], -r_neck, quad_segs=2)
        lobes, li = shapely.get_parts(opened, return_index=True)
        big = shapely.area(lobes) > tol.sliver_area_m2
        counts = np.bincount(li[big], minlength=len(single))
        for k in np.flatnonzero(counts > 1):
            r = plan.uidx[single[k]]
            mine = lobes[(li == k) & big]
            mine = mine[np.argsort(-shapely.area(mine))]
            rest = shapely.intersection(
                shapely.buffer(shapely.union_all(mine[1:]), r_neck * 1.5), g[single[k]])
            out.append(Finding(
                "multipart", WARNING, (plan.labels[r],), float(len(mine)), "parts",
                f"grid {plan.labels[r]} is {len(mine)} pieces joined only by a neck narrower "
                f"than {tol.gap_width_m:g} m (detached {_fmt(rest.area)} m²)",
                geometry=rest, parent=plan.named[r] or None))
    perim = shapely.length(g)
    thin = np.where(perim > 0, 4 * np.pi * area / np.maximum(perim, 1e-12) ** 2, 1.0)
    tiny = area < tol.sliver_area_m2
    # thin AND small: an elongated grid of several hectares (along a river) is a planning choice
    skinny = (thin < tol.sliver_thinness) & (area < SLIVER_THIN_MAX_FACTOR * tol.sliver_area_m2)
    for k in np.flatnonzero(tiny | skinny):
        r = plan.uidx[k]
        if tiny[k]:
            msg = (f"grid {plan.labels[r]} is tiny: {_fmt(area[k])} m² "
                   f"(< {tol.sliver_area_m2:g} m²)")
            measure, unit = float(area[k]), "m²"
        else:
            msg = (f"grid {plan.labels[r]} is a thin sliver: compactness {thin[k]:.3f} "
                   f"(< {tol.sliver_thinness:g}), {_fmt(area[k])} m²")
            measure, unit = float(thin[k]), "compactness"
        out.append(Finding("sliver", ERROR, (plan.labels[r],), measure, unit, msg,
                           geometry=g[k], parent=plan.named[r] or None))
    return out


@dataclass
class _Items:
    grid_of: np.ndarray  # grid row (plan position) of each item, -1 when none
    hits: np.ndarray  # number of grids each item falls in (see locate_points)


def locate_points(plan: _Plan, points: np.ndarray) -> _Items:
    """Which grid each point falls in.

    A point on the shared edge of two grids is in one of them (the first in plan order); a point
    in the interior of two grids (an overlap) counts as in both (``hits == 2``).
    """
    n = len(points)
    grid_of = np.full(n, -1, dtype=int)
    hits = np.zeros(n, dtype=int)
    ok = ~(shapely.is_missing(points) | shapely.is_empty(points))
    idx = np.flatnonzero(ok)
    if len(idx):
        pi, gi = plan.tree.query(points[idx], predicate="intersects")
        order = np.lexsort((gi, pi))
        pi, gi = pi[order], gi[order]
        first = np.r_[True, pi[1:] != pi[:-1]]
        grid_of[idx[pi[first]]] = plan.uidx[gi[first]]
        hits[idx] = np.minimum(np.bincount(pi, minlength=len(idx)), 1)
        multi = np.bincount(pi, minlength=len(idx))[pi] > 1
        if multi.any():
            inner = shapely.contains_properly(plan.geom[plan.uidx][gi[multi]], points[idx][pi[multi]])
            cnt = np.bincount(pi[multi][inner], minlength=len(idx))
            more = cnt > 1
            hits[idx[more]] = cnt[more]
    return _Items(grid_of=grid_of, hits=hits)


def representative_points(geoms: np.ndarray) -> np.ndarray:
    """Point on surface for polygons, the point itself for points."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out[ok] = shapely.point_on_surface(geoms[ok])
    return out


def _item_ids(df: pd.DataFrame, col: str) -> np.ndarray:
    if col in df:
        return as_codes(df[col])
    return np.array([f"#{i}" for i in range(len(df))], dtype=object)



def _grids_holding(plan: Any, pts: np.ndarray) -> dict[int, tuple[str, ...]]:
    """Sorted labels of the grids whose interior holds each point (keyed by point position)."""
    pi, gi = plan.tree.query(pts, predicate="within")
    per: dict[int, list[str]] = defaultdict(list)
    for p, g in zip(pi, gi, strict=True):
        per[p].append(plan.labels[plan.uidx[g]])
    return {k: tuple(sorted(v)) for k, v in per.items()}


def _check_buildings(plan: _Plan, b: gpd.GeoDataFrame) -> tuple[list[Finding], np.ndarray]:
    geoms = np.asarray(b.geometry.array, dtype=object)
    pts = representative_points(geoms)
    items = locate_points(plan, pts)
    ids = _item_ids(b, schema.BUILDING_ID)
    hh = (pd.to_numeric(b[schema.HOUSEHOLDS], errors="coerce").fillna(0).to_numpy()
          if schema.HOUSEHOLDS in b else np.zeros(len(b)))
    comm = as_codes(b[schema.COMMUNITY_CODE]) if schema.COMMUNITY_CODE in b else None
    out = []
    for i in np.flatnonzero(items.hits == 0):
        if shapely.is_missing(geoms[i]) or shapely.is_empty(geoms[i]):
            msg = f"building {ids[i]} has no geometry and so lies in no grid"
        else:
            msg = f"building {ids[i]} ({int(hh[i])} households) lies in no grid"
        out.append(Finding("building_unassigned", ERROR, (), float(hh[i]), "households", msg,
                           geometry=geoms[i], parent=(comm[i] or None) if comm is not None else None,
                           item=ids[i]))
    multi = np.flatnonzero(items.hits > 1)
    if len(multi):
        per = _grids_holding(plan, pts[multi])
        for k, i in enumerate(multi):
            gl = per[k]
            out.append(Finding("building_in_two", ERROR, gl, float(hh[i]), "households",
                               f"building {ids[i]} ({int(hh[i])} households) lies in "
                               f"{len(gl)} grids: {_names(gl)}", geometry=geoms[i],
                               parent=plan.named[items.grid_of[i]] or None, item=ids[i]))
    # footprints shared by two grids
    poly = np.flatnonzero(np.isin(shapely.get_type_id(geoms), _POLYGONAL) & (items.hits == 1))
    if len(poly):
        bi, gi = plan.tree.query(geoms[poly], predicate="intersects")
        cnt = np.bincount(bi, minlength=len(poly))
        sel = cnt[bi] > 1
        bi, gi = bi[sel], gi[sel]
        if len(bi):
            inter = shapely.area(shapely.intersection(geoms[poly][bi], plan.geom[plan.uidx][gi]))
            barea = shapely.area(geoms[poly][bi])
            df = pd.DataFrame({"b": bi, "g": gi, "a": inter, "share": inter / np.maximum(barea, 1e-12)})
            df = df.sort_values(["b", "share", "g"], ascending=[True, False, True])
            df["rank"] = df.groupby("b").cumcount()
            second = df[df["rank"] == 1]
            bad = second[(second["share"] >= SPLIT_SHARE) & (second["a"] >= SPLIT_MIN_M2)]
            for b_local in bad["b"].to_numpy():
                i = poly[b_local]
                part = df[(df["b"] == b_local) & (df["a"] > 0)]
                gl = tuple(plan.labels[plan.uidx[g]] for g in part["g"])
                shares = ", ".join(f"{100 * s:.0f}%" for s in part["share"])
                out.append(Finding(
                    "building_split", WARNING, gl, float(part["share"].iloc[1] * 100), "%",
                    f"building {ids[i]} is split by a grid line between {_names(gl)} "
                    f"({shares}); its {int(hh[i])} households count in {gl[0]} only",
                    geometry=geoms[i], parent=plan.named[items.grid_of[i]] or None, item=ids[i]))
    return out, items.grid_of


def _check_addresses(plan: _Plan, a: gpd.GeoDataFrame) -> list[Finding]:
    geoms = np.asarray(a.geometry.array, dtype=object)
    pts = representative_points(geoms)
    items = locate_points(plan, pts)
    ids = _item_ids(a, schema.ADDRESS_ID)
    text = a[schema.ADDRESS].astype(str).to_numpy() if schema.ADDRESS in a else None
    comm = as_codes(a[schema.COMMUNITY_CODE]) if schema.COMMUNITY_CODE in a else None
    out = []
    for i in np.flatnonzero(items.hits == 0):
        name = f"address {ids[i]}" + (f" ({text[i]})" if text is not None else "")
        why = "has no coordinates" if shapely.is_missing(geoms[i]) or shapely.is_empty(geoms[i]) \
            else "lies in no grid"
        out.append(Finding("address_unassigned", ERROR, (), None, "", f"{name} {why}",
                           geometry=geoms[i], parent=(comm[i] or None) if comm is not None else None,
                           item=ids[i]))
    multi = np.flatnonzero(items.hits > 1)
    if len(multi):
        per = _grids_holding(plan, pts[multi])
        for k, i in enumerate(multi):
            gl = per[k]
            name = f"address {ids[i]}" + (f" ({text[i]})" if text is not None else "")
            out.append(Finding("address_in_two", ERROR, gl, float(len(gl)), "grids",
                               f"{name} lies in {len(gl)} grids: {_names(gl)}",
                               geometry=geoms[i], parent=plan.named[items.grid_of[i]] or None,
                               item=ids[i]))
    return out


#: Chinese spellings of grid kinds found in office tables.
KIND_VALUES = {
    "基础网格": "basic", "基础": "basic", "综合网格": "basic", "普通网格": "basic",
    "学校": "school", "校园": "school", "医院": "hospital", "市场": "market",
    "农贸市场": "market", "集贸市场": "market", "产业园": "industrial_park",
    "产业园区": "industrial_park", "工业园": "industrial_park", "工业园区": "industrial_park",
    "园区": "industrial_park", "公园": "park", "景区": "park", "商务楼宇": "commercial",
    "楼宇": "commercial", "商圈": "commercial", "商业": "commercial", "商业综合体": "commercial",
}


def grid_kinds(gdf: pd.DataFrame) -> np.ndarray:
    """Kind of every grid, lower-case, Chinese names mapped (学校 → school); missing → basic."""
    if schema.KIND not in gdf:
        return np.full(len(gdf), "basic", dtype=object)
    kinds = pd.Series(gdf[schema.KIND], dtype="object").fillna("").astype(str).str.strip()
    kinds = kinds.map(lambda k: KIND_VALUES.get(k, k)).str.lower().to_numpy(dtype=object)
    return np.where(kinds == "", "basic", kinds).astype(object)


def _check_sizes(plan: _Plan, parents: gpd.GeoDataFrame | None, rules: Rules,
                 building_grid: np.ndarray | None, buildings: gpd.GeoDataFrame | None,
                 skipped: dict[str, str]) -> list[Finding]:
    gdf = plan.gdf
    n = len(gdf)
    kinds = grid_kinds(gdf)
    special_kinds = {k.lower() for k in rules.special.kinds}
    special = np.isin(kinds, list(special_kinds))
    out: list[Finding] = []
    for r in np.flatnonzero(~special & (kinds != "basic")):
        out.append(Finding("kind_unknown", WARNING, (plan.labels[r],), None, "",
                           f"grid {plan.labels[r]} has kind '{kinds[r]}', which is neither "
                           f"'basic' nor a special kind ({', '.join(sorted(special_kinds))})",
                           geometry=plan.geom[r] if plan.usable[r] else None,
                           parent=plan.named[r] or None))
    # area kind of each grid's community
    if parents is not None and schema.AREA_KIND in parents:
        ak = dict(zip(parents[schema.CODE], parents[schema.AREA_KIND].astype(str), strict=True))
        area_kind = np.array([ak.get(c, "urban") for c in plan.named], dtype=object)
    elif schema.AREA_KIND in gdf:
        area_kind = gdf[schema.AREA_KIND].fillna("urban").astype(str).to_numpy()
    else:
        area_kind = np.full(n, "urban", dtype=object)
    # measures: grid attributes, else counted from buildings
    values: dict[str, np.ndarray] = {}
    for col in (schema.HOUSEHOLDS, schema.POPULATION):
        v = (pd.to_numeric(gdf[col], errors="coerce").to_numpy(dtype=float) if col in gdf
             else np.full(n, np.nan))
        if building_grid is not None and buildings is not None and col in buildings:
            bv = pd.to_numeric(buildings[col], errors="coerce").fillna(0).to_numpy(dtype=float)
            ok = building_grid >= 0
            counted = np.bincount(building_grid[ok], weights=bv[ok], minlength=n)
            v = np.where(np.isnan(v), counted, v)
        values[col] = v
    if all(np.isnan(v).all() for v in values.values()):
        skipped["size"] = "no households/population columns and no buildings to count them"
        return out
    flags = _flags(gdf[schema.FLAG] if schema.FLAG in gdf else None, n)
    units = {schema.HOUSEHOLDS: "households", schema.POPULATION: "residents"}
    for r in range(n):
        prof = rules.profile_for(area_kind[r])
        label = plan.labels[r]
        geom = plan.geom[r] if plan.usable[r] else None
        basis = prof.measure
        val = values[basis][r]
        if np.isnan(val):
            if not special[r]:
                out.append(Finding("size_unknown", WARNING, (label,), None, "",
                                   f"grid {label} has no {units[basis]} value", geometry=geom,
                                   parent=plan.named[r] or None))
            continue
        lo, _ = prof.bounds
        if not special[r] and val < lo:
            allowed = FLAG_BELOW_MIN in flags[r]
            out.append(Finding(
                "size_below_min", WARNING if allowed else ERROR, (label,), float(val), units[basis],
                f"grid {label} has {val:,.0f} {units[basis]}, below the {prof.name} minimum "
                f"{lo:,.0f}" + (" (flagged below_min_allowed)" if allowed else ""),
                geometry=geom, parent=plan.named[r] or None))
        caps = dict(prof.caps)
        if special[r] and rules.special.max_households is not None:
            caps[schema.HOUSEHOLDS] = float(rules.special.max_households)
        for col, cap in caps.items():
            v = values[col][r]
            if not np.isnan(v) and v > cap:
                allowed = FLAG_ABOVE_MAX in flags[r]
                who = "special" if special[r] else prof.name
                out.append(Finding(
                    "size_above_max", WARNING if allowed else ERROR, (label,), float(v), units[col],
                    f"grid {label} has {v:,.0f} {units[col]}, above the {who} maximum {cap:,.0f}"
                    + (" (flagged above_max_allowed)" if allowed else ""),
                    geometry=geom, parent=plan.named[r] or None))
    return out


def _check_codes(plan: _Plan, scheme: Any, has_community: bool, kinds: np.ndarray,
                 known_kinds: set[str]) -> list[Finding]:
    """Codes against the code scheme (:class:`gridgis.codes.CodeScheme`, default 12 + 3 digits,
    basic serials 001–899, special 900–999)."""
    sch = load_scheme(scheme)
    out: list[Finding] = []
    codes, named = plan.codes, plan.named
    n = len(codes)
    parsed = parse_codes(codes, sch)
    valid = parsed["valid"].to_numpy(dtype=bool)
    comm = np.array(["" if pd.isna(x) else str(x) for x in parsed[schema.COMMUNITY_CODE]],
                    dtype=object)
    serial = parsed["serial"].to_numpy(dtype=float, na_value=np.nan)
    rkey = np.array(["" if pd.isna(x) else str(x) for x in parsed["range_key"]], dtype=object)
    want_key = np.array([sch.range_key(k) for k in kinds], dtype=object)

    def geom_of(r: int):
        return plan.geom[r] if plan.usable[r] else None

    wellformed = np.zeros(n, dtype=bool)
    width = sch.parent_length + len(sch.separator) + sch.serial_width
    for r in range(n):
        c = codes[r]
        if not c:
            why = "has no code"
        elif not valid[r]:
            ranges = ", ".join(f"{k} {v.prefix}{v.start:0{sch.serial_width}d}–"
                               f"{v.prefix}{v.stop:0{sch.serial_width}d}"
                               for k, v in sch.ranges.items())
            why = (f"has code '{c}', which is not a {sch.parent_length}-digit community code "
                   f"followed by a serial ({width} characters; {ranges})")
        elif kinds[r] in known_kinds and rkey[r] != want_key[r] \
                and sch.ranges[rkey[r]] != sch.ranges[want_key[r]]:
            rng = sch.ranges[want_key[r]]
            why = (f"has code '{c}' with a serial of the {rkey[r]} range, but its kind "
                   f"'{kinds[r]}' is numbered {rng.prefix}{rng.start:0{sch.serial_width}d}–"
                   f"{rng.prefix}{rng.stop:0{sch.serial_width}d}")
        else:
            wellformed[r] = True
            continue
        out.append(Finding("code_malformed", ERROR, (plan.labels[r],), None, "",
                           f"grid {plan.labels[r]} {why}", geometry=geom_of(r),
                           parent=named[r] or None))
    s = pd.Series(codes)
    dup = s[(s != "") & s.duplicated(keep=False)]
    for code, grp in dup.groupby(dup, sort=True):
        rows = grp.index.to_numpy()
        geoms = [plan.geom[r] for r in rows if plan.usable[r]]
        out.append(Finding("code_duplicate", ERROR, (str(code),), float(len(rows)), "grids",
                           f"code {code} is used by {len(rows)} grids (rows "
                           f"{', '.join(map(str, rows[:6]))})",
                           geometry=shapely.union_all(geoms) if geoms else None,
                           parent=named[rows[0]] or None))
    if has_community:
        for r in np.flatnonzero(wellformed):
            if named[r] and comm[r] != named[r]:
                out.append(Finding(
                    "code_prefix", ERROR, (plan.labels[r],), None, "",
                    f"grid {plan.labels[r]} has code prefix {comm[r]} but community_code "
                    f"{named[r]}", geometry=geom_of(r), parent=named[r]))
    # serial order: inside a community and a serial range, a grid clearly north-west of another
    # must carry the lower serial (true of any west→east, north→south reading order)
    ok = wellformed & plan.usable & ~s.duplicated(keep=False).to_numpy()
    rows = np.flatnonzero(ok)
    if len(rows) > 1:
        cen = shapely.centroid(plan.geom[rows])
        pool = [f"{sch.ranges[k].prefix}|{sch.ranges[k].start}" for k in rkey[rows]]
        df = pd.DataFrame({
            "r": rows, "prefix": comm[rows], "pool": pool, "serial": serial[rows],
            "x": shapely.get_x(cen), "y": shapely.get_y(cen),
            "size": np.sqrt(shapely.area(plan.geom[rows])),
        })
        df["margin"] = np.maximum(1.0, 0.1 * df.groupby("prefix")["size"].transform("median"))
        pairs = df.merge(df, on=["prefix", "pool"], suffixes=("_a", "_b"))
        bad = pairs[(pairs["serial_a"] < pairs["serial_b"])
                    & (pairs["x_b"] < pairs["x_a"] - pairs["margin_a"])
                    & (pairs["y_b"] > pairs["y_a"] + pairs["margin_a"])]
        for prefix, grp in bad.groupby("prefix", sort=True):
            involved = sorted({plan.labels[r] for r in np.r_[grp["r_a"], grp["r_b"]]})
            ex = grp.iloc[0]
            la, lb = plan.labels[int(ex["r_a"])], plan.labels[int(ex["r_b"])]
            rows_involved = sorted(set(grp["r_a"]) | set(grp["r_b"]))
            out.append(Finding(
                "code_order", WARNING, tuple(involved), float(len(grp)), "pairs",
                f"community {prefix}: serials are not west→east, north→south — e.g. grid {lb} "
                f"lies north-west of grid {la} but has the higher serial ({len(grp)} such pairs)",
                geometry=shapely.union_all([plan.geom[int(r)] for r in rows_involved]),
                parent=prefix))
    return out


# ---- entry point ---------------------------------------------------------------------------------


def validate(
    grids: gpd.GeoDataFrame,
    parents: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    addresses: gpd.GeoDataFrame | pd.DataFrame | None = None,
    rules: Rules | dict | str | None = None,
    *,
    scheme: Any = None,
) -> ValidationReport:
    """Check a grid plan and explain every problem found.

    Parameters
    ----------
    grids
        The plan: ``grid_code``, ``community_code`` (else taken from the code prefix), ``kind``,
        ``households``, ``population``, ``flag`` and polygon geometry, with a CRS. Chinese or
        other known headers are accepted (:func:`gridgis.schema.normalize_columns`).
    parents
        Communities (``code``, ``area_kind``, polygons). Enables the gap-against-boundary,
        crossing and nesting checks and picks the size profile of each grid (urban/rural).
    buildings
        Buildings (``building_id``, ``households``, ``population``, polygons or points): each
        must fall in exactly one grid; used to count households when a grid has no value.
    addresses
        Address points (GeoDataFrame, or a table with WGS84 ``lon``/``lat``): each must fall in
        exactly one grid.
    rules
        Rules file path, mapping or :class:`~gridgis.rules.Rules` (defaults when ``None``).
    scheme
        Grid-code scheme (:class:`gridgis.codes.CodeScheme`, mapping or TOML path); default
        15 digits = 12-digit community code + 3-digit serial, basic 001–899, special 900–999.

    Returns
    -------
    ValidationReport
        ``report.ok`` is False when any error was found; see :mod:`gridgis.findings`.

    Raises
    ------
    SchemaError, CRSError, GeometryError
        When a layer is not a GeoDataFrame, has no CRS, lacks required columns, or the plan has
        no geometry at all.

    Examples
    --------
    >>> report = validate(plan, parents=communities, buildings=buildings)  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
    >>> report.to_html("validation.html")  # doctest: +SKIP
    """
    rules = load_rules(rules)
    tol = rules.tolerances
    plan, findings, mcrs = prepare_grids(grids, scheme=scheme)
    skipped: dict[str, str] = {}
    p = prepare_parents(parents, mcrs) if parents is not None else None
    b = None
    if buildings is not None:
        b = schema.normalize_columns(_check_layer(buildings, "buildings"), source="buildings")
        b = _metric_layer(b, mcrs, "buildings").reset_index(drop=True)
    a = None
    if addresses is not None:
        a = schema.normalize_columns(_check_layer(addresses, "addresses", allow_frame=True),
                                     source="addresses")
        a = _metric_layer(a, mcrs, "addresses").reset_index(drop=True)

    if len(plan.uidx):
        findings += _check_overlaps(plan, tol)
        findings += _check_gaps(plan, p, tol)
        findings += _check_shape(plan, tol)
        if p is not None:
            findings += _check_nesting(plan, p, tol)
    if p is None:
        skipped["parents"] = ("no parent layer: gaps against the community boundary, crossings "
                              "and nesting not checked")
    building_grid = None
    if b is not None:
        bf, building_grid = _check_buildings(plan, b)
        findings += bf
    else:
        skipped["buildings"] = "no buildings given"
    if a is not None:
        findings += _check_addresses(plan, a)
    else:
        skipped["addresses"] = "no addresses given"
    findings += _check_sizes(plan, p, rules, building_grid, b, skipped)
    findings += _check_codes(plan, scheme, schema.COMMUNITY_CODE in plan.gdf,
                             grid_kinds(plan.gdf),
                             {"basic", *(k.lower() for k in rules.special.kinds)})

    shown = plan.gdf[[c for c in (schema.GRID_CODE, schema.COMMUNITY_CODE, schema.KIND)
                      if c in plan.gdf]].copy()
    shown[schema.GRID_CODE] = plan.labels
    shown = gpd.GeoDataFrame(shown, geometry=gpd.GeoSeries(plan.geom, crs=mcrs))
    return ValidationReport(
        findings=sort_findings(findings), crs=grids.crs, metric_crs=mcrs, grids=shown,
        parents=p, rules=rules, n_grids=len(plan.gdf), skipped=skipped,
    )


# ---- file inputs (CLI) ---------------------------------------------------------------------------


def read_inputs(
    plan: Any,
    *,
    layer: str | None = None,
    parents: Any = None,
    parents_layer: str | None = None,
    buildings: Any = None,
    buildings_layer: str | None = None,
    addresses: Any = None,
    addresses_layer: str | None = None,
    addresses_crs: str = "EPSG:4326",
) -> dict[str, Any]:
    """Read the files of a validation/repair run into the keyword arguments of :func:`validate`.

    ``addresses`` may be a point layer or a table with lon/lat columns (经度/纬度 …) in
    ``addresses_crs`` (an EPSG code, ``GCJ02`` or ``BD09``). Inputs not given are taken from
    layers stored beside the plan in its GeoPackage (``communities``, ``buildings``,
    ``addresses``), when present.
    """
    from . import io as gio
    from .errors import input_role

    out: dict[str, Any] = {"grids": read_plan(plan, layer)}
    context = plan_context(plan) if layer is None else {}
    with input_role("parents"):
        out["parents"] = (gio.read_vector(parents, layer=parents_layer, geometry="polygon")
                          if parents is not None else context.get("communities"))
    with input_role("buildings"):
        out["buildings"] = (gio.read_vector(buildings, layer=buildings_layer)
                            if buildings is not None else context.get("buildings"))
    with input_role("addresses"):
        out["addresses"] = (gio.read_points(addresses, crs=addresses_crs, layer=addresses_layer)
                            if addresses is not None else context.get("addresses"))
    return out


make_module_callable(__name__, validate)
