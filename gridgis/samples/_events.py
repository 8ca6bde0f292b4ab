"""Synthetic grid events for one year (November 2025 – October 2026) with planted hot spots.

Every event carries the full record of a grid office's system: a time stamp per workflow stage
(上报 → 分拨 → 处置 → 反馈 → 考核), the responsible department (责任单位), the level at which it was
resolved (网格 / 社区 / 街道 / 区) and the reporter's satisfaction (满意 / 基本满意 / 不满意).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

__all__ = [
    "CATEGORIES",
    "DEPARTMENTS",
    "DEADLINE_DAYS",
    "EXTRACTED_AT",
    "RECORD_COLUMNS",
    "URGENCY",
    "UTILITY",
    "YEAR_START",
    "event_record_columns",
    "event_table",
    "make_events",
    "to_frame_times",
]

CATEGORIES = ("环境卫生", "占道经营", "治安隐患", "矛盾纠纷", "设施损坏", "违章搭建", "消防安全",
              "噪音扰民", "水电气故障")
URGENCY = ("一般", "重要", "重要紧急")
DEADLINE_DAYS = {"一般": 7.0, "重要": 3.0, "重要紧急": 1.0}
UTILITY = "水电气故障"
YEAR_START = np.datetime64("2025-11-01T00:00:00")
EXTRACTED_AT = np.datetime64("2026-11-01T00:00:00")
#: Responsible department (责任单位) of each category.
DEPARTMENTS = {"环境卫生": "区城管局", "占道经营": "区城管局", "违章搭建": "区城管局", "治安隐患": "公安分局",
               "矛盾纠纷": "区司法局", "设施损坏": "区住建局", "消防安全": "区消防救援大队",
               "噪音扰民": "生态环境分局", "水电气故障": "水电气公司"}

# category mix by where the event happens
_MIX = {
    "building": {"环境卫生": 0.17, "占道经营": 0.02, "治安隐患": 0.09, "矛盾纠纷": 0.18,
                 "设施损坏": 0.07, "违章搭建": 0.11, "消防安全": 0.10, "噪音扰民": 0.12,
                 "水电气故障": 0.14},
    "road": {"环境卫生": 0.25, "占道经营": 0.33, "治安隐患": 0.08, "设施损坏": 0.25,
             "违章搭建": 0.05, "噪音扰民": 0.04},
    "site": {"环境卫生": 0.28, "占道经营": 0.18, "治安隐患": 0.18, "消防安全": 0.16,
             "矛盾纠纷": 0.12, "噪音扰民": 0.08},
}
_HOURS = np.array([1, 0.5, 0.3, 0.3, 0.4, 0.8, 2, 4, 7, 9, 9, 8, 6, 6, 8, 9, 9, 8, 6, 5, 4, 3, 2,
                   1.5])
_NIGHT_HOURS = np.array([3, 2, 1, 0.5, 0.2, 0.2, 0.3, 0.5, 0.5, 0.5, 0.5, 0.5, 0.8, 0.8, 0.8, 0.8,
                         1, 1.5, 3, 5, 7, 8, 8, 6])


def _cat(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    names = list(mix)
    p = np.array([mix[k] for k in names], float)
    return np.asarray(names, dtype=object)[rng.choice(len(names), size=n, p=p / p.sum())]


def _times(rng: np.random.Generator, n: int, hours: np.ndarray = _HOURS) -> np.ndarray:
    """Report times over the year from YEAR_START: summer a little busier, weekends quieter,
    daytime peaks."""
    days = YEAR_START.astype("datetime64[D]") + np.arange(365)
    doy = (days - days.astype("datetime64[Y]")).astype(int)
    weekday = (days.astype("int64") + 3) % 7  # 0 = Monday
    w = (1 + 0.25 * np.sin(2 * np.pi * (doy - 100) / 365)) * np.where(weekday >= 5, 0.7, 1.0)
    day = rng.choice(365, size=n, p=w / w.sum())
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    sec = day * 86400 + hour * 3600 + rng.integers(0, 3600, n)
    return YEAR_START + sec.astype("timedelta64[s]")


def _inside(xy: np.ndarray, area, fallback: np.ndarray) -> np.ndarray:
    ok = shapely.contains_xy(area, xy[:, 0], xy[:, 1])
    out = xy.copy()
    out[~ok] = fallback[~ok]
    return out


def event_table(rng: np.random.Generator, category: np.ndarray, reported: np.ndarray) -> dict:
    """Urgency, stage and closing time for events with given categories and report times."""
    n = len(category)
    hot = np.isin(category, ("消防安全", UTILITY))
    u = np.where(hot[:, None], [[0.45, 0.35, 0.20]], [[0.74, 0.21, 0.05]])
    r = rng.uniform(size=n)
    urg_idx = (r[:, None] > np.cumsum(u, axis=1)[:, :2]).sum(axis=1)
    urgency = np.asarray(URGENCY, dtype=object)[urg_idx]
    deadline = np.array([DEADLINE_DAYS[k] for k in URGENCY])[urg_idx]
    deadline = np.where(category == UTILITY, np.minimum(deadline, 1.0), deadline)
    late = rng.uniform(size=n) < 0.08
    frac = np.where(late, rng.uniform(1.05, 3.0, n), rng.beta(1.6, 3.5, n))
    dur_s = np.maximum(600, frac * deadline * 86400).astype("int64")
    closed = reported + dur_s.astype("timedelta64[s]")
    stuck = rng.uniform(size=n) < 0.015
    open_ = (closed > EXTRACTED_AT) | stuck
    stage = np.where(rng.uniform(size=n) < 0.88, "考核", "反馈").astype(object)
    open_stage = np.asarray(("上报", "分拨", "处置"), dtype=object)[
        rng.choice(3, size=n, p=[0.15, 0.25, 0.60])]
    stage = np.where(open_, open_stage, stage)
    closed = np.where(open_, np.datetime64("NaT"), closed)
    table = {"urgency": urgency, "stage": stage, "closed_at": closed}
    table.update(_record(rng, category, urgency, stage, reported, closed, dur_s))
    return table


def _record(rng: np.random.Generator, category: np.ndarray, urgency: np.ndarray, stage: np.ndarray,
            reported: np.ndarray, closed: np.ndarray, dur_s: np.ndarray) -> dict:
    """Stage time stamps, department, level and satisfaction, consistent with the stage and the
    closing time (drawn after the older fields, so those stay as they were)."""
    n = len(category)
    sec = np.timedelta64(1, "s")
    urgent = urgency == "重要紧急"
    # dispatch within hours; on site within a day or so (utilities: faster, ~8 % later than 24 h)
    disp_s = np.minimum(rng.gamma(1.5, np.where(urgent, 900.0, 2400.0)), 0.3 * dur_s).astype("int64")
    utility = category == UTILITY
    reach = np.where(utility, rng.gamma(2.0, 5.0, n), rng.gamma(2.0, np.where(urgent, 1.5, 10.0)))
    reach_s = np.maximum(disp_s + 300, (reach * 3600).astype("int64"))
    reach_s = np.where(np.isnat(closed), reach_s, np.minimum(reach_s, np.maximum(dur_s - 300, disp_s + 60)))
    rank = {s: i for i, s in enumerate(("上报", "分拨", "处置", "反馈", "考核"))}
    level = np.array([rank[s] for s in stage])
    dispatched = np.where(level >= 1, reported + disp_s * sec, np.datetime64("NaT"))
    onsite_open = rng.uniform(size=n) < 0.7  # an open event at 处置 has been reached or not yet
    onsite = np.where((level >= 3) | ((level == 2) & onsite_open), reported + reach_s * sec,
                      np.datetime64("NaT"))
    feedback = np.where(level >= 3, closed + rng.integers(600, 2 * 86400, n) * sec, np.datetime64("NaT"))
    evaluated = np.where(level >= 4, feedback + rng.integers(3600, 5 * 86400, n) * sec, np.datetime64("NaT"))
    feedback = np.where(feedback < EXTRACTED_AT, feedback, np.datetime64("NaT"))
    evaluated = np.where(evaluated < EXTRACTED_AT, evaluated, np.datetime64("NaT"))
    dept = np.array([DEPARTMENTS[c] for c in category], dtype=object)
    p_level = np.where(urgent[:, None], [[0.25, 0.30, 0.30, 0.15]], [[0.62, 0.24, 0.11, 0.03]])
    r = rng.uniform(size=n)
    lvl_idx = (r[:, None] > np.cumsum(p_level, axis=1)[:, :3]).sum(axis=1)
    handled = np.asarray(("网格", "社区", "街道", "区"), dtype=object)[lvl_idx]
    late = dur_s > np.where(urgent, 86400, 3 * 86400)
    p_sat = np.where(late[:, None], [[0.45, 0.30, 0.25]], [[0.82, 0.14, 0.04]])
    r = rng.uniform(size=n)
    sat_idx = (r[:, None] > np.cumsum(p_sat, axis=1)[:, :2]).sum(axis=1)
    satisfaction = np.asarray(("满意", "基本满意", "不满意"), dtype=object)[sat_idx]
    return {
        "dispatched_at": dispatched, "onsite_at": onsite, "feedback_at": feedback,
        "evaluated_at": evaluated, "department": dept,
        "handling_level": np.where(level >= 3, handled, None),
        "satisfaction": np.where(level >= 4, satisfaction, None),
    }


def make_events(b, a: dict, rng: np.random.Generator, scale: float):
    """Events and hot spots of the built district in its local frame.

    Returns ``(events, hotspots)``: dicts of column arrays with ``x``/``y`` in the local frame.
    """
    D = b.D
    res = (a["use"] == "residential") & (a["households"] > 0)
    bxy = np.c_[a["cx"], a["cy"]]
    n_bg = int(round(8800 * scale))
    n_bld = int(n_bg * 0.62)
    n_road = int(n_bg * 0.28)
    n_site = n_bg - n_bld - n_road
    # at homes (weighted by households, damped so big compounds do not dominate)
    w = a["households"][res].astype(float) ** 0.6
    k = rng.choice(np.flatnonzero(res), size=n_bld, p=w / w.sum())
    xy_b = bxy[k] + rng.normal(0, 10, (n_bld, 2))
    xy_b = _inside(xy_b, D, bxy[k])
    cat_b = _cat(rng, _MIX["building"], n_bld)
    # along streets (urban streets busier)
    roads = [ln for ln in b.road_lines if ln.kind in ("arterial", "local")]
    rg = np.array([ln.geom for ln in roads], dtype=object)
    rlen = shapely.length(rg)
    urb = shapely.within(shapely.point_on_surface(rg), b.U)
    wr = rlen * np.where(urb, 4.0, 0.6)
    kr = rng.choice(len(rg), size=n_road, p=wr / wr.sum())
    pos = rng.uniform(0, 1, n_road)
    anchor = shapely.get_coordinates(shapely.line_interpolate_point(rg[kr], pos, normalized=True))
    xy_r = _inside(anchor + rng.normal(0, 6, (n_road, 2)), D, anchor)
    cat_r = _cat(rng, _MIX["road"], n_road)
    # at special sites
    sites = [s for s in b.sites if s["kind"] != "industrial_park"] or b.sites
    sc = np.array([s["poly"].centroid.coords[0] for s in sites])
    ks = rng.integers(0, len(sites), n_site)
    xy_s = _inside(sc[ks] + rng.normal(0, 25, (n_site, 2)), D, sc[ks])
    cat_s = _cat(rng, _MIX["site"], n_site)

    # planted hot spots
    spots = _hotspots(b, a, rng)
    xy_h, cat_h, hours_h = [], [], []
    for sp in spots:
        m = sp["n_events"]
        r = sp["radius_m"]
        pts = np.empty((0, 2))
        while len(pts) < m:
            cand = sp["xy"] + rng.normal(0, r / 2, (3 * m, 2))
            ok = (np.hypot(*(cand - sp["xy"]).T) <= r) & shapely.contains_xy(D, cand[:, 0], cand[:, 1])
            ok &= ~shapely.contains_xy(b.W, cand[:, 0], cand[:, 1])
            pts = np.vstack([pts, cand[ok]])
        xy_h.append(pts[:m])
        own = rng.uniform(size=m) < 0.85
        cat_h.append(np.where(own, sp["category"], _cat(rng, _MIX["building"], m)))
        hours_h.append(sp["hours"])
    xy = np.vstack([xy_b, xy_r, xy_s, *xy_h])
    # anything that ended up on the district edge moves to a random home
    inner = D.buffer(-1.0)
    bad = np.flatnonzero(~shapely.contains_xy(inner, xy[:, 0], xy[:, 1]))
    if len(bad):
        xy[bad] = bxy[rng.choice(np.flatnonzero(res), size=len(bad))]
    category = np.concatenate([cat_b, cat_r, cat_s, *cat_h]).astype(object)
    rep = [_times(rng, n_bld + n_road + n_site)]
    for pts, hours in zip(xy_h, hours_h, strict=True):
        rep.append(_times(rng, len(pts), hours))
    reported = np.concatenate(rep)
    order = np.lexsort((xy[:, 0], reported))
    xy, category, reported = xy[order], category[order], reported[order]
    table = event_table(rng, category, reported)
    events = {"category": category, "reported_at": reported, **table, "x": xy[:, 0], "y": xy[:, 1]}
    hot = {
        "name": [s["name"] for s in spots],
        "category": [s["category"] for s in spots],
        "radius_m": np.array([s["radius_m"] for s in spots], float),
        "n_events": np.array([s["n_events"] for s in spots], "int64"),
        "x": np.array([s["xy"][0] for s in spots]),
        "y": np.array([s["xy"][1] for s in spots]),
    }
    return events, hot


def _hotspots(b, a: dict, rng: np.random.Generator, min_gap: float = 700.0) -> list[dict]:
    """Three or four planted clusters at places where such events really pile up, at least
    ``min_gap`` metres apart."""
    cu = shapely.Point(b.Cu)
    cands = []  # (name, category, radius, (lo, hi) events, hours, candidate centres by preference)
    markets = sorted((s for s in b.sites if s["kind"] == "market"), key=lambda s: -s["poly"].area)
    cands.append(("农贸市场周边占道经营", "占道经营", 150.0, (550, 650), _HOURS,
                  [np.asarray(s["poly"].centroid.coords[0]) for s in markets]))
    comm = sorted((s for s in b.sites if s["kind"] == "commercial"),
                  key=lambda s: s["poly"].centroid.distance(cu))
    cands.append(("商业街夜间噪音", "噪音扰民", 180.0, (450, 550), _NIGHT_HOURS,
                  [np.asarray(s["poly"].centroid.coords[0]) for s in comm]))
    low = [c for c in b.compounds if c["kind"] == "lowrise"]
    counts = {c["id"]: int((a["compound"] == c["id"]).sum()) for c in low}
    low.sort(key=lambda c: (-counts[c["id"]], c["id"]))
    centres = []
    for c in low:
        m = a["compound"] == c["id"]
        if m.any():
            centres.append(np.array([a["cx"][m].mean(), a["cy"][m].mean()]))
    cands.append(("老旧街区环境卫生", "环境卫生", 120.0, (380, 450), _HOURS, centres))
    ham = sorted(b.hamlets, key=lambda h: (shapely.Point(h["centre"]).distance(b.U), h["id"]))
    cands.append(("城乡结合部违章搭建", "违章搭建", 200.0, (380, 450), _HOURS,
                  [np.asarray(h["centre"]) for h in ham]))
    spots: list[dict] = []
    for name, cat, radius, (lo, hi), hours, points in cands:
        for xy in points:
            if all(np.hypot(*(xy - s["xy"])) >= min_gap for s in spots):
                spots.append(dict(name=name, category=cat, radius_m=radius,
                                  n_events=int(rng.integers(lo, hi)), xy=xy, hours=hours))
                break
    return spots


#: The record columns of an event beyond the core ones, in layer order.
RECORD_COLUMNS = ("dispatched_at", "onsite_at", "feedback_at", "evaluated_at", "department",
                  "handling_level", "satisfaction")


def event_record_columns(ev: dict) -> dict:
    """The record columns of :func:`event_table` output as layer columns (times, text)."""
    out = {}
    for col in RECORD_COLUMNS:
        v = ev[col]
        out[col] = to_frame_times(v) if col.endswith("_at") else pd.Series(v, dtype=object)
    return out


def to_frame_times(values: np.ndarray) -> pd.Series:
    """datetime64[s] array (with NaT) as a pandas datetime64[ms] Series."""
    return pd.Series(pd.to_datetime(values)).astype("datetime64[ms]")
