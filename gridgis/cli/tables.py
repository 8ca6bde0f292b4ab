"""Verbs on tables of rows: ``assign`` (points to grids), ``recode`` and ``recode-table``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .. import schema
from ..errors import GridGISError, cli_options
from ..i18n import tr
from ..people import columns_for_people, for_people, header, value
from ..workflows.readers import read_layer, read_plan, read_previous_plan
from ._app import (
    EXIT_OK,
    EXIT_VIOLATIONS,
    check_outputs,
    progress_enabled,
    say,
)
from ._options import (
    POINT_OPTIONS,
    HeaderRow,
    Lat,
    Lon,
    PointsLayer,
    Rules,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PEOPLE_SUFFIXES", "assign_cmd", "recode_cmd", "recode_table_cmd"]

#: Outputs written for people (headers and values in the language in use); Parquet and
#: GeoPackage outputs keep the API's columns and values.
PEOPLE_SUFFIXES = frozenset({".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls"})


def _assigned_for_people(index: Any) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The rows of an assigned file as people read them: the added columns get headers and
    values in the language in use, the input's own columns stay as they were read."""
    reasons = index.reason_texts()
    added = [schema.GRID_CODE, schema.MATCH, schema.MATCH_REASON, schema.DISTANCE_M]
    texts = {schema.MATCH_REASON: lambda v: reasons.get(v, v)}

    def rows(table: pd.DataFrame) -> pd.DataFrame:
        if index.code_column != schema.GRID_CODE:
            table = table.rename(columns={index.code_column: schema.GRID_CODE})
        return columns_for_people(table, added, texts)

    return rows


def _for_people_if(path: Path, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` for people when ``path`` is a CSV/Excel file, else as it is."""
    return for_people(table) if path.suffix.lower() in PEOPLE_SUFFIXES else table


def _recoded_for_people(table: pd.DataFrame) -> pd.DataFrame:
    """A rewritten table as people read it: ``recode_status`` and ``<code column>_old`` get
    headers (and values) in the language in use; the table's own columns stay."""
    olds = {c: tr("{column} before recoding",
                  column=header(schema.canonical_name(str(c)[:-4]) or str(c)[:-4]))
            for c in table.columns if str(c).endswith("_old") and str(c)[:-4] in table.columns}
    return columns_for_people(table.rename(columns=olds), ["recode_status"])


def assign_cmd(
    points: Annotated[Path, typer.Argument(help="Addresses/events: CSV (UTF-8 or GBK), Excel, Parquet "
                                                "(file or folder), GeoPackage; lon/lat under any alias.")],
    grids: Annotated[str, typer.Option("--grids", "-g", help="Grid plan (vector file with grid codes).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output: .parquet, .csv or .gpkg.")],
    grids_layer: Annotated[str | None, typer.Option(help="Layer of --grids.")] = None,
    layer: PointsLayer = None,
    lon: Lon = None,
    lat: Lat = None,
    header_row: HeaderRow = None,
    crs: Annotated[str | None, typer.Option(help="CRS of the coordinates: EPSG code, GCJ02 or BD09 "
                                                 "(default WGS84, or the layer's own CRS).")] = None,
    code_column: Annotated[str, typer.Option(help="Grid-code column of the plan.")] = "grid_code",
    max_distance: Annotated[float | None, typer.Option(help="Metres for the nearest-grid rule "
                                                            "(default from the rules file; 0 = off).")] = None,
    rules: Annotated[Path | None, typer.Option(help="Rules TOML (\\[assign] max_distance_m).")] = None,
    chunk_size: Annotated[int, typer.Option(help="Rows per chunk (bounds memory).")] = 100_000,
    per_grid: Annotated[Path | None, typer.Option(help="Also write the count per grid (CSV).")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 when any row is invalid or unmatched.")] = False,
) -> int:
    """Assign every address/event row to one grid (exact; boundary, nearest and invalid reported).

    Writes the rows in their order with grid_code, match (inside/boundary/nearest/unmatched/
    invalid), match_reason and distance_m; files larger than memory are streamed in chunks.

    Example: ``gridgis assign 地址库.csv --grids plan.gpkg -o addresses_assigned.parquet``
    """
    from .. import io as gio
    from ..assignment import PlanIndex, assign_file

    check_outputs((out, "--out"), (per_grid, "--per-grid"), inputs=(points, grids, rules))
    excel = points.suffix.lower() in {".xlsx", ".xlsm", ".xls"}
    plan = read_plan(grids, grids_layer, layer_option="--grids-layer")
    with cli_options(**POINT_OPTIONS, code_column="--code-column", max_distance="--max-distance"):
        index = PlanIndex(plan, code_column=code_column, max_distance=max_distance, rules=rules)
        people = out.suffix.lower() in PEOPLE_SUFFIXES
        res = assign_file(points, index, out, crs=crs, chunk_size=chunk_size,
                          progress=progress_enabled(), layer=None if excel else layer,
                          sheet=layer if excel else None, lon=lon, lat=lat, header_row=header_row,
                          format_rows=_assigned_for_people(index) if people else None)
    if per_grid is not None:
        gio.write_table(for_people(res.per_grid.rename_axis(code_column).reset_index()), per_grid)
    say(res.summary())
    say(tr("wrote {path}", path=out))
    bad = int(res.status_counts["invalid"] + res.status_counts["unmatched"])
    return EXIT_VIOLATIONS if strict and bad else EXIT_OK




def _write_recoded(res: Any, out: Path) -> None:
    """A versions file gains the coded plan as a version (with its crosswalk); another
    GeoPackage gets layers 'grids' and 'crosswalk' replaced and keeps the rest."""
    from .. import io as gio
    from ..versions import is_versions_file, save_version

    if is_versions_file(out):
        version = save_version(res.plan, out, note="gridgis recode", crosswalk=res.crosswalk)
        say(tr("added version {version} to {out}", version=version, out=out))
    else:
        gio.write_gpkg({"grids": res.plan, "crosswalk": res.crosswalk}, out, mode="a")


def recode_cmd(
    old: Annotated[str, typer.Argument(help="Previous coded plan (vector file, or a plan "
                                             "versions .gpkg: its latest version).")],
    new: Annotated[str, typer.Argument(help="Redrawn plan (vector file).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Coded new plan (.gpkg, layers "
                                                          "'grids' and 'crosswalk').")]
    = Path("recoded.gpkg"),
    crosswalk: Annotated[Path | None, typer.Option(
        help="Crosswalk table (.csv/.xlsx/.parquet); default <out>_crosswalk.csv.")] = None,
    households: Annotated[str | None, typer.Option(
        help="Buildings or addresses (with households) that weigh the overlaps.")] = None,
    scheme: Annotated[Path | None, typer.Option(help="Code scheme TOML (keys at top level or under codes); "
                                                     "default: --rules [codes].")] = None,
    rules: Rules = None,
    retired: Annotated[Path | None, typer.Option(
        help="Text file of earlier retired codes, one per line (never reused).")] = None,
    old_layer: Annotated[str | None, typer.Option(help="Layer of OLD.")] = None,
    new_layer: Annotated[str | None, typer.Option(help="Layer of NEW.")] = None,
    households_layer: Annotated[str | None, typer.Option(help="Layer of --households.")] = None,
    same_threshold: Annotated[float | None, typer.Option(
        help="Share of households (or area) both ways above which a grid keeps its code "
             "(default: --rules [tolerances] recode_same_share, 0.9).")]
    = None,
) -> None:
    """Code a redrawn plan, keeping the code of every essentially unchanged grid.

    Writes the coded plan and a crosswalk old_code -> new_code (relations same / split / merged / reshaped / new / retired) for rewriting tables with ``recode-table``. New grids get serials never used before.

    Example: ``gridgis recode plan_2023.gpkg plan_2024.gpkg --households buildings.gpkg -o plan_2024_coded.gpkg``
    """
    from .. import io as gio
    from ..codes import recode

    cw_path = crosswalk or out.with_name(f"{out.stem}_crosswalk.csv")
    check_outputs((out, "--out"), (cw_path, "--crosswalk"),
             inputs=(old, new, households, scheme, retired, rules))
    old_plan, known = read_previous_plan(old, old_layer)
    new_plan = read_plan(new, new_layer, layer_option="--new-layer")
    hh = read_layer(households, households_layer, "--households-layer") if households else None
    earlier = list(known)
    if retired is not None:
        try:
            text = retired.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise GridGISError(tr("cannot read retired codes ({exc})", exc=exc), source=retired) from None
        earlier += [line.strip() for line in text.splitlines() if line.strip()]
    res = recode(old_plan, new_plan, households=hh, scheme=scheme, retired=earlier or None,
                 same_threshold=same_threshold, rules=rules)
    _write_recoded(res, out)
    gio.write_table(_for_people_if(cw_path, res.crosswalk), cw_path)
    counts = ", ".join(f"{value('relation', k)} {v}" for k, v in res.summary().items() if v)
    say(tr("{n_plan} grids coded, {n_kept} codes kept, {n_retired} retired ({counts})",
           n_plan=len(res.plan), n_kept=len(res.kept), n_retired=len(res.retired), counts=counts))
    say(tr("wrote {out} and {cw_path}", out=out, cw_path=cw_path))


def recode_table_cmd(
    table: Annotated[Path, typer.Argument(help="Table to rewrite (.csv/.xlsx/.parquet).")],
    crosswalk: Annotated[Path, typer.Option(help="Crosswalk written by 'gridgis recode'.")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Rewritten table; default <table>_recoded.<ext>.")] = None,
    column: Annotated[str, typer.Option(help="Code column, e.g. 网格编码.")] = "grid_code",
    plan: Annotated[str | None, typer.Option(
        help="New plan, to place rows of split grids by their coordinates.")] = None,
    plan_layer: Annotated[str | None, typer.Option(help="Layer of --plan.")] = None,
    lon: Annotated[str | None, typer.Option(help="Longitude column (detected if omitted).")]
    = None,
    lat: Annotated[str | None, typer.Option(help="Latitude column (detected if omitted).")]
    = None,
    coords_crs: Annotated[str, typer.Option(help="CRS of the coordinates: EPSG code, GCJ02 "
                                                 "or BD09.")] = "EPSG:4326",
    locate: Annotated[str, typer.Option(help="split | all | never.")] = "split",
    largest: Annotated[bool, typer.Option(
        "--largest", help="Give rows that stay ambiguous the largest successor.")] = False,
    report: Annotated[Path | None, typer.Option(
        help="Problem rows per code (CSV); default <out>_report.csv.")] = None,
    rules: Annotated[Path | None, typer.Option(
        help="Rules TOML: the crosswalk's new codes must fit its \\[codes] scheme.")] = None,
) -> None:
    """Rewrite a table's grid codes from old to new with a crosswalk.

    Every row is kept; rows whose old grid was split get their code from their coordinates; ambiguous, retired, unknown and missing codes are listed in the report (exit code 1).

    Example: ``gridgis recode-table events.csv --crosswalk cw.csv --column 网格编码 --plan plan_2024.gpkg -o events_2024.csv``
    """
    from .. import io as gio
    from ..codes import recode_table

    target = out or table.with_name(f"{table.stem}_recoded{table.suffix}")
    rep_path = report or target.with_name(f"{target.stem}_report.csv")
    check_outputs((target, "--out"), (rep_path, "--report"), inputs=(table, crosswalk, plan, rules))
    plan_gdf = read_plan(plan, plan_layer, layer_option="--plan-layer") if plan is not None else None
    with cli_options(lon="--lon", lat="--lat", column="--column", coords_crs="--coords-crs"):
        res = recode_table(table, crosswalk, column=column, out=target, plan=plan_gdf, lon=lon,
                           lat=lat, coords_crs=coords_crs, locate=locate,
                           fallback="largest" if largest else None, rules=rules,
                           format_rows=_recoded_for_people
                           if target.suffix.lower() in PEOPLE_SUFFIXES else None)
    report = res.report.rename(columns={"status": "recode_status"})  # not a workflow stage
    gio.write_table(_for_people_if(rep_path, report), rep_path)
    counts = ", ".join(f"{value('recode_status', k)} {v}" for k, v in res.counts.items())
    say(tr("{counts} rows; wrote {path}", counts=counts, path=target))
    if not res.ok:
        say(tr("some rows have no new code: see {rep_path}", rep_path=rep_path))
        raise typer.Exit(EXIT_VIOLATIONS)
