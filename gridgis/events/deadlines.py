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

__all__ = ["arrays_as_of", "category_rule_names", "deadline_arrays", "deadlines"]

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


def _rule_attrs(codes: np.ndarray, rules: list[DeadlineRule | None], missing: DeadlineRule | None
                ) -> dict[str, np.ndarray]:
    """Per event, the limits of its rule (rule of each distinct value, picked by ``codes``;
    ``codes == -1`` takes ``missing``); NaN where no rule or no such limit."""
    table = [*rules, missing]
    out = {}
    for attr in ("onsite_hours", "solve_days", "solve_hours"):
        values = np.array([getattr(r, attr) if r is not None else None for r in table], dtype=float)
        out[attr] = values[codes]
    return out


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
    arrays = deadline_arrays(events, rules=rules, deadline_days=deadline_days, default_days=default_days,
                             working_days=working_days, holidays=holidays, as_of=as_of)
    late = pd.array(arrays.pop("onsite_late"), dtype="boolean")
    late[~arrays.pop("onsite_judged")] = pd.NA
    rule = arrays.pop("rule")
    out = pd.DataFrame({"rule": pd.Series(rule, index=events.index, dtype=object), **arrays},
                       index=events.index)
    out.insert(out.columns.get_loc("onsite_h") + 1, "onsite_on_time", ~late)
    out.insert(out.columns.get_loc("onsite_on_time") + 1, "onsite_late", late)
    out.attrs["as_of"] = arrays_as_of(events, as_of)
    return out


def arrays_as_of(events: pd.DataFrame, as_of: Any) -> pd.Timestamp:
    """The time open events are judged at: ``as_of``, else the latest report/close time."""
    if as_of is not None:
        return pd.Timestamp(as_of)
    stamps = pd.concat([pd.to_datetime(events[c], errors="coerce") for c in (schema.REPORTED_AT, schema.CLOSED_AT)])
    latest = stamps.max()
    return pd.Timestamp(latest) if pd.notna(latest) else pd.Timestamp.now()


def _times(events: pd.DataFrame, col: str) -> np.ndarray:
    if col not in events.columns:
        return np.full(len(events), np.datetime64("NaT"), dtype="datetime64[ns]")
    v = events[col]
    if v.dtype != "datetime64[ns]":
        v = pd.to_datetime(v, errors="coerce")
    return v.to_numpy().astype("datetime64[ns]", copy=False)


def deadline_arrays(
    events: pd.DataFrame,
    *,
    rules: Rules | dict | str | Path | None = None,
    deadline_days: Mapping[str, float] | None = None,
    default_days: float | None = None,
    working_days: bool | None = None,
    holidays: Iterable[Any] = (),
    as_of: Any = None,
) -> dict[str, np.ndarray]:
    """The columns of :func:`deadlines` as plain numpy arrays (fast path for millions of rows).

    ``onsite_late`` is a plain bool array here, with ``onsite_judged`` telling where it is known.

    Examples
    --------
    >>> import pandas as pd
    >>> from gridgis.events import deadline_arrays
    >>> ev = pd.DataFrame({"urgency": ["一般"], "reported_at": [pd.Timestamp("2026-09-30 10:00")],
    ...                    "closed_at": [pd.NaT]})
    >>> str(deadline_arrays(ev)["deadline_at"][0])
    '2026-10-15T10:00:00.000000000'
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
    ucodes, uniq = pd.factorize(events[schema.URGENCY])
    u = _rule_attrs(ucodes, [urgency_rules.get(str(x), fallback) for x in uniq], fallback)
    cats = events[schema.CATEGORY] if schema.CATEGORY in events.columns else pd.Series(None, index=events.index)
    ccodes, cuniq = pd.factorize(cats)
    names = category_rule_names(pd.Series(np.asarray(cuniq, dtype=object)), rules).tolist()
    crules = er.category_rules()
    c = _rule_attrs(ccodes, [crules.get(n) if n is not None else None for n in names], None)
    rep, clo = _times(events, schema.REPORTED_AT), _times(events, schema.CLOSED_AT)
    hol = np.array(sorted({np.datetime64(pd.Timestamp(h).date()) for h in holidays}), dtype="datetime64[D]")
    dl_u = _solve_deadline(rep, u["solve_days"], u["solve_hours"], working, hol)
    dl_c = _solve_deadline(rep, c["solve_days"], c["solve_hours"], working, hol)
    dl = np.where(np.isnat(dl_c) | (~np.isnat(dl_u) & (dl_u < dl_c)), dl_u, dl_c)
    as_of64 = np.datetime64(arrays_as_of(events, as_of).to_datetime64(), "ns")
    has_rep, has_clo = ~np.isnat(rep), ~np.isnat(clo)
    closed = has_clo & has_rep
    on_time = closed & (clo <= dl)
    open_late = ~has_clo & has_rep & (dl < as_of64)
    onsite = _onsite(events, rep, closed, np.fmin(u["onsite_hours"], c["onsite_hours"]), as_of64)
    elapsed = (dl - rep).astype("timedelta64[s]").astype(float) / 86400.0
    nominal = np.fmin(np.where(np.isfinite(u["solve_days"]), u["solve_days"], u["solve_hours"] / 24.0),
                      np.where(np.isfinite(c["solve_days"]), c["solve_days"], c["solve_hours"] / 24.0))
    return {
        "rule": np.append(np.asarray(names, dtype=object), None)[ccodes],
        "deadline_days": np.where(np.isfinite(nominal), nominal, np.where(np.isnat(dl), np.nan, elapsed)),
        "deadline_at": dl,
        **onsite,
        "closed": closed,
        "due": closed | open_late,
        "on_time": on_time,
        "overdue": (closed & ~on_time) | open_late,
        "close_days": np.where(closed, (clo - rep).astype("timedelta64[s]").astype(float) / 86400.0, np.nan),
    }


def _onsite(events: pd.DataFrame, rep: np.ndarray, closed: np.ndarray, limit_h: np.ndarray,
            as_of: np.datetime64) -> dict[str, np.ndarray]:
    """On-site columns: limit, due time, hours taken, late and whether that is known (unknown
    without a limit, without an ``onsite_at`` column, or for a closed event with no on-site
    time; an open event nobody reached is late once past the limit)."""
    due = np.full(len(rep), np.datetime64("NaT"), dtype="datetime64[ns]")
    lim = np.isfinite(limit_h) & ~np.isnat(rep)
    due[lim] = rep[lim] + (limit_h[lim] * _NS_HOUR).astype("timedelta64[ns]")
    present = schema.ONSITE_AT in events.columns
    at = _times(events, schema.ONSITE_AT)
    has = ~np.isnat(at) & ~np.isnat(rep)
    hours = np.where(has, (at - rep).astype("timedelta64[s]").astype(float) / 3600.0, np.nan)
    judged = lim & (has | (present & ~closed & (due < as_of)))
    late = judged & np.where(has, at > due, True)
    return {"onsite_limit_h": limit_h, "onsite_due_at": due, "onsite_h": hours,
            "onsite_late": late, "onsite_judged": judged}
