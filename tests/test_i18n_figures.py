"""The text inside figures (PNG/PDF/SVG maps) speaks the language in use.

Every text artist of a figure — titles, legends and their titles, axis and colour-bar labels,
notes, table cells — is read from matplotlib. In Chinese no English word is left outside an
allowlist (units, statistics, CRS names, codes); in English no Chinese is left except names that
come from the data (district, community, grid names, event categories …).
"""

import itertools
import re

import matplotlib
import matplotlib.figure
import matplotlib.text
import pytest

from gridgis import events
from gridgis.i18n import use_language
from gridgis.render import (
    grid_map_25d,
    plot_grid_events,
    plot_heatmap,
    plot_hotspots,
    save_heatmap,
    save_hotspots_by_group,
)
from gridgis.render.atlas import atlas_pages
from gridgis.render.notice import notice_pages

from .events_fixtures import make_communities, make_district, make_events, make_grids

matplotlib.use("Agg")

HAN = re.compile(r"[\u4e00-\u9fff]+")
WORD = re.compile(r"[A-Za-z][A-Za-z_]+")
#: English words allowed in Chinese figures: units, statistics, CRS names, codes.
ALLOWED = {"km", "Gi", "Getis", "Ord", "FDR", "CGCS", "Gauss", "Kruger", "CM", "degree", "GK",
           "WGS", "EPSG", "basic", "quartic", "gaussian", "epanechnikov", "uniform", "triangular"}


def figure_texts(fig) -> list[str]:
    """Every text artist a figure draws (titles, legends, labels, notes, table cells).

    Texts that exist but are not drawn (axis labels of a map whose axes are off) do not count.
    """
    drawn: list[str] = []
    original = matplotlib.text.Text.draw

    def draw(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn.append(self.get_text())
        return original(self, renderer)

    matplotlib.text.Text.draw = draw
    try:
        fig.canvas.draw()
    finally:
        matplotlib.text.Text.draw = original
    return drawn


def english_words(texts) -> set[str]:
    return {w for t in texts for w in WORD.findall(t) if w not in ALLOWED and "_" not in w}


def chinese_left(texts, names) -> set[str]:
    """Chinese runs of ``texts`` after removing ``names`` (texts from the data)."""
    left = set()
    for t in texts:
        for n in sorted(names, key=len, reverse=True):
            t = t.replace(n, " ")
        left.update(HAN.findall(t))
    return left


def frame_names(*frames) -> set[str]:
    """Every Chinese text of the data frames (names, categories …)."""
    names = set()
    for f in frames:
        for column in f.columns:
            if column != getattr(f, "_geometry_column_name", None):
                names.update(str(v) for v in f[column].dropna().unique() if HAN.search(str(v)))
    return names


@pytest.fixture(scope="module")
def fixture_data():
    grids = make_grids()
    district, communities = make_district(grids), make_communities(grids)
    ev = events.attach_grid_codes(events.clean(make_events(grids)), grids)
    return {"grids": grids, "district": district, "communities": communities, "events": ev,
            "names": frame_names(grids, district, communities, ev)}


@pytest.fixture
def saved_texts(monkeypatch):
    """Texts of every figure saved while the fixture is active (one list per figure)."""
    seen: list[list[str]] = []
    original = matplotlib.figure.Figure.savefig

    def savefig(self, *args, **kwargs):
        seen.append(figure_texts(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    return seen


def _event_figures(d, tmp_path, saved_texts) -> dict[str, list[str]]:
    """Texts of every event figure: heat map, rates, three kinds of hot-spot map, small multiples."""
    import matplotlib.pyplot as plt

    grids, district, communities, ev = d["grids"], d["district"], d["communities"], d["events"]
    stats = events.grid_stats(ev, grids)
    out = {}

    def take(name, ax):
        out[name] = figure_texts(ax.figure)
        plt.close(ax.figure)

    take("heatmap", plot_heatmap(events.kde(ev, bandwidth=300), grids=grids, district=district))
    for column in ("rate_per_100hh", "n_events", "on_time_share"):
        take(f"grid {column}", plot_grid_events(stats, column, communities=communities))
    take("hotspots grids", plot_hotspots(events.getis_ord(stats, "rate_per_100hh", fdr=True)))
    take("hotspots rates", plot_hotspots(events.rate_hotspots(stats)))
    cells = events.event_hotspots(ev, district, cell_size=250, permutations=99)
    take("hotspots lattice", plot_hotspots(cells, grids=grids, district=district,
                                           planted=communities.iloc[:1]))
    by = events.event_hotspots_by(ev, district, "category", cell_size=250, permutations=99)
    save_hotspots_by_group(by, tmp_path / "by.png", grids=grids, district=district)
    save_heatmap(events.kde(ev, bandwidth=300), tmp_path / "h.pdf", grids=grids)
    out["by category"], out["heatmap pdf"] = saved_texts[-2:]
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_event_figures_speak_the_language(lang, fixture_data, tmp_path, saved_texts):
    with use_language(lang):
        figures = _event_figures(fixture_data, tmp_path, saved_texts)
    assert all(figures.values())
    if lang == "zh":
        found = {name: sorted(english_words(t)) for name, t in figures.items() if english_words(t)}
        assert all(HAN.search(" ".join(t)) for t in figures.values())
    else:
        found = {name: sorted(chinese_left(t, fixture_data["names"]))
                 for name, t in figures.items() if chinese_left(t, fixture_data["names"])}
    assert not found


def test_hotspot_labels_follow_the_language(fixture_data):
    stats = events.grid_stats(fixture_data["events"], fixture_data["grids"])
    with use_language("zh"):
        zh = events.getis_ord(stats, "rate_per_100hh")
        assert events.hotspot_label(3) == "热点 (99%)"
    with use_language("en"):
        en = events.getis_ord(stats, "rate_per_100hh")
        assert events.hotspot_label(-2) == "Cold spot (95%)"
    assert (zh["hotspot"] == en["hotspot"]).all()  # the data stays canonical
    assert not any(HAN.search(v) for v in en["hotspot_label"])
    assert all(HAN.search(v) for v in zh["hotspot_label"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_print_figures_speak_the_language(lang, sample_plan, sample_layers, tmp_path):
    """The 2.5D map, the first atlas pages and a notice board."""
    import matplotlib.pyplot as plt

    layers = {k: sample_layers[k] for k in ("district", "streets", "communities", "roads",
                                            "rivers", "buildings")}
    names = frame_names(sample_plan, *layers.values()) | {"湘潭市雨湖区网格化服务管理中心"}
    figures = {}
    with use_language(lang):
        for color in ("community_code", "kind", "households"):
            fig = grid_map_25d(sample_plan.iloc[:60], color=color, title=None)
            figures[f"2.5d {color}"] = figure_texts(fig)
            plt.close(fig)
        for page in itertools.islice(atlas_pages(sample_plan, layers, maker="制图单位甲"), 3):
            figures[f"atlas {page.kind}"] = figure_texts(page.fig)
            plt.close(page.fig)
        board = next(iter(notice_pages(sample_plan, layers, codes=[sample_plan["grid_code"].iloc[0]],
                                       maker="制图单位甲")))
        figures["notice"] = figure_texts(board.fig)
        plt.close(board.fig)
    names.add("制图单位甲")
    if lang == "zh":
        found = {name: sorted(english_words(t)) for name, t in figures.items() if english_words(t)}
    else:
        found = {name: sorted(chinese_left(t, names)) for name, t in figures.items()
                 if chinese_left(t, names)}
    assert not found


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_event_maps_mark_north_in_the_language(lang, fixture_data, tmp_path, saved_texts):
    """The north arrow of event maps is labelled as the 2.5D map's is (北 in Chinese)."""
    with use_language(lang):
        figures = _event_figures(fixture_data, tmp_path, saved_texts)
    marks = {t for texts in figures.values() for t in texts if t in ("N", "北")}
    assert marks == {"北" if lang == "zh" else "N"}, marks
