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

__all__ = ["attach_grid_codes", "grid_stats", "grid_stats_file", "period_index", "trend"]


_COUNTED = ((schema.CATEGORY, "category"), (schema.URGENCY, "urgency"), (schema.STAGE, "stage"))
#: The columns the statistics read from an events file.
_READ = [schema.GRID_CODE, STATUS, schema.CATEGORY, schema.URGENCY, schema.STAGE,
         schema.REPORTED_AT, schema.CLOSED_AT, schema.ONSITE_AT]
_SUMS = {"n_closed": "closed", "n_due": "due", "n_on_time": "on_time", "n_overdue": "overdue"}


def _counts(tab: pd.DataFrame, levels: Iterable[str], prefix: str) -> pd.DataFrame:
    cols = list(levels) + [c for c in tab.columns if c not in set(levels)]
    tab = tab.reindex(columns=cols, fill_value=0)
    tab.columns = [f"{prefix}:{c}" for c in tab.columns]
    return tab


def _known(events: pd.DataFrame, codes: pd.Index) -> tuple[pd.DataFrame, int]:
    """Events of known grids (status not invalid), with clean codes; and how many are not."""
    ev = pd.DataFrame(events.drop(columns=getattr(events, "_geometry_column_name", None) or [],
                                  errors="ignore"))
    for col in (schema.CATEGORY, schema.URGENCY, schema.STAGE, schema.REPORTED_AT,
                schema.CLOSED_AT):
        if col not in ev.columns:
            ev[col] = None
    gc = ev[schema.GRID_CODE].astype("string").str.strip()
    known = codes.get_indexer(gc.to_numpy(dtype=object, na_value=None)) >= 0
    if STATUS in ev.columns:
        known = known & (ev[STATUS] != INVALID).to_numpy(dtype=bool)
    ev = ev.loc[known].copy()
    ev[schema.GRID_CODE] = gc[known].astype(str)
    return ev, int((~known).sum())


class _Tally:
    """Per-grid sums of events added a block at a time: running totals, and the close times of
    the closed events with the position of their grid (12 bytes an event) for the medians."""

    def __init__(self, codes: pd.Index) -> None:
        self.codes = codes
        self.unassigned = 0
        self.rows = 0
        self.totals: dict[str, Any] = {}
        self.close: list[tuple[np.ndarray, np.ndarray]] = []
        self.cats: set[Any] = set()
        self.stamps: list[Any] = []

    def add(self, ev: pd.DataFrame, unassigned: int) -> None:
        """Count one block of known events that carry their deadline columns."""
        self.unassigned += unassigned
        self.rows += len(ev)
        if not len(ev):
            return
        g = ev.groupby(schema.GRID_CODE)
        self._fold("n", g.size())
        for col, _prefix in _COUNTED:  # a cross table of counts, grids by values
            values = ev[col].astype(object).fillna(_("unknown"))
            self._fold(col, ev.groupby([ev[schema.GRID_CODE], values], observed=True).size()
                       .unstack(fill_value=0))
        self._fold("sums", g[list(_SUMS.values())].sum())
        days = ev["close_days"].to_numpy(dtype=float)
        closed = ~np.isnan(days)
        where = self.codes.get_indexer(ev[schema.GRID_CODE].to_numpy(dtype=object)[closed])
        self.close.append((where.astype(np.int32), days[closed]))
        self.cats.update(ev[schema.CATEGORY].dropna().unique())
        self.stamps.append(_as_of(ev, None))

    def _fold(self, key: str, part: Any) -> None:
        total = self.totals.get(key)
        self.totals[key] = part if total is None else pd.concat([total, part]).groupby(
            level=0, sort=False).sum()

    def summed(self, key: str) -> Any:
        """The running total of ``key`` (``n``, ``sums`` or a counted column)."""
        total = self.totals.get(key)
        if total is None:  # no block at all (an empty file)
            return (pd.Series(dtype=np.int64) if key == "n"
                    else pd.DataFrame(columns=list(_SUMS.values()), dtype=np.int64))
        if key not in dict(_COUNTED):
            return total
        try:  # values in sorted order, as a cross table gives them
            return total.reindex(columns=sorted(total.columns))
        except TypeError:  # values of several types
            return total

    def medians(self) -> pd.Series:
        """Median close time (days) of every grid with a closed event, by grid code."""
        where = np.concatenate([w for w, _ in self.close]) if self.close else np.zeros(0, int)
        days = np.concatenate([d for _, d in self.close]) if self.close else np.zeros(0)
        med = pd.Series(days).groupby(where).median()
        return pd.Series(med.to_numpy(), index=self.codes[med.index.to_numpy()],
                         name="close_days")


def _finish(tally: _Tally, grids: gpd.GeoDataFrame, codes: pd.Series, *, rules: Any,
            deadline_days: Mapping[str, float] | None, as_of: Any,
            categories: Iterable[str] | None, households: str) -> gpd.GeoDataFrame:
    """The per-grid table of the tallied events (see :func:`grid_stats`)."""
    base = pd.DataFrame(index=pd.Index(codes.unique(), name=schema.GRID_CODE))
    base["n_events"] = tally.summed("n")
    cats = list(categories or [])
    cats += sorted(c for c in tally.cats if c not in set(cats))
    levels = {schema.CATEGORY: cats, schema.URGENCY: schema.URGENCY_LEVELS,
              schema.STAGE: schema.STAGES}
    if tally.rows:
        parts = [_counts(tally.summed(col), levels[col], prefix) for col, prefix in _COUNTED]
    else:
        parts = [pd.DataFrame(columns=[f"{prefix}:{c}" for c in levels[col]])
                 for col, prefix in _COUNTED]
    for p in parts:
        base = base.join(p)
    agg = tally.summed("sums").rename(columns={v: k for k, v in _SUMS.items()})
    agg["median_close_days"] = tally.medians()
    base = base.join(agg)
    count_cols = [c for c in base.columns if c != "median_close_days"]
    base[count_cols] = base[count_cols].fillna(0).astype(int)
    base["on_time_share"] = base["n_on_time"] / base["n_due"].where(base["n_due"] > 0)
    out = grids.copy()
    joined = base.reindex(codes.to_numpy())
    hh = (pd.to_numeric(grids[households], errors="coerce") if households in grids.columns
          else pd.Series(np.nan, index=grids.index))
    for col in joined.columns:
        out[col] = joined[col].to_numpy()
    rate = joined["n_events"].to_numpy() / hh.where(hh > 0).to_numpy() * 100.0
    out["rate_per_100hh"] = rate
    stamps = pd.Series([t for t in tally.stamps if pd.notna(t)], dtype="datetime64[ns]")
    out.attrs.update(
        unassigned=tally.unassigned,
        as_of=pd.Timestamp(as_of) if as_of is not None else (
            stamps.max() if len(stamps) else pd.NaT),
        deadline_days=dict(load_rules(rules).events.deadline_days, **(deadline_days or {})),
    )
    return out


def grid_stats(
    events: pd.DataFrame,
    grids: gpd.GeoDataFrame,
    *,
    rules: Rules | str | Path | None = None,
    deadline_days: Mapping[str, float] | None = None,
    working_days: bool | None = None,
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
    _require_codes(events.columns, "events")
    codes = grids[schema.GRID_CODE].astype(str)
    ev, unassigned = _known(events, pd.Index(codes.unique()))
    dl = deadlines(ev, rules=rules, deadline_days=deadline_days, working_days=working_days,
                   as_of=as_of)
    tally = _Tally(pd.Index(codes.unique()))
    tally.add(ev.join(dl), unassigned)
    return _finish(tally, grids, codes, rules=rules, deadline_days=deadline_days, as_of=as_of,
                   categories=categories, households=households)


def _require_codes(columns: Any, source: object) -> None:
    if schema.GRID_CODE not in columns:
        raise SchemaError(
            _("events have no grid_code column"),
            source=source,
            fix=_("assign them first: gridgis.assignment.assign(events, grids) or "
                  "events.attach_grid_codes"),
        )


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
        groups = events[by].astype("string").fillna(_("unknown")).to_numpy()[has]
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


def grid_stats_file(
    path: str | Path,
    grids: gpd.GeoDataFrame,
    *,
    chunk_size: int = 1_000_000,
    rules: Rules | str | Path | None = None,
    deadline_days: Mapping[str, float] | None = None,
    working_days: bool | None = None,
    as_of: Any = None,
    categories: Iterable[str] | None = None,
    households: str = schema.HOUSEHOLDS,
) -> gpd.GeoDataFrame:
    """:func:`grid_stats` of an events file too large for memory, read a chunk at a time.

    The CSV or Parquet file (with a ``grid_code`` column, e.g. written by ``gridgis assign``)
    is read in blocks of ``chunk_size`` rows; counts and sums are added up block by block and
    the median close time comes from the close times kept per grid (8 bytes an event), so the
    result is the same table as ``grid_stats(whole_table, grids)`` in a fraction of its memory.
    Without ``as_of`` the file is read twice: first for its latest report/close time (the time
    open events are judged at, as :func:`grid_stats` takes it from the whole table).

    Examples
    --------
    >>> stats = grid_stats_file("events_assigned.parquet", grids)  # doctest: +SKIP
    >>> stats[["grid_code", "n_events", "on_time_share"]]           # doctest: +SKIP
    """
    from ..codes._chunks import iter_chunks

    path = Path(path)
    schema.require_columns(grids, [schema.GRID_CODE], source="grids")
    if chunk_size < 1:
        raise SchemaError(tr("chunk_size must be >= 1, got {n}", n=chunk_size), source=path)
    codes = grids[schema.GRID_CODE].astype(str)
    known_codes = pd.Index(codes.unique())
    judged_at = as_of
    if judged_at is None:  # the whole file's latest time, as the in-memory path takes it
        latest = [_as_of(_known(_checked(c, path), known_codes)[0], None)
                  for c in iter_chunks(path, chunk_size, [schema.GRID_CODE, STATUS,
                                                          schema.REPORTED_AT, schema.CLOSED_AT])]
        latest = [t for t in latest if pd.notna(t)]
        judged_at = max(latest) if latest else None
    tally = _Tally(pd.Index(codes.unique()))
    for chunk in iter_chunks(path, chunk_size, _READ):
        ev, unassigned = _known(_checked(chunk, path), known_codes)
        dl = deadlines(ev, rules=rules, deadline_days=deadline_days, working_days=working_days,
                       as_of=judged_at)
        tally.add(ev.join(dl), unassigned)
    return _finish(tally, grids, codes, rules=rules, deadline_days=deadline_days, as_of=as_of,
                   categories=categories, households=households)


def _checked(chunk: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A chunk with its grid codes; CSV text read as is gets empty cells as missing values
    (as a CSV read whole does)."""
    _require_codes(chunk.columns, path)
    if path.suffix.lower() in {".parquet", ".pq"}:
        return chunk
    return chunk.mask(chunk == "")
