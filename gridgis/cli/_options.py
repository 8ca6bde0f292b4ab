"""Options shared by several verbs, and how the library's keywords are spelled on the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..workflows.readers import POINT_OPTIONS

__all__ = [
    "Addresses",
    "AddressesLayer",
    "Buildings",
    "BuildingsLayer",
    "HeaderRow",
    "INPUT_OPTIONS",
    "Lat",
    "Lon",
    "POINT_OPTIONS",
    "Parents",
    "ParentsLayer",
    "PlanLayer",
    "PointsLayer",
    "Rules",
]

PointsLayer = Annotated[str | None, typer.Option(
    "--layer", help="Layer (vector file) or sheet (Excel) of the points; default: the only point "
                    "layer, or the sheet with coordinates.")]
Lon = Annotated[str | None, typer.Option(help="Longitude (or x) column, when its header is not "
                                               "recognised (经度, lon, lng, x …).")]
Lat = Annotated[str | None, typer.Option(help="Latitude (or y) column (纬度, lat, y …).")]
HeaderRow = Annotated[int | None, typer.Option(min=1, help="Row number (1 = first) of the header in "
                                                            "a CSV or Excel sheet; default: found under "
                                                            "any title rows.")]
# how the plan readers' Python keywords are spelled on validate and repair
INPUT_OPTIONS = {"layer": "--layer", "parents_layer": "--parents-layer",
                  "buildings_layer": "--buildings-layer", "addresses_layer": "--addresses-layer"}

PlanLayer = Annotated[str | None, typer.Option("--layer", help="Layer of PLAN (default: 'grids' if present).")]
Parents = Annotated[str | None, typer.Option(help="Communities (code, area_kind, polygons).")]
ParentsLayer = Annotated[str | None, typer.Option(help="Layer of --parents.")]
Buildings = Annotated[str | None, typer.Option(help="Buildings (households, population).")]
BuildingsLayer = Annotated[str | None, typer.Option(help="Layer of --buildings.")]
Addresses = Annotated[str | None, typer.Option(help="Address points, or a table with lon/lat.")]
AddressesLayer = Annotated[str | None, typer.Option(help="Layer of --addresses.")]
Rules = Annotated[Path | None, typer.Option(help="Rules TOML (profiles, \\[tolerances], \\[codes]).")]
