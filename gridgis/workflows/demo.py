"""The main job on the bundled sample district (``gridgis demo`` / ``make demo``).

build → code → validate → assign addresses and events → event maps → grid maps → GeoPackage.
Progress is reported as ``logging`` messages of this module's logger (INFO).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema
from ..i18n import _, tr
from ..people import for_people, value
from ..plan import community_summary
from ..rules import load_rules
from ..samples import load_sample

__all__ = ["grid_summary", "run_demo", "sample_summary"]

logger = logging.getLogger(__name__)


def sample_summary(layers: dict) -> pd.DataFrame:
    """One row per community: name, kind, households, population, buildings, addresses.

    Examples
    --------
    >>> import gridgis
    >>> from gridgis.workflows import sample_summary
    >>> sample_summary(gridgis.load_sample())["households"].sum()     # doctest: +SKIP
    """
    comm = layers["communities"]
    b = layers["buildings"].groupby(schema.COMMUNITY_CODE).agg(
        households=(schema.HOUSEHOLDS, "sum"),
        population=(schema.POPULATION, "sum"),
        buildings=(schema.BUILDING_ID, "size"),
    )
    a = layers["addresses"].groupby(schema.COMMUNITY_CODE).size().rename("addresses")
    out = comm[[schema.CODE, schema.NAME, schema.AREA_KIND]].set_index(schema.CODE)
    out = out.join(b).join(a).fillna(0)
    return out.astype({"households": int, "population": int, "buildings": int, "addresses": int})


def grid_summary(grids: pd.DataFrame, communities: pd.DataFrame) -> pd.DataFrame:
    """One row per community: grids (basic/special), households min/median/max of basic grids.

    Examples
    --------
    >>> from gridgis.workflows import grid_summary
    >>> grid_summary(grids, layers["communities"])[["basic_grids", "hh_max"]]   # doctest: +SKIP
    """
    table = community_summary(grids, communities)
    columns = {schema.NAME: schema.NAME, schema.AREA_KIND: schema.AREA_KIND,
               "basic": "basic_grids", "special": "special_grids", "households_min": "hh_min",
               "households_median": "hh_median", "households_max": "hh_max"}
    out = table[[c for c in columns if c in table]].rename(columns=columns)
    out.index.name = schema.COMMUNITY_CODE
    return out


@contextmanager
def _step(progress: bool, n: int, total: int, label: str) -> Iterator[None]:
    start = time.perf_counter()
    if progress:
        from rich.console import Console

        with Console(stderr=True).status(f"[{n}/{total}] {label}…"):
            yield
    else:
        yield
    logger.info("[%d/%d] %s: %.1f s", n, total, label, time.perf_counter() - start)  # s: seconds


def run_demo(
    out: str | Path = "demo_output",
    *,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, Path]:
    """Run the main job on the sample district and write every result into ``out``.

    Parameters
    ----------
    out
        Output folder (created if needed).
    seed
        Random seed of the grid builder and of the hot-spot permutations.
    progress
        Show a spinner per step on stderr (the library default is quiet; step timings and a
        closing summary go to this module's logger at INFO level either way).

    Returns
    -------
    dict
        Output name → written path: ``plan``, ``validation_html``, ``validation_json``,
        ``grid_summary``, ``grid_map_25d_png``/``_svg``, ``map_html``, ``map_25d_html`` and
        ``events_<name>`` for the files of :func:`gridgis.workflows.write_event_outputs`.

    Examples
    --------
    >>> from gridgis.workflows import run_demo
    >>> written = run_demo("demo_output")                          # doctest: +SKIP
    >>> written["plan"]                                             # doctest: +SKIP
    PosixPath('demo_output/plan.gpkg')
    """
    from ..assignment import assign
    from ..codes import assign_codes
    from ..io import write_table
    from ..partition import build_grids
    from ..render.validation_page import write_validation_page
    from ..validation import validate
    from ..versions import save_version
    from .event_outputs import write_event_outputs

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    layers = load_sample()
    rules = load_rules()
    written: dict[str, Path] = {}
    summary = sample_summary(layers)
    logger.info("%s", tr(
        "sample district: {streets} streets, {communities} communities, {households} households, "
        "{addresses} addresses, {events} events", streets=len(layers["streets"]),
        communities=len(summary), households=int(summary["households"].sum()),
        addresses=len(layers["addresses"]), events=len(layers["events"])))
    total = 6
    comm = layers["communities"]
    with _step(progress, 1, total, _("building grids")):
        built = build_grids(
            comm, layers["roads"], layers["buildings"], rules=rules,
            special_sites=layers["special_sites"], rivers=layers["rivers"], seed=seed,
        )
    with _step(progress, 2, total, _("coding and validating")):
        grids = assign_codes(built.grids, communities=comm)
        report = validate(grids, parents=comm, buildings=layers["buildings"],
                          addresses=layers["addresses"], rules=rules)
        written["validation_html"] = write_validation_page(report, out / "validation.html")
        written["validation_json"] = out / "validation.json"
        report.to_json(written["validation_json"])
    with _step(progress, 3, total, _("assigning addresses and events")):
        addresses = assign(layers["addresses"], grids, rules=rules)
        events = assign(layers["events"], grids, rules=rules)
    with _step(progress, 4, total, _("event statistics, heatmap and hot spots")):
        event_files = write_event_outputs(
            events.table, grids, out / "events", district=layers["district"],
            communities=comm, planted=layers["hotspots"], rules=rules, seed=seed,
        )
        written.update({f"events_{k}": v for k, v in event_files.items()})
    with _step(progress, 5, total, _("grid maps")):
        written.update(_grid_maps(grids, layers, out))
        written.update(_web_maps(grids, layers, report, events.table, out))
    with _step(progress, 6, total, _("writing the plan GeoPackage")):
        plan_path = out / "plan.gpkg"
        context = {k: layers[k] for k in ("district", "streets", "communities", "roads", "rivers",
                                          "buildings", "special_sites")}
        context["addresses"] = addresses.table
        context["findings"] = report.to_geodataframe()
        save_version(grids, plan_path, author="gridgis demo", note=_("sample district, first build"),
                     context=context, replace_context=True)
        written["plan"] = plan_path
        table = grid_summary(grids, comm)
        written["grid_summary"] = out / "grid_summary.csv"
        write_table(for_people(table.reset_index()), written["grid_summary"])
    logger.info("%s", _closing(built.stats, grids, report, addresses.status_counts))
    return written


def _grid_maps(grids: Any, layers: dict, out: Path) -> dict[str, Path]:
    """The 2.5D report map (PNG at 300 dpi, and SVG) of the built plan."""
    from ..render import grid_map_25d

    name = layers["district"][schema.NAME].iloc[0]
    written = {}
    for suffix in ("png", "svg"):
        path = out / f"grid_map_25d.{suffix}"
        grid_map_25d(grids, buildings=layers["buildings"], height=schema.HOUSEHOLDS,
                     color=schema.COMMUNITY_CODE, labels="code", title=tr("{name} 2.5D grid map", name=name),
                     out=path)
        written[f"grid_map_25d_{suffix}"] = path
    return written


def _web_maps(grids: Any, layers: dict, report: Any, events: Any, out: Path) -> dict[str, Path]:
    """Offline interactive maps: the plan with findings and events, and the deck.gl 2.5D view."""
    from ..render.deck import deck_map_25d
    from ..render.web import interactive_map

    name = layers["district"][schema.NAME].iloc[0]
    path = out / "map.html"
    interactive_map(grids, roads=layers["roads"], rivers=layers["rivers"],
                    communities=layers["communities"], findings=report,
                    points={_("Events"): events}, title=tr("{name} grid plan", name=name), out=path)
    path_25d = out / "map_25d.html"
    deck_map_25d(grids, buildings=layers["buildings"], roads=layers["roads"], rivers=layers["rivers"],
                 title=tr("{name} 2.5D grid map", name=name), out=path_25d)
    return {"map_html": path, "map_25d_html": path_25d}


def _closing(stats: dict, grids: Any, report: Any, status: pd.Series) -> str:
    basic = grids[grids[schema.KIND] == schema.BASIC]
    return tr(
        "{n} grids ({basic} basic, {special} special); basic households {min}–{max}; "
        "validation: {errors} errors, {warnings} warnings; addresses: {addresses}",
        n=len(grids), basic=len(basic), special=len(grids) - len(basic),
        min=int(basic[schema.HOUSEHOLDS].min()), max=int(basic[schema.HOUSEHOLDS].max()),
        errors=len(report.errors), warnings=len(report.warnings),
        addresses=", ".join(f"{value(schema.MATCH, k)} {int(v)}" for k, v in status.items() if v))
