"""Date-times of event tables, parsed from the many ways office exports write them."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ._text import is_blank

__all__ = ["parse_times"]

_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H",
    "%Y-%m-%d",
    "%Y%m%d%H%M%S",
    "%Y%m%d%H%M",
    "%Y%m%d",
)
_CN_DATE = [
    (re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?"), r"\1-\2-\3 "),
    (re.compile(r"(\d{1,2})\s*[时点]\s*(\d{1,2})\s*分\s*(\d{1,2})\s*秒"), r"\1:\2:\3"),
    (re.compile(r"(\d{1,2})\s*[时点]\s*(\d{1,2})\s*分?"), r"\1:\2"),
    (re.compile(r"(\d{1,2})\s*[时点]"), r"\1:00"),
]
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_TZ = "Asia/Shanghai"


def parse_times(values: Any, *, dayfirst: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse a column of date-times written in the ways office exports write them.

    Accepted: pandas/Excel datetimes (from ``.xlsx`` cells), ``2025-03-04 08:15[:30]``,
    ``2025/3/4 8:15``, ``2025.03.04``, ``2025年3月4日 8时15分``, ``20250304081500``, ISO 8601
    with ``T``/time zone (converted to Beijing time), Excel serial day numbers
    (``45720.34``) and Unix epoch seconds or milliseconds. Time-zone aware values are
    converted to Asia/Shanghai and made naive.

    Returns
    -------
    times, problem
        ``datetime64[ns]`` series (``NaT`` where blank or unparseable) and a string series
        holding the unparseable original text (``None`` where fine or blank).

    Examples
    --------
    >>> from gridgis.events import parse_times
    >>> times, problem = parse_times(["2025-03-04 08:15", "2025年3月4日 8时15分", "soon"])
    >>> times.isna().tolist(), problem.dropna().tolist()
    ([False, False, True], ['soon'])
    """
    s = pd.Series(values)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    problem = pd.Series(None, index=s.index, dtype=object)
    if len(s) == 0:
        return out, problem
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        t = s
        if getattr(t.dt, "tz", None) is not None:
            t = t.dt.tz_convert(_TZ).dt.tz_localize(None)
        return t.astype("datetime64[ns]"), problem
    blank = is_blank(s)
    todo = ~blank
    # native datetime objects (Excel cells read into an object column)
    if s.dtype == object:
        is_dt = s.map(lambda v: isinstance(v, pd.Timestamp | np.datetime64) or hasattr(v, "year")
                      and hasattr(v, "month")).to_numpy(dtype=bool) & todo
    else:  # a text or numeric column holds no datetime objects
        is_dt = np.zeros(len(s), dtype=bool)
    if is_dt.any():
        conv = pd.to_datetime(s[is_dt].map(_naive), errors="coerce")
        out[is_dt] = conv
        todo &= ~is_dt
    # numbers: Excel serials, epoch seconds/milliseconds
    num = pd.to_numeric(s.where(todo), errors="coerce")
    text_all = s.astype("string").str.strip()
    digits_only = text_all.str.fullmatch(r"\d{8}|\d{12}|\d{14}").fillna(False).to_numpy(dtype=bool)
    is_num = num.notna().to_numpy() & todo & ~digits_only
    if is_num.any():
        v = num[is_num].to_numpy(dtype=float)
        res = np.full(len(v), np.datetime64("NaT"), dtype="datetime64[ns]")
        excel = (v > 1000) & (v < 120000)
        sec = (v >= 1e8) & (v < 5e9)
        ms = (v >= 1e11) & (v < 5e12)
        res[excel] = (_EXCEL_EPOCH + pd.to_timedelta(v[excel], unit="D")).round("s").to_numpy()
        res[sec] = pd.to_datetime(v[sec], unit="s", utc=True).tz_convert(_TZ).tz_localize(None).to_numpy()
        res[ms] = pd.to_datetime(v[ms], unit="ms", utc=True).tz_convert(_TZ).tz_localize(None).to_numpy()
        out[is_num] = res
        todo &= ~is_num
    if todo.any():
        # fast path: the common ISO-like layouts, straight from the text
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
            idx = np.flatnonzero(todo)
            if not len(idx):
                break
            p = pd.to_datetime(text_all.iloc[idx], format=fmt, errors="coerce")
            got = p.notna().to_numpy()
            out.iloc[idx[got]] = p.to_numpy()[got]
            todo[idx[got]] = False
    if todo.any():
        text = text_all[todo]
        for pat, rep in _CN_DATE:
            text = text.str.replace(pat, rep, regex=True)
        text = (
            text.str.replace(r"(?<=\d)[/.](?=\d)", "-", regex=True)
            .str.replace(r"(?<=\d)T(?=\d)", " ", regex=True)
            .str.replace(r"\s+", " ", regex=True)
            .str.strip()
        )
        parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
        left = pd.Series(True, index=text.index)
        for fmt in _TIME_FORMATS:
            if not left.any():
                break
            p = pd.to_datetime(text[left], format=fmt, errors="coerce")
            got = p.notna()
            parsed[got[got].index] = p[got]
            left[got[got].index] = False
        if left.any():
            rest = text[left]
            p = pd.Series(
                [_parse_one(v, dayfirst) for v in rest.to_numpy(dtype=object)],
                index=rest.index,
                dtype="datetime64[ns]",
            )
            parsed[rest.index] = p
        out[text.index] = parsed
    bad = ~blank & out.isna().to_numpy()
    problem[bad] = s[bad].astype(str)
    return out, problem


def _naive(v: Any) -> Any:
    ts = pd.Timestamp(v)
    return ts.tz_convert(_TZ).tz_localize(None) if ts.tzinfo is not None else ts


def _parse_one(text: Any, dayfirst: bool) -> Any:
    if not isinstance(text, str):
        return pd.NaT
    try:
        ts = pd.Timestamp(pd.to_datetime(text, dayfirst=dayfirst))
    except (ValueError, TypeError, OverflowError):
        return pd.NaT
    return _naive(ts)
