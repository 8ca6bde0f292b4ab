"""Deadlines of events by urgency class, and whether each event met its deadline."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ..rules import Rules, load_rules

__all__ = ["deadlines"]

def deadlines(
    events: pd.DataFrame,
    *,
    rules: Rules | dict | str | Path | None = None,
    deadline_days: Mapping[str, float] | None = None,
    default_days: float | None = None,
    working_days: bool = False,
    holidays: Iterable[Any] = (),
    as_of: Any = None,
) -> pd.DataFrame:
    """Deadline of each event and whether it was met.

    Parameters
    ----------
    events
        Table with ``urgency``, ``reported_at`` and ``closed_at``.
    rules, deadline_days
        Days allowed per urgency; ``deadline_days`` overrides ``rules.events.deadline_days``
        (defaults 一般 7, 重要 3, 重要紧急 1).
    default_days
        Days for events whose urgency is missing or unknown (default: the 一般 value, 7).
    working_days
        Count whole working days (Mon–Fri minus ``holidays``) instead of calendar days; the
        deadline keeps the time of day of the report.
    as_of
        Time at which open events are judged (default: the latest report/close time in the
        table, so results do not depend on when the code runs).

    Returns
    -------
    pandas.DataFrame
        Same index as ``events``, columns ``deadline_days``, ``deadline_at``, ``closed``
        (bool), ``due`` (closed, or open past the deadline at ``as_of``), ``on_time``
        (closed by the deadline), ``overdue`` (closed late or open past the deadline),
        ``close_days`` (days from report to close).

    Examples
    --------
    >>> import pandas as pd
    >>> from gridgis.events import deadlines
    >>> ev = pd.DataFrame({"urgency": ["一般", "重要紧急"],
    ...                    "reported_at": pd.to_datetime(["2025-03-01 09:00"] * 2),
    ...                    "closed_at": pd.to_datetime(["2025-03-05 09:00", "2025-03-03 09:00"])})
    >>> deadlines(ev)[["deadline_days", "on_time", "overdue"]].to_dict("list")
    {'deadline_days': [7.0, 1.0], 'on_time': [True, False], 'overdue': [False, True]}
    """
    schema.require_columns(events, [schema.URGENCY, schema.REPORTED_AT, schema.CLOSED_AT])
    days_map = dict(load_rules(rules).events.deadline_days)
    if deadline_days:
        days_map.update({str(k): float(v) for k, v in deadline_days.items()})
    fallback = float(default_days if default_days is not None else days_map.get("一般", 7.0))
    days = events[schema.URGENCY].map(days_map).astype(float).fillna(fallback)
    rep = pd.to_datetime(events[schema.REPORTED_AT], errors="coerce")
    clo = pd.to_datetime(events[schema.CLOSED_AT], errors="coerce")
    if working_days:
        has = rep.notna().to_numpy()
        dl = pd.Series(pd.NaT, index=events.index, dtype="datetime64[ns]")
        if has.any():
            day0 = rep[has].dt.normalize().to_numpy().astype("datetime64[D]")
            steps = np.ceil(days[has].to_numpy()).astype(int)
            hol = np.array([np.datetime64(pd.Timestamp(h).date()) for h in holidays], dtype="datetime64[D]")
            end = np.busday_offset(day0, steps, roll="forward", holidays=hol)
            tod = (rep[has] - rep[has].dt.normalize()).to_numpy()
            dl[has] = end.astype("datetime64[ns]") + tod
    else:
        dl = rep + pd.to_timedelta(days, unit="D")
    if as_of is None:
        stamps = pd.concat([rep, clo]).dropna()
        as_of = stamps.max() if len(stamps) else pd.Timestamp.now()
    as_of = pd.Timestamp(as_of)
    closed = clo.notna() & rep.notna()
    on_time = closed & (clo <= dl)
    open_late = ~clo.notna() & rep.notna() & (dl < as_of)
    return pd.DataFrame(
        {
            "deadline_days": days,
            "deadline_at": dl,
            "closed": closed,
            "due": closed | open_late,
            "on_time": on_time,
            "overdue": (closed & ~on_time) | open_late,
            "close_days": (clo - rep).dt.total_seconds() / 86400.0,
        },
        index=events.index,
    )
