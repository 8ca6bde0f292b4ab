"""Streaming assignment of files larger than memory: read a chunk, assign it, append it, repeat.

Readers (chosen by suffix): CSV/TSV/TXT (pandas chunks; encoding UTF-8, UTF-8 with BOM or
GBK/GB18030 detected by one streaming pass over the bytes), Parquet files and partitioned
Parquet folders (pyarrow record batches; GeoParquet geometries decoded), GeoPackage and other
vector files (pyogrio arrow batches), Excel (read once – a sheet holds at most 1,048,576 rows –
then processed in chunks). Writers: ``.parquet`` (GeoParquet when the rows have geometries),
``.csv`` (UTF-8 with BOM, opens in Excel), ``.gpkg``.

Memory stays bounded by the chunk size: only the plan's index, one chunk and the running
per-grid counts are held. Rows keep their order; headers and values are written back as read
(CSV values stay text, so codes keep their leading zeros).
"""

from __future__ import annotations

import abc
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from .. import schema
from ..encodings import (
    csv_header_row,
    file_encoding,
    shapefile_encoding,
    sniff_separator,
)
from ..errors import CRSError, InputFileError, option
from ..i18n import _, tr
from ..io import pick_layer, read_excel
from ..rules import Rules
from ..writing import check_output, replacing
from .plan_index import PlanIndex
from .points import assign_frame
from .result import AssignResult, per_grid_series, status_series

__all__ = [
    "CSV_SUFFIXES",
    "EXCEL_SUFFIXES",
    "PARQUET_SUFFIXES",
    "VECTOR_SUFFIXES",
    "assign_file",
    "file_encoding",
    "open_sink",
    "open_source",
]

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
PARQUET_SUFFIXES = {".parquet", ".pq", ".geoparquet"}
VECTOR_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".fgb", ".gml", ".kml", ".zip"}
logger = logging.getLogger(__name__)


# ---- readers: each yields (chunk, progress units done since last yield) -------------------------
class _Source(abc.ABC):
    total: int | None = None
    unit: str = "row"

    @abc.abstractmethod
    def __iter__(self) -> Iterator[tuple[pd.DataFrame, int]]:
        """Yield ``(chunk, progress units done since the last chunk)``."""


class _CsvSource(_Source):
    unit = "B"

    def __init__(self, path: Path, chunk_size: int, encoding: str | None,
                 header_row: int | None = None) -> None:
        self.path, self.chunk_size = path, chunk_size
        self.encoding = encoding or file_encoding(path)
        self.total = path.stat().st_size
        try:
            with open(path, encoding=self.encoding, newline="") as fh:
                head = fh.read(1 << 16)
        except UnicodeError as exc:
            raise InputFileError(tr("cannot decode as {encoding} ({reason})",
                                    encoding=self.encoding, reason=exc.reason), source=path,
                                 fix=_("save the file as UTF-8")) from None
        if not head.strip():
            raise InputFileError(_("file has no rows or header"), source=path)
        self.sep = "\t" if path.suffix.lower() == ".tsv" else sniff_separator(head)
        self.skip = header_row - 1 if header_row else csv_header_row(head, self.sep)

    def __iter__(self) -> Iterator[tuple[pd.DataFrame, int]]:
        with open(self.path, "rb") as fh:
            done = 0
            rows = 0
            try:  # the reader parses the header at once: keep it inside the error handling
                reader = pd.read_csv(
                    fh, sep=self.sep, encoding=self.encoding, dtype=str, chunksize=self.chunk_size,
                    skipinitialspace=True, skiprows=self.skip or None,
                )
                for chunk in reader:
                    pos = fh.tell()
                    yield chunk.set_axis(pd.RangeIndex(rows, rows + len(chunk))), pos - done
                    rows += len(chunk)
                    done = pos
            except pd.errors.ParserError as exc:
                raise InputFileError(
                    tr("malformed CSV after data row {rows}: {exc}", rows=rows, exc=exc), source=self.path,
                    fix=_("check quoting and the number of fields on the line named"),
                ) from None
            except pd.errors.EmptyDataError:
                raise InputFileError(_("file has no rows or header"), source=self.path) from None


def _natural_key(path: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path)]


def _geo_metadata(schema_: pa.Schema) -> dict | None:
    meta = schema_.metadata or {}
    if b"geo" not in meta:
        return None
    try:
        return json.loads(meta[b"geo"])
    except (TypeError, ValueError):
        return None


def _batch_to_frame(table: pa.Table, geo: dict | None) -> pd.DataFrame:
    if geo is None:
        return table.to_pandas()
    from geopandas.io.arrow import _arrow_to_geopandas

    return _arrow_to_geopandas(table, geo)


class _ParquetSource(_Source):
    def __init__(self, path: Path, chunk_size: int) -> None:
        self.path, self.chunk_size = path, chunk_size
        files = [path] if path.is_file() else sorted(
            (p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PARQUET_SUFFIXES),
            key=lambda p: _natural_key(str(p)),
        )
        if not files:
            raise InputFileError(_("no Parquet files found"), source=path)
        try:
            self.files = [pq.ParquetFile(f) for f in files]
        except Exception as exc:
            raise InputFileError(tr("not a readable Parquet file ({exc})", exc=exc), source=path) from None
        self.total = sum(f.metadata.num_rows for f in self.files)

    def __iter__(self) -> Iterator[tuple[pd.DataFrame, int]]:
        rows = 0
        for pf in self.files:
            geo = _geo_metadata(pf.schema_arrow)
            for batch in pf.iter_batches(batch_size=self.chunk_size):
                table = pa.Table.from_batches([batch]).replace_schema_metadata(pf.schema_arrow.metadata)
                frame = _batch_to_frame(table, geo)
                frame.index = pd.RangeIndex(rows, rows + len(frame))
                rows += len(frame)
                yield frame, len(frame)


class _VectorSource(_Source):
    def __init__(self, path: Path, chunk_size: int, layer: Any) -> None:
        import pyogrio

        self.path, self.chunk_size = path, chunk_size
        self.layer = pick_layer(path, layer, "point")
        try:
            info = pyogrio.read_info(path, layer=self.layer)
        except Exception as exc:
            raise InputFileError(tr("not a readable vector file ({exc})", exc=exc), source=path) from None
        self.total, self.crs = int(info["features"]), info.get("crs")

    def __iter__(self) -> Iterator[tuple[pd.DataFrame, int]]:
        import pyogrio

        rows = 0
        with pyogrio.open_arrow(self.path, layer=self.layer, batch_size=self.chunk_size,
                                use_pyarrow=True, encoding=shapefile_encoding(self.path)
                                ) as (meta, reader):
            geom_col = meta.get("geometry_name") or "wkb_geometry"
            crs = meta.get("crs")
            for batch in reader:
                table = pa.Table.from_batches([batch])
                frame = table.drop([geom_col]).to_pandas() if geom_col in table.column_names else table.to_pandas()
                if geom_col in table.column_names:
                    geoms = shapely.from_wkb(np.asarray(table[geom_col].to_numpy(zero_copy_only=False), dtype=object))
                    frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=crs).array)
                frame.index = pd.RangeIndex(rows, rows + len(frame))
                rows += len(frame)
                yield frame, len(frame)


class _ExcelSource(_Source):
    def __init__(self, path: Path, chunk_size: int, sheet: Any, header_row: int | None) -> None:
        self.path, self.chunk_size = path, chunk_size
        self.frame = read_excel(path, sheet=sheet, header_row=header_row)
        self.total = len(self.frame)

    def __iter__(self) -> Iterator[tuple[pd.DataFrame, int]]:
        for start in range(0, len(self.frame), self.chunk_size):
            part = self.frame.iloc[start : start + self.chunk_size]
            yield part, len(part)


def _checked_crs(source: _Source, crs: Any) -> Any:
    """``crs`` for the points of ``source``: a layer's own CRS is never overridden silently.

    A geographic layer (WGS84/CGCS2000) may be declared GCJ-02 or BD-09 (web-map coordinates
    saved with a WGS84 label are common), with a log line; any other disagreement is refused.
    """
    own = getattr(source, "crs", None)
    if crs is None or own is None:
        return crs
    from pyproj import CRS

    from ..crs import resolve_crs

    wanted, layer_crs = resolve_crs(crs), CRS.from_user_input(own)
    if isinstance(wanted, str) and layer_crs.is_geographic:
        logger.warning(_("%s: layer says %s; its coordinates are read as %s as asked"),
                       source.path, layer_crs.to_string(), wanted)
        return crs
    if not isinstance(wanted, str) and CRS.from_user_input(wanted).equals(layer_crs):
        return crs
    flag = option("crs")
    raise CRSError(tr("the layer has its own CRS ({to_string}); {crs} disagrees",
                      to_string=layer_crs.to_string(), crs=crs),
                   source=source.path,
                   fix=tr("leave out {split} (the layer's CRS is used)", split=flag.split()[0]) if flag
                   else _("reproject the layer if its CRS is wrong"))


def open_source(path: Path, chunk_size: int, *, layer: Any = None, sheet: Any = None,
                encoding: str | None = None, header_row: int | None = None) -> _Source:
    """The chunk reader for a file (by suffix).

    Examples
    --------
    >>> src = open_source(Path("addresses.csv"), 100_000)      # doctest: +SKIP
    >>> for chunk, start in src:                                 # doctest: +SKIP
    ...     print(start, len(chunk))
    """
    if not path.exists():
        raise InputFileError(_("file not found"), source=path, fix=_("check the path and the working folder"))
    suffix = path.suffix.lower()
    if path.is_dir() or suffix in PARQUET_SUFFIXES:
        return _ParquetSource(path, chunk_size)
    if path.stat().st_size == 0:
        raise InputFileError(_("file is empty (0 bytes)"), source=path)
    if suffix in CSV_SUFFIXES:
        return _CsvSource(path, chunk_size, encoding, header_row)
    if suffix in EXCEL_SUFFIXES:
        return _ExcelSource(path, chunk_size, sheet, header_row)
    if suffix in VECTOR_SUFFIXES:
        return _VectorSource(path, chunk_size, layer)
    raise InputFileError(
        tr("unsupported input format {suffix!r}", suffix=suffix), source=path,
        fix=_("use CSV, Excel, Parquet (file or folder) or a vector file such as GeoPackage"),
    )


# ---- writers ----------------------------------------------------------------------------------------
class _Sink(abc.ABC):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.first = True
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        self.rows += len(frame)
        self._write(frame)
        self.first = False

    def write_empty(self, frame: pd.DataFrame) -> None:
        self._write(frame)
        self.close()

    @abc.abstractmethod
    def _write(self, frame: pd.DataFrame) -> None:
        """Write one chunk of output."""

    def close(self) -> None:  # noqa: B027 - optional hook: most sinks have nothing to close
        """Finish the output (writers that keep a file open override this)."""


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy without geometry (WKT text instead) and with categoricals as text."""
    out = frame
    if isinstance(frame, gpd.GeoDataFrame):
        name = frame.geometry.name
        out = pd.DataFrame(frame.drop(columns=name))
        out[name] = shapely.to_wkt(np.asarray(frame.geometry.array), rounding_precision=-1)
    cats = [c for c in out.columns if isinstance(out[c].dtype, pd.CategoricalDtype)]
    if cats:
        out = out.copy(deep=False)
        for c in cats:
            out[c] = out[c].astype(object)
    return out


class _CsvSink(_Sink):
    def _write(self, frame: pd.DataFrame) -> None:
        _plain(frame).to_csv(
            self.path, mode="w" if self.first else "a", header=self.first, index=False,
            encoding="utf-8-sig" if self.first else "utf-8",
        )


class _ParquetSink(_Sink):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writer: pq.ParquetWriter | None = None
        self.schema: pa.Schema | None = None

    def _table(self, frame: pd.DataFrame) -> pa.Table:
        if isinstance(frame, gpd.GeoDataFrame):
            from geopandas.io.arrow import _geopandas_to_arrow  # GeoParquet metadata, as to_parquet

            table = _geopandas_to_arrow(frame, index=False, geometry_encoding="WKB")
            geo = _geo_metadata(table.schema)
            if geo is not None:  # per-chunk bounding boxes would be wrong for the whole file
                for col in geo.get("columns", {}).values():
                    col.pop("bbox", None)
                meta = dict(table.schema.metadata or {})
                meta[b"geo"] = json.dumps(geo).encode()
                table = table.replace_schema_metadata(meta)
            return table
        return pa.Table.from_pandas(frame, preserve_index=False)

    def _write(self, frame: pd.DataFrame) -> None:
        table = self._table(frame)
        if self.writer is None:
            self.schema = table.schema
            self.writer = pq.ParquetWriter(self.path, self.schema)
        else:
            try:
                table = table.cast(self.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                raise InputFileError(
                    tr("column types changed between chunks ({exc})", exc=exc), source=self.path,
                    fix=_("write to .csv instead, or convert the input to Parquet first"),
                ) from None
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class _GpkgSink(_Sink):
    def __init__(self, path: Path, layer: str) -> None:
        super().__init__(path)
        self.layer = layer

    def _write(self, frame: pd.DataFrame) -> None:
        import pyogrio

        out = frame.copy(deep=False)
        for c in out.columns:
            if isinstance(out[c].dtype, pd.CategoricalDtype):
                out[c] = out[c].astype(object)
        pyogrio.write_dataframe(out, self.path, layer=self.layer, driver="GPKG", append=not self.first)


def open_sink(path: Path) -> _Sink:
    """The chunk writer for an output path (by suffix).

    Examples
    --------
    >>> sink = open_sink(Path("assigned.parquet"))            # doctest: +SKIP
    >>> sink.write(frame); sink.close()                          # doctest: +SKIP
    """
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq", ".geoparquet"}:
        return _ParquetSink(path)
    if suffix == ".csv":
        return _CsvSink(path)
    if suffix == ".gpkg":
        return _GpkgSink(path, layer="assigned")
    raise InputFileError(
        tr("unsupported output format {suffix!r}", suffix=suffix), source=path, fix=_("write .parquet, .csv or .gpkg")
    )


# ---- public --------------------------------------------------------------------------------------------
def assign_file(
    path: str | Path,
    grids: gpd.GeoDataFrame | PlanIndex,
    out_path: str | Path,
    *,
    crs: Any = None,
    code_column: str = schema.GRID_CODE,
    max_distance: float | None = None,
    rules: Rules | str | dict | None = None,
    chunk_size: int = 100_000,
    progress: bool = False,
    lon: Any = None,
    lat: Any = None,
    layer: Any = None,
    sheet: Any = None,
    encoding: str | None = None,
    header_row: int | None = None,
    format_rows: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> AssignResult:
    """Assign a points file of any size in chunks, writing the rows with their grids to ``out_path``.

    Same rules and output columns as :func:`gridgis.assignment.assign`; memory is bounded by
    ``chunk_size`` rows (plus the plan's index), so files larger than memory work.

    Parameters
    ----------
    path
        CSV/TSV (UTF-8 or GBK, Chinese headers accepted), Excel, Parquet file or partitioned
        Parquet folder (GeoParquet geometries are used), GeoPackage or another vector file.
    grids
        The plan, or a :class:`~gridgis.assignment.PlanIndex`.
    out_path
        ``.parquet``, ``.csv`` or ``.gpkg`` (layer ``assigned``); replaced if it exists, atomically
        (written beside it and renamed into place when complete). Never one of the inputs.
    crs, code_column, max_distance, rules, lon, lat
        As for :func:`gridgis.assignment.assign` (``crs`` is the CRS of lon/lat columns, or overrides
        the CRS of a geometry column, e.g. ``"GCJ02"``).
    chunk_size
        Rows per chunk.
    progress
        Show a progress bar (bytes for CSV, rows otherwise).
    layer, sheet, encoding
        Layer of a vector file (default: the only point layer), sheet of a workbook (default:
        the sheet with coordinates), text encoding of a CSV (detected if None).
    header_row
        Row number (1 = first) of the header of a CSV or sheet (default: found under titles).
    format_rows
        Applied to every chunk (and to the header of an empty output) just before it is
        written, e.g. headers and values for people (the CLI's CSV outputs); ``None`` writes
        the API columns and values.

    Returns
    -------
    AssignResult
        ``table`` is ``None`` (the rows are in ``out_path``); ``per_grid``, ``status_counts``
        and ``path`` are set.

    Raises
    ------
    InputFileError
        A missing/unreadable file or a structurally broken CSV line (naming the row). Bad
        coordinates never raise; they are reported per row.

    Examples
    --------
    >>> import gridgis
    >>> s = gridgis.load_sample()                                                   # doctest: +SKIP
    >>> res = assign_file("data/samples/addresses.csv", grids, "assigned.parquet")   # doctest: +SKIP
    >>> res.status_counts["inside"] > 0                                            # doctest: +SKIP
    True
    """
    path = Path(path)
    out_path = Path(out_path)
    if chunk_size < 1:
        raise InputFileError(tr("chunk_size must be >= 1, got {chunk_size}",
                                chunk_size=chunk_size))
    plan = grids if isinstance(grids, PlanIndex) else PlanIndex(
        grids, code_column=code_column, max_distance=max_distance, rules=rules
    )
    if not plan.built:
        plan.build()
    source = open_source(path, chunk_size, layer=layer, sheet=sheet, encoding=encoding,
                         header_row=header_row)
    crs = _checked_crs(source, crs)
    check_output(out_path, inputs=[path], option="out_path")
    per_total, st_total = plan.empty_counts()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=source.total, unit=source.unit, unit_scale=source.unit == "B",
                   desc=tr("assign {name}", name=path.name))
    # a GeoPackage keeps its other layers; the 'assigned' layer is replaced
    with replacing(out_path, keep=out_path.suffix.lower() == ".gpkg") as tmp:
        sink = open_sink(tmp)
        try:
            for chunk, units in source:
                table, per, st = assign_frame(chunk, plan, crs=crs, lon=lon, lat=lat)
                per_total += per
                st_total += st
                sink.write(table if format_rows is None else format_rows(table))
                if bar is not None:
                    bar.update(units)
        finally:
            sink.close()
            if bar is not None:
                bar.close()
        if not sink.rows and not isinstance(source, _VectorSource | _ParquetSource):
            raise InputFileError(_("the table has a header but no data rows"), source=path,
                                 fix=_("check that the right file (or sheet) was given"))
        if not sink.rows:
            # an empty layer or Parquet file: still write an output with the expected columns
            cols = [plan.code_column, schema.MATCH, schema.MATCH_REASON, schema.DISTANCE_M]
            empty = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
            sink.write_empty(empty if format_rows is None else format_rows(empty))
    return AssignResult(
        table=None, _per_grid=per_grid_series(plan, per_total), _status_counts=status_series(st_total),
        path=out_path, plan=plan,
    )
