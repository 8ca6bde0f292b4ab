"""Event records reported by grid workers: loading, cleaning and label normalisation.

An event (事件) is reported by a grid worker and goes through the workflow
上报 → 分拨 → 处置 → 反馈 → 考核 (report, dispatch, handle, feedback, evaluation). It has a
category, an urgency class (一般 / 重要 / 重要紧急), report and close times and a location.

:func:`load` reads office tables (CSV/Excel/Parquet with Chinese headers, GBK or UTF-8, or a
point layer) and returns *every* row, cleaned: times parsed from the many formats found in
exports (:func:`gridgis.events.parse_times`), urgency and stage normalised to the canonical
Chinese labels, categories tidied, and a ``status`` (``ok`` / ``warning`` / ``invalid``) and
``problem`` column saying what is wrong with a row. Nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._geometry import present
from .._inputs import as_layer
from ..i18n import _, tr
from ..people import header
from ._text import alias_key, alias_lookup, is_blank, map_aliases, show, tidy
from .times import parse_times

__all__ = [
    "STATUS",
    "PROBLEM",
    "SOURCE_ROW",
    "OK",
    "WARNING",
    "INVALID",
    "UNCATEGORISED",
    "URGENCY_ALIASES",
    "STAGE_ALIASES",
    "LEVEL_ALIASES",
    "SATISFACTION_ALIASES",
    "STAGE_TIMES",
    "load",
    "clean",
    "normalize_urgency",
    "normalize_stage",
    "normalize_category",
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

#: Accepted spellings of the level at which an event was resolved (小事不出网格: 网格).
LEVEL_ALIASES: dict[str, tuple[str, ...]] = {
    "网格": ("网格", "网格级", "网格员", "网格内", "grid"),
    "社区": ("社区", "社区级", "村", "村级", "村社区", "村居", "community", "village"),
    "街道": ("街道", "街道级", "乡镇", "镇", "乡", "镇街", "street", "town", "township"),
    "区": ("区", "区级", "区县", "县", "县级", "市", "市级", "部门", "district", "county", "city"),
}
#: Accepted spellings of the satisfaction of the person who reported (回访).
SATISFACTION_ALIASES: dict[str, tuple[str, ...]] = {
    "满意": ("满意", "非常满意", "很满意", "satisfied", "verysatisfied"),
    "基本满意": ("基本满意", "比较满意", "较满意", "一般满意", "fairlysatisfied", "partlysatisfied"),
    "不满意": ("不满意", "非常不满意", "很不满意", "dissatisfied", "unsatisfied", "notsatisfied"),
}
#: Time stamp column of each workflow stage (上报 → 分拨 → 处置 → 反馈 → 考核).
STAGE_TIMES: dict[str, str] = {
    "上报": schema.REPORTED_AT, "分拨": schema.DISPATCHED_AT, "处置": schema.ONSITE_AT,
    "反馈": schema.FEEDBACK_AT, "考核": schema.EVALUATED_AT,
}

_URGENCY = alias_lookup(URGENCY_ALIASES)
_STAGE = alias_lookup(STAGE_ALIASES)
_LEVEL = alias_lookup(LEVEL_ALIASES)
_SATISFACTION = alias_lookup(SATISFACTION_ALIASES)


def _table(base: dict[str, str], extra: Mapping[str, str] | None) -> dict[str, str]:
    table = dict(base)
    table.update({alias_key(k): v for k, v in (extra or {}).items()})
    return table


def normalize_urgency(values: Any, extra: Mapping[str, str] | None = None) -> pd.Series:
    """Canonical urgency labels (一般 / 重要 / 重要紧急); ``None`` for blank or unknown values.

    ``extra`` adds spellings, e.g. ``{"1": "一般", "2": "重要", "3": "重要紧急"}`` for tables
    that use numeric classes (not mapped by default because offices number them both ways).

    Examples
    --------
    >>> from gridgis.events import normalize_urgency
    >>> normalize_urgency(["紧急", "Important & Urgent", "普通", "?"]).tolist()
    ['重要紧急', '重要紧急', '一般', nan]
    >>> normalize_urgency(["3"], extra={"3": "重要紧急"}).tolist()
    ['重要紧急']
    """
    return map_aliases(pd.Series(values), _table(_URGENCY, extra))[0]


def normalize_stage(values: Any, extra: Mapping[str, str] | None = None) -> pd.Series:
    """Canonical workflow stages (上报 / 分拨 / 处置 / 反馈 / 考核); ``None`` when blank/unknown.

    Examples
    --------
    >>> from gridgis.events import normalize_stage
    >>> normalize_stage(["已派遣", "办结", "closed", ""]).tolist()
    ['分拨', '考核', '考核', nan]
    """
    return map_aliases(pd.Series(values), _table(_STAGE, extra))[0]


def normalize_category(values: Any, aliases: Mapping[str, str] | None = None) -> pd.Series:
    """Tidy category labels: full-width → half-width, trimmed, inner spaces collapsed, then
    mapped through ``aliases`` (``{"垃圾": "环境卫生", …}``, matched after the same tidying).
    Blank values become :data:`UNCATEGORISED` (``"未分类"``).

    Examples
    --------
    >>> from gridgis.events import normalize_category
    >>> normalize_category(["环境 卫生", "垃圾", None], {"垃圾": "环境卫生"}).tolist()
    ['环境卫生', '环境卫生', '未分类']
    """
    s = pd.Series(values)
    blank = is_blank(s)
    text = s.astype("string")
    table = {tidy(k): v for k, v in (aliases or {}).items()}
    lookup = {}
    for v in text.dropna().unique():  # once per distinct value
        t = tidy(v)
        lookup[v] = table.get(t, t)
    tidied = text.map(lookup)
    out = pd.Series(tidied.to_numpy(dtype=object), index=s.index)
    out[blank] = UNCATEGORISED
    return out


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

    Examples
    --------
    >>> from gridgis.events import load
    >>> ev = load("data/samples/events_gbk.csv")                   # doctest: +SKIP
    >>> ev["status"].value_counts()                                # doctest: +SKIP
    """
    from ..io import read_points, read_table

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
    from ..crs import resolve_crs

    c = resolve_crs(crs)
    return not isinstance(c, str) and c.is_projected


class _Notes:
    """Problems found per row, and which rows are unusable."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.problems: list[list[str]] = [[] for _ in range(n)]
        self.invalid = np.zeros(n, dtype=bool)

    def add(self, mask: np.ndarray, message: str | Callable[[int], str], *, fatal: bool = False) -> None:
        idx = np.flatnonzero(mask)
        for i in idx:
            self.problems[i].append(message(i) if callable(message) else message)
        if fatal:
            self.invalid[idx] = True

    def everywhere(self) -> np.ndarray:
        return np.ones(self.n, bool)


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

    Examples
    --------
    >>> import gridgis
    >>> from gridgis.events import clean
    >>> ev = clean(gridgis.load_sample()["events"])                # doctest: +SKIP
    >>> ev["status"].value_counts()                                # doctest: +SKIP
    """
    events = as_layer(events, "events", geometry=None, missing="keep", allow_empty=True,
                      normalize=False, source=source)
    ev = events.to_crs(4326) if not events.crs.equals("EPSG:4326") else events.copy()
    ev = ev.reset_index(drop=True)
    notes = _Notes(len(ev))
    ev[SOURCE_ROW] = np.arange(len(ev))
    _check_ids(ev, notes)
    ev = _check_location(ev, notes, geographic)
    _check_times(ev, notes, valid_years)
    _check_labels(ev, notes, urgency_aliases, stage_aliases, category_aliases)
    return _finish(ev, notes, source)


def _check_ids(ev: gpd.GeoDataFrame, notes: _Notes) -> None:
    """Number rows without an ``event_id`` column; note blank and duplicate ids."""
    n = len(ev)
    if schema.EVENT_ID not in ev.columns:
        ev[schema.EVENT_ID] = [f"E{i + 1:06d}" for i in range(n)]
        notes.add(notes.everywhere(), tr('no "{column}" column: rows numbered in order',
                                         column=header(schema.EVENT_ID)))
        return
    ids = ev[schema.EVENT_ID]
    blank = is_blank(ids)
    ev[schema.EVENT_ID] = ids.astype("string").str.strip().astype(object)
    ev.loc[blank, schema.EVENT_ID] = [f"row{i}" for i in np.flatnonzero(blank)]
    notes.add(blank, tr('"{column}" is empty', column=header(schema.EVENT_ID)))
    dup = ev[schema.EVENT_ID].duplicated(keep=False).to_numpy() & ~blank
    if dup.any():
        first = ev.loc[dup].groupby(schema.EVENT_ID)[SOURCE_ROW].transform("min").to_numpy()
        rows = np.flatnonzero(dup)
        firsts = dict(zip(rows, first, strict=True))
        # counted as people count records: 1 = the first data row
        notes.add(dup, lambda i: tr('duplicate "{column}" {value!r} (first at data row {row})',
                                    column=header(schema.EVENT_ID), value=ev.at[i, schema.EVENT_ID],
                                    row=firsts[i] + 1))


def _check_location(ev: gpd.GeoDataFrame, notes: _Notes, geographic: bool) -> gpd.GeoDataFrame:
    """Note missing, unusable and far-away points; unusable points get an empty geometry."""
    from ..crs import in_china

    n = len(ev)
    geoms = ev.geometry.array
    missing = ~present(geoms)
    x = np.where(missing, np.nan, shapely.get_x(geoms))
    y = np.where(missing, np.nan, shapely.get_y(geoms))
    raw_lon = ev[schema.LON] if schema.LON in ev.columns else pd.Series(np.nan, index=ev.index)
    raw_lat = ev[schema.LAT] if schema.LAT in ev.columns else pd.Series(np.nan, index=ev.index)
    no_coord = missing & is_blank(raw_lon) | missing & is_blank(raw_lat)
    notes.add(no_coord, _("no coordinates"), fatal=True)
    notes.add(missing & ~no_coord, lambda i: tr("coordinates not numeric ({lon}, {lat})",
                                                lon=show(raw_lon.iat[i]), lat=show(raw_lat.iat[i])),
              fatal=True)
    if geographic:
        out_range = ~missing & ((np.abs(x) > 180) | (np.abs(y) > 90))
        swapped = out_range & (np.abs(y) <= 180) & (np.abs(x) <= 90)
        notes.add(swapped, lambda i: tr("longitude/latitude swapped? (lon {lon:g}, lat {lat:g})",
                                        lon=x[i], lat=y[i]), fatal=True)
        notes.add(out_range & ~swapped, lambda i: tr("coordinates out of range (lon {lon:g}, lat {lat:g})",
                                                     lon=x[i], lat=y[i]), fatal=True)
        zero = ~missing & (x == 0) & (y == 0)
        notes.add(zero, _("coordinates are (0, 0)"), fatal=True)
        bad_geo = out_range | zero
    else:
        bad_geo = np.zeros(n, dtype=bool)
    far = ~missing & ~bad_geo & ~in_china(x, y)
    notes.add(far, lambda i: tr("location outside China (lon {lon:.5f}, lat {lat:.5f})", lon=x[i], lat=y[i]))
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
    return ev


def _check_times(ev: gpd.GeoDataFrame, notes: _Notes, valid_years: tuple[int, int]) -> None:
    """Parse report and close times; note unparseable, implausible and inverted times."""
    lo, hi = valid_years
    for col, required in ((schema.REPORTED_AT, True), (schema.CLOSED_AT, False)):
        if col not in ev.columns:
            ev[col] = pd.Series(pd.NaT, index=ev.index, dtype="datetime64[ns]")
            if required:
                notes.add(notes.everywhere(), tr('no "{column}" column', column=header(col)))
            continue
        raw = ev[col]
        t, bad = parse_times(raw)
        badm = bad.notna().to_numpy()
        notes.add(badm, lambda i, c=col, b=bad: tr('"{column}" is not a date and time: {value!r}',
                                                   column=header(c), value=b.iat[i]))
        years = t.dt.year.to_numpy(dtype=float)
        odd = np.isfinite(years) & ((years < lo) | (years > hi))
        notes.add(odd, lambda i, c=col, tt=t: tr('"{column}" has an implausible year: {value}', column=header(c),
                                                 value=tt.iat[i]))
        t[odd] = pd.NaT
        if required:
            notes.add(is_blank(raw), tr('"{column}" is empty', column=header(col)))
        ev[col] = t.to_numpy()
    before = (ev[schema.CLOSED_AT] < ev[schema.REPORTED_AT]).to_numpy(dtype=bool)
    notes.add(before, tr('"{column}" is before "{reported}"', column=header(schema.CLOSED_AT),
                         reported=header(schema.REPORTED_AT)))
    _check_stage_times(ev, notes, valid_years)


def _check_stage_times(ev: gpd.GeoDataFrame, notes: _Notes, valid_years: tuple[int, int]) -> None:
    """Optional stage time stamps: parsed like the report time; one before the report is noted."""
    lo, hi = valid_years
    for col in (schema.DISPATCHED_AT, schema.ONSITE_AT, schema.FEEDBACK_AT, schema.EVALUATED_AT):
        if col not in ev.columns:
            continue
        t, bad = parse_times(ev[col])
        notes.add(bad.notna().to_numpy(), lambda i, c=col, b=bad: tr(
            '"{column}" is not a date and time: {value!r}', column=header(c), value=b.iat[i]))
        years = t.dt.year.to_numpy(dtype=float)
        t[np.isfinite(years) & ((years < lo) | (years > hi))] = pd.NaT
        notes.add((t < ev[schema.REPORTED_AT]).to_numpy(dtype=bool),
                  tr('"{column}" is before "{reported}"', column=header(col),
                     reported=header(schema.REPORTED_AT)))
        ev[col] = t.to_numpy()


def _check_labels(
    ev: gpd.GeoDataFrame,
    notes: _Notes,
    urgency_aliases: Mapping[str, str] | None,
    stage_aliases: Mapping[str, str] | None,
    category_aliases: Mapping[str, str] | None,
) -> None:
    """Normalise urgency, stage and category; note missing and unknown labels."""
    for col, table, extra, label in (
        (schema.URGENCY, _URGENCY, urgency_aliases, header(schema.URGENCY)),
        (schema.STAGE, _STAGE, stage_aliases, header(schema.STAGE)),
    ):
        if col not in ev.columns:
            ev[col] = None
            notes.add(notes.everywhere(), tr('no "{column}" column', column=label))
            continue
        raw = ev[col]
        norm, blank, unknown = map_aliases(raw, _table(table, extra))
        notes.add(blank, tr('"{column}" is empty', column=label))
        allowed = " / ".join(schema.URGENCY_LEVELS if col == schema.URGENCY else schema.STAGES)
        notes.add(unknown, lambda i, r=raw, lab=label, a=allowed: tr(
            '"{column}" value {value!r} not recognised (expected {allowed})', column=lab,
            value=str(r.iat[i]), allowed=a))
        ev[col] = norm.to_numpy(dtype=object)
    for col, table, allowed in ((schema.HANDLING_LEVEL, _LEVEL, schema.HANDLING_LEVELS),
                                (schema.SATISFACTION, _SATISFACTION, schema.SATISFACTION_LEVELS)):
        if col in ev.columns:  # optional: blank is fine, an unknown spelling is noted
            norm, _blank, unknown = map_aliases(ev[col], table)
            expected = " / ".join(allowed)
            notes.add(unknown, lambda i, r=ev[col], c=col, a=expected: tr(
                '"{column}" value {value!r} not recognised (expected {allowed})', column=header(c),
                value=str(r.iat[i]), allowed=a))
            ev[col] = norm.to_numpy(dtype=object)
    if schema.DEPARTMENT in ev.columns:
        dept = ev[schema.DEPARTMENT]
        ev[schema.DEPARTMENT] = np.where(is_blank(dept), None, dept.astype("string").map(
            lambda v: tidy(v) if isinstance(v, str) else None).to_numpy(dtype=object))
    if schema.CATEGORY not in ev.columns:
        ev[schema.CATEGORY] = UNCATEGORISED
        notes.add(notes.everywhere(), tr('no "{column}" column', column=header(schema.CATEGORY)))
    else:
        blank = is_blank(ev[schema.CATEGORY])
        ev[schema.CATEGORY] = normalize_category(ev[schema.CATEGORY], category_aliases).to_numpy(dtype=object)
        notes.add(blank, tr('"{column}" is empty (set to {value})', column=header(schema.CATEGORY),
                            value=UNCATEGORISED))


def _finish(ev: gpd.GeoDataFrame, notes: _Notes, source: str) -> gpd.GeoDataFrame:
    """Add ``status`` and ``problem`` and put the canonical columns first."""
    problems = notes.problems
    status = np.where(notes.invalid, INVALID, np.where([bool(p) for p in problems], WARNING, OK))
    ev[STATUS] = status
    ev[PROBLEM] = ["; ".join(p) for p in problems]
    front = [schema.EVENT_ID, schema.CATEGORY, schema.URGENCY, schema.STAGE, schema.REPORTED_AT,
             schema.CLOSED_AT, schema.LON, schema.LAT]
    front += [c for c in (schema.DISPATCHED_AT, schema.ONSITE_AT, schema.FEEDBACK_AT, schema.EVALUATED_AT,
                          schema.DEPARTMENT, schema.HANDLING_LEVEL, schema.SATISFACTION) if c in ev.columns]
    tail = [SOURCE_ROW, STATUS, PROBLEM]
    geom = ev.geometry.name
    rest = [c for c in ev.columns if c not in front and c not in tail and c != geom]
    out = ev[front + rest + tail + [geom]]
    out.attrs["source"] = source
    return out
