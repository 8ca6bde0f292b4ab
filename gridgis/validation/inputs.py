"""Files of a validation or repair run read into the arguments of :func:`~gridgis.validation.validate`."""

from __future__ import annotations

from typing import Any

from ..versions import plan_context, read_plan

__all__ = ['read_inputs']


def read_inputs(
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
    """Read the files of a validation/repair run into the keyword arguments of :func:`validate`.

    ``addresses`` may be a point layer or a table with lon/lat columns (经度/纬度 …) in
    ``addresses_crs`` (an EPSG code, ``GCJ02`` or ``BD09``). Inputs not given are taken from
    layers stored beside the plan in its GeoPackage (``communities``, ``buildings``,
    ``addresses``), when present.

    Examples
    --------
    >>> layers = read_inputs('plan.gpkg', parents='district.gpkg',  # doctest: +SKIP
    ...                      parents_layer='communities')
    >>> report = validate(**layers)  # doctest: +SKIP
    """
    from .. import io as gio
    from ..errors import input_role

    out: dict[str, Any] = {"grids": read_plan(plan, layer)}
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
    return out
