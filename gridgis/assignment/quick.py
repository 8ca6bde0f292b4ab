"""The quick path of ``gridgis assign``: a plain CSV onto a GeoPackage plan, without pandas.

A one-shot command spends most of its time importing libraries. For the common case — a CSV of
addresses or events with longitude/latitude columns, a plan GeoPackage in metres or degrees, a
CSV output — this module reads, assigns and writes with the standard library, numpy, shapely,
pyproj and orjson only: the plan through :mod:`gridgis._gpkg` (sqlite3 and WKB) into
:meth:`PlanIndex.from_arrays`, the coordinates with :func:`parse_floats`, the points with
:meth:`PlanIndex.assign_xy` (the one assignment core, as :func:`gridgis.assignment.assign_file`
uses it), the rows written as pandas writes them. PROJ's searches for the conversions run on a
thread pool meanwhile (:func:`gridgis.crs.transformer`).

It takes only inputs it reads exactly as the full path does, and raises :class:`NotQuick` for
anything else *before writing anything*; the caller then runs the full path
(:func:`gridgis.assignment.assign_file`), which gives the same result or the same error. A CSV is
taken when it decodes as UTF-8 (with or without BOM) or GBK/GB18030 as the full path detects it,
its header is the first line, its headers are unique and non-empty, it holds no quote character,
no field starts with a space, every line has as many fields as the header, and every longitude
and latitude is a plain decimal number or a missing-value marker (``NA``, empty …, as pandas
reads them). Files above :data:`QUICK_MAX_BYTES` are streamed by the full path instead.
"""

from __future__ import annotations

import codecs
import csv
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely

from .. import schema
from .._gpkg import NotPlain, gpkg_layers, layer_crs, layer_extent, read_features
from ..crs import convert, is_metric, metric_crs, resolve_crs, transformer
from ..encodings import csv_header_row, file_encoding, sniff_separator
from ..i18n import get_language
from ..people import header, value
from ..writing import check_output, replacing
from ._status import MATCH_VALUES
from .coordinates import find_lonlat
from .plan_index import PlanIndex

__all__ = ["NA_TEXTS", "QUICK_MAX_BYTES", "GpkgPlan", "NotQuick", "QuickResult", "assign_csv",
           "parse_floats", "read_plan_gpkg"]

#: Largest CSV the quick path reads at once (larger files are streamed by the full path).
QUICK_MAX_BYTES = 64 << 20

#: Texts pandas reads as missing values (its default ``na_values``); written back as empty cells.
NA_TEXTS = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                      "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
                      "nan", "null"})

_PLAN_LAYERS = ("grids", "plan", "网格")  # as gridgis.versions.read_plan picks a layer
_VERSIONS_LAYER = "plan_versions"  # gridgis.versions.META_LAYER: a versions file
_PLAIN_CODE = re.compile(r"[0-9A-DF-Za-df-z_\-]+")  # codes that gridgis.schema.code_text keeps
_NUMBER_BYTES = b"0123456789.eE+-\n"  # texts of numbers that pandas and Python read alike


class NotQuick(Exception):
    """The quick path does not take this input; run the full path (same result or error)."""


@dataclass
class QuickResult:
    """Counts of a quick run: points per grid (sorted by code) and per match status."""

    per_grid: np.ndarray
    per_status: np.ndarray


def _plan_layer(path: Path, layer: str | None) -> str:
    try:
        layers = gpkg_layers(path)
    except NotPlain as exc:
        raise NotQuick(str(exc)) from None
    names = [n for n, _ in layers]
    if _VERSIONS_LAYER in names or any(t not in ("features", "attributes") for _, t in layers):
        raise NotQuick("a versions file, or a GeoPackage with tiles")
    if layer is not None:
        if (layer, "features") not in layers:
            raise NotQuick("no such feature layer")
        return layer
    picks = [n for n in _PLAN_LAYERS if n in names]
    if len(names) == 1 or picks:
        return names[0] if len(names) == 1 else picks[0]
    raise NotQuick("several layers")


def read_plan_gpkg(path: str | Path, layer: str | None = None, *, code_column: str = schema.GRID_CODE,
                   max_distance: float | None = None, rules: Any = None) -> PlanIndex:
    """The plan index of a GeoPackage read with sqlite3, when it is plain.

    Plain: a layer chosen as :func:`gridgis.versions.read_plan` chooses it, polygons with an
    EPSG CRS in metres or in degrees (then converted to the metric CRS the full path chooses),
    the code column under its own name holding letters and digits only, every grid with a
    geometry.

    Raises
    ------
    NotQuick
        Anything else (the full path reads it, or names the problem).

    Examples
    --------
    >>> plan = read_plan_gpkg("plan.gpkg")             # doctest: +SKIP
    >>> plan.n_grids                                   # doctest: +SKIP
    1000
    """
    path = Path(path)
    if path.suffix.lower() != ".gpkg" or not path.is_file():
        raise NotQuick("not a GeoPackage file")
    name = _plan_layer(path, layer)
    try:
        values, geoms, (_, epsg) = read_features(path, name, [code_column])
    except NotPlain as exc:
        raise NotQuick(str(exc)) from None
    if schema.canonical_name(code_column) not in (None, code_column):
        raise NotQuick("the code column is an alias")
    codes = np.array(values[code_column], dtype=object)
    if not len(codes) or not all(isinstance(c, str) and _PLAIN_CODE.fullmatch(c) for c in codes):
        raise NotQuick("codes that are not plain text")
    types = shapely.get_type_id(geoms)
    if not np.isin(types, [3, 6]).all() or shapely.is_empty(geoms).any():
        raise NotQuick("geometries that are not polygons")
    crs = resolve_crs(f"EPSG:{epsg}")
    return PlanIndex.from_arrays(codes, geoms, crs, code_column=code_column,
                                 max_distance=max_distance, rules=rules,
                                 source=f"{path} layer {name}",
                                 metric=None if is_metric(crs) else _metric_copy(geoms, crs))


def _metric_copy(geoms: np.ndarray, crs: Any) -> tuple[np.ndarray, Any]:
    """A plan in degrees in the metric CRS the full path chooses for it
    (:func:`gridgis.crs.metric_crs` of its WGS84 bounds), converted as geopandas converts it:
    every coordinate through PROJ."""
    if not crs.is_geographic or shapely.has_z(geoms).any():
        raise NotQuick("a plan neither in metres nor in degrees, or with heights")
    wgs84 = resolve_crs("EPSG:4326")
    bounds = shapely.total_bounds(geoms if crs.equals(wgs84) else _converted(geoms, crs, wgs84))
    target = metric_crs(tuple(float(b) for b in bounds))
    return _converted(geoms, crs, target), target


def _converted(geoms: np.ndarray, src: Any, dst: Any) -> np.ndarray:
    """Geometries with every coordinate converted from ``src`` to ``dst``."""
    return shapely.transform(geoms, lambda xy: np.column_stack(convert(src, dst, xy[:, 0], xy[:, 1])))


@dataclass(frozen=True)
class GpkgPlan:
    """A plan GeoPackage for :func:`assign_csv`: its :meth:`crs` is read first, on another thread,
    to have the coordinate conversion set up while the plan (:meth:`read`) and the CSV are read.

    Examples
    --------
    >>> plan = GpkgPlan("plan.gpkg")                   # doctest: +SKIP
    >>> plan.crs().to_epsg()                           # doctest: +SKIP
    4547
    """

    path: str | Path
    layer: str | None = None
    code_column: str = schema.GRID_CODE
    max_distance: float | None = None
    rules: Any = None

    def crs(self) -> Any:
        """The plan layer's CRS, read alone (a ``pyproj.CRS``)."""
        try:
            _, epsg = layer_crs(*self._layer)
        except NotPlain as exc:
            raise NotQuick(str(exc)) from None
        return resolve_crs(f"EPSG:{epsg}")

    def extent(self) -> tuple[float, float, float, float] | None:
        """The bounds the GeoPackage lists for the plan layer (a hint), or ``None``."""
        try:
            return layer_extent(*self._layer)
        except NotPlain:
            return None

    @cached_property
    def _layer(self) -> tuple[Path, str]:
        """The file and the plan layer in it, chosen once."""
        path = Path(self.path)
        if path.suffix.lower() != ".gpkg" or not path.is_file():
            raise NotQuick("not a GeoPackage file")
        return path, _plan_layer(path, self.layer)

    def read(self) -> PlanIndex:
        """The plan index (see :func:`read_plan_gpkg`)."""
        path, layer = self._layer
        return read_plan_gpkg(path, layer, code_column=self.code_column,
                              max_distance=self.max_distance, rules=self.rules)


def _read_text(path: Path) -> tuple[str, str]:
    """The text of a CSV decoded as the full path decodes it, and its separator."""
    if path.suffix.lower() not in (".csv", ".txt", ".tsv") or not path.is_file():
        raise NotQuick("not a CSV file")
    size = path.stat().st_size
    if not 0 < size <= QUICK_MAX_BYTES:
        raise NotQuick("empty or large file")
    raw = path.read_bytes()
    try:  # as file_encoding decides: a byte-order mark, else UTF-8 if all of it decodes, else GBK
        if raw.startswith(b"\xef\xbb\xbf"):
            text = raw[3:].decode("utf-8")
        elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise NotQuick("UTF-16")
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode(file_encoding(path))
    except Exception as exc:  # the full path names the problem
        raise NotQuick(str(exc)) from None
    head = text[: 1 << 16]
    sep = "\t" if path.suffix.lower() == ".tsv" else sniff_separator(head)
    if csv_header_row(head, sep):
        raise NotQuick("title rows above the header")
    blanks = "".join(b for b in (" ", "\t") if b != sep)
    if '"' in text or text[:1] in blanks or (
            any(b in text for b in blanks)
            and re.search(f"[{re.escape(sep)}\r\n][{blanks}]", text) is not None):
        raise NotQuick("quotes, or fields starting with a space")
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            raise NotQuick("lone carriage returns")
        text = text.replace("\r\n", "\n")
    return text, sep


_NA_MARKS = re.compile("|".join(re.escape(t) for t in sorted(NA_TEXTS - {""}, key=len, reverse=True)))


@dataclass
class _Table:
    """A plain CSV: its header, data lines (without line ends), their text and separator."""

    names: list[str]
    lines: list[str]
    body: str
    sep: str
    _cells: list[str] | None = None

    def column(self, name: str) -> list[str]:
        """The texts of one column."""
        if self._cells is None:  # every line has as many fields as the header: one split
            self._cells = self.body.replace("\n", self.sep).split(self.sep)
        return self._cells[self.names.index(name)::len(self.names)]

    def has_na_texts(self) -> bool:
        """Whether a cell holds a missing-value marker other than the empty text."""
        if not any(c in self.body for c in "Nn#"):  # every marker holds one of these
            return False
        sep = re.escape(self.sep)
        pattern = re.compile(rf"(?:^|{sep})(?:{_NA_MARKS.pattern})(?={sep}|$)", re.MULTILINE)
        return pattern.search(self.body) is not None


def _read_table(text: str, sep: str) -> _Table:
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    blank = "" in lines
    if blank:  # blank lines are skipped, as pandas skips them
        lines = [ln for ln in lines if ln]
    if len(lines) < 2:
        raise NotQuick("no data rows")
    names = lines[0].split(sep)
    if len(set(names)) != len(names) or "" in names:
        raise NotQuick("empty or repeated headers")
    if set(map(str.count, lines, repeat(sep))) != {len(names) - 1}:
        raise NotQuick("lines with another number of fields")
    body = lines[1:]
    # without blank lines the body is the text after the header (without the last line end)
    text = "\n".join(body) if blank else text[len(lines[0]) + 1:len(text) - text.endswith("\n")]
    return _Table(names, body, text, sep)


def _plain_numbers(texts: list[str]) -> bool:
    """Whether the texts hold digits, points, exponents and signs only (and empty texts): numbers
    that pandas and Python read alike, or fail to read alike."""
    try:
        return not "\n".join(texts).encode("ascii").translate(None, _NUMBER_BYTES)
    except UnicodeEncodeError:
        return False


def parse_floats(texts: list[str]) -> np.ndarray:
    """Plain number texts as floats, each as ``float(text)`` reads it.

    A JSON array of them is read with :mod:`orjson`, whose numbers are correctly rounded like
    Python's and read three to four times as fast for coordinates with every digit of a double.
    Texts JSON spells otherwise (``1.``, ``.5``, ``+1``, ``01``, out of range …) are read by numpy.

    Raises
    ------
    ValueError
        A text that is not a number (an empty one, ``1-2`` …).

    Examples
    --------
    >>> parse_floats(["112.918318", "-0", "1e3", ".5"]).tolist()
    [112.918318, -0.0, 1000.0, 0.5]
    """
    joined = ",".join(texts)
    try:
        values = orjson.loads(f"[{joined}]")
    except orjson.JSONDecodeError:
        return np.array(texts, dtype=np.float64)
    out = np.array(values, dtype=np.float64)
    if f",{joined},".find(",-0,") >= 0:  # JSON's integer -0 is 0; float("-0") is -0.0
        out[[i for i, t in enumerate(texts) if t == "-0"]] = -0.0
    return out


def _coordinates(texts: list[str]) -> np.ndarray:
    """A coordinate column as floats (NaN where missing), when every text is a plain number
    (digits, point, exponent and signs: read alike by pandas and Python)."""
    if _plain_numbers(texts):
        try:
            return parse_floats(texts)
        except ValueError:  # empty cells, or texts such as "1-2"
            pass
    good = np.flatnonzero([t not in NA_TEXTS for t in texts])
    values = [texts[i] for i in good]
    if not _plain_numbers(values):
        raise NotQuick("coordinates that are not plain numbers")
    try:
        parsed = parse_floats(values)
    except ValueError:
        raise NotQuick("coordinates that are not numbers") from None
    out = np.full(len(texts), np.nan)
    out[good] = parsed
    return out


def _cell(text: str) -> str:
    """``text`` as a field of a CSV written by :mod:`csv` (quoted where needed)."""
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if re.search(r'[,"\r\n]', text) else text


def _distances(d: np.ndarray) -> np.ndarray:
    """Distances as pandas writes a float column (``repr``-like text, empty where missing)."""
    out = np.full(len(d), "0.0", dtype=object)
    out[np.isnan(d)] = ""
    other = _own_distances(d)
    out[other] = d[other].astype(str)
    return out


def _own_distances(d: np.ndarray) -> np.ndarray:
    """Rows whose distance is neither missing nor 0.0 (written as its own text)."""
    return np.flatnonzero(~np.isnan(d) & ((d != 0) | np.signbit(d)))


#: An added column of few distinct values: its texts, and the index of each row's text.
_Coded = tuple[list[str], np.ndarray]


def _tails(coded: list[_Coded], d: np.ndarray) -> list[str]:
    """The added fields of every row as one text ``",field,...,distance\n"`` (fields quoted
    already): each distinct combination is joined once, and rows at a distance get their own."""
    key = np.isnan(d).astype(np.int64)  # 1: written empty, 0: "0.0" (or the row's own)
    for texts, at in coded:
        key = key * len(texts) + at
    combos, row_combo = np.unique(key, return_inverse=True)
    fields: list[list[str]] = []
    for texts, _ in reversed(coded):
        combos, at = np.divmod(combos, len(texts))
        fields.insert(0, [texts[i] for i in at])
    heads = ["," + ",".join(f) + "," for f in zip(*fields, strict=True)]
    whole = np.array([h + ("" if empty else "0.0") + "\n" for h, empty in zip(heads, combos, strict=True)],
                     dtype=object)[row_combo]
    own = _own_distances(d)
    whole[own] = [f"{h}{t}\n" for h, t in zip(np.array(heads, dtype=object)[row_combo[own]],
                                               d[own].astype(str).tolist(), strict=True)]
    return whole.tolist()


def _write(path: Path, table: _Table, headers: list[str], coded: list[_Coded], d: np.ndarray,
           fast: bool) -> None:
    """The input rows with the added columns, as ``DataFrame.to_csv`` writes them (``fast``:
    the input needs no rewriting and the added texts are quoted already)."""
    if fast:
        # no field of the input needs quoting (no separator, quote or line end in it): each
        # line is written as read, the added fields after it (encoded at once: UTF-8 with BOM)
        head = ",".join([*table.names, *map(_cell, headers)]) + "\n"
        rows = "".join(chain.from_iterable(zip(table.lines, _tails(coded, d), strict=True)))
        with open(path, "wb") as fh:
            fh.write(codecs.BOM_UTF8 + head.encode("utf-8"))
            fh.write(rows.encode("utf-8"))
        return
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        added = [np.array(texts, dtype=object)[at].tolist() for texts, at in coded]
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([*table.names, *headers])
        rows = (["" if t in NA_TEXTS else t for t in ln.split(table.sep)] for ln in table.lines)
        writer.writerows(r + list(f) for r, f in zip(rows, zip(*added, _distances(d), strict=True),
                                                    strict=True))


def _conversions(plan: PlanIndex | GpkgPlan, src: Any) -> list[tuple[Any, Any]]:
    """The coordinate conversions a run needs: the points' CRS to the plan's, and for a plan in
    degrees (read later) its own CRS to WGS84 and to the metric CRS its listed extent points to
    (the choice made from its coordinates agrees but for a plan astride two zones)."""
    dst = plan.crs if isinstance(plan, PlanIndex) else plan.crs()
    wgs84 = resolve_crs("EPSG:4326")
    pairs = [(wgs84 if isinstance(src, str) else src, dst)]  # GCJ-02/BD-09: via WGS84
    if isinstance(plan, GpkgPlan) and dst.is_geographic:
        extent = plan.extent()
        pairs += [(dst, wgs84)] + ([(dst, metric_crs(extent))] if extent else [])
    return [(a, b) for a, b in pairs if not a.equals(b)]


def _build(plan: PlanIndex, rows: int) -> None:
    """Build the plan's raster index, sized to the work (the answers do not depend on it): a
    one-shot call on a small file does not need the fine index a large one pays back."""
    if not plan.built:
        plan.build(plan.cells or int(np.clip(min(500 * max(plan.n_grids, 1), rows // 2),
                                             2**14, 2**20)))


def _points(text: str, sep: str, lon: str | None, lat: str | None
            ) -> tuple[_Table, np.ndarray, np.ndarray]:
    """The table of a CSV's text and its coordinate columns as floats."""
    table = _read_table(text, sep)
    names = table.names
    lon, lat = (lon, lat) if lon is not None and lat is not None else find_lonlat(names)
    if lon not in names or lat not in names:
        raise NotQuick("no coordinate columns")
    return table, _coordinates(table.column(lon)), _coordinates(table.column(lat))


def assign_csv(points: str | Path, plan: PlanIndex | GpkgPlan, out: str | Path, *,
               crs: Any = None,
               lon: str | None = None, lat: str | None = None, for_people: bool = True,
               inputs: tuple[Any, ...] = ()) -> QuickResult:
    """Assign a plain CSV of points and write the rows with their grids to a CSV.

    The same rows, columns and bytes as :func:`gridgis.assignment.assign_file` with the CLI's
    ``format_rows`` (``for_people=True``: the added columns under headers and with values in the
    language in use) or without it.

    Parameters
    ----------
    points
        The CSV (longitude/latitude under any alias, or ``lon``/``lat``).
    plan
        The plan index, or a :class:`GpkgPlan` (read here; the conversion to its CRS is set
        up on another thread meanwhile).
    out
        A ``.csv`` path; checked (never an input) and written beside, then renamed.
    crs
        CRS of the coordinates (default WGS84), as for :func:`gridgis.assignment.assign`.
    lon, lat
        Coordinate columns when the headers are not recognised.
    for_people
        Headers and values of the added columns for people.
    inputs
        Further inputs the output must not overwrite (the plan file).

    Raises
    ------
    NotQuick
        An input the quick path does not take (nothing is written).
    gridgis.errors.OutputError
        The output is an input or cannot be written.

    Examples
    --------
    >>> res = assign_csv("addresses.csv", GpkgPlan("plan.gpkg"), "out.csv")   # doctest: +SKIP
    >>> res.per_status.sum()                                                          # doctest: +SKIP
    100000
    """
    points, out = Path(points), Path(out)
    if out.suffix.lower() != ".csv":
        raise NotQuick("not a CSV output")
    check_output(out, inputs=[points, *inputs], option="--out")
    src = resolve_crs(crs if crs is not None else "EPSG:4326")
    with ThreadPoolExecutor(max_workers=2) as pool:
        # PROJ's searches for the conversions (without the GIL) beside the reading of the CSV
        # and then of the plan (the index is built here: on another thread it would wait for
        # the GIL)
        searching = [pool.submit(transformer, a, b) for a, b in _conversions(plan, src)]
        try:
            text, sep = _read_text(points)
            table, x, y = _points(text, sep, lon, lat)
            plan = plan.read() if isinstance(plan, GpkgPlan) else plan
            _build(plan, len(table.lines))
        finally:
            for search in searching:
                search.result()
        added = [plan.code_column, schema.MATCH, schema.MATCH_REASON, schema.DISTANCE_M]
        headers = [header(schema.GRID_CODE), *(header(c) for c in added[1:])] if for_people else added
        if set(table.names) & {*added, *headers, schema.GRID_CODE}:
            raise NotQuick("the file has columns of an assigned file")
        a = plan.assign_xy(x, y, src, pool=pool)
    codes = plan.category_codes(a)
    per_grid, per_status = plan.counts(a, codes)
    fast = table.sep == "," and not table.has_na_texts()  # lines written as read
    matches = [value(schema.MATCH, m) if for_people else m for m in MATCH_VALUES]
    # as gridgis.people.for_people: reasons get their texts in Chinese, English keeps the API's
    texts = plan.reason_texts() if for_people and get_language() == "zh" else {}
    reasons = [texts.get(r, r) for r in plan.reasons]
    if fast:  # the fast writer joins fields itself
        matches, reasons = [_cell(m) for m in matches], [_cell(r) for r in reasons]
    grids = [*plan.sorted_codes, ""]  # the last: no grid
    coded = [(grids, np.where(codes < 0, len(grids) - 1, codes)), (matches, a.match),
             (reasons, a.reason)]
    with replacing(out) as tmp:
        _write(tmp, table, headers, coded, a.distance, fast)
    return QuickResult(per_grid=per_grid, per_status=per_status)
