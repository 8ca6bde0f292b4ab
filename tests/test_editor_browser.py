"""The map editor in a real browser: Voilà serves a notebook that shows ``plan.edit()`` on
loopback, headless chromium (network cut except 127.0.0.1) draws it, one grid is split through
synthetic mouse events (select, draw a line, double-click, "沿线拆分") and the grid count goes
up. No failed request, no console error."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .browser import colored_fraction, needs_chromium, open_page
from .sysdeps import short_tmpdir

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_chromium]
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("voila")

ROOT = Path(__file__).resolve().parents[1]
#: Voilà start, kernel start, sample build and the split, on a busy 2-core machine.
SERVER_START_S = 60
PAGE_S = 150

NOTEBOOK = """\
import gridgis
s = gridgis.load_sample()
plan = gridgis.Plan.build(s["communities"], s["roads"], s["buildings"], seed=0)
plan.edit(height=520)
"""

# Runs in the page: wait for the editor, select the largest grid on screen, draw a line across
# it at its label point, finish with a double-click, press the split button, wait for the map.
SPLIT_JS = """
(async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const until = async (f, s) => {
    const t = Date.now();
    while (Date.now() - t < s * 1000) { const v = f(); if (v) return v; await sleep(100); }
    return null;
  };
  const root = await until(() => {
    const r = document.querySelector(".gg-editor");
    return r && +r.dataset.grids > 0 && r.querySelector(".gg-svg").getBoundingClientRect().width > 100 ? r : null;
  }, %(wait)d);
  if (!root) return { error: "the editor did not draw" };
  await sleep(800);
  const n0 = +root.dataset.grids;
  const svg = root.querySelector(".gg-svg");
  const box = svg.getBoundingClientRect();
  let best = null, area = 0;
  for (const p of root.querySelectorAll(".gg-grid.gg-ok, .gg-grid.gg-above")) {
    const b = p.getBoundingClientRect();
    if (b.width * b.height > area) { area = b.width * b.height; best = p; }
  }
  const pt = svg.createSVGPoint();
  pt.x = +best.dataset.x; pt.y = +best.dataset.y;
  const c = pt.matrixTransform(best.getScreenCTM());
  const fire = (type, x, y) => document.elementFromPoint(x, y).dispatchEvent(new MouseEvent(type,
    { clientX: x, clientY: y, bubbles: true, cancelable: true, button: 0, view: window }));
  const click = (x, y) => { fire("mousedown", x, y); fire("mouseup", x, y); fire("click", x, y); };
  click(c.x, c.y);
  const selected = await until(() => root.dataset.selected === "1", 30);
  root.querySelector('[data-action="mode_line"]').click();
  const b = best.getBoundingClientRect();
  const x0 = Math.max(box.left + 2, b.left - 6), x1 = Math.min(box.right - 2, b.right + 6);
  click(x0, c.y); click(x1, c.y); fire("dblclick", x1, c.y);
  const drawn = await until(() => root.querySelector(".gg-drawn"), 30);
  const t0 = performance.now();
  root.querySelector('[data-action="split_line"]').click();
  const n1 = await until(() => (+root.dataset.grids !== n0 ? +root.dataset.grids : null), 60);
  const ms = performance.now() - t0;
  await sleep(500);
  return { n0, n1, ms, selected: !!selected, drawn: !!drawn, code: best.dataset.code,
           status: root.querySelector(".gg-status").textContent,
           font: document.fonts.check("12px 'gridgis CJK Sans'", "网格"),
           panel: root.querySelector(".gg-panel").textContent,
           labels: Array.from(root.querySelectorAll(".gg-labels text")).filter((t) => t.style.display !== "none").length };
})()
"""


def _offline_template(jupyter_dir: Path) -> str:
    """A Voilà template without the icon font that Voilà's own ``lab`` template links on a
    CDN (the only thing that page would fetch from outside): a copy of it minus those links."""
    from jupyter_core.paths import jupyter_path

    lab = next(Path(p) for p in jupyter_path("voila", "templates", "lab")
               if (Path(p) / "index.html.j2").exists())
    text = (lab / "index.html.j2").read_text(encoding="utf-8")
    kept = [line for line in text.splitlines(keepends=True) if "cdn.jsdelivr.net" not in line]
    assert len(kept) < len(text.splitlines()), "Voilà's template changed: check its links"
    target = jupyter_dir / "voila" / "templates" / "gridgis-offline"
    target.mkdir(parents=True)
    (target / "index.html.j2").write_text("".join(kept), encoding="utf-8")
    (target / "conf.json").write_text('{"base_template": "lab"}', encoding="utf-8")
    return target.name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def voila_editor(tmp_path):
    """URL of a Voilà server on loopback showing a notebook that ends in ``plan.edit()``."""
    work = Path(short_tmpdir("gridgis-voila-"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(NOTEBOOK)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, work / "editor.ipynb")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "JUPYTER_RUNTIME_DIR": str(work / "runtime"), "MPLBACKEND": "Agg", "GRIDGIS_LANG": "zh",
        "JUPYTER_PATH": os.pathsep.join(
            [str(work / "jupyter"), *filter(None, [os.environ.get("JUPYTER_PATH")])])}
    template = _offline_template(work / "jupyter")
    log = open(tmp_path / "voila.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1", "--show_tracebacks=True", f"--template={template}",
         "editor.ipynb"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                urllib.request.urlopen(url + "api/status", timeout=2).close()
                break
            except urllib.error.HTTPError:  # the server answers (a 403 is an answer)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Voilà did not start:\n" + (tmp_path / "voila.log")
                                       .read_text(errors="replace")[-3000:]) from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def test_editor_splits_a_grid_in_the_browser(voila_editor, tmp_path):
    res = open_page(voila_editor, width=1400, height=860, wait=0.5, allow_loopback=True,
                    system_cjk_fonts=False,
                    timeout=PAGE_S, evaluate={"split": SPLIT_JS % {"wait": PAGE_S - 30}})
    shot = res.save(tmp_path / "editor.png")
    out = res.values["split"]
    assert not isinstance(out, Exception), out
    assert "error" not in out, (out, res.problems)
    assert res.problems == [], "\n".join(res.problems)
    assert out["selected"] and out["drawn"], out
    assert out["n1"] is not None and out["n1"] > out["n0"], out
    # button → kernel (split, findings, map features, panel) → map redrawn in the browser
    print(f"split in the browser: {out['n0']} → {out['n1']} grids in {out['ms']:.0f} ms",
          file=sys.stderr)
    assert out["ms"] < 5000, out
    assert "新增问题" in out["status"], out["status"]  # the edit's report, in Chinese
    assert out["code"] in out["panel"], "the split grid is listed in the side panel"
    assert out["labels"] >= 5, "grid labels are drawn where they fit"
    assert out["font"], "the bundled CJK font is loaded (Chinese renders without system fonts)"
    assert colored_fraction(res.image()) > 0.15, shot
