"""Events reported by grid workers: loading, cleaning and per-grid statistics.

An event (事件) is reported by a grid worker and goes through the workflow
上报 → 分拨 → 处置 → 反馈 → 考核 (report, dispatch, handle, feedback, evaluation). It has a
category, an urgency class (一般 / 重要 / 重要紧急), report and close times and a location.

:func:`load` reads office tables (CSV/Excel/Parquet with Chinese headers, GBK or UTF-8, or a
point layer) and returns *every* row, cleaned: times parsed from the many formats found in
exports, urgency and stage normalised to the canonical Chinese labels, categories tidied, and a
``status`` (``ok`` / ``warning`` / ``invalid``) and ``problem`` column saying what is wrong with a
row. Nothing is dropped.

:func:`grid_stats` turns events that carry a ``grid_code`` (see :func:`gridgis.assign.assign`)
into one row per grid: counts by category, urgency and stage, the rate per 100 households and
the share of events closed within their deadline (``rules.events.deadline_days`` by urgency).
:func:`trend` counts events by day, week or month.

Example
-------
>>> from gridgis import events
>>> ev = events.load("事件台账.xlsx")                       # doctest: +SKIP
>>> ev["status"].value_counts()                           # doctest: +SKIP
>>> stats = events.grid_stats(assigned_events, grids)     # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import schema
from .errors import GridGISError, SchemaError
from .rules import Rules, load_rules

__all__ = [
    "STATUS",
    "PROBLEM",
    "URGENCY_ALIASES",
    "STAGE_ALIASES",
    "load",
    "clean",
    "parse_times",
    "normalize_urgency",
    "normalize_stage",
    "normalize_category",
    "deadlines",
    "grid_stats",
    "trend",
    "attach_grid_codes",
]

STATUS = "status"  # "ok" | "warning" | "invalid"
PROBLEM = "problem"  # "" when ok, else "; "-joined reasons
SOURCE_ROW = "source_row"  # 0-based row position in the input table

OK, WARNING, INVALID = "ok", "warning", "invalid"
UNCATEGORISED = "未分类"

# ---- vocabularies ---------------------------------------------------------------------------------

#: Accepted spellings of the urgency classes (compared after removing spaces and punctuation
#: and lower-casing, so "重要、紧急", "Important & Urgent" and "urgent-important" all match).
URGENCY_ALIASES: dict[str, tuple[str, ...]] = {
    "一般": ("一般", "普通", "一般事件", "常规", "低", "较低", "一般类", "general", "normal",
            "ordinary", "routine", "low", "minor", "regular"),
    "重要": ("重要", "较重要", "重要事件", "中", "较高", "重大", "important", "major", "medium",
            "moderate", "significant"),
    "重要紧急": ("重要紧急", "紧急重要", "重要且紧急", "紧急且重要", "重要和紧急", "紧急", "特急",
              "加急", "高", "紧急事件", "importanturgent", "urgentimportant", "importantandurgent",
              "urgentandimportant", "urgent", "high", "critical", "emergency", "veryurgent"),
}

#: Accepted spellings of the workflow stages.
STAGE_ALIASES: dict[str, tuple[str, ...]] = {
    "上报": ("上报", "已上报", "报告", "登记", "受理", "待分拨", "待受理", "新建", "report",
            "reported", "new", "open", "submitted", "registered"),
    "分拨": ("分拨", "已分拨", "派遣", "已派遣", "分派", "派单", "已派单", "立案", "转办", "交办",
            "待处置", "dispatch", "dispatched", "assigned", "assign", "routed"),
    "处置": ("处置", "处置中", "处理", "处理中", "办理", "办理中", "在办", "承办", "整改",
            "handle", "handling", "handled", "dispose", "disposal", "processing", "inprogress",
            "resolving", "working"),
    "反馈": ("反馈", "已反馈", "回复", "回访", "核查", "核实", "待核查", "feedback", "reply",
            "replied", "verify", "verification", "review"),
    "考核": ("考核", "评价", "已评价", "结案", "已结案", "办结", "已办结", "归档", "已完成", "完成",
            "关闭", "已关闭", "evaluate", "evaluation", "evaluated", "assessment", "assessed",
            "closed", "close", "done", "completed", "finished", "resolved", "archived"),
}

_PUNCT = re.compile(r"[\s_\-/\\、,，.。;；:：&＆+＋|()（）\[\]【】\"'“”‘’]|和|且|与|及|and")
_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _key(value: str) -> str:
    text = str(value).translate(_FULLWIDTH).strip().lower()
    return _PUNCT.sub("", text)


def _lookup(aliases: Mapping[str, Iterable[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for canonical, spellings in aliases.items():
        for s in (canonical, *spellings):
            out[_key(s)] = canonical
    return out


_URGENCY = _lookup(URGENCY_ALIASES)
_STAGE = _lookup(STAGE_ALIASES)


def _is_blank(s: pd.Series) -> np.ndarray:
    text = s.astype("string").str.strip()
    return (s.isna() | text.isna() | (text == "") | text.str.lower().isin(["nan", "none", "null", "nat", "-", "—", "/"])).to_numpy(dtype=bool)


def _normalize(values: pd.Series, table: dict[str, str]) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Map values through an alias table; returns (normalised, blank mask, unknown mask)."""
    blank = _is_blank(values)
    text = values.astype("string")
    lookup = {v: table.get(_key(v)) for v in text.dropna().unique()}  # once per distinct value
    mapped = text.map(lookup)
    unknown = ~blank & mapped.isna().to_numpy()
    out = pd.Series(mapped.to_numpy(dtype=object), index=values.index)
    out[blank | unknown] = None
    return out, blank, unknown


def normalize_urgency(values: Any, extra: Mapping[str, str] | None = None) -> pd.Series:
    """Canonical urgency labels (一般 / 重要 / 重要紧急); ``None`` for blank or unknown values.

    ``extra`` adds spellings, e.g. ``{"1": "一般", "2": "重要", "3": "重要紧急"}`` for tables
    that use numeric classes (not mapped by default because offices number them both ways).
    """
    table = dict(_URGENCY)
    table.update({_key(k): v for k, v in (extra or {}).items()})
    return _normalize(pd.Series(values), table)[0]


def normalize_stage(values: Any, extra: Mapping[str, str] | None = None) -> pd.Series:
    """Canonical workflow stages (上报 / 分拨 / 处置 / 反馈 / 考核); ``None`` when blank/unknown."""
    table = dict(_STAGE)
    table.update({_key(k): v for k, v in (extra or {}).items()})
    return _normalize(pd.Series(values), table)[0]


def normalize_category(values: Any, aliases: Mapping[str, str] | None = None) -> pd.Series:
    """Tidy category labels: full-width → half-width, trimmed, inner spaces collapsed, then
    mapped through ``aliases`` (``{"垃圾": "环境卫生", …}``, matched after the same tidying).
    Blank values become :data:`UNCATEGORISED` (``"未分类"``)."""
    s = pd.Series(values)
    blank = _is_blank(s)
    text = s.astype("string")
    table = {_tidy(k): v for k, v in (aliases or {}).items()}
    lookup = {}
    for v in text.dropna().unique():  # once per distinct value
        t = _tidy(v)
        lookup[v] = table.get(t, t)
    tidy = text.map(lookup)
    out = pd.Series(tidy.to_numpy(dtype=object), index=s.index)
    out[blank] = UNCATEGORISED
    return out


def _show(value: Any) -> str:
    """Short text of a raw cell value for problem messages."""
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    if isinstance(value, int | np.integer):
        return str(int(value))
    return repr(str(value))


_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")


def _tidy(value: str) -> str:
    text = re.sub(r"\s+", " ", str(value).translate(_FULLWIDTH).strip())
    return _CJK_GAP.sub("", text)


# ---- times ---------------------------------------------------------------------------------------

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
    blank = _is_blank(s)
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


# ---- loading ------------------------------------------------------------------------------------


def load(
    source: str | Path | pd.DataFrame,
    *,
    crs: Any = "EPSG:4326",
    sheet: str | int | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    header_row: int | None = None,
    category_aliases: Mapping[str, str] | None = None,
    urgency_aliases: Mapping[str, str] | None = None,
    stage_aliases: Mapping[str, str] | None = None,
    extra_aliases: Mapping[str, str] | None = None,
    valid_years: tuple[int, int] = (1990, 2100),
) -> gpd.GeoDataFrame:
    """Read an event table and return every row, cleaned, with ``status`` and ``problem``.

    Parameters
    ----------
    source
        CSV/TSV (UTF-8, UTF-8-BOM or GBK), Excel, Parquet, a point layer (GeoPackage …), or a
        (Geo)DataFrame. Chinese headers are recognised (事件编号, 事件类型, 紧急程度, 流程环节,
        上报时间, 办结时间, 经度, 纬度 …; see :mod:`gridgis.schema`).
    crs
        CRS of the lon/lat columns: ``"EPSG:4326"`` (default), ``"EPSG:4490"``, ``"GCJ02"``
        (Amap/Tencent), ``"BD09"`` (Baidu), or a projected CRS whose x/y sit in lon/lat.
    sheet, layer, encoding
        Excel sheet (default: the one with coordinates), vector layer and CSV encoding
        (detected when ``None``).
    header_row
        Row number (1 = first) of the header in a CSV or sheet (default: found under titles).
    lon, lat
        Column names of the coordinates when the headers are not recognised.
    category_aliases
        ``{spelling: category}`` to merge category spellings.
    urgency_aliases, stage_aliases
        Extra spellings for urgency / stage, e.g. ``{"3": "重要紧急"}``.
    extra_aliases
        Extra ``{header: canonical column}`` pairs.
    valid_years
        Times outside these years are reported as implausible.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326, one row per input row in input order, with canonical columns
        ``event_id, category, urgency, stage, reported_at, closed_at, lon, lat`` (lon/lat in
        WGS84), ``source_row`` (0-based input row), ``status`` (``ok``; ``warning``: usable but
        something is off; ``invalid``: no usable location) and ``problem`` (reasons, ``""``
        when ok), other input columns unchanged. Rows without a usable location have an
        empty geometry.

    Raises
    ------
    InputFileError, SchemaError
        Unreadable file, or no coordinate columns at all.
    """
    from .io import read_points, read_table

    label = str(source) if not isinstance(source, pd.DataFrame) else "<events table>"
    if (
        not isinstance(source, pd.DataFrame)
        and Path(source).suffix.lower() in {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq"}
    ):
        table = read_table(source, sheet=sheet, encoding=encoding, extra_aliases=extra_aliases,
                           header_row=header_row)
        pts = read_points(table, crs=crs, lon=lon, lat=lat)
    elif isinstance(source, pd.DataFrame):
        table = schema.normalize_columns(source, extra_aliases=extra_aliases, source=label)
        pts = read_points(table, crs=crs, lon=lon, lat=lat)
    else:
        pts = read_points(source, crs=crs, lon=lon, lat=lat, layer=layer, encoding=encoding)
    return clean(
        pts,
        source=label,
        category_aliases=category_aliases,
        urgency_aliases=urgency_aliases,
        stage_aliases=stage_aliases,
        valid_years=valid_years,
        geographic=not _is_projected(crs),
    )


def _is_projected(crs: Any) -> bool:
    from .crs import resolve_crs

    c = resolve_crs(crs)
    return not isinstance(c, str) and c.is_projected


def clean(
    events: gpd.GeoDataFrame,
    *,
    source: str = "<events>",
    category_aliases: Mapping[str, str] | None = None,
    urgency_aliases: Mapping[str, str] | None = None,
    stage_aliases: Mapping[str, str] | None = None,
    valid_years: tuple[int, int] = (1990, 2100),
    geographic: bool = True,
) -> gpd.GeoDataFrame:
    """Normalise and check an event GeoDataFrame with canonical headers (see :func:`load`).

    Works on any GeoDataFrame of point events (e.g. the ``events`` layer of the sample); the
    result is in EPSG:4326 with ``status``/``problem`` columns and every row kept.
    """
    if not isinstance(events, gpd.GeoDataFrame):
        raise SchemaError("events must be a GeoDataFrame", source=source, fix="use gridgis.events.load")
    if events.crs is None:
        from .errors import CRSError

        raise CRSError("events have no CRS", source=source, fix="set one, e.g. .set_crs(4326)")
    ev = events.to_crs(4326) if not events.crs.equals("EPSG:4326") else events.copy()
    ev = ev.reset_index(drop=True)
    n = len(ev)
    problems: list[list[str]] = [[] for _ in range(n)]
    invalid = np.zeros(n, dtype=bool)

    def note(mask: np.ndarray, message: Any, *, fatal: bool = False) -> None:
        idx = np.flatnonzero(mask)
        for i in idx:
            problems[i].append(message(i) if callable(message) else message)
        if fatal:
            invalid[idx] = True

    ev[SOURCE_ROW] = np.arange(n)
    if schema.EVENT_ID not in ev.columns:
        ev[schema.EVENT_ID] = [f"E{i + 1:06d}" for i in range(n)]
        note(np.ones(n, bool), "no event_id column: numbered by row")
    else:
        ids = ev[schema.EVENT_ID]
        blank = _is_blank(ids)
        ev[schema.EVENT_ID] = ids.astype("string").str.strip().astype(object)
        ev.loc[blank, schema.EVENT_ID] = [f"row{i}" for i in np.flatnonzero(blank)]
        note(blank, "event_id missing")
        dup = ev[schema.EVENT_ID].duplicated(keep=False).to_numpy() & ~blank
        if dup.any():
            first = ev.loc[dup].groupby(schema.EVENT_ID)[SOURCE_ROW].transform("min").to_numpy()
            rows = np.flatnonzero(dup)
            firsts = dict(zip(rows, first, strict=True))
            note(dup, lambda i: f"duplicate event_id {ev.at[i, schema.EVENT_ID]!r} (first at row {firsts[i]})")

    # --- location
    geoms = ev.geometry.array
    missing = np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    x = np.where(missing, np.nan, shapely.get_x(geoms))
    y = np.where(missing, np.nan, shapely.get_y(geoms))
    raw_lon = ev[schema.LON] if schema.LON in ev.columns else pd.Series(np.nan, index=ev.index)
    raw_lat = ev[schema.LAT] if schema.LAT in ev.columns else pd.Series(np.nan, index=ev.index)
    no_coord = missing & _is_blank(raw_lon) | missing & _is_blank(raw_lat)
    note(no_coord, "no coordinates", fatal=True)
    note(missing & ~no_coord, lambda i: f"coordinates not numeric ({_show(raw_lon.iat[i])}, {_show(raw_lat.iat[i])})", fatal=True)
    if geographic:
        out_range = ~missing & ((np.abs(x) > 180) | (np.abs(y) > 90))
        swapped = out_range & (np.abs(y) <= 180) & (np.abs(x) <= 90)
        note(swapped, lambda i: f"longitude/latitude swapped? (lon {x[i]:g}, lat {y[i]:g})", fatal=True)
        note(out_range & ~swapped, lambda i: f"coordinates out of range (lon {x[i]:g}, lat {y[i]:g})", fatal=True)
        zero = ~missing & (x == 0) & (y == 0)
        note(zero, "coordinates are (0, 0)", fatal=True)
        bad_geo = out_range | zero
    else:
        bad_geo = np.zeros(n, dtype=bool)
    from .crs import in_china

    far = ~missing & ~bad_geo & ~in_china(x, y)
    note(far, lambda i: f"location outside China (lon {x[i]:.5f}, lat {y[i]:.5f})")
    drop_geom = missing | bad_geo
    if drop_geom.any():
        arr = np.asarray(ev.geometry.array, dtype=object).copy()
        arr[drop_geom] = None
        ev = ev.set_geometry(gpd.GeoSeries(arr, index=ev.index, crs=4326))
    lon_w = np.where(drop_geom, np.nan, x)
    lat_w = np.where(drop_geom, np.nan, y)
    if "lon_raw" not in ev.columns and schema.LON in ev.columns:
        numeric = pd.to_numeric(ev[schema.LON], errors="coerce").to_numpy(dtype=float)
        if not np.allclose(numeric[~drop_geom], lon_w[~drop_geom], equal_nan=True, atol=1e-9):
            ev["lon_raw"] = ev[schema.LON]
            ev["lat_raw"] = ev[schema.LAT]
    ev[schema.LON] = lon_w
    ev[schema.LAT] = lat_w

    # --- times
    lo, hi = valid_years
    for col, required in ((schema.REPORTED_AT, True), (schema.CLOSED_AT, False)):
        if col not in ev.columns:
            ev[col] = pd.Series(pd.NaT, index=ev.index, dtype="datetime64[ns]")
            if required:
                note(np.ones(n, bool), f"no {col} column")
            continue
        raw = ev[col]
        t, bad = parse_times(raw)
        badm = bad.notna().to_numpy()
        note(badm, lambda i, c=col, b=bad: f"{c} not a date-time ({b.iat[i]!r})")
        years = t.dt.year.to_numpy(dtype=float)
        odd = np.isfinite(years) & ((years < lo) | (years > hi))
        note(odd, lambda i, c=col, tt=t: f"{c} implausible ({tt.iat[i]})")
        t[odd] = pd.NaT
        if required:
            note(_is_blank(raw), f"{col} missing")
        ev[col] = t.to_numpy()
    before = (ev[schema.CLOSED_AT] < ev[schema.REPORTED_AT]).to_numpy(dtype=bool)
    note(before, "closed_at is before reported_at")

    # --- urgency, stage, category
    for col, table, extra, label in (
        (schema.URGENCY, _URGENCY, urgency_aliases, "urgency"),
        (schema.STAGE, _STAGE, stage_aliases, "stage"),
    ):
        if col not in ev.columns:
            ev[col] = None
            note(np.ones(n, bool), f"no {label} column")
            continue
        tbl = dict(table)
        tbl.update({_key(k): v for k, v in (extra or {}).items()})
        raw = ev[col]
        norm, blank, unknown = _normalize(raw, tbl)
        note(blank, f"{label} missing")
        allowed = " / ".join(schema.URGENCY_LEVELS if col == schema.URGENCY else schema.STAGES)
        note(unknown, lambda i, r=raw, lab=label, a=allowed: f"{lab} {str(r.iat[i])!r} not recognised (expected {a})")
        ev[col] = norm.to_numpy(dtype=object)
    if schema.CATEGORY not in ev.columns:
        ev[schema.CATEGORY] = UNCATEGORISED
        note(np.ones(n, bool), "no category column")
    else:
        blank = _is_blank(ev[schema.CATEGORY])
        ev[schema.CATEGORY] = normalize_category(ev[schema.CATEGORY], category_aliases).to_numpy(dtype=object)
        note(blank, f"category missing (set to {UNCATEGORISED})")

    status = np.where(invalid, INVALID, np.where([bool(p) for p in problems], WARNING, OK))
    ev[STATUS] = status
    ev[PROBLEM] = ["; ".join(p) for p in problems]
    front = [schema.EVENT_ID, schema.CATEGORY, schema.URGENCY, schema.STAGE, schema.REPORTED_AT,
             schema.CLOSED_AT, schema.LON, schema.LAT]
    tail = [SOURCE_ROW, STATUS, PROBLEM]
    geom = ev.geometry.name
    rest = [c for c in ev.columns if c not in front and c not in tail and c != geom]
    out = ev[front + rest + tail + [geom]]
    out.attrs["source"] = source
    return out


# ---- deadlines and statistics ----------------------------------------------------------------------


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
        Events with a ``grid_code`` column (from :func:`gridgis.assign.assign` or
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
    """
    schema.require_columns(grids, [schema.GRID_CODE], source="grids")
    if schema.GRID_CODE not in events.columns:
        raise SchemaError(
            "events have no grid_code column",
            source="events",
            fix="assign them first: gridgis.assign.assign(events, grids) or events.attach_grid_codes",
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
    """Periods (day ``"D"``, ISO week Monday–Sunday ``"W"``, month ``"M"``) of a time column."""
    key = str(freq).upper()[:1]
    if key not in _FREQ:
        raise GridGISError(f"unknown freq {freq!r}", fix="use 'D' (day), 'W' (week) or 'M' (month)")
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

    Uses :func:`gridgis.assign.assign` (its ``match``/``match_reason``/``distance_m`` columns
    are added and explain unassigned rows; boundary points go to one grid only); without it, a
    plain point-in-polygon test. Events outside every grid get an empty ``grid_code``.
    """
    schema.require_columns(grids, [schema.GRID_CODE], source="grids")
    try:
        from .assignment import assign
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
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    pi, gi = tree.query(geoms[ok], predicate="intersects")
    first = pd.Series(gi, index=pi).groupby(level=0).min()
    code = np.full(len(pts), "", dtype=object)
    idx_ok = np.flatnonzero(ok)
    code[idx_ok[first.index.to_numpy()]] = grids[schema.GRID_CODE].astype(str).to_numpy()[first.to_numpy()]
    out = events.copy()
    out[schema.GRID_CODE] = code
    return out
