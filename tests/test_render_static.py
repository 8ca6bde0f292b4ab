"""2.5D static grid maps: pictures checked by their pixels, fonts checked for missing glyphs."""

import logging
import shutil
import subprocess
import warnings

import geopandas as gpd
import matplotlib
import numpy as np
import pytest
import shapely

matplotlib.use("Agg")

from gridgis.errors import GridGISError, SchemaError  # noqa: E402
from gridgis.render import grid_map_25d, register_cjk_font  # noqa: E402
from gridgis.render.fonts import missing_glyphs  # noqa: E402
from gridgis.render.static25d import PALETTE, View  # noqa: E402


@pytest.fixture(scope="module")
def plan_and_layers(sample_plan, sample_layers):
    return sample_plan, sample_layers


def _pixels(path):
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    return (img[..., :3] * 255).astype(int) if img.dtype != np.uint8 else img[..., :3].astype(int)


def test_sample_map_png_has_grids_labels_and_no_font_problems(plan_and_layers, tmp_path, caplog):
    grids, layers = plan_and_layers
    caplog.set_level(logging.WARNING, logger="matplotlib")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = grid_map_25d(grids, buildings=layers["buildings"], height="households", color="kind",
                           labels="code", title="雨湖区 2.5维立体网格图", out=tmp_path / "m.png", dpi=100)
    assert not [r for r in caplog.records if "font" in r.getMessage().lower()]
    px = _pixels(tmp_path / "m.png")
    h, w = px.shape[:2]
    assert w > 800 and h > 450  # 11 x 9 in at 100 dpi, cropped to the drawing
    non_white = (px < 245).any(axis=2)
    assert non_white.mean() > 0.25  # the district fills a good part of the picture
    centre = px[h // 3: 2 * h // 3, w // 4: 3 * w // 4]
    colours = {tuple(c) for c in centre.reshape(-1, 3)[::37]}
    assert len(colours) > 50  # slabs, shaded walls, buildings
    from gridgis.render.labels import LABEL_GID, overlapping_pairs

    drawn = [t for t in fig.axes[0].texts if t.get_gid() == LABEL_GID]
    texts = [t.get_text() for t in drawn]
    assert len(set(texts)) == len(texts) >= 0.8 * len(grids)  # short codes unique on the map
    assert overlapping_pairs(drawn) == []
    assert fig.axes[0].get_title() == "雨湖区 2.5维立体网格图"


def test_bundled_font_covers_sample_text(plan_and_layers):
    _, layers = plan_and_layers
    text = "".join(layers["communities"]["name"]) + "".join(layers["streets"]["name"])
    text += "".join(layers["addresses"]["address"].head(2000)) + "2.5维立体网格图户数人口北斜视图方位倾角"
    assert missing_glyphs(text) == set()


def test_pdf_and_svg_export(plan_and_layers, tmp_path):
    grids, _ = plan_and_layers
    for suffix in ("pdf", "svg"):
        grid_map_25d(grids, height="population", color="households", labels="name",
                     title="人口", out=tmp_path / f"m.{suffix}", dpi=72)
        assert (tmp_path / f"m.{suffix}").stat().st_size > 10_000
    svg = (tmp_path / "m.svg").read_text()
    assert "<path" in svg and "font-family" not in svg  # text as outlines: no font needed
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "40", str(tmp_path / "m.pdf"), str(tmp_path / "p")],
                       check=True, timeout=120)
        page = _pixels(next(tmp_path.glob("p*.png")))
        assert (page < 245).any(axis=2).mean() > 0.1
    with pytest.raises(GridGISError, match="unsupported image format"):
        grid_map_25d(grids, out=tmp_path / "m.bmp")


def _two_slabs(far_h, near_h):
    return gpd.GeoDataFrame(
        {"grid_code": ["430302001001002", "430302001001001"], "cat": ["b", "a"], "h": [far_h, near_h]},
        geometry=[shapely.box(0, 100, 100, 200), shapely.box(0, 0, 100, 100)], crs=4547)


def _pixel_at(fig, x, y):
    fig.canvas.draw()
    ax = fig.axes[0]
    px, py = ax.transData.transform((x, y))
    buf = np.asarray(fig.canvas.buffer_rgba())
    return buf[int(round(buf.shape[0] - py)), int(round(px)), :3].astype(int)


def test_near_tall_slab_hides_far_roof():
    view = View(azimuth=180, tilt=60)
    fig = grid_map_25d(_two_slabs(5, 100), height="h", color="cat", labels=None, azimuth=180, tilt=60,
                       height_scale=100 / np.hypot(100, 200))
    # world point on the far roof (50, 180) at its height; the near slab's roof covers it
    xr, yr = view.rotate(np.array([50.0]), np.array([180.0]))
    sx, sy = view.project(xr, yr, 100 * 0.08 + (100 - 100 * 0.08) * 5 / 100)
    got = _pixel_at(fig, sx[0], sy[0])
    near = (np.array(matplotlib.colors.to_rgb(PALETTE[0])) * 255).astype(int)
    assert np.abs(got - near).max() <= 3, (got, near)
    # and with the heights swapped, the far roof is visible at the same world point
    fig2 = grid_map_25d(_two_slabs(100, 5), height="h", color="cat", labels=None, azimuth=180, tilt=60,
                        height_scale=100 / np.hypot(100, 200))
    sx, sy = view.project(xr, yr, 100.0)
    far = (np.array(matplotlib.colors.to_rgb(PALETTE[1])) * 255).astype(int)
    assert np.abs(_pixel_at(fig2, sx[0], sy[0]) - far).max() <= 3


def test_walls_are_shaded_by_light():
    fig = grid_map_25d(_two_slabs(50, 50), height="h", color="#88aadd", labels=None, azimuth=180, tilt=60)
    colls = fig.axes[0].collections[0]
    faces = colls.get_facecolors()
    roof = np.array(matplotlib.colors.to_rgba("#88aadd"))
    walls = faces[~np.all(np.isclose(faces, roof), axis=1)]
    assert len(walls) >= 2 and (walls[:, :3] < roof[:3]).all()


def test_bad_inputs(plan_and_layers):
    grids, _ = plan_and_layers
    with pytest.raises(GridGISError, match="empty"):
        grid_map_25d(grids.iloc[:0])
    with pytest.raises(SchemaError, match="height"):
        grid_map_25d(grids, height="nope")
    with pytest.raises(SchemaError, match="labels"):
        grid_map_25d(grids, labels="nope")
    with pytest.raises(GridGISError, match="no CRS"):
        grid_map_25d(grids.set_crs(None, allow_override=True))


def test_register_font_is_idempotent():
    assert register_cjk_font() == register_cjk_font() == "gridgis CJK Sans"
    assert matplotlib.rcParams["font.sans-serif"][0] == "gridgis CJK Sans"
