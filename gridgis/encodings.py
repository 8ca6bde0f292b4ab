"""Text encodings of the files Chinese offices send: byte-order marks, UTF-8 versus GBK/GB18030,
mixed-encoding files, CSV separators and shapefiles without a ``.cpg``.

>>> detect_encoding("网格编码".encode("gbk"))
'gb18030'
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import schema
from .errors import InputFileError
from .i18n import _, tr

__all__ = [
    "HEADER_SEARCH_ROWS",
    "bom_encoding",
    "check_single_encoding",
    "csv_header_row",
    "detect_encoding",
    "file_encoding",
    "find_header_row",
    "shapefile_encoding",
    "sniff_separator",
]

#: How many rows at the top of a sheet are searched for the header (title rows above it).
HEADER_SEARCH_ROWS = 30



def bom_encoding(head: bytes) -> str | None:
    r"""The encoding a byte-order mark at the start of ``head`` announces, if any.

    >>> bom_encoding(b"\xef\xbb\xbfa"), bom_encoding(b"\xff\xfea"), bom_encoding(b"a")
    ('utf-8-sig', 'utf-16', None)
    """
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return None


def check_single_encoding(lines: Iterable[bytes], *, source: object = None) -> None:
    """Refuse a text whose lines mix UTF-8 and GBK (files pasted together from two systems).

    Raises
    ------
    InputFileError
        Naming the first line of each encoding.
    """
    utf8 = gbk = None
    for number, line in enumerate(lines, start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 = utf8 or number
        except UnicodeDecodeError:
            gbk = gbk or number
        if utf8 and gbk:
            raise InputFileError(
                tr("the file mixes text encodings: line {utf8} is UTF-8, line {gbk} is not",
                   utf8=utf8, gbk=gbk),
                source=source, fix=_("save the whole file in one encoding (UTF-8, or GBK)"),
            )


def detect_encoding(data: bytes | str | Path, *, source: object = None) -> str:
    """Detect the text encoding of a file or byte string used in Chinese offices.

    Tries, in order: a byte-order mark (UTF-8 or UTF-16), UTF-8, GB18030 (a superset of
    GBK/GB2312; refused when some lines are UTF-8), then charset-normalizer's best guess.
    Returns a Python codec name (``"utf-8-sig"``, ``"utf-16"``, ``"utf-8"``, ``"gb18030"`` …).

    >>> detect_encoding("经度".encode("gbk")), detect_encoding("经度".encode("utf-16"))
    ('gb18030', 'utf-16')
    """
    raw = data if isinstance(data, bytes) else Path(data).read_bytes()
    source = source if source is not None or isinstance(data, bytes) else data
    if bom := bom_encoding(raw[:3]):
        return bom
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    check_single_encoding(raw.splitlines(), source=source)
    try:
        raw.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise InputFileError(_("cannot detect the text encoding"), source=source,
                             fix=_("save the file as UTF-8"))
    return best.encoding


def sniff_separator(text: str) -> str:
    r"""The field separator of a delimited text: the candidate most frequent in its first lines
    (title lines above the header have few separators, data lines many).

    >>> sniff_separator("地址库\n地址;经度;纬度\na;1;2\n")
    ';'
    """
    head = "\n".join(text.lstrip("\ufeff").splitlines()[:HEADER_SEARCH_ROWS])
    counts = {sep: head.count(sep) for sep in (",", "\t", ";", "|")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def shapefile_encoding(path: str | Path) -> str | None:
    """The text encoding of a shapefile's attributes when it has no ``.cpg`` saying so.

    Desktop GIS in Chinese offices writes GBK attributes without a ``.cpg``; GDAL would then
    read them as UTF-8 and fail. ``None`` when the file says its encoding (or is not a
    shapefile), else ``"UTF-8"`` or ``"GB18030"`` as the ``.dbf`` bytes decode.
    """
    path = Path(path)
    dbf = path.with_suffix(".dbf")
    if path.suffix.lower() != ".shp" or path.with_suffix(".cpg").exists() or not dbf.exists():
        return None
    try:
        dbf.read_bytes().decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GB18030"


def find_header_row(rows: Iterable[Iterable[Any]]) -> int:
    """The 0-based row of the header among the first rows of a sheet or CSV.

    Office sheets often carry a title (and a date line) above the header. The header is the
    first row naming a known column (经度, 网格编码, lon …); without one, the first row that is
    as wide as the widest of these rows.

    >>> find_header_row([["2024年 雨湖区地址库"], [], ["地址", "经度", "纬度"], ["a", 112.9, 27.8]])
    2
    >>> find_header_row([["name", "x"], ["a", "1"]])
    0
    """
    rows = [[c for c in r if c is not None and str(c).strip() and str(c) != "nan"] for r in rows]
    for i, row in enumerate(rows):
        if sum(schema.canonical_name(c) is not None for c in row) >= 1 and len(row) >= 2:
            return i
    widest = max((len(r) for r in rows), default=0)
    return next((i for i, r in enumerate(rows) if len(r) == widest), 0)


def csv_header_row(text: str, sep: str) -> int:
    """The 0-based header line of a CSV text (title lines above it are skipped)."""
    import csv

    head = text.lstrip("\ufeff").splitlines()[:HEADER_SEARCH_ROWS]
    return find_header_row(csv.reader(head, delimiter=sep))


def file_encoding(path: Path) -> str:
    """Encoding of a text file, checked over the whole file in one streaming pass.

    Examples
    --------
    >>> from pathlib import Path
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_bytes("名称,经度,纬度".encode("gbk"))
    >>> file_encoding(p)
    'gb18030'
    """
    with open(path, "rb") as fh:
        if bom := bom_encoding(fh.read(3)):
            return bom
        for enc in ("utf-8", "gb18030"):
            fh.seek(0)
            if enc == "gb18030":
                check_single_encoding(fh, source=path)
                fh.seek(0)
            dec = codecs.getincrementaldecoder(enc)()
            try:
                while block := fh.read(1 << 16):
                    dec.decode(block)
                dec.decode(b"", final=True)
                return enc
            except UnicodeDecodeError:
                continue
        fh.seek(0)
        sample = fh.read(1 << 20)
    return detect_encoding(sample[: sample.rfind(b"\n") + 1] or sample, source=path)
