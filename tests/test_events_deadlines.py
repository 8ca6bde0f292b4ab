"""Deadline rules of the offices: working days with Chinese holidays and 调休, on-site limits,
rules by urgency and by category (with aliases), and the rules file that sets them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridgis import events
from gridgis.errors import RulesError
from gridgis.rules import load_rules

T = pd.Timestamp


def test_ordinary_event_over_national_day_2026():
    """Reported 2026-09-30: 7 working days skip 1–7 October and count Saturday 10 October."""
    ev = pd.DataFrame({"urgency": ["一般"] * 3, "category": ["环境卫生"] * 3,
                       "reported_at": [T("2026-09-30 10:00")] * 3,
                       "closed_at": [T("2026-10-15 09:59"), T("2026-10-15 10:01"), pd.NaT]})
    dl = events.deadlines(ev, as_of="2026-10-20")
    assert (dl["deadline_at"] == T("2026-10-15 10:00")).all()
    assert dl["on_time"].tolist() == [True, False, False]
    assert dl["overdue"].tolist() == [False, True, True]
    assert dl["deadline_days"].tolist() == [7.0] * 3
    days = pd.date_range("2026-10-01", "2026-10-15")
    work = events.is_working_day(days)
    assert not work[:7].any()                       # 1–7 October off
    assert work[9] and days[9].day_of_week == 5       # Saturday 10 October: 调休 working day
    assert work[:15].sum() == 7
    # calendar days on request: 7 days later, 10-07
    cal = events.deadlines(ev, working_days=False, as_of="2026-10-20")
    assert cal["deadline_at"].iloc[0] == T("2026-10-07 10:00")


def test_a_report_on_a_holiday_counts_from_the_first_working_day():
    got = events.add_working_days(["2026-10-03 15:00", "2026-10-09 08:00"], [1, 1])
    assert list(pd.to_datetime(got)) == [T("2026-10-08 15:00"), T("2026-10-10 08:00")]


def test_utility_event_reached_after_30_hours_is_late():
    ev = pd.DataFrame({
        "urgency": ["一般", "一般", "一般", "一般"],
        "category": ["水电气故障", "停水", "水电气故障", "环境卫生"],
        "reported_at": [T("2026-03-02 08:00")] * 4,
        "onsite_at": [T("2026-03-03 14:00"), T("2026-03-02 20:00"), pd.NaT, T("2026-03-04 08:00")],
        "closed_at": [T("2026-03-04 12:00"), T("2026-03-06 12:00"), pd.NaT, T("2026-03-06 12:00")],
    })
    dl = events.deadlines(ev, as_of="2026-03-10")
    assert dl["rule"].tolist() == ["水电气", "水电气", "水电气", None]
    assert dl["onsite_limit_h"].tolist()[:3] == [24.0] * 3 and np.isnan(dl["onsite_limit_h"].iloc[3])
    assert dl["onsite_h"].iloc[0] == 30.0
    assert dl["onsite_late"].tolist() == [True, False, True, pd.NA]   # open, nobody on site: late
    # solve: 3 working days (Thursday 2026-03-05 08:00), tighter than the 一般 7 days
    assert (dl["deadline_at"].iloc[:3] == T("2026-03-05 08:00")).all()
    assert dl["on_time"].tolist() == [True, False, False, True]


def test_the_onsite_hours_rule_is_used():
    ev = pd.DataFrame({"urgency": ["一般"], "category": ["燃气"], "reported_at": [T("2026-03-02 08:00")],
                       "onsite_at": [T("2026-03-02 20:00")], "closed_at": [T("2026-03-02 22:00")]})
    assert not events.deadlines(ev)["onsite_late"].iloc[0]
    strict = events.deadlines(ev, rules={"events": {"onsite_hours": 6}})
    assert strict["onsite_late"].iloc[0] and strict["onsite_limit_h"].iloc[0] == 6


def test_rules_file_deadlines_by_urgency_and_category(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        '[events]\ncalendar = "working"\n'
        '[events.deadlines."重要紧急"]\nonsite_hours = 2\nsolve_hours = 24\n'
        '[events.deadlines."路灯"]\naliases = ["路灯损坏", "照明"]\nsolve_days = 2\n',
        encoding="utf-8")
    rules = load_rules(path)
    ev = pd.DataFrame({
        "urgency": ["重要紧急", "一般", "重要紧急"],
        "category": ["环境卫生", "路灯损坏", "照明"],
        "reported_at": [T("2026-09-30 10:00")] * 3,
        "onsite_at": [T("2026-09-30 13:00"), pd.NaT, T("2026-09-30 11:00")],
        "closed_at": [T("2026-10-01 09:00"), T("2026-10-09 09:00"), T("2026-10-01 11:00")],
    })
    dl = events.deadlines(ev, rules=rules)
    assert dl["deadline_at"].tolist() == [T("2026-10-01 10:00"), T("2026-10-09 10:00"), T("2026-10-01 10:00")]
    assert dl["on_time"].tolist() == [True, True, False]
    assert dl["onsite_late"].tolist() == [True, pd.NA, False]
    assert dl["rule"].tolist() == [None, "路灯", "路灯"]


@pytest.mark.parametrize(("text", "needle"), [
    ('[events.deadlines."水电气"]\nsolve_dayz = 3\n', "[events.deadlines.水电气] solve_dayz"),
    ('[events.deadlines."一般"]\nsolve_days = 0\n', "positive number of days"),
    ('[events.deadlines."一般"]\nsolve_days = 3\nsolve_hours = 5\n', "both solve_days and solve_hours"),
    ('[events]\ncalendar = "lunar"\n', "calendar"),
    ('[events]\nholidays = 3\n', "unknown key [events] holidays"),
    ('[events.deadlines."水电气"]\naliases = "停水"\n', "aliases must be a list"),
])
def test_bad_deadline_rules_name_the_section(tmp_path, text, needle):
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert needle in str(info.value) and "rules.toml" in str(info.value)


def test_dates_outside_the_calendar_warn_and_count_weekdays():
    last = events.calendar_years()[1]
    start = f"{last + 1}-03-02 09:00"  # a Monday in the next year or a weekday near it
    with pytest.warns(events.CalendarWarning, match=f"{last + 1}"):
        got = pd.Timestamp(events.add_working_days([start], [5])[0])
    assert np.busday_count(np.datetime64(pd.Timestamp(start).date()), np.datetime64(got.date())) == 5
    ev = pd.DataFrame({"urgency": ["一般"], "reported_at": [T(start)], "closed_at": [pd.NaT]})
    with pytest.warns(events.CalendarWarning):
        events.deadlines(ev)
