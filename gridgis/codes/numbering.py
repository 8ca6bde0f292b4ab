"""Numbering: the order of grids inside a community, the serial allocator and assign_codes.

Numbering order (default ``order = "rows"``: west→east, north→south)
--------------------------------------------------------------------
Inside a community each grid is represented by its centroid in a metric CRS. Rows are bands of
height ``h`` counted from the community's northern edge (the largest y of its grids):
``band = floor((y_top - y_centroid) / h)``. Grids are numbered band by band from north to
south and, inside a band, from west to east (increasing x); equal x is broken by y (north
first) and then by input position. ``h`` is :attr:`CodeScheme.band_height_m` when set, else
the typical grid width of the community, ``sqrt(median grid area)`` — so a regular layout of
grids is read like text, one row of grids per band. ``order = "columns"`` turns this by a
quarter: bands are columns counted from the western edge, numbered west to east, and inside a
column grids run north to south. Each serial range (basic, special …) is numbered separately
in that same order.

Serials
-------
:func:`allocate_codes` is the one allocator of new serials (:func:`assign_codes` and
:func:`gridgis.codes.recode` use it; an editor gives one new grid its code with
``allocate_codes([community], [kind], used=codes_in_use)``): per community and serial range,
new grids take the serials *after* the highest serial ever known there; only when the range is
exhausted are unused gaps filled (never a known code). A range that cannot hold its grids raises
:class:`~gridgis.errors.CodeSchemeError` naming the community.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._inputs import metric
from ..errors import CodeSchemeError
from ..i18n import tr
from ..rules import CodeScheme, SerialRange, load_rules
from ._plans import (
    check_plan,
    clean_kinds,
    community_codes,
    community_names,
    kinds_of,
    pools_of,
    with_codes,
)
from .scheme import RulesLike, SchemeLike, load_scheme, parse_codes

__all__ = ["numbering_order", "order_keys", "allocate_codes", "assign_codes"]


def order_keys(metric_geoms: np.ndarray, community: np.ndarray, scheme: CodeScheme,
               band_rel_eps: float | None = None) -> np.ndarray:
    """Position of every grid (metric polygons) in the numbering order of its community.

    ``band_rel_eps`` (default ``rules.tolerances.band_rel_eps``) is the slack, in bands, that
    keeps a centroid lying on a band edge in the upper (or western) band.

    Examples
    --------
    >>> import shapely
    >>> boxes = shapely.box([10, 0, 0], [0, 0, 10], [20, 10, 10], [10, 10, 20])
    >>> order_keys(boxes, np.array(["c", "c", "c"], dtype=object), CodeScheme()).tolist()
    [2, 1, 0]
    """
    n = len(metric_geoms)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    eps = load_rules().tolerances.band_rel_eps if band_rel_eps is None else band_rel_eps
    cent = shapely.centroid(metric_geoms)
    cx, cy = shapely.get_x(cent), shapely.get_y(cent)
    bounds = shapely.bounds(metric_geoms)
    rows = scheme.order == "rows"
    comm_id, _ = pd.factorize(pd.Series(community, dtype=object), sort=True)
    frame = pd.DataFrame({"c": comm_id, "edge": bounds[:, 3] if rows else -bounds[:, 0],
                          "area": shapely.area(metric_geoms)})
    grouped = frame.groupby("c")
    edge = grouped["edge"].transform("max").to_numpy()
    if scheme.band_height_m is None:
        h = np.sqrt(grouped["area"].transform("median").to_numpy())
        h = np.where(np.isfinite(h) & (h > 0), h, 1.0)
    else:
        h = np.full(n, float(scheme.band_height_m))
    across = (edge - cy) if rows else (edge + cx)  # distance from the north (west) edge
    band = np.floor(across / h + eps).astype(np.int64)
    along = (cx, -cy) if rows else (-cy, cx)
    order = np.lexsort((np.arange(n), along[1], along[0], band, comm_id))
    sorted_comm = comm_id[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_comm)) + 1]
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    return pos


def numbering_order(grids: gpd.GeoDataFrame, scheme: SchemeLike = None,
                    communities: gpd.GeoDataFrame | None = None, *,
                    rules: RulesLike = None) -> pd.Series:
    """Position (0, 1, 2 …) of every grid in the numbering order of its community.

    See the module notes for the exact rule; all grids of a community are ordered together
    (each serial range then numbers its grids in this order). ``scheme`` defaults to the
    ``[codes]`` of ``rules``.

    Examples
    --------
    >>> numbering_order(plan)                                        # doctest: +SKIP
    """
    sch = load_scheme(scheme, rules=rules)
    plan = check_plan(grids, "grids")
    community = community_codes(plan, sch, communities, "grids")
    geoms = np.asarray(metric(plan).geometry.array)
    eps = load_rules(rules).tolerances.band_rel_eps
    return pd.Series(order_keys(geoms, community, sch, eps), index=plan.index, name="order")


def _used_serials(codes: Iterable[object], scheme: CodeScheme
                  ) -> dict[tuple[str, SerialRange], set[int]]:
    """Serials held by ``codes`` per (community, serial range); codes outside the scheme
    hold none."""
    parsed = parse_codes(list(codes), scheme)
    valid = parsed[parsed["valid"]]
    used: dict[tuple[str, SerialRange], set[int]] = {}
    for comm, rkey, ser in zip(valid[schema.COMMUNITY_CODE], valid["range_key"], valid["serial"],
                               strict=True):
        used.setdefault((comm, scheme.ranges[rkey]), set()).add(int(ser))
    return used


def _free_serials(pool: SerialRange, taken: set[int]) -> np.ndarray:
    """Serials of ``pool`` after the highest taken one, then the untaken gaps below it."""
    top = max(taken, default=pool.start - 1)
    values = np.arange(pool.start, pool.stop + 1)
    known = np.isin(values, np.fromiter(taken, dtype=np.int64, count=len(taken)))
    return np.r_[values[values > top], values[(values <= top) & ~known]]


def _serials(community: np.ndarray, pools: np.ndarray, order: np.ndarray,
             used: Mapping[tuple[str, SerialRange], set[int]], names: Mapping[str, str],
             source: object) -> np.ndarray:
    """A serial for every grid: per (community, pool), in ``order``, from the free serials."""
    serial = np.full(len(community), -1, dtype=np.int64)
    if len(community) == 0:
        return serial
    pool_ids: dict[SerialRange, int] = {}
    for p in pools:
        pool_ids.setdefault(p, len(pool_ids))
    by_id = {i: p for p, i in pool_ids.items()}
    frame = pd.DataFrame({"c": community, "p": [pool_ids[p] for p in pools], "o": order,
                          "i": np.arange(len(community))})
    problems: list[str] = []
    for (comm, pid), grp in frame.sort_values(["c", "p", "o", "i"]).groupby(["c", "p"], sort=True):
        pool = by_id[pid]
        taken = used.get((comm, pool), set())
        avail = _free_serials(pool, taken)
        if len(avail) < len(grp):
            label = f"{comm} {names[comm]}" if names.get(comm) else comm
            problems.append(
                tr("community {community}: {n} grid(s) need serials in {start}..{stop} but only "
                   "{free} are free", community=label, n=len(grp), start=f"{pool.prefix}{pool.start}",
                   stop=pool.stop, free=len(avail))
                + (tr(" ({n} taken)", n=len(taken)) if taken else "")
            )
            continue
        serial[grp["i"].to_numpy()] = avail[:len(grp)]
    if problems:
        raise CodeSchemeError(
            tr("scheme cannot hold the grids: {problems}", problems="; ".join(problems)), source=source,
            where=problems[0].split(":")[0],
            fix=tr("widen serial_width or the serial range of that kind, or merge grids"),
        )
    return serial


def allocate_codes(communities: Iterable[object], kinds: Iterable[object] | None = None, *,
                   used: Iterable[object] = (), order: Iterable[int] | None = None,
                   scheme: SchemeLike = None, rules: RulesLike = None,
                   names: Mapping[str, str] | None = None,
                   source: object = "grids") -> np.ndarray:
    """New grid codes, one per new grid, never one of the ``used`` codes.

    This is the one serial allocator: per community and serial range (by kind), the new grids
    take, in ``order``, the serials after the highest serial that ``used`` holds there; only
    when the range is exhausted are unused gaps below it filled.

    Parameters
    ----------
    communities
        Community code of every new grid (text of the scheme's ``parent_length``).
    kinds
        Kind of every new grid (selects the serial range; missing → ``"basic"``).
    used
        Codes that must never be given again: the plan's other codes, retired codes, codes
        of earlier versions. Codes that do not fit the scheme are ignored.
    order
        Numbering position of every new grid (:func:`numbering_order`); default: input order.
    scheme, rules
        The code scheme, or rules whose ``[codes]`` to use (:func:`load_scheme`).
    names
        ``{community code: name}`` for error messages.
    source
        Named in error messages.

    Returns
    -------
    numpy.ndarray
        The new codes (object array, input order).

    Raises
    ------
    CodeSchemeError
        If a community has more new grids of a kind than free serials in its range.

    Examples
    --------
    >>> allocate_codes(["430302001001"] * 2, used=["430302001001004"]).tolist()
    ['430302001001005', '430302001001006']
    >>> allocate_codes(["430302001001"], ["school"]).tolist()
    ['430302001001900']
    """
    sch = load_scheme(scheme, rules=rules)
    community = np.asarray(list(communities), dtype=object)
    kind = clean_kinds([schema.BASIC] * len(community) if kinds is None else list(kinds))
    if len(kind) != len(community):
        raise CodeSchemeError(tr("{n_community} communities but {n_kind} kinds",
                                 n_community=len(community), n_kind=len(kind)),
                              source=source)
    rank = np.arange(len(community)) if order is None else np.asarray(list(order), np.int64)
    pools = pools_of(kind, sch)
    serial = _serials(community, pools, rank, _used_serials(used, sch), names or {}, source)
    if len(community) == 0:
        return np.array([], dtype=object)
    prefixes = pd.Series([p.prefix for p in pools], dtype=object)
    text = pd.Series(serial).astype(str).str.zfill(sch.serial_width)
    return (pd.Series(community, dtype=object) + sch.separator + prefixes + text
            ).to_numpy(dtype=object)


def assign_codes(grids: gpd.GeoDataFrame, scheme: SchemeLike = None,
                 communities: gpd.GeoDataFrame | None = None, *,
                 rules: RulesLike = None) -> gpd.GeoDataFrame:
    """Give every grid of a plan its code (``grid_code``), numbering each community afresh.

    Parameters
    ----------
    grids
        The plan (a GeoDataFrame of polygons with a CRS). ``community_code`` is used when
        present; grids without one are located in ``communities``. ``kind`` selects the serial
        range (missing → ``"basic"``).
    scheme
        A :class:`CodeScheme`, a mapping or a TOML file; ``None`` takes the ``[codes]`` of
        ``rules`` (default: 12-digit community code + 3-digit serial; basic 001–899, special
        900–999).
    communities
        Community polygons (``code``, optional ``name``): used to find missing community codes
        and to name communities in error messages.
    rules
        Rules (object, mapping or TOML file) giving the scheme and ``[tolerances]``.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``grids`` (same rows, order and CRS) with ``grid_code`` set and
        ``community_code`` filled. Serials follow the numbering order (module notes).

    Raises
    ------
    CodeSchemeError
        If a community code does not fit the scheme, or a community has more grids of a kind
        than its serial range holds (the message names the community).

    Examples
    --------
    >>> plan = assign_codes(grids)                                   # doctest: +SKIP
    >>> plan = assign_codes(grids, rules="rules.toml")               # doctest: +SKIP
    >>> plan = assign_codes(grids, {"separator": "-", "serial_width": 4,
    ...                             "ranges": {"basic": {"start": 1, "stop": 8999},
    ...                                        "special": {"start": 9000, "stop": 9999}}}
    ...                     )                                        # doctest: +SKIP
    """
    sch = load_scheme(scheme, rules=rules)
    plan = check_plan(grids, "grids")
    community = community_codes(plan, sch, communities, "grids")
    geoms = np.asarray(metric(plan).geometry.array)
    order = order_keys(geoms, community, sch, load_rules(rules).tolerances.band_rel_eps)
    codes = allocate_codes(community, kinds_of(plan), order=order, scheme=sch,
                           names=community_names(communities), source="grids")
    return with_codes(plan, community, codes)
