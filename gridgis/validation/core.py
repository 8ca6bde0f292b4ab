"""The validator's entry point: :func:`validate` runs every check on a plan."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._inputs import as_layer
from .._inputs import metric as metric_layer
from ..codes import load_scheme
from ..i18n import _
from ..rules import Rules, load_rules
from ..schema import BASIC
from ._threads import threads
from .codes import check_codes
from .compounds import check_compounds
from .coverage import check_gaps, check_overlaps
from .items import check_addresses, check_buildings
from .nesting import check_nesting
from .prepare import PreparedPlan, grid_kinds, prepare_grids, prepare_parents
from .report import ValidationReport, sort_findings
from .shape import check_shape
from .sizes import check_sizes

__all__ = ["validate", "item_layer"]


def item_layer(layer: Any, name: str, mcrs: Any) -> gpd.GeoDataFrame | None:
    """Buildings or addresses checked, with canonical columns, in the metric CRS ``mcrs``.

    ``addresses`` may also be a table with WGS84 lon/lat columns. ``None`` gives ``None``.

    >>> b = item_layer(buildings, "buildings", plan_crs)  # doctest: +SKIP
    """
    if layer is None:
        return None
    gdf = as_layer(layer, name, geometry=None, missing="keep", allow_empty=True,
                   lonlat=name == "addresses")
    return metric_layer(gdf, mcrs).reset_index(drop=True)


def _hierarchy(levels: Any, parents: Any, grids: Any, rules: Rules, scheme: Any) -> list:
    """Findings of the levels above the grids (grids in communities are checked by validate)."""
    from .hierarchy import Level, admin_levels, check_hierarchy, level_digits

    if isinstance(levels, dict):
        digits = level_digits(scheme)
        levels = [Level(name, layer, digits.get(name)) for name, layer in levels.items()
                  if layer is not None]
    chain = [*levels, *admin_levels(communities=parents, grids=grids, scheme=scheme)]
    return check_hierarchy(chain, rules=rules, scheme=scheme, checked=(("community", "grid"),))


def _coverage_checks(plan: PreparedPlan, parents: Any, tol: Any) -> list:
    """Overlaps, then gaps (which reuse the overlapping pairs)."""
    return check_overlaps(plan, tol) + check_gaps(plan, parents, tol)


def _shape_checks(plan: PreparedPlan, parents: Any, tol: Any) -> list:
    """Shapes, then nesting in the communities when there are any."""
    out = check_shape(plan, tol)
    return out + check_nesting(plan, parents, tol) if parents is not None else out


def _own_geometries(plan: PreparedPlan, parents: Any) -> tuple[PreparedPlan, Any]:
    """The plan and the parents with geometries of their own, for a second thread: GEOS
    objects (prepared ones build their indexes on first use) are never shared between the
    threads (two threads reading the same communities crashed in GEOS)."""
    def copied(geoms: np.ndarray) -> np.ndarray:
        return shapely.from_wkb(shapely.to_wkb(geoms))

    own = dataclasses.replace(plan, geom=copied(plan.geom), _pairs=None)
    if parents is None:
        return own, None
    g = copied(np.asarray(parents.geometry.array, dtype=object))
    shapely.prepare(g)
    return own, parents.set_geometry(gpd.GeoSeries(g, crs=parents.crs))


def validate(
    grids: gpd.GeoDataFrame,
    parents: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    addresses: gpd.GeoDataFrame | pd.DataFrame | None = None,
    rules: Rules | dict | str | None = None,
    *,
    scheme: Any = None,
    levels: Any = None,
) -> ValidationReport:
    """Check a grid plan and explain every problem found.

    Parameters
    ----------
    grids
        The plan: ``grid_code``, ``community_code`` (else taken from the code prefix), ``kind``,
        ``households``, ``population``, ``flag`` and polygon geometry, with a CRS. Chinese or
        other known headers are accepted (:func:`gridgis.schema.normalize_columns`).
    parents
        Communities (``code``, ``area_kind``, polygons). Enables the gap-against-boundary,
        crossing and nesting checks and picks the size profile of each grid (urban/rural).
    buildings
        Buildings (``building_id``, ``households``, ``population``, polygons or points): each
        must fall in exactly one grid; used to count households when a grid has no value.
    addresses
        Address points (GeoDataFrame, or a table with WGS84 ``lon``/``lat``): each must fall in
        exactly one grid.
    rules
        Rules file path, mapping or :class:`~gridgis.rules.Rules` (defaults when ``None``).
    scheme
        Grid-code scheme (:class:`gridgis.codes.CodeScheme`, mapping or TOML path); default
        the ``[codes]`` section of ``rules`` (:func:`gridgis.codes.load_scheme`), itself by
        default 15 digits = 12-digit community code + 3-digit serial, basic 001–899, special
        900–999.
    levels
        Administrative levels above the communities, top down: a mapping such as
        ``{"district": district, "street": streets}`` (layers with ``code``/``parent_code``) or
        :class:`~gridgis.validation.hierarchy.Level` objects. Every level is checked to nest
        in the one above it, and grids in their street (:mod:`gridgis.validation.hierarchy`).

    Returns
    -------
    ValidationReport
        ``report.ok`` is False when any error was found; see
        :mod:`gridgis.validation.report`.

    Raises
    ------
    SchemaError, CRSError, GeometryError
        When a layer is not a GeoDataFrame, has no CRS, lacks required columns, or the plan has
        no geometry at all.

    Examples
    --------
    >>> report = validate(plan, parents=communities, buildings=buildings)  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
    >>> from gridgis.render.validation_page import write_validation_page  # doctest: +SKIP
    >>> write_validation_page(report, "validation.html")  # doctest: +SKIP
    """
    rules = load_rules(rules)
    scheme = load_scheme(scheme, rules=rules)
    tol = rules.tolerances
    plan, findings, mcrs = prepare_grids(grids, scheme=scheme)
    skipped: dict[str, str] = {}
    p = prepare_parents(parents, mcrs) if parents is not None else None
    b = item_layer(buildings, "buildings", mcrs)
    a = item_layer(addresses, "addresses", mcrs)

    # the geometry checks run beside the table checks below (shapely leaves the GIL to them)
    pool = ThreadPoolExecutor(2) if threads() > 1 and len(plan.uidx) else None
    geometry = [_coverage_checks, _shape_checks] if len(plan.uidx) else []
    inputs = [(plan, p), _own_geometries(plan, p) if pool else (plan, p)][:len(geometry)]
    futures = [pool.submit(f, *args, tol) if pool else f for f, args in zip(geometry, inputs,
                                                                          strict=True)]
    if p is None:
        skipped["parents"] = _("no parent layer: gaps against the community boundary, "
                               "crossings and nesting not checked")
    rest: list = []
    building_grid = None
    if b is not None:
        bf, building_grid = check_buildings(plan, b)
        rest += bf + check_compounds(plan, b, building_grid, rules)
    else:
        skipped["buildings"] = _("no buildings given")
    if a is not None:
        rest += check_addresses(plan, a)
    else:
        skipped["addresses"] = _("no addresses given")
    rest += check_sizes(plan, p, rules, building_grid, b, skipped)
    rest += check_codes(plan, scheme, schema.COMMUNITY_CODE in plan.gdf,
                             grid_kinds(plan.gdf),
                             {BASIC, *(k.lower() for k in rules.special.kinds)})

    for f in futures:
        findings += f.result() if pool else f(plan, p, tol)
    if pool:
        pool.shutdown()
    findings += rest
    if levels:
        findings += _hierarchy(levels, parents, plan.gdf, rules, scheme)

    shown = plan.gdf[[c for c in (schema.GRID_CODE, schema.COMMUNITY_CODE, schema.KIND)
                      if c in plan.gdf]].copy()
    shown[schema.GRID_CODE] = plan.labels
    shown = gpd.GeoDataFrame(shown, geometry=gpd.GeoSeries(plan.geom, crs=mcrs))
    return ValidationReport(
        findings=sort_findings(findings), crs=grids.crs, metric_crs=mcrs, grids=shown,
        parents=p, rules=rules, n_grids=len(plan.gdf), skipped=skipped,
    )
