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
from ..i18n import _, tr
from ..io import write_table
from ..people import FOR_PEOPLE_ATTR, for_people, value
from ..plan import community_summary
from ..rules import Rules, load_rules
from ..validation.catalogue import rule_title
from ..writing import save_figure
from ._pages import ROWS_PER_PAGE, Section, write_html, write_pdf
from .bulletins import report_bulletin

__all__ = ["HOTSPOT_COLUMNS", "ReportBundle", "build_report", "community_table", "rules_used"]

#: Columns of the hot-spot table of the report (``n_events``: the events of each grid).
HOTSPOT_COLUMNS = (schema.GRID_CODE, "n_events", "expected", "ratio", "gi_p", "hotspot")

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
    """Per community, for people: name, basic/special grids, households min/median/max, findings.

    Headers are in the language in use (:mod:`gridgis.i18n`; 社区编码, 基础网格, 户数最大 … in
    Chinese, the default).

    Examples
    --------
    >>> from gridgis.workflows import community_table
    >>> community_table(grids, layers["communities"])[["基础网格", "户数最大"]]   # doctest: +SKIP
    """
    table = community_summary(grids, communities, findings)
    columns = [schema.NAME, "basic", "special", "households_min", "households_median",
               "households_max", "errors", "warnings"]
    out = table[[c for c in columns if c in table]]
    if communities is None or schema.NAME not in communities:
        out = out.drop(columns=schema.NAME, errors="ignore")
    out.index.name = schema.COMMUNITY_CODE
    out = out.reset_index().fillna({"households_min": 0, "households_median": 0,
                                    "households_max": 0})
    return for_people(out)


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
    seed: int = 0, streets: gpd.GeoDataFrame | None = None, period: tuple | None = None,
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
    title, seed, period
        Title (default "<district name>网格化服务管理报告"); hot-spot seed; bulletin (start, end).

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
        title = tr("{name} grid management report", name=name).strip()
    sections: list[Section] = []

    logger.info("%s", _("validating the plan"))
    report = validate(grids, parents=communities, buildings=buildings, addresses=addresses, rules=rules)
    findings = report.to_geodataframe()
    if schema.COMMUNITY_CODE not in grids:
        grids = grids.assign(**{schema.COMMUNITY_CODE: grids[schema.GRID_CODE].str[:12]})
    if schema.KIND not in grids:
        grids = grids.assign(**{schema.KIND: schema.BASIC})
    if schema.HOUSEHOLDS not in grids:
        grids = grids.assign(**{schema.HOUSEHOLDS: 0})

    logger.info("%s", _("drawing the 2.5D grid map"))
    _figure_25d(grids, buildings, title, bundle)
    basic = grids[grids[schema.KIND].astype(str) == schema.BASIC]
    cover = Section(title, figures=["grid_map_25d"])
    cover.text = [
        tr("Made on {date}", date=f"{_dt.date.today():%Y-%m-%d}"),
        tr("{n} grids ({basic} basic, {special} special); {communities} communities and villages; "
           "{households} households in all", n=len(grids), basic=len(basic),
           special=len(grids) - len(basic), communities=grids[schema.COMMUNITY_CODE].nunique(),
           households=int(grids[schema.HOUSEHOLDS].sum())),
        tr("Households per basic grid: {min}–{max}",
           min=int(basic[schema.HOUSEHOLDS].min()) if len(basic) else 0,
           max=int(basic[schema.HOUSEHOLDS].max()) if len(basic) else 0),
        *rules_used(rules, grids, communities),
        tr("Validation: {errors} errors, {warnings} warnings", errors=len(report.errors),
           warnings=len(report.warnings)),
    ]
    sections.append(cover)

    table = community_table(grids, communities, findings)
    bundle.tables["communities"] = _write_csv(table, out / "tables" / "communities.csv")
    sections.append(Section(_("Grids by community"), tables=[(_("Grids of each community"), table)]))
    sections.append(_levels(grids, communities, streets, district, report, addresses, out, bundle))

    logger.info("%s", _("validation section"))
    _figure_findings(grids, findings, roads, bundle)
    counts = report.counts()
    bundle.tables["findings"] = _write_csv(_findings_table(findings), out / "tables" / "findings.csv")
    val = Section(_("Rule checks"), figures=["findings_map"])
    val.text = [report.status_line() if len(report)
                else _("No problem found: the plan meets every rule.")]
    if len(counts):
        val.tables.append((_("Findings by rule"), for_people(counts, texts={"rule": rule_title})))
    sections.append(val)
    if events is not None and len(events):
        logger.info("%s", _("event section"))
        sections.append(_event_section(events, grids, communities, district, rules, seed, out, bundle))
        sections.append(report_bulletin(events, grids, communities, rules, period, bundle.tables, out,
                                        streets=streets))

    if previous is not None:
        logger.info("%s", _("code crosswalk"))
        sections.append(_crosswalk_section(previous, grids, buildings, out, bundle))

    bundle.pages = write_pdf(sections, bundle.pdf, bundle.figures)
    write_html(sections, bundle.html, bundle.figures, title)
    return bundle


def _levels(grids: Any, communities: Any, streets: Any, district: Any, report: Any,
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
    ax.legend(handles, [value("severity", s) for s in colors], loc="lower right", frameon=True)
    ax.set_title(_("Where the findings are"))
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
    section = Section(_("Events"))
    stats = ev_mod.grid_stats(ev, grids, rules=rules)
    table = pd.DataFrame(stats.drop(columns="geometry"))
    bundle.tables["events_by_grid"] = _write_csv(table, out / "tables" / "events_by_grid.csv")
    by_cat = for_people(valid[schema.CATEGORY].value_counts().rename("n_events").reset_index())
    by_urg = for_people(valid[schema.URGENCY].value_counts().rename("n_events").reset_index())
    dl = ev_mod.deadlines(valid, rules=rules)
    on_time = dl["on_time"].dropna() if "on_time" in dl else pd.Series(dtype=bool)
    section.text = [
        tr("{n} events ({valid} usable); closed on time: {share:.1f}%", n=len(ev), valid=len(valid),
           share=on_time.mean() * 100 if len(on_time) else float("nan")),
    ]
    section.tables += [(_("By event category"), by_cat), (_("By urgency"), by_urg)]
    geo = valid if isinstance(valid, gpd.GeoDataFrame) else None
    if geo is not None and len(geo):
        clip = district if district is not None else grids
        raster = ev_mod.kde(geo, bandwidth=300.0, clip=clip)
        fig, ax = plt.subplots(figsize=(8, 8))
        plot_heatmap(raster, grids=grids, communities=communities, district=district, ax=ax)
        _save_figure(fig, "event_heatmap", bundle)
        section.figures.append("event_heatmap")
    rated = ev_mod.rate_hotspots(stats)  # relative to households, not density
    fig, ax = plt.subplots(figsize=(8, 8))
    plot_grid_events(rated, ax=ax)
    _save_figure(fig, "events_per_grid", bundle)
    section.figures.append("events_per_grid")
    hot = rated[rated.get("hotspot", pd.Series("", index=rated.index)).astype(str) == "hot"]
    if len(hot):
        section.tables.append((_("Hot-spot grids (relative to households)"),
                               for_people(pd.DataFrame(hot[list(HOTSPOT_COLUMNS)]).head(ROWS_PER_PAGE))))
    return section


def _crosswalk_section(previous: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, buildings: Any,
                       out: Path, bundle: ReportBundle) -> Section:
    from ..codes import recode

    res = recode(previous, grids, households=buildings)
    cw = res.crosswalk
    bundle.tables["crosswalk"] = _write_csv(cw, out / "tables" / "crosswalk.csv")
    rel = for_people(cw["relation"].value_counts().rename("count").reset_index())
    changed = for_people(cw[cw["relation"] != "same"].head(ROWS_PER_PAGE * 2))
    section = Section(_("Grid code crosswalk (old → new)"))
    section.text = [tr("{n} rows in the crosswalk; {same} unchanged grids keep their code",
                       n=len(cw), same=int((cw["relation"] == "same").sum()))]
    section.tables += [(_("Kinds of change"), rel), (_("Grids that changed"), changed)]
    return section


# ---- outputs ---------------------------------------------------------------------------------


def _write_csv(df: pd.DataFrame, path: Path) -> Path:
    """A table for people: headers and values in the language in use."""
    write_table(df if _is_for_people(df) else for_people(df), path)
    return path


def _is_for_people(df: pd.DataFrame) -> bool:
    return bool(df.attrs.get(FOR_PEOPLE_ATTR, False))


def _findings_table(findings: gpd.GeoDataFrame) -> pd.DataFrame:
    return for_people(pd.DataFrame(findings.drop(columns="geometry")), texts={"rule": rule_title})


def rules_used(rules: Rules, grids: pd.DataFrame, communities: pd.DataFrame | None) -> list[str]:
    """The size rules used, one line each for urban and rural communities.

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("en"):
    ...     rules_used(load_rules(), pd.DataFrame(), None)[0]
    'Urban communities: 300–500 households per basic grid'
    """
    del grids, communities  # both profiles are stated: a plan may gain either kind of community
    return [_profile_line(_("Urban communities"), rules.urban),
            _profile_line(_("Rural communities"), rules.rural)]


def _profile_line(who: str, profile: Any) -> str:
    lo, hi = profile.bounds
    unit = _("households") if profile.measure == schema.HOUSEHOLDS else _("residents")
    size = (tr("{min}–{max} {unit}", min=int(lo), max=int(hi), unit=unit) if hi != float("inf")
            else tr("at least {min} {unit}", min=int(lo), unit=unit))
    text = tr("{who}: {size} per basic grid", who=who, size=size)
    if profile.measure == schema.HOUSEHOLDS and profile.max_population is not None:
        text += tr(", at most {max} residents", max=profile.max_population)
    if profile.measure == schema.POPULATION and profile.max_households is not None:
        text += tr(", at most {max} households", max=profile.max_households)
    return text
