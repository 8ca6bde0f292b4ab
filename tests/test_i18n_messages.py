"""Messages that name a column read naturally in both languages.

A reason in an event problem file names the column by its header for people ("Reported at",
上报时间). In English a header inside a sentence is quoted (no "Reported at" column), so it does
not run into the words around it; in Chinese the missing column is named in quotes too
(没有“事件类型”列).
"""

from __future__ import annotations

import re
from pathlib import Path

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


# ---- errors on the command line name the option that fixes them --------------------------------

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples"


@pytest.fixture(scope="module")
def plan_file(sample_plan, tmp_path_factory):
    path = tmp_path_factory.mktemp("plan") / "plan.gpkg"
    sample_plan.to_file(path, layer="grids")
    return path


def _error(capsys, *args: str) -> str:
    from gridgis.cli import main

    assert main(["--lang", "en", *args]) == 2, args
    return capsys.readouterr().err


@pytest.mark.parametrize(("args", "expected"), [
    (["summary", "{plan}", "--by", "nope", "-o", "{tmp}/s.csv"], "--by: unknown level 'nope'"),
    (["atlas", "{plan}", "--paper", "A9", "-o", "{tmp}/a.pdf"], "--paper: unknown paper 'A9'"),
    (["atlas", "{plan}", "--style", "gaudy", "-o", "{tmp}/a.pdf"], "--style: unknown style"),
    (["notice", "{plan}", "--workers", str(SAMPLE / "addresses.csv"), "-o", "{tmp}/n.pdf"],
     '--workers: grid workers: no column "Name", "Grid code"'),
    (["heatmap", str(SAMPLE / "sample_district.gpkg"), "--grids", "{plan}", "-o", "{tmp}/ev"],
     "pass --events-layer NAME"),
    (["recode-table", str(SAMPLE / "addresses.csv"), "--crosswalk", "{tmp}/cw.csv",
      "--column", "nope", "-o", "{tmp}/x.csv"], "pass --column COLUMN"),
    (["recode-table", str(SAMPLE / "addresses.csv"), "--crosswalk", str(SAMPLE / "addresses.csv"),
      "--column", "community_code", "-o", "{tmp}/x.csv"],
     "missing required column(s) old_code (原编码/旧编码), new_code (新编码)"),
])
def test_cli_errors_name_the_option_that_fixes_them(capsys, plan_file, tmp_path, args, expected):
    (tmp_path / "cw.csv").write_text("原编码,新编码\n430302001001001,430302001001001\n",
                                     encoding="utf-8")
    err = _error(capsys, *(a.format(plan=plan_file, tmp=tmp_path) for a in args))
    assert expected in err, err
    assert "column=" not in err and " by:" not in err and "normalize_columns" not in err


def test_python_errors_name_the_keyword():
    from gridgis.errors import GridGISError
    from gridgis.plan.summary import level_summary

    with use_language("en"), pytest.raises(GridGISError, match=r"^by: unknown level"):
        level_summary(None, "nope")


def test_chinese_worker_columns_are_named_by_their_headers(capsys, plan_file, tmp_path):
    from gridgis.cli import main

    assert main(["--lang", "zh", "notice", str(plan_file), "--workers", str(SAMPLE / "addresses.csv"),
                 "-o", str(tmp_path / "n.pdf")]) == 2
    err = capsys.readouterr().err
    assert "--workers：网格员表缺少列“姓名”、“网格编码”" in err, err


# ---- the Typer internals the translated help relies on ------------------------------------------


def test_the_typer_internals_the_help_hooks_are_there():
    """Fails (rather than letting English through) when Typer renames or drops a word or hook
    gridgis translates; then re-check ``gridgis/cli/_help.py`` and the bound in pyproject.toml."""
    from gridgis.cli import missing_typer_hooks

    assert missing_typer_hooks() == []


def test_a_renamed_typer_word_or_hook_is_reported(monkeypatch):
    import typer.core
    import typer.rich_utils as ru

    from gridgis.cli import missing_typer_hooks

    monkeypatch.delattr(ru, "OPTIONS_PANEL_TITLE")
    monkeypatch.delattr(typer.core, "_")
    monkeypatch.setattr(typer.core, "TyperArgument", type("TyperArgument", (), {}))
    missing = missing_typer_hooks()
    assert "typer.rich_utils.OPTIONS_PANEL_TITLE" in missing
    assert "typer.core._ (gettext)" in missing
    assert "typer.core.TyperArgument.display_type" in missing


def test_the_installed_typer_is_within_the_bound_of_pyproject():
    from importlib.metadata import version

    import tomllib
    from packaging.requirements import Requirement

    root = Path(__file__).resolve().parents[1]
    deps = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    typer_req = next(Requirement(d) for d in deps if Requirement(d).name == "typer")
    assert version("typer") in typer_req.specifier
    # the hooks are internals: the bound stops at the next minor release, whose internals may move
    assert any(s.operator == "<" for s in typer_req.specifier), typer_req


def _help_pages(capsys, monkeypatch, lang: str):
    """``(verb, its --help text)`` for every verb, in ``lang``, on a wide terminal."""
    from gridgis.cli import app, main

    monkeypatch.setenv("COLUMNS", "2000")
    for command in sorted(c.name for c in app.registered_commands):
        assert main(["--lang", lang, command, "--help"]) == 0
        yield command, capsys.readouterr().out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_help_paragraphs_are_not_broken_inside(capsys, monkeypatch, lang):
    """A verb's description shows each paragraph as one flowing text, not the docstring's lines."""
    for command, out in _help_pages(capsys, monkeypatch, lang):
        lines = [line.strip() for line in out.splitlines()]
        body = lines[lines.index(next(x for x in lines if x.startswith(("Usage", "用法")))) + 1:]
        text = "\n".join(body).split("╭")[0].strip()
        for para in text.split("\n\n"):
            assert "\n" not in para.strip(), (command, para)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_help_shows_code_without_docstring_markup(capsys, monkeypatch, lang):
    """Examples and option texts show commands as they are typed: no ``double backticks``."""
    for command, out in _help_pages(capsys, monkeypatch, lang):
        assert "``" not in out, (command, [ln for ln in out.splitlines() if "``" in ln])
        assert f"gridgis {command}" in out


# ---- maps in the browser -------------------------------------------------------------------------


def test_interactive_maps_have_a_metric_scale_only(sample_plan, tmp_path):
    """The scale bar of the pages shows metres and kilometres, not miles."""
    from gridgis import events
    from gridgis.render import heatmap_map, interactive_map

    interactive_map(sample_plan, out=tmp_path / "map.html")
    pages = [tmp_path / "map.html"]
    ev = events.load(SAMPLE / "events.csv")
    heatmap_map(events.kde(ev.iloc[:500], bandwidth=300), grids=sample_plan.to_crs(4326),
                path=tmp_path / "heat.html")
    pages.append(tmp_path / "heat.html")
    for page in pages:
        text = Path(page).read_text(encoding="utf-8")
        assert "L.control.scale({imperial: false})" in text and "L.control.scale()" not in text


# ---- what repair and validate print ----------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_repair_prints_its_changes_in_the_language(capsys, sample_plan, sample_layers, tmp_path, lang):
    """The count per kind of change and the pointer to the findings not listed."""
    from gridgis.cli import main

    plan = tmp_path / "gap.gpkg"
    sample_plan.drop(index=sample_plan.index[[3, 40]]).to_file(plan, layer="grids")
    sample_layers["communities"].to_file(plan, layer="communities")
    assert main(["--lang", lang, "repair", str(plan), "--parents", str(plan), "--parents-layer",
                 "communities", "-o", str(tmp_path / "fixed.gpkg")]) in (0, 1)
    res = capsys.readouterr()
    lines = (res.out + res.err).split("\n")
    end = lines.index(next(x for x in lines if x.startswith(("after repair", "修复后"))))
    changes = lines[:end]
    assert len(changes) >= 3, lines  # the count, a line per kind of change, the note
    if lang == "zh":
        words = re.findall(r"[A-Za-z]{2,}", "\n".join(changes))
        assert not words, changes
    assert "buildings=" not in "\n".join(lines)


def test_the_findings_not_listed_are_pointed_to_in_the_interface_in_use(sample_plan):
    from gridgis import validate

    report = validate(sample_plan)
    assert len(report.findings) > 1
    with use_language("en"):
        assert "more (report.to_geodataframe())" in report.summary(max_rows=1)
        assert "more (--html lists them all)" in report.summary(max_rows=1, more="--html lists them all")
