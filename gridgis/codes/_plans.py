"""Plan checks and per-grid columns shared by the numbering, re-coding and table modules."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._geometry import first_hit
from .._inputs import as_layer
from ..errors import CodeSchemeError, GeometryError, SchemaError
from ..i18n import _, tr
from ..rules import CodeScheme

__all__ = [
    "code_series",
    "check_plan",
    "check_communities",
    "community_codes",
    "community_names",
    "kinds_of",
    "clean_kinds",
    "pools_of",
    "with_codes",
]


def code_series(values: Any, index: pd.Index | None = None, *, source: object = None,
                column: object = None) -> pd.Series:
    """Codes as text (:func:`gridgis.schema.code_factors`), missing values as ``None``."""
    idx, texts = schema.code_factors(values, source=source, column=column)
    out = np.r_[texts, np.array([None], dtype=object)][idx]
    return pd.Series(out, index=index, dtype=object)


def check_plan(grids: object, what: str) -> gpd.GeoDataFrame:
    """``grids`` if it is a GeoDataFrame of polygons with a CRS, else an error naming ``what``.

    Headers are left as they are (the plan is returned, and written back, unchanged).
    """
    return as_layer(grids, "grids", source=what, allow_empty=True, normalize=False)


def check_communities(communities: Any) -> gpd.GeoDataFrame:
    """Community polygons with canonical columns (``code`` required) and a CRS."""
    return as_layer(communities, "communities", required=[schema.CODE], missing="keep",
                    allow_empty=True)


def _locate_communities(plan: gpd.GeoDataFrame, need: np.ndarray, communities: Any,
                        what: str) -> np.ndarray:
    """Community code of the grids in ``need``, found by their points in ``communities``."""
    if communities is None:
        rows = list(plan.index[need][:10])
        raise SchemaError(
            tr("{sum} grid(s) have no community_code", sum=int(need.sum())), source=what,
            where=tr("rows {rows}", rows=rows),
            fix=_("add a community_code column or pass communities= to locate the grids"),
        )
    comm = check_communities(communities)
    pts = plan.geometry[need].to_crs(comm.crs).representative_point()
    tree = shapely.STRtree(np.asarray(comm.geometry.array))
    pi, ci = tree.query(np.asarray(pts.array), predicate="intersects")
    first = first_hit(pi, ci, int(need.sum()))
    comm_codes = code_series(comm[schema.CODE]).to_numpy()
    found = first >= 0
    if (~found).any():
        rows = list(plan.index[need][~found][:10])
        raise GeometryError(tr("{sum} grid(s) lie in no community", sum=int((~found).sum())),
                            source=what, where=tr("rows {rows}", rows=rows),
                            fix=_("check the CRS of grids and communities"))
    return comm_codes[first]


def community_codes(plan: gpd.GeoDataFrame, scheme: CodeScheme, communities: Any,
                    what: str) -> np.ndarray:
    """Community code of every grid as text (taken from the column or by location)."""
    if schema.COMMUNITY_CODE in plan.columns:
        codes = code_series(plan[schema.COMMUNITY_CODE], plan.index)
    else:
        codes = pd.Series(None, index=plan.index, dtype=object)
    need = codes.isna().to_numpy()
    if need.any():
        codes = codes.copy()
        codes[need] = _locate_communities(plan, need, communities, what)
    values = codes.to_numpy(dtype=object)
    bad = np.array([len(v) for v in values]) != scheme.parent_length
    if scheme.digits_only:
        bad |= ~np.array([v.isdigit() and v.isascii() for v in values], dtype=bool)
    if bad.any():
        sample = sorted(set(values[bad]))[:5]
        raise CodeSchemeError(
            tr("community code(s) {sample} do not have {parent_length} {v}",
               sample=sample, parent_length=scheme.parent_length, v='digits' if scheme.digits_only else 'characters'),
            source=what, where=tr("rows {rows}", rows=list(plan.index[bad][:10])),
            fix=_("use the 12-digit statistical division codes or set parent_length in the "
                  "scheme"),
        )
    return values


def community_names(communities: gpd.GeoDataFrame | None) -> dict[str, str]:
    """``{community code: name}`` of a communities layer (empty without one or its names)."""
    if communities is None:
        return {}
    comm = check_communities(communities)
    if schema.NAME not in comm.columns:
        return {}
    codes = code_series(comm[schema.CODE]).to_numpy()
    return {c: str(n) for c, n in zip(codes, comm[schema.NAME], strict=True) if c is not None}


def kinds_of(plan: gpd.GeoDataFrame) -> np.ndarray:
    """Kind of every grid as text (missing or blank → ``"basic"``)."""
    if schema.KIND not in plan.columns:
        return np.full(len(plan), schema.BASIC, dtype=object)
    return clean_kinds(plan[schema.KIND].astype(object).to_numpy())


def clean_kinds(kinds: Any) -> np.ndarray:
    """Kinds as stripped text; missing or blank → ``"basic"``."""
    kinds = np.asarray(kinds, dtype=object)
    kinds = np.where(pd.isna(kinds), schema.BASIC, kinds).astype(object)
    return np.array([str(k).strip() or schema.BASIC for k in kinds], dtype=object)


def pools_of(kinds: np.ndarray, scheme: CodeScheme) -> np.ndarray:
    """Serial range (the numbering pool) of every grid, by its kind."""
    if len(kinds) == 0:
        return np.array([], dtype=object)
    uniq, inv = np.unique(np.asarray(kinds).astype(str), return_inverse=True)
    pools = np.array([scheme.range_for(k) for k in uniq], dtype=object)
    return pools[inv.reshape(-1)]


def with_codes(plan: gpd.GeoDataFrame, community: np.ndarray, codes: np.ndarray
               ) -> gpd.GeoDataFrame:
    """Copy of ``plan`` with ``community_code`` and ``grid_code`` set (new columns go first)."""
    out = plan.copy()
    for name, values in ((schema.COMMUNITY_CODE, community), (schema.GRID_CODE, codes)):
        series = pd.Series(values, index=out.index, dtype=object)
        if name in out.columns:
            out[name] = series
        else:
            out.insert(0, name, series)
    return out

