"""Reading and writing the files offices use: vector layers, CSV/Excel/Parquet tables, GeoPackage.

Every failure is a :class:`~gridgis.errors.GridGISError` that names the file, the layer and,
where it applies, the row. Readers never drop rows: a row with unusable coordinates comes back
with an empty geometry so that downstream steps can report it.
"""

from __future__ import annotations

import io as _io
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from . import schema
from .crs import points_to_wgs84, resolve_crs
from .errors import CRSError, GeometryError, InputFileError, SchemaError
from .writing import replacing

TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq"}
VECTOR_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".fgb", ".gml", ".kml", ".zip"}
_POLYGONAL = {"Polygon", "MultiPolygon"}
_GEOM_FAMILIES = {
    "polygon": _POLYGONAL,
    "line": {"LineString", "MultiLineString"},
    "point": {"Point", "MultiPoint"},
}


def is_database_url(source: Any) -> bool:
    """True for ``postgresql://`` (or ``postgis://``) connection strings."""
    return isinstance(source, str) and source.split("://", 1)[0].lower() in {
        "postgresql", "postgres", "postgis", "postgresql+psycopg2",
    }


def _existing(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputFileError("file not found", source=p, fix="check the path and the working folder")
    if p.is_dir() and p.suffix.lower() not in {".gdb", ".parquet"}:
        raise InputFileError("is a folder, expected a file", source=p)
    if p.is_file() and p.stat().st_size == 0:
        raise InputFileError("file is empty (0 bytes)", source=p)
    return p


# ---- encodings ---------------------------------------------------------------------------------


def detect_encoding(data: bytes | str | Path) -> str:
    """Detect the text encoding of a file or byte string used in Chinese offices.

    Tries, in order: UTF-8 with BOM, UTF-8, GB18030 (a superset of GBK/GB2312), then
    charset-normalizer's best guess. Returns a Python codec name (``"utf-8-sig"``, ``"utf-8"``,
    ``"gb18030"`` …).
    """
    raw = data if isinstance(data, bytes) else Path(data).read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for enc in ("utf-8", "gb18030"):
        try:
            raw.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise InputFileError("cannot detect the text encoding", fix="save the file as UTF-8")
    return best.encoding


# ---- tables ------------------------------------------------------------------------------------


def read_table(
    source: str | Path | pd.DataFrame,
    *,
    sheet: str | int | None = 0,
    encoding: str | None = None,
    required: Iterable[str] = (),
    extra_aliases: Mapping[str, str] | None = None,
    dtype: Any = None,
) -> pd.DataFrame:
    """Read a CSV/TSV, Excel or Parquet table and normalise its headers to canonical names.

    Parameters
    ----------
    source
        Path of the table (``.csv .txt .tsv .xlsx .xls .parquet``), or a DataFrame to normalise.
    sheet
        Excel sheet name or index.
    encoding
        Text encoding of CSV files; detected (UTF-8, UTF-8 BOM, GBK/GB18030) when ``None``.
    required
        Canonical columns that must be present (:class:`SchemaError` otherwise).
    extra_aliases
        Additional ``{header: canonical}`` pairs.
    dtype
        Passed to the CSV/Excel reader (e.g. ``{"网格编码": str}``); code-like columns are always
        read as text so that leading zeros survive.

    Raises
    ------
    InputFileError, SchemaError
        Missing/empty/undecodable/unparseable files (naming the line), missing columns.
    """
    if isinstance(source, pd.DataFrame):
        return schema.normalize_columns(source, required=required, extra_aliases=extra_aliases)
    path = _existing(source)
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt", ".tsv"}:
        df = _read_csv(path, encoding=encoding, dtype=dtype)
    elif suffix in {".xlsx", ".xlsm", ".xls"}:
        try:
            if dtype is None:
                header = pd.read_excel(path, sheet_name=sheet, nrows=0).columns
                dtype = _code_columns(header)
            df = pd.read_excel(path, sheet_name=sheet, dtype=dtype)
        except ValueError as exc:
            raise InputFileError(f"cannot read sheet {sheet!r}: {exc}", source=path) from None
        except Exception as exc:  # zipfile.BadZipFile, xlrd errors, …
            raise InputFileError(f"not a readable Excel workbook ({exc})", source=path) from None
    elif suffix in {".parquet", ".pq"}:
        try:
            df = pd.read_parquet(path)
        except Exception as exc:
            raise InputFileError(f"not a readable Parquet file ({exc})", source=path) from None
        if "geometry" in df.columns and df["geometry"].dtype == object:
            df = df.drop(columns="geometry") if df["geometry"].isna().all() else df
    elif suffix in VECTOR_SUFFIXES:
        df = read_vector(path, allow_empty=True)
    else:
        raise InputFileError(
            f"unsupported table format {suffix!r}",
            source=path,
            fix="use CSV, Excel (.xlsx), Parquet or a vector file",
        )
    if len(df.columns) == 0:
        raise InputFileError("table has no columns", source=path)
    return schema.normalize_columns(df, required=required, extra_aliases=extra_aliases, source=path)


def _code_columns(columns: Iterable[Any]) -> dict[Any, type]:
    codes = {schema.GRID_CODE, schema.COMMUNITY_CODE, schema.CODE, schema.PARENT_CODE,
             schema.BUILDING_ID, schema.ADDRESS_ID, schema.EVENT_ID}
    return {c: str for c in columns if schema.canonical_name(c) in codes}


def _read_csv(path: Path, *, encoding: str | None, dtype: Any) -> pd.DataFrame:
    raw = path.read_bytes()
    enc = encoding or detect_encoding(raw)
    try:
        text = raw.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputFileError(
            f"cannot decode as {enc}: {exc}", source=path, fix="pass the right encoding="
        ) from None
    if not text.strip():
        raise InputFileError("file has no rows or header", source=path)
    sep = "\t" if path.suffix.lower() == ".tsv" else _sniff_separator(text)
    try:
        header = pd.read_csv(_io.StringIO(text), sep=sep, nrows=0).columns
        dtypes = _code_columns(header) if dtype is None else dtype
        return pd.read_csv(_io.StringIO(text), sep=sep, dtype=dtypes, skipinitialspace=True)
    except pd.errors.ParserError as exc:
        raise InputFileError(
            f"malformed CSV: {exc}", source=path,
            fix="check quoting and the number of fields on the line named",
        ) from None
    except pd.errors.EmptyDataError:
        raise InputFileError("file has no rows or header", source=path) from None


def _sniff_separator(text: str) -> str:
    """The field separator of a delimited text: the candidate most frequent in the header line."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    counts = {sep: first.count(sep) for sep in (",", "\t", ";", "|")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


# ---- vector layers ------------------------------------------------------------------------------


def list_layers(path: str | Path) -> list[str]:
    """Names of the layers in a vector file (GeoPackage, shapefile …)."""
    p = _existing(path)
    try:
        return [str(name) for name in pyogrio.list_layers(p)[:, 0]]
    except Exception as exc:
        raise InputFileError(f"not a readable vector file ({exc})", source=p) from None


def read_vector(
    source: str | Path,
    layer: str | int | None = None,
    *,
    crs: Any = None,
    geometry: str | None = None,
    required: Iterable[str] = (),
    allow_invalid: bool = True,
    allow_empty: bool = False,
) -> gpd.GeoDataFrame:
    """Read a vector layer (any format GDAL reads, through pyogrio) with canonical column names.

    Parameters
    ----------
    source
        File path (GeoPackage, shapefile, GeoJSON, FlatGeobuf …) or a ``postgresql://`` URL with
        ``layer`` naming the table.
    layer
        Layer name or index; required when the file holds several layers.
    crs
        CRS to assume when the file has none (a file without CRS is an error otherwise).
    geometry
        Expected geometry family: ``"polygon"``, ``"line"`` or ``"point"``.
    required
        Canonical columns that must be present.
    allow_invalid
        When ``False``, invalid geometries raise :class:`GeometryError` naming the features.
    allow_empty
        When ``False``, a layer without features raises :class:`InputFileError`.
    """
    if is_database_url(source):
        from .postgis import read_postgis_layer

        gdf = read_postgis_layer(str(source), layer)
        label = f"{source} table {layer}"
    else:
        path = _existing(source)
        layers = list_layers(path)
        if layer is None and len(layers) > 1:
            raise InputFileError(
                f"file has {len(layers)} layers {layers}; say which one", source=path,
                fix="pass layer=NAME (CLI: --layer NAME)",
            )
        if isinstance(layer, str) and layer not in layers:
            raise InputFileError(f"no layer {layer!r}; layers are {layers}", source=path)
        label = f"{path} layer {layer if layer is not None else layers[0]}"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
        except Exception as exc:
            raise InputFileError(f"cannot read layer ({exc})", source=label) from None
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise GeometryError("layer has no geometry column", source=label)
    if len(gdf) == 0 and not allow_empty:
        raise InputFileError("layer has no features", source=label)
    if gdf.crs is None:
        if crs is None:
            raise CRSError("layer has no CRS", source=label, fix="pass crs='EPSG:…' (CLI: --crs)")
        gdf = gdf.set_crs(resolve_crs(crs) if not _pseudo(crs) else 4326)
    gdf = schema.normalize_columns(gdf, required=required, source=label)
    check_geometries(gdf, source=label, family=geometry, allow_invalid=allow_invalid)
    return gdf


def _pseudo(crs: Any) -> bool:
    return isinstance(resolve_crs(crs), str)


def _rows(index: Iterable[Any], limit: int = 10) -> str:
    idx = list(index)
    shown = ", ".join(map(str, idx[:limit]))
    return shown + (f" … ({len(idx)} in all)" if len(idx) > limit else "")


def check_geometries(
    gdf: gpd.GeoDataFrame,
    *,
    source: object = None,
    family: str | None = None,
    allow_invalid: bool = True,
    allow_missing: bool = False,
) -> None:
    """Raise :class:`GeometryError` for missing/empty, wrong-type or (optionally) invalid geometry.

    Feature numbers in messages are the 0-based row positions of the layer.
    """
    geoms = gdf.geometry.array
    missing = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if len(missing) and not allow_missing:
        raise GeometryError(
            f"{len(missing)} feature(s) without geometry", source=source,
            where=f"feature(s) {_rows(missing)}", fix="delete or redraw them",
        )
    if family is not None:
        types = np.asarray(shapely.get_type_id(geoms))
        allowed = {shapely.GeometryType[t.upper()].value for t in _GEOM_FAMILIES[family]}
        bad = np.flatnonzero(~np.isin(types, list(allowed)) & (types >= 0))
        if len(bad):
            kinds = sorted(set(gdf.geometry.iloc[bad].geom_type))
            raise GeometryError(
                f"expected {family} geometries, found {kinds}", source=source,
                where=f"feature(s) {_rows(bad)}",
            )
    if not allow_invalid:
        invalid = np.flatnonzero(~shapely.is_valid(geoms) & ~shapely.is_missing(geoms))
        if len(invalid):
            reason = shapely.is_valid_reason(geoms[invalid[0]])
            raise GeometryError(
                f"{len(invalid)} invalid geometr{'y' if len(invalid) == 1 else 'ies'} "
                f"(first: {reason})", source=source, where=f"feature(s) {_rows(invalid)}",
                fix="run gridgis repair, or fix them with shapely.make_valid / QGIS 'Fix geometries'",
            )


# ---- points --------------------------------------------------------------------------------------


def read_points(
    source: str | Path | pd.DataFrame,
    *,
    crs: Any = "EPSG:4326",
    lon: str | None = None,
    lat: str | None = None,
    layer: str | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a point table (CSV/Excel/Parquet with lon/lat, or a point layer) as WGS84 points.

    All rows are kept in their original order. Coordinates are parsed as numbers (text that is
    not a number becomes NaN); a row whose coordinates are missing or non-numeric gets an empty
    geometry — :func:`gridgis.assign.assign` reports it as ``invalid`` with the reason. GCJ-02 and
    BD-09 coordinates (``crs="GCJ02"`` / ``"BD09"``) are converted to WGS84; the original values
    stay in ``lon_raw``/``lat_raw``.

    Parameters
    ----------
    source
        File path, or a DataFrame with lon/lat under any alias (经度/纬度, lng, longitude …).
    crs
        CRS of the lon/lat values (ignored for point layers, which carry their own).
    lon, lat
        Column names to use when the headers are not recognised.
    """
    if not isinstance(source, pd.DataFrame):
        path = Path(source)
        if path.suffix.lower() in VECTOR_SUFFIXES or is_database_url(source):
            gdf = read_vector(source, layer=layer, geometry="point", allow_empty=True)
            return gdf.to_crs(4326)
    extra = {}
    if lon:
        extra[lon] = schema.LON
    if lat:
        extra[lat] = schema.LAT
    df = read_table(source, encoding=encoding, extra_aliases=extra)
    label = source if not isinstance(source, pd.DataFrame) else "<table>"
    if isinstance(df, gpd.GeoDataFrame) and (schema.LON not in df or schema.LAT not in df):
        return df.to_crs(4326)
    if schema.LON not in df.columns or schema.LAT not in df.columns:
        raise SchemaError(
            f"no longitude/latitude columns; found {list(map(str, df.columns))}", source=label,
            fix="name them 经度/纬度 or lon/lat, or pass lon=/lat=",
        )
    x = pd.to_numeric(df[schema.LON], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(df[schema.LAT], errors="coerce").to_numpy(dtype=float)
    out = df.copy()
    src = resolve_crs(crs)
    if isinstance(src, str):
        out["lon_raw"], out["lat_raw"] = x, y
    wx, wy = points_to_wgs84(x, y, src)
    geoms = shapely.points(wx, wy)
    geoms[~(np.isfinite(wx) & np.isfinite(wy))] = None
    return gpd.GeoDataFrame(out, geometry=geoms, crs=4326)


# ---- writing ---------------------------------------------------------------------------------------


def write_gpkg(layers: Mapping[str, pd.DataFrame], path: str | Path, *, mode: str = "w") -> Path:
    """Write several layers into one GeoPackage, atomically.

    GeoDataFrames become spatial layers; plain DataFrames attribute-only tables. ``mode="w"``
    replaces the file, ``"a"`` adds or replaces only the named layers of an existing file and
    keeps every other layer. Either way the layers are written into a file beside ``path`` that
    is renamed into place at the end, so a crash leaves the old file or the complete new one.

    Examples
    --------
    >>> import tempfile, geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame({"grid_code": ["1"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4547)
    >>> p = write_gpkg({"grids": g}, Path(tempfile.mkdtemp()) / "plan.gpkg")
    >>> p = write_gpkg({"notes": pd.DataFrame({"n": [1]})}, p, mode="a")
    >>> list_layers(p)
    ['grids', 'notes']
    """
    path = Path(path)
    with replacing(path, keep=mode == "a") as tmp:
        for name, df in layers.items():
            frame = df if isinstance(df, gpd.GeoDataFrame) else pd.DataFrame(df)
            try:
                pyogrio.write_dataframe(_stringify_objects(frame), tmp, layer=name, driver="GPKG")
            except Exception as exc:
                raise InputFileError(f"cannot write layer {name!r} ({exc})", source=path) from None
    return path


def _stringify_objects(df: pd.DataFrame) -> pd.DataFrame:
    """GeoPackage columns need one type: turn mixed object columns (lists, dicts) into text."""
    out = df
    for col in df.columns:
        if col == getattr(df, "_geometry_column_name", None) or df[col].dtype != object:
            continue
        values = df[col].dropna()
        if len(values) and not values.map(lambda v: isinstance(v, str)).all():
            out = out.copy() if out is df else out
            out[col] = df[col].map(lambda v: None if v is None else str(v))
    return out


def _write_csv(frame: pd.DataFrame, path: Path, encoding: str) -> None:
    """CSV through pyarrow (fast) for UTF-8 output; pandas for other encodings or odd columns."""
    if encoding.lower().replace("_", "-") in {"utf-8", "utf-8-sig", "utf8"}:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        dates = frame.select_dtypes(include=["datetime", "datetimetz"]).columns
        if len(dates):
            frame = frame.copy()
            for col in dates:
                frame[col] = frame[col].dt.strftime("%Y-%m-%d %H:%M:%S")
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            table = None
        if table is not None:
            with open(path, "wb") as fh:
                if encoding.lower().endswith("sig"):
                    fh.write(b"\xef\xbb\xbf")
                pacsv.write_csv(table, fh, pacsv.WriteOptions(quoting_style="needed"))
            return
    frame.to_csv(path, index=False, encoding=encoding)


def _without_geometry(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(df.drop(columns=df.geometry.name)) if isinstance(df, gpd.GeoDataFrame) else df


def write_table(df: pd.DataFrame, path: str | Path, *, encoding: str = "utf-8-sig") -> Path:
    """Write a table by suffix, atomically: ``.csv`` (UTF-8 with BOM by default, opens in Excel),
    ``.xlsx``, ``.parquet``; GeoDataFrames to ``.gpkg``/``.geojson``/``.parquet`` keep their
    geometry. The file is written beside ``path`` and renamed into place when complete.

    Examples
    --------
    >>> import tempfile
    >>> p = write_table(pd.DataFrame({"grid_code": ["001"]}), Path(tempfile.mkdtemp()) / "t.csv")
    >>> p.read_bytes()[:3].hex()  # the BOM that makes Excel read UTF-8
    'efbbbf'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    geo = isinstance(df, gpd.GeoDataFrame)
    if suffix not in {".csv", ".xlsx", ".xlsm", ".parquet", ".pq"} and not (
            suffix in VECTOR_SUFFIXES and geo):
        raise InputFileError(f"unsupported output format {suffix!r}", source=path,
                             fix="write .csv, .xlsx or .parquet (.gpkg for map layers)")
    with replacing(path) as tmp:
        if suffix == ".csv":
            _write_csv(_without_geometry(df), tmp, encoding)
        elif suffix in {".xlsx", ".xlsm"}:
            _without_geometry(df).to_excel(tmp, index=False)
        elif suffix in {".parquet", ".pq"}:
            df.to_parquet(tmp, index=False)
        else:
            df.to_file(tmp, engine="pyogrio")
    return path
