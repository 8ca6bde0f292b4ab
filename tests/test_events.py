"""Event loading (formats, times, vocabularies, bad rows) and per-grid statistics."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridgis import events
from gridgis.errors import GridGISError, SchemaError

from .events_fixtures import make_events, make_grids

T = pd.Timestamp


def messy_table() -> pd.DataFrame:
    return pd.DataFrame({
        "事件编号": ["A1", "A2", "A3", "A4", "A5", "A5", "A7", "A8"],
        "事件类型": ["环境卫生", " 环境卫生 ", "治安", "", "市容　环境", "治安", "治安", "道路"],
        "紧急程度": ["一般", "紧急重要", "Important & Urgent", "重要", "很急", "urgent", "", "一般"],
        "流程环节": ["上报", "已派遣", "处置中", "feedback", "考核", "closed", "结案", "??"],
        "上报时间": ["2025-03-04 08:15", "2025/3/4 8:15", "2025年3月5日 9时30分", 45720.5,
                 "20250306101500", "abc", "2025-03-07T10:00:00+00:00", None],
        "办结时间": ["2025-03-05 08:15", None, "2025-03-04", "", "2025/3/20", None, None, None],
        "经度": [112.9, 112.91, "x", 27.85, 112.92, 250, None, 112.93],
        "纬度": [27.85, 27.86, 27.85, 112.9, 27.87, 27.8, None, 27.88],
    })


def test_load_gbk_csv_with_chinese_headers_keeps_every_row_with_reasons(tmp_path):
    path = tmp_path / "事件.csv"
    messy_table().to_csv(path, index=False, encoding="gbk")
    ev = events.load(path)
    assert len(ev) == 8 and list(ev[events.SOURCE_ROW]) == list(range(8))
    assert ev.crs.to_epsg() == 4326
    assert list(ev["event_id"]) == ["A1", "A2", "A3", "A4", "A5", "A5", "A7", "A8"]
    assert list(ev["reported_at"][:5]) == [T("2025-03-04 08:15"), T("2025-03-04 08:15"), T("2025-03-05 09:30"),
                                           T("2025-03-04 12:00"), T("2025-03-06 10:15")]
    assert ev["reported_at"].iloc[6] == T("2025-03-07 18:00")  # UTC converted to Beijing time
    assert list(ev["urgency"][:4]) == ["一般", "重要紧急", "重要紧急", "重要"]
    assert list(ev["stage"][:7]) == ["上报", "分拨", "处置", "反馈", "考核", "考核", "考核"]
    assert list(ev["category"][:5]) == ["环境卫生", "环境卫生", "治安", "未分类", "市容环境"]
    status = dict(zip(ev["event_id"] + ev[events.SOURCE_ROW].astype(str), ev["status"], strict=True))
    assert status == {"A10": "ok", "A21": "ok", "A32": "invalid", "A43": "invalid", "A54": "warning",
                      "A55": "invalid", "A76": "invalid", "A87": "warning"}
    p = ev["problem"].tolist()  # reasons name the columns by their headers for people
    assert p[0] == "" and p[1] == ""
    assert "coordinates not numeric ('x', 27.85)" in p[2] and '"Closed at" is before "Reported at"' in p[2]
    assert "longitude/latitude swapped" in p[3] and '"Event category" is empty' in p[3]
    assert "duplicate \"Event ID\" 'A5'" in p[4] and "\"Urgency\" value '很急' not recognised" in p[4]
    assert "out of range" in p[5] and "\"Reported at\" is not a date and time: 'abc'" in p[5]
    assert "no coordinates" in p[6] and '"Urgency" is empty' in p[6]
    assert '"Reported at" is empty' in p[7] and "\"Workflow stage\" value '??' not recognised" in p[7]
    assert ev.geometry.isna().sum() == 4  # invalid rows have no point, but are kept
    assert np.isnan(ev["lon"].iloc[3])


def test_excel_datetime_cells_serials_and_parquet(tmp_path):
    df = pd.DataFrame({
        "案件编号": ["1", "2", "3"],
        "事件类别": ["a", "b", "c"],
        "事件等级": ["普通", "重要", "紧急"],
        "办理状态": ["办理中", "已办结", "待受理"],
        "发生时间": [dt.datetime(2025, 3, 4, 8, 15), dt.datetime(2025, 3, 5, 9, 0), dt.datetime(2025, 3, 6)],
        "结案时间": [None, dt.datetime(2025, 3, 6), None],
        "lng": [112.9, 112.91, 112.92],
        "lat": [27.85, 27.86, 27.87],
    })
    xlsx = tmp_path / "ev.xlsx"
    df.to_excel(xlsx, index=False)
    a = events.load(xlsx)
    assert list(a["reported_at"]) == [T("2025-03-04 08:15"), T("2025-03-05 09:00"), T("2025-03-06")]
    assert list(a["urgency"]) == ["一般", "重要", "重要紧急"]
    assert list(a["stage"]) == ["处置", "考核", "上报"]
    assert (a["status"] == "ok").all(), a["problem"].tolist()
    pq = tmp_path / "ev.parquet"
    df.assign(发生时间=["45720.34375", "1741047300", "2025.03.06"]).to_parquet(pq)
    b = events.load(pq)
    assert list(b["reported_at"]) == [T("2025-03-04 08:15"), T("2025-03-04 08:15"), T("2025-03-06")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("一般", "一般"), ("普通", "一般"), ("General", "一般"), ("normal", "一般"),
        ("重要", "重要"), ("important", "重要"), ("Major", "重要"),
        ("重要紧急", "重要紧急"), ("紧急重要", "重要紧急"), ("重要、紧急", "重要紧急"), ("重要且紧急", "重要紧急"),
        ("Important & Urgent", "重要紧急"), ("urgent-important", "重要紧急"), ("URGENT", "重要紧急"),
        ("紧急", "重要紧急"), ("　重要紧急　", "重要紧急"),
        ("很急", None), ("3", None), (None, None), ("", None),
    ],
)
def test_urgency_spellings(raw, expected):
    got = events.normalize_urgency([raw]).iloc[0]
    assert (pd.isna(got) and expected is None) or got == expected


def test_extra_spellings_and_category_aliases():
    assert events.normalize_urgency(["3", "1"], extra={"3": "重要紧急", "1": "一般"}).tolist() == ["重要紧急", "一般"]
    stages = events.normalize_stage(["Dispatched", "办结", "回访", "nope"])
    assert stages[:3].tolist() == ["分拨", "考核", "反馈"] and pd.isna(stages[3])
    cats = events.normalize_category(["垃圾 ", "乱堆放", None], aliases={"垃圾": "环境卫生", "乱堆放": "环境卫生"})
    assert cats.tolist() == ["环境卫生", "环境卫生", "未分类"]


def test_parse_times_reports_unparseable_text():
    t, bad = events.parse_times(["2025-3-4", "2025年12月1日", "2025/03/04 23:59:59", "yesterday", "", None,
                                 "2025-02-30 10:00", "20250304"])
    assert list(t[:3]) == [T("2025-03-04"), T("2025-12-01"), T("2025-03-04 23:59:59")]
    assert pd.isna(t[3]) and bad[3] == "yesterday"
    assert pd.isna(t[4]) and pd.isna(bad[4]) and pd.isna(t[5]) and pd.isna(bad[5])
    assert pd.isna(t[6]) and bad[6] == "2025-02-30 10:00"
    assert t[7] == T("2025-03-04")


def test_gcj02_coordinates_are_converted_and_raw_kept():
    df = pd.DataFrame({"事件编号": ["1"], "事件类型": ["x"], "紧急程度": ["一般"], "流程环节": ["上报"],
                       "上报时间": ["2025-03-04 08:00"], "经度": [112.9], "纬度": [27.85]})
    ev = events.load(df, crs="GCJ02")
    assert ev["lon_raw"].iloc[0] == 112.9
    # GCJ-02 is offset by a few hundred metres from WGS84 in Hunan
    assert 0.002 < abs(ev["lon"].iloc[0] - 112.9) < 0.01
    assert ev.geometry.iloc[0].x == pytest.approx(ev["lon"].iloc[0])


def test_sample_like_geodataframe_is_cleaned_in_place_order():
    grids = make_grids()
    raw = make_events(grids)
    ev = events.clean(raw)
    assert len(ev) == len(raw) and (ev["status"] == "ok").all()
    assert ev.crs.to_epsg() == 4326
    assert np.allclose(ev["lon"], raw["lon"]) and list(ev["event_id"]) == list(raw["event_id"])


def test_missing_required_columns():
    with pytest.raises(SchemaError):
        events.load(pd.DataFrame({"事件编号": ["1"], "事件类型": ["x"]}))
    ev = events.load(pd.DataFrame({"经度": [112.9], "纬度": [27.85]}))
    assert ev["status"].iloc[0] == "warning"
    assert 'no "Reported at" column' in ev["problem"].iloc[0]


def test_deadlines_calendar_working_days_and_rules():
    df = pd.DataFrame({
        "urgency": ["一般", "一般", "重要紧急", "重要", None, "一般"],
        "reported_at": [T("2025-03-07 10:00"), T("2025-03-07 10:00"), T("2025-03-07 10:00"),
                        T("2025-03-07 10:00"), T("2025-03-07 10:00"), T("2025-03-20 10:00")],
        "closed_at": [T("2025-03-14 09:00"), T("2025-03-17 09:00"), T("2025-03-08 11:00"), pd.NaT, pd.NaT, pd.NaT],
    })
    d = events.deadlines(df, as_of="2025-03-21", working_days=False)
    assert list(d["deadline_days"]) == [7, 7, 1, 3, 7, 7]
    assert list(d["on_time"]) == [True, False, False, False, False, False]
    assert list(d["due"]) == [True, True, True, True, True, False]  # the last is open, not yet due
    assert list(d["overdue"]) == [False, True, True, True, True, False]
    # 7 working days from Friday 2025-03-07 is Tuesday 2025-03-18
    w = events.deadlines(df, working_days=True, as_of="2025-03-21")
    assert w["deadline_at"].iloc[0] == T("2025-03-18 10:00")
    assert list(w["on_time"][:2]) == [True, True]
    # configurable through the rules
    r = events.deadlines(df, rules={"events": {"deadline_days": {"一般": 10}, "calendar": "calendar"}},
                         as_of="2025-03-21")
    assert list(r["on_time"][:2]) == [True, True]
    o = events.deadlines(df, deadline_days={"一般": 5}, as_of="2025-03-21", working_days=False)
    assert list(o["on_time"][:2]) == [False, False]


def test_grid_stats_counts_rates_and_deadlines():
    grids = make_grids()
    ev = events.clean(make_events(grids))
    # one event far outside every grid and one invalid row
    extra = ev.iloc[:2].copy()
    extra["event_id"] = ["OUT", "BAD"]
    extra.loc[extra.index[0], "geometry"] = shapely.Point(113.5, 28.5)
    extra.loc[extra.index[1], "status"] = "invalid"
    ev = pd.concat([ev, extra], ignore_index=True)
    assigned = events.attach_grid_codes(ev, grids)
    assert len(assigned) == len(ev)
    stats = events.grid_stats(assigned, grids)
    assert list(stats["grid_code"]) == list(grids["grid_code"])
    assert stats.attrs["unassigned"] == 2
    assert stats["n_events"].sum() == len(ev) - 2
    # counts by category/urgency/stage add up to the grid total
    for prefix in ("category:", "urgency:", "stage:"):
        cols = [c for c in stats.columns if c.startswith(prefix)]
        assert (stats[cols].sum(axis=1) == stats["n_events"]).all(), prefix
    assert {"urgency:一般", "urgency:重要", "urgency:重要紧急", "stage:上报", "stage:考核"} <= set(stats.columns)
    assert np.allclose(stats["rate_per_100hh"], stats["n_events"] / stats["households"] * 100)
    share = stats["on_time_share"].dropna()
    assert ((share >= 0) & (share <= 1)).all()
    assert (stats["n_on_time"] + stats["n_overdue"] == stats["n_due"]).all()
    # the direct count for one grid
    g0 = grids["grid_code"].iloc[40]
    mine = assigned[assigned["grid_code"] == g0]
    mine = mine[mine["status"] != "invalid"]
    row = stats.set_index("grid_code").loc[g0]
    assert row["n_events"] == len(mine)
    assert row["urgency:重要紧急"] == (mine["urgency"] == "重要紧急").sum()
    # a grid without households has no rate
    grids2 = grids.copy()
    grids2.loc[0, "households"] = 0
    assert np.isnan(events.grid_stats(assigned, grids2)["rate_per_100hh"].iloc[0])


def test_grid_stats_needs_grid_codes():
    grids = make_grids()
    with pytest.raises(SchemaError, match="grid_code"):
        events.grid_stats(make_events(grids), grids)


def test_trend_by_week_and_month_with_empty_periods():
    df = pd.DataFrame({
        "reported_at": [T("2025-03-03"), T("2025-03-09 23:00"), T("2025-03-24"), pd.NaT],
        "category": ["a", "b", "a", "a"],
    })
    w = events.trend(df, freq="W")
    assert list(w["events"]) == [2, 0, 0, 1]
    assert [str(p) for p in w.index] == ["2025-03-03/2025-03-09", "2025-03-10/2025-03-16", "2025-03-17/2025-03-23",
                                         "2025-03-24/2025-03-30"]
    assert w.attrs["no_time"] == 1 and w.attrs["period_start"][0] == T("2025-03-03")
    m = events.trend(df, freq="M", by="category")
    assert m.loc[pd.Period("2025-03", "M"), "a"] == 2 and m.loc[pd.Period("2025-03", "M"), "b"] == 1
    with pytest.raises(GridGISError):
        events.trend(df, freq="Q")


def test_attach_grid_codes_keeps_rows_without_location():
    grids = make_grids()
    ev = events.clean(make_events(grids).iloc[:20])
    ev.loc[3, "geometry"] = None
    out = events.attach_grid_codes(ev, grids)
    assert len(out) == 20 and out["grid_code"].iloc[3] == ""
    assert isinstance(out, gpd.GeoDataFrame)


_cell = (
    st.one_of(
        st.none(),
        st.text(max_size=12),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(["一般", "紧急重要", "2025/3/4 8:15", "112.9", "27.85", ""]),
    )
)


@settings(max_examples=20, deadline=None)
@given(
    rows=st.lists(
        st.tuples(*[_cell] * 6), min_size=1, max_size=12
    )
)
def test_load_never_drops_or_reorders_rows(rows):
    df = pd.DataFrame(rows, columns=["事件编号", "紧急程度", "流程环节", "上报时间", "经度", "纬度"]).astype(object)
    ev = events.load(df)
    assert len(ev) == len(df) and list(ev[events.SOURCE_ROW]) == list(range(len(df)))
    assert set(ev["status"]) <= {"ok", "warning", "invalid"}
    bad = ev["status"] != "ok"
    assert (ev.loc[bad, "problem"].str.len() > 0).all() and (ev.loc[~bad, "problem"] == "").all()
    assert (ev["status"] == "invalid").eq(ev.geometry.isna()).all()
    assert ev["urgency"].dropna().isin(["一般", "重要", "重要紧急"]).all()
