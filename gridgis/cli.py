"""The ``gridgis`` command line: ``gridgis <verb> [inputs] --options``.

Exit codes (scripts can act on them): 0 ok, 1 rule violations found, 2 bad input.
Every verb's ``--help`` shows an example. Library functions stay quiet; the CLI shows progress.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext as _nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .errors import GridGISError

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT = 0, 1, 2

app = typer.Typer(
    name="gridgis",
    help="Grid management (网格化服务管理) toolkit: build, validate, code, assign and render grids.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


class State:
    """Global CLI options (set by the callback)."""

    quiet: bool = False
    verbose: bool = False


@app.callback()
def _main(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print more detail.")] = False,
) -> None:
    State.quiet, State.verbose = quiet, verbose


def say(message: str) -> None:
    """Print a status line to stderr unless ``--quiet``."""
    if not State.quiet:
        console.print(message)


def progress_enabled() -> bool:
    """Whether long work should show a progress bar."""
    return not State.quiet


def read_plan(source: object, layer: str | None = None):
    """The plan of a file as every verb reads it (see :func:`gridgis.versions.read_plan`)."""
    from .versions import read_plan as _read_plan

    return _read_plan(source, layer)


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
    from .demo import run_demo

    run_demo(out, seed=seed, say=say, progress=progress_enabled())


@app.command("build")
def build_cmd(
    district: Annotated[str, typer.Argument(help="GeoPackage with the input layers (communities, "
                                                 "roads, buildings; optional rivers, special_sites).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output plan GeoPackage (versioned).")],
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
    from .versions import read_plan, save_version

    present = set(gio.list_layers(district)) if not gio.is_database_url(district) else set()

    def optional(layer: str):
        return gio.read_vector(district, layer=layer) if layer in present else None

    comm = gio.read_vector(district, layer=communities_layer, geometry="polygon",
                           required=["code"], allow_invalid=False)
    road = gio.read_vector(roads or district, layer=roads_layer, geometry="line")
    bldg = gio.read_vector(buildings or district, layer=buildings_layer)
    keep = read_plan(locked) if locked else None
    sites, rivers = optional(sites_layer), optional(rivers_layer)
    if community and keep is None:
        raise GridGISError("--community needs --locked (the plan whose other grids are kept)")
    if community:
        missing = sorted(set(community) - set(comm["code"].astype(str)))
        if missing:
            raise GridGISError(f"no community {missing} in layer {communities_layer}", source=district)
        # every grid outside these communities is locked; codes of unchanged grids are kept
        previous, keep = keep, keep[~keep["community_code"].astype(str).isin(community)]
    with console.status("building grids…") if progress_enabled() else _nullcontext():
        built = build_grids(comm, road, bldg, rules=rules, special_sites=sites, locked=keep,
                            seed=seed, rivers=rivers)
    if community:
        from .codes import recode

        grids = recode(previous, built.grids, households=bldg).plan
    else:
        grids = assign_codes(built.grids, communities=comm)
    if out.exists():
        out.unlink()
    save_version(grids, out, author=author, note=note)
    context = {"communities": comm, "roads": road, "buildings": bldg}
    context.update({k: v for k, v in (("rivers", rivers), ("special_sites", sites),
                                      ("district", optional("district"))) if v is not None})
    gio.write_gpkg(context, out, mode="a")
    report_path = out.with_suffix(".report.csv")
    gio.write_table(built.report, report_path)
    basic = grids[grids["kind"] == "basic"]
    say(f"{len(grids)} grids ({len(basic)} basic) in {grids['community_code'].nunique()} communities; "
        f"households per basic grid {int(basic['households'].min())}–{int(basic['households'].max())}")
    say(f"wrote {out} and {report_path} ({len(built.report)} report rows)")
    bad = grids["flag"].astype(str).str.contains("out_of_range").any()
    return EXIT_VIOLATIONS if bad else EXIT_OK


@app.command("assign")
def assign_cmd(
    points: Annotated[Path, typer.Argument(help="Addresses/events: CSV (UTF-8 or GBK), Excel, Parquet "
                                                "(file or folder), GeoPackage; lon/lat under any alias.")],
    grids: Annotated[str, typer.Option("--grids", "-g", help="Grid plan (vector file with grid codes).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output: .parquet, .csv or .gpkg.")],
    grids_layer: Annotated[str | None, typer.Option(help="Layer of --grids.")] = None,
    layer: Annotated[str | None, typer.Option(help="Layer (vector file) or sheet (Excel) of POINTS.")] = None,
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
    from .assign import assign_file

    sheet = layer if points.suffix.lower() in {".xlsx", ".xlsm", ".xls"} else 0
    plan = read_plan(grids, grids_layer)
    res = assign_file(points, plan, out, crs=crs, code_column=code_column, max_distance=max_distance,
                      rules=rules, chunk_size=chunk_size, progress=progress_enabled(),
                      layer=None if sheet != 0 else layer, sheet=sheet)
    if per_grid is not None:
        gio.write_table(res.per_grid.rename_axis(code_column).reset_index(), per_grid)
    say(res.summary())
    say(f"wrote {out}")
    bad = int(res.status_counts["invalid"] + res.status_counts["unmatched"])
    return EXIT_VIOLATIONS if strict and bad else EXIT_OK


_PlanLayer = Annotated[str | None, typer.Option("--layer", help="Layer of PLAN (default: 'grids' if present).")]
_Parents = Annotated[str | None, typer.Option(help="Communities (code, area_kind, polygons).")]
_ParentsLayer = Annotated[str | None, typer.Option(help="Layer of --parents.")]
_Buildings = Annotated[str | None, typer.Option(help="Buildings (households, population).")]
_BuildingsLayer = Annotated[str | None, typer.Option(help="Layer of --buildings.")]
_Addresses = Annotated[str | None, typer.Option(help="Address points, or a table with lon/lat.")]
_AddressesLayer = Annotated[str | None, typer.Option(help="Layer of --addresses.")]
_Rules = Annotated[Path | None, typer.Option(help="Rules TOML (profiles, \\[tolerances]).")]


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
    from .validate import read_inputs, validate

    layers = read_inputs(plan, layer=layer, parents=parents, parents_layer=parents_layer,
                         buildings=buildings, buildings_layer=buildings_layer,
                         addresses=addresses, addresses_layer=addresses_layer)
    report = validate(**layers, rules=rules)
    if not State.quiet:
        console.print(report.rich_table(max_rows=50 if State.verbose else 20))
        for rule, why in report.skipped.items():
            say(f"[dim]not checked: {rule} ({why})[/]")
    if html:
        say(f"wrote {report.to_html(html)}")
    if json_out:
        report.to_json(json_out)
        say(f"wrote {json_out}")
    if gpkg:
        from . import io as gio

        gio.write_gpkg({"findings": report.to_geodataframe()}, gpkg)
        say(f"wrote {gpkg}")
    if report.has_errors or (strict and report.findings):
        raise typer.Exit(EXIT_VIOLATIONS)


@app.command("repair")
def repair_cmd(
    plan: Annotated[str, typer.Argument(help="Grid plan (GeoPackage, shapefile …).")],
    out: Annotated[str, typer.Option("--out", "-o", help="Repaired plan (.gpkg, or a postgresql:// "
                                                         "URL; layers 'grids' and 'changes').")]
    = "plan_repaired.gpkg",
    layer: _PlanLayer = None,
    parents: _Parents = None,
    parents_layer: _ParentsLayer = None,
    buildings: _Buildings = None,
    buildings_layer: _BuildingsLayer = None,
    rules: _Rules = None,
    html: Annotated[Path | None, typer.Option(help="Offline HTML report of the repaired plan.")] = None,
) -> None:
    """Fix gaps, overlaps, crossings, detached pieces and slivers; log every change.

    Writes the repaired plan and the change log; prints what is left. Exit code 0 when the
    repaired plan has no error, 1 when errors remain (codes, sizes …), 2 on unreadable input.

    Example: ``gridgis repair plan.gpkg --parents district.gpkg --parents-layer communities
    --buildings district.gpkg --buildings-layer buildings -o plan_fixed.gpkg``
    """
    from .postgis import write_layers
    from .repair import repair
    from .validate import read_inputs

    layers = read_inputs(plan, layer=layer, parents=parents, parents_layer=parents_layer,
                         buildings=buildings, buildings_layer=buildings_layer)
    res = repair(layers["grids"], layers["parents"], layers["buildings"], rules=rules)
    write_layers({"grids": res.plan, "changes": res.log_frame()}, out)
    say(res.summary())
    say(f"wrote {out}")
    if html:
        say(f"wrote {res.report.to_html(html)}")
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
    tilt: Annotated[float, typer.Option(help="Tilt from straight down, degrees.")] = 55.0,
    title: Annotated[str | None, typer.Option(help="Map title.")] = None,
    dpi: Annotated[int, typer.Option(help="Resolution of PNG output.")] = 300,
    deck: Annotated[bool, typer.Option("--deck", help="With .html: the interactive 2.5D (deck.gl) "
                                                      "map instead of the 2D map.")] = False,
) -> None:
    """Draw a 2.5D (oblique, extruded) grid map for reports (the 2.5维立体网格图), or an
    offline interactive HTML map (2D with tooltips and layers, or 2.5D with --deck).

    Example: ``gridgis render plan.gpkg -o 网格图.png --height households --color kind
    --title "雨湖区 2.5维立体网格图"``; ``gridgis render plan.gpkg -o 网格.html``
    """
    from . import io as gio
    from .render import grid_map_25d
    from .versions import plan_context, read_plan

    grids = read_plan(plan, layer)
    if buildings is not None:
        bldg = gio.read_vector(buildings, layer=buildings_layer, geometry="polygon")
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
) -> None:
    """Write the report bundle: A4 PDF + HTML with the 2.5D map, per-community tables, validation,
    event statistics with heatmap and hot spots, and the code crosswalk; every figure as PNG/SVG.

    Example: ``gridgis report demo_output/plan.gpkg --events data/samples/events_gbk.csv -o report/``
    """
    from . import io as gio
    from .events import load as load_events
    from .report import build_report
    from .versions import plan_context, read_plan

    grids = read_plan(plan, layer)
    ctx = plan_context(plan) if layer is None else {}
    comm = gio.read_vector(parents, layer=parents_layer, geometry="polygon") if parents else ctx.get("communities")
    ev = load_events(events, crs=events_crs) if events else None
    prev = read_plan(previous) if previous else None
    bundle = build_report(grids, out, communities=comm, buildings=ctx.get("buildings"),
                          addresses=ctx.get("addresses"), events=ev, previous=prev,
                          roads=ctx.get("roads"), district=ctx.get("district"), rules=rules,
                          title=title, say=say)
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
) -> None:
    """Event heatmap, per-grid event rates, hot spots and an offline time animation.

    Writes PNG maps, per-grid statistics (CSV), hot spots (GeoPackage) and a self-contained
    HTML animation into OUT; rows that could not be used are listed in events_problems.csv.

    Example: ``gridgis heatmap 事件台账.xlsx --grids plan.gpkg --district district.gpkg -o maps``
    """
    from . import events as ev_mod
    from . import io as gio
    from .render.heatmap_maps import write_event_outputs

    sheet = events_layer if events_file.suffix.lower() in {".xlsx", ".xlsm", ".xls"} else None
    ev = ev_mod.load(events_file, crs=crs, sheet=sheet if sheet is not None else 0,
                     layer=None if sheet is not None else events_layer)
    plan = read_plan(grids, grids_layer)
    dist = gio.read_vector(district, layer=district_layer, geometry="polygon") if district else None
    written = write_event_outputs(ev, plan, out, district=dist, rules=rules, bandwidth=bandwidth,
                                  cell_size=cell, freq=freq, seed=seed)
    bad = ev[ev["status"] != "ok"]
    if len(bad):
        gio.write_table(bad.drop(columns=bad.geometry.name), out / "events_problems.csv")
    counts = ev["status"].value_counts().to_dict()
    say(f"{len(ev)} events: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    say("wrote " + ", ".join(str(p) for p in written.values()))


def _read_plan(path: Path, layer: str | None):
    """A plan layer; a plan versions GeoPackage gives its latest version (and known codes)."""
    from .versions import is_versions_file, known_codes, read_plan

    return read_plan(path, layer), (known_codes(path) if layer is None and is_versions_file(path) else [])


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
    scheme: Annotated[Path | None, typer.Option(help="Code scheme TOML (keys at top level or under codes).")] = None,
    retired: Annotated[Path | None, typer.Option(
        help="Text file of earlier retired codes, one per line (never reused).")] = None,
    old_layer: Annotated[str | None, typer.Option(help="Layer of OLD.")] = None,
    new_layer: Annotated[str | None, typer.Option(help="Layer of NEW.")] = None,
    households_layer: Annotated[str | None, typer.Option(help="Layer of --households.")] = None,
    same_threshold: Annotated[float, typer.Option(
        help="Share of households (or area) both ways above which a grid keeps its code.")]
    = 0.9,
) -> None:
    """Code a redrawn plan, keeping the code of every essentially unchanged grid.

    Writes the coded plan and a crosswalk old_code -> new_code (relations same / split / merged / reshaped / new / retired) for rewriting tables with ``recode-table``. New grids get serials never used before.

    Example: ``gridgis recode plan_2023.gpkg plan_2024.gpkg --households buildings.gpkg -o plan_2024_coded.gpkg``
    """
    from . import io as gio
    from .codes import recode

    old_plan, known = _read_plan(old, old_layer)
    new_plan = read_plan(new, new_layer)
    hh = gio.read_vector(households, layer=households_layer) if households else None
    earlier = list(known)
    if retired is not None:
        try:
            text = retired.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise GridGISError(f"cannot read retired codes ({exc})", source=retired) from None
        earlier += [line.strip() for line in text.splitlines() if line.strip()]
    res = recode(old_plan, new_plan, households=hh, scheme=scheme, retired=earlier or None,
                 same_threshold=same_threshold)
    gio.write_gpkg({"grids": res.plan, "crosswalk": res.crosswalk}, out)
    cw_path = crosswalk or out.with_name(f"{out.stem}_crosswalk.csv")
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
) -> None:
    """Rewrite a table's grid codes from old to new with a crosswalk.

    Every row is kept; rows whose old grid was split get their code from their coordinates; ambiguous, retired, unknown and missing codes are listed in the report (exit code 1).

    Example: ``gridgis recode-table events.csv --crosswalk cw.csv --column 网格编码 --plan plan_2024.gpkg -o events_2024.csv``
    """
    from . import io as gio
    from .codes import recode_table

    plan_gdf = read_plan(plan, plan_layer) if plan is not None else None
    target = out or table.with_name(f"{table.stem}_recoded{table.suffix}")
    res = recode_table(table, crosswalk, column=column, out=target, plan=plan_gdf, lon=lon,
                       lat=lat, coords_crs=coords_crs, locate=locate,
                       fallback="largest" if largest else None)
    rep_path = report or target.with_name(f"{target.stem}_report.csv")
    gio.write_table(res.report, rep_path)
    say(", ".join(f"{k} {v}" for k, v in res.counts.items()) + f" rows; wrote {target}")
    if not res.ok:
        say(f"[yellow]some rows have no new code: see {rep_path}[/]")
        raise typer.Exit(EXIT_VIOLATIONS)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: runs the app and maps errors to exit codes."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except GridGISError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
        return EXIT_BAD_INPUT
    except SystemExit as exc:  # typer/click exits (e.g. --help, usage errors)
        code = exc.code if isinstance(exc.code, int) else 0
        return code
    except Exception as exc:
        # click's (typer-vendored) usage errors and exits, matched by shape not by class
        code = getattr(exc, "exit_code", None)
        if type(exc).__name__ == "Abort":
            return EXIT_BAD_INPUT
        if not isinstance(code, int):
            raise
        if callable(getattr(exc, "show", None)):
            exc.show()
            return EXIT_BAD_INPUT
        return code
    return rv if isinstance(rv, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
