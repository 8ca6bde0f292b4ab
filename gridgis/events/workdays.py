"""Working days of mainland China: public holidays and make-up working days (调休).

The calendar comes from the maintained ``chinesecalendar`` package (the State Council's yearly
holiday notices, 2004 onwards, updated each year when the next notice is published). Weekends
are days off unless the notice makes them working days (调休, e.g. Saturday 10 October 2026);
holidays are days off even on a weekday (1–7 October 2026).

A date in a year the installed calendar does not cover is counted with Monday–Friday only and
a :class:`CalendarWarning` names the years, so a missing notice is never silent: update the
package (``pip install -U chinesecalendar``) when a new year's notice is out.
"""

from __future__ import annotations

import functools
import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..i18n import tr

__all__ = ["CalendarWarning", "calendar_years", "add_working_days", "is_working_day"]

logger = logging.getLogger(__name__)


class CalendarWarning(UserWarning):
    """Dates outside the years of the holiday calendar were counted Monday–Friday only."""


@functools.lru_cache(maxsize=1)
def _calendar() -> tuple[int, int, np.ndarray]:
    """(first year, last year, days off that are not Saturday/Sunday or make-up Saturdays …).

    Returned as the full list of days off in the covered years, for ``np.busday_offset`` with
    a seven-day week.
    """
    import chinese_calendar as cc

    stamps = sorted(cc.holidays) + sorted(cc.workdays)
    first, last = min(stamps).year, max(stamps).year
    days = np.arange(np.datetime64(f"{first}-01-01"), np.datetime64(f"{last + 1}-01-01"))
    weekday = (days.astype("int64") + 3) % 7  # 0 = Monday
    off = weekday >= 5
    hol = np.array(sorted(cc.holidays), dtype="datetime64[D]")
    work = np.array(sorted(cc.workdays), dtype="datetime64[D]")
    off[np.searchsorted(days, hol)] = True
    off[np.searchsorted(days, work)] = False
    return first, last, days[off]


def calendar_years() -> tuple[int, int]:
    """First and last year of the installed holiday calendar.

    Examples
    --------
    >>> from gridgis.events import calendar_years
    >>> calendar_years()[0]
    2004
    """
    first, last, _ = _calendar()
    return first, last


def _warn_outside(days: np.ndarray) -> None:
    first, last, _ = _calendar()
    valid = days[~np.isnat(days)]
    if not len(valid):
        return
    years = valid.astype("datetime64[Y]").astype(int) + 1970
    out = np.unique(years[(years < first) | (years > last)])
    if len(out):
        msg = tr("the holiday calendar covers {first}–{last}; working days in {years} were counted "
                 "Monday–Friday without public holidays or make-up working days (update the "
                 "chinesecalendar package when the State Council's notice is out)",
                 first=first, last=last, years=", ".join(map(str, out)))
        logger.warning(msg)
        warnings.warn(msg, CalendarWarning, stacklevel=3)


def _holidays() -> np.ndarray:
    return _calendar()[2]


def is_working_day(dates: Any) -> np.ndarray:
    """Whether each date is a working day (holidays off, 调休 weekends on).

    Examples
    --------
    >>> from gridgis.events import is_working_day
    >>> is_working_day(["2026-10-01", "2026-10-08", "2026-10-10", "2026-10-11"]).tolist()
    [False, True, True, False]
    """
    d = pd.to_datetime(pd.Series(dates)).to_numpy().astype("datetime64[D]")
    _warn_outside(d)
    first, last, off = _calendar()
    ok = ~np.isnat(d)
    out = np.zeros(len(d), dtype=bool)
    years = d[ok].astype("datetime64[Y]").astype(int) + 1970
    inside = (years >= first) & (years <= last)
    dd = d[ok]
    res = np.is_busday(dd, weekmask="1111100")
    res[inside] = np.is_busday(dd[inside], weekmask="1111111", holidays=off)
    out[ok] = res
    return out


def add_working_days(start: Any, days: Any, *, extra_days_off: Any = ()) -> np.ndarray:
    """The date ``days`` working days after each ``start`` date (a time of day is kept).

    The start day itself does not count: the result is the ``days``-th working day after it
    (a report on a day off is due ``days`` working days after the holiday ends). Fractions
    of a day are rounded up (1.5 → 2 working days). ``extra_days_off`` adds local days off.

    Examples
    --------
    >>> from gridgis.events import add_working_days
    >>> add_working_days(["2026-09-30 10:00"], [7]).astype(str).tolist()
    ['2026-10-15T10:00:00.000000000']
    """
    if isinstance(start, np.ndarray) and start.dtype == "datetime64[ns]":
        t = start
    else:
        t = pd.to_datetime(pd.Series(start)).to_numpy().astype("datetime64[ns]")
    k = np.ceil(np.broadcast_to(np.asarray(days, dtype=float), t.shape))
    out = np.full(t.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = ~np.isnat(t) & np.isfinite(k)
    if not ok.any():
        return out
    t_ok = t[ok]
    day_all = t_ok.astype("datetime64[D]")
    tod = t_ok - day_all.astype("datetime64[ns]")
    steps_all = np.clip(k[ok], 0, 4095).astype(np.int64)
    # few distinct (day, steps) pairs even among millions of events: solve each once
    d_int = day_all.astype(np.int64)
    d0, s0 = int(d_int.min()), int(steps_all.min())
    nd, ns = int(d_int.max()) - d0 + 1, int(steps_all.max()) - s0 + 1
    if nd * ns <= 4_000_000:  # a dense (day × steps) table, looked up by position
        inv = (d_int - d0) * ns + (steps_all - s0)
        grid = np.arange(nd * ns, dtype=np.int64)
        day0 = (grid // ns + d0).astype("datetime64[D]")
        steps = grid % ns + s0
    else:
        inv, uniq = pd.factorize(d_int * 4096 + steps_all)
        day0 = (uniq // 4096).astype("datetime64[D]")
        steps = uniq % 4096
    first, last, off = _calendar()
    extra = np.asarray([np.datetime64(pd.Timestamp(h).date()) for h in extra_days_off], dtype="datetime64[D]")
    if len(extra):
        off = np.union1d(off, extra)
    end = np.busday_offset(day0, steps, roll="backward", weekmask="1111111", holidays=off)
    years = np.concatenate([day0, end]).astype("datetime64[Y]").astype(int) + 1970
    outside_any = (years < first) | (years > last)
    if outside_any.any():
        n = len(day0)
        bad = outside_any[:n] | outside_any[n:]
        used = np.zeros(n, dtype=bool)
        used[inv] = True
        if (bad & used).any():
            _warn_outside(np.concatenate([day0[bad & used], end[bad & used]]))
        end[bad] = np.busday_offset(day0[bad], steps[bad], roll="backward", weekmask="1111100",
                                    holidays=extra)
    out[ok] = end.astype("datetime64[ns]")[inv] + tod
    return out
