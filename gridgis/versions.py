"""Plan versions kept in one GeoPackage, and the diff between two plans.

A versions file is an ordinary GeoPackage that QGIS opens as it is:

* one spatial layer per saved version, ``plan_v0001``, ``plan_v0002`` … (the plan as saved,
  every column kept);
* an attribute table ``plan_versions`` with one row per version: ``version, layer, saved_at``
  (ISO 8601, UTC), ``author, note, grids, households, population, crs`` and ``crosswalk``
  (the name of the crosswalk layer saved with the version, or "");
* optional attribute tables ``crosswalk_v0002`` … holding the crosswalk of a re-coding
  (:func:`gridgis.codes.recode`) that produced the version.

Versions are numbered 1, 2, 3 …; they are only ever added. :func:`known_codes` lists every code a
file has held, which is what :func:`gridgis.codes.recode` needs to never reuse a code::

    save_version(plan_2023, "plans.gpkg", author="王芳", note="2023 年初版")
    res = recode(load_version("plans.gpkg"), plan_2024, households=buildings,
                 retired=known_codes("plans.gpkg"))
    save_version(res.plan, "plans.gpkg", author="王芳", note="2024 调整", crosswalk=res.crosswalk)
    diff(load_version("plans.gpkg", 1), load_version("plans.gpkg", 2))
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from . import schema
from ._geometry import single_parts
from ._inputs import as_layer, metric
from .errors import InputFileError, SchemaError
from .i18n import tr

__all__ = [
    "META_LAYER",
    "save_version",
    "list_versions",
    "load_version",
    "load_crosswalk",
    "known_codes",
    "diff",
    "diff_versions",
]

META_LAYER = "plan_versions"
META_COLUMNS = ("version", "layer", "saved_at", "author", "note", "grids", "households",
                "population", "crs", "crosswalk")
_DIFF_ATTRS = (schema.COMMUNITY_CODE, schema.KIND, schema.GRID_NAME, schema.FLAG)


def _layer(version: int) -> str:
    return f"plan_v{version:04d}"


def _crosswalk_layer(version: int) -> str:
    return f"crosswalk_v{version:04d}"


def _codes(plan: gpd.GeoDataFrame, what: str) -> pd.Series:
    from .codes._plans import code_series as _code_series

    as_layer(plan, what, geometry=None, require_crs=False, missing="keep", allow_empty=True,
             normalize=False)
    if schema.GRID_CODE not in plan.columns:
        raise SchemaError(tr("plan has no grid_code column"), source=what,
                          fix=tr("code it first with gridgis.codes.assign_codes or recode"))
    codes = _code_series(plan[schema.GRID_CODE], plan.index)
    missing = codes.isna().to_numpy()
    if missing.any():
        raise SchemaError(tr("{sum} grid(s) have no code", sum=int(missing.sum())), source=what,
                          where=tr("rows {rows}", rows=list(plan.index[missing][:10])))
    dup = codes.duplicated(keep=False).to_numpy()
    if dup.any():
        raise SchemaError(tr("duplicate codes {sorted}", sorted=sorted(set(codes[dup]))[:5]), source=what,
                          where=tr("rows {rows}", rows=list(plan.index[dup][:10])))
    return codes


def _read_meta(path: Path, *, must_exist: bool = True) -> pd.DataFrame:
    if not path.exists():
        if must_exist:
            raise InputFileError(tr("versions file not found"), source=path,
                                 fix=tr("save a first version with "
                                        "gridgis.versions.save_version"))
        return pd.DataFrame(columns=list(META_COLUMNS))
    try:
        layers = {str(name) for name, _ in pyogrio.list_layers(path)}
    except Exception as exc:
        raise InputFileError(tr("not a readable GeoPackage ({exc})", exc=exc), source=path) from None
    if META_LAYER not in layers:
        raise InputFileError(tr("no {META_LAYER!r} table: not a plan versions file",
                                META_LAYER=META_LAYER), source=path,
                             fix=tr("use a new file, or one written by save_version"))
    meta = pd.DataFrame(pyogrio.read_dataframe(path, layer=META_LAYER, read_geometry=False))
    meta = meta.reindex(columns=list(META_COLUMNS))
    meta["version"] = meta["version"].astype(np.int64)
    for col in ("layer", "saved_at", "author", "note", "crs", "crosswalk"):
        meta[col] = meta[col].astype(object).where(meta[col].notna(), "")
    return meta.sort_values("version").reset_index(drop=True)


def _total(plan: pd.DataFrame, column: str) -> float:
    if column not in plan.columns:
        return float("nan")
    return float(pd.to_numeric(plan[column], errors="coerce").sum())


def save_version(plan: gpd.GeoDataFrame, path: str | Path, *, author: str = "", note: str = "",
                 crosswalk: pd.DataFrame | None = None, saved_at: datetime | str | None = None,
                 context: Mapping[str, pd.DataFrame] | None = None, replace_context: bool = False,
                 ) -> int:
    """Append ``plan`` as a new version to the GeoPackage ``path`` (created when missing).

    Earlier versions are never touched: the file gains ``plan_vNNNN`` and one row of
    ``plan_versions``. The whole append (version, metadata, crosswalk and context layers) is
    one atomic replacement of the file: a crash leaves the file as it was before.

    Parameters
    ----------
    plan
        A coded plan (unique, non-empty ``grid_code``) with a CRS; every column is stored.
    path
        The versions file (``.gpkg``).
    author, note
        Who saved it and why (free text, Chinese welcome).
    crosswalk
        The crosswalk of the re-coding that produced this plan (stored beside it).
    saved_at
        Time stamp (default: now, UTC).
    context
        Layers to keep beside the plan (communities, buildings, roads …, see
        :data:`CONTEXT_LAYERS`), written in the same step.
    replace_context
        Replace context layers the file already has (default: only add missing ones).

    Returns
    -------
    int
        The new version number (1 for the first).

    Raises
    ------
    SchemaError, CRSError
        If codes are missing/duplicated or the plan has no CRS.
    InputFileError
        If ``path`` exists but is not a versions file, or cannot be written.
    """
    from .io import write_gpkg

    path = Path(path)
    codes = _codes(plan, "plan")
    as_layer(plan, "plan", geometry=None, missing="keep", allow_empty=True, normalize=False)
    meta = _read_meta(path, must_exist=False)
    version = int(meta["version"].max()) + 1 if len(meta) else 1
    if saved_at is None:
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    elif isinstance(saved_at, datetime):
        stamp = saved_at.isoformat(timespec="seconds")
    else:
        stamp = str(saved_at)
    frame = plan.copy()
    frame[schema.GRID_CODE] = codes.astype(object)
    layers: dict[str, pd.DataFrame] = {_layer(version): frame}
    cw_layer = ""
    if crosswalk is not None:
        cw_layer = _crosswalk_layer(version)
        layers[cw_layer] = pd.DataFrame(crosswalk)
    authority = plan.crs.to_authority()
    row = pd.DataFrame([{
        "version": version, "layer": _layer(version), "saved_at": stamp,
        "author": str(author), "note": str(note), "grids": len(plan),
        "households": _total(plan, schema.HOUSEHOLDS),
        "population": _total(plan, schema.POPULATION),
        "crs": ":".join(authority) if authority else plan.crs.to_wkt(),
        "crosswalk": cw_layer,
    }])
    frames = [f for f in (meta, row) if len(f)]
    layers[META_LAYER] = pd.concat(frames, ignore_index=True)
    present = set(pyogrio.list_layers(path)[:, 0]) if path.exists() else set()
    for name, layer in (context or {}).items():
        if replace_context or name not in present:
            layers[name] = layer
    write_gpkg(layers, path, mode="a")
    return version


def list_versions(path: str | Path) -> pd.DataFrame:
    """The versions saved in ``path``: ``version, layer, saved_at, author, note, grids,
    households, population, crs, crosswalk`` (oldest first)."""
    return _read_meta(Path(path))


def _resolve(meta: pd.DataFrame, version: int | None, path: Path) -> pd.Series:
    if len(meta) == 0:
        raise InputFileError(tr("versions file holds no version"), source=path)
    if version is None:
        return meta.iloc[-1]
    v = int(version)
    if v < 0:  # -1 = latest, -2 = the one before …
        if -v > len(meta):
            raise InputFileError(tr("only {n_meta} version(s) saved", n_meta=len(meta)), source=path,
                                 where=tr("version {version}", version=version))
        return meta.iloc[v]
    hit = meta[meta["version"] == v]
    if len(hit) == 0:
        raise InputFileError(tr("no version {v}; saved versions: {tolist}",
                                v=v, tolist=meta['version'].tolist()),
                             source=path, where=tr("version {version}", version=version))
    return hit.iloc[0]


def load_version(path: str | Path, version: int | None = None) -> gpd.GeoDataFrame:
    """Load one saved plan (``None``: the latest; negative numbers count back from it).

    The plan comes back as saved: same columns, CRS and codes (single-part multipolygons,
    which GeoPackage layers of mixed type store as multipolygons, become polygons again).
    ``plan.attrs["version"]`` holds the metadata row as a dict.
    """
    path = Path(path)
    meta = _read_meta(path)
    row = _resolve(meta, version, path)
    plan = gpd.read_file(path, layer=row["layer"], engine="pyogrio")
    geoms = single_parts(np.asarray(plan.geometry.array))
    plan = plan.set_geometry(gpd.GeoSeries(geoms, index=plan.index, crs=plan.crs))
    if schema.GRID_CODE in plan.columns:
        plan[schema.GRID_CODE] = plan[schema.GRID_CODE].astype(object)
    plan.attrs[schema.SOURCE_ATTR] = str(path)
    plan.attrs["version"] = {k: (v.item() if hasattr(v, "item") else v)
                             for k, v in row.to_dict().items()}
    return plan


def load_crosswalk(path: str | Path, version: int | None = None) -> pd.DataFrame | None:
    """The crosswalk saved with a version (``None`` when that version has none)."""
    path = Path(path)
    row = _resolve(_read_meta(path), version, path)
    if not row["crosswalk"]:
        return None
    cw = pd.DataFrame(pyogrio.read_dataframe(path, layer=row["crosswalk"], read_geometry=False))
    for col in ("old_code", "new_code", "relation"):
        if col in cw.columns:
            cw[col] = cw[col].astype(object).where(cw[col].notna(), None)
    return cw


def is_versions_file(path: Any) -> bool:
    """True for a GeoPackage written by :func:`save_version` (it has the versions table)."""
    from .io import is_database_url, list_layers

    if is_database_url(path) or not str(path).lower().endswith(".gpkg") or not Path(path).is_file():
        return False
    return META_LAYER in list_layers(path)


def read_plan(path: Any, layer: str | None = None, *, version: int | None = None) -> gpd.GeoDataFrame:
    """Read a plan from any source, as every command does.

    - a plan versions GeoPackage (from :func:`save_version`, ``gridgis demo`` …): its latest
      version (or ``version``), unless ``layer`` names another layer;
    - a GeoPackage with several layers: the layer named ``grids``, ``plan`` or ``网格``;
    - anything else :func:`gridgis.io.read_vector` reads (shapefile, GeoJSON, ``postgresql://``).

    Rows without geometry are kept (validation reports them as empty grids); a layer of points
    or lines is refused, and so are codes stored as numbers that lost digits.
    """
    from . import io as gio

    if layer is None and is_versions_file(path):
        return load_version(path, version)
    if layer is None and str(path).lower().endswith(".gpkg") and Path(path).is_file():
        layers = gio.list_layers(path)
        picks = [n for n in ("grids", "plan", "网格") if n in layers]
        if len(layers) > 1 and picks:
            layer = picks[0]
    return gio.read_vector(path, layer=layer, geometry="polygon", allow_missing=True)


CONTEXT_LAYERS = ("communities", "buildings", "addresses", "roads", "rivers", "special_sites",
                  "district", "events", "streets")


def plan_context(path: Any) -> dict[str, gpd.GeoDataFrame]:
    """Context layers stored beside a plan in the same GeoPackage (communities, buildings …).

    ``gridgis demo`` and :meth:`gridgis.Plan.save` write them, so a plan file carries what
    validation and reports need. Returns only the layers that are present.
    """
    from . import io as gio

    if not str(path).lower().endswith(".gpkg") or not Path(path).is_file():
        return {}
    present = set(gio.list_layers(path))
    return {name: gio.read_vector(path, layer=name, allow_empty=True)
            for name in CONTEXT_LAYERS if name in present}


def known_codes(path: str | Path) -> list[str]:
    """Every grid code held by any version of ``path`` (sorted): pass it as ``retired=`` to
    :func:`gridgis.codes.recode` so that no code is ever given to a second grid."""
    path = Path(path)
    meta = _read_meta(path)
    codes: set[str] = set()
    for layer in meta["layer"]:
        table = pyogrio.read_dataframe(path, layer=layer, columns=[schema.GRID_CODE],
                                       read_geometry=False)
        codes.update(str(c) for c in table[schema.GRID_CODE].dropna())
    return sorted(codes)


# ---- diff ----------------------------------------------------------------------------------------


def _recount(plan: gpd.GeoDataFrame, households: gpd.GeoDataFrame) -> np.ndarray:
    from .codes._overlay import locate as _locate
    from .codes._overlay import weights_points as _weights_points

    pts, w = _weights_points(households, plan.crs)
    hit = _locate(pts, np.asarray(plan.geometry.array))
    inside = hit >= 0
    return np.bincount(hit[inside], weights=w[inside], minlength=len(plan))


def diff(v1: gpd.GeoDataFrame, v2: gpd.GeoDataFrame, *,
         households: gpd.GeoDataFrame | None = None, tolerance_m2: float = 1.0,
         include_unchanged: bool = False) -> gpd.GeoDataFrame:
    """Grids that differ between two plans, matched by ``grid_code``, with household deltas.

    Parameters
    ----------
    v1, v2
        The plan before and after (e.g. two :func:`load_version` results). Codes are stable
        across a :func:`gridgis.codes.recode`, so a kept code means "the same grid".
    households
        Buildings/addresses to recount households and population of both plans (``households``
        column or 1 each); default: the plans' own ``households``/``population`` columns.
    tolerance_m2
        A geometry counts as changed when the area of its symmetric difference exceeds this.
    include_unchanged
        Also list grids that did not change.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per changed grid (sorted by code): ``grid_code, change`` ("added" | "removed" |
        "changed" | "unchanged"), ``changes`` (what changed: ``geometry``, ``households``,
        ``population``, ``community_code``, ``kind``, ``grid_name``, ``flag``; comma-separated),
        ``households_before/after/delta``, ``population_before/after/delta``,
        ``area_before_m2, area_after_m2, area_changed_m2`` (symmetric difference), and the
        geometry after (before, for removed grids) in ``v2``'s CRS.
    """
    c1, c2 = _codes(v1, "v1"), _codes(v2, "v2")
    for plan, what in ((v1, "v1"), (v2, "v2")):
        as_layer(plan, what, geometry=None, missing="keep", allow_empty=True, normalize=False)
    v2_m = metric(v2)
    g1 = pd.Series(np.asarray(metric(v1, v2_m.crs).geometry.array), index=c1.to_numpy())
    g2 = pd.Series(np.asarray(v2_m.geometry.array), index=c2.to_numpy())
    out_g1 = pd.Series(np.asarray(v1.geometry.to_crs(v2.crs).array), index=c1.to_numpy())
    out_g2 = pd.Series(np.asarray(v2.geometry.array), index=c2.to_numpy())
    all_codes = sorted(set(c1) | set(c2))

    def measure(plan: gpd.GeoDataFrame, codes: pd.Series, column: str, recount: Any) -> pd.Series:
        if recount is not None:
            values = recount
        elif column in plan.columns:
            values = pd.to_numeric(plan[column], errors="coerce").to_numpy(dtype=float)
        else:
            values = np.full(len(plan), np.nan)
        return pd.Series(values, index=codes.to_numpy()).reindex(all_codes)

    hh1 = hh2 = pop1 = pop2 = None
    if households is not None:
        hh1, hh2 = _recount(v1, households), _recount(v2, households)
        hh_layer = as_layer(households, "households", geometry=None, missing="keep",
                            allow_empty=True)
        if schema.POPULATION in hh_layer.columns:
            pop_layer = hh_layer.assign(households=hh_layer[schema.POPULATION])
            pop1, pop2 = _recount(v1, pop_layer), _recount(v2, pop_layer)
    frame = pd.DataFrame(index=pd.Index(all_codes, name=schema.GRID_CODE))
    frame["households_before"] = measure(v1, c1, schema.HOUSEHOLDS, hh1)
    frame["households_after"] = measure(v2, c2, schema.HOUSEHOLDS, hh2)
    frame["population_before"] = measure(v1, c1, schema.POPULATION, pop1)
    frame["population_after"] = measure(v2, c2, schema.POPULATION, pop2)
    for m in ("households", "population"):
        frame[f"{m}_delta"] = frame[f"{m}_after"].fillna(0) - frame[f"{m}_before"].fillna(0)
        both_nan = frame[f"{m}_after"].isna() & frame[f"{m}_before"].isna()
        frame.loc[both_nan, f"{m}_delta"] = np.nan
    a = g1.reindex(all_codes).to_numpy(dtype=object)
    b = g2.reindex(all_codes).to_numpy(dtype=object)
    a = np.where(pd.isna(a), None, a)
    b = np.where(pd.isna(b), None, b)
    frame["area_before_m2"] = shapely.area(a)
    frame["area_after_m2"] = shapely.area(b)
    in1, in2 = frame.index.isin(c1), frame.index.isin(c2)
    both = in1 & in2
    changed_area = np.full(len(frame), np.nan)
    if both.any():
        changed_area[both] = shapely.area(shapely.symmetric_difference(a[both], b[both]))
    frame["area_changed_m2"] = changed_area

    changes: list[list[str]] = [[] for _ in range(len(frame))]
    geom_changed = both & (np.nan_to_num(changed_area) > tolerance_m2)
    flags = {"geometry": geom_changed}
    for m in ("households", "population"):
        before, after = frame[f"{m}_before"], frame[f"{m}_after"]
        flags[m] = both & ~((before == after) | (before.isna() & after.isna())).to_numpy()
    for col in _DIFF_ATTRS:
        if col in v1.columns or col in v2.columns:
            s1 = _attr(v1, c1, col).reindex(all_codes)
            s2 = _attr(v2, c2, col).reindex(all_codes)
            flags[col] = both & (s1.fillna("") != s2.fillna("")).to_numpy()
    for name, mask in flags.items():
        for k in np.flatnonzero(mask):
            changes[k].append(name)
    change = np.where(~in1, "added", np.where(~in2, "removed", "unchanged")).astype(object)
    any_change = np.array([bool(c) for c in changes])
    change[both & any_change] = "changed"
    frame.insert(0, "change", change)
    frame.insert(1, "changes", [",".join(c) for c in changes])
    geoms = out_g2.reindex(all_codes).to_numpy(dtype=object)
    geoms = np.where(pd.isna(geoms), out_g1.reindex(all_codes).to_numpy(dtype=object), geoms)
    result = gpd.GeoDataFrame(frame.reset_index(), geometry=list(geoms), crs=v2.crs)
    if not include_unchanged:
        result = result[result["change"] != "unchanged"].reset_index(drop=True)
    return result


def _attr(plan: pd.DataFrame, codes: pd.Series, col: str) -> pd.Series:
    if col not in plan.columns:
        return pd.Series("", index=codes.to_numpy(), dtype=object)
    values = plan[col].astype(object).where(plan[col].notna(), "").map(str)
    return pd.Series(values.to_numpy(dtype=object), index=codes.to_numpy(), dtype=object)


def diff_versions(path: str | Path, before: int | None = -2, after: int | None = None,
                  **kwargs: Any) -> gpd.GeoDataFrame:
    """:func:`diff` of two saved versions (default: the one before the latest → the latest)."""
    return diff(load_version(path, before), load_version(path, after), **kwargs)
