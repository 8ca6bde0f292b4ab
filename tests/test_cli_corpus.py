"""Bad and awkward inputs through every verb that reads them, as batch users run the CLI.

For every case × run of :mod:`tests.corpus.bad_inputs`: the exit code is the one the contract
says (0 ok, 1 rule violations, 2 bad input/usage/unwritable output, 3 internal error), nothing
prints a traceback, a refusal (exit 2) names the user's file, readable point/table inputs keep
every row (rows in = rows out), and inputs that an output path points at stay byte-identical.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.corpus.bad_inputs import Case, Material, Run, cases

SCRIPT = shutil.which("gridgis", path=os.path.dirname(sys.executable)) or "gridgis"
CASES = cases()
PAIRS = [pytest.param(case, run, id=f"{case.id}-{run.id}") for case in CASES for run in case.runs]


def test_corpus_is_large_enough():
    assert len(CASES) >= 40
    runs = [f"{case.id}-{run.id}" for case in CASES for run in case.runs]
    assert len(runs) == len(set(runs)), "two runs of a case share an id: give one a label"
    verbs = {run.verb for case in CASES for run in case.runs}
    assert {"validate", "repair", "assign", "heatmap", "render", "report", "recode",
            "recode-table", "build"} <= verbs


@pytest.fixture(scope="session")
def material(tmp_path_factory) -> Material:
    """The clean plan, the event table and the crosswalk every case starts from (read only)."""
    return Material.create(tmp_path_factory.mktemp("corpus_material"))


def run_cli(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([SCRIPT, *argv], capture_output=True, text=True, encoding="utf-8",
                          errors="replace", timeout=300, cwd=cwd)


def count_rows(folder: Path, out: str, stderr: str) -> int | None:
    """Data rows of an output table (None when it was not written)."""
    if out == "@events":  # heatmap: "120 events: ok 118, invalid 2"
        found = re.search(r"(\d+) events\b", stderr)
        return int(found.group(1)) if found else None
    path = folder / out
    if not path.exists():
        return None
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_metadata(path).num_rows
    if suffix == ".gpkg":
        import pyogrio

        layers = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        layer = layers[0] if len(layers) == 1 else "assigned"
        return int(pyogrio.read_info(path, layer=layer)["features"])
    return len(pd.read_csv(path, dtype=str, keep_default_na=False))


def _named(stderr: str, text: str) -> bool:
    """TEXT appears in stderr (also when the console wrapped it across lines)."""
    return text in stderr or text in stderr.replace("\n", "")


@pytest.mark.parametrize(("case", "run"), PAIRS)
def test_corpus(case: Case, run: Run, material: Material, tmp_path: Path):
    case.write(tmp_path, material)
    before = {name: (tmp_path / name).read_bytes() for name in run.unchanged}
    argv = run.argv(material.paths)
    res = run_cli(argv, tmp_path)
    out = res.stdout + res.stderr
    expected = run.exit or case.exit
    problems = []
    if res.returncode not in expected:
        problems.append(f"exit {res.returncode}, expected {' or '.join(map(str, expected))}")
    if "Traceback" in out:
        raised = re.findall(r"^([\w.]*(?:Error|Exception|Exit)\b.*)$", out, re.M)
        chain = [e[:160] for e in reversed(dict.fromkeys(raised))]  # last raised first
        problems.append("traceback: " + " <- ".join(chain))
    if res.returncode == 2:
        for text in run.named or case.named:
            if not _named(res.stderr, text):
                problems.append(f"stderr does not name {text!r}")
    for name, data in before.items():
        path = tmp_path / name
        if not path.is_file() or path.read_bytes() != data:
            problems.append(f"input {name} was changed or removed")
    if res.returncode in (0, 1) and res.returncode in expected:
        if case.rows is not None and run.rows_out is not None:
            got = count_rows(tmp_path, run.rows_out, res.stderr)
            if got != case.rows:
                problems.append(f"rows in {case.rows}, rows out {got} ({run.rows_out})")
        if case.check is not None and not problems:
            try:
                case.check(tmp_path, run)
            except AssertionError as exc:
                problems.append(f"check failed: {exc}")
    tail = "\n".join(res.stderr.strip().splitlines()[-8:])
    assert not problems, (f"gridgis {' '.join(argv)}\n" + "\n".join(problems)
                          + f"\n--- stderr (last lines) ---\n{tail}")
