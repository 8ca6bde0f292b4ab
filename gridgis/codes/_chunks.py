"""Tables in chunks: CSV and Parquet files read and written a block of rows at a time.

Used by :func:`gridgis.codes.recode_table` for tables larger than memory. CSV is read with
pyarrow's streaming reader, every column as text (values are written back as read, codes keep
their leading zeros; encodings UTF-8, UTF-8 with BOM and GBK/GB18030 detected, title lines
above the header skipped); Parquet by record batches with its own types. Output goes to
``.csv`` (UTF-8 with BOM, opens in Excel) or ``.parquet``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa

from ..encodings import detect_encoding, sniff_separator
from ..errors import InputFileError
from ..i18n import _, tr
from ..io import csv_header_row

__all__ = ["CHUNK_SUFFIXES", "iter_chunks", "ChunkWriter"]

CHUNK_SUFFIXES = {".csv", ".txt", ".tsv", ".parquet", ".pq"}
_SAMPLE = 1 << 20


def iter_chunks(path: Path, chunk_size: int, columns: list[str] | None = None
                ) -> Iterator[pd.DataFrame]:
    """The rows of a CSV or Parquet file, about ``chunk_size`` at a time, with their own headers.

    ``columns`` limits a Parquet file to those of its columns (the others are not read); a CSV
    file gives all of its columns.

    Examples
    --------
    >>> for chunk in iter_chunks(Path("events.csv"), 1_000_000):  # doctest: +SKIP
    ...     print(len(chunk))
    """
    if path.suffix.lower() in {".parquet", ".pq"}:
        yield from _parquet_chunks(path, chunk_size, columns)
    else:
        yield from _csv_chunks(path, chunk_size)


def _parquet_chunks(path: Path, chunk_size: int, columns: list[str] | None = None
                    ) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:
        raise InputFileError(tr("not a readable Parquet file ({error})", error=exc),
                             source=path) from None
    if columns is not None:
        columns = [c for c in pf.schema_arrow.names if c in set(columns)]
    for batch in pf.iter_batches(batch_size=chunk_size, columns=columns):
        yield batch.to_pandas()


def _csv_chunks(path: Path, chunk_size: int) -> Iterator[pd.DataFrame]:
    import pyarrow.csv as pacsv

    with open(path, "rb") as fh:
        sample = fh.read(_SAMPLE)
    if b"\n" in sample and len(sample) == _SAMPLE:
        sample = sample[: sample.rindex(b"\n") + 1]  # whole lines: no cut multibyte character
    enc = detect_encoding(sample, source=path)
    text = sample.decode(enc, errors="replace").lstrip("\ufeff")
    if not text.strip():
        raise InputFileError(_("file has no rows or header"), source=path)
    sep = "\t" if path.suffix.lower() == ".tsv" else sniff_separator(text)
    skip = csv_header_row(text, sep)
    lines = text.splitlines()[skip:]
    per_row = max(16, len(text.encode()) // max(1, len(lines)))
    block = int(min(1 << 28, max(1 << 12, chunk_size * per_row)))
    read = pacsv.ReadOptions(block_size=block, skip_rows=skip,
                             encoding="utf8" if enc in ("utf-8", "utf-8-sig") else enc)
    try:
        reader = pacsv.open_csv(path, read_options=read,
                                parse_options=pacsv.ParseOptions(delimiter=sep),
                                convert_options=pacsv.ConvertOptions(
                                    column_types=_all_text(path, read, sep)))
        for batch in reader:
            yield batch.to_pandas()
    except pa.ArrowInvalid as exc:
        raise InputFileError(tr("malformed CSV: {error}", error=exc), source=path,
                             fix=_("check quoting and the number of fields on the line named")
                             ) from None


def _all_text(path: Path, read: object, sep: str) -> dict[str, pa.DataType]:
    """Every column of the CSV as text (read from its header line)."""
    import pyarrow.csv as pacsv

    with pacsv.open_csv(path, read_options=read,
                        parse_options=pacsv.ParseOptions(delimiter=sep)) as r:
        return {name: pa.string() for name in r.schema.names}


class ChunkWriter:
    """Append chunks of rows to a ``.csv`` or ``.parquet`` file (one schema for all chunks).

    Examples
    --------
    >>> w = ChunkWriter(Path("out.csv"))  # doctest: +SKIP
    >>> w.write(frame); w.close()          # doctest: +SKIP
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parquet = path.suffix.lower() in {".parquet", ".pq"}
        self.schema: pa.Schema | None = None
        self._fh = None
        self._writer = None

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame``."""
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.schema is None:
            fields = [f.with_type(pa.string()) if pa.types.is_null(f.type) else f
                      for f in table.schema]
            self.schema = pa.schema(fields, metadata=table.schema.metadata)
            self._open()
        self._writer.write_table(table.cast(self.schema))

    def _open(self) -> None:
        if self.parquet:
            import pyarrow.parquet as pq

            self._writer = pq.ParquetWriter(self.path, self.schema)
            return
        import pyarrow.csv as pacsv

        self._fh = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._fh.write(b"\xef\xbb\xbf")
        self._writer = pacsv.CSVWriter(self._fh, self.schema,
                                       write_options=pacsv.WriteOptions(quoting_style="needed"))

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None
