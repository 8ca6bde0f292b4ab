"""Rewriting the grid codes of big tables (households, addresses, events) with a crosswalk.

Every row comes back. A code with one successor is replaced; a code whose old grid went to
several new grids is resolved by the row's coordinates (point in polygon against the new plan)
when the table has them, else left empty and reported. The work is vectorised: codes are
factorised and the few thousand distinct codes mapped once, so a million rows take about a
second.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._geometry import present
from ..encodings import sniff_separator
from ..errors import CodeSchemeError, SchemaError, with_options
from ..i18n import _, tr
from ._chunks import CHUNK_SUFFIXES, ChunkWriter, iter_chunks
from ._planref import PlanRef, locate_in_plan
from ._plans import code_series
from .recode import RecodeResult
from .scheme import RulesLike, SchemeLike, load_scheme, parse_codes

__all__ = ["TABLE_STATUSES", "PROBLEM_STATUSES", "RecodeTableResult", "read_crosswalk", "recode_table"]

logger = logging.getLogger(__name__)

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
PROBLEM_STATUSES = ("ambiguous", "retired", "unknown", "missing")
_SID = {s: i for i, s in enumerate(TABLE_STATUSES)}


@dataclass
class RecodeTableResult:
    """Result of :func:`recode_table`.

    Attributes
    ----------
    table
        The input rows (same order, same columns) with the code column rewritten, plus
        ``<column>_old`` (the value before) and ``recode_status`` (see ``TABLE_STATUSES``);
        ``None`` when a large file was rewritten in chunks (the rows are in ``path``).
    report
        One row per (old value, status) that is not a plain kept/mapped row: ``old_code,
        status, rows, candidates`` (successor codes, largest share first, joined by ``|``).
    counts
        Rows per status.
    path
        Where the table was written (``out``), else ``None``.
    """

    table: pd.DataFrame | None
    report: pd.DataFrame
    counts: pd.Series
    path: Path | None = None

    @property
    def ok(self) -> bool:
        """True when every row got a new code (no ambiguous, retired, unknown or missing)."""
        return int(self.counts.reindex(list(PROBLEM_STATUSES), fill_value=0).sum()) == 0


def read_crosswalk(source: pd.DataFrame | RecodeResult | str | Path,
                   scheme: SchemeLike = None) -> pd.DataFrame:
    """Read a crosswalk (CSV/Excel/Parquet written from ``RecodeResult.crosswalk``).

    Parameters
    ----------
    source
        A :class:`RecodeResult`, a crosswalk DataFrame or a file holding one.
    scheme
        When given (scheme, rules, mapping or TOML file), every new code must fit it.

    Raises
    ------
    SchemaError
        If ``old_code`` or ``new_code`` is missing.
    CodeSchemeError
        If ``scheme`` is given and a new code does not fit it.

    Examples
    --------
    >>> cw = read_crosswalk(pd.DataFrame({"old_code": [430302001001001],
    ...                                   "new_code": ["430302001001007"]}))
    >>> cw.loc[0, "old_code"], cw.loc[0, "relation"]
    ('430302001001001', 'mapped')
    """
    if isinstance(source, RecodeResult):
        cw, where = source.crosswalk, "crosswalk"
    elif isinstance(source, pd.DataFrame):
        cw, where = source.copy(), "crosswalk"
    else:
        from ..io import read_table

        cw = read_table(source, dtype={"old_code": str, "new_code": str})
        where = str(source)
    schema.require_columns(cw, ["old_code", "new_code"], source=where)
    if not isinstance(source, RecodeResult):
        cw["old_code"] = code_series(cw["old_code"], cw.index, source=where, column="old_code")
        cw["new_code"] = code_series(cw["new_code"], cw.index, source=where, column="new_code")
    if "relation" not in cw.columns:
        cw["relation"] = np.where(cw["old_code"] == cw["new_code"], "same", "mapped")
    if scheme is not None:
        _check_new_codes(cw["new_code"], load_scheme(scheme), where)
    return cw


def _check_new_codes(codes: pd.Series, scheme: Any, where: str) -> None:
    """Every new code of a crosswalk fits the scheme, or an error naming a few."""
    present = codes.dropna()
    bad = ~parse_codes(present, scheme)["valid"].to_numpy()
    if bad.any():
        sample = sorted(set(present[bad]))[:5]
        raise CodeSchemeError(
            tr("{sum} new code(s) do not fit the code scheme, e.g. {sample}",
               sum=int(bad.sum()), sample=sample),
            source=where, where="column new_code",
            fix=_("give the scheme (--rules [codes]) the crosswalk was made with"),
        )


def _successors(cw: pd.DataFrame) -> tuple[pd.Index, list[tuple[str, ...]]]:
    """Old codes and their successors (largest share first)."""
    rows = cw[cw["old_code"].notna()].copy()
    for col in ("area_share", "hh_share"):
        rows[f"_{col}"] = (pd.to_numeric(rows[col], errors="coerce").fillna(-1.0)
                           if col in rows.columns else 0.0)
    rows = rows.sort_values(["old_code", "_hh_share", "_area_share", "new_code"],
                            ascending=[True, False, False, True], kind="stable")
    succ: dict[str, list[str]] = {}
    for old, new in zip(rows["old_code"], rows["new_code"], strict=True):
        lst = succ.setdefault(old, [])
        if new is not None and not pd.isna(new) and new not in lst:
            lst.append(new)
    return pd.Index(list(succ), dtype=object), [tuple(v) for v in succ.values()]


def _coordinate_columns(df: pd.DataFrame, lon: str | None, lat: str | None
                        ) -> tuple[str | None, str | None]:
    """The lon/lat columns: as given, else detected by their names (``None`` when absent)."""
    if (lon is None) != (lat is None):
        raise SchemaError(_("give both lon= and lat= or neither"), source="recode_table")
    if lon is not None:
        for c in (lon, lat):
            if c not in df.columns:
                raise SchemaError(tr("coordinate column {c!r} not found; columns: {list}",
                                     c=c, list=list(map(str, df.columns))), source="recode_table")
        return lon, lat
    found: dict[str, str] = {}
    for c in df.columns:
        canon = schema.canonical_name(c)
        if canon in (schema.LON, schema.LAT) and canon not in found:
            found[canon] = c
    for canon in (schema.LON, schema.LAT):
        if canon in df.columns:
            found[canon] = canon
    if len(found) == 2:
        return found[schema.LON], found[schema.LAT]
    return None, None


def _original_headers(path: Path, sheet: Any = 0) -> list[str] | None:
    """Headers of a table file as written (read_table renames them to canonical names)."""
    from .. import io as gio

    suffix = path.suffix.lower()
    try:
        if suffix in {".csv", ".txt", ".tsv"}:
            with open(path, "rb") as fh:
                raw = fh.read(1 << 16)
            if b"\n" in raw:
                raw = raw[: raw.rindex(b"\n")]  # whole lines only: no cut multibyte character
            text = raw.decode(gio.detect_encoding(raw), errors="ignore").lstrip("\ufeff")
            sep = "\t" if suffix == ".tsv" else sniff_separator(text)
            import io as _io

            return list(pd.read_csv(_io.StringIO(text), sep=sep, engine="python", nrows=0,
                                    skiprows=gio.csv_header_row(text, sep) or None).columns)
        if suffix in {".xlsx", ".xlsm", ".xls"}:
            return list(pd.read_excel(path, sheet_name=sheet, nrows=0).columns)
        if suffix in {".parquet", ".pq"}:
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
    except Exception:  # headers are cosmetic: fall back to canonical names
        return None
    return None


@dataclass
class _Rows:
    """Per-row state of a table being rewritten."""

    idx: np.ndarray     # distinct-value index of every row (-1: missing)
    uniq: np.ndarray    # distinct code texts
    pos: np.ndarray     # crosswalk position of every distinct value (-1: not an old code)
    cands: list[tuple[str, ...]]
    u_cands: np.ndarray  # successors of every distinct value, "|"-joined
    sid: np.ndarray     # status id of every row
    new: np.ndarray     # new code of every row


@dataclass
class _Crosswalk:
    """A crosswalk ready for mapping: old codes, their successors and every new code."""

    olds: pd.Index
    cands: list[tuple[str, ...]]
    new_codes: set[str]

    new_index: pd.Index = field(init=False, repr=False)
    _mapped: dict[Any, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.new_index = pd.Index(list(self.new_codes), dtype=object)

    @classmethod
    def of(cls, cw: pd.DataFrame) -> _Crosswalk:
        olds, cands = _successors(cw)
        return cls(olds, cands, set(cw["new_code"].dropna()))

    def mapped(self, fallback: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Status id, new code and ``|``-joined successors of every old code (worked out once
        for all chunks of a table)."""
        if fallback not in self._mapped:
            n = len(self.olds)
            sid = np.empty(n, dtype=np.int8)
            new = np.full(n, None, dtype=object)
            joined = np.empty(n, dtype=object)
            for p, (val, c) in enumerate(zip(self.olds, self.cands, strict=True)):
                joined[p] = "|".join(c)
                if len(c) == 1:
                    status, new[p] = ("kept" if c[0] == val else "mapped"), c[0]
                elif len(c) == 0:
                    status = "retired"
                else:
                    status = "ambiguous"
                    new[p] = c[0] if fallback == "largest" else None
                sid[p] = _SID[status]
            self._mapped[fallback] = (sid, new, joined)
        return self._mapped[fallback]


def _map_distinct(idx: np.ndarray, uniq: np.ndarray, succ: _Crosswalk, fallback: str | None
                  ) -> _Rows:
    """Status and new code of every distinct value, spread to the rows (the crosswalk's own
    mapping is worked out once, :meth:`_Crosswalk.mapped`; a chunk only looks it up)."""
    olds, cands = succ.olds, succ.cands
    pos = olds.get_indexer(pd.Index(uniq, dtype=object)) if len(uniq) else np.zeros(0, int)
    o_sid, o_new, o_cands = succ.mapped(fallback)
    hit = pos >= 0
    u_sid = np.empty(len(uniq), dtype=np.int8)
    u_new = np.full(len(uniq), None, dtype=object)
    u_cands = np.full(len(uniq), "", dtype=object)
    u_sid[hit], u_new[hit], u_cands[hit] = o_sid[pos[hit]], o_new[pos[hit]], o_cands[pos[hit]]
    miss = np.flatnonzero(~hit)
    is_new = succ.new_index.get_indexer(pd.Index(uniq[miss], dtype=object)) >= 0
    u_sid[miss] = np.where(is_new, _SID["already_new"], _SID["unknown"])
    u_new[miss] = np.where(is_new, uniq[miss], None)
    ok = idx >= 0
    safe = np.where(ok, idx, 0)
    sid = np.where(ok, u_sid[safe] if len(uniq) else 0, _SID["missing"]).astype(np.int8)
    new = np.where(ok, u_new[safe] if len(uniq) else None, None).astype(object)
    return _Rows(idx, uniq, pos, cands, u_cands, sid, new)


def _row_points(df: pd.DataFrame, todo: np.ndarray, lon_c: str | None, lat_c: str | None,
                coords_crs: Any) -> tuple[np.ndarray, np.ndarray, Any]:
    """x, y (and their CRS) of the rows in ``todo``: the lon/lat columns or the geometry."""
    if lon_c is None:  # a layer without lon/lat columns: its own points (or polygons)
        geoms = np.asarray(df.geometry.array)[todo]
        ok_g = present(geoms)
        pts = np.full(len(geoms), None, dtype=object)
        pts[ok_g] = shapely.point_on_surface(geoms[ok_g])
        return shapely.get_x(pts), shapely.get_y(pts), df.crs
    x = pd.to_numeric(df[lon_c], errors="coerce").to_numpy(dtype=float)[todo]
    y = pd.to_numeric(df[lat_c], errors="coerce").to_numpy(dtype=float)[todo]
    return x, y, coords_crs


def _locate_rows(rows: _Rows, df: pd.DataFrame, plan: Any, lon_c: str | None,
                 lat_c: str | None, coords_crs: Any, locate: str) -> None:
    """Give rows (split codes, or all with ``locate="all"``) the new grid they lie in."""
    if locate == "all":
        todo = np.ones(len(df), dtype=bool)
    else:
        todo = np.isin(rows.sid, [_SID["ambiguous"], _SID["retired"]])
    if not todo.any():
        return
    x, y, crs = _row_points(df, todo, lon_c, lat_c, coords_crs)
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return
    if plan is None:
        raise SchemaError(_("rows need locating but no new plan was given"), source="recode_table",
                          fix=_("pass plan= (the new plan GeoDataFrame or file) or "
                                "locate='never'"))
    hit, plan_codes = locate_in_plan(x[finite], y[finite], plan, crs)
    at = np.flatnonzero(todo)[finite][hit >= 0]
    hit = hit[hit >= 0]
    if not len(at):
        return
    # is the grid found among the successors of the row's old code?
    n_plan = len(plan_codes)
    u_of_row = rows.idx[at]
    p_of_row = np.where(u_of_row >= 0, rows.pos[np.clip(u_of_row, 0, None)], -1)
    inside = (p_of_row >= 0) & np.isin(p_of_row * n_plan + hit, plan.allowed(rows.cands))
    located = plan_codes[hit]
    sid = np.where(inside, _SID["located"], _SID["located_outside"]).astype(np.int8)
    if locate == "all":  # rows the crosswalk already resolved to this grid keep their status
        same = (rows.new[at] == located) & np.isin(rows.sid[at], [_SID["kept"], _SID["mapped"]])
        sid = np.where(same, rows.sid[at], sid)
    rows.sid[at] = sid
    rows.new[at] = located


def _problem_report(rows: _Rows) -> pd.DataFrame:
    """One row per (old value, status) that is not kept or mapped, worst statuses first."""
    return _sorted_report(_report_rows(rows))


def _report_rows(rows: _Rows) -> pd.DataFrame:
    """Rows per (old value, status) that is not kept or mapped, in no order."""
    n_s = len(TABLE_STATUSES)
    key = np.where(rows.idx >= 0, rows.idx, len(rows.uniq)).astype(np.int64) * n_s + rows.sid
    ukey, n_rows = np.unique(key, return_counts=True)
    u_i, s_i = ukey // n_s, ukey % n_s
    vals = np.r_[rows.uniq, np.array([None], dtype=object)]
    cands_txt = np.r_[rows.u_cands, np.array([""], dtype=object)]
    report = pd.DataFrame({
        "old_code": vals[u_i], "status": np.array(TABLE_STATUSES, dtype=object)[s_i],
        "rows": n_rows, "candidates": cands_txt[u_i],
    })
    return report[~report["status"].isin(["kept", "mapped"])]


def _sorted_report(report: pd.DataFrame) -> pd.DataFrame:
    """The problem report in its order: worst statuses first, then most rows."""
    return report.assign(_o=report["status"].map(_SID)).sort_values(
        ["_o", "rows", "old_code"], ascending=[True, False, True], kind="stable"
    ).drop(columns="_o").reset_index(drop=True)


def _write(out_df: pd.DataFrame, df: pd.DataFrame, col: str, out: str | Path,
           source_path: Path | None, format_rows: Callable | None = None) -> Path:
    """Write the rewritten table with the file's own headers (``<header>_old`` beside)."""
    from .. import io as gio

    frame = out_df
    headers = _original_headers(source_path) if source_path is not None else None
    if headers is not None and len(headers) == len(df.columns):
        rename = {c: h for c, h in zip(df.columns, headers, strict=True) if c != h}
        frame = out_df.rename(columns=rename)
        if col in rename:
            frame = frame.rename(columns={f"{col}_old": f"{rename[col]}_old"})
    return gio.write_table(frame if format_rows is None else format_rows(frame), out)


def _code_column(df: pd.DataFrame, column: str, source: object) -> str:
    """The code column of ``df``: as named, or by its canonical name."""
    if column in df.columns:
        return column
    canon = schema.canonical_name(column)
    if canon is not None and canon in df.columns:
        return canon
    raise SchemaError(tr("code column {column!r} not found; columns: {list}",
                         column=column, list=list(map(str, df.columns))), source=source,
                      fix=with_options(None, ("column", "COLUMN")))


def recode_table(table: pd.DataFrame | str | Path,
                 crosswalk: pd.DataFrame | RecodeResult | str | Path,
                 column: str = schema.GRID_CODE,
                 out: str | Path | None = None, *,
                 plan: gpd.GeoDataFrame | str | Path | None = None,
                 lon: str | None = None, lat: str | None = None,
                 coords_crs: Any = "EPSG:4326",
                 locate: str = "split",
                 fallback: str | None = None,
                 scheme: SchemeLike = None,
                 rules: RulesLike = None,
                 chunk_size: int | None = 1_000_000,
                 format_rows: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
                 ) -> RecodeTableResult:
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
    scheme, rules
        The code scheme (or rules with a ``[codes]`` section) the new codes must fit; when
        both are ``None`` the crosswalk's codes are not checked against a scheme.
    chunk_size
        A CSV/Parquet file written to ``out`` (``.csv``/``.parquet``) with more rows than this
        is rewritten a chunk at a time, in bounded memory (CSV values are copied as text);
        the result's ``table`` is then ``None``. ``None``: always in memory.
    format_rows
        Applied to the rows (every chunk) just before ``out`` is written, e.g. headers and
        values for people (the CLI); ``None`` writes the API's columns and values.

    Returns
    -------
    RecodeTableResult
        ``table``, ``report``, ``counts`` (and ``path`` when written).

    Raises
    ------
    CodeSchemeError
        If a scheme is given and a new code of the crosswalk does not fit it.

    Examples
    --------
    >>> res = recode_table("events.csv", "crosswalk.csv", column="网格编码",
    ...                    plan="plan_2024.gpkg", out="events_2024.csv")   # doctest: +SKIP
    >>> res.report                                                          # doctest: +SKIP
    """
    from .. import io as gio

    if locate not in ("split", "all", "never"):
        raise SchemaError(tr("locate must be 'split', 'all' or 'never', got {locate!r}",
                             locate=locate),
                          source="recode_table")
    if fallback not in (None, "largest"):
        raise SchemaError(tr("fallback must be None or 'largest', got {fallback!r}",
                             fallback=fallback),
                          source="recode_table")
    source_path = None if isinstance(table, pd.DataFrame) else Path(table)
    if isinstance(crosswalk, RecodeResult) and plan is None:
        plan = crosswalk.plan
    check = None if scheme is None and rules is None else load_scheme(scheme, rules=rules)
    job = _Job(_Crosswalk.of(read_crosswalk(crosswalk, check)),
               None if plan is None else PlanRef(plan), lon, lat, coords_crs, locate, fallback,
               format_rows)
    if source_path is not None and out is not None and chunk_size is not None:
        streamed = _recode_stream(source_path, column, Path(out), job, chunk_size)
        if streamed is not None:
            return streamed
    df = gio.read_table(table, dtype={column: str}) if source_path is not None else table
    col = _code_column(df, column, source_path or "table")
    out_df, rows = _recode_frame(df, col, job, source_path or "table", column)
    counts = pd.Series(np.bincount(rows.sid, minlength=len(TABLE_STATUSES)),
                       index=list(TABLE_STATUSES), name="rows")
    written = None if out is None else _write(out_df, df, col, out, source_path, format_rows)
    return RecodeTableResult(table=out_df, report=_problem_report(rows),
                             counts=counts[counts > 0], path=written)


@dataclass
class _Job:
    """What every chunk of a table is rewritten with."""

    succ: _Crosswalk
    plan: PlanRef | None
    lon: str | None
    lat: str | None
    coords_crs: Any
    locate: str
    fallback: str | None
    format_rows: Callable[[pd.DataFrame], pd.DataFrame] | None = None


def _recode_frame(df: pd.DataFrame, col: str, job: _Job, source: object, column: str
                  ) -> tuple[pd.DataFrame, _Rows]:
    """The rows of ``df`` with ``col`` rewritten, ``<col>_old`` and ``recode_status``."""
    idx, uniq = schema.code_factors(df[col], source=source, column=column)
    rows = _map_distinct(idx, uniq, job.succ, job.fallback)
    lon_c, lat_c = _coordinate_columns(df, job.lon, job.lat)
    use_geometry = lon_c is None and isinstance(df, gpd.GeoDataFrame) and df.crs is not None
    if job.locate != "never" and (lon_c is not None or use_geometry):
        _locate_rows(rows, df, job.plan, lon_c, lat_c, job.coords_crs, job.locate)
    if job.fallback == "largest":
        rows.sid[rows.sid == _SID["ambiguous"]] = _SID["largest"]
    out_df = df.copy()
    out_df[f"{col}_old"] = df[col]
    out_df[col] = pd.Series(rows.new, index=df.index, dtype=object)
    out_df["recode_status"] = pd.Categorical.from_codes(rows.sid, categories=list(TABLE_STATUSES))
    return out_df, rows


def _file_code_column(df: pd.DataFrame, column: str, source: Path) -> str:
    """The code column among a file's own headers: as named, or by its canonical name."""
    if column in df.columns:
        return column
    canon = schema.canonical_name(column) or column
    for c in df.columns:
        if schema.canonical_name(c) == canon:
            return c
    return _code_column(df, column, source)  # raises, naming the columns


def _recode_stream(path: Path, column: str, out: Path, job: _Job, chunk_size: int
                   ) -> RecodeTableResult | None:
    """Rewrite a CSV/Parquet file into a CSV/Parquet file a chunk at a time (``table`` is
    ``None`` in the result); ``None`` when the file fits in one chunk or is of another kind
    (the caller rewrites it in memory)."""
    from ..writing import check_output, replacing

    if path.suffix.lower() not in CHUNK_SUFFIXES or out.suffix.lower() not in {
            ".csv", ".parquet", ".pq"} or not path.is_file():
        return None
    if chunk_size < 1:
        raise SchemaError(tr("chunk_size must be >= 1, got {n}", n=chunk_size),
                          source="recode_table")
    chunks = iter_chunks(path, chunk_size)
    first = next(chunks, None)
    second = next(chunks, None)
    if first is None or second is None:
        return None
    check_output(out, inputs=[path])
    counts = np.zeros(len(TABLE_STATUSES), dtype=np.int64)
    reports = []
    with replacing(out) as tmp:
        writer = ChunkWriter(tmp)
        try:
            for chunk in itertools.chain([first, second], chunks):
                col = _file_code_column(chunk, column, path)
                out_df, rows = _recode_frame(chunk, col, job, path, column)
                writer.write(out_df if job.format_rows is None else job.format_rows(out_df))
                counts += np.bincount(rows.sid, minlength=len(TABLE_STATUSES))
                reports.append(_report_rows(rows))
        finally:
            writer.close()
    report = pd.concat(reports, ignore_index=True)
    report = report.groupby(["old_code", "status", "candidates"], dropna=False, sort=False,
                            as_index=False)["rows"].sum()[["old_code", "status", "rows",
                                                           "candidates"]]
    counts_s = pd.Series(counts, index=list(TABLE_STATUSES), name="rows")
    logger.info("%s", tr("{path}: {n} rows rewritten in chunks of {size}", path=path,
                         n=int(counts.sum()), size=chunk_size))
    return RecodeTableResult(table=None, report=_sorted_report(report),
                             counts=counts_s[counts_s > 0], path=out)
