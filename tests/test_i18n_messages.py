"""Messages that name a column read naturally in both languages.

A reason in an event problem file names the column by its header for people ("Reported at",
上报时间). In English a header inside a sentence is quoted (no "Reported at" column), so it does
not run into the words around it; in Chinese the missing column is named in quotes too
(没有“事件类型”列).
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from gridgis import events
from gridgis.i18n import _, use_language
from gridgis.people import HEADERS


def _bad_events() -> pd.DataFrame:
    """Rows with every kind of problem a column can have; no category and no stage column."""
    return pd.DataFrame({
        "事件编号": ["A1", "A1", None, "A4"],
        "经度": [112.9, 112.91, 112.92, 112.93], "纬度": [27.85, 27.86, 27.87, 27.88],
        "紧急程度": ["很急", "一般", None, "一般"],
        "上报时间": ["2026-10-01 08:00", "abc", None, "1900-01-02 08:00"],
        "办结时间": ["2026-09-30 08:00", None, None, None],
        "满意度": [None, "还行", None, None],
    })


def _reasons(lang: str) -> list[str]:
    with use_language(lang):
        return [r for p in events.load(_bad_events())["problem"] for r in p.split("; ") if r]


def test_english_reasons_quote_the_headers_they_name():
    reasons = _reasons("en")
    with use_language("en"):
        headers = sorted({_(h) for h in HEADERS.values()}, key=len, reverse=True)
    named = 0
    for reason in reasons:
        text = re.sub(r"'[^']*'", " ", reason)  # values quoted from the data
        for h in headers:
            quoted = text.count(f'"{h}"')
            named += quoted
            bare = re.findall(rf"(?<![\w\"]){re.escape(h)}(?![\w\"])", text.replace(f'"{h}"', " "))
            assert not bare, (reason, h)
            text = text.replace(f'"{h}"', " ")
    assert named >= len(reasons) - 1  # all but "no coordinates"-like reasons name a column
    joined = " | ".join(reasons)
    for expected in ('no "Event category" column', 'no "Workflow stage" column',
                     '"Closed at" is before "Reported at"', '"Event ID" is empty',
                     "duplicate \"Event ID\" 'A1' (first at data row 1)"):
        assert expected in joined, joined


def test_chinese_reasons_read_naturally():
    joined = " | ".join(_reasons("zh"))
    for expected in ("没有“事件类型”列", "没有“流程环节”列", "办结时间早于上报时间", "事件编号为空",
                     "事件编号重复：'A1'（首次出现在第 1 条记录）", "上报时间年份不合理", "上报时间不是有效的日期时间",
                     "无法识别的满意度"):
        assert expected in joined, joined
    assert not re.findall(r"[A-Za-z]{2,}", re.sub(r"'[^']*'", " ", joined)), joined


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_missing_event_id_column_is_named_in_the_reason(lang):
    raw = _bad_events().drop(columns=["事件编号"])
    with use_language(lang):
        problems = set(events.load(raw)["problem"].str.split("; ").explode())
    expected = {"zh": "没有“事件编号”列：按行顺序编号",
                "en": 'no "Event ID" column: rows numbered in order'}[lang]
    assert expected in problems, problems
