"""Readers that turn the files named on the command line into checked layers.

Each reader names, in its errors, the option that fixes the problem (``--grids-layer``,
``--lon`` …) through :func:`gridgis.errors.cli_options`, so the CLI's messages speak in its own
options while the library's speak in keywords.

>>> from gridgis.samples import SAMPLE_GPKG
>>> read_layer(SAMPLE_GPKG, "communities", "--parents-layer", geometry="polygon").shape[0] > 0
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd

from .. import io as gio
from ..errors import cli_options

__all__ = [
    "POINT_OPTIONS",
    "read_events",
    "read_layer",
    "read_plan",
    "read_previous_plan",
    "read_validation_inputs",
]

# how the point readers' Python keywords are spelled on the verbs that read points
POINT_OPTIONS = {"layer": "--layer", "sheet": "--layer", "lon": "--lon", "lat": "--lat",
                 "crs": "--crs", "header_row": "--header-row"}


def read_plan(source: object, layer: str | None = None, *,
              layer_option: str = "--layer") -> gpd.GeoDataFrame:
    """The plan of a file as every verb reads it (see :func:`gridgis.versions.read_plan`).

    Examples
    --------
    >>> plan = read_plan("demo_output/plan.gpkg", layer_option="--grids-layer")  # doctest: +SKIP
    """
    from ..versions import read_plan as read_plan_file

    with cli_options(layer=layer_option):
        return read_plan_file(source, layer)


def read_layer(source: Any, layer: str | None, layer_option: str, **kwargs: Any) -> gpd.GeoDataFrame:
    """A vector layer of a file named on the command line; fixes name ``layer_option``."""
    with cli_options(layer=layer_option):
        return gio.read_vector(source, layer=layer, **kwargs)


def read_events(source: Any, *, crs: str, layer: str | None, lon: str | None, lat: str | None,
                header_row: int | None, crs_option: str, layer_option: str = "") -> gpd.GeoDataFrame:
    """Events as ``heatmap`` and ``report`` read them (sheet or layer, columns, header row);
    fixes name ``layer_option`` for the layer or sheet (none when the verb has no such option)."""
    from ..events import load

    excel = str(source).lower().endswith((".xlsx", ".xlsm", ".xls"))
    with cli_options(**{**POINT_OPTIONS, "crs": crs_option, "layer": layer_option,
                        "sheet": layer_option}):
        return load(source, crs=crs, sheet=layer if excel else None, layer=None if excel else layer,
                    lon=lon, lat=lat, header_row=header_row)


def read_previous_plan(path: Path | str, layer: str | None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """A previous plan and the codes it ever used: a plan versions GeoPackage gives its latest
    version and the codes of all its versions (never reused); another file its layer and ``[]``."""
    from ..versions import is_versions_file, known_codes

    return (read_plan(path, layer, layer_option="--old-layer"),
            known_codes(path) if layer is None and is_versions_file(path) else [])


def read_validation_inputs(
    plan: Any,
    *,
    layer: str | None = None,
    parents: Any = None,
    parents_layer: str | None = None,
    buildings: Any = None,
    buildings_layer: str | None = None,
    addresses: Any = None,
    addresses_layer: str | None = None,
    addresses_crs: str = "EPSG:4326",
) -> dict[str, Any]:
    """Read the files of a validation/repair run into the keyword arguments of
    :func:`gridgis.validate` (and of :func:`gridgis.repair`).

    ``addresses`` may be a point layer or a table with lon/lat columns (经度/纬度 …) in
    ``addresses_crs`` (an EPSG code, ``GCJ02`` or ``BD09``). Inputs not given are taken from
    layers stored beside the plan in its GeoPackage (``communities``, ``buildings``,
    ``addresses``), when present. The plan's ``district`` and ``streets`` layers, when stored
    beside it, become ``levels`` (validate checks that every level nests in the one above).

    Examples
    --------
    >>> layers = read_validation_inputs('plan.gpkg', parents='district.gpkg',  # doctest: +SKIP
    ...                                 parents_layer='communities')
    >>> report = validate(**layers)  # doctest: +SKIP
    """
    from ..errors import input_role
    from ..versions import plan_context
    from ..versions import read_plan as read_plan_file

    out: dict[str, Any] = {"grids": read_plan_file(plan, layer)}
    context = plan_context(plan) if layer is None else {}
    with input_role("parents"):
        out["parents"] = (gio.read_vector(parents, layer=parents_layer, geometry="polygon")
                          if parents is not None else context.get("communities"))
    with input_role("buildings"):
        out["buildings"] = (gio.read_vector(buildings, layer=buildings_layer)
                            if buildings is not None else context.get("buildings"))
    with input_role("addresses"):
        out["addresses"] = (gio.read_points(addresses, crs=addresses_crs, layer=addresses_layer)
                            if addresses is not None else context.get("addresses"))
    out["levels"] = {name: context[key] for name, key in (("district", "district"),
                                                          ("street", "streets")) if key in context}
    return out
