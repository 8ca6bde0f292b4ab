"""Report bundle for leaders: one folder with a PDF (A4), an HTML page and every figure.

``gridgis report plan.gpkg --events events.csv -o report/`` writes:

- ``report.pdf``: A4 pages — cover with key figures and the 2.5D grid map, a table per
  community (grids, household range, findings), the validation summary with its map, event
  statistics with heatmap and hot spots, and the code crosswalk when a previous plan is given;
- ``report.html``: the same content as one self-contained page (figures inlined);
- ``figures/*.png`` and ``figures/*.svg``: every figure on its own;
- ``tables/*.csv``: the tables (UTF-8 with BOM, opens in Excel).
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import schema
from .._geometry import present
from .._inputs import as_layer, metric
from ..io import write_table
from ..plan import community_summary
from ..rules import Rules, load_rules
from ..writing import save_figure
from ._pages import ROWS_PER_PAGE, Section, write_html, write_pdf

__all__ = ["ReportBundle", "build_report", "community_table"]

logger = logging.getLogger(__name__)


@dataclass
class ReportBundle:
    """What :func:`build_report` wrote: paths of the PDF, the HTML, figures and tables.

    Examples
    --------
    >>> from gridgis.workflows import build_report
    >>> bundle = build_report(grids, "report")                       # doctest: +SKIP
    >>> bundle.pdf, bundle.pages, sorted(bundle.figures)             # doctest: +SKIP
    """

    folder: Path
    pdf: Path
    html: Path
    figures: dict[str, list[Path]] = field(default_factory=dict)
    tables: dict[str, Path] = field(default_factory=dict)
    pages: int = 0


def community_table(grids: pd.DataFrame, communities: pd.DataFrame | None,
                    findings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per community: name, basic/special grids, households min/median/max, findings count.

    Examples
    --------
    >>> from gridgis.workflows import community_table
    >>> community_table(grids, layers["communities"])[["基础网格", "户数最大"]]   # doctest: +SKIP
    """
    table = community_summary(grids, communities, findings)
    columns = {schema.NAME: "名称", "basic": "基础网格", "special": "专属网格",
               "households_min": "户数最小", "households_median": "户数中位",
               "households_max": "户数最大", "errors": "错误", "warnings": "警告"}
    out = table[[c for c in columns if c in table]].rename(columns=columns)
    if communities is None or schema.NAME not in communities:
        out = out.drop(columns="名称")
    out.index.name = "社区编码"
    return out.reset_index().fillna({"户数最小": 0, "户数中位": 0, "户数最大": 0})


def build_report(
    grids: gpd.GeoDataFrame,
    out_dir: str | Path,
    *,
    communities: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    addresses: gpd.GeoDataFrame | None = None,
    events: pd.DataFrame | None = None,
    previous: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    district: gpd.GeoDataFrame | None = None,
    rules: Rules | str | Path | dict | None = None,
    title: str | None = None,
    seed: int = 0,
    streets: gpd.GeoDataFrame | None = None,
) -> ReportBundle:
    """Write the report bundle of a plan into ``out_dir``.

    Parameters
    ----------
    grids
        The coded plan (``grid_code, community_code, kind, households`` …).
    communities, buildings, addresses
        Context for validation and the per-community table (optional but recommended).
    events
        Event table or points (lon/lat or geometry); enables the event section.
    previous
        The previous plan; enables the code crosswalk section (:func:`gridgis.codes.recode`).
    roads, district, streets
        Drawn as context on maps; streets and district add a roll-up table per level.
    title
        Report title (default: "<district name>网格化服务管理报告").
    seed
        Seed of the hot-spot permutations.

    Returns
    -------
    ReportBundle
        Paths of ``report.pdf``, ``report.html``, ``figures/*`` and ``tables/*``; progress
        goes to this module's logger at INFO level.

    Examples
    --------
    >>> import gridgis
    >>> from gridgis.workflows import build_report
    >>> layers = gridgis.load_sample()                                       # doctest: +SKIP
    >>> bundle = build_report(grids, "report", communities=layers["communities"],
    ...                       events=layers["events"], district=layers["district"])  # doctest: +SKIP
    >>> bundle.pdf, bundle.pages                                             # doctest: +SKIP
    """
    from ..render.fonts import register_cjk_font
    from ..validation import validate

    register_cjk_font()
    rules = load_rules(rules)
    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    bundle = ReportBundle(folder=out, pdf=out / "report.pdf", html=out / "report.html")
    grids = as_layer(grids, "grids", required=[schema.GRID_CODE], geometry=None, missing="keep",
                     allow_empty=True)
    if title is None:
        name = district[schema.NAME].iloc[0] if district is not None and schema.NAME in district else ""
        title = f"{name}网格化服务管理报告"
    sections: list[Section] = []

    logger.info("validating the plan")
    report = validate(grids, parents=communities, buildings=buildings, addresses=addresses, rules=rules)
    findings = report.to_geodataframe()
    if schema.COMMUNITY_CODE not in grids:
        grids = grids.assign(**{schema.COMMUNITY_CODE: grids[schema.GRID_CODE].str[:12]})
    if schema.KIND not in grids:
        grids = grids.assign(**{schema.KIND: schema.BASIC})
    if schema.HOUSEHOLDS not in grids:
        grids = grids.assign(**{schema.HOUSEHOLDS: 0})

    logger.info("drawing the 2.5D grid map")
    _figure_25d(grids, buildings, title, bundle)
    basic = grids[grids[schema.KIND].astype(str) == schema.BASIC]
    cover = Section(title, figures=["grid_map_25d"])
    cover.text = [
        f"生成日期 {_dt.date.today():%Y-%m-%d}",
        f"网格 {len(grids)} 个（基础网格 {len(basic)}，专属网格 {len(grids) - len(basic)}）；"
        f"社区/村 {grids[schema.COMMUNITY_CODE].nunique()} 个；总户数 {int(grids[schema.HOUSEHOLDS].sum())}",
        f"基础网格户数 {int(basic[schema.HOUSEHOLDS].min()) if len(basic) else 0}"
        f"–{int(basic[schema.HOUSEHOLDS].max()) if len(basic) else 0}；"
        f"规则 {rules.urban.min_households}–{rules.urban.max_households} 户（城市）",
        f"校验：错误 {len(report.errors)} 项，警告 {len(report.warnings)} 项",
    ]
    sections.append(cover)

    table = community_table(grids, communities, findings)
    bundle.tables["communities"] = _write_csv(table, out / "tables" / "communities.csv")
    sections.append(Section("各社区网格统计", tables=[("各社区网格", table)]))
    sections.append(_levels_section(grids, communities, streets, district, report, addresses,
                                    out, bundle))

    logger.info("validation section")
    _figure_findings(grids, findings, roads, bundle)
    counts = report.counts()
    bundle.tables["findings"] = _write_csv(pd.DataFrame(findings.drop(columns="geometry")),
                                           out / "tables" / "findings.csv")
    val = Section("规则校验", figures=["findings_map"])
    val.text = [report.summary(max_rows=0).splitlines()[0] if len(report) else "未发现问题：方案符合全部规则。"]
    if len(counts):
        val.tables.append(("校验结果汇总", counts.rename(columns={
            "rule": "规则", "severity": "级别", "count": "数量", "total_measure": "合计量", "unit": "单位"})))
    sections.append(val)

    if events is not None and len(events):
        logger.info("event section")
        sections.append(_event_section(events, grids, communities, district, rules, seed, out, bundle))

    if previous is not None:
        logger.info("code crosswalk")
        sections.append(_crosswalk_section(previous, grids, buildings, out, bundle))

    bundle.pages = write_pdf(sections, bundle.pdf, bundle.figures)
    write_html(sections, bundle.html, bundle.figures, title)
    return bundle


def _levels_section(grids: Any, communities: Any, streets: Any, district: Any, report: Any,
                    addresses: Any, out: Path, bundle: ReportBundle) -> Section:
    """Roll-up tables per level (district, streets, communities): issue 18's hook."""
    from ..i18n import _
    from .prints import LEVEL_TABLE_TITLES, level_tables

    tables = level_tables(grids, {"communities": communities, "streets": streets,
                                  "district": district}, findings=report.findings,
                          addresses=addresses)
    for level, t in tables.items():
        bundle.tables[f"by_{level}"] = _write_csv(t.reset_index(), out / "tables" / f"by_{level}.csv")
    return Section(_("Totals by level"), tables=[(_(LEVEL_TABLE_TITLES[k]), t.reset_index())
                                                for k, t in tables.items()])


# ---- figures ---------------------------------------------------------------------------------


def _save_figure(fig: Any, name: str, bundle: ReportBundle, dpi: int = 200) -> None:
    import matplotlib.pyplot as plt

    paths = []
    for suffix in ("png", "svg"):
        path = bundle.folder / "figures" / f"{name}.{suffix}"
        save_figure(fig, path, dpi=dpi, bbox_inches="tight", facecolor="white")
        paths.append(path)
    plt.close(fig)
    bundle.figures[name] = paths


def _figure_25d(grids: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None, title: str,
                bundle: ReportBundle) -> None:
    from ..render import grid_map_25d

    fig = grid_map_25d(grids, buildings=buildings, height=schema.HOUSEHOLDS,
                       color=schema.COMMUNITY_CODE, labels=None, title=title)
    _save_figure(fig, "grid_map_25d", bundle)


def _figure_findings(grids: gpd.GeoDataFrame, findings: gpd.GeoDataFrame,
                     roads: gpd.GeoDataFrame | None, bundle: ReportBundle) -> None:
    import matplotlib.pyplot as plt

    g = metric(grids)
    fig, ax = plt.subplots(figsize=(8, 8))
    if roads is not None:
        roads.to_crs(g.crs).plot(ax=ax, color="#dddddd", linewidth=0.4, zorder=0)
    g.plot(ax=ax, facecolor="#f3f6fa", edgecolor="#7f8c9a", linewidth=0.5, zorder=1)
    colors = {"error": "#d62728", "warning": "#ff9f1c"}
    if len(findings):
        f = findings.to_crs(g.crs)
        f = f[present(f.geometry.array)]
        for sev, color in colors.items():
            part = f[f["severity"] == sev]
            if len(part):
                # points and tiny pieces are invisible at district scale: buffer for display
                shapes = part.geometry.buffer(np.maximum(1.0, 0.004 * max(np.ptp(g.total_bounds[[0, 2]]), 1)))
                shapes.plot(ax=ax, color=color, alpha=0.75, zorder=3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colors.values()]
    ax.legend(handles, ["错误", "警告"], loc="lower right", frameon=True)
    ax.set_title("规则校验问题分布")
    ax.set_axis_off()
    ax.set_aspect("equal")
    _save_figure(fig, "findings_map", bundle)


def _event_section(events: pd.DataFrame, grids: gpd.GeoDataFrame, communities: Any, district: Any,
                   rules: Rules, seed: int, out: Path, bundle: ReportBundle) -> Section:
    import matplotlib.pyplot as plt

    from .. import events as ev_mod
    from ..render.event_maps import plot_grid_events, plot_heatmap

    ev = events if "status" in events else ev_mod.clean(events)
    if schema.GRID_CODE not in ev:
        ev = ev_mod.attach_grid_codes(ev, grids)
    valid = ev[ev["status"] != "invalid"] if "status" in ev else ev
    section = Section("事件统计")
    stats = ev_mod.grid_stats(ev, grids, rules=rules)
    table = pd.DataFrame(stats.drop(columns="geometry"))
    bundle.tables["events_by_grid"] = _write_csv(table, out / "tables" / "events_by_grid.csv")
    by_cat = valid[schema.CATEGORY].value_counts().rename_axis("事件类型").rename("件数").reset_index()
    by_urg = valid[schema.URGENCY].value_counts().rename_axis("紧急程度").rename("件数").reset_index()
    dl = ev_mod.deadlines(valid, rules=rules)
    on_time = dl["on_time"].dropna() if "on_time" in dl else pd.Series(dtype=bool)
    section.text = [
        f"事件 {len(ev)} 件（有效 {len(valid)} 件）；按期办结率 "
        f"{(on_time.mean() * 100 if len(on_time) else float('nan')):.1f}%",
    ]
    section.tables += [("按事件类型", by_cat), ("按紧急程度", by_urg)]
    geo = valid if isinstance(valid, gpd.GeoDataFrame) else None
    if geo is not None and len(geo):
        clip = district if district is not None else grids
        raster = ev_mod.kde(geo, bandwidth=300.0, clip=clip)
        fig, ax = plt.subplots(figsize=(8, 8))
        plot_heatmap(raster, grids=grids, communities=communities, district=district, ax=ax)
        _save_figure(fig, "event_heatmap", bundle)
        section.figures.append("event_heatmap")
    rated = ev_mod.getis_ord(stats, "rate_per_100hh", seed=seed)
    fig, ax = plt.subplots(figsize=(8, 8))
    plot_grid_events(rated, ax=ax)
    _save_figure(fig, "events_per_grid", bundle)
    section.figures.append("events_per_grid")
    hot = rated[rated.get("hotspot", pd.Series("", index=rated.index)).astype(str).str.startswith("hot")]
    if len(hot):
        cols = [c for c in (schema.GRID_CODE, "events", "rate_per_100hh", "gi_z", "gi_p", "hotspot") if c in hot]
        section.tables.append(("热点网格 (Gi*)", pd.DataFrame(hot[cols]).head(ROWS_PER_PAGE)))
    return section


def _crosswalk_section(previous: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, buildings: Any,
                       out: Path, bundle: ReportBundle) -> Section:
    from ..codes import recode

    res = recode(previous, grids, households=buildings)
    cw = res.crosswalk
    bundle.tables["crosswalk"] = _write_csv(cw, out / "tables" / "crosswalk.csv")
    rel = cw["relation"].value_counts().rename_axis("关系").rename("数量").reset_index()
    changed = cw[cw["relation"] != "same"].head(ROWS_PER_PAGE * 2)
    section = Section("网格编码对照（旧→新）")
    section.text = [f"对照表 {len(cw)} 行；未变化网格保留原编码 {int((cw['relation'] == 'same').sum())} 个"]
    section.tables += [("变化类型", rel), ("变化的网格", changed)]
    return section


# ---- outputs ---------------------------------------------------------------------------------


def _write_csv(df: pd.DataFrame, path: Path) -> Path:
    write_table(df, path)
    return path
