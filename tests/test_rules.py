import pytest

from gridgis.codes import CodeScheme, SerialRange, load_scheme
from gridgis.errors import GridGISError, RulesError
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
        ("[codes]\nserial_width = 0\n", ["[codes] serial_width", "1..9"]),
        ("[codes]\nparent_length = \"12\"\n", ["[codes] parent_length", "positive integer"]),
        ('[codes]\nseparator = "A"\n', ["[codes] separator", "without letters"]),
        ('[codes]\norder = "spiral"\n', ["[codes] order", "rows"]),
        ("[codes]\ndigits_only = 1\n", ["[codes] digits_only", "true or false"]),
        ("[codes]\nparent_lenght = 12\n", ["[codes]", "unknown key", "parent_lenght"]),
        ("[codes.ranges.basic]\nstart = 1\nstop = 5000\n", ["[codes] ranges.basic", "3-digit"]),
        ("[codes.ranges.basic]\nstart = 1\nstop = 899\n[codes.ranges.special]\nstart = 800\n"
         "stop = 999\n", ["[codes] ranges", "overlap"]),
        ("[codes.ranges.school]\nfirst = 1\n", ["[codes] ranges.school", "keys"]),
        ("[tolerances]\nrecode_same_share = 0.5\n", ["[tolerances] recode_same_share", "(0.5, 1.0]"]),
        ("[tolerances]\nrecode_min_share = 0.6\n", ["[tolerances] recode_min_share", "[0.0, 0.5)"]),
        ('[tolerances]\nband_rel_eps = "x"\n', ["[tolerances] band_rel_eps", "expected a number"]),
        ("[tolerances]\nsnap = 1\n", ["unknown key [tolerances] snap"]),
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


def test_codes_and_tolerances_sections(tmp_path):
    p = tmp_path / "rules.toml"
    p.write_text(
        '[codes]\nparent_length = 12\nserial_width = 4\nseparator = "-"\norder = "columns"\n'
        "band_height_m = 150.0\n"
        "[codes.ranges.basic]\nstart = 1\nstop = 8999\n"
        "[codes.ranges.special]\nstart = 9000\nstop = 9999\n"
        '[codes.ranges.school]\nprefix = "X"\nstart = 1\nstop = 99\n'
        "[tolerances]\nrecode_same_share = 0.8\nrecode_min_share = 0.02\nband_rel_eps = 1e-6\n",
        encoding="utf-8",
    )
    r = load_rules(p)
    assert r.codes == CodeScheme(
        serial_width=4, separator="-", order="columns", band_height_m=150.0,
        ranges={"basic": SerialRange(1, 8999), "special": SerialRange(9000, 9999),
                "school": SerialRange(1, 99, prefix="X")},
    )
    assert r.codes.format("430302001001", 7, kind="school") == "430302001001-X0007"
    assert r.codes.format("430302001001", 9001, kind="market") == "430302001001-9001"
    assert (r.tolerances.recode_same_share, r.tolerances.recode_min_share,
            r.tolerances.band_rel_eps) == (0.8, 0.02, 1e-6)
    assert r.tolerances.gap_width_m == DEFAULT_RULES.tolerances.gap_width_m
    assert r.urban == DEFAULT_RULES.urban
    # the scheme loads from the rules, or from the rules file used as a scheme file
    assert load_scheme(rules=p) == r.codes == load_scheme(p) == load_scheme(r)
    assert load_scheme() == DEFAULT_RULES.codes == CodeScheme()
    assert CodeScheme.from_dict(r.codes.to_dict()) == r.codes


def test_bad_codes_section_is_a_gridgis_error_naming_file_and_key(tmp_path):
    p = tmp_path / "city.toml"
    p.write_text("[codes]\nserial_width = 12\n", encoding="utf-8")
    with pytest.raises(GridGISError) as err:
        load_rules(p)
    assert "city.toml" in str(err.value) and "[codes] serial_width" in str(err.value)
    with pytest.raises(GridGISError, match="city.toml"):
        load_scheme(rules=p)
