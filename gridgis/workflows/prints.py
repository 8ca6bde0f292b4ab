"""Jobs behind ``gridgis summary``, ``gridgis atlas`` and ``gridgis notice``: read a plan with
the layers stored beside it, roll it up to a level, draw the atlas or the notice boards.

>>> table = level_table("demo_output/plan.gpkg", "street")             # doctest: +SKIP
>>> write_plan_atlas("demo_output/plan.gpkg", "atlas.pdf", by="community")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .. import schema
from ..i18n import N_, _, tr
from .readers import read_plan

__all__ = ["LEVEL_TABLE_TITLES", "SUMMARY_TITLES", "default_maker", "level_table", "level_tables", "plan_layers", "write_plan_atlas",
           "write_plan_notices"]

logger = logging.getLogger(__name__)

#: Column titles of the roll-up tables for people (English message ids, shown through the
#: catalogue: Chinese by default).
SUMMARY_TITLES = {
    "grid": N_("Grid"), "community": N_("Community (village)"),
    "street": N_("Street (township)"), "district": N_("District (county)"),
    "name": N_("Name"), "parent": N_("Parent code"), "children": N_("Units below"),
    "grids": N_("Number of grids"), "basic": N_("Basic grids"), "special": N_("Special grids"),
    "households": N_("Households"), "population": N_("Population"), "errors": N_("Errors"),
    "warnings": N_("Warnings"), "size_findings": N_("Size findings"),
    "addresses": N_("Addresses"), "events": N_("Number of events"), "events_due": N_("Events due"),
    "events_on_time": N_("Closed on time"), "on_time_share": N_("On-time share"),
}

#: Titles of the report's roll-up tables.
LEVEL_TABLE_TITLES = {"district": N_("District total"), "street": N_("By street (township)"),
                      "community": N_("By community (village)")}


def plan_layers(plan: Any, layer: str | None = None) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The plan of a file and the context layers stored beside it (district, streets,
    communities, roads, rivers, buildings, addresses).

    Examples
    --------
    >>> grids, layers = plan_layers("demo_output/plan.gpkg")      # doctest: +SKIP
    >>> sorted(layers)[:3]                                        # doctest: +SKIP
    ['addresses', 'buildings', 'communities']
    """
    from ..versions import plan_context

    grids = read_plan(plan, layer)
    return grids, plan_context(plan) if layer is None else {}


def default_maker(layers: dict[str, Any]) -> str:
    """制图单位 when none is given: the district's grid management centre.

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("zh"):
    ...     default_maker({})
    '网格化服务管理中心'
    """
    district = layers.get("district")
    name = str(district[schema.NAME].iloc[0]) if district is not None and len(district) \
        and schema.NAME in district else ""
    return tr("{district} grid management centre", district=name)


def level_table(plan: Any, by: str = "street", *, layer: str | None = None,
                events: gpd.GeoDataFrame | None = None, validate_plan: bool = True,
                rules: Any = None, titles: bool = False) -> pd.DataFrame:
    """Roll-up of a plan file to one level (:func:`gridgis.plan.level_summary`): names and
    streets from the stored layers, addresses stored beside the plan, findings of a validation
    run against them (``validate_plan``), events when given (assigned to the grids here).

    ``titles=True`` gives column titles for people (:data:`SUMMARY_TITLES`, Chinese by
    default).

    Examples
    --------
    >>> level_table("demo_output/plan.gpkg", "street", titles=True).columns[0]  # doctest: +SKIP
    '名称'
    """
    from ..assignment import assign
    from ..plan import level_summary

    grids, layers = plan_layers(plan, layer)
    findings = None
    if validate_plan:
        from ..validation import validate

        report = validate(grids, parents=layers.get("communities"),
                          buildings=layers.get("buildings"), rules=rules)
        findings = report.findings
    addresses = layers.get("addresses")
    if addresses is not None and schema.GRID_CODE not in addresses:
        addresses = assign(addresses, grids, rules=rules).table
    if events is not None and schema.GRID_CODE not in events:
        events = assign(events, grids, rules=rules).table
    table = level_summary(grids, by, layers=layers, findings=findings, addresses=addresses,
                          events=events, rules=rules)
    if events is None:
        table = table.drop(columns=["events", "events_due", "events_on_time", "on_time_share"])
    if titles:
        if "on_time_share" in table:
            table["on_time_share"] = table["on_time_share"].round(3)
        table = table.rename(columns=_title)
        table.index.name = _(SUMMARY_TITLES.get(by, by))
    return table


def level_tables(grids: pd.DataFrame, layers: dict[str, Any], *, findings: Any = None,
                 addresses: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Roll-up tables with Chinese titles for the district, its streets and its communities
    (the report's table per level); a level whose layer is missing is left out (the
    community level is always there).

    Examples
    --------
    >>> tables = level_tables(grids, {"streets": streets, "communities": communities})  # doctest: +SKIP
    >>> list(tables)                                                               # doctest: +SKIP
    ['street', 'community']
    """
    from ..plan import level_summary

    if addresses is not None and schema.GRID_CODE not in addresses:
        addresses = None
    layers = {k: v for k, v in layers.items() if v is not None}
    out = {}
    for by, key in (("district", "district"), ("street", "streets"), ("community", "communities")):
        if by != "community" and key not in layers:
            continue
        table = level_summary(grids, by, layers=layers, findings=findings, addresses=addresses)
        drop = ["parent", "events", "events_due", "events_on_time", "on_time_share",
                *(c for c in table.columns if c.startswith("kind:"))]
        table = table.drop(columns=drop + ([] if addresses is not None else ["addresses"]))
        table = table.rename(columns=_title)
        table.index.name = _(SUMMARY_TITLES[by])
        out[by] = table
    return out


def _title(column: str) -> str:
    if column.startswith("kind:"):
        from ..render.colors import kind_names

        kind = column.split(":", 1)[1]
        return kind_names().get(kind, kind)
    return _(SUMMARY_TITLES[column]) if column in SUMMARY_TITLES else column


def write_plan_atlas(plan: Any, out: str | Path, *, layer: str | None = None,
                     maker: str | None = None, **options: Any) -> Path:
    """The atlas PDF of a plan file (:func:`gridgis.render.atlas.write_atlas`), with the
    layers stored beside the plan. Returns the path.

    Examples
    --------
    >>> write_plan_atlas("demo_output/plan.gpkg", "atlas.pdf", paper="A3")  # doctest: +SKIP
    """
    from ..render.atlas import write_atlas

    grids, layers = plan_layers(plan, layer)
    maker = maker or default_maker(layers)
    return write_atlas(grids, layers, out, maker=maker, **options)


def write_plan_notices(plan: Any, out: str | Path, *, layer: str | None = None,
                       workers: pd.DataFrame | None = None, maker: str | None = None,
                       **options: Any) -> Path:
    """The notice boards PDF of a plan file (:func:`gridgis.render.notice.write_notice_boards`).

    Examples
    --------
    >>> write_plan_notices("demo_output/plan.gpkg", "公示牌.pdf")     # doctest: +SKIP
    """
    from ..render.notice import write_notice_boards

    grids, layers = plan_layers(plan, layer)
    maker = maker or default_maker(layers)
    return write_notice_boards(grids, layers, out, workers=workers, maker=maker, **options)
