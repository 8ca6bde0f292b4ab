"""The message catalogue: complete, compiled, shipped, and the language switch in every interface."""

import ast
import doctest
import importlib.util
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

import gridgis
from gridgis import i18n
from gridgis.cli import main
from gridgis.errors import GridGISError
from gridgis.i18n import _, get_language, set_language, tr, use_language

ROOT = Path(__file__).resolve().parents[1]
HAN = re.compile(r"[\u4e00-\u9fff]")


def _script():
    spec = importlib.util.spec_from_file_location("gridgis_i18n_script", ROOT / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return _script()


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


# ---- the catalogue -------------------------------------------------------------------------------


def test_every_message_has_a_chinese_translation(script):
    missing = script.untranslated("zh_CN")
    assert not missing, f"{len(missing)} messages lack a Chinese translation " \
                        f"(python scripts/i18n.py update, then fill msgstr): {missing[:10]}"


def test_an_untranslated_message_is_caught(script, monkeypatch):
    """The completeness check sees a message id the catalogue lacks."""
    fake = {**script.all_messages(), (None, "A message nobody translated"): [("x.py", 1)]}
    monkeypatch.setattr(script, "all_messages", lambda: fake)
    assert script.untranslated("zh_CN") == ["A message nobody translated"]


def test_translations_keep_the_fields_of_their_ids(script):
    catalogue = script.read_catalogue("zh_CN")
    wrong = []
    for message in catalogue:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if any(_fields(s) != _fields(ids[0]) for s in strings):
            wrong.append(message.id)
    assert not wrong


def test_no_translation_is_left_in_english(script):
    """A Chinese msgstr holds Chinese (a copied English id is not a translation)."""
    catalogue = script.read_catalogue("zh_CN")
    english = [m.id for m in catalogue if m.id and isinstance(m.string, str) and m.string
               and re.search(r"[A-Za-z]{4,}", re.sub(r"\{[^}]*\}", "", m.id))
               and not HAN.search(m.string)]
    assert not english, english[:10]


def test_compiled_catalogue_is_up_to_date(script):
    assert script.mo_path("zh_CN").read_bytes() == script.compiled("zh_CN"), \
        "run python scripts/i18n.py compile"


def test_catalogue_id_list_matches_the_code(script):
    """Every id in the .po is still used (no stale entries hiding a renamed message)."""
    used = set(script.all_messages())
    stale = [(m.context, m.id) for m in script.read_catalogue("zh_CN")
             if m.id and (m.context, m.id if isinstance(m.id, str) else tuple(m.id)) not in used]
    assert not stale, stale[:10]


def test_built_package_ships_the_catalogue(tmp_path):
    """The files setuptools packs into a wheel hold the catalogue, and it loads from there."""
    build = tmp_path / "lib"
    subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q",
                    "build_py", "--build-lib", str(build)], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    folder = build / "gridgis" / "locale" / "zh_CN" / "LC_MESSAGES"
    assert (folder / "gridgis.mo").is_file() and (folder / "gridgis.po").is_file()
    code = ("from gridgis.i18n import _, use_language\n"
            "with use_language('zh'):\n    print(_('Options'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env={"PYTHONPATH": str(build)}, timeout=120)
    assert out.stdout.strip() == "选项", out.stderr


# ---- the language setting ------------------------------------------------------------------------


def test_chinese_is_the_default(monkeypatch):
    monkeypatch.delenv("GRIDGIS_LANG", raising=False)
    with use_language(None):
        assert get_language() == "zh"
        assert _("Options") == "选项"


def test_environment_variable_chooses_the_language(monkeypatch):
    with use_language(None):
        monkeypatch.setenv("GRIDGIS_LANG", "en_US.UTF-8")
        assert get_language() == "en" and _("Options") == "Options"
        monkeypatch.setenv("GRIDGIS_LANG", "zh-CN")
        assert get_language() == "zh"


def test_set_language_in_python_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("GRIDGIS_LANG", "en")
    with use_language("en"):
        assert gridgis.set_language("zh") == "zh"
        assert tr("use one of: {choices}", choices="zh, en") == "请使用以下之一：zh, en"
    assert get_language() == "en"


def test_unknown_language_is_refused_with_a_fix():
    with pytest.raises(GridGISError, match="fr") as info:
        set_language("fr")
    assert "zh, en" in str(info.value)


def test_module_examples_hold():
    failed, _ = doctest.testmod(i18n, optionflags=doctest.ELLIPSIS)
    assert failed == 0


# ---- the CLI -------------------------------------------------------------------------------------


def test_cli_help_is_chinese_by_default(capsys, monkeypatch):
    monkeypatch.delenv("GRIDGIS_LANG", raising=False)
    assert main(["validate", "--help"]) == 0
    out = capsys.readouterr().out
    assert "校验网格方案" in out and "显示本帮助并退出" in out and "选项" in out
    assert "Check a grid plan" not in out


def test_cli_lang_before_the_verb_switches_to_english(capsys, monkeypatch):
    monkeypatch.delenv("GRIDGIS_LANG", raising=False)
    assert main(["--lang", "en", "validate", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Check a grid plan" in out and not HAN.search(out.split("Example")[0].replace("纬度", ""))
    assert get_language() == "zh"  # main() leaves the language as it found it


def test_cli_environment_variable(capsys, monkeypatch):
    monkeypatch.setenv("GRIDGIS_LANG", "zh")
    assert main(["--help"]) == 0
    assert "网格化服务管理工具" in capsys.readouterr().out
    assert main(["--lang=en", "--help"]) == 0
    assert "toolkit: build, validate" in capsys.readouterr().out


def test_cli_unknown_language_is_bad_input(capsys):
    assert main(["--lang", "fr", "demo"]) == 2
    assert "fr" in capsys.readouterr().err


def test_every_cli_help_text_is_translated(capsys, monkeypatch):
    """Each command's help shown in Chinese has no help sentence left in English."""
    from gridgis.cli import app, help_texts

    monkeypatch.setenv("GRIDGIS_LANG", "zh")
    english = {text.split("\n")[0][:40] for text in help_texts(app)}
    for command in ["", *sorted(c.name for c in app.registered_commands)]:
        assert main([*([command] if command else []), "--help"]) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert not [e for e in english if " ".join(e.split()) in out], command


#: English words allowed in Chinese help: file formats, CRS and code names, settings and values
#: a person types (zh|en, street, flat …), and the metavariables of the usage line.
_HELP_ALLOWED = {
    "gridgis", "GRIDGIS_LANG", "zh", "en", "CSV", "csv", "Excel", "xlsx", "gpkg", "GeoPackage",
    "PDF", "pdf", "HTML", "html", "PNG", "png", "SVG", "svg", "TOML", "toml", "Parquet",
    "parquet", "shapefile", "GBK", "UTF", "EPSG", "GCJ", "BD", "WGS", "CGCS", "Gi", "Getis",
    "Ord", "FDR", "KDE", "YYYY", "MM", "DD", "PLAN", "OPTIONS", "COMMAND", "ARGS", "lon", "lng",
    "lat", "street", "community", "district", "grid", "code", "name", "flat", "landscape",
    "portrait", "deck", "gl", "QGIS", "PostGIS", "json", "geojson", "JSON", "km", "ID",
    # sections of the rules file, a classification scheme and its library, a database URL
    "tolerances", "codes", "assign", "events", "NaturalBreaks", "mapclassify", "postgresql",
    "data", "samples",
    # values and layer names a person types: --locate all|never, --labels none, layer 'changes',
    # <ext> of a file name, the column 'kind' in an example
    "all", "never", "none", "changes", "ext", "kind",
}


def _cli_codes() -> set[str]:
    """Words a person types on the command line: verbs, option names, argument names (and
    their upper-case metavariables), default values and choices."""
    import typer

    from gridgis.cli import app

    root = typer.main.get_command(app)
    words = set()
    for command in [root, *root.commands.values()]:
        words.update(re.findall(r"[A-Za-z]+", command.name or ""))
        for param in command.params:
            texts = [*param.opts, *param.secondary_opts, param.name or "", str(param.default)]
            texts += [str(c) for c in getattr(getattr(param, "type_descriptor", None), "choices", None) or ()]
            for text in texts:
                found = re.findall(r"[A-Za-z]+", text)
                words.update(found)
                words.update(w.upper() for w in found)
    return words


def _help_words(text: str) -> set[str]:
    """English words of a help or error text, option names, file names and settings left out."""
    text = re.sub(r"--?[A-Za-z][\w-]*|\b[\w.-]+\.(?:gpkg|csv|xlsx|pdf|png|html|toml|parquet)\b",
                  " ", text)
    allowed = _HELP_ALLOWED | _cli_codes()
    return {w for w in re.findall(r"[A-Za-z][A-Za-z_]+", text)
            if w not in allowed and "_" not in w.strip("_")}


def _help_outputs(lang: str, capsys) -> dict[str, str]:
    """``--help`` of the app and of every verb, and the usage errors, in ``lang``."""
    from gridgis.cli import app

    out = {}
    for command in ["", *sorted(c.name for c in app.registered_commands)]:
        assert main(["--lang", lang, *([command] if command else []), "--help"]) == 0
        out[command or "gridgis"] = capsys.readouterr().out
    for args in (["validate", "--nope"], ["validate"], ["no-such-verb"], ["atlas", "--paper", "A9"],
                 ["heatmap", "x.csv", "--bandwidth", "abc"]):
        assert main(["--lang", lang, *args]) == 2, args
        res = capsys.readouterr()
        out[" ".join(args)] = res.out + res.err
    return out


def test_cli_help_and_usage_errors_speak_chinese(capsys, monkeypatch):
    """Click's and Typer's own words too: usage, panel titles, help option, errors."""
    monkeypatch.delenv("GRIDGIS_LANG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # no word cut short by the table
    texts = _help_outputs("zh", capsys)
    assert "用法" in texts["gridgis"] and "命令" in texts["gridgis"]
    assert "--nope" in texts["validate --nope"] and "--help" in texts["validate --nope"]
    found = {k: sorted(_help_words(t)) for k, t in texts.items() if _help_words(t)}
    assert not found


def test_cli_help_and_usage_errors_speak_english(capsys, monkeypatch):
    """No Chinese but the headers gridgis reads (网格编码, 经度 …) and the examples' file names."""
    from gridgis import schema
    from gridgis.render.notice import WORKER_ALIASES

    monkeypatch.delenv("GRIDGIS_LANG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    headers = sorted({a for names in schema.ALIASES.values() for a in names} | set(WORKER_ALIASES),
                     key=len, reverse=True)
    texts = _help_outputs("en", capsys)
    assert "Usage" in texts["gridgis"] and "No such option" in texts["validate --nope"]
    found = {}
    for k, t in texts.items():
        t = t.split("Example")[0]
        for h in headers:
            t = t.replace(h, " ")
        if HAN.search(t):
            found[k] = HAN.findall(t)
    assert not found


# ---- tables for people ---------------------------------------------------------------------------


def test_chinese_headers_of_schema_columns_read_back():
    """A table written for people in Chinese reads back into the canonical columns."""
    from gridgis import schema
    from gridgis.people import HEADERS, header

    with use_language("zh"):
        for column in HEADERS:
            if column in schema.ALIASES:
                assert schema.canonical_name(header(column)) == column, column
    with use_language("en"):
        for column in HEADERS:
            if column in schema.ALIASES:
                assert schema.canonical_name(header(column)) == column, column


def test_people_tables_translate_headers_and_values():
    import pandas as pd

    from gridgis.people import for_people

    df = pd.DataFrame({"grid_code": ["430302001001001"] * 5, "severity": ["error"] * 5,
                       "match": ["inside", "boundary", "nearest", "unmatched", "invalid"],
                       "hotspot": ["hot", "cold", "not significant", "hot", "cold"]})
    with use_language("zh"):
        out = for_people(df)
    assert list(out.columns) == ["网格编码", "级别", "匹配结果", "冷热点"]
    assert list(out["匹配结果"]) == ["在网格内", "边界", "最近网格", "未匹配", "无效"]
    assert set(out["冷热点"]) == {"热点", "冷点", "不显著"} and set(out["级别"]) == {"错误"}
    assert list(df.columns) == ["grid_code", "severity", "match", "hotspot"]  # API frame untouched
    with use_language("en"):  # English tables for people: readable headers, the API's values
        out = for_people(df)
    assert list(out.columns) == ["Grid code", "Severity", "Match", "Hot spot"]
    assert out.to_numpy().tolist() == df.to_numpy().tolist()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_people_tables_read_back_into_the_api_columns(tmp_path, lang, suffix):
    """A table written for people, in either language, as CSV or Excel, reads back into the
    canonical columns (the headers are aliases of the schema)."""
    import pandas as pd

    from gridgis import schema
    from gridgis.io import read_table, write_table
    from gridgis.people import HEADERS, for_people

    columns = [c for c in HEADERS if c in schema.ALIASES]
    df = pd.DataFrame({c: ["430302001001001" if "code" in c else "x"] for c in columns})
    with use_language(lang):
        people = for_people(df)
        assert not [c for c in people.columns if "_" in c]  # no snake_case header left
        write_table(people, tmp_path / f"people{suffix}")
    back = read_table(tmp_path / f"people{suffix}")
    assert list(back.columns) == columns
    assert back.loc[0, "grid_code"] == "430302001001001"


# ---- no user-facing English outside the catalogue -------------------------------------------------

_SENTENCE = re.compile(r"[A-Za-z]{2,}[^A-Za-z{}]+[A-Za-z]{2,}")
_TRANSLATED = {"_", "tr", "N_", "pgettext", "ngettext"}
#: exceptions for programming mistakes, not for people using gridgis
_DEVELOPER_ERRORS = {"AssertionError", "AttributeError", "RuntimeError", "NotImplementedError"}
_USER_KEYWORDS = {"fix", "message", "title", "caption", "xlabel", "ylabel", "label"}


def _is_sink(call: ast.Call) -> bool:
    """Calls whose text a person reads: errors raised, CLI lines, log lines, warnings, titles."""
    f = call.func
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
    if name.endswith("Error") or name.endswith("Warning"):
        return name not in _DEVELOPER_ERRORS
    if isinstance(f, ast.Name):
        return name in {"say", "error", "status", "with_options"}
    if not isinstance(f, ast.Attribute):
        return False
    owner = f.value.id if isinstance(f.value, ast.Name) else ""
    return ((owner in {"logger", "log", "logging"} and name in {"info", "warning", "error"})
            or (owner == "warnings" and name == "warn")
            or name in {"set_title", "set_xlabel", "set_ylabel", "suptitle"})


def _english_literals(node: ast.AST) -> list[str]:
    """English sentences written as literals in ``node`` (translated calls excluded)."""
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name) and f.id in _TRANSLATED:
            return []
        return [t for arg in [*node.args, *(k.value for k in node.keywords)]
                for t in _english_literals(arg)]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if _SENTENCE.search(node.value) else []
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value if isinstance(v, ast.Constant) else " {} " for v in node.values)
        return [text] if _SENTENCE.search(text) else []
    if isinstance(node, (ast.BinOp, ast.IfExp, ast.BoolOp)):
        return [t for child in ast.iter_child_nodes(node) for t in _english_literals(child)]
    return []


def english_outside_catalogue(source: str, name: str = "<module>") -> list[str]:
    """``file:line: text`` of each user-facing English sentence not routed through the catalogue."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Call) and _is_sink(node):
            args = [*node.args, *(k.value for k in node.keywords if k.arg in _USER_KEYWORDS)]
            found += [f"{name}:{node.lineno}: {text[:80]}" for a in args for text in _english_literals(a)]
    return found


def test_the_english_check_sees_sentences_outside_the_catalogue():
    bad = 'raise InputFileError(f"cannot read {path}", fix="save it as UTF-8")\nsay("wrote it")'
    good = 'raise InputFileError(tr("cannot read {path}", path=p), fix=_("save it as UTF-8"))'
    assert len(english_outside_catalogue(bad)) == 3
    assert english_outside_catalogue(good) == []


def test_no_module_formats_user_facing_english_outside_the_catalogue():
    found = []
    for path in sorted((ROOT / "gridgis").rglob("*.py")):
        found += english_outside_catalogue(path.read_text(encoding="utf-8"),
                                           str(path.relative_to(ROOT)))
    assert not found, "\n".join(found[:40])


# ---- edits of a plan ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_plan_parts():
    import geopandas as gpd

    from gridgis import schema
    from gridgis.partition import build_grids
    from tests.synthetic import synthetic_district

    layers = synthetic_district(seed=3, nx=2, ny=2)
    res = build_grids(layers["communities"], layers["roads"], layers["buildings"],
                      special_sites=layers["special_sites"], rivers=layers["rivers"])
    b = layers["buildings"]
    addresses = gpd.GeoDataFrame({schema.ADDRESS_ID: [f"A{i:05d}" for i in range(len(b))],
                                  schema.BUILDING_ID: b[schema.BUILDING_ID].to_numpy()},
                                 geometry=b.geometry.representative_point().to_numpy(), crs=b.crs)
    return layers, res, addresses


def _edit_texts(parts) -> list[str]:
    """Descriptions, summaries and notebook views of a few edits of a plan."""
    from gridgis import schema
    from gridgis.plan import Plan

    layers, res, addresses = parts
    plan = Plan(res.grids, layers["communities"], layers["buildings"], addresses,
                roads=layers["roads"], rivers=layers["rivers"], units=res.units)
    g = plan.grids
    basic = g[g[schema.KIND] == "basic"]
    code = basic[schema.GRID_CODE].iloc[0]
    touching = basic[basic.geometry.touches(basic.geometry.iloc[0])
                     & (basic[schema.COMMUNITY_CODE] == basic[schema.COMMUNITY_CODE].iloc[0])]
    results = [plan.rename(code, "幸福里"), plan.set_kind(code, "school"),
               plan.merge([code, touching[schema.GRID_CODE].iloc[0]])]
    merged = plan.grids
    big = merged.loc[merged[schema.HOUSEHOLDS].idxmax(), schema.GRID_CODE]
    results.append(plan.split(big, by="buildings", parts=2))
    texts = []
    for r in results:
        texts += [r.edit.description, r.summary(), re.sub(r"<[^>]+>", " ", r._repr_html_())]
    texts += [e.description for e in plan.history]
    texts.append(re.sub(r"<[^>]+>", " ", plan._repr_html_()))  # the plan in a notebook
    return texts


def test_plan_edits_are_described_in_chinese(small_plan_parts):
    with use_language("zh"):
        texts = _edit_texts(small_plan_parts)
    codes = re.compile(r"[\w-]*\d[\w-]*")  # grid codes, unit and building ids
    words = {w for t in texts for w in re.findall(r"[A-Za-z][A-Za-z_]+", codes.sub(" ", t))
             if "_" not in w and w not in {"school", "basic"}}
    assert all(HAN.search(t) for t in texts)
    assert not words


def test_plan_edits_are_described_in_english(small_plan_parts):
    with use_language("en"):
        texts = _edit_texts(small_plan_parts)
    names = re.compile(r"\S*第\d+网格|\S*专属网格\d*|幸福里")  # grid names of the data and builder
    left = {h for t in texts for h in HAN.findall(names.sub(" ", t))}
    assert texts[0].startswith("rename") and not left


def test_event_problems_speak_the_language():
    """The reasons a row of an event table is flagged, as the problems file shows them."""
    import pandas as pd

    from gridgis import events

    raw = pd.DataFrame({"事件编号": ["A1", "A1", "A3"], "经度": [112.9, "x", None],
                        "纬度": [27.85, 27.85, None], "紧急程度": ["很急", "一般", None],
                        "上报时间": ["2026-10-01 08:00", "abc", "2026-10-02"]})
    with use_language("zh"):
        zh = " ".join(events.load(raw)["problem"])
    with use_language("en"):
        en = " ".join(events.load(raw)["problem"])
    assert "事件编号重复" in zh and "没有坐标" in zh and "无法识别的紧急程度" in zh
    assert not [w for w in re.findall(r"[A-Za-z]{2,}", zh) if w not in {"abc"}]
    assert 'duplicate "Event ID"' in en and "no coordinates" in en
    left = HAN.findall(re.sub(r"'[^']*'|\([^)]*\)", " ", en))  # values quoted from the data
    assert not left, left
