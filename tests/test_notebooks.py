"""Execute the planner notebooks in notebooks/ with nbclient (a 'python3' kernel); any cell
error fails the test. Outputs go to a temporary folder (GRIDGIS_OUT), never into the repo."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: Each notebook must run in under a minute on the sample; shared CI machines get slack.
TIMEOUT_S = 180


def _kernel_name() -> str:
    """The 'python3' kernel of this interpreter, registered for the user when missing."""
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():  # pragma: no cover
        from ipykernel.kernelspec import install

        install(user=True, kernel_name="python3")
    return "python3"


def test_notebooks_exist_and_have_no_outputs():
    assert len(NOTEBOOKS) == 5, [p.name for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
        assert cells[0]["cell_type"] == "markdown"  # each notebook says what the planner does
        for cell in cells:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"{path.name}: strip outputs before committing"
                assert cell.get("execution_count") is None, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setenv("GRIDGIS_OUT", str(out))
    # the kernel imports this checkout of gridgis whatever the install state
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=TIMEOUT_S, kernel_name=_kernel_name(),
        resources={"metadata": {"path": str(path.parent)}})
    t = time.perf_counter()
    client.execute()  # raises CellExecutionError on any cell error
    seconds = time.perf_counter() - t
    print(f"{path.name}: {seconds:.1f} s", file=sys.stderr)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    assert out.exists() and any(out.iterdir()), "the notebook wrote nothing to GRIDGIS_OUT"
    assert not list((ROOT / "notebooks").glob("*.gpkg")), "outputs must not go into the repo"
    # outputs stay small (maps are previews; the full-size files are in GRIDGIS_OUT)
    size = len(nbformat.writes(nb).encode("utf-8"))
    assert size < 3_000_000, f"{path.name}: executed notebook is {size / 1e6:.1f} MB"
