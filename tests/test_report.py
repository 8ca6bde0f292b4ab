"""Report bundle: PDF pages (checked as PNG via pdftoppm), HTML, figures and tables."""

import shutil
import subprocess

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from gridgis.errors import GridGISError  # noqa: E402
from gridgis.i18n import use_language  # noqa: E402
from gridgis.workflows import build_report, community_table  # noqa: E402

from .sysdeps import require_system  # noqa: E402


@pytest.fixture(scope="module")
def plan(sample_plan, sample_layers):
    return sample_plan, sample_layers


@pytest.mark.slow
def test_bundle_on_sample(plan, tmp_path):
    grids, layers = plan
    previous = grids.copy()
    # a previous plan in which two grids of one community were one
    comm = grids[grids["kind"] == "basic"]["community_code"].value_counts().index[0]
    pair = grids[(grids["community_code"] == comm) & (grids["kind"] == "basic")].index[:2]
    merged = previous.loc[pair].union_all()
    previous = previous.drop(index=pair[1])
    previous.loc[pair[0], "geometry"] = merged
    with use_language("zh"):  # the office's report, in Chinese (the default outside the suite)
        bundle = build_report(grids, tmp_path, communities=layers["communities"],
                              buildings=layers["buildings"], addresses=layers["addresses"],
                              events=layers["events"], previous=previous, roads=layers["roads"],
                              district=layers["district"], streets=layers["streets"])
    assert bundle.pdf.stat().st_size > 50_000 and bundle.pages >= 5
    for name in ("grid_map_25d", "findings_map", "event_heatmap", "events_per_grid"):
        assert [p.suffix for p in bundle.figures[name]] == [".png", ".svg"]
        assert all(p.stat().st_size > 5_000 for p in bundle.figures[name])
    assert set(bundle.tables) >= {"communities", "findings", "events_by_grid", "crosswalk"}
    import openpyxl

    streets = openpyxl.load_workbook(tmp_path / "tables" / "bulletin.xlsx")["各街道"]
    units = [row[2].value for row in streets.iter_rows(min_row=2)]  # the streets by their names
    assert units and set(units) <= set(layers["streets"]["name"]), units
    cw = (tmp_path / "tables" / "crosswalk.csv").read_text(encoding="utf-8-sig")
    assert "拆分" in cw  # the merged grid of the previous plan was split in two
    html = bundle.html.read_text(encoding="utf-8")
    assert "雨湖区网格化服务管理报告" in html and html.count("data:image/png;base64,") >= 4
    assert "http://" not in html and "https://" not in html
    require_system("pdftoppm", shutil.which("pdftoppm") is not None,
                   "Debian package poppler-utils (`make sysdeps` as root)")
    subprocess.run(["pdftoppm", "-png", "-r", "30", str(bundle.pdf), str(tmp_path / "page")],
                   check=True, timeout=300)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == bundle.pages
    import matplotlib.image as mpimg

    for page in pages:
        img = mpimg.imread(page)
        assert img.shape[0] > img.shape[1]  # A4 portrait
        assert (img[..., :3] < 0.9).any(axis=2).mean() > 0.01  # something printed on every page
    first = mpimg.imread(pages[0])[..., :3]
    colourful = np.ptp(first, axis=2) > 0.15
    assert colourful.mean() > 0.05  # the coloured 2.5D map is on the cover


def test_community_table(plan):
    grids, layers = plan
    with use_language("zh"):
        t = community_table(grids, layers["communities"])
    assert len(t) == grids["community_code"].nunique()
    assert t["基础网格"].sum() == (grids["kind"] == "basic").sum()
    assert (t["户数最大"] <= 500).all()


def test_plan_without_crs_is_refused(plan, tmp_path):
    grids, _ = plan
    with pytest.raises(GridGISError, match="no CRS"):
        build_report(grids.set_crs(None, allow_override=True), tmp_path)
