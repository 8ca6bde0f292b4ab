"""Grid codes: numbering schemes, stable re-coding after a redraw, and rewriting of big tables.

Three jobs live here:

* :func:`assign_codes` gives a plan its codes. The default :class:`CodeScheme` follows Beijing
  DB11/T 2157-2023: **15 digits = the 12-digit community code + a 3-digit serial**. Basic grids
  are numbered 001–899 and special grids (专属网格) 900–999, each in the numbering order below.
* :func:`recode` re-codes a redrawn plan against the previous one: every grid that is
  essentially unchanged keeps its code, new grids get fresh serials that were never used
  before, and a crosswalk (old_code → new_code with shares and a relation) is returned.
* :func:`recode_table` rewrites CSV/Excel/Parquet tables (households, addresses, events) from
  old codes to new ones with the crosswalk, vectorised (a million rows in about a second).

Numbering order (west→east, north→south)
----------------------------------------
Inside a community each grid is represented by its centroid in a metric CRS. Rows are bands of
height ``h`` counted from the community's northern edge (the largest y of its grids):
``band = floor((y_top - y_centroid) / h)``. Grids are numbered band by band from north to
south and, inside a band, from west to east (increasing x); equal x is broken by y (north
first) and then by input position. ``h`` is :attr:`CodeScheme.band_height_m` when set, else
the typical grid width of the community, ``sqrt(median grid area)`` — so a regular layout of
grids is read like text, one row of grids per band. Each serial range (basic, special …) is
numbered separately in that same order.

Re-coding thresholds
--------------------
Old grid *i* and new grid *j* are compared by the households they share (when a households
layer is given; buildings or addresses, weighted by their ``households`` column or 1 each) or
by area (plans without household data, and grids that hold no households). With
``s_old = w(i∩j) / w(i)`` and ``s_new = w(i∩j) / w(j)``:

* *j keeps i's code* ("same") when ``s_old >= same_threshold`` **and** ``s_new >=
  same_threshold`` (default 0.9, must be > 0.5 so the match is one-to-one), both grids belong
  to the same community and their kinds use the same serial range;
* a pair is *significant* when it shares at least one household, or when it shares at least
  ``min_share`` (default 1 %) of either grid's area; smaller overlaps are digitising noise and
  do not appear in the crosswalk;
* relations of significant pairs: ``same`` (code kept); ``split`` (the old grid went to several
  new grids); ``merged`` (the old grid went to one new grid that also took other old grids);
  ``reshaped`` (one-to-one, but changed beyond the threshold, or moved to another community or
  serial range); an old grid without a significant successor is ``retired``; a new grid
  without a significant predecessor is ``new``.

New codes take, per community and serial range, the serials *after* the highest serial ever
known there (old plan, kept codes and the ``retired`` list); only when the range is exhausted
are unused gaps filled (still never a known code). A range that cannot hold its grids raises
:class:`~gridgis.errors.CodeSchemeError` naming the community.
"""

from __future__ import annotations

import dataclasses
import math
import re
import string
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import schema
from .errors import CodeSchemeError, CRSError, GeometryError, SchemaError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "SerialRange",
    "CodeScheme",
    "DEFAULT_SCHEME",
    "load_scheme",
    "parse_codes",
    "numbering_order",
    "assign_codes",
    "RecodeResult",
    "recode",
    "RecodeTableResult",
    "recode_table",
    "read_crosswalk",
    "RELATIONS",
    "TABLE_STATUSES",
]

RELATIONS = ("same", "split", "merged", "reshaped", "new", "retired")
CROSSWALK_COLUMNS = (
    "old_code", "new_code", "relation", "hh_share", "area_share",
    "new_hh_share", "new_area_share", "households", "area_m2",
)
_ALNUM = set(string.ascii_letters + string.digits)


# ---- schemes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SerialRange:
    """A block of serials: ``prefix`` + serial in ``start..stop`` (inclusive), zero-padded.

    Kinds that share an equal :class:`SerialRange` are numbered in one sequence.
    """

    start: int = 1
    stop: int = 999
    prefix: str = ""

    @property
    def size(self) -> int:
        """How many serials the range holds."""
        return self.stop - self.start + 1


DEFAULT_RANGES: dict[str, SerialRange] = {
    "basic": SerialRange(1, 899),
    "special": SerialRange(900, 999),
}


@dataclass(frozen=True)
class CodeScheme:
    """How grid codes are built: ``community code + separator + prefix + serial``.

    Parameters
    ----------
    parent_length
        Length of the community (社区/村) code that starts every grid code (12 by default).
    serial_width
        Digits of the zero-padded serial (3 by default).
    separator
        Text between the community code and the serial ("" by default, e.g. "-").
    ranges
        Serial range per grid kind. Keys are ``"basic"``, ``"special"`` (every special kind
        without a key of its own) or a kind name (``"school"``, ``"market"`` …). A kind is
        looked up as itself, then as ``"special"`` (non-basic kinds), then ``"basic"``.
        Default: basic 001–899, special 900–999.
    band_height_m
        Height of the north→south bands of the numbering order in metres; ``None`` uses the
        typical grid width of each community (see the module notes).
    digits_only
        Community codes must be all digits (statistical division codes are).

    Raises
    ------
    CodeSchemeError
        On a bad length, width, separator, prefix, or on ranges that overlap or do not fit
        ``serial_width`` digits.

    Examples
    --------
    >>> CodeScheme().format("430302001001", 7)
    '430302001001007'
    >>> CodeScheme(separator="-", ranges={"basic": SerialRange(1, 99),
    ...            "special": SerialRange(1, 99, prefix="Z")}, serial_width=2
    ...            ).format("430302001001", 3, kind="school")
    '430302001001-Z03'
    """

    parent_length: int = 12
    serial_width: int = 3
    separator: str = ""
    ranges: Mapping[str, SerialRange] = field(default_factory=lambda: dict(DEFAULT_RANGES))
    band_height_m: float | None = None
    digits_only: bool = True

    def __post_init__(self) -> None:
        def bad(msg: str, where: str, fix: str | None = None) -> CodeSchemeError:
            return CodeSchemeError(msg, where=where, fix=fix)

        if not isinstance(self.parent_length, int) or isinstance(self.parent_length, bool) \
                or self.parent_length < 1:
            raise bad(f"parent_length must be a positive integer, got {self.parent_length!r}",
                      "parent_length")
        if not isinstance(self.serial_width, int) or isinstance(self.serial_width, bool) \
                or not 1 <= self.serial_width <= 9:
            raise bad(f"serial_width must be an integer 1..9, got {self.serial_width!r}",
                      "serial_width")
        if not isinstance(self.separator, str) or any(c in _ALNUM for c in self.separator):
            raise bad(f"separator must be text without letters or digits, got {self.separator!r}",
                      "separator", "use '', '-', '_' or '.'")
        if self.band_height_m is not None and not (
            isinstance(self.band_height_m, (int, float)) and self.band_height_m > 0
            and math.isfinite(self.band_height_m)
        ):
            raise bad(f"band_height_m must be a positive number, got {self.band_height_m!r}",
                      "band_height_m")
        if not isinstance(self.ranges, Mapping) or "basic" not in self.ranges:
            raise bad("ranges must be a mapping with at least a 'basic' entry", "ranges")
        limit = 10 ** self.serial_width - 1
        for key, rng in self.ranges.items():
            if not isinstance(rng, SerialRange):
                raise bad(f"range {key!r} must be a SerialRange, got {type(rng).__name__}",
                          f"ranges.{key}")
            for name in ("start", "stop"):
                value = getattr(rng, name)
                if not isinstance(value, int) or isinstance(value, bool):
                    raise bad(f"{name} must be an integer, got {value!r}", f"ranges.{key}")
            if not 0 <= rng.start <= rng.stop <= limit:
                raise bad(
                    f"range {rng.start}..{rng.stop} does not fit 0 <= start <= stop <= {limit} "
                    f"({self.serial_width}-digit serials)", f"ranges.{key}",
                    "narrow the range or widen serial_width",
                )
            if not isinstance(rng.prefix, str) or any(c not in _ALNUM for c in rng.prefix):
                raise bad(f"prefix must be ASCII letters/digits, got {rng.prefix!r}",
                          f"ranges.{key}")
        pools = list(dict.fromkeys(self.ranges.values()))
        for a_i, a in enumerate(pools):
            for b in pools[a_i + 1:]:
                if a.prefix == b.prefix and a.start <= b.stop and b.start <= a.stop:
                    keys = [k for k, v in self.ranges.items() if v in (a, b)]
                    raise bad(
                        f"ranges {keys} overlap ({a.start}..{a.stop} and {b.start}..{b.stop} "
                        f"with prefix {a.prefix!r}) and would give two grids one code",
                        "ranges", "make them disjoint, give one a prefix, or make them equal "
                        "to share one sequence",
                    )

    # -- lookups --------------------------------------------------------------------------------
    def range_key(self, kind: object = "basic") -> str:
        """Key of :attr:`ranges` that numbers grids of ``kind``."""
        k = "basic" if kind is None or (isinstance(kind, float) and math.isnan(kind)) else str(kind)
        if k in self.ranges:
            return k
        if k != "basic" and "special" in self.ranges:
            return "special"
        return "basic"

    def range_for(self, kind: object = "basic") -> SerialRange:
        """The :class:`SerialRange` that numbers grids of ``kind``."""
        return self.ranges[self.range_key(kind)]

    def format(self, community: str, serial: int, kind: object = "basic") -> str:
        """Code of serial ``serial`` of ``kind`` in community ``community``."""
        rng = self.range_for(kind)
        if not rng.start <= serial <= rng.stop:
            raise CodeSchemeError(f"serial {serial} outside {rng.start}..{rng.stop}",
                                  where=f"kind {kind!r}")
        return f"{community}{self.separator}{rng.prefix}{serial:0{self.serial_width}d}"

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (TOML-compatible, ``band_height_m`` left out when ``None``)."""
        out: dict[str, Any] = {
            "parent_length": self.parent_length,
            "serial_width": self.serial_width,
            "separator": self.separator,
            "digits_only": self.digits_only,
            "ranges": {k: dataclasses.asdict(v) for k, v in self.ranges.items()},
        }
        if self.band_height_m is not None:
            out["band_height_m"] = self.band_height_m
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: object | None = None) -> CodeScheme:
        """Build a scheme from a mapping (optionally wrapped in a ``codes`` key).

        Raises
        ------
        CodeSchemeError
            On unknown keys or values of the wrong type, naming the key.
        """
        if set(data) == {"codes"} and isinstance(data["codes"], Mapping):
            data = data["codes"]
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CodeSchemeError(
                f"unknown key(s) {unknown}; expected some of {sorted(known)}",
                source=source, where="codes",
            )
        kwargs = dict(data)
        if "ranges" in kwargs:
            raw = kwargs["ranges"]
            if not isinstance(raw, Mapping):
                raise CodeSchemeError("ranges must be a table of {kind: {start, stop, prefix}}",
                                      source=source, where="codes.ranges")
            ranges: dict[str, SerialRange] = {}
            rfields = {f.name for f in dataclasses.fields(SerialRange)}
            for key, spec in raw.items():
                if isinstance(spec, SerialRange):
                    ranges[str(key)] = spec
                    continue
                if not isinstance(spec, Mapping) or set(spec) - rfields:
                    raise CodeSchemeError(
                        f"range must be a table with keys {sorted(rfields)}, got {spec!r}",
                        source=source, where=f"codes.ranges.{key}",
                    )
                ranges[str(key)] = SerialRange(**spec)
            kwargs["ranges"] = ranges
        try:
            return cls(**kwargs)
        except CodeSchemeError as exc:
            raise CodeSchemeError(exc.message, source=source, where=f"codes.{exc.where}",
                                  fix=exc.fix) from None


DEFAULT_SCHEME = CodeScheme()


def load_scheme(scheme: CodeScheme | Mapping[str, Any] | str | Path | None = None) -> CodeScheme:
    """Load a :class:`CodeScheme` from a scheme, a mapping, a TOML file, or defaults (``None``).

    The TOML file holds the scheme's keys at top level or under ``[codes]``::

        [codes]
        parent_length = 12
        serial_width = 3
        separator = ""
        [codes.ranges.basic]
        start = 1
        stop = 899
        [codes.ranges.special]     # all special kinds without a range of their own
        start = 900
        stop = 999
        [codes.ranges.school]      # schools get "X01".."X99"-style serials
        prefix = "X"
        start = 1
        stop = 99

    Raises
    ------
    CodeSchemeError
        If the file cannot be read or parsed, or the scheme is invalid.
    """
    if scheme is None:
        return DEFAULT_SCHEME
    if isinstance(scheme, CodeScheme):
        return scheme
    if isinstance(scheme, Mapping):
        return CodeScheme.from_dict(scheme)
    path = Path(scheme)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CodeSchemeError("code scheme file not found", source=path) from None
    except UnicodeDecodeError as exc:
        raise CodeSchemeError(f"code scheme file is not UTF-8 ({exc.reason})", source=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise CodeSchemeError(f"not valid TOML: {exc}", source=path) from None
    return CodeScheme.from_dict(data, source=path)


# ---- small vectorised helpers ----------------------------------------------------------------------


def _as_text(value: object) -> object:
    """One code value as text (see :func:`gridgis.schema.code_text`); inexact numbers refused."""
    text = schema.code_text(value)
    if text is None:
        raise SchemaError(f"code {value!r} is not exact: its digits were lost when it was stored "
                          "as a number", fix="store the codes as text and export the file again")
    return text


def _codes_factorized(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Factorize a column of codes: ``(row -> unique index or -1, unique texts)``.

    Numbers become text (``430302001001007.0`` → ``'430302001001007'``), text is stripped,
    empty → missing. Only the distinct values are converted, so this is fast on millions of rows.
    """
    idx, uniques = pd.factorize(pd.Series(values, copy=False), use_na_sentinel=True)
    texts = pd.Series([_as_text(u) for u in np.asarray(uniques, dtype=object)], dtype=object)
    t_idx, t_uniq = pd.factorize(texts, use_na_sentinel=True)
    idx = np.asarray(idx, dtype=np.int64)
    if len(t_idx):
        idx = np.where(idx >= 0, np.asarray(t_idx, dtype=np.int64)[np.clip(idx, 0, None)], -1)
    return idx, np.asarray(t_uniq, dtype=object)


def _code_series(values: Any, index: pd.Index | None = None) -> pd.Series:
    idx, texts = _codes_factorized(values)
    out = np.empty(len(idx), dtype=object)
    ok = idx >= 0
    out[ok] = texts[idx[ok]]
    out[~ok] = None
    return pd.Series(out, index=index, dtype=object)


def parse_codes(codes: Iterable[object], scheme: CodeScheme | Mapping | str | Path | None = None
                ) -> pd.DataFrame:
    """Split grid codes into community code, prefix and serial under ``scheme``.

    Returns
    -------
    pandas.DataFrame
        One row per input code (same order) with ``code``, ``community_code``, ``prefix``,
        ``serial`` (nullable int), ``range_key`` (the first range key whose prefix and bounds
        hold the serial) and ``valid`` (the code fits the scheme).

    Examples
    --------
    >>> p = parse_codes(["430302001001007", "430302001001901", "bad"])
    >>> p["community_code"][0], int(p["serial"][1]), p["range_key"][1], p["valid"].tolist()
    ('430302001001', 901, 'special', [True, True, False])
    """
    sch = load_scheme(scheme)
    idx, uniq = _codes_factorized(list(codes) if not isinstance(codes, (pd.Series, np.ndarray))
                                  else codes)
    pattern = (rf"^(?P<community_code>.{{{sch.parent_length}}}){re.escape(sch.separator)}"
               rf"(?P<prefix>[A-Za-z0-9]*?)(?P<serial>\d{{{sch.serial_width}}})$")
    u = pd.Series(uniq, dtype=object).astype("string")
    parts = u.str.extract(pattern)
    parts["community_code"] = parts["community_code"].astype(object)
    if sch.digits_only:
        bad = ~parts["community_code"].fillna("x").str.fullmatch(r"\d+").astype(bool)
        parts.loc[bad, :] = pd.NA
    serial = pd.to_numeric(parts["serial"], errors="coerce").astype("Int64")
    prefix = parts["prefix"].astype(object)
    key = pd.Series(pd.NA, index=parts.index, dtype=object)
    for rkey, rng in sch.ranges.items():
        hit = key.isna() & (prefix == rng.prefix).fillna(False).astype(bool) \
            & (serial >= rng.start).fillna(False).astype(bool) \
            & (serial <= rng.stop).fillna(False).astype(bool)
        key[hit] = rkey
    valid = key.notna().to_numpy()
    sentinel = len(uniq)  # an all-missing row for missing inputs
    take = np.where(idx >= 0, idx, sentinel)

    def col(values: Any, dtype: Any = object) -> Any:
        arr = pd.array(list(np.asarray(values, dtype=object)) + [pd.NA], dtype=dtype)
        return arr.take(take)

    keep = np.r_[valid, False]
    out = pd.DataFrame({
        "code": col(uniq),
        schema.COMMUNITY_CODE: col(np.where(valid, parts["community_code"].to_numpy(object),
                                            pd.NA)),
        "prefix": col(np.where(valid, prefix.to_numpy(object), pd.NA)),
        "serial": col(np.where(valid, serial.to_numpy(object), pd.NA), "Int64"),
        "range_key": col(np.where(valid, key.to_numpy(object), pd.NA)),
        "valid": keep[take],
    })
    return out


# ---- plans ------------------------------------------------------------------------------------------


def _metric(gdf: gpd.GeoDataFrame, crs: Any = None) -> gpd.GeoDataFrame:
    from .crs import to_metric

    return to_metric(gdf, crs)


def _check_plan(grids: object, what: str) -> gpd.GeoDataFrame:
    if not isinstance(grids, gpd.GeoDataFrame):
        raise SchemaError(f"{what} must be a GeoDataFrame, got {type(grids).__name__}",
                          source=what, fix="read it with gridgis.io.read_vector")
    if grids.crs is None:
        raise CRSError("layer has no CRS", source=what,
                       fix="set it, e.g. grids.set_crs('EPSG:4547')")
    geom = grids.geometry.array
    bad = shapely.is_missing(np.asarray(geom)) | shapely.is_empty(np.asarray(geom))
    types = shapely.get_type_id(np.asarray(geom))
    bad |= ~np.isin(types, (3, 6))  # Polygon, MultiPolygon
    if bad.any():
        rows = list(grids.index[bad][:10])
        raise GeometryError(f"{int(bad.sum())} grid(s) without a polygon geometry",
                            source=what, where=f"rows {rows}",
                            fix="drop or repair these grids (gridgis.repair)")
    return grids


def _community_codes(plan: gpd.GeoDataFrame, scheme: CodeScheme, communities: Any,
                     what: str) -> np.ndarray:
    """Community code of every grid as text (taken from the column or by location)."""
    if schema.COMMUNITY_CODE in plan.columns:
        codes = _code_series(plan[schema.COMMUNITY_CODE], plan.index)
    else:
        codes = pd.Series(None, index=plan.index, dtype=object)
    need = codes.isna().to_numpy()
    if need.any():
        if communities is None:
            rows = list(plan.index[need][:10])
            raise SchemaError(
                f"{int(need.sum())} grid(s) have no community_code", source=what,
                where=f"rows {rows}",
                fix="add a community_code column or pass communities= to locate the grids",
            )
        comm = _check_communities(communities)
        pts = plan.geometry[need].to_crs(comm.crs).representative_point()
        tree = shapely.STRtree(np.asarray(comm.geometry.array))
        pi, ci = tree.query(np.asarray(pts.array), predicate="intersects")
        first = _first_hit(pi, ci, int(need.sum()))
        comm_codes = _code_series(comm[schema.CODE]).to_numpy()
        found = first >= 0
        filled = np.full(int(need.sum()), None, dtype=object)
        filled[found] = comm_codes[first[found]]
        if (~found).any():
            rows = list(plan.index[need][~found][:10])
            raise GeometryError(f"{int((~found).sum())} grid(s) lie in no community",
                                source=what, where=f"rows {rows}",
                                fix="check the CRS of grids and communities")
        codes = codes.copy()
        codes[need] = filled
    values = codes.to_numpy(dtype=object)
    lengths = np.array([len(v) for v in values])
    bad = lengths != scheme.parent_length
    if scheme.digits_only:
        bad |= ~np.array([v.isdigit() and v.isascii() for v in values], dtype=bool)
    if bad.any():
        sample = sorted(set(values[bad]))[:5]
        raise CodeSchemeError(
            f"community code(s) {sample} do not have {scheme.parent_length} "
            f"{'digits' if scheme.digits_only else 'characters'}",
            source=what, where=f"rows {list(plan.index[bad][:10])}",
            fix="use the 12-digit statistical division codes or set parent_length in the scheme",
        )
    return values


def _check_communities(communities: Any) -> gpd.GeoDataFrame:
    if not isinstance(communities, gpd.GeoDataFrame):
        raise SchemaError("communities must be a GeoDataFrame", source="communities")
    comm = schema.normalize_columns(communities, required=[schema.CODE], source="communities")
    if comm.crs is None:
        raise CRSError("layer has no CRS", source="communities")
    return comm


def _first_hit(point_idx: np.ndarray, geom_idx: np.ndarray, n: int) -> np.ndarray:
    """For query results, the smallest geometry index per point (``-1`` when none)."""
    out = np.full(n, -1, dtype=np.int64)
    if len(point_idx):
        order = np.lexsort((geom_idx, point_idx))
        p, g = point_idx[order], geom_idx[order]
        first = np.ones(len(p), dtype=bool)
        first[1:] = p[1:] != p[:-1]
        out[p[first]] = g[first]
    return out


def _kinds(plan: gpd.GeoDataFrame) -> np.ndarray:
    if schema.KIND not in plan.columns:
        return np.full(len(plan), "basic", dtype=object)
    kinds = plan[schema.KIND].astype(object).to_numpy()
    kinds = np.where(pd.isna(kinds), "basic", kinds).astype(object)
    return np.array([str(k).strip() or "basic" for k in kinds], dtype=object) if len(kinds) \
        else kinds


def _pools(kinds: np.ndarray, scheme: CodeScheme) -> np.ndarray:
    """Serial range (the numbering pool) of every grid."""
    uniq, inv = np.unique(kinds.astype(str), return_inverse=True)
    pools = np.array([scheme.range_for(k) for k in uniq], dtype=object)
    return pools[inv.reshape(-1)] if len(kinds) else np.array([], dtype=object)


def _order_keys(metric_geoms: np.ndarray, community: np.ndarray,
                band_height_m: float | None) -> np.ndarray:
    """Position of every grid in the west→east, north→south order of its community."""
    n = len(metric_geoms)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    cent = shapely.centroid(metric_geoms)
    cx, cy = shapely.get_x(cent), shapely.get_y(cent)
    ymax = shapely.bounds(metric_geoms)[:, 3]
    area = shapely.area(metric_geoms)
    comm_id, _ = pd.factorize(pd.Series(community, dtype=object), sort=True)
    frame = pd.DataFrame({"c": comm_id, "ymax": ymax, "area": area})
    grouped = frame.groupby("c")
    top = grouped["ymax"].transform("max").to_numpy()
    if band_height_m is None:
        h = np.sqrt(grouped["area"].transform("median").to_numpy())
        h = np.where(np.isfinite(h) & (h > 0), h, 1.0)
    else:
        h = np.full(n, float(band_height_m))
    band = np.floor((top - cy) / h + 1e-9).astype(np.int64)
    order = np.lexsort((np.arange(n), -cy, cx, band, comm_id))
    pos = np.empty(n, dtype=np.int64)
    # position inside the community
    sorted_comm = comm_id[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_comm)) + 1]
    run = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    pos[order] = run
    return pos


def numbering_order(grids: gpd.GeoDataFrame, scheme: CodeScheme | Mapping | str | Path | None = None,
                    communities: gpd.GeoDataFrame | None = None) -> pd.Series:
    """Position (0, 1, 2 …) of every grid in the west→east, north→south order of its community.

    See the module notes for the exact rule; all grids of a community are ordered together
    (each serial range then numbers its grids in this order).
    """
    sch = load_scheme(scheme)
    plan = _check_plan(grids, "grids")
    community = _community_codes(plan, sch, communities, "grids")
    geoms = np.asarray(_metric(plan).geometry.array)
    return pd.Series(_order_keys(geoms, community, sch.band_height_m), index=plan.index,
                     name="order")


def _allocate(community: np.ndarray, pools: np.ndarray, order: np.ndarray, need: np.ndarray,
              used: Mapping[tuple[str, SerialRange], set[int]], names: Mapping[str, str],
              what: str) -> np.ndarray:
    """Give serials to the grids in ``need``: per (community, pool), in ``order``, after the
    highest used serial, then in unused gaps. Raises CodeSchemeError when a pool is full."""
    serial = np.full(len(community), -1, dtype=np.int64)
    idx = np.flatnonzero(need)
    if len(idx) == 0:
        return serial
    pool_ids: dict[SerialRange, int] = {}
    for p in pools[idx]:
        pool_ids.setdefault(p, len(pool_ids))
    by_id = {i: p for p, i in pool_ids.items()}
    frame = pd.DataFrame({"c": community[idx], "p": [pool_ids[p] for p in pools[idx]],
                          "o": order[idx], "i": idx})
    problems: list[str] = []
    for (comm, pid), grp in frame.sort_values(["c", "p", "o", "i"]).groupby(["c", "p"], sort=True):
        pool = by_id[pid]
        taken = used.get((comm, pool), set())
        top = max(taken, default=pool.start - 1)
        values = np.arange(pool.start, pool.stop + 1)
        known = np.isin(values, np.fromiter(taken, dtype=np.int64, count=len(taken)))
        avail = np.r_[values[values > top], values[(values <= top) & ~known]]
        k = len(grp)
        if len(avail) < k:
            label = f"{comm} {names[comm]}" if names.get(comm) else comm
            problems.append(
                f"community {label}: {k} grid(s) need serials in {pool.prefix}"
                f"{pool.start}..{pool.stop} but only {len(avail)} are free"
                f"{f' ({len(taken)} taken)' if taken else ''}"
            )
            continue
        serial[grp["i"].to_numpy()] = avail[:k]
    if problems:
        raise CodeSchemeError(
            "scheme cannot hold the grids: " + "; ".join(problems), source=what,
            where=problems[0].split(":")[0],
            fix="widen serial_width or the serial range of that kind, or merge grids",
        )
    return serial


def _format(community: np.ndarray, pools: np.ndarray, serial: np.ndarray,
            scheme: CodeScheme) -> np.ndarray:
    width = scheme.serial_width
    prefixes = np.array([p.prefix for p in pools], dtype=object)
    text = pd.Series(serial).astype(str).str.zfill(width).to_numpy(dtype=object)
    return (pd.Series(community, dtype=object) + scheme.separator
            + pd.Series(prefixes, dtype=object) + pd.Series(text, dtype=object)).to_numpy(dtype=object)


def _community_names(communities: gpd.GeoDataFrame | None) -> dict[str, str]:
    if communities is None:
        return {}
    comm = _check_communities(communities)
    if schema.NAME not in comm.columns:
        return {}
    codes = _code_series(comm[schema.CODE]).to_numpy()
    return {c: str(n) for c, n in zip(codes, comm[schema.NAME], strict=True) if c is not None}


def _with_codes(plan: gpd.GeoDataFrame, community: np.ndarray, codes: np.ndarray
                ) -> gpd.GeoDataFrame:
    """Copy of ``plan`` with ``community_code`` and ``grid_code`` set (new columns go first)."""
    out = plan.copy()
    for name, values in ((schema.COMMUNITY_CODE, community), (schema.GRID_CODE, codes)):
        series = pd.Series(values, index=out.index, dtype=object)
        if name in out.columns:
            out[name] = series
        else:
            out.insert(0, name, series)
    return out


def assign_codes(grids: gpd.GeoDataFrame,
                 scheme: CodeScheme | Mapping | str | Path | None = None,
                 communities: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Give every grid of a plan its code (``grid_code``), numbering each community afresh.

    Parameters
    ----------
    grids
        The plan (a GeoDataFrame of polygons with a CRS). ``community_code`` is used when
        present; grids without one are located in ``communities``. ``kind`` selects the serial
        range (missing → ``"basic"``).
    scheme
        A :class:`CodeScheme`, a mapping, a TOML file or ``None`` for the default 15-digit
        scheme (12-digit community code + 3-digit serial; basic 001–899, special 900–999).
    communities
        Community polygons (``code``, optional ``name``): used to find missing community codes
        and to name communities in error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``grids`` (same rows, order and CRS) with ``grid_code`` set and
        ``community_code`` filled. Serials run west→east, north→south (module notes).

    Raises
    ------
    CodeSchemeError
        If a community code does not fit the scheme, or a community has more grids of a kind
        than its serial range holds (the message names the community).

    Examples
    --------
    >>> plan = assign_codes(grids)                                   # doctest: +SKIP
    >>> plan = assign_codes(grids, {"separator": "-", "serial_width": 4,
    ...                             "ranges": {"basic": {"start": 1, "stop": 8999},
    ...                                        "special": {"start": 9000, "stop": 9999}}}
    ...                     )                                        # doctest: +SKIP
    """
    sch = load_scheme(scheme)
    plan = _check_plan(grids, "grids")
    community = _community_codes(plan, sch, communities, "grids")
    pools = _pools(_kinds(plan), sch)
    geoms = np.asarray(_metric(plan).geometry.array)
    order = _order_keys(geoms, community, sch.band_height_m)
    serial = _allocate(community, pools, order, np.ones(len(plan), dtype=bool), {},
                       _community_names(communities), "grids")
    return _with_codes(plan, community, _format(community, pools, serial, sch))


# ---- re-coding -------------------------------------------------------------------------------------


@dataclass
class RecodeResult:
    """Result of :func:`recode`.

    Attributes
    ----------
    plan
        The new plan with its ``grid_code`` (kept or fresh).
    crosswalk
        One row per significant (old grid, new grid) pair plus ``new``/``retired`` rows; columns
        ``old_code, new_code, relation, hh_share, area_share, new_hh_share, new_area_share,
        households, area_m2`` (shares: of the old grid's households/area that lie in the new
        grid; ``new_*``: of the new grid's; NaN where undefined).
    retired
        Codes of the old plan that the new plan does not keep (never to be used again).
    """

    plan: gpd.GeoDataFrame
    crosswalk: pd.DataFrame
    retired: list[str] = field(default_factory=list)

    def summary(self) -> pd.Series:
        """Number of crosswalk rows per relation."""
        return self.crosswalk["relation"].value_counts().reindex(list(RELATIONS), fill_value=0)

    @property
    def kept(self) -> list[str]:
        """Codes that carry over unchanged."""
        cw = self.crosswalk
        return sorted(cw.loc[cw["relation"] == "same", "new_code"].tolist())


def _weights_points(households: gpd.GeoDataFrame, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(households, gpd.GeoDataFrame):
        raise SchemaError("households must be a GeoDataFrame of buildings or addresses",
                          source="households")
    if households.crs is None:
        raise CRSError("layer has no CRS", source="households")
    hh = schema.normalize_columns(households, source="households")
    geoms = np.asarray(hh.geometry.to_crs(crs).array)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    pts = np.asarray(geoms, dtype=object).copy()
    poly = ~missing & (shapely.get_type_id(geoms) != 0)
    if poly.any():
        pts[poly] = shapely.point_on_surface(geoms[poly])
    if schema.HOUSEHOLDS in hh.columns:
        w = pd.to_numeric(hh[schema.HOUSEHOLDS], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(w) & ~pd.isna(hh[schema.HOUSEHOLDS]).to_numpy()
        bad |= np.isfinite(w) & (w < 0)
        if bad.any():
            raise SchemaError("households must be non-negative numbers", source="households",
                              where=f"rows {list(hh.index[bad][:10])}")
        w = np.nan_to_num(w, nan=0.0)
    else:
        w = np.ones(len(hh))
    w = np.where(missing, 0.0, w)
    pts = np.where(missing, None, pts)
    return pts, w


def _locate(points: np.ndarray, geoms: np.ndarray, tree: shapely.STRtree | None = None
            ) -> np.ndarray:
    """Index of the polygon holding each point (smallest index on shared edges; -1 if none)."""
    if len(points) == 0:
        return np.zeros(0, dtype=np.int64)
    tree = tree or shapely.STRtree(geoms)
    pi, gi = tree.query(points, predicate="intersects")
    return _first_hit(pi, gi, len(points))


def _overlaps(old: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tree = shapely.STRtree(old)
    nj, oi = tree.query(new, predicate="intersects")
    if len(nj) == 0:
        return oi, nj, np.zeros(0)
    try:
        area = shapely.area(shapely.intersection(new[nj], old[oi]))
    except shapely.errors.GEOSException:
        area = shapely.area(shapely.intersection(shapely.make_valid(new[nj]),
                                                 shapely.make_valid(old[oi])))
    keep = area > 0
    return oi[keep], nj[keep], area[keep]


def recode(old_plan: gpd.GeoDataFrame, new_plan: gpd.GeoDataFrame,
           households: gpd.GeoDataFrame | None = None,
           scheme: CodeScheme | Mapping | str | Path | None = None,
           retired: Iterable[str] | None = None, *,
           same_threshold: float = 0.9, min_share: float = 0.01,
           communities: gpd.GeoDataFrame | None = None) -> RecodeResult:
    """Code a redrawn plan so that every essentially unchanged grid keeps its old code.

    Parameters
    ----------
    old_plan
        The previous plan with its ``grid_code`` (unique) and ``community_code`` (taken from
        the codes when absent).
    new_plan
        The redrawn plan; its ``grid_code`` column, if any, is replaced.
    households
        Buildings or addresses (polygons or points, with a ``households`` column or counting 1
        each) used to weigh overlaps; without them, overlaps are weighed by area.
    scheme
        Code scheme of the new codes (default: 15 digits, see :class:`CodeScheme`).
    retired
        Codes retired in earlier rounds: never reused (codes of the old plan that are not kept
        are retired automatically). ``gridgis.versions.known_codes(path)`` lists every code
        a versions file has ever held.
    same_threshold
        Share (both ways, > 0.5) above which a new grid keeps an old grid's code.
    min_share
        Area share (of either grid) below which an overlap without households is noise.
    communities
        Community polygons, to locate new grids that lack ``community_code``.

    Returns
    -------
    RecodeResult
        ``plan`` (the coded new plan), ``crosswalk`` and ``retired`` (see the module notes for
        relations and thresholds).

    Raises
    ------
    SchemaError
        If old codes are missing or duplicated.
    CodeSchemeError
        If a community runs out of serials.

    Examples
    --------
    >>> result = recode(plan_2023, plan_2024, households=buildings)   # doctest: +SKIP
    >>> result.crosswalk.to_csv("crosswalk.csv", index=False)         # doctest: +SKIP
    """
    sch = load_scheme(scheme)
    if not 0.5 < same_threshold <= 1.0:
        raise CodeSchemeError(f"same_threshold must be in (0.5, 1], got {same_threshold}",
                              where="same_threshold")
    if not 0.0 <= min_share < 0.5:
        raise CodeSchemeError(f"min_share must be in [0, 0.5), got {min_share}",
                              where="min_share")
    old_label, new_label = schema.label(old_plan, "old_plan"), schema.label(new_plan, "new_plan")
    old = _check_plan(old_plan, old_label)
    new = _check_plan(new_plan, new_label)
    for plan, what in ((old, old_label), (new, new_label)):
        if len(plan) == 0:
            raise SchemaError("plan has no grids", source=what)
    if schema.GRID_CODE not in old.columns:
        raise SchemaError("old plan has no grid_code column", source=old_label,
                          fix="code it first with gridgis.codes.assign_codes")
    old_codes = _code_series(old[schema.GRID_CODE], old.index).to_numpy(dtype=object)
    if pd.isna(old_codes).any():
        rows = list(old.index[pd.isna(old_codes)][:10])
        raise SchemaError("old plan has grids without a code", source=old_label,
                          where=f"rows {rows}")
    dup = pd.Series(old_codes).duplicated(keep=False).to_numpy()
    if dup.any():
        raise SchemaError(f"old plan has duplicate codes {sorted(set(old_codes[dup]))[:5]}",
                          source=old_label, where=f"rows {list(old.index[dup][:10])}",
                          fix="every grid needs its own code")
    if schema.COMMUNITY_CODE in old.columns:
        old_comm = _code_series(old[schema.COMMUNITY_CODE]).to_numpy(dtype=object)
    else:
        old_comm = parse_codes(old_codes, sch)[schema.COMMUNITY_CODE].to_numpy(dtype=object)
    new_comm = _community_codes(new, sch, communities, "new_plan")
    old_pools, new_pools = _pools(_kinds(old), sch), _pools(_kinds(new), sch)

    from .crs import metric_crs

    mcrs = metric_crs(new)
    og = np.asarray(old.geometry.to_crs(mcrs).array)
    ng = np.asarray(new.geometry.to_crs(mcrs).array)
    n_old, n_new = len(og), len(ng)
    oi, nj, area = _overlaps(og, ng)
    a_old, a_new = shapely.area(og), shapely.area(ng)

    # pairs keyed by oi * n_new + nj
    key_area = oi.astype(np.int64) * n_new + nj
    use_hh = households is not None
    if use_hh:
        pts, w = _weights_points(households, mcrs)
        po, pn = _locate(pts, og), _locate(pts, ng)
        hh_old = np.bincount(po[po >= 0], weights=w[po >= 0], minlength=n_old)
        hh_new = np.bincount(pn[pn >= 0], weights=w[pn >= 0], minlength=n_new)
        both = (po >= 0) & (pn >= 0) & (w > 0)
        kp = po[both].astype(np.int64) * n_new + pn[both]
        key_hh, inv = np.unique(kp, return_inverse=True)
        hh_pair = np.bincount(inv.reshape(-1), weights=w[both], minlength=len(key_hh))
    else:
        hh_old, hh_new = np.zeros(n_old), np.zeros(n_new)
        key_hh, hh_pair = np.zeros(0, dtype=np.int64), np.zeros(0)
    keys = np.union1d(key_area, key_hh)
    p_area = np.zeros(len(keys))
    p_area[np.searchsorted(keys, key_area)] = area
    p_hh = np.zeros(len(keys))
    p_hh[np.searchsorted(keys, key_hh)] = hh_pair
    p_old, p_new = keys // n_new if n_new else keys, keys % n_new if n_new else keys

    with np.errstate(divide="ignore", invalid="ignore"):
        area_share = p_area / a_old[p_old]
        new_area_share = p_area / a_new[p_new]
        hh_share = np.where(hh_old[p_old] > 0, p_hh / hh_old[p_old], np.nan)
        new_hh_share = np.where(hh_new[p_new] > 0, p_hh / hh_new[p_new], np.nan)
    s_old = np.where(np.isfinite(hh_share), hh_share, area_share)
    s_new = np.where(np.isfinite(new_hh_share), new_hh_share, new_area_share)
    significant = (p_hh > 0) | (np.maximum(area_share, new_area_share) >= min_share)
    p_old, p_new = p_old[significant], p_new[significant]
    p_area, p_hh = p_area[significant], p_hh[significant]
    area_share, new_area_share = area_share[significant], new_area_share[significant]
    hh_share, new_hh_share = hh_share[significant], new_hh_share[significant]
    s_old, s_new = s_old[significant], s_new[significant]

    same = (s_old >= same_threshold) & (s_new >= same_threshold)
    same &= old_comm[p_old] == new_comm[p_new]
    same &= np.array([a == b for a, b in zip(old_pools[p_old], new_pools[p_new], strict=True)],
                     dtype=bool)
    codes = np.full(n_new, None, dtype=object)
    codes[p_new[same]] = old_codes[p_old[same]]
    kept_old = np.zeros(n_old, dtype=bool)
    kept_old[p_old[same]] = True

    # serials already known per (community, pool): old plan, kept codes, retired list
    extra_retired = [] if retired is None else _code_series(list(retired)).dropna().tolist()
    known = list(old_codes) + extra_retired
    parsed = parse_codes(known, sch)
    used: dict[tuple[str, SerialRange], set[int]] = {}
    valid = parsed[parsed["valid"]]
    for comm, rkey, ser in zip(valid[schema.COMMUNITY_CODE], valid["range_key"], valid["serial"],
                               strict=True):
        used.setdefault((comm, sch.ranges[rkey]), set()).add(int(ser))
    need = np.array([c is None for c in codes], dtype=bool)
    order = _order_keys(ng, new_comm, sch.band_height_m)
    serial = _allocate(new_comm, new_pools, order, need, used,
                       _community_names(communities), "new_plan")
    if need.any():
        codes[need] = _format(new_comm[need], new_pools[need], serial[need], sch)

    # relations
    n_succ = np.bincount(p_old, minlength=n_old)
    n_pred = np.bincount(p_new, minlength=n_new)
    relation = np.where(
        same, "same",
        np.where((n_succ[p_old] == 1) & (n_pred[p_new] == 1), "reshaped",
                 np.where(n_succ[p_old] >= 2, "split", "merged")),
    ).astype(object)
    pairs = pd.DataFrame({
        "old_code": old_codes[p_old], "new_code": codes[p_new], "relation": relation,
        "hh_share": hh_share, "area_share": area_share,
        "new_hh_share": new_hh_share, "new_area_share": new_area_share,
        "households": p_hh if use_hh else np.nan, "area_m2": p_area,
    })
    gone = np.flatnonzero(n_succ == 0)
    born = np.flatnonzero(n_pred == 0)
    extra = pd.DataFrame({
        "old_code": np.r_[old_codes[gone], np.full(len(born), None, dtype=object)],
        "new_code": np.r_[np.full(len(gone), None, dtype=object), codes[born]],
        "relation": ["retired"] * len(gone) + ["new"] * len(born),
    })
    frames = [f for f in (pairs, extra) if len(f)]
    cw = pd.concat(frames, ignore_index=True) if frames else pairs
    cw = cw.reindex(columns=list(CROSSWALK_COLUMNS))
    for col in ("old_code", "new_code", "relation"):
        cw[col] = cw[col].astype(object)
    for col in CROSSWALK_COLUMNS[3:]:
        cw[col] = cw[col].astype(float)
    cw = cw.sort_values(["old_code", "new_code"], na_position="last", kind="stable")
    cw = cw.reset_index(drop=True)

    out = _with_codes(new, new_comm, codes)
    return RecodeResult(plan=out, crosswalk=cw, retired=sorted(old_codes[~kept_old].tolist()))


# ---- rewriting tables -------------------------------------------------------------------------------

TABLE_STATUSES = (
    "kept",             # code unchanged (the grid kept its code)
    "mapped",           # one successor: code replaced
    "located",          # several successors: resolved by the row's coordinates
    "located_outside",  # coordinates fall in a new grid that is not a listed successor
    "largest",          # several successors, no coordinates: fallback="largest" was used
    "ambiguous",        # several successors and no usable coordinates: code left empty
    "retired",          # old grid has no successor and the row has no usable coordinates
    "already_new",      # the value is a code of the new plan only: left as it is
    "unknown",          # the value is not an old (or new) code: left empty, reported
    "missing",          # the row has no code
)
_PROBLEM_STATUSES = ("ambiguous", "retired", "unknown", "missing")


@dataclass
class RecodeTableResult:
    """Result of :func:`recode_table`.

    Attributes
    ----------
    table
        The input rows (same order, same columns) with the code column rewritten, plus
        ``<column>_old`` (the value before) and ``recode_status`` (see ``TABLE_STATUSES``).
    report
        One row per (old value, status) that is not a plain kept/mapped row: ``old_code,
        status, rows, candidates`` (successor codes, largest share first, joined by ``|``).
    counts
        Rows per status.
    path
        Where the table was written (``out``), else ``None``.
    """

    table: pd.DataFrame
    report: pd.DataFrame
    counts: pd.Series
    path: Path | None = None

    @property
    def ok(self) -> bool:
        """True when every row got a new code (no ambiguous, retired, unknown or missing)."""
        return int(self.counts.reindex(list(_PROBLEM_STATUSES), fill_value=0).sum()) == 0


def read_crosswalk(source: pd.DataFrame | RecodeResult | str | Path) -> pd.DataFrame:
    """Read a crosswalk (CSV/Excel/Parquet written from ``RecodeResult.crosswalk``).

    Raises
    ------
    SchemaError
        If ``old_code`` or ``new_code`` is missing.
    """
    if isinstance(source, RecodeResult):
        return source.crosswalk
    if isinstance(source, pd.DataFrame):
        cw = source.copy()
        where = "crosswalk"
    else:
        from .io import read_table

        cw = read_table(source, dtype={"old_code": str, "new_code": str})
        where = str(source)
    schema.require_columns(cw, ["old_code", "new_code"], source=where)
    cw["old_code"] = _code_series(cw["old_code"], cw.index)
    cw["new_code"] = _code_series(cw["new_code"], cw.index)
    if "relation" not in cw.columns:
        cw["relation"] = np.where(cw["old_code"] == cw["new_code"], "same", "mapped")
    return cw


def _successors(cw: pd.DataFrame) -> tuple[pd.Index, np.ndarray, list[tuple[str, ...]]]:
    """Old codes, their number of successors, and the successors (largest share first)."""
    rows = cw[cw["old_code"].notna()].copy()
    share = pd.Series(0.0, index=rows.index)
    for col in ("area_share", "hh_share"):  # hh first in the final order (sorted last)
        if col in rows.columns:
            rows[f"_{col}"] = pd.to_numeric(rows[col], errors="coerce").fillna(-1.0)
        else:
            rows[f"_{col}"] = share
    rows = rows.sort_values(["old_code", "_hh_share", "_area_share", "new_code"],
                            ascending=[True, False, False, True], kind="stable")
    succ: dict[str, list[str]] = {}
    for old, new in zip(rows["old_code"], rows["new_code"], strict=True):
        lst = succ.setdefault(old, [])
        if new is not None and not pd.isna(new) and new not in lst:
            lst.append(new)
    olds = pd.Index(list(succ), dtype=object)
    cands = [tuple(v) for v in succ.values()]
    return olds, np.array([len(c) for c in cands], dtype=np.int64), cands


def _coordinate_columns(df: pd.DataFrame, lon: str | None, lat: str | None
                        ) -> tuple[str | None, str | None]:
    if (lon is None) != (lat is None):
        raise SchemaError("give both lon= and lat= or neither", source="recode_table")
    if lon is not None:
        for c in (lon, lat):
            if c not in df.columns:
                raise SchemaError(f"coordinate column {c!r} not found; columns: "
                                  f"{list(map(str, df.columns))}", source="recode_table")
        return lon, lat
    found: dict[str, str] = {}
    for c in df.columns:
        canon = schema.canonical_name(c)
        if canon in (schema.LON, schema.LAT) and canon not in found:
            found[canon] = c
    if schema.LON in df.columns:
        found[schema.LON] = schema.LON
    if schema.LAT in df.columns:
        found[schema.LAT] = schema.LAT
    if len(found) == 2:
        return found[schema.LON], found[schema.LAT]
    return None, None


def _original_headers(path: Path, sheet: Any = 0) -> list[str] | None:
    """Headers of a table file as written (read_table renames them to canonical names)."""
    from . import io as gio

    suffix = path.suffix.lower()
    try:
        if suffix in {".csv", ".txt", ".tsv"}:
            with open(path, "rb") as fh:
                raw = fh.read(1 << 16)
            if b"\n" in raw:
                raw = raw[: raw.rindex(b"\n")]  # whole lines only: no cut multibyte character
            enc = gio.detect_encoding(raw)
            text = raw.decode(enc, errors="ignore")
            sep = "\t" if suffix == ".tsv" else None
            import io as _io

            return list(pd.read_csv(_io.StringIO(text), sep=sep, engine="python", nrows=0).columns)
        if suffix in {".xlsx", ".xlsm", ".xls"}:
            return list(pd.read_excel(path, sheet_name=sheet, nrows=0).columns)
        if suffix in {".parquet", ".pq"}:
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
    except Exception:  # headers are cosmetic: fall back to canonical names
        return None
    return None


def recode_table(table: pd.DataFrame | str | Path,
                 crosswalk: pd.DataFrame | RecodeResult | str | Path,
                 column: str = schema.GRID_CODE,
                 out: str | Path | None = None, *,
                 plan: gpd.GeoDataFrame | str | Path | None = None,
                 lon: str | None = None, lat: str | None = None,
                 coords_crs: Any = "EPSG:4326",
                 locate: str = "split",
                 fallback: str | None = None) -> RecodeTableResult:
    """Rewrite the grid codes of a table (households, addresses, events) with a crosswalk.

    Every row comes back. A code with one successor is replaced; a code whose old grid went to
    several new grids (split, or partly given to a neighbour) is resolved by the row's
    coordinates (point in polygon against the new plan) when the table has them, else left
    empty and reported as ambiguous with its candidates; unknown codes are reported, not
    passed through. The work is vectorised (codes are factorised, the few thousand distinct
    codes mapped once), so a million rows take about a second.

    Parameters
    ----------
    table
        A DataFrame, or a CSV/Excel/Parquet file (read with :func:`gridgis.io.read_table`:
        encodings incl. GBK, Chinese headers).
    crosswalk
        ``RecodeResult``, its ``crosswalk`` DataFrame, or a file holding it.
    column
        The code column: canonical (``grid_code``) or as in the file (``网格编码``).
    out
        Write the rewritten table here (``.csv``, ``.xlsx``, ``.parquet``); the original
        headers are kept.
    plan
        The new plan (GeoDataFrame or vector file) for locating rows; taken from a
        ``RecodeResult`` when not given.
    lon, lat
        Coordinate columns; detected (``lon``/``lat``, 经度/纬度 …) when not given. A
        GeoDataFrame without such columns is located by its own geometry.
    coords_crs
        CRS of the coordinates: any pyproj CRS, ``"GCJ02"`` or ``"BD09"`` (default WGS84).
    locate
        ``"split"`` (locate rows whose code has several successors or none), ``"all"``
        (every row with coordinates takes the grid it lies in) or ``"never"``.
    fallback
        ``"largest"``: rows that stay ambiguous take the successor with the largest share.

    Returns
    -------
    RecodeTableResult
        ``table``, ``report``, ``counts`` (and ``path`` when written).

    Examples
    --------
    >>> res = recode_table("events.csv", "crosswalk.csv", column="网格编码",
    ...                    plan="plan_2024.gpkg", out="events_2024.csv")   # doctest: +SKIP
    >>> res.report                                                          # doctest: +SKIP
    """
    from . import io as gio

    if locate not in ("split", "all", "never"):
        raise SchemaError(f"locate must be 'split', 'all' or 'never', got {locate!r}",
                          source="recode_table")
    if fallback not in (None, "largest"):
        raise SchemaError(f"fallback must be None or 'largest', got {fallback!r}",
                          source="recode_table")
    source_path = None if isinstance(table, pd.DataFrame) else Path(table)
    if isinstance(crosswalk, RecodeResult) and plan is None:
        plan = crosswalk.plan
    cw = read_crosswalk(crosswalk)
    df = gio.read_table(table, dtype={column: str}) if source_path is not None else table
    col = column
    if col not in df.columns:
        canon = schema.canonical_name(column)
        if canon is not None and canon in df.columns:
            col = canon
        else:
            raise SchemaError(f"code column {column!r} not found; columns: "
                              f"{list(map(str, df.columns))}", source=source_path or "table",
                              fix="name the code column with column=")

    # -- per distinct value ------------------------------------------------------------------
    codes = schema.codes_as_text(df[col], source=source_path or "table", column=column)
    idx, uniq = _codes_factorized(codes)
    olds, n_succ, cands = _successors(cw)
    new_codes = set(cw["new_code"].dropna())
    pos = olds.get_indexer(pd.Index(uniq, dtype=object)) if len(uniq) else np.zeros(0, int)
    u_status = np.empty(len(uniq), dtype=object)
    u_new = np.full(len(uniq), None, dtype=object)
    u_cands = np.full(len(uniq), "", dtype=object)
    for k, (p, val) in enumerate(zip(pos, uniq, strict=True)):
        if p < 0:
            u_status[k] = "already_new" if val in new_codes else "unknown"
            u_new[k] = val if val in new_codes else None
            continue
        c = cands[p]
        u_cands[k] = "|".join(c)
        if len(c) == 1:
            u_status[k] = "kept" if c[0] == val else "mapped"
            u_new[k] = c[0]
        elif len(c) == 0:
            u_status[k] = "retired"
        else:
            u_status[k] = "ambiguous"
            if fallback == "largest":
                u_new[k] = c[0]
    statuses = list(TABLE_STATUSES)
    status_id = {s: i for i, s in enumerate(statuses)}
    u_sid = np.array([status_id[s] for s in u_status], dtype=np.int8)
    ok = idx >= 0
    safe = np.where(ok, idx, 0)
    row_sid = np.where(ok, u_sid[safe] if len(uniq) else 0, status_id["missing"]).astype(np.int8)
    row_new = np.where(ok, u_new[safe] if len(uniq) else None, None).astype(object)

    # -- locate rows by coordinates ----------------------------------------------------------
    lon_c, lat_c = _coordinate_columns(df, lon, lat)
    use_geometry = lon_c is None and isinstance(df, gpd.GeoDataFrame) and df.crs is not None
    if locate != "never" and (lon_c is not None or use_geometry):
        if locate == "all":
            todo = np.ones(len(df), dtype=bool)
        else:
            todo = np.isin(row_sid, [status_id["ambiguous"], status_id["retired"]])
        if todo.any():
            if use_geometry:  # a layer without lon/lat columns: its own points (or polygons)
                geoms = np.asarray(df.geometry.array)[todo]
                ok_g = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
                pts = np.full(len(geoms), None, dtype=object)
                pts[ok_g] = shapely.point_on_surface(geoms[ok_g])
                x, y = shapely.get_x(pts), shapely.get_y(pts)
                coords_crs = df.crs
            else:
                x = pd.to_numeric(df[lon_c], errors="coerce").to_numpy(dtype=float)[todo]
                y = pd.to_numeric(df[lat_c], errors="coerce").to_numpy(dtype=float)[todo]
            finite = np.isfinite(x) & np.isfinite(y)
            if finite.any():
                if plan is None:
                    raise SchemaError(
                        "rows need locating but no new plan was given", source="recode_table",
                        fix="pass plan= (the new plan GeoDataFrame or file) or locate='never'",
                    )
                hit, plan_codes = _locate_in_plan(x[finite], y[finite], plan, coords_crs)
                rows = np.flatnonzero(todo)[finite][hit >= 0]
                hit = hit[hit >= 0]
                if len(rows):
                    # is the grid found among the successors of the row's old code?
                    plan_pos = {c: i for i, c in enumerate(plan_codes)}
                    n_plan = len(plan_codes)
                    allowed = np.array(
                        [u * n_plan + plan_pos[c] for u, p in enumerate(pos) if p >= 0
                         for c in cands[p] if c in plan_pos], dtype=np.int64)
                    u_of_row = idx[rows]
                    inside = (u_of_row >= 0) & np.isin(u_of_row * n_plan + hit, allowed)
                    located = plan_codes[hit]
                    sid = np.where(inside, status_id["located"],
                                   status_id["located_outside"]).astype(np.int8)
                    if locate == "all":
                        # rows the crosswalk already resolved to this grid keep their status
                        same = (row_new[rows] == located) & np.isin(
                            row_sid[rows], [status_id["kept"], status_id["mapped"]])
                        sid = np.where(same, row_sid[rows], sid)
                    row_sid[rows] = sid
                    row_new[rows] = located
    if fallback == "largest":
        amb = row_sid == status_id["ambiguous"]
        row_sid[amb] = status_id["largest"]

    # -- assemble ----------------------------------------------------------------------------
    out_df = df.copy()
    old_name = f"{col}_old"
    out_df[old_name] = df[col]
    out_df[col] = pd.Series(row_new, index=df.index, dtype=object)
    out_df["recode_status"] = pd.Categorical.from_codes(row_sid, categories=statuses)
    counts = pd.Series(np.bincount(row_sid, minlength=len(statuses)), index=statuses,
                       name="rows")
    counts = counts[counts > 0]

    key = np.where(ok, idx, len(uniq)).astype(np.int64) * len(statuses) + row_sid
    ukey, n_rows = np.unique(key, return_counts=True)
    u_i, s_i = ukey // len(statuses), ukey % len(statuses)
    vals = np.r_[uniq, np.array([None], dtype=object)] if len(uniq) else np.array([None],
                                                                                  dtype=object)
    cands_txt = np.r_[u_cands, np.array([""], dtype=object)]
    report = pd.DataFrame({
        "old_code": vals[u_i], "status": np.array(statuses, dtype=object)[s_i],
        "rows": n_rows, "candidates": cands_txt[u_i],
    })
    report = report[~report["status"].isin(["kept", "mapped"])]
    order = {s: i for i, s in enumerate(statuses)}
    report = report.assign(_o=report["status"].map(order)).sort_values(
        ["_o", "rows", "old_code"], ascending=[True, False, True], kind="stable"
    ).drop(columns="_o").reset_index(drop=True)

    written = None
    if out is not None:
        frame = out_df
        headers = _original_headers(source_path) if source_path is not None else None
        if headers is not None and len(headers) == len(df.columns):
            rename = {c: h for c, h in zip(df.columns, headers, strict=True) if c != h}
            frame = out_df.rename(columns=rename)
            if col in rename:
                frame = frame.rename(columns={old_name: f"{rename[col]}_old"})
        written = gio.write_table(frame, out)
    return RecodeTableResult(table=out_df, report=report, counts=counts, path=written)


def _locate_in_plan(x: np.ndarray, y: np.ndarray, plan: gpd.GeoDataFrame | str | Path,
                    coords_crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Index of the new-plan grid holding each coordinate pair (-1 outside) and the codes."""
    from .crs import points_to_wgs84

    if not isinstance(plan, gpd.GeoDataFrame):
        from .io import read_vector

        plan = read_vector(plan)
    plan = _check_plan(plan, "plan")
    schema.require_columns(plan, [schema.GRID_CODE], source=schema.label(plan, "plan"))
    lon, lat = points_to_wgs84(x, y, coords_crs)
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(plan.crs)
    hit = _locate(np.asarray(pts.array), np.asarray(plan.geometry.array))
    codes = _code_series(plan[schema.GRID_CODE]).to_numpy(dtype=object)
    return hit, codes
