"""Verbs on grid plans: ``demo``, ``build``, ``validate`` and ``repair``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import GridGISError, cli_options
from ..i18n import _, tr
from ..workflows.readers import read_layer, read_plan
from ._app import (
    EXIT_OK,
    EXIT_VIOLATIONS,
    State,
    check_outputs,
    print_findings,
    progress_enabled,
    say,
    status,
)
from ._options import (
    INPUT_OPTIONS,
    Addresses,
    AddressesLayer,
    Buildings,
    BuildingsLayer,
    Parents,
    ParentsLayer,
    PlanLayer,
    Rules,
)

__all__ = ["build_cmd", "demo_cmd", "repair_cmd", "validate_cmd"]


def demo_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("demo_output"),
    seed: Annotated[int, typer.Option(help="Random seed of the builder.")] = 0,
) -> None:
    """Run the main job on the bundled sample district.

    Example: ``gridgis demo -o demo_output``
    """
    from ..workflows import run_demo

    run_demo(out, seed=seed, progress=progress_enabled())


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
    rules: Rules = None,
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
    from .. import io as gio
    from ..codes import assign_codes
    from ..partition import build_grids
    from ..schema import BASIC, KIND
    from ..versions import save_version

    report_path = out.with_suffix(".report.csv")
    check_outputs((out, "--out"), (report_path, "--out"), inputs=(district, roads, buildings, locked))
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
        raise GridGISError(_("--community needs --locked (the plan whose other grids are kept)"))
    if community:
        missing = sorted(set(community) - set(comm["code"].astype(str)))
        if missing:
            raise GridGISError(tr("no community {missing} in layer {communities_layer}",
                                  missing=missing, communities_layer=communities_layer), source=district)
        # every grid outside these communities is locked; codes of unchanged grids are kept
        previous, keep = keep, keep[~keep["community_code"].astype(str).isin(community)]
    with status(_("building grids…")):
        built = build_grids(comm, road, bldg, rules=rules, special_sites=sites, locked=keep,
                            seed=seed, rivers=rivers)
    if community:
        from ..codes import recode

        grids = recode(previous, built.grids, households=bldg, rules=rules).plan
    else:
        grids = assign_codes(built.grids, communities=comm, rules=rules)
    context = {"communities": comm, "roads": road, "buildings": bldg}
    context.update({k: v for k, v in (("rivers", rivers), ("special_sites", sites),
                                      ("district", optional("district"))) if v is not None})
    # an existing versions file gains a version; the inputs it was built from are kept beside it
    version = save_version(grids, out, author=author, note=note, context=context,
                           replace_context=True)
    from ..people import build_report_for_people

    gio.write_table(build_report_for_people(built.report), report_path)
    basic = grids[grids[KIND] == BASIC]
    say(tr("{n_grids} grids ({n_basic} basic) in {nunique} communities; households per basic "
           "grid {min}–{max}",
           n_grids=len(grids), n_basic=len(basic), nunique=grids['community_code'].nunique(), min=int(basic['households'].min()), max=int(basic['households'].max())))
    say(tr("wrote {out} (version {version}) and {report_path} ({n_report} report rows)",
           out=out, version=version, report_path=report_path, n_report=len(built.report)))
    bad = grids["flag"].astype(str).str.contains("out_of_range").any()
    return EXIT_VIOLATIONS if bad else EXIT_OK


def validate_cmd(
    plan: Annotated[str, typer.Argument(help="Grid plan (GeoPackage, shapefile …).")],
    layer: PlanLayer = None,
    parents: Parents = None,
    parents_layer: ParentsLayer = None,
    buildings: Buildings = None,
    buildings_layer: BuildingsLayer = None,
    addresses: Addresses = None,
    addresses_layer: AddressesLayer = None,
    rules: Rules = None,
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
    from ..render.validation_page import write_validation_page
    from ..validation import validate
    from ..workflows.readers import read_validation_inputs

    check_outputs((html, "--html"), (json_out, "--json"), (gpkg, "--gpkg"),
             inputs=(plan, parents, buildings, addresses, rules))
    with cli_options(**INPUT_OPTIONS):
        layers = read_validation_inputs(
            plan, layer=layer, parents=parents, parents_layer=parents_layer, buildings=buildings,
            buildings_layer=buildings_layer, addresses=addresses, addresses_layer=addresses_layer)
    from ..rules import load_rules

    rules_used = load_rules(rules)
    report = validate(**layers, rules=rules_used, scheme=rules_used.codes)
    if not State.quiet:
        print_findings(report)
    if html:
        say(tr("wrote {path}", path=write_validation_page(report, html)))
    if json_out:
        report.to_json(json_out)
        say(tr("wrote {path}", path=json_out))
    if gpkg:
        from .. import io as gio

        # an existing GeoPackage keeps its other layers; only 'findings' is replaced
        gio.write_gpkg({"findings": report.to_geodataframe()}, gpkg, mode="a")
        say(tr("wrote layer 'findings' of {gpkg}", gpkg=gpkg))
    if report.has_errors or (strict and report.findings):
        raise typer.Exit(EXIT_VIOLATIONS)


def repair_cmd(
    plan: Annotated[str, typer.Argument(help="Grid plan (GeoPackage, shapefile …).")],
    out: Annotated[str, typer.Option("--out", "-o", help="Repaired plan: a new .gpkg or one whose "
                                                         "layers 'grids' and 'changes' are replaced "
                                                         "(others kept), a plan versions file (gains "
                                                         "a version), or a postgresql:// URL.")]
    = "plan_repaired.gpkg",
    layer: PlanLayer = None,
    parents: Parents = None,
    parents_layer: ParentsLayer = None,
    buildings: Buildings = None,
    buildings_layer: BuildingsLayer = None,
    rules: Rules = None,
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
    from ..postgis import write_layers
    from ..render.validation_page import write_validation_page
    from ..repairs import repair
    from ..versions import is_versions_file, save_version
    from ..workflows.readers import read_validation_inputs

    if in_place:
        if not is_versions_file(plan):
            raise GridGISError(_("--in-place needs a plan versions GeoPackage (it gains a "
                                 "version)"),
                               source=plan, fix=_("give --out a new file instead"))
        out = plan
    else:
        check_outputs((out, "--out"), inputs=(plan, parents, buildings, rules))
    check_outputs((html, "--html"), inputs=(plan, parents, buildings, rules))
    with cli_options(**INPUT_OPTIONS):
        layers = read_validation_inputs(
            plan, layer=layer, parents=parents, parents_layer=parents_layer, buildings=buildings,
            buildings_layer=buildings_layer)
    res = repair(layers["grids"], layers["parents"], layers["buildings"], rules=rules)
    if is_versions_file(out):
        version = save_version(res.plan, out, author=author, note=note,
                               context={"changes": res.log_frame()}, replace_context=True)
        say(res.summary(more=_("--html lists them all")))
        say(tr("wrote {out} (version {version})", out=out, version=version))
    else:
        write_layers({"grids": res.plan, "changes": res.log_frame()}, out)
        say(res.summary(more=_("--html lists them all")))
        say(tr("wrote layers 'grids' and 'changes' of {out}", out=out))
    if html:
        say(tr("wrote {path}", path=write_validation_page(res.report, html)))
    if res.report.has_errors:
        raise typer.Exit(EXIT_VIOLATIONS)
