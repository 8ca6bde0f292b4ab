"""Office indicators of events by grid, community, street or department, by month/quarter/year.

The figures a grid office reports monthly (通报): how many events, the share reached on site in
time and the share solved in time (:func:`gridgis.events.deadlines`), median durations of the
workflow stages (上报 → 分拨 → 处置 → 反馈 → 考核), the share resolved at grid level (小事不出网格)
and the satisfaction rate ((满意 + 基本满意) / answers).

Built for tens of millions of rows: groups and periods are integer codes, sums are
``np.bincount`` and medians come from one sort of ``(group, value)`` keys per duration, spread
over threads (numpy sorts release the GIL).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import schema
from ..errors import SchemaError
from ..i18n import _, tr
from ..rules import Rules
from .deadlines import arrays_as_of, deadline_arrays
from .records import INVALID, STATUS

__all__ = ["INDICATORS", "STAGE_SPANS", "attach_units", "event_indicators", "group_medians"]

#: Stage durations: name → (from column, to column); medians in hours.
STAGE_SPANS: dict[str, tuple[str, str]] = {
    "dispatch_h": (schema.REPORTED_AT, schema.DISPATCHED_AT),
    "onsite_h": (schema.REPORTED_AT, schema.ONSITE_AT),
    "handle_h": (schema.ONSITE_AT, schema.CLOSED_AT),
    "close_h": (schema.REPORTED_AT, schema.CLOSED_AT),
    "evaluate_h": (schema.CLOSED_AT, schema.EVALUATED_AT),
}
#: Indicator columns of :func:`event_indicators`, in order.
INDICATORS = ("n_events", "n_closed", "n_due", "on_time_share", "n_onsite_judged", "onsite_on_time_share",
              *(f"median_{k}" for k in STAGE_SPANS), "grid_level_share", "satisfaction_rate",
              "n_rated")
_PERIODS = {"M": "M", "Q": "Q", "Y": "Y", "A": "Y"}
_NS_H = 3_600_000_000_000
_CHUNK = 1 << 20


def attach_units(events: pd.DataFrame, grids: pd.DataFrame, communities: pd.DataFrame | None = None
                 ) -> pd.DataFrame:
    """Put ``community_code`` and ``street_code`` of each event's grid on it (by ``grid_code``).

    The street is the ``parent_code`` of the community in ``communities`` (or a
    ``street_code`` column of the grids); events without a known grid get ``None``.

    Examples
    --------
    >>> import pandas as pd
    >>> from gridgis.events import attach_units
    >>> ev = pd.DataFrame({"grid_code": ["A1", "B1", ""]})
    >>> grids = pd.DataFrame({"grid_code": ["A1", "B1"], "community_code": ["c1", "c2"]})
    >>> comm = pd.DataFrame({"code": ["c1", "c2"], "parent_code": ["s1", "s1"]})
    >>> attach_units(ev, grids, comm)[["community_code", "street_code"]].values.tolist()
    [['c1', 's1'], ['c2', 's1'], [None, None]]
    """
    schema.require_columns(events, [schema.GRID_CODE], source="events")
    schema.require_columns(grids, [schema.GRID_CODE, schema.COMMUNITY_CODE], source="grids")
    gcodes = grids[schema.GRID_CODE].astype(str).to_numpy()
    comm = grids[schema.COMMUNITY_CODE].astype(str).to_numpy()
    if communities is not None and schema.PARENT_CODE in communities.columns:
        parent = dict(zip(communities[schema.CODE].astype(str), communities[schema.PARENT_CODE].astype(str),
                          strict=True))
        street = np.array([parent.get(c) for c in comm], dtype=object)
    elif "street_code" in grids.columns:
        street = grids["street_code"].astype(str).to_numpy(dtype=object)
    else:
        street = np.array([c[:9] if len(c) >= 9 else None for c in comm], dtype=object)
    codes, uniques = pd.factorize(events[schema.GRID_CODE])
    pos = pd.Index(gcodes).get_indexer(uniques.astype(str))
    pos = np.append(pos, -1)[codes]
    out = events.copy()
    out[schema.COMMUNITY_CODE] = pd.Series(np.where(pos >= 0, np.append(comm, None)[pos], None),
                                           index=events.index, dtype=object)
    out["street_code"] = pd.Series(np.where(pos >= 0, np.append(street, None)[pos], None),
                                   index=events.index, dtype=object)
    return out


def _median_keys(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``int64`` sort keys: group in the high 32 bits, the value's order-preserving float32 bit
    pattern in the low ones (NaN last within its group)."""
    bits = values.astype(np.float32).view(np.int32).astype(np.int64)
    np.copyto(bits, bits ^ 0x7FFFFFFF, where=bits < 0)
    bits += 2**31
    bits[np.isnan(values)] = 0xFFFFFFFF
    bits |= groups.astype(np.int64) << 32
    return bits


def _sorted_medians(keys: np.ndarray, n_all: np.ndarray, n_valid: np.ndarray) -> np.ndarray:
    """Per-group medians from sorted :func:`_median_keys` (``n_all`` rows, ``n_valid`` numbers)."""
    start = np.concatenate([[0], np.cumsum(n_all)[:-1]])
    out = np.full(len(n_all), np.nan)
    has = n_valid > 0
    pos = np.concatenate([start[has] + (n_valid[has] - 1) // 2, start[has] + n_valid[has] // 2])
    low = (keys[pos] & 0xFFFFFFFF) - 2**31
    low = np.where(low < 0, low ^ 0x7FFFFFFF, low).astype(np.int32).view(np.float32).astype(np.float64)
    out[has] = (low[: has.sum()] + low[has.sum():]) / 2.0
    return out


def group_medians(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``values`` (NaN ignored) per integer group ``0 … n_groups-1``.

    One ``np.sort`` of ``int64`` keys (group in the high bits, the value's order-preserving
    float32 bits in the low ones) instead of a two-key ``lexsort``; values keep float32
    precision (7 digits).

    Examples
    --------
    >>> import numpy as np
    >>> from gridgis.events import group_medians
    >>> group_medians(np.array([0, 0, 0, 1, 1]), np.array([3.0, 1, 2, -5, np.nan]), 3).tolist()
    [2.0, -5.0, nan]
    """
    keys = np.sort(_median_keys(groups, values))
    n_all = np.bincount(groups, minlength=n_groups)
    n_valid = np.bincount(groups, weights=np.isfinite(values), minlength=n_groups).astype(np.int64)
    return _sorted_medians(keys, n_all, n_valid)


def _hours(ev: pd.DataFrame, a: str, b: str) -> np.ndarray:
    if a not in ev.columns or b not in ev.columns:
        return np.full(len(ev), np.nan)
    ta = pd.to_datetime(ev[a], errors="coerce").to_numpy().astype("datetime64[ns]").view(np.int64)
    tb = pd.to_datetime(ev[b], errors="coerce").to_numpy().astype("datetime64[ns]").view(np.int64)
    nat = np.iinfo(np.int64).min
    ok = (ta != nat) & (tb != nat)
    return np.where(ok, (tb - ta) / _NS_H, np.nan)


def _period_codes(times: pd.Series, period: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer period of each time (month, quarter or year) and the labels (2026-10, 2026Q4, 2026)."""
    t = times.to_numpy().astype("datetime64[ns]", copy=False) if times.dtype == "datetime64[ns]" \
        else pd.to_datetime(times, errors="coerce").to_numpy().astype("datetime64[ns]")
    month = t.astype("datetime64[M]").astype(np.int64)  # months since 1970-01; NaT very negative
    nat = np.isnat(t)
    if period == "Q":
        month = month // 3
    elif period == "Y":
        month = month // 12
    if nat.all():
        return np.full(len(t), -1), np.array([], dtype=object)
    lo, hi = int(month[~nat].min()), int(month[~nat].max())
    codes = np.where(nat, -1, month - lo)
    values = np.arange(lo, hi + 1)
    if period == "M":
        labels = [f"{1970 + v // 12}-{v % 12 + 1:02d}" for v in values]
    elif period == "Q":
        labels = [f"{1970 + v // 4}Q{v % 4 + 1}" for v in values]
    else:
        labels = [str(1970 + v) for v in values]
    return codes, np.asarray(labels, dtype=object)


def _keys(ev: pd.DataFrame, by: Sequence[str], period: str | None) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer group code of every event (0 … k-1, in label order) and the table of group labels."""
    parts, labels = [], []
    for col in by:
        codes, uniques = pd.factorize(ev[col], use_na_sentinel=True)
        parts.append(codes)
        labels.append(np.asarray(uniques, dtype=object))
    if period is not None:
        codes, names = _period_codes(ev[schema.REPORTED_AT], period)
        parts.append(codes)
        labels.append(names)
    sizes = [len(names) + 1 for names in labels]  # the extra slot: missing values ("unknown")
    key = np.zeros(len(ev), dtype=np.int64)
    for codes, size in zip(parts, sizes, strict=True):
        key = key * size + np.where(codes < 0, size - 1, codes)
    total = int(np.prod(sizes, dtype=np.int64))
    if total <= 50_000_000:  # dense: present keys by counting, no sort
        present = np.flatnonzero(np.bincount(key, minlength=total))
        remap = np.full(total, -1, dtype=np.int64)
        remap[present] = np.arange(len(present))
        gid = remap[key]
    else:
        present, gid = np.unique(key, return_inverse=True)
    columns = {}
    rest = present.copy()
    for col, names, size in zip(reversed([*by, *(["period"] if period else [])]), reversed(labels),
                                reversed(sizes), strict=True):
        columns[col] = np.append(names, _("unknown"))[rest % size]
        rest //= size
    table = pd.DataFrame({col: columns[col] for col in [*by, *(["period"] if period else [])]})
    return gid, table


def event_indicators(
    events: pd.DataFrame,
    by: str | Sequence[str] = schema.GRID_CODE,
    *,
    period: str | None = None,
    start: Any = None,
    end: Any = None,
    rules: Rules | dict | str | Path | None = None,
    as_of: Any = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """Indicators of events per group (and period) within ``[start, end]``.

    Parameters
    ----------
    events
        Cleaned events (rows with ``status == "invalid"`` are left out) with the grouping
        columns (``grid_code``, ``community_code``, ``street_code`` from :func:`attach_units`,
        ``department`` …), ``reported_at`` and the optional stage times, ``handling_level`` and
        ``satisfaction``.
    by
        Column or columns to group by; missing values form the group ``_("unknown")`` (未知 in Chinese).
    period
        ``None`` (whole span), ``"M"`` (month), ``"Q"`` (quarter) or ``"Y"`` (year) of the
        report time.
    start, end
        Report dates to keep (inclusive; ``end`` as a date keeps that whole day).
    rules, as_of
        Deadline rules and the time at which open events are judged (default: ``end`` + 1 day
        when given, else the latest time in the table).
    threads
        Threads for the medians (default: CPUs available).

    Returns
    -------
    pandas.DataFrame
        One row per group: the ``by`` columns (and ``period``), then :data:`INDICATORS`:
        counts, ``on_time_share`` (solved in time / due), ``onsite_on_time_share`` (on site in
        time / judged), ``median_<stage>_h`` (hours), ``grid_level_share`` (resolved at 网格 /
        with a level), ``satisfaction_rate`` ((满意 + 基本满意) / answers), ``n_rated``.

    Examples
    --------
    >>> from gridgis.events import event_indicators
    >>> table = event_indicators(ev, "community_code", period="M",
    ...                          start="2026-10-01", end="2026-10-31")        # doctest: +SKIP
    """
    by = [by] if isinstance(by, str) else list(by)
    schema.require_columns(events, [*by, schema.REPORTED_AT], source="events")
    if period is not None and str(period).upper() not in _PERIODS:
        raise SchemaError(tr("unknown period {period!r}", period=period), fix=_("use 'M', 'Q' or 'Y'"))
    period = None if period is None else _PERIODS[str(period).upper()]
    ev = _window(events, start, end)
    if as_of is None and end is not None:
        as_of = pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
    as_of = arrays_as_of(ev, as_of)
    gid, table = _keys(ev, by, period)
    k = len(table)
    workers = threads or max(1, min(len(STAGE_SPANS), os.cpu_count() or 1))
    keys = {name: np.empty(len(ev), dtype=np.int64) for name in STAGE_SPANS}

    def chunk(lo: int) -> np.ndarray:
        """Counts of one slice of rows (small slices keep the temporaries in cache)."""
        part, g = ev.iloc[lo:lo + _CHUNK], gid[lo:lo + _CHUNK]
        dl = deadline_arrays(part, rules=rules, as_of=as_of)
        masks = [dl["closed"], dl["due"], dl["on_time"], dl["onsite_judged"],
                 dl["onsite_judged"] & ~dl["onsite_late"]]
        for name, (a, b) in STAGE_SPANS.items():
            h = _hours(part, a, b)
            keys[name][lo:lo + len(part)] = _median_keys(g, h)
            masks.append(np.isfinite(h))
        return np.stack([np.bincount(g, weights=m.astype(float), minlength=k) for m in masks])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        sums = sum(pool.map(chunk, range(0, len(ev), _CHUNK)), np.zeros((5 + len(STAGE_SPANS), k)))
        n_all = np.bincount(gid, minlength=k)

        def median(i_name: tuple[int, str]) -> np.ndarray:
            i, name = i_name
            keys[name].sort()
            return _sorted_medians(keys[name], n_all, sums[5 + i].astype(np.int64))

        medians = list(pool.map(median, enumerate(STAGE_SPANS)))
    closed, due, ontime, judged, onsite_ok = sums[:5]
    out = table.copy()
    out["n_events"] = n_all
    out["n_closed"] = closed.astype(int)
    out["n_due"] = due.astype(int)
    out["on_time_share"] = np.where(due > 0, ontime / np.maximum(due, 1), np.nan)
    out["n_onsite_judged"] = judged.astype(int)
    out["onsite_on_time_share"] = np.where(judged > 0, onsite_ok / np.maximum(judged, 1), np.nan)
    for name, med in zip(STAGE_SPANS, medians, strict=True):
        out[f"median_{name}"] = med
    out["grid_level_share"] = _share(ev, schema.HANDLING_LEVEL, ("网格",), gid, k)[0]
    out["satisfaction_rate"], rated = _share(ev, schema.SATISFACTION, ("满意", "基本满意"), gid, k)
    out["n_rated"] = rated.astype(int)
    out = out.sort_values([*by, *(["period"] if period else [])], kind="stable").reset_index(drop=True)
    out.attrs.update(start=start, end=end, period=period, by=by, as_of=as_of)
    return out


def _window(events: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
    """Valid events reported within ``[start, end]`` (``end`` a date keeps its whole day)."""
    ev = events
    if isinstance(ev, gpd.GeoDataFrame):
        ev = pd.DataFrame(ev.drop(columns=ev.geometry.name))
    keep = np.ones(len(ev), dtype=bool)
    if STATUS in ev.columns:
        keep &= (ev[STATUS] != INVALID).to_numpy()
    rep = pd.to_datetime(ev[schema.REPORTED_AT], errors="coerce")
    if start is not None:
        keep &= (rep >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        stop = pd.Timestamp(end)
        if stop == stop.normalize():
            stop = stop + pd.Timedelta(days=1)
            keep &= (rep < stop).to_numpy()
        else:
            keep &= (rep <= stop).to_numpy()
    return ev if keep.all() else ev.loc[keep]


def _share(ev: pd.DataFrame, col: str, good: tuple[str, ...], gid: np.ndarray, k: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """Share of answered rows whose ``col`` is in ``good``, and the number answered."""
    if col not in ev.columns:
        return np.full(k, np.nan), np.zeros(k)
    codes, uniques = pd.factorize(ev[col], use_na_sentinel=True)
    is_good = np.append(np.isin(np.asarray(uniques, dtype=object), good), False)[codes]
    answered = codes >= 0
    total = np.bincount(gid, weights=answered.astype(float), minlength=k)
    hit = np.bincount(gid, weights=is_good.astype(float), minlength=k)
    return np.where(total > 0, hit / np.maximum(total, 1), np.nan), total
