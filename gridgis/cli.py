"""The ``gridgis`` command line: ``gridgis <verb> [inputs] --options``.

Exit codes (scripts can act on them):

* 0 — done, nothing to report;
* 1 — done, and rule violations were found (validate, repair, build, assign --strict …);
* 2 — bad input, bad usage, or an output that cannot be written (the message names the file,
  where in it, and the option that fixes it);
* 3 — an internal error: one line on the terminal, the traceback in a log file whose path is
  printed (``--debug`` prints it instead).

Messages are printed as they are (no markup, no wrapping), so paths and 15-digit codes can be
copied from them. Outputs never overwrite inputs and are written atomically
(:mod:`gridgis.writing`). Every verb's ``--help`` shows an example.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import nullcontext as _nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click import exceptions as click_exc

from .errors import GridGISError, cli_options
from .writing import check_output

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
log = logging.getLogger("gridgis")

app = typer.Typer(
    name="gridgis",
    help="Grid management (网格化服务管理) toolkit: build, validate, code, assign and render grids.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class State:
    """Global CLI options (set by the callback)."""

    quiet: bool = False
    verbose: bool = False
    debug: bool = False


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"gridgis {version('gridgis')}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print more detail.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Print the traceback of an internal "
                                                        "error (exit 3) instead of logging it.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    State.quiet, State.verbose, State.debug = quiet, verbose, debug


def say(message: str) -> None:
    """Print a status line to stderr, as it is (no markup, no wrapping), unless ``--quiet``."""
    if not State.quiet:
        print(message, file=sys.stderr, flush=True)


@contextmanager
def _library_messages() -> Iterator[None]:
    """Show the library's INFO messages (``gridgis.*`` loggers) as status lines, unless ``--quiet``."""
    handler = logging.StreamHandler(sys.stderr)
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.WARNING if State.quiet else logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)


def progress_enabled() -> bool:
    """Whether long work should show a progress bar."""
    return not State.quiet


def _status(text: str) -> Any:
    """A spinner on a terminal; nothing when stderr is a file or a pipe."""
    if State.quiet or not sys.stderr.isatty():
        return _nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(text)


def read_plan(source: object, layer: str | None = None, *, layer_option: str = "--layer"):
    """The plan of a file as every verb reads it (see :func:`gridgis.versions.read_plan`)."""
    from .versions import read_plan as _read_plan

    with cli_options(layer=layer_option):
        return _read_plan(source, layer)


def _print_findings(report: Any) -> None:
    """The findings as a table on a terminal; as plain lines (never wrapped) in files and pipes."""
    if sys.stderr.isatty():
        from rich.console import Console

        Console(stderr=True).print(report.rich_table(max_rows=50 if State.verbose else 20))
        for rule, why in report.skipped.items():
            say(f"not checked: {rule} ({why})")
    else:  # the summary lists the rules not checked too
        say(report.summary(max_rows=50 if State.verbose else 20))


def read_layer(source: Any, layer: str | None, layer_option: str, **kwargs: Any):
    """A vector layer of a file named on the command line; fixes name ``layer_option``."""
    from . import io as gio

    with cli_options(layer=layer_option):
        return gio.read_vector(source, layer=layer, **kwargs)


def _outputs(*outputs: tuple[Any, str], inputs: tuple[Any, ...], folder: bool = False) -> None:
    """Check every ``(path, option)`` output against the inputs before any work is done."""
    for path, option in outputs:
        if path is not None and "://" not in str(path):
            check_output(path, inputs=inputs, folder=folder, option=option)


# ---- options shared by several verbs -----------------------------------------------------------
_PointsLayer = Annotated[str | None, typer.Option(
    "--layer", help="Layer (vector file) or sheet (Excel) of the points; default: the only point "
                    "layer, or the sheet with coordinates.")]
_Lon = Annotated[str | None, typer.Option(help="Longitude (or x) column, when its header is not "
                                               "recognised (经度, lon, lng, x …).")]
_Lat = Annotated[str | None, typer.Option(help="Latitude (or y) column (纬度, lat, y …).")]
_HeaderRow = Annotated[int | None, typer.Option(min=1, help="Row number (1 = first) of the header in "
                                                            "a CSV or Excel sheet; default: found under "
                                                            "any title rows.")]
# how the plan readers' Python keywords are spelled on validate and repair
_INPUT_OPTIONS = {"layer": "--layer", "parents_layer": "--parents-layer",
                  "buildings_layer": "--buildings-layer", "addresses_layer": "--addresses-layer"}
# how the point readers' Python keywords are spelled on the verbs that read points
_POINT_OPTIONS = {"layer": "--layer", "sheet": "--layer", "lon": "--lon", "lat": "--lat",
                  "crs": "--crs", "header_row": "--header-row"}

_PlanLayer = Annotated[str | None, typer.Option("--layer", help="Layer of PLAN (default: 'grids' if present).")]
_Parents = Annotated[str | None, typer.Option(help="Communities (code, area_kind, polygons).")]
_ParentsLayer = Annotated[str | None, typer.Option(help="Layer of --parents.")]
_Buildings = Annotated[str | None, typer.Option(help="Buildings (households, population).")]
_BuildingsLayer = Annotated[str | None, typer.Option(help="Layer of --buildings.")]
_Addresses = Annotated[str | None, typer.Option(help="Address points, or a table with lon/lat.")]
_AddressesLayer = Annotated[str | None, typer.Option(help="Layer of --addresses.")]
_Rules = Annotated[Path | None, typer.Option(help="Rules TOML (profiles, \\[tolerances], \\[codes]).")]


# ---- verbs -------------------------------------------------------------------------------------
# Each verb is a thin wrapper over a library function; keep logic in the library.


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("demo_output"),
    seed: Annotated[int, typer.Option(help="Random seed of the builder.")] = 0,
) -> None:
    """Run the main job on the bundled sample district.

    Example: ``gridgis demo -o demo_output``
    """
    from .workflows import run_demo

    with _library_messages():
        run_demo(out, seed=seed, progress=progress_enabled())


@app.command("build")
def build_cmd(
    district: Annotated[str, typer.Argument(help="GeoPackage with the input layers (communities, "
                                                 "roads, buildings; optional rivers, special_sites).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output plan GeoPackage (versioned): a new "
                                                          "file, or an existing plan versions file, "
                                                          "which gains a version.")],
    communities_layer: Annotated[str, typer.Option(help="Layer of community/village polygons.")] = "communities",
    roads: Annotated[str | None, typer.Option(help="Roads file (default: DISTRICT).")] = None,
    roads_layer: Annotated[str, typer.Option(help="Layer of road centre lines.")] = "roads",
    buildings: Annotated[str | None, typer.Option(help="Buildings file (default: DISTRICT).")] = None,
    buildings_layer: Annotated[str, typer.Option(help="Layer of buildings with households.")] = "buildings",
    rivers_layer: Annotated[str, typer.Option(help="Layer of rivers (used when present).")] = "rivers",
    sites_layer: Annotated[str, typer.Option(help="Layer of special sites (used when present).")] = "special_sites",
    community: Annotated[list[str] | None, typer.Option(help="Rebuild only this community (repeat); "
                                                            "needs --locked.")] = None,
    locked: Annotated[str | None, typer.Option(help="Existing plan: with --community, its grids outside "
                                                    "those communities are kept and codes of unchanged "
                                                    "grids stay; alone, its grids are locked.")] = None,
    rules: _Rules = None,
    seed: Annotated[int, typer.Option(help="Random seed (same input + seed = same plan).")] = 0,
    author: Annotated[str, typer.Option(help="Author saved with the plan version.")] = "",
    note: Annotated[str, typer.Option(help="Note saved with the plan version.")] = "gridgis build",
) -> int:
    """Build a seamless grid plan within the size rules, code it, and save it as a plan version.

    Writes OUT (plan version + the input layers beside it) and OUT's ``.report.csv`` (exceptions
    and anything that could not be placed). Exit 1 when a community admits no plan within the
    rules (its best plan is kept and explained in the report).

    Example: ``gridgis build data/samples/sample_district.gpkg -o plan.gpkg --rules rules.toml``
    """
    from . import io as gio
    from .codes import assign_codes
    from .partition import build_grids
    from .schema import BASIC, KIND
    from .versions import save_version

    report_path = out.with_suffix(".report.csv")
    _outputs((out, "--out"), (report_path, "--out"), inputs=(district, roads, buildings, locked))
    present = set(gio.list_layers(district)) if not gio.is_database_url(district) else set()

    def optional(layer: str):
        return gio.read_vector(district, layer=layer) if layer in present else None

    comm = read_layer(district, communities_layer, "--communities-layer", geometry="polygon",
                      required=["code"], allow_invalid=False)
    road = read_layer(roads or district, roads_layer, "--roads-layer", geometry="line")
    bldg = read_layer(buildings or district, buildings_layer, "--buildings-layer")
    keep = read_plan(locked, layer_option="") if locked else None
    sites, rivers = optional(sites_layer), optional(rivers_layer)
    if community and keep is None:
        raise GridGISError("--community needs --locked (the plan whose other grids are kept)")
    if community:
        missing = sorted(set(community) - set(comm["code"].astype(str)))
        if missing:
            raise GridGISError(f"no community {missing} in layer {communities_layer}", source=district)
        # every grid outside these communities is locked; codes of unchanged grids are kept
        previous, keep = keep, keep[~keep["community_code"].astype(str).isin(community)]
    with _status("building grids…"):
        built = build_grids(comm, road, bldg, rules=rules, special_sites=sites, locked=keep,
                            seed=seed, rivers=rivers)
    if community:
        from .codes import recode

        grids = recode(previous, built.grids, households=bldg, rules=rules).plan
    else:
        grids = assign_codes(built.grids, communities=comm, rules=rules)
    context = {"communities": comm, "roads": road, "buildings": bldg}
    context.update({k: v for k, v in (("rivers", rivers), ("special_sites", sites),
                                      ("district", optional("district"))) if v is not None})
    # an existing versions file gains a version; the inputs it was built from are kept beside it
    version = save_version(grids, out, author=author, note=note, context=context,
                           replace_context=True)
    gio.write_table(built.report, report_path)
    basic = grids[grids[KIND] == BASIC]
    say(f"{len(grids)} grids ({len(basic)} basic) in {grids['community_code'].nunique()} communities; "
        f"households per basic grid {int(basic['households'].min())}–{int(basic['households'].max())}")
    say(f"wrote {out} (version {version}) and {report_path} ({len(built.report)} report rows)")
    bad = grids["flag"].astype(str).str.contains("out_of_range").any()
    return EXIT_VIOLATIONS if bad else EXIT_OK


@app.command("assign")
def assign_cmd(
    points: Annotated[Path, typer.Argument(help="Addresses/events: CSV (UTF-8 or GBK), Excel, Parquet "
                                                "(file or folder), GeoPackage; lon/lat under any alias.")],
    grids: Annotated[str, typer.Option("--grids", "-g", help="Grid plan (vector file with grid codes).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output: .parquet, .csv or .gpkg.")],
    grids_layer: Annotated[str | None, typer.Option(help="Layer of --grids.")] = None,
    layer: _PointsLayer = None,
    lon: _Lon = None,
    lat: _Lat = None,
    header_row: _HeaderRow = None,
    crs: Annotated[str | None, typer.Option(help="CRS of the coordinates: EPSG code, GCJ02 or BD09 "
                                                 "(default WGS84, or the layer's own CRS).")] = None,
    code_column: Annotated[str, typer.Option(help="Grid-code column of the plan.")] = "grid_code",
    max_distance: Annotated[float | None, typer.Option(help="Metres for the nearest-grid rule "
                                                            "(default from the rules file; 0 = off).")] = None,
    rules: Annotated[Path | None, typer.Option(help="Rules TOML (\\[assign] max_distance_m).")] = None,
    chunk_size: Annotated[int, typer.Option(help="Rows per chunk (bounds memory).")] = 250_000,
    per_grid: Annotated[Path | None, typer.Option(help="Also write the count per grid (CSV).")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 when any row is invalid or unmatched.")] = False,
) -> int:
    """Assign every address/event row to one grid (exact; boundary, nearest and invalid reported).

    Writes the rows in their order with grid_code, match (inside/boundary/nearest/unmatched/
    invalid), match_reason and distance_m; files larger than memory are streamed in chunks.

    Example: ``gridgis assign 地址库.csv --grids plan.gpkg -o addresses_assigned.parquet``
    """
    from . import io as gio
    from .assignment import assign_file

    _outputs((out, "--out"), (per_grid, "--per-grid"), inputs=(points, grids, rules))
    excel = points.suffix.lower() in {".xlsx", ".xlsm", ".xls"}
    plan = read_plan(grids, grids_layer, layer_option="--grids-layer")
    with cli_options(**_POINT_OPTIONS, code_column="--code-column"):
        res = assign_file(points, plan, out, crs=crs, code_column=code_column,
                          max_distance=max_distance, rules=rules, chunk_size=chunk_size,
                          progress=progress_enabled(), layer=None if excel else layer,
                          sheet=layer if excel else None, lon=lon, lat=lat, header_row=header_row)
    if per_grid is not None:
        gio.write_table(res.per_grid.rename_axis(code_column).reset_index(), per_grid)
    say(res.summary())
    say(f"wrote {out}")
    bad = int(res.status_counts["invalid"] + res.status_counts["unmatched"])
    return EXIT_VIOLATIONS if strict and bad else EXIT_OK




@app.command("validate")
def validate_cmd(
    plan: Annotated[str, typer.Argument(help="Grid plan (GeoPackage, shapefile …).")],
    layer: _PlanLayer = None,
    parents: _Parents = None,
    parents_layer: _ParentsLayer = None,
    buildings: _Buildings = None,
    buildings_layer: _BuildingsLayer = None,
    addresses: _Addresses = None,
    addresses_layer: _AddressesLayer = None,
    rules: _Rules = None,
    html: Annotated[Path | None, typer.Option(help="Write an offline HTML report with a map.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the findings as JSON.")] = None,
    gpkg: Annotated[Path | None, typer.Option(help="Write the findings as a GeoPackage layer.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too.")] = False,
) -> None:
    """Check a grid plan: gaps, overlaps, crossings, pieces, slivers, sizes, items and codes.

    Exit code 0 when no error is found (warnings allowed unless --strict), 1 when errors are
    found, 2 when an input cannot be read.

    Example: ``gridgis validate plan.gpkg --parents district.gpkg --parents-layer communities
    --buildings district.gpkg --buildings-layer buildings --html validation.html``
    """
    from .render.validation_page import write_validation_page
    from .validation import read_inputs, validate

    _outputs((html, "--html"), (json_out, "--json"), (gpkg, "--gpkg"),
             inputs=(plan, parents, buildings, addresses, rules))
    with cli_options(**_INPUT_OPTIONS):
        layers = read_inputs(plan, layer=layer, parents=parents, parents_layer=parents_layer,
                             buildings=buildings, buildings_layer=buildings_layer,
                             addresses=addresses, addresses_layer=addresses_layer)
    from .rules import load_rules

    rules_used = load_rules(rules)
    report = validate(**layers, rules=rules_used, scheme=rules_used.codes)
    if not State.quiet:
        _print_findings(report)
    if html:
        say(f"wrote {write_validation_page(report, html)}")
    if json_out:
        report.to_json(json_out)
        say(f"wrote {json_out}")
    if gpkg:
        from . import io as gio

        # an existing GeoPackage keeps its other layers; only 'findings' is replaced
        gio.write_gpkg({"findings": report.to_geodataframe()}, gpkg, mode="a")
        say(f"wrote layer 'findings' of {gpkg}")
    if report.has_errors or (strict and report.findings):
        raise typer.Exit(EXIT_VIOLATIONS)


@app.command("repair")
def repair_cmd(
    plan: Annotated[str, typer.Argument(help="Grid plan (GeoPackage, shapefile …).")],
    out: Annotated[str, typer.Option("--out", "-o", help="Repaired plan: a new .gpkg or one whose "
                                                         "layers 'grids' and 'changes' are replaced "
                                                         "(others kept), a plan versions file (gains "
                                                         "a version), or a postgresql:// URL.")]
    = "plan_repaired.gpkg",
    layer: _PlanLayer = None,
    parents: _Parents = None,
    parents_layer: _ParentsLayer = None,
    buildings: _Buildings = None,
    buildings_layer: _BuildingsLayer = None,
    rules: _Rules = None,
    html: Annotated[Path | None, typer.Option(help="Offline HTML report of the repaired plan.")] = None,
    in_place: Annotated[bool, typer.Option("--in-place", help="Save the repaired plan as a new "
                                                              "version of PLAN (a plan versions "
                                                              "file); earlier versions are kept.")]
    = False,
    author: Annotated[str, typer.Option(help="Author of the version (versions files).")] = "",
    note: Annotated[str, typer.Option(help="Note of the version (versions files).")] = "gridgis repair",
) -> None:
    """Fix gaps, overlaps, crossings, detached pieces and slivers; log every change.

    Writes the repaired plan and the change log; prints what is left. Exit code 0 when the
    repaired plan has no error, 1 when errors remain (codes, sizes …), 2 on unreadable input.

    Example: ``gridgis repair plan.gpkg --parents district.gpkg --parents-layer communities
    --buildings district.gpkg --buildings-layer buildings -o plan_fixed.gpkg``
    """
    from .postgis import write_layers
    from .render.validation_page import write_validation_page
    from .repairs import repair
    from .validation import read_inputs
    from .versions import is_versions_file, save_version

    if in_place:
        if not is_versions_file(plan):
            raise GridGISError("--in-place needs a plan versions GeoPackage (it gains a version)",
                               source=plan, fix="give --out a new file instead")
        out = plan
    else:
        _outputs((out, "--out"), inputs=(plan, parents, buildings, rules))
    _outputs((html, "--html"), inputs=(plan, parents, buildings, rules))
    with cli_options(**_INPUT_OPTIONS):
        layers = read_inputs(plan, layer=layer, parents=parents, parents_layer=parents_layer,
                             buildings=buildings, buildings_layer=buildings_layer)
    res = repair(layers["grids"], layers["parents"], layers["buildings"], rules=rules)
    if is_versions_file(out):
        version = save_version(res.plan, out, author=author, note=note,
                               context={"changes": res.log_frame()}, replace_context=True)
        say(res.summary())
        say(f"wrote {out} (version {version})")
    else:
        write_layers({"grids": res.plan, "changes": res.log_frame()}, out)
        say(res.summary())
        say(f"wrote layers 'grids' and 'changes' of {out}")
    if html:
        say(f"wrote {write_validation_page(res.report, html)}")
    if res.report.has_errors:
        raise typer.Exit(EXIT_VIOLATIONS)


@app.command("render")
def render_cmd(
    plan: Annotated[str, typer.Argument(help="Grid plan (vector file, plan versions .gpkg, or "
                                             "postgresql:// URL with --layer).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output: .png, .svg or .pdf (2.5D map), "
                                                          "or .html (offline interactive map).")],
    layer: _PlanLayer = None,
    buildings: Annotated[str | None, typer.Option(help="Buildings to extrude on the grids "
                                                       "(default: the plan file's own layer).")] = None,
    buildings_layer: _BuildingsLayer = None,
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
    """Draw a 2.5D (oblique, extruded) grid map for reports (the 2.5维立体网格图), or an
    offline interactive HTML map (2D with tooltips and layers, or 2.5D with --deck).

    Example: ``gridgis render plan.gpkg -o 网格图.png --height households --color kind
    --title "雨湖区 2.5维立体网格图"``; ``gridgis render plan.gpkg -o 网格.html``
    """
    from .render import grid_map_25d
    from .render.static25d import check_view as _check_view
    from .versions import plan_context

    _outputs((out, "--out"), inputs=(plan, buildings))
    if out.suffix.lower() not in {".png", ".svg", ".pdf", ".html", ".htm"}:
        raise GridGISError(f"unsupported map format {out.suffix!r}", source=out,
                           fix="give --out a .png, .svg, .pdf or .html file")
    with cli_options(tilt="--tilt", dpi="--dpi"):
        _check_view(tilt=tilt, dpi=dpi, scheme=scheme, k=5)
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
            from .render.deck import deck_map_25d

            deck_map_25d(grids, height=h, buildings=bldg, roads=ctx.get("roads"),
                         rivers=ctx.get("rivers"), title=title, out=out)
        else:
            from .render.web import interactive_map

            interactive_map(grids, roads=ctx.get("roads"), rivers=ctx.get("rivers"),
                            communities=ctx.get("communities"), title=title, out=out,
                            color=None if color == "community_code" else color)
        say(f"wrote {out}")
        return
    grid_map_25d(grids, buildings=bldg, height=h, color=color, labels=None if labels == "none" else labels,
                 scheme=scheme, azimuth=azimuth, tilt=tilt, title=title, out=out, dpi=dpi)
    say(f"wrote {out}")


@app.command("report")
def report_cmd(
    plan: Annotated[str, typer.Argument(help="Grid plan (vector file or plan versions .gpkg; "
                                             "communities/buildings/addresses layers beside it are used).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("report"),
    events: Annotated[str | None, typer.Option(help="Event table (CSV/Excel/Parquet, GBK ok) or layer.")] = None,
    events_crs: Annotated[str, typer.Option(help="CRS of the event lon/lat: EPSG code, GCJ02, BD09.")] = "EPSG:4326",
    previous: Annotated[str | None, typer.Option(help="Previous plan: adds the code crosswalk.")] = None,
    layer: _PlanLayer = None,
    parents: Annotated[str | None, typer.Option(help="Communities (default: the plan file's own layer).")] = None,
    parents_layer: _ParentsLayer = None,
    rules: _Rules = None,
    title: Annotated[str | None, typer.Option(help="Report title.")] = None,
    lon: _Lon = None,
    lat: _Lat = None,
    header_row: _HeaderRow = None,
) -> None:
    """Write the report bundle: A4 PDF + HTML with the 2.5D map, per-community tables, validation,
    event statistics with heatmap and hot spots, and the code crosswalk; every figure as PNG/SVG.

    Example: ``gridgis report demo_output/plan.gpkg --events data/samples/events_gbk.csv -o report/``
    """
    from .versions import plan_context
    from .workflows import build_report

    _outputs((out, "--out"), inputs=(plan, events, previous, parents, rules), folder=True)
    grids = read_plan(plan, layer)
    ctx = plan_context(plan) if layer is None else {}
    comm = (read_layer(parents, parents_layer, "--parents-layer", geometry="polygon") if parents
            else ctx.get("communities"))
    ev = _read_events(events, crs=events_crs, layer=None, lon=lon, lat=lat,
                      header_row=header_row, crs_option="--events-crs") if events else None
    prev = read_plan(previous, layer_option="") if previous else None
    with _library_messages():
        bundle = build_report(grids, out, communities=comm, buildings=ctx.get("buildings"),
                              addresses=ctx.get("addresses"), events=ev, previous=prev,
                              roads=ctx.get("roads"), district=ctx.get("district"), rules=rules,
                              title=title)
    say(f"wrote {bundle.pdf} ({bundle.pages} pages), {bundle.html}, "
        f"{sum(len(v) for v in bundle.figures.values())} figure files, {len(bundle.tables)} tables")


@app.command("heatmap")
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
    lon: _Lon = None,
    lat: _Lat = None,
    header_row: _HeaderRow = None,
) -> None:
    """Event heatmap, per-grid event rates, hot spots and an offline time animation.

    Writes PNG maps, per-grid statistics (CSV), hot spots (GeoPackage) and a self-contained
    HTML animation into OUT; rows that could not be used are listed in events_problems.csv.

    Example: ``gridgis heatmap 事件台账.xlsx --grids plan.gpkg --district district.gpkg -o maps``
    """
    from . import io as gio
    from .workflows import write_event_outputs

    _outputs((out, "--out"), inputs=(events_file, grids, district, rules), folder=True)
    ev = _read_events(events_file, crs=crs, layer=events_layer, lon=lon, lat=lat,
                      header_row=header_row, crs_option="--crs")
    plan = read_plan(grids, grids_layer, layer_option="--grids-layer")
    dist = (read_layer(district, district_layer, "--district-layer", geometry="polygon")
            if district else None)
    written = write_event_outputs(ev, plan, out, district=dist, rules=rules, bandwidth=bandwidth,
                                  cell_size=cell, freq=freq, seed=seed)
    bad = ev[ev["status"] != "ok"]
    if len(bad):
        gio.write_table(bad.drop(columns=bad.geometry.name), out / "events_problems.csv")
    counts = ev["status"].value_counts().to_dict()
    say(f"{len(ev)} events: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    say("wrote " + ", ".join(str(p) for p in written.values()))


def _read_events(source: Any, *, crs: str, layer: str | None, lon: str | None, lat: str | None,
                 header_row: int | None, crs_option: str) -> Any:
    """Events as ``heatmap`` and ``report`` read them (sheet or layer, columns, header row)."""
    from .events import load

    excel = str(source).lower().endswith((".xlsx", ".xlsm", ".xls"))
    with cli_options(**{**_POINT_OPTIONS, "crs": crs_option}):
        return load(source, crs=crs, sheet=layer if excel else None, layer=None if excel else layer,
                    lon=lon, lat=lat, header_row=header_row)


def _read_plan(path: Path, layer: str | None):
    """A plan layer; a plan versions GeoPackage gives its latest version (and known codes)."""
    from .versions import is_versions_file, known_codes

    return (read_plan(path, layer, layer_option="--old-layer"),
            known_codes(path) if layer is None and is_versions_file(path) else [])


def _write_recoded(res: Any, out: Path) -> None:
    """A versions file gains the coded plan as a version (with its crosswalk); another
    GeoPackage gets layers 'grids' and 'crosswalk' replaced and keeps the rest."""
    from . import io as gio
    from .versions import is_versions_file, save_version

    if is_versions_file(out):
        version = save_version(res.plan, out, note="gridgis recode", crosswalk=res.crosswalk)
        say(f"added version {version} to {out}")
    else:
        gio.write_gpkg({"grids": res.plan, "crosswalk": res.crosswalk}, out, mode="a")


@app.command("recode")
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
    rules: _Rules = None,
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
    from . import io as gio
    from .codes import recode

    cw_path = crosswalk or out.with_name(f"{out.stem}_crosswalk.csv")
    _outputs((out, "--out"), (cw_path, "--crosswalk"),
             inputs=(old, new, households, scheme, retired, rules))
    old_plan, known = _read_plan(old, old_layer)
    new_plan = read_plan(new, new_layer, layer_option="--new-layer")
    hh = read_layer(households, households_layer, "--households-layer") if households else None
    earlier = list(known)
    if retired is not None:
        try:
            text = retired.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise GridGISError(f"cannot read retired codes ({exc})", source=retired) from None
        earlier += [line.strip() for line in text.splitlines() if line.strip()]
    res = recode(old_plan, new_plan, households=hh, scheme=scheme, retired=earlier or None,
                 same_threshold=same_threshold, rules=rules)
    _write_recoded(res, out)
    gio.write_table(res.crosswalk, cw_path)
    counts = ", ".join(f"{k} {v}" for k, v in res.summary().items() if v)
    say(f"{len(res.plan)} grids coded, {len(res.kept)} codes kept, {len(res.retired)} retired "
        f"({counts})")
    say(f"wrote {out} and {cw_path}")


@app.command("recode-table")
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
    from . import io as gio
    from .codes import recode_table

    target = out or table.with_name(f"{table.stem}_recoded{table.suffix}")
    rep_path = report or target.with_name(f"{target.stem}_report.csv")
    _outputs((target, "--out"), (rep_path, "--report"), inputs=(table, crosswalk, plan, rules))
    plan_gdf = read_plan(plan, plan_layer, layer_option="--plan-layer") if plan is not None else None
    with cli_options(lon="--lon", lat="--lat", column="--column", coords_crs="--coords-crs"):
        res = recode_table(table, crosswalk, column=column, out=target, plan=plan_gdf, lon=lon,
                           lat=lat, coords_crs=coords_crs, locate=locate,
                           fallback="largest" if largest else None, rules=rules)
    gio.write_table(res.report, rep_path)
    say(", ".join(f"{k} {v}" for k, v in res.counts.items()) + f" rows; wrote {target}")
    if not res.ok:
        say(f"some rows have no new code: see {rep_path}")
        raise typer.Exit(EXIT_VIOLATIONS)


def _log_path() -> Path:
    base = os.environ.get("GRIDGIS_LOG_DIR") or os.path.join(tempfile.gettempdir(), "gridgis-logs")
    folder = Path(base)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"gridgis-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"


def _internal_error(exc: BaseException) -> int:
    """Exit 3: one line on the terminal, the traceback in a log file (or on stderr with --debug)."""
    text = "".join(traceback.format_exception(exc))
    if State.debug:
        print(text, file=sys.stderr)
        _error(f"internal error ({type(exc).__name__}); please report it with the traceback above")
        return EXIT_INTERNAL
    try:
        path = _log_path()
        path.write_text(f"gridgis {' '.join(sys.argv[1:])}\n{text}", encoding="utf-8")
        where = f"details in {path}"
    except OSError:
        where = "run again with --debug for details"
    _error(f"internal error ({type(exc).__name__}: {str(exc)[:200]}); {where}. "
           "Please report it with that file.")
    return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: runs the app and maps every outcome to an exit code."""
    try:
        rv = app(args=argv, standalone_mode=False, prog_name="gridgis")
    except GridGISError as exc:
        _error(str(exc))
        return EXIT_BAD_INPUT
    except click_exc.ClickException as exc:  # usage errors, bad option values
        exc.show()
        return EXIT_BAD_INPUT
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except (typer.Abort, KeyboardInterrupt):
        _error("interrupted; outputs not finished were left untouched")
        return 130
    except OSError as exc:  # disk full, permission lost mid-run …: an output cannot be written
        name = exc.filename or ""
        _error(f"{name}: {exc.strerror or exc}" if name else f"{exc.strerror or exc}")
        return EXIT_BAD_INPUT
    except Exception as exc:
        return _internal_error(exc)
    return rv if isinstance(rv, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
