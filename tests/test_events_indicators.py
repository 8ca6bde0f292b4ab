"""Office indicators of events (通报 figures) and the richer event records they use."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridgis import events
from gridgis.errors import SchemaError

T = pd.Timestamp


def _table() -> pd.DataFrame:
    """Six events in two communities, September and October 2026, with every stage stamped."""
    rep = [T("2026-09-28 09:00"), T("2026-10-09 10:00"), T("2026-10-12 08:00"),
           T("2026-10-20 14:00"), T("2026-10-30 09:00"), T("2026-10-31 22:00")]
    return pd.DataFrame({
        "grid_code": ["G1", "G1", "G2", "G3", "G3", "G9"],
        "category": ["环境卫生", "水电气故障", "水电气故障", "占道经营", "环境卫生", "环境卫生"],
        "urgency": ["一般"] * 6,
        "reported_at": rep,
        "dispatched_at": [r + pd.Timedelta(hours=h) for r, h in zip(rep, [1, 2, 3, 4, 5, 6], strict=True)],
        "onsite_at": [r + pd.Timedelta(hours=h) for r, h in zip(rep, [5, 30, 10, 20, 8, 9], strict=True)],
        "closed_at": [T("2026-09-30 09:00"), T("2026-10-13 09:00"), T("2026-10-20 08:00"),
                      T("2026-10-21 14:00"), pd.NaT, T("2026-11-02 10:00")],
        "department": ["城管局", "水务公司", "水务公司", "城管局", None, "城管局"],
        "handling_level": ["网格", "社区", "网格", "网格", None, "街道"],
        "satisfaction": ["满意", "不满意", "基本满意", None, None, "满意"],
    })


def _grids():
    grids = pd.DataFrame({"grid_code": ["G1", "G2", "G3"], "community_code": ["C1", "C1", "C2"]})
    comm = pd.DataFrame({"code": ["C1", "C2"], "parent_code": ["S1", "S1"]})
    return grids, comm


def test_indicators_by_community_for_october():
    grids, comm = _grids()
    ev = events.attach_units(_table(), grids, comm)
    assert ev["street_code"].tolist() == ["S1"] * 5 + [None]
    got = events.event_indicators(ev, "community_code", start="2026-10-01", end="2026-10-31")
    got = got.set_index("community_code")
    assert got["n_events"].to_dict() == {"C1": 2, "C2": 2, "unknown": 1}
    c1 = got.loc["C1"]
    # 水电气: 3 working days; the first (reported Friday 10-09) is due Wednesday 10-14 and closed on
    # 10-13; the second (Monday 10-12, due Thursday 10-15) closed 10-20: late
    assert c1["n_due"] == 2 and c1["on_time_share"] == 0.5
    assert c1["n_onsite_judged"] == 2 and c1["onsite_on_time_share"] == 0.5   # 30 h > 24 h
    assert c1["median_dispatch_h"] == 2.5 and c1["median_onsite_h"] == 20.0
    assert c1["grid_level_share"] == 0.5 and c1["satisfaction_rate"] == 0.5 and c1["n_rated"] == 2
    c2 = got.loc["C2"]
    # the open event of 10-30 is judged at 11-01 00:00 (end + 1 day): not yet due
    assert c2["n_due"] == 1 and c2["on_time_share"] == 1.0 and c2["n_closed"] == 1
    assert np.isnan(c2["onsite_on_time_share"]) and c2["n_onsite_judged"] == 0
    assert c2["grid_level_share"] == 1.0 and np.isnan(c2["satisfaction_rate"])
    assert list(got.columns[-len(events.INDICATORS):]) == list(events.INDICATORS)


def test_indicators_by_department_and_month():
    ev = _table()
    got = events.event_indicators(ev, "department", period="M")
    assert set(got["period"]) == {"2026-09", "2026-10"}
    row = got[(got["department"] == "城管局") & (got["period"] == "2026-10")].iloc[0]
    assert row["n_events"] == 2 and row["satisfaction_rate"] == 1.0
    q = events.event_indicators(ev, ["department"], period="Q")
    assert set(q["period"]) == {"2026Q3", "2026Q4"}
    y = events.event_indicators(ev, "grid_code", period="Y")
    assert y["n_events"].sum() == 6 and set(y["period"]) == {"2026"}
    with pytest.raises(SchemaError):
        events.event_indicators(ev, "street_code")
    with pytest.raises(SchemaError, match="period"):
        events.event_indicators(ev, "grid_code", period="W")


def test_indicators_agree_with_pandas_on_random_events():
    rng = np.random.default_rng(3)
    n = 5000
    rep = T("2026-01-05") + pd.to_timedelta(rng.integers(0, 300 * 86400, n), unit="s")
    ev = pd.DataFrame({
        "grid_code": rng.choice(["A", "B", "C", "D"], n), "urgency": "一般", "category": "x",
        "reported_at": rep,
        "dispatched_at": rep + pd.to_timedelta(rng.exponential(3, n), unit="h"),
        "closed_at": rep + pd.to_timedelta(rng.exponential(100, n), unit="h"),
    })
    got = events.event_indicators(ev, "grid_code", period="M").set_index(["grid_code", "period"])
    key = [ev["grid_code"], ev["reported_at"].dt.to_period("M").astype(str)]
    dispatch = (ev["dispatched_at"] - ev["reported_at"]).dt.total_seconds() / 3600
    ref = dispatch.groupby(key).median()
    assert np.allclose(got.loc[ref.index, "median_dispatch_h"], ref, rtol=1e-6)
    assert (got["n_events"].groupby(level=0).sum() == ev["grid_code"].value_counts().sort_index()).all()


def test_richer_records_are_read_from_chinese_headers():
    raw = pd.DataFrame({
        "事件编号": ["1", "2", "3"], "事件类型": ["环境卫生"] * 3, "紧急程度": ["一般"] * 3,
        "上报时间": ["2026-10-08 09:00"] * 3, "派遣时间": ["2026-10-08 10:00", "", "2026-10-07 10:00"],
        "到场时间": ["2026年10月8日 12时", "", ""], "办结时间": ["2026-10-09 09:00", "", ""],
        "责任单位": [" 城管 局", "", "环卫所"], "处置层级": ["网格级", "乡镇", "省"],
        "满意度": ["非常满意", "比较满意", "还行"], "经度": [112.9] * 3, "纬度": [27.85] * 3,
    })
    ev = events.load(raw)
    assert ev["onsite_at"].iloc[0] == T("2026-10-08 12:00")
    assert ev["dispatched_at"].isna().iloc[1]
    assert ev["department"].iloc[[0, 2]].tolist() == ["城管局", "环卫所"] and ev["department"].isna().iloc[1]
    assert ev["handling_level"].tolist()[:2] == ["网格", "街道"] and ev["handling_level"].isna().iloc[2]
    assert ev["satisfaction"].tolist()[:2] == ["满意", "基本满意"]
    assert "\"Handling level\" value '省' not recognised" in ev["problem"].iloc[2]
    assert "\"Satisfaction\" value '还行' not recognised" in ev["problem"].iloc[2]
    assert '"Dispatched at" is before "Reported at"' in ev["problem"].iloc[2]
