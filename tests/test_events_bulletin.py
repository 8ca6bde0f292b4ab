"""The monthly bulletin (通报): ranked tables per street, community and department, as Excel and
as a report section (``gridgis report --from … --to …``); the sample's events carry its fields."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridgis import events
from gridgis.cli import EXIT_BAD_INPUT, EXIT_OK, main
from gridgis.i18n import use_language
from gridgis.workflows import bulletin, write_bulletin_excel

from .events_fixtures import make_communities, make_events, make_grids


@pytest.fixture(scope="module")
def october(sample_layers, sample_plan):
    ev = events.attach_grid_codes(events.clean(sample_layers["events"]), sample_plan)
    b = bulletin(ev, sample_plan, communities=sample_layers["communities"], streets=sample_layers["streets"],
                 start="2026-10-01", end="2026-10-31")
    return ev, b


def test_sample_bulletin_for_october_2026(october, sample_layers):
    ev, b = october
    rep = ev["reported_at"]
    in_october = ((rep >= "2026-10-01") & (rep < "2026-11-01") & (ev["status"] != "invalid")).sum()
    assert b.n_events == in_october > 500
    assert set(b.tables) == {"street_code", "community_code", "department"}
    streets = b.tables["street_code"]
    assert streets["n_events"].sum() == in_october
    assert set(streets["unit"]) <= set(sample_layers["streets"]["name"])
    assert streets["rank"].tolist() == list(range(1, len(streets) + 1))
    shares = streets["on_time_share"].to_numpy()
    assert (np.diff(shares) <= 1e-12).all()  # best first
    for table in b.tables.values():
        assert table["satisfaction_rate"].between(0, 1).all()
        assert table["grid_level_share"].dropna().between(0, 1).all()
        assert (table["median_dispatch_h"] < table["median_close_h"]).all()
    dept = b.tables["department"]
    assert "水电气公司" in set(dept["unit"]) and "code" not in dept.columns
    water = dept[dept["unit"] == "水电气公司"].iloc[0]
    assert water["n_onsite_judged"] > 0  # the utilities rule has an on-site limit


def test_bulletin_workbook_speaks_chinese(october, tmp_path):
    _, b = october
    with use_language("zh"):
        path = write_bulletin_excel(b, tmp_path / "通报.xlsx")
        sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["汇总", "各街道", "各社区", "各责任单位"]
    street = sheets["各街道"]
    assert list(street.columns[:4]) == ["排名", "编码", "单位", "事件数"]
    assert "按期办结率(%)" in street.columns and "满意率(%)" in street.columns
    assert street["按期办结率(%)"].between(0, 100).all()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bulletin_workbook_is_made_for_people(october, tmp_path, lang):
    """Codes are text cells, the header row is frozen and bold, every column has a width, and
    the headers and sheet names are in the language in use."""
    import re

    import openpyxl

    _, b = october
    with use_language(lang):
        path = write_bulletin_excel(b, tmp_path / f"bulletin_{lang}.xlsx")
    book = openpyxl.load_workbook(path)
    han = re.compile(r"[\u4e00-\u9fff]")
    assert len(book.worksheets) == 4
    for ws in book.worksheets:
        header = [c.value for c in ws[1]]
        assert ws.freeze_panes == "A2", ws.title
        assert all(ws.cell(1, j).font.bold for j in range(1, len(header) + 1))
        widths = [ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width
                  for j in range(1, len(header) + 1)]
        assert all(w and w >= len(str(h)) for w, h in zip(widths, header, strict=True)), ws.title
        for text in [ws.title, *header]:
            assert bool(han.search(text)) == (lang == "zh"), text
    streets = book.worksheets[1]
    codes = [row[1] for row in streets.iter_rows(min_row=2)]
    assert codes and all(c.data_type == "s" and c.value.isdigit() and c.number_format == "@"
                         for c in codes)
    assert [c.value for c in streets[1]][1] == ("编码" if lang == "zh" else "Code")


def test_sample_events_under_the_offices_rules(sample_layers):
    ev = events.clean(sample_layers["events"])
    assert (ev["status"] == "ok").mean() > 0.99
    dl = events.deadlines(ev)
    water = (dl["rule"] == "水电气").to_numpy()
    closed = dl["closed"].to_numpy()
    # 3 working days to solve, 24 h on site; late closings and late arrivals both occur
    assert water.sum() > 500 and 0 < (~dl["on_time"][water & closed]).sum()
    assert dl["onsite_late"][water].fillna(False).sum() > 0
    assert dl["onsite_late"][~water].isna().all()  # no on-site limit outside the rule
    stamps = ev[["reported_at", "dispatched_at", "onsite_at", "closed_at", "feedback_at", "evaluated_at"]]
    for a, b in zip(stamps.columns[:-1], stamps.columns[1:], strict=True):
        both = stamps[a].notna() & stamps[b].notna()
        assert (stamps.loc[both, b] >= stamps.loc[both, a]).all(), (a, b)
    assert (ev.loc[ev["stage"] == "考核", "satisfaction"].notna()).all()
    assert ev.loc[ev["stage"] != "考核", "satisfaction"].isna().all()


def test_report_verb_with_bulletin_dates(tmp_path):
    grids = make_grids()
    plan = tmp_path / "plan.gpkg"
    grids.to_file(plan, layer="grids")
    make_communities(grids).to_file(plan, layer="communities")
    ev = make_events(grids)
    ev["department"] = np.where(ev["category"] == "环境卫生", "城管", "街道办")
    csv = tmp_path / "events.csv"
    ev.drop(columns=["x", "y"], errors="ignore").to_csv(csv, index=False)
    out = tmp_path / "report"
    rc = main(["-q", "report", str(plan), "--events", str(csv), "-o", str(out),
               "--from", "2025-02-01", "--to", "2025-02-28"])
    assert rc == EXIT_OK
    book = pd.read_excel(out / "tables" / "bulletin.xlsx", sheet_name=None)
    assert len(book) == 4
    feb = ev["reported_at"].between("2025-02-01", "2025-03-01", inclusive="left").sum()
    first = list(book.values())[1]
    assert first.iloc[:, 3].sum() == feb
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Monthly bulletin 2025-02-01 to 2025-02-28" in html
    bad = main(["-q", "report", str(plan), "--events", str(csv), "-o", str(tmp_path / "r2"), "--from", "soon"])
    assert bad == EXIT_BAD_INPUT
