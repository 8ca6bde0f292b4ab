"""Deadlines of events by urgency and by category, and whether each event met them.

Two limits per event, from the ``[events]`` rules (see :mod:`gridgis._event_rules`):

- **on site** (``onsite_hours``): someone must reach the place within so many clock hours of
  the report (``onsite_at`` − ``reported_at``);
- **solved** (``solve_days`` working days by default, or ``solve_hours``): the event must be
  closed by then.

An event falls under its urgency class's rule and, if its category (or one of the rule's
aliases) has a rule, under that too; the tighter limit applies. Working days skip Chinese
public holidays and count make-up working days (调休), see :mod:`gridgis.events.workdays`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from .._event_rules import DeadlineRule
from ..rules import Rules, load_rules
from ._text import alias_key
from .workdays import add_working_days

__all__ = ["deadlines", "category_rule_names"]

_NS_HOUR = np.int64(3_600_000_000_000)


def category_rule_names(categories: pd.Series, rules: Rules | dict | str | Path | None = None) -> pd.Series:
    """Name of the category rule (``[events.deadlines.<name>]``) each category falls under.

    Examples
    --------
    >>> import pandas as pd
    >>> from gridgis.events import category_rule_names
    >>> category_rule_names(pd.Series(["水电气故障", "停水", "环境卫生"])).tolist()
    ['水电气', '水电气', None]
    """
    table: dict[str, str] = {}
    for name, rule in load_rules(rules).events.category_rules().items():
        for spelling in (name, *rule.aliases):
            table.setdefault(alias_key(spelling), name)
    cats = pd.Series(categories)
    codes, uniques = pd.factorize(cats)  # few distinct categories among many events
    names = np.array([table.get(alias_key(str(v))) for v in uniques] + [None], dtype=object)
    return pd.Series(names[codes], index=cats.index, dtype=object)


def _limits(rule_of: np.ndarray, rules: Mapping[Any, DeadlineRule], attr: str) -> np.ndarray:
    """Per event, the rule's ``attr`` (NaN where no rule or no such limit)."""
    codes, uniques = pd.factorize(pd.Series(rule_of, dtype=object), use_na_sentinel=True)
    values = np.array([getattr(rules[k], attr) if k in rules else None for k in uniques]
                      + [getattr(rules[None], attr) if None in rules else None], dtype=float)
    return values[codes]


def _solve_deadline(rep: np.ndarray, days: np.ndarray, hours: np.ndarray, working: bool,
                    holidays: np.ndarray) -> np.ndarray:
    """Deadline from a report time and a limit in days (working or calendar) or hours."""
    out = np.full(len(rep), np.datetime64("NaT"), dtype="datetime64[ns]")
    d = np.isfinite(days) & ~np.isnat(rep)
    if d.any():
        if working:
            out[d] = add_working_days(rep[d], days[d], extra_days_off=holidays)
        else:
            out[d] = rep[d] + (days[d] * 24 * _NS_HOUR).astype("timedelta64[ns]")
    h = np.isfinite(hours) & ~np.isnat(rep)
    out[h] = rep[h] + (hours[h] * _NS_HOUR).astype("timedelta64[ns]")
    return out


def deadlines(
    events: pd.DataFrame,
    *,
    rules: Rules | dict | str | Path | None = None,
    deadline_days: Mapping[str, float] | None = None,
    default_days: float | None = None,
    working_days: bool | None = None,
    holidays: Iterable[Any] = (),
    as_of: Any = None,
) -> pd.DataFrame:
    """Deadlines of each event (on site, solved) and whether they were met.

    Parameters
    ----------
    events
        Table with ``urgency``, ``category``, ``reported_at``, ``closed_at`` and, optionally,
        ``onsite_at`` (time someone reached the place).
    rules
        Rules with ``[events]`` deadlines (default: 一般 7, 重要 3, 重要紧急 1 working days;
        水电气 on site within 24 h and solved within 3 working days).
    deadline_days
        Overrides of the solve days per urgency.
    default_days
        Solve days for events whose urgency is missing or unknown (default: the 一般 value).
    working_days
        Count ``solve_days`` as working days (Chinese public holidays off, 调休 weekends on);
        default from ``[events] calendar`` (``"working"``). ``False`` counts calendar days.
        Dates outside the calendar's years raise a
        :class:`~gridgis.events.workdays.CalendarWarning`.
    holidays
        Extra local days off on top of the national calendar.
    as_of
        Time at which open events are judged (default: the latest time in the table).

    Returns
    -------
    pandas.DataFrame
        Same index as ``events``: ``rule`` (category rule applied or ``None``),
        ``deadline_days`` (solve limit in days; hours / 24 for hour limits), ``deadline_at``,
        ``onsite_limit_h``, ``onsite_due_at``, ``onsite_h`` (hours to reach the place),
        ``onsite_on_time`` / ``onsite_late`` (nullable booleans: unknown without a limit or an
        on-site time, open events late once past the limit), ``closed``, ``due`` (closed, or
        open past the deadline at ``as_of``), ``on_time``, ``overdue``, ``close_days``.

    Examples
    --------
    >>> import pandas as pd
    >>> from gridgis.events import deadlines
    >>> ev = pd.DataFrame({"urgency": ["一般", "一般"], "category": ["环境卫生", "水电气故障"],
    ...                    "reported_at": pd.to_datetime(["2026-09-30 10:00"] * 2),
    ...                    "onsite_at": pd.to_datetime(["2026-09-30 12:00", "2026-10-01 16:00"]),
    ...                    "closed_at": pd.to_datetime(["2026-10-15 09:00", "2026-10-09 09:00"])})
    >>> dl = deadlines(ev)
    >>> dl["deadline_at"].dt.strftime("%m-%d").tolist(), dl["on_time"].tolist()
    (['10-15', '10-10'], [True, True])
    >>> dl["onsite_late"].tolist()
    [<NA>, True]
    """
    schema.require_columns(events, [schema.URGENCY, schema.REPORTED_AT, schema.CLOSED_AT])
    er = load_rules(rules).events
    urgency_rules = er.urgency_rules()
    for k, v in (deadline_days or {}).items():
        urgency_rules[str(k)] = replace(urgency_rules.get(str(k), DeadlineRule()), solve_days=float(v),
                                        solve_hours=None)
    base = urgency_rules.get("一般", DeadlineRule(solve_days=7.0))
    fallback = DeadlineRule(solve_days=float(default_days)) if default_days is not None else base
    working = er.calendar == "working" if working_days is None else bool(working_days)
    urg_raw = events[schema.URGENCY]
    urg_key = np.where(urg_raw.isin(list(urgency_rules)).to_numpy(), urg_raw.to_numpy(dtype=object), None)
    urules = {**urgency_rules, None: fallback}
    cats = events[schema.CATEGORY] if schema.CATEGORY in events.columns else pd.Series(None, index=events.index)
    crule = category_rule_names(cats, rules).to_numpy(dtype=object)
    crules = er.category_rules()
    rep = pd.to_datetime(events[schema.REPORTED_AT], errors="coerce").to_numpy().astype("datetime64[ns]")
    clo = pd.to_datetime(events[schema.CLOSED_AT], errors="coerce").to_numpy().astype("datetime64[ns]")
    hol = np.array(sorted({np.datetime64(pd.Timestamp(h).date()) for h in holidays}), dtype="datetime64[D]")
    dl_u = _solve_deadline(rep, _limits(urg_key, urules, "solve_days"), _limits(urg_key, urules, "solve_hours"),
                           working, hol)
    dl_c = _solve_deadline(rep, _limits(crule, crules, "solve_days"), _limits(crule, crules, "solve_hours"),
                           working, hol)
    dl = np.where(np.isnat(dl_c) | (~np.isnat(dl_u) & (dl_u < dl_c)), dl_u, dl_c)
    onsite_lim = np.fmin(_limits(urg_key, urules, "onsite_hours"), _limits(crule, crules, "onsite_hours"))
    if as_of is None:
        stamps = np.concatenate([rep[~np.isnat(rep)], clo[~np.isnat(clo)]])
        as_of = pd.Timestamp(stamps.max()) if len(stamps) else pd.Timestamp.now()
    as_of64 = np.datetime64(pd.Timestamp(as_of).to_datetime64(), "ns")
    has_rep, has_clo = ~np.isnat(rep), ~np.isnat(clo)
    closed = has_clo & has_rep
    on_time = closed & (clo <= dl)
    open_late = ~has_clo & has_rep & (dl < as_of64)
    onsite = _onsite(events, rep, closed, onsite_lim, as_of64)
    limit_days = np.where(np.isnat(dl), np.nan, (dl - rep).astype("timedelta64[s]").astype(float) / 86400.0)
    return pd.DataFrame(
        {
            "rule": pd.Series(crule, index=events.index, dtype=object),
            "deadline_days": _limit_days(urg_key, crule, urules, crules, limit_days),
            "deadline_at": dl,
            **onsite,
            "closed": closed,
            "due": closed | open_late,
            "on_time": on_time,
            "overdue": (closed & ~on_time) | open_late,
            "close_days": np.where(closed, (clo - rep).astype("timedelta64[s]").astype(float) / 86400.0, np.nan),
        },
        index=events.index,
    )


def _limit_days(urg_key: np.ndarray, crule: np.ndarray, urules: Mapping, crules: Mapping,
                elapsed: np.ndarray) -> np.ndarray:
    """The nominal solve limit in days of the rule that applies (working days stay whole)."""
    out = np.full(len(urg_key), np.nan)
    for key_arr, table in ((urg_key, urules), (crule, crules)):
        d = _limits(key_arr, table, "solve_days")
        h = _limits(key_arr, table, "solve_hours") / 24.0
        out = np.fmin(out, np.where(np.isfinite(d), d, h))
    return np.where(np.isfinite(out), out, elapsed)


def _onsite(events: pd.DataFrame, rep: np.ndarray, closed: np.ndarray, limit_h: np.ndarray,
            as_of: np.datetime64) -> dict:
    """On-site columns: limit, due time, hours taken, on time / late (nullable: unknown without
    a limit, without an ``onsite_at`` column, or for a closed event with no on-site time; an
    open event nobody reached is late once past the limit)."""
    due = np.full(len(rep), np.datetime64("NaT"), dtype="datetime64[ns]")
    lim = np.isfinite(limit_h) & ~np.isnat(rep)
    due[lim] = rep[lim] + (limit_h[lim] * _NS_HOUR).astype("timedelta64[ns]")
    present = schema.ONSITE_AT in events.columns
    if present:
        at = pd.to_datetime(events[schema.ONSITE_AT], errors="coerce").to_numpy().astype("datetime64[ns]")
    else:
        at = np.full(len(rep), np.datetime64("NaT"), dtype="datetime64[ns]")
    has = ~np.isnat(at) & ~np.isnat(rep)
    hours = np.where(has, (at - rep).astype("timedelta64[s]").astype(float) / 3600.0, np.nan)
    known = lim & (has | (present & ~closed & (due < as_of)))
    late = np.where(has, at > due, True)
    late_s = pd.array(np.where(known, late, False), dtype="boolean")
    late_s[~known] = pd.NA
    on_s = ~late_s
    return {"onsite_limit_h": limit_h, "onsite_due_at": due, "onsite_h": hours,
            "onsite_on_time": on_s, "onsite_late": late_s}
