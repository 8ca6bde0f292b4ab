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
from ._excel import write_excel
from ._geometry import present
from .crs import points_to_wgs84, resolve_crs
from .encodings import (
    HEADER_SEARCH_ROWS,
    csv_header_row,
    detect_encoding,
    find_header_row,
    shapefile_encoding,
    sniff_separator,
)
from .errors import CRSError, GeometryError, InputFileError, SchemaError, with_options
from .i18n import tr
from .writing import replacing

__all__ = [
    "TABLE_SUFFIXES",
    "VECTOR_SUFFIXES",
    "check_geometries",
    "csv_header_row",
    "find_header_row",
    "is_database_url",
    "list_layers",
    "pick_layer",
    "read_excel",
    "read_points",
    "read_table",
    "read_vector",
    "write_gpkg",
    "write_table",
]

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
        raise InputFileError(tr("file not found"), source=p, fix=tr("check the path and the working folder"))
    if p.is_dir() and p.suffix.lower() not in {".gdb", ".parquet"}:
        raise InputFileError(tr("is a folder, expected a file"), source=p)
    if p.is_file() and p.stat().st_size == 0:
        raise InputFileError(tr("file is empty (0 bytes)"), source=p)
    return p


# ---- tables ------------------------------------------------------------------------------------


def _has_coordinates(header: Iterable[Any]) -> bool:
    names = {schema.canonical_name(c) for c in header}
    return schema.LON in names and schema.LAT in names


def read_excel(path: str | Path, *, sheet: str | int | None = None, header_row: int | None = None,
               dtype: Any = None) -> pd.DataFrame:
    """Read an Excel sheet the way offices fill them in.

    ``sheet=None`` takes the first sheet whose header has longitude and latitude columns, else
    the first sheet; ``header_row`` (1 = first row) defaults to the row found by
    :func:`find_header_row` under any title rows. Code columns are read as text.

    Raises
    ------
    InputFileError
        Not a workbook, no such sheet (naming the sheets), or a sheet without rows.
    """
    path = _existing(path)
    try:
        book = pd.ExcelFile(path)
    except Exception as exc:  # zipfile.BadZipFile, xlrd errors, a text file named .xlsx …
        raise InputFileError(tr("not a readable Excel workbook ({exc})", exc=exc), source=path) from None
    with book:
        names = list(book.sheet_names)
        if isinstance(sheet, str) and sheet not in names:
            raise InputFileError(tr("no sheet {sheet!r}; sheets are {names}", sheet=sheet, names=names), source=path,
                                 fix=with_options(tr("use one of the sheet names"), ("sheet", "NAME")))
        if isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise InputFileError(tr("no sheet number {sheet}; sheets are {names}", sheet=sheet, names=names), source=path)
        tops = {}
        for name in ([names[sheet]] if isinstance(sheet, int) else [sheet] if sheet else names):
            top = pd.read_excel(book, sheet_name=name, header=None, nrows=HEADER_SEARCH_ROWS,
                                dtype=object)
            rows = top.astype(object).where(top.notna(), None).values.tolist()
            hdr = header_row - 1 if header_row else find_header_row(rows)
            tops[name] = (hdr, rows[hdr] if hdr < len(rows) else [], rows[hdr + 1:])
        chosen = next((n for n, (_, h, _) in tops.items() if _has_coordinates(h)), next(iter(tops)))
        hdr, header, body = tops[chosen]
        codes = {**_code_columns(header), **{c: str for c in schema.digit_text_columns(header, body)}, **(dtype or {})}
        try:
            df = pd.read_excel(book, sheet_name=chosen, header=hdr, dtype=codes)
        except ValueError as exc:
            raise InputFileError(tr("cannot read sheet {chosen!r}: {exc}", chosen=chosen, exc=exc), source=path) from None
    df.attrs["sheet"] = chosen
    return df


def read_table(
    source: str | Path | pd.DataFrame,
    *,
    sheet: str | int | None = None,
    header_row: int | None = None,
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
        Excel sheet name or index (default: the sheet with coordinates, else the first).
    header_row
        Row number (1 = first) of the header in a CSV or Excel sheet; default: found under any
        title rows (:func:`find_header_row`).
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
        df = _read_csv(path, encoding=encoding, dtype=dtype, header_row=header_row)
    elif suffix in {".xlsx", ".xlsm", ".xls"}:
        df = read_excel(path, sheet=sheet, header_row=header_row, dtype=dtype)
    elif suffix in {".parquet", ".pq"}:
        try:
            df = pd.read_parquet(path)
        except Exception as exc:
            raise InputFileError(tr("not a readable Parquet file ({exc})", exc=exc), source=path) from None
        if "geometry" in df.columns and df["geometry"].dtype == object:
            df = df.drop(columns="geometry") if df["geometry"].isna().all() else df
    elif suffix in VECTOR_SUFFIXES:
        df = read_vector(path, allow_empty=True)
    else:
        raise InputFileError(
            tr("unsupported table format {suffix!r}", suffix=suffix),
            source=path,
            fix=tr("use CSV, Excel (.xlsx), Parquet or a vector file"),
        )
    if len(df.columns) == 0:
        raise InputFileError(tr("table has no columns"), source=path)
    if len(df) == 0 and suffix not in VECTOR_SUFFIXES:
        raise InputFileError(tr("the table has a header but no data rows"), source=path,
                             fix=tr("check that the right file (or sheet) was given"))
    df.attrs[schema.SOURCE_ATTR] = str(path)
    return schema.normalize_columns(df, required=required, extra_aliases=extra_aliases, source=path)


def _code_columns(columns: Iterable[Any]) -> dict[Any, type]:
    codes = {schema.GRID_CODE, schema.COMMUNITY_CODE, schema.CODE, schema.PARENT_CODE,
             schema.BUILDING_ID, schema.ADDRESS_ID, schema.EVENT_ID, "old_code", "new_code"}
    return {c: str for c in columns if schema.canonical_name(c) in codes}


def _read_csv(path: Path, *, encoding: str | None, dtype: Any,
              header_row: int | None = None) -> pd.DataFrame:
    raw = path.read_bytes()
    enc = encoding or detect_encoding(raw, source=path)
    try:
        text = raw.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputFileError(
            tr("cannot decode as {enc}: {exc}", enc=enc, exc=exc), source=path,
            fix=with_options(tr("save the file as UTF-8"), ("encoding", "gb18030"))
        ) from None
    if not text.strip():
        raise InputFileError(tr("file has no rows or header"), source=path)
    sep = "\t" if path.suffix.lower() == ".tsv" else sniff_separator(text)
    skip = header_row - 1 if header_row else csv_header_row(text, sep)
    body = text.lstrip("\ufeff").split("\n", skip)[-1] if skip else text
    try:
        header = pd.read_csv(_io.StringIO(body), sep=sep, nrows=0).columns
        dtypes = {**_code_columns(header), **(dtype or {})}
        return pd.read_csv(_io.StringIO(body), sep=sep, dtype=dtypes, skipinitialspace=True)
    except pd.errors.ParserError as exc:
        raise InputFileError(
            tr("malformed CSV: {exc}", exc=exc), source=path,
            fix=tr("check quoting and the number of fields on the line named"),
        ) from None
    except pd.errors.EmptyDataError:
        raise InputFileError(tr("file has no rows or header"), source=path) from None


# ---- vector layers ------------------------------------------------------------------------------


def list_layers(path: str | Path) -> list[str]:
    """Names of the layers in a vector file (GeoPackage, shapefile …)."""
    p = _existing(path)
    try:
        return [str(name) for name in pyogrio.list_layers(p)[:, 0]]
    except Exception as exc:
        raise InputFileError(tr("not a readable vector file ({exc})", exc=exc), source=p) from None


def read_vector(
    source: str | Path,
    layer: str | int | None = None,
    *,
    crs: Any = None,
    geometry: str | None = None,
    required: Iterable[str] = (),
    allow_invalid: bool = True,
    allow_empty: bool = False,
    allow_missing: bool = False,
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
    allow_missing
        Keep features without geometry (validation reports them) instead of refusing the layer.

    Code columns (grid_code, community_code …) stored as numbers come back as exact text, or the
    layer is refused (:func:`gridgis.schema.codes_as_text`). A file with several layers needs
    ``layer`` unless exactly one layer has the ``geometry`` family.
    """
    if is_database_url(source):
        from .postgis import read_postgis_layer

        gdf = read_postgis_layer(str(source), layer)
        label = f"{source} table {layer}"
    else:
        path = _existing(source)
        layer = pick_layer(path, layer, geometry)
        label = f"{path} layer {layer}"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                gdf = gpd.read_file(path, layer=layer, engine="pyogrio",
                                    encoding=shapefile_encoding(path))
        except Exception as exc:
            raise InputFileError(tr("cannot read layer ({exc})", exc=exc), source=label) from None
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise GeometryError(tr("layer has no geometry column"), source=label)
    if len(gdf) == 0 and not allow_empty:
        raise InputFileError(tr("layer has no features"), source=label)
    if gdf.crs is None:
        if crs is None:
            raise CRSError(tr("layer has no CRS"), source=label, fix=with_options(
                tr("save the layer with its coordinate system (a shapefile needs its .prj)"),
                ("crs", "EPSG:…")))
        gdf = gdf.set_crs(resolve_crs(crs) if not _pseudo(crs) else 4326)
    gdf = schema.normalize_columns(gdf, required=required, source=label)
    gdf = schema.restore_code_columns(gdf, source=label)
    check_geometries(gdf, source=label, family=geometry, allow_invalid=allow_invalid,
                     allow_missing=allow_missing)
    gdf.attrs[schema.SOURCE_ATTR] = str(source)
    return gdf


def pick_layer(path: str | Path, layer: str | int | None, geometry: str | None = None) -> str:
    """The layer of a vector file to read: ``layer`` when given (checked), else the only layer,
    else the only layer of the ``geometry`` family (``"point"`` …); otherwise the file is refused
    with the list of its layers.

    >>> import tempfile, geopandas as gpd, shapely
    >>> p = Path(tempfile.mkdtemp()) / "two.gpkg"
    >>> gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs=4326).to_file(p, layer="pts")
    >>> gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs=4326).to_file(p, layer="area")
    >>> pick_layer(p, None, "point")
    'pts'
    """
    try:
        info = pyogrio.list_layers(path)
    except Exception as exc:
        raise InputFileError(tr("not a readable vector file ({exc})", exc=exc), source=path) from None
    names = [str(n) for n in info[:, 0]]
    if not names:
        raise InputFileError(tr("file holds no layer"), source=path)
    if isinstance(layer, int):
        if not 0 <= layer < len(names):
            raise InputFileError(tr("no layer number {layer}; layers are {names}", layer=layer, names=names), source=path)
        return names[layer]
    if layer is not None:
        if layer not in names:
            raise InputFileError(tr("no layer {layer!r}; layers are {names}", layer=layer, names=names), source=path,
                                 fix=with_options(tr("use one of the names listed"), ("layer", "NAME")))
        return str(layer)
    if len(names) == 1:
        return names[0]
    if geometry is not None:
        wanted = {t.upper() for t in _GEOM_FAMILIES[geometry]}
        fits = [n for n, t in zip(names, info[:, 1], strict=True)
                if str(t).upper().replace(" Z", "").replace(" M", "") in wanted]
        if len(fits) == 1:
            return fits[0]
    raise InputFileError(tr("file has {n_names} layers {names}; say which one", n_names=len(names), names=names), source=path,
                         fix=with_options(None, ("layer", "NAME")) or tr("keep one layer per file"))


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
    missing = np.flatnonzero(~present(geoms))
    if len(missing) and not allow_missing:
        raise GeometryError(
            tr("{n_missing} feature(s) without geometry", n_missing=len(missing)), source=source,
            where=tr("feature(s) {rows}", rows=_rows(missing)), fix=tr("delete or redraw them"),
        )
    if family is not None:
        types = np.asarray(shapely.get_type_id(geoms))
        allowed = {shapely.GeometryType[t.upper()].value for t in _GEOM_FAMILIES[family]}
        bad = np.flatnonzero(~np.isin(types, list(allowed)) & (types >= 0))
        if len(bad):
            kinds = sorted(set(gdf.geometry.iloc[bad].geom_type))
            raise GeometryError(
                tr("expected {family} geometries, found {kinds}", family=family, kinds=kinds), source=source,
                where=tr("feature(s) {rows}", rows=_rows(bad)),
            )
    if not allow_invalid:
        invalid = np.flatnonzero(~shapely.is_valid(geoms) & ~shapely.is_missing(geoms))
        if len(invalid):
            reason = shapely.is_valid_reason(geoms[invalid[0]])
            raise GeometryError(
                tr("{n_invalid} invalid geometries (first: {reason})", n_invalid=len(invalid), reason=reason), source=source, where=tr("feature(s) {rows}", rows=_rows(invalid)),
                fix=tr("run gridgis repair, or fix them with shapely.make_valid / QGIS 'Fix "
                       "geometries'"),
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
    header_row: int | None = None,
) -> gpd.GeoDataFrame:
    """Read a point table (CSV/Excel/Parquet with lon/lat, or a point layer) as WGS84 points.

    All rows are kept in their original order. Coordinates are parsed as numbers (text that is
    not a number becomes NaN); a row whose coordinates are missing or non-numeric gets an empty
    geometry — :func:`gridgis.assignment.assign` reports it as ``invalid`` with the reason. GCJ-02 and
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
    df = read_table(source, encoding=encoding, extra_aliases=extra, header_row=header_row)
    label = source if not isinstance(source, pd.DataFrame) else schema.label(df, "<table>")
    if isinstance(df, gpd.GeoDataFrame) and (schema.LON not in df or schema.LAT not in df):
        return df.to_crs(4326)
    if schema.LON not in df.columns or schema.LAT not in df.columns:
        raise SchemaError(
            tr("no longitude/latitude columns; found {original_headers}", original_headers=schema.original_headers(df)), source=label,
            fix=with_options(tr("name them 经度/纬度 or lon/lat"), ("lon", "COLUMN"), ("lat", "COLUMN")),
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
                raise InputFileError(tr("cannot write layer {name!r} ({exc})",
                                        name=name, exc=exc), source=path) from None
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
        raise InputFileError(tr("unsupported output format {suffix!r}", suffix=suffix), source=path,
                             fix=tr("write .csv, .xlsx or .parquet (.gpkg for map layers)"))
    with replacing(path) as tmp:
        if suffix == ".csv":
            _write_csv(_without_geometry(df), tmp, encoding)
        elif suffix in {".xlsx", ".xlsm"}:
            write_excel(_without_geometry(df), tmp)
        elif suffix in {".parquet", ".pq"}:
            df.to_parquet(tmp, index=False)
        else:
            df.to_file(tmp, engine="pyogrio")
    return path
