"""Verbs by administrative level and for print: ``summary`` (roll-ups), ``atlas`` (the map
atlas PDF) and ``notice`` (grid notice boards, 网格公示牌)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import cli_options
from ..i18n import tr
from ._app import check_outputs, say
from ._options import HeaderRow, Lat, Lon, PlanLayer, Rules

__all__ = ["atlas_cmd", "notice_cmd", "summary_cmd"]

Maker = Annotated[str | None, typer.Option(help="Map maker printed in the footer (default: the "
                                                "district's grid management centre).")]
When = Annotated[str | None, typer.Option("--date", help="Date printed in the footer, e.g. "
                                                         "2025-03-01 (default: today).")]


def summary_cmd(
    plan: Annotated[str, typer.Argument(help="Grid plan (.gpkg with its district, streets, "
                                             "communities and addresses layers beside it).")],
    by: Annotated[str, typer.Option(help="Level: grid, community, street or district.")] = "street",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the table "
                                                                 "(.csv, .xlsx, .parquet).")] = None,
    events: Annotated[str | None, typer.Option(help="Event table (CSV/Excel/Parquet) or layer: "
                                                    "adds events and on-time shares.")] = None,
    events_crs: Annotated[str, typer.Option(help="CRS of the event lon/lat: EPSG code, GCJ02, "
                                                 "BD09.")] = "EPSG:4326",
    layer: PlanLayer = None,
    rules: Rules = None,
    lon: Lon = None,
    lat: Lat = None,
    header_row: HeaderRow = None,
) -> None:
    """Roll the plan up to a level: grids by kind, households, population, findings, addresses,
    events and on-time shares per street (community, district …); totals equal the sum of the
    units below.

    Example: ``gridgis summary plan.gpkg --by street --events events.csv -o 街道汇总.xlsx``
    """
    from .. import io as gio
    from ..workflows.prints import level_table
    from ..workflows.readers import read_events

    check_outputs((out, "--out"), inputs=(plan, events, rules))
    ev = read_events(events, crs=events_crs, layer=None, lon=lon, lat=lat,
                     header_row=header_row, crs_option="--events-crs") if events else None
    with cli_options(by="--by"):
        table = level_table(plan, by, layer=layer, events=ev, rules=rules, titles=True)
    print(table.to_string())
    if out is not None:
        gio.write_table(table.reset_index(), out)
        say(tr("wrote {path}", path=out))


def atlas_cmd(
    plan: Annotated[str, typer.Argument(help="Grid plan (.gpkg with its district, streets, "
                                             "communities, roads … layers beside it).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Atlas PDF.")] = Path("atlas.pdf"),
    by: Annotated[str, typer.Option(help="One page per community or street.")] = "community",
    paper: Annotated[str, typer.Option(help="Paper: A4, A3 or A0.")] = "A3",
    orientation: Annotated[str, typer.Option(help="landscape or portrait.")] = "landscape",
    style: Annotated[str, typer.Option(help="Map of each page: flat or 25d (oblique slabs).")]
    = "flat",
    labels: Annotated[str, typer.Option(help="Grid labels: code (shortest unique code tail) "
                                             "or name.")] = "code",
    maker: Maker = None,
    when: When = None,
    layer: PlanLayer = None,
) -> None:
    """Write the print atlas: a cover, a district overview, then one page per community (or
    street) with its grids labelled and a table of its grids; title, legend, scale bar, north
    arrow, overview inset, map maker and date on every page.

    Example: ``gridgis atlas plan.gpkg --by community --paper A3 -o atlas.pdf``
    """
    from ..workflows.prints import write_plan_atlas

    check_outputs((out, "--out"), inputs=(plan,))
    with cli_options(by="--by", paper="--paper", orientation="--orientation", style="--style",
                     labels="--labels"):
        path = write_plan_atlas(plan, out, layer=layer, maker=maker, when=when, by=by, paper=paper,
                                orientation=orientation, style=style, labels=labels)
    say(tr("wrote {path}", path=path))


def notice_cmd(
    plan: Annotated[str, typer.Argument(help="Grid plan (.gpkg with its layers beside it).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Notice boards PDF (one A4 page per "
                                                          "grid).")] = Path("notice_boards.pdf"),
    workers: Annotated[str | None, typer.Option(help="Grid workers table (CSV/Excel): 姓名, "
                                                     "联系电话, 网格编码.")] = None,
    grid: Annotated[list[str] | None, typer.Option("--grid", help="Only this grid code "
                                                                  "(repeatable).")] = None,
    maker: Maker = None,
    when: When = None,
    layer: PlanLayer = None,
) -> None:
    """Write grid notice boards: per grid its map, code, name, households, the grid
    workers in charge and a QR code of the grid code.

    Example: ``gridgis notice plan.gpkg --workers 网格员.xlsx -o 公示牌.pdf``
    """
    from .. import io as gio
    from ..workflows.prints import write_plan_notices

    check_outputs((out, "--out"), inputs=(plan, workers))
    table = gio.read_table(workers) if workers else None
    with cli_options(workers="--workers"):
        path = write_plan_notices(plan, out, layer=layer, workers=table, maker=maker, when=when,
                                  codes=grid or None)
    say(tr("wrote {path}", path=path))
