"""`gridgis validate` / `gridgis repair`: exit codes 0 clean, 1 errors, 2 unreadable input."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest

from gridgis.cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATIONS, main
from tests.corpus.plans import corpus

CASES = {c.name: c for c in corpus()}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    out = tmp_path_factory.mktemp("plans")
    paths = {}
    for name in ("clean", "gap_interior", "digitised_0.3m_gaps", "empty_grids", "overlap"):
        path = out / f"{name}.gpkg"
        for layer, gdf in CASES[name].layers().items():
            gdf.to_file(path, layer=layer, driver="GPKG")
        paths[name] = path
    return paths


def args(path, *extra):
    return ["-q", "validate", str(path), "--parents", str(path), "--parents-layer", "parents",
            "--buildings", str(path), "--buildings-layer", "buildings", *extra]


def test_exit_codes(files, tmp_path):
    assert main(args(files["clean"])) == EXIT_OK
    assert main(args(files["gap_interior"])) == EXIT_VIOLATIONS
    assert main(args(files["empty_grids"])) == EXIT_VIOLATIONS  # rows without geometry: findings
    # noise gaps are warnings: ok, unless --strict
    assert main(args(files["digitised_0.3m_gaps"])) == EXIT_OK
    assert main(args(files["digitised_0.3m_gaps"], "--strict")) == EXIT_VIOLATIONS
    assert main(["-q", "validate", str(tmp_path / "missing.gpkg")]) == EXIT_BAD_INPUT
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(b"not a geopackage")
    assert main(["-q", "validate", str(bad)]) == EXIT_BAD_INPUT
    bad_rules = tmp_path / "rules.toml"
    bad_rules.write_text("[tolerances]\ngap_width_m = 'wide'\n", encoding="utf-8")
    assert main(args(files["clean"], "--rules", str(bad_rules))) == EXIT_BAD_INPUT


def test_outputs(files, tmp_path):
    html, js, gp = tmp_path / "r.html", tmp_path / "r.json", tmp_path / "r.gpkg"
    rc = main(args(files["overlap"], "--html", str(html), "--json", str(js), "--gpkg", str(gp)))
    assert rc == EXIT_VIOLATIONS
    assert "overlap" in html.read_text(encoding="utf-8")
    assert json.loads(js.read_text(encoding="utf-8"))["n_errors"] >= 1
    assert set(gpd.read_file(gp, layer="findings")["rule"]) >= {"overlap"}


def test_rules_file_changes_tolerance(files, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("[tolerances]\ngap_width_m = 0.2\n", encoding="utf-8")
    assert main(args(files["digitised_0.3m_gaps"], "--rules", str(rules))) == EXIT_VIOLATIONS


def test_repair_verb(files, tmp_path):
    out = tmp_path / "fixed.gpkg"
    rc = main(["-q", "repair", str(files["gap_interior"]), "--parents", str(files["gap_interior"]),
               "--parents-layer", "parents", "--buildings", str(files["gap_interior"]),
               "--buildings-layer", "buildings", "-o", str(out)])
    assert rc == EXIT_OK
    fixed = gpd.read_file(out, layer="grids")
    changes = gpd.read_file(out, layer="changes")
    assert "fill_gap" in set(changes["action"])
    assert main(["-q", "validate", str(out), "--layer", "grids", "--parents",
                 str(files["gap_interior"]), "--parents-layer", "parents"]) == EXIT_OK
    assert len(fixed) == len(CASES["gap_interior"].district.grids)


def test_help_has_an_example(capsys):
    for verb in ("validate", "repair"):
        assert main([verb, "--help"]) == 0
        text = capsys.readouterr().out
        assert "Example" in text and f"gridgis {verb}" in text


def test_status_lines_follow_quiet_and_verbose(files, tmp_path, capsys):
    """Status lines go through the gridgis logger: shown by default, hidden by -q, plain text."""
    js = tmp_path / "findings.json"
    plain = args(files["clean"], "--json", str(js))[1:]  # without -q
    assert main(plain) == EXIT_OK
    shown = capsys.readouterr().err
    assert f"wrote {js}" in shown.splitlines()  # one unwrapped line, copyable path
    assert main(["-q", *plain]) == EXIT_OK
    assert "wrote" not in capsys.readouterr().err
    assert main(["-v", *plain]) == EXIT_OK
    assert f"wrote {js}" in capsys.readouterr().err
    # main() takes its handler off again: later library calls in this process stay quiet
    import logging

    handlers = logging.getLogger("gridgis").handlers
    assert all(isinstance(h, logging.NullHandler) for h in handlers), handlers
