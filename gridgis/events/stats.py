"""Per-grid event statistics and event counts over time.

:func:`grid_stats` turns events that carry a ``grid_code`` (see :func:`attach_grid_codes` or
:func:`gridgis.assignment.assign`) into one row per grid: counts by category, urgency and stage, the
rate per 100 households and the share of events closed within their deadline
(``rules.events.deadline_days`` by urgency). :func:`trend` counts events by day, week or month.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._geometry import present
from ..errors import GridGISError, SchemaError
from ..i18n import _, tr
from ..rules import Rules, load_rules
from .deadlines import deadlines
from .records import INVALID, STATUS

__all__ = ["attach_grid_codes", "grid_stats", "period_index", "trend"]


def _counts(ev: pd.DataFrame, col: str, levels: Iterable[str], prefix: str) -> pd.DataFrame:
    tab = pd.crosstab(ev[schema.GRID_CODE], ev[col].fillna("未知"))
    cols = list(levels) + [c for c in tab.columns if c not in set(levels)]
    tab = tab.reindex(columns=cols, fill_value=0)
    tab.columns = [f"{prefix}:{c}" for c in tab.columns]
    return tab


def grid_stats(
    events: pd.DataFrame,
    grids: gpd.GeoDataFrame,
    *,
    rules: Rules | str | Path | None = None,
    deadline_days: Mapping[str, float] | None = None,
    working_days: bool = False,
    as_of: Any = None,
    categories: Iterable[str] | None = None,
    households: str = schema.HOUSEHOLDS,
) -> gpd.GeoDataFrame:
    """Per-grid event statistics.

    Parameters
    ----------
    events
        Events with a ``grid_code`` column (from :func:`gridgis.assignment.assign` or
        :func:`attach_grid_codes`); rows whose ``status`` is ``invalid`` or whose grid code is
        empty/unknown are counted in ``result.attrs`` (``"unassigned"``), not in any grid.
    grids
        Grid layer with ``grid_code`` and ``households``.
    rules, deadline_days, working_days, as_of
        Deadline settings, see :func:`deadlines`.
    categories
        Category columns to always include (in this order), even when a category is absent.
    households
        Column of ``grids`` used for the rate denominator.

    Returns
    -------
    geopandas.GeoDataFrame
        ``grids`` (same rows, order and geometry) with columns ``n_events``,
        ``category:<c>``, ``urgency:<u>``, ``stage:<s>`` counts, ``rate_per_100hh`` (events per
        100 households; NaN for grids without households), ``n_closed``, ``n_due``,
        ``n_on_time``, ``n_overdue``, ``on_time_share`` (on time / due; NaN when none due) and
        ``median_close_days``. ``attrs`` holds ``unassigned`` (count), ``as_of`` and
        ``deadline_days``.

    Examples
    --------
    >>> from gridgis.events import attach_grid_codes, clean, grid_stats
    >>> ev = attach_grid_codes(clean(layers["events"]), grids)               # doctest: +SKIP
    >>> stats = grid_stats(ev, grids)                                        # doctest: +SKIP
    >>> stats[["grid_code", "n_events", "rate_per_100hh", "on_time_share"]]  # doctest: +SKIP
    """
    schema.require_columns(grids, [schema.GRID_CODE], source="grids")
    if schema.GRID_CODE not in events.columns:
        raise SchemaError(
            _("events have no grid_code column"),
            source="events",
            fix=_("assign them first: gridgis.assignment.assign(events, grids) or "
                  "events.attach_grid_codes"),
        )
    ev = pd.DataFrame(events.drop(columns=getattr(events, "_geometry_column_name", None) or [], errors="ignore"))
    for col in (schema.CATEGORY, schema.URGENCY, schema.STAGE, schema.REPORTED_AT, schema.CLOSED_AT):
        if col not in ev.columns:
            ev[col] = None
    codes = grids[schema.GRID_CODE].astype(str)
    gc = ev[schema.GRID_CODE].astype("string").str.strip()
    known = gc.isin(set(codes)).fillna(False).to_numpy(dtype=bool)
    if STATUS in ev.columns:
        known = known & (ev[STATUS] != INVALID).to_numpy(dtype=bool)
    unassigned = int((~known).sum())
    ev = ev.loc[known].copy()
    ev[schema.GRID_CODE] = gc[known].astype(str)
    dl = deadlines(ev, rules=rules, deadline_days=deadline_days, working_days=working_days, as_of=as_of)
    ev = ev.join(dl)
    g = ev.groupby(schema.GRID_CODE)
    base = pd.DataFrame(index=pd.Index(codes.unique(), name=schema.GRID_CODE))
    base["n_events"] = g.size()
    cats = list(categories or [])
    cats += sorted(c for c in ev[schema.CATEGORY].dropna().unique() if c not in set(cats))
    parts = [
        _counts(ev, schema.CATEGORY, cats, "category"),
        _counts(ev, schema.URGENCY, schema.URGENCY_LEVELS, "urgency"),
        _counts(ev, schema.STAGE, schema.STAGES, "stage"),
    ]
    if len(ev) == 0:
        parts = [
            pd.DataFrame(columns=[f"category:{c}" for c in cats]),
            pd.DataFrame(columns=[f"urgency:{u}" for u in schema.URGENCY_LEVELS]),
            pd.DataFrame(columns=[f"stage:{s}" for s in schema.STAGES]),
        ]
    for p in parts:
        base = base.join(p)
    agg = g.agg(
        n_closed=("closed", "sum"),
        n_due=("due", "sum"),
        n_on_time=("on_time", "sum"),
        n_overdue=("overdue", "sum"),
        median_close_days=("close_days", "median"),
    )
    base = base.join(agg)
    count_cols = [c for c in base.columns if c != "median_close_days"]
    base[count_cols] = base[count_cols].fillna(0).astype(int)
    base["on_time_share"] = base["n_on_time"] / base["n_due"].where(base["n_due"] > 0)
    out = grids.copy()
    joined = base.reindex(codes.to_numpy())
    hh = pd.to_numeric(grids[households], errors="coerce") if households in grids.columns else pd.Series(np.nan, index=grids.index)
    for col in joined.columns:
        out[col] = joined[col].to_numpy()
    rate = joined["n_events"].to_numpy() / hh.where(hh > 0).to_numpy() * 100.0
    out["rate_per_100hh"] = rate
    out.attrs.update(
        unassigned=unassigned,
        as_of=_as_of(ev, as_of),
        deadline_days=dict(load_rules(rules).events.deadline_days, **(deadline_days or {})),
    )
    return out


def _as_of(ev: pd.DataFrame, as_of: Any) -> pd.Timestamp:
    if as_of is not None:
        return pd.Timestamp(as_of)
    stamps = pd.concat([pd.to_datetime(ev[schema.REPORTED_AT]), pd.to_datetime(ev[schema.CLOSED_AT])]).dropna()
    return stamps.max() if len(stamps) else pd.NaT


_FREQ = {"D": "D", "W": "W-SUN", "M": "M"}


def period_index(times: Any, freq: str = "W") -> pd.Series:
    """Periods (day ``"D"``, ISO week Monday–Sunday ``"W"``, month ``"M"``) of a time column.

    Examples
    --------
    >>> from gridgis.events import period_index
    >>> period_index(["2025-03-04", "2025-03-10"], "W").astype(str).tolist()
    ['2025-03-03/2025-03-09', '2025-03-10/2025-03-16']
    """
    key = str(freq).upper()[:1]
    if key not in _FREQ:
        raise GridGISError(tr("unknown freq {freq!r}", freq=freq), fix=_("use 'D' (day), 'W' (week) or 'M' (month)"))
    t = pd.to_datetime(pd.Series(times), errors="coerce")
    return t.dt.to_period(_FREQ[key])


def trend(
    events: pd.DataFrame,
    *,
    freq: str = "W",
    by: str | None = None,
    time_col: str = schema.REPORTED_AT,
) -> pd.DataFrame:
    """Event counts by day, week (Mon–Sun) or month, optionally split by a column.

    Parameters
    ----------
    events
        Events with ``time_col`` (rows without a time are left out; their number is in
        ``result.attrs["no_time"]``).
    freq
        ``"D"``, ``"W"`` or ``"M"``.
    by
        Column to split by (``"grid_code"``, ``"category"``, ``"urgency"`` …) or ``None``.

    Returns
    -------
    pandas.DataFrame
        Index: ``period`` (every period from the first to the last event, zeros included);
        columns: one per group (or a single ``events`` column); values: counts. The index
        name is ``period`` and ``attrs["period_start"]`` lists each period's start date.

    Examples
    --------
    >>> import pandas as pd
    >>> from gridgis.events import trend
    >>> ev = pd.DataFrame({"reported_at": pd.to_datetime(["2025-03-04", "2025-03-20"]),
    ...                    "category": ["环境卫生", "治安隐患"]})
    >>> trend(ev, freq="W")["events"].tolist()
    [1, 0, 1]
    >>> list(trend(ev, freq="M", by="category").columns)
    ['治安隐患', '环境卫生']
    """
    schema.require_columns(events, [time_col], source="events")
    per = period_index(events[time_col], freq)
    has = per.notna().to_numpy()
    if not has.any():
        out = pd.DataFrame(columns=["events"])
        out.attrs["no_time"] = int(len(events))
        return out
    rng = pd.period_range(per[has].min(), per[has].max(), freq=per[has].iloc[0].freq)
    if by is None:
        tab = per[has].value_counts().reindex(rng, fill_value=0).to_frame("events")
    else:
        schema.require_columns(events, [by], source="events")
        groups = events[by].astype("string").fillna("未知").to_numpy()[has]
        tab = pd.crosstab(per[has].to_numpy(), groups).reindex(rng, fill_value=0)
        tab.columns.name = by
    tab.index.name = "period"
    tab.attrs["no_time"] = int((~has).sum())
    tab.attrs["period_start"] = [p.start_time for p in tab.index]
    return tab


def attach_grid_codes(events: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Put each event's ``grid_code`` on it (point in polygon), keeping every row.

    Uses :func:`gridgis.assignment.assign` (its ``match``/``match_reason``/``distance_m`` columns
    are added and explain unassigned rows; boundary points go to one grid only); without it, a
    plain point-in-polygon test. Events outside every grid get an empty ``grid_code``.

    Examples
    --------
    >>> from gridgis.events import attach_grid_codes, clean
    >>> ev = attach_grid_codes(clean(layers["events"]), grids)               # doctest: +SKIP
    >>> (ev["grid_code"] == "").sum()                                        # doctest: +SKIP
    """
    schema.require_columns(grids, [schema.GRID_CODE], source="grids")
    try:
        from ..assignment import assign
    except ImportError:
        assign = None
    if assign is not None:
        res = assign(events, grids)
        table = getattr(res, "table", res)
        out = events.copy()
        for col in (schema.GRID_CODE, schema.MATCH, schema.MATCH_REASON, schema.DISTANCE_M):
            if col in table.columns:
                values = table[col]
                if col == schema.GRID_CODE:
                    values = values.astype(object).where(values.notna(), "")
                out[col] = values.to_numpy()
        return out
    pts = events.to_crs(grids.crs) if events.crs != grids.crs else events
    pts = pts.drop(columns=[schema.GRID_CODE], errors="ignore")
    geoms = pts.geometry.array
    tree = shapely.STRtree(grids.geometry.array)
    ok = present(geoms)
    pi, gi = tree.query(geoms[ok], predicate="intersects")
    first = pd.Series(gi, index=pi).groupby(level=0).min()
    code = np.full(len(pts), "", dtype=object)
    idx_ok = np.flatnonzero(ok)
    code[idx_ok[first.index.to_numpy()]] = grids[schema.GRID_CODE].astype(str).to_numpy()[first.to_numpy()]
    out = events.copy()
    out[schema.GRID_CODE] = code
    return out
