"""Print layouts, the atlas, notice boards, labels and colours of printed maps."""

import re
import shutil
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from matplotlib.colors import to_hex

from gridgis.i18n import use_language
from gridgis.render.atlas import atlas_pages
from gridgis.render.colors import community_colors
from gridgis.render.colouring import same_colour_neighbours
from gridgis.render.labels import LABEL_GID, overlapping_pairs, short_codes
from gridgis.render.layout import fit_scale, new_page, nice_scale
from gridgis.render.notice import grid_workers, notice_pages, qr_matrix

from .sysdeps import require_system
from .test_cli import run

LAYER_NAMES = ("district", "streets", "communities", "roads", "rivers", "buildings")


@pytest.fixture(scope="module")
def layers(sample_layers):
    return {k: sample_layers[k] for k in LAYER_NAMES}


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory, sample_plan, sample_layers):
    """The sample plan saved as ``gridgis demo`` saves it: streets and all beside the grids."""
    from gridgis.versions import save_version

    path = tmp_path_factory.mktemp("atlas") / "plan.gpkg"
    context = {k: sample_layers[k] for k in ("district", "streets", "communities", "roads",
                                             "rivers", "buildings", "addresses")}
    save_version(sample_plan, path, author="test", note="sample", context=context)
    return path


def _pdftotext(path, page=None):
    require_system("pdftotext", shutil.which("pdftotext") is not None,
                   "Debian package poppler-utils (`make sysdeps` as root)")
    args = ["pdftotext", "-raw"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(path), "-"], capture_output=True, text=True, check=True,
                          timeout=120).stdout


def _check_page(page, grids, flat=True):
    """No two drawn labels overlap, labels are unique, no neighbours share a colour, and the
    colours drawn are the ones the page reports."""
    assert overlapping_pairs(page.labels.texts) == []
    texts = [t.get_text() for t in page.labels.texts if t is not None]
    assert len(texts) == len(set(texts))
    assert len(texts) + len(page.labels.dropped) == len(page.labels.texts)
    if not page.colours:
        return
    mine = grids[grids["grid_code"].isin(page.colours)]
    colours = [page.colours[c] for c in mine["grid_code"]]
    assert same_colour_neighbours(mine.geometry.to_numpy(), colours,
                                  list(mine["grid_code"])) == []
    drawn = [a for ax in page.fig.axes for a in ax.collections if a.get_gid() == "gridgis-grids"]
    assert len(drawn) == 1
    faces = {to_hex(c) for c in drawn[0].get_facecolor()}
    if flat:  # 2.5D faces are shaded walls and buildings too
        assert faces <= {to_hex(c) for c in colours}
    else:
        assert {to_hex(c) for c in colours} <= faces  # the roofs


def test_the_sample_plan_file_has_the_street_level(plan_file):
    from gridgis.versions import plan_context

    streets = plan_context(plan_file)["streets"]
    assert sorted(streets["code"]) == ["430302001", "430302002", "430302003", "430302201"]


def test_atlas_pages_by_community_labels_and_colours(sample_plan, layers):
    import matplotlib.pyplot as plt

    pages = []
    for page in atlas_pages(sample_plan, layers, by="community", paper="A3", maker="测试单位",
                            when="2025年3月1日"):
        _check_page(page, sample_plan)
        pages.append((page.kind, page.code, page.scale, len(page.labels.dropped)))
        plt.close(page.fig)
    kinds = [p[0] for p in pages]
    assert kinds[:2] == ["cover", "overview"]
    assert [p[1] for p in pages[2:]] == sorted(layers["communities"]["code"])
    for _, _, scale, _ in pages[1:]:
        assert scale == nice_scale(scale)  # round scales only
    assert sum(p[3] for p in pages[2:]) == 0  # on community pages every grid gets its label


def test_atlas_pages_by_street_25d_a4(sample_plan, layers):
    import matplotlib.pyplot as plt

    seen = 0
    for page in atlas_pages(sample_plan, layers, by="street", paper="A4",
                            orientation="portrait", style="25d"):
        _check_page(page, sample_plan, flat=page.kind != "unit")
        if page.kind == "unit":
            seen += 1
            w, h = page.fig.get_size_inches() * 25.4
            assert (round(w), round(h)) == (210, 297)
            # street pages mix communities: labels are community-serial tails, unique on the page
            assert any("-" in t.get_text() for t in page.labels.texts if t is not None)
        plt.close(page.fig)
    assert seen == 4


def test_atlas_cli_writes_a_page_per_community(plan_file, sample_layers, tmp_path):
    out = tmp_path / "atlas.pdf"
    res = run("--lang", "zh", "atlas", str(plan_file), "--by", "community", "--paper", "A3", "-o", str(out),
              "--maker", "雨湖区网格化服务管理中心", "--date", "2025年3月1日")
    assert res.returncode == 0, res.stderr
    comm = sample_layers["communities"].sort_values("code")
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    assert f"Pages:           {2 + len(comm)}" in info
    assert "1190.55 x 841.89 pts (A3)" in info
    for k, name in enumerate(comm["name"]):
        text = _pdftotext(out, page=k + 3)
        assert f"{name}网格图" in text
        assert "制图单位：雨湖区网格化服务管理中心" in text and "制图日期：2025年3月1日" in text
        assert re.search(r"比例尺\s*1:\d[\d ]*\d", text)
        assert "CGCS2000" in text
    cover = _pdftotext(out, page=1)
    assert "雨湖区网格化服务管理图集" in cover and "22个社区" in cover.replace(" ", "")


def test_page_sizes_and_round_scales():
    import matplotlib.pyplot as plt

    for paper, orient, size in (("A4", "portrait", (210, 297)), ("A3", "landscape", (420, 297)),
                                ("A0", "portrait", (841, 1189))):
        page = new_page(paper, orient, title="测试")
        w, h = page.fig.get_size_inches() * 25.4
        assert (round(w), round(h)) == size
        scale = fit_scale(page.map_ax, (0, 0, 3000, 2000))
        x0, x1 = page.map_ax.get_xlim()
        y0, y1 = page.map_ax.get_ylim()
        assert x0 <= 0 and x1 >= 3000 and y0 <= 0 and y1 >= 2000
        pos = page.map_ax.get_position()
        width_mm = pos.width * page.fig.get_figwidth() * 25.4
        assert (x1 - x0) / (width_mm / 1000) == pytest.approx(scale)
        plt.close(page.fig)
    assert [nice_scale(x) for x in (480, 5001, 7000, 12000)] == [500, 6000, 7500, 15000]


def test_short_codes_are_unique():
    codes = [f"430302{s:03d}{c:03d}{g:03d}" for s in (1, 2) for c in (1, 2, 3) for g in (1, 2)]
    labels = short_codes(codes)
    assert len(set(labels)) == len(codes)
    assert labels[0] == "1001-001" and labels[-1] == "2003-002"
    assert short_codes(codes[:2]) == ["001", "002"]


def test_community_colours_never_match_across_a_shared_edge(sample_plan):
    fills = community_colors(sample_plan)
    assert same_colour_neighbours(sample_plan.geometry.to_numpy(), list(fills)) == []
    # the interactive map draws the same fills
    from gridgis.render.colors import grid_fills

    web, _ = grid_fills(sample_plan, None)
    assert list(web) == list(fills)


def test_dense_labels_never_overlap():
    import matplotlib.pyplot as plt

    from gridgis.render.labels import place_labels

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(3, 7, 200), rng.uniform(3, 7, 200)
    placed = place_labels(ax, x, y, [f"{i:03d}" for i in range(200)], fontsize=8)
    drawn = [t for t in ax.texts if t.get_gid() == LABEL_GID]
    assert overlapping_pairs(drawn) == []
    assert len(drawn) + len(placed.dropped) == 200
    assert placed.leaders > 0 and placed.dropped  # crowded: some on leaders, some left out
    plt.close(fig)


def test_notice_boards_show_workers_and_a_qr_code(sample_plan, layers, tmp_path):
    import matplotlib.pyplot as plt

    code = sorted(sample_plan["grid_code"])[3]
    workers = pd.DataFrame({"姓名": ["王芳", "李强"], "联系电话": [13807320001, "13907321234"],
                            "网格编码": [code, "430302999999999"]})
    assert grid_workers(workers)[code] == [("王芳", "13807320001", "")]
    with use_language("zh"):
        page = next(notice_pages(sample_plan, layers, workers=workers, codes=[code]))
    texts = " ".join(t.get_text() for t in page.fig.findobj(match=lambda a: hasattr(a, "get_text")))
    assert code in texts and "王芳" in texts and "13807320001" in texts
    row = sample_plan[sample_plan["grid_code"] == code].iloc[0]
    assert f"{int(row['households']):,}" in texts
    qr = [c for ax in page.fig.axes for c in ax.collections if c.get_gid() == "gridgis-qr"]
    assert len(qr) == 1 and len(qr[0].get_paths()) == int(qr_matrix(code).sum())
    assert overlapping_pairs(page.labels.texts) == []
    w, h = page.fig.get_size_inches() * 25.4
    assert (round(w), round(h)) == (210, 297)
    plt.close(page.fig)


def test_notice_cli(plan_file, sample_plan, tmp_path):
    code = sorted(sample_plan["grid_code"])[0]
    workers = tmp_path / "网格员.csv"
    workers.write_text(f"姓名,联系电话,网格编码\n赵敏,13800000001,{code}\n", encoding="gbk")
    out = tmp_path / "公示牌.pdf"
    res = run("--lang", "zh", "notice", str(plan_file), "--workers", str(workers), "--grid", code, "-o", str(out))
    assert res.returncode == 0, res.stderr
    text = _pdftotext(out)
    assert "网格公示牌" in text and "赵敏" in text and code in text
    res = run("notice", str(plan_file), "--grid", "123", "-o", str(tmp_path / "x.pdf"))
    assert res.returncode == 2 and "123" in res.stderr and "Traceback" not in res.stderr


def test_summary_cli_by_street(plan_file, sample_plan, tmp_path):
    out = tmp_path / "streets.csv"
    res = run("--lang", "zh", "summary", str(plan_file), "--by", "street", "-o", str(out))
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"街道（乡镇）": str})
    assert list(table["街道（乡镇）"]) == ["430302001", "430302002", "430302003", "430302201"]
    assert table["网格数"].sum() == len(sample_plan)
    assert table["户数"].sum() == sample_plan["households"].sum()
    assert "城正街街道" in res.stdout


def test_validate_cli_reads_the_street_level(plan_file, tmp_path):
    """A community moved into the wrong street (its parent_code) is reported by validate."""
    from gridgis import io as gio

    bad = tmp_path / "plan.gpkg"
    shutil.copy(plan_file, bad)
    comm = gio.read_vector(bad, layer="communities")
    comm.loc[comm["code"] == "430302001004", "parent_code"] = "430302003"
    gio.write_gpkg({"communities": comm}, bad, mode="a")
    res = run("validate", str(bad))
    assert res.returncode == 1
    lines = [x for x in (res.stderr + res.stdout).splitlines()
             if "community 430302001004 is under street 430302003" in x]
    assert len(lines) == 1 and "lies in street 430302001" in lines[0]


def test_bad_options_are_input_errors(sample_plan, layers):
    from gridgis.errors import GridGISError

    with use_language("en"), pytest.raises(GridGISError, match="unknown paper"):
        new_page("B5")
    with use_language("en"), pytest.raises(GridGISError, match="unknown atlas level"):
        next(atlas_pages(sample_plan, layers, by="grid"))
    with use_language("zh"), pytest.raises(GridGISError, match="未知的图集单位"):
        next(atlas_pages(sample_plan, layers, by="grid"))
    g = gpd.GeoDataFrame({"grid_code": ["1"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4547)
    with use_language("en"), pytest.raises(GridGISError, match="unknown style"):
        next(atlas_pages(g, {}, style="3d"))


def test_static_25d_map_uses_the_interactive_fills(sample_plan):
    import matplotlib.pyplot as plt

    from gridgis.render import grid_map_25d

    fig = grid_map_25d(sample_plan, height=30.0, labels=None)
    faces = {to_hex(c) for c in fig.axes[0].collections[0].get_facecolor()}
    assert set(community_colors(sample_plan)) <= faces  # every roof in its interactive fill
    plt.close(fig)
