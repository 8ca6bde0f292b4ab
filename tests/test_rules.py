import pytest

from gridgis.errors import RulesError
from gridgis.rules import DEFAULT_RULES, load_rules


def test_defaults_follow_design():
    r = load_rules()
    assert r.urban.bounds == (300.0, 500.0)
    assert r.urban.measure == "households"
    assert r.rural.measure == "population"
    assert r.profile_for("rural") is r.rural and r.profile_for("urban") is r.urban
    assert r.events.deadline_days["一般"] == 7
    assert "school" in r.special.kinds


def test_toml_overrides(tmp_path):
    p = tmp_path / "rules.toml"
    p.write_text(
        '[urban]\nmin_households = 250\nmax_households = 600\nmax_population = 2000\n'
        '[rural]\nbasis = "population"\nmin_population = 500\nmax_population = 1500\n'
        '[tolerances]\ngap_width_m = 0.3\n[events.deadline_days]\n"一般" = 5\n',
        encoding="utf-8",
    )
    r = load_rules(p)
    assert r.urban.bounds == (250.0, 600.0) and r.urban.caps["population"] == 2000
    assert r.rural.bounds == (500.0, 1500.0)
    assert r.tolerances.gap_width_m == 0.3
    assert r.events.deadline_days["一般"] == 5 and r.events.deadline_days["重要"] == 3
    assert r.assign == DEFAULT_RULES.assign


@pytest.mark.parametrize(
    "text, words",
    [
        ('[urban]\nmin_households = "300"\n', ["[urban] min_households", "expected a number"]),
        ("[urban]\nmin_households = -3\n", ["min_households", ">= 0"]),
        ("[urban]\nmin_households = 600\nmax_households = 500\n", ["larger than max_households"]),
        ("[urban]\nmax_househlds = 500\n", ["unknown key", "max_househlds"]),
        ("[cities]\nx = 1\n", ["unknown section", "cities"]),
        ('[rural]\nbasis = "people"\n', ["basis", "households"]),
        ("[urban]\nmin_households = 300.5\n", ["whole number"]),
        ("[urban\nmin_households = 1\n", ["not valid TOML"]),
        ('[special]\nkinds = "school"\n', ["kinds", "list"]),
        ('[events.deadline_days]\n"一般" = 0\n', ["positive number of days"]),
    ],
)
def test_malformed_rules_name_key(tmp_path, text, words):
    p = tmp_path / "bad.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rules(p)
    for w in words:
        assert w in str(err.value)
    assert "bad.toml" in str(err.value)


def test_missing_rules_file(tmp_path):
    with pytest.raises(RulesError, match="not found"):
        load_rules(tmp_path / "nope.toml")
