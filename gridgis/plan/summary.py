"""Roll-ups of a plan: one row per community (:func:`community_summary`) or per unit of any
level — grid, community, street, district (:func:`level_summary`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ..errors import GridGISError
from ..i18n import _, tr
from ..schema import BASIC
from ..validation import ERROR, Finding

__all__ = ["LEVELS", "community_summary", "grid_units", "level_summary"]

_COUNTS = ("grids", "basic", "special")


def _finding_rows(findings: Iterable[Finding] | pd.DataFrame) -> list[tuple[str, tuple, str, str]]:
    """``(severity, grid codes, community, rule)`` of findings given as objects or as a table
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
            out.append((str(rec.get("severity", "")), tuple(grids), parent,
                        str(rec.get("rule", ""))))
        return out
    return [(f.severity, tuple(f.grids), f.parent or "", f.rule) for f in findings]


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
        for severity, codes_f, parent, _ in _finding_rows(findings):
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


#: Levels a plan rolls up to, bottom up.
LEVELS = ("grid", "community", "street", "district")


def grid_units(grids: pd.DataFrame, communities: pd.DataFrame | None = None,
               scheme: Any = None) -> pd.DataFrame:
    """The unit of every level each grid belongs to: ``grid``, ``community``, ``street``,
    ``district`` codes (same index as ``grids``).

    The street of a grid is the ``parent_code`` of its community in ``communities`` when given,
    else the first digits of the community code (3 fewer than the community code of the code
    scheme); the district the first 6 fewer.

    Examples
    --------
    >>> import pandas as pd
    >>> g = pd.DataFrame({"grid_code": ["430302001002003"], "community_code": ["430302001002"]})
    >>> grid_units(g).iloc[0].tolist()
    ['430302001002003', '430302001002', '430302001', '430302']
    """
    from ..codes import load_scheme

    n = load_scheme(scheme).parent_length
    comm = _text(grids[schema.COMMUNITY_CODE]) if schema.COMMUNITY_CODE in grids else \
        _text(grids[schema.GRID_CODE]).str[:n]
    street = comm.str[:n - 3]
    if communities is not None and schema.PARENT_CODE in communities:
        up = dict(zip(_text(communities[schema.CODE]), _text(communities[schema.PARENT_CODE]),
                      strict=True))
        street = pd.Series([up.get(c) or s for c, s in zip(comm, street, strict=True)],
                           index=grids.index, dtype=object)
    return pd.DataFrame({"grid": _text(grids[schema.GRID_CODE]), "community": comm,
                         "street": street, "district": street.str[:n - 6]}, index=grids.index)


def _text(values: Any) -> pd.Series:
    s = pd.Series(values)
    return s.astype(object).where(s.notna(), "").astype(str).str.strip()


def _event_counts(grids: pd.DataFrame, events: pd.DataFrame | None, rules: Any) -> pd.DataFrame:
    """``events``, ``events_due``, ``events_on_time`` per grid (zeros without events)."""
    cols = ("events", "events_due", "events_on_time")
    if events is None:
        return pd.DataFrame(0, index=grids.index, columns=cols)
    from ..events import grid_stats

    st = grid_stats(events, grids[[schema.GRID_CODE]].assign(households=np.nan), rules=rules)
    return pd.DataFrame({"events": st["n_events"].to_numpy(), "events_due": st["n_due"].to_numpy(),
                         "events_on_time": st["n_on_time"].to_numpy()}, index=grids.index)


def level_summary(grids: pd.DataFrame, by: str = "community", *,
                  layers: dict[str, pd.DataFrame] | None = None,
                  findings: Iterable[Finding] | pd.DataFrame | None = None,
                  addresses: pd.DataFrame | None = None, events: pd.DataFrame | None = None,
                  rules: Any = None, scheme: Any = None) -> pd.DataFrame:
    """Roll a plan up to one level: one row per grid, community, street or the district.

    Parameters
    ----------
    grids
        A plan with ``grid_code``, ``community_code``, ``kind``, ``households`` (and
        ``population``).
    by
        ``"grid"``, ``"community"``, ``"street"`` or ``"district"``.
    layers
        Optional admin layers ``{"communities": …, "streets": …, "district": …}`` (``code``,
        ``name``, ``parent_code``): names, the street of each community, and a row for units
        without grids.
    findings
        Validation findings (objects or the findings table): ``errors`` and ``warnings`` per
        unit, each counted in the unit of its first grid (its ``parent`` community else).
    addresses
        Addresses with ``grid_code`` (assigned): ``addresses`` per unit.
    events
        Events with ``grid_code`` (assigned): ``events``, ``events_due`` (closed, or open past
        the deadline), ``events_on_time`` and ``on_time_share`` (on time / due), deadlines from
        ``rules``.

    Returns
    -------
    pandas.DataFrame
        Indexed by the unit code (index name ``by``): ``name``, ``parent`` (code of the unit
        above), ``children`` (units of the level below with grids), ``grids``, ``basic``,
        ``special``, one ``kind:<kind>`` count per special kind present, ``households``,
        ``population``, ``errors``, ``warnings``, ``size_findings`` (of the size rules),
        ``addresses``, ``events``, ``events_due``,
        ``events_on_time``, ``on_time_share``. Every count of a unit is the sum of its children.

    Examples
    --------
    >>> import pandas as pd
    >>> g = pd.DataFrame({"grid_code": ["430302001001001", "430302001002001", "430302002001001"],
    ...                   "community_code": ["430302001001", "430302001002", "430302002001"],
    ...                   "kind": ["basic", "school", "basic"], "households": [300, 0, 280]})
    >>> t = level_summary(g, "street")
    >>> t[["children", "grids", "special", "households"]].to_dict("index")["430302001"]
    {'children': 2, 'grids': 2, 'special': 1, 'households': 300.0}
    """
    if by not in LEVELS:
        raise GridGISError(tr("unknown level {value!r}", value=by), where="by",
                           fix=tr("use one of: {choices}", choices=", ".join(LEVELS)))
    layers = layers or {}
    units = grid_units(grids, layers.get("communities"), scheme)
    key = units[by]
    kinds = _text(grids[schema.KIND]).replace("", BASIC) if schema.KIND in grids else \
        pd.Series(BASIC, index=grids.index)
    num = {c: pd.to_numeric(grids[c], errors="coerce") if c in grids else
           pd.Series(np.nan, index=grids.index) for c in (schema.HOUSEHOLDS, schema.POPULATION)}
    per_grid = pd.DataFrame({"grids": 1, "basic": (kinds == BASIC).astype(int),
                             "special": (kinds != BASIC).astype(int),
                             **num}, index=grids.index)
    for k in sorted(set(kinds) - {BASIC}):
        per_grid[f"kind:{k}"] = (kinds == k).astype(int)
    per_grid = per_grid.join(_grid_findings(units, findings))
    per_grid["addresses"] = _grid_counts(units["grid"], addresses)
    per_grid = per_grid.join(_event_counts(grids, events, rules))
    out = per_grid.groupby(key, sort=True).sum(min_count=1)
    layer = layers.get({"community": "communities", "street": "streets"}.get(by, by))
    if layer is not None and schema.CODE in layer:
        extra = sorted(set(_text(layer[schema.CODE])) - set(out.index) - {""})
        out = out.reindex([*out.index, *extra])
    counts = [c for c in out.columns if c not in (schema.HOUSEHOLDS, schema.POPULATION)]
    out[counts] = out[counts].fillna(0).astype(int)
    out["on_time_share"] = out["events_on_time"] / out["events_due"].where(out["events_due"] > 0)
    below = LEVELS[LEVELS.index(by) - 1] if by != "grid" else None
    out.insert(0, "children", units.groupby(key)[below].nunique() if below else 0)
    parent = LEVELS[LEVELS.index(by) + 1] if by != "district" else None
    out.insert(0, "parent", units.groupby(key)[parent].first() if parent else "")
    out.insert(0, schema.NAME, _names(out.index, by, grids, layers))
    out.index.name = by
    return out


def _grid_findings(units: pd.DataFrame, findings: Any) -> pd.DataFrame:
    """``errors``/``warnings`` per grid row: a finding counts once, at its first known grid
    (else at the first grid of its ``parent`` community)."""
    out = pd.DataFrame(0, index=units.index, columns=["errors", "warnings", "size_findings"])
    if findings is None:
        return out
    row_of = {c: i for i, c in reversed(list(zip(units.index, units["grid"], strict=True)))}
    row_of_comm = {c: i for i, c in reversed(list(zip(units.index, units["community"],
                                                      strict=True)))}
    for severity, codes_f, parent, rule in _finding_rows(findings):
        row = next((row_of[c] for c in codes_f if c in row_of), row_of_comm.get(parent))
        if row is not None:
            out.loc[row, "errors" if severity == ERROR else "warnings"] += 1
            out.loc[row, "size_findings"] += rule.startswith("size_")
    return out


def _grid_counts(codes: pd.Series, table: pd.DataFrame | None) -> pd.Series:
    if table is None:
        return pd.Series(0, index=codes.index)
    if schema.GRID_CODE not in table:
        raise GridGISError(_("addresses have no grid_code column"), source="addresses",
                           fix=_("assign them to grids first (gridgis assign)"))
    n = _text(table[schema.GRID_CODE]).value_counts()
    return codes.map(n).fillna(0).astype(int)


def _names(index: pd.Index, by: str, grids: pd.DataFrame, layers: dict) -> list[str]:
    names: dict[str, str] = {}
    if by == "grid" and schema.GRID_NAME in grids:
        names = dict(zip(_text(grids[schema.GRID_CODE]), _text(grids[schema.GRID_NAME]),
                         strict=True))
    layer = layers.get({"community": "communities", "street": "streets"}.get(by, by))
    if layer is not None and schema.CODE in layer and schema.NAME in layer:
        names = dict(zip(_text(layer[schema.CODE]), _text(layer[schema.NAME]), strict=True))
    return [names.get(c, "") for c in index]
