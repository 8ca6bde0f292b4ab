"""Verbs that draw: ``render`` (2.5D and interactive maps), ``report`` and ``heatmap``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import GridGISError, cli_options
from ..i18n import _, tr
from ..people import for_people, value
from ..workflows.readers import read_events, read_layer, read_plan
from ._app import (
    check_outputs,
    say,
)
from ._options import (
    BuildingsLayer,
    HeaderRow,
    Lat,
    Lon,
    ParentsLayer,
    PlanLayer,
    Rules,
)

__all__ = ["heatmap_cmd", "render_cmd", "report_cmd"]


def render_cmd(
    plan: Annotated[str, typer.Argument(help="Grid plan (vector file, plan versions .gpkg, or "
                                             "postgresql:// URL with --layer).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output: .png, .svg or .pdf (2.5D map), "
                                                          "or .html (offline interactive map).")],
    layer: PlanLayer = None,
    buildings: Annotated[str | None, typer.Option(help="Buildings to extrude on the grids "
                                                       "(default: the plan file's own layer).")] = None,
    buildings_layer: BuildingsLayer = None,
    height: Annotated[str, typer.Option(help="Column for slab heights, or a number (metres).")] = "households",
    color: Annotated[str, typer.Option(help="Column to colour by (categories or classes).")] = "community_code",
    labels: Annotated[str, typer.Option(help="code | full_code | name | a column | none.")] = "code",
    scheme: Annotated[str, typer.Option(help="mapclassify scheme for numeric colours.")] = "NaturalBreaks",
    azimuth: Annotated[float, typer.Option(help="Viewer direction, degrees from north.")] = 200.0,
    tilt: Annotated[float, typer.Option(min=0, max=85, help="Tilt from straight down, degrees "
                                                            "(0–85).")] = 55.0,
    title: Annotated[str | None, typer.Option(help="Map title.")] = None,
    dpi: Annotated[int, typer.Option(min=1, max=2400, help="Resolution of PNG output (1–2400).")] = 300,
    deck: Annotated[bool, typer.Option("--deck", help="With .html: the interactive 2.5D (deck.gl) "
                                                      "map instead of the 2D map.")] = False,
) -> None:
    """Draw a 2.5D (oblique, extruded) grid map for reports, or an
    offline interactive HTML map (2D with tooltips and layers, or 2.5D with --deck).

    Example: ``gridgis render plan.gpkg -o 网格图.png --height households --color kind
    --title "雨湖区 2.5维立体网格图"``; ``gridgis render plan.gpkg -o 网格.html``
    """
    from ..render import grid_map_25d
    from ..render.static25d import check_view
    from ..versions import plan_context

    check_outputs((out, "--out"), inputs=(plan, buildings))
    if out.suffix.lower() not in {".png", ".svg", ".pdf", ".html", ".htm"}:
        raise GridGISError(tr("unsupported map format {suffix!r}", suffix=out.suffix), source=out,
                           fix=_("give --out a .png, .svg, .pdf or .html file"))
    with cli_options(tilt="--tilt", dpi="--dpi", scheme="--scheme"):
        check_view(tilt=tilt, dpi=dpi, scheme=scheme, k=5)
    grids = read_plan(plan, layer)
    if buildings is not None:
        bldg = read_layer(buildings, buildings_layer, "--buildings-layer", geometry="polygon")
    else:
        bldg = plan_context(plan).get("buildings") if layer is None else None
    try:
        h: str | float = float(height)
    except ValueError:
        h = height
    if out.suffix.lower() in {".html", ".htm"}:
        ctx = plan_context(plan) if layer is None else {}
        if deck:
            from ..render.deck import deck_map_25d

            deck_map_25d(grids, height=h, buildings=bldg, roads=ctx.get("roads"),
                         rivers=ctx.get("rivers"), title=title, out=out)
        else:
            from ..render.web import interactive_map

            interactive_map(grids, roads=ctx.get("roads"), rivers=ctx.get("rivers"),
                            communities=ctx.get("communities"), title=title, out=out,
                            color=None if color == "community_code" else color)
        say(tr("wrote {path}", path=out))
        return
    grid_map_25d(grids, buildings=bldg, height=h, color=color, labels=None if labels == "none" else labels,
                 scheme=scheme, azimuth=azimuth, tilt=tilt, title=title, out=out, dpi=dpi)
    say(tr("wrote {path}", path=out))


def report_cmd(
    plan: Annotated[str, typer.Argument(help="Grid plan (vector file or plan versions .gpkg; "
                                             "communities/buildings/addresses layers beside it are used).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("report"),
    events: Annotated[str | None, typer.Option(help="Event table (CSV/Excel/Parquet, GBK ok) or layer.")] = None,
    events_crs: Annotated[str, typer.Option(help="CRS of the event lon/lat: EPSG code, GCJ02, BD09.")] = "EPSG:4326",
    previous: Annotated[str | None, typer.Option(help="Previous plan: adds the code crosswalk.")] = None,
    layer: PlanLayer = None,
    parents: Annotated[str | None, typer.Option(help="Communities (default: the plan file's own layer).")] = None,
    parents_layer: ParentsLayer = None,
    rules: Rules = None,
    title: Annotated[str | None, typer.Option(help="Report title.")] = None,
    lon: Lon = None,
    lat: Lat = None,
    header_row: HeaderRow = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day of the events bulletin (YYYY-MM-DD).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day of the events bulletin (YYYY-MM-DD).")] = None,
) -> None:
    """Write the report bundle: A4 PDF + HTML with the 2.5D map, per-community tables, validation,
    event statistics with heatmap and hot spots, and the code crosswalk; every figure as PNG/SVG.

    Example: ``gridgis report demo_output/plan.gpkg --events data/samples/events_gbk.csv -o report/``
    """
    from ..versions import plan_context
    from ..workflows import build_report
    from ..workflows.bulletins import parse_date

    check_outputs((out, "--out"), inputs=(plan, events, previous, parents, rules), folder=True)
    grids = read_plan(plan, layer)
    ctx = plan_context(plan) if layer is None else {}
    comm = (read_layer(parents, parents_layer, "--parents-layer", geometry="polygon") if parents
            else ctx.get("communities"))
    ev = read_events(events, crs=events_crs, layer=None, lon=lon, lat=lat,
                      header_row=header_row, crs_option="--events-crs") if events else None
    prev = read_plan(previous, layer_option="") if previous else None
    bundle = build_report(grids, out, communities=comm, buildings=ctx.get("buildings"),
                          addresses=ctx.get("addresses"), events=ev, previous=prev,
                          roads=ctx.get("roads"), district=ctx.get("district"), rules=rules,
                          title=title, streets=ctx.get("streets"),
                          period=(parse_date(date_from, "--from"), parse_date(date_to, "--to")))
    say(tr("wrote {pdf} ({pages} pages), {html}, {sum} figure files, {n_tables} tables",
           pdf=bundle.pdf, pages=bundle.pages, html=bundle.html, sum=sum(len(v) for v in bundle.figures.values()), n_tables=len(bundle.tables)))


def heatmap_cmd(
    events_file: Annotated[Path, typer.Argument(help="Event table (.csv/.xlsx/.parquet, Chinese headers "
                                                     "and GBK accepted) or point layer.")],
    grids: Annotated[str, typer.Option(help="Grid plan (vector file with grid_code, households).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("event_maps"),
    grids_layer: Annotated[str | None, typer.Option(help="Layer of --grids.")] = None,
    district: Annotated[str | None, typer.Option(help="District boundary (clips the heatmap).")] = None,
    district_layer: Annotated[str | None, typer.Option(help="Layer of --district.")] = None,
    events_layer: Annotated[str | None, typer.Option(help="Layer or Excel sheet of EVENTS_FILE.")] = None,
    crs: Annotated[str, typer.Option(help="CRS of the event coordinates: EPSG code, GCJ02 or BD09.")]
    = "EPSG:4326",
    bandwidth: Annotated[float, typer.Option(help="Kernel radius in metres.")] = 300.0,
    cell: Annotated[float | None, typer.Option(help="Raster cell in metres (default bandwidth/10).")] = None,
    freq: Annotated[str, typer.Option(help="Initial period of the animation: D, W or M.")] = "W",
    rules: Annotated[Path | None, typer.Option(help="Rules TOML (\\[events.deadline_days]).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the hot-spot permutations.")] = 0,
    lon: Lon = None,
    lat: Lat = None,
    header_row: HeaderRow = None,
) -> None:
    """Event heatmap, per-grid event rates, hot spots and an offline time animation.

    Writes PNG maps, per-grid statistics (CSV), hot spots (GeoPackage) and a self-contained
    HTML animation into OUT; rows that could not be used are listed in events_problems.csv.

    Example: ``gridgis heatmap 事件台账.xlsx --grids plan.gpkg --district district.gpkg -o maps``
    """
    from .. import io as gio
    from ..workflows import write_event_outputs

    check_outputs((out, "--out"), inputs=(events_file, grids, district, rules), folder=True)
    ev = read_events(events_file, crs=crs, layer=events_layer, lon=lon, lat=lat,
                      header_row=header_row, crs_option="--crs", layer_option="--events-layer")
    plan = read_plan(grids, grids_layer, layer_option="--grids-layer")
    dist = (read_layer(district, district_layer, "--district-layer", geometry="polygon")
            if district else None)
    written = write_event_outputs(ev, plan, out, district=dist, rules=rules, bandwidth=bandwidth,
                                  cell_size=cell, freq=freq, seed=seed)
    bad = ev[ev["status"] != "ok"]
    if len(bad):
        gio.write_table(for_people(bad.drop(columns=bad.geometry.name)), out / "events_problems.csv")
    counts = ev["status"].value_counts().to_dict()
    say(tr("{n} events: {counts}", n=len(ev),
           counts=", ".join(f"{value('status', k)} {v}" for k, v in counts.items())))
    say(tr("wrote {path}", path=", ".join(str(p) for p in written.values())))
