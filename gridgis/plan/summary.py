"""One row per community of a plan: grids, households, residents and findings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ..schema import BASIC
from ..validation import ERROR, Finding

__all__ = ["community_summary"]

_COUNTS = ("grids", "basic", "special")


def _finding_rows(findings: Iterable[Finding] | pd.DataFrame) -> list[tuple[str, tuple, str]]:
    """``(severity, grid codes, community)`` of findings given as objects or as a table
    (``severity``, ``grids`` as ``"a; b"`` text or a sequence, optional ``parent``)."""
    if isinstance(findings, pd.DataFrame):
        out = []
        for rec in findings.to_dict("records"):
            grids = rec.get("grids", "")
            if isinstance(grids, str):
                grids = tuple(c for c in grids.split("; ") if c)
            elif grids is None or (isinstance(grids, float) and np.isnan(grids)):
                grids = ()
            parent = rec.get("parent", "")
            parent = "" if parent is None or (isinstance(parent, float) and np.isnan(parent)) \
                else str(parent)
            out.append((str(rec.get("severity", "")), tuple(grids), parent))
        return out
    return [(f.severity, tuple(f.grids), f.parent or "") for f in findings]


def community_summary(grids: pd.DataFrame, communities: pd.DataFrame | None = None,
                      findings: Iterable[Finding] | pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per community: grids, households and residents, and findings.

    Parameters
    ----------
    grids
        A plan with ``grid_code``, ``community_code``, ``kind`` and ``households`` (and
        ``population`` when known).
    communities
        Optional community layer/table (``code``, ``name``, ``area_kind``): names and kinds,
        and a row for each community even without grids.
    findings
        Optional findings (:class:`~gridgis.validation.Finding` objects, or the findings table
        of a validation report): counted per community (its ``parent``, else the community of
        its first known grid).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``community_code``: ``name`` (empty without ``communities``),
        ``area_kind`` (with ``communities`` that have it),
        ``grids``, ``basic``, ``special``, ``households_min``/``_median``/``_max`` (of basic
        grids), ``households``, ``population`` and, with ``findings``, ``errors`` and
        ``warnings``. Formatting (column titles, languages) is left to the caller.

    Examples
    --------
    >>> import pandas as pd
    >>> g = pd.DataFrame({"grid_code": ["a1", "a2", "b1"], "community_code": ["a", "a", "b"],
    ...                   "kind": ["basic", "school", "basic"], "households": [300, 0, 280]})
    >>> t = community_summary(g)
    >>> t["grids"].to_dict(), t["households_max"].to_dict()
    ({'a': 2, 'b': 1}, {'a': 300.0, 'b': 280.0})
    """
    comm = grids[schema.COMMUNITY_CODE].astype(str)
    basic = grids[schema.KIND].astype(str) == BASIC
    hh = pd.to_numeric(grids[schema.HOUSEHOLDS], errors="coerce") if schema.HOUSEHOLDS in grids \
        else pd.Series(np.nan, index=grids.index)
    pop = pd.to_numeric(grids[schema.POPULATION], errors="coerce") \
        if schema.POPULATION in grids else pd.Series(np.nan, index=grids.index)
    out = pd.DataFrame({
        "grids": grids.groupby(comm).size(),
        "basic": basic.groupby(comm).sum().astype(int),
        "special": (~basic).groupby(comm).sum().astype(int),
        "households_min": hh.where(basic).groupby(comm).min(),
        "households_median": hh.where(basic).groupby(comm).median(),
        "households_max": hh.where(basic).groupby(comm).max(),
        "households": hh.groupby(comm).sum(min_count=1),
        "population": pop.groupby(comm).sum(min_count=1),
    })
    extra: list[str] = []
    names: dict[str, Any] = {}
    kinds: dict[str, Any] = {}
    if communities is not None and schema.CODE in communities:
        codes = communities[schema.CODE].astype(str)
        if schema.NAME in communities:
            names = dict(zip(codes, communities[schema.NAME], strict=True))
        if schema.AREA_KIND in communities:
            kinds = dict(zip(codes, communities[schema.AREA_KIND], strict=True))
        extra += [c for c in codes if c not in out.index]
    counts: dict[tuple[str, str], int] = {}
    if findings is not None:
        code_comm = dict(zip(grids[schema.GRID_CODE].astype(str), comm, strict=True))
        for severity, codes_f, parent in _finding_rows(findings):
            c = parent or next((code_comm[x] for x in codes_f if x in code_comm), "")
            key = (c, "errors" if severity == ERROR else "warnings")
            counts[key] = counts.get(key, 0) + 1
        extra += sorted({c for c, _ in counts} - set(out.index) - set(extra))
    if extra:
        out = out.reindex([*out.index, *dict.fromkeys(extra)])
    for col in _COUNTS:
        out[col] = out[col].fillna(0).astype(int)
    if findings is not None:
        for col in ("errors", "warnings"):
            out[col] = [counts.get((c, col), 0) for c in out.index]
    if kinds:
        out.insert(0, schema.AREA_KIND, [kinds.get(c, "") for c in out.index])
    out.insert(0, schema.NAME, [names.get(c, "") for c in out.index])
    out.index.name = schema.COMMUNITY_CODE
    return out
