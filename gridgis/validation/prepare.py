"""Preparation of the layers for the checks: the plan, its communities, codes and kinds."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._geometry import EMPTY_POLYGON, POLYGONAL_TYPES, polygonal, present
from .._inputs import as_layer
from .._inputs import metric as metric_layer
from ..codes import parse_codes
from ..i18n import tr
from ..schema import BASIC
from ._threads import min_chunk, threads, together
from .report import ERROR, Finding

__all__ = ["PreparedPlan", "prepare_grids", "prepare_parents", "as_codes", "grid_kinds",
           "KIND_VALUES"]


def as_codes(values: Any) -> np.ndarray:
    """Codes as clean strings: ``None``/NaN → ``""``, ``110101001001.0`` → ``"110101001001"``.

    >>> as_codes([110101001001.0, None, " 7 "]).tolist()
    ['110101001001', '', '7']
    """
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





@dataclass
class PreparedPlan:
    """A plan ready for the checks: metric CRS, canonical columns, clean polygons, a tree."""

    gdf: gpd.GeoDataFrame  # metric, canonical columns
    labels: np.ndarray  # grid code or "#row"
    codes: np.ndarray  # code strings ("" when missing)
    named: np.ndarray  # community each grid names ("" when none)
    geom: np.ndarray  # polygonal, valid, metric (empty when unusable)
    usable: np.ndarray  # bool
    uidx: np.ndarray  # positions of usable rows
    tree: shapely.STRtree  # over geom[uidx]
    _pairs: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def interior_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Pairs ``a < b`` (positions in ``uidx``) of grids whose interiors meet, found once.

        The overlap check reports them; the gap check skips the arithmetic shortcut for the
        communities of these grids.

        >>> a, b = plan.interior_pairs()  # doctest: +SKIP
        """
        with self._lock:  # the gap and the overlap checks ask from two threads: found once
            if self._pairs is None:
                self._pairs = self._find_pairs()
        return self._pairs

    def _find_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        ug = self.geom[self.uidx]

        def pairs(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
            a, b = self.tree.query(ug[lo:hi], predicate="intersects")
            a = a + lo
            keep = a < b
            a, b = a[keep], b[keep]
            meet = shapely.relate_pattern(ug[a], ug[b], "2********")
            return a[meet], b[meet]

        k = max(1, min(threads(), len(ug) // min_chunk()))
        cut = np.linspace(0, len(ug), k + 1).astype(int)
        parts = together([partial(pairs, cut[i], cut[i + 1]) for i in range(k)])
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])



def prepare_grids(grids: gpd.GeoDataFrame, *, scheme: Any = None,
                  metric: Any = None) -> tuple[PreparedPlan, list[Finding], Any]:
    """Normalise a plan, move it to a metric CRS and clean its geometry for the checks.

    Returns the prepared plan, the geometry findings (empty/invalid) and the metric CRS
    (``metric`` when given, else :func:`gridgis.crs.metric_crs` of the plan).

    Examples
    --------
    >>> plan, findings, mcrs = prepare_grids(grids)  # doctest: +SKIP
    >>> plan.labels[:3], [f.rule for f in findings]  # doctest: +SKIP
    """
    gdf = as_layer(grids, "grids", geometry=None, missing="keep")
    has = present(np.asarray(gdf.geometry.array, dtype=object))
    gdf = metric_layer(gdf, metric).reset_index(drop=True)
    mcrs = gdf.crs
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
    bad_type = has & ~np.isin(types, POLYGONAL_TYPES)
    invalid = has & ~bad_type & ~valid
    clean = geom.copy()
    clean[~has] = EMPTY_POLYGON
    for i in np.flatnonzero(invalid | bad_type):
        g = geom[i]
        if bad_type[i]:
            msg = tr("grid {grid} is a {type}, not a polygon", grid=labels[i], type=g.geom_type)
        else:
            msg = tr("grid {grid} has an invalid polygon: {reason}", grid=labels[i],
                     reason=shapely.is_valid_reason(g))
        fixed = g if valid[i] else shapely.make_valid(g, method="structure", keep_collapsed=False)
        clean[i] = polygonal(np.array([fixed], dtype=object))[0]
        findings.append(Finding("invalid_geometry", ERROR, (labels[i],), None, "", msg,
                                geometry=g, parent=named[i] or None))
    clean = polygonal(clean)
    area = shapely.area(clean)
    empty = area <= 0
    for i in np.flatnonzero(empty):
        why = (tr("grid {grid} has no geometry", grid=labels[i]) if not has[i]
               else tr("grid {grid} has zero area", grid=labels[i]))
        findings.append(Finding("empty_grid", ERROR, (labels[i],), 0.0, "m²", why,
                                geometry=None, parent=named[i] or None))
    clean[empty] = EMPTY_POLYGON
    usable = ~empty
    uidx = np.flatnonzero(usable)
    tree = shapely.STRtree(clean[uidx])
    tree.query(EMPTY_POLYGON)  # the tree is built now, not by the first of two threads
    plan = PreparedPlan(gdf=gdf, labels=labels, codes=codes, named=named, geom=clean, usable=usable,
                        uidx=uidx, tree=tree)
    return plan, findings, mcrs


def prepare_parents(parents: gpd.GeoDataFrame, mcrs: Any) -> gpd.GeoDataFrame:
    """Parent (community) layer in the metric CRS with ``code`` strings and valid polygons.

    >>> parents = prepare_parents(communities, plan_crs)  # doctest: +SKIP
    """
    p = as_layer(parents, "parents", geometry=None, required=[schema.CODE], missing="keep",
                 allow_empty=True)
    p = metric_layer(p, mcrs).reset_index(drop=True)
    p[schema.CODE] = as_codes(p[schema.CODE])
    g = np.asarray(p.geometry.array, dtype=object)
    g = np.where(shapely.is_missing(g), EMPTY_POLYGON, g)
    bad = ~shapely.is_valid(g)
    if bad.any():
        g[bad] = shapely.make_valid(g[bad], method="structure", keep_collapsed=False)
    g = polygonal(g)
    shapely.prepare(g)  # once, before checks read them side by side
    return p.set_geometry(gpd.GeoSeries(g, crs=p.crs))



#: Chinese spellings of grid kinds found in office tables.
KIND_VALUES = {
    "基础网格": BASIC, "基础": BASIC, "综合网格": BASIC, "普通网格": BASIC,
    "学校": "school", "校园": "school", "医院": "hospital", "市场": "market",
    "农贸市场": "market", "集贸市场": "market", "产业园": "industrial_park",
    "产业园区": "industrial_park", "工业园": "industrial_park", "工业园区": "industrial_park",
    "园区": "industrial_park", "公园": "park", "景区": "park", "商务楼宇": "commercial",
    "楼宇": "commercial", "商圈": "commercial", "商业": "commercial", "商业综合体": "commercial",
}


def grid_kinds(gdf: pd.DataFrame) -> np.ndarray:
    """Kind of every grid, lower-case, Chinese names mapped (学校 → school); missing → basic.

    >>> import pandas as pd
    >>> grid_kinds(pd.DataFrame({"kind": ["学校", None, "Park"]})).tolist()
    ['school', 'basic', 'park']
    """
    if schema.KIND not in gdf:
        return np.full(len(gdf), BASIC, dtype=object)
    kinds = pd.Series(gdf[schema.KIND], dtype="object").fillna("").astype(str).str.strip()
    mapped = kinds.map(KIND_VALUES)
    kinds = mapped.where(mapped.notna(), kinds).str.lower().to_numpy(dtype=object)
    return np.where(kinds == "", BASIC, kinds).astype(object)
