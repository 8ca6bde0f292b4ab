"""The validator's threads never use one GEOS object from two threads at once.

Prepared geometries build their indexes on first use, and GEOS crashes when two threads use
the same one together: with small chunks forced (``GRIDGIS_THREAD_MIN=1``) the hierarchy
check's community gaps crashed the process about once in 80 validations, and a full test run
crashed once in three (the nesting check on one thread, the gaps on the other)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import gridgis
from gridgis.codes import assign_codes
s = gridgis.load_sample()
b = gridgis.build_grids(s["communities"], s["roads"], s["buildings"],
                        special_sites=s["special_sites"], rivers=s["rivers"], seed=0)
plan = assign_codes(b.grids, communities=s["communities"])
levels = {"district": s["district"], "street": s["streets"]}
for _ in range(40):
    gridgis.validate(plan, parents=s["communities"], buildings=s["buildings"], levels=levels)
print("ok")
"""


def test_validate_on_two_threads_with_small_chunks_never_crashes():
    env = {**os.environ, "GRIDGIS_THREADS": "2", "GRIDGIS_THREAD_MIN": "1",
           "PYTHONPATH": str(ROOT)}
    for _ in range(4):
        run = subprocess.run([sys.executable, "-X", "faulthandler", "-c", SCRIPT], env=env,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0 and "ok" in run.stdout, run.stderr[-3000:]
