"""A GeoPackage's feature table read with :mod:`sqlite3` alone (no GDAL, no pandas).

For the command line's quick path (a one-shot ``gridgis assign`` that must start fast): the
layers of a GeoPackage, and the values of some columns and the geometries of one feature table.

A GeoPackage is an SQLite database. Its ``gpkg_contents`` table lists the layers,
``gpkg_geometry_columns`` the geometry column of each feature table, ``gpkg_spatial_ref_sys`` the
coordinate systems. A geometry is a *GeoPackageBinary* blob (OGC 12-128r18, clause 2.1.3): the
magic ``GP``, a version byte (0), a flags byte, the ``srs_id`` (int32), an optional envelope, then
standard WKB. Flags: bit 0 the byte order of the header, bits 1–3 the envelope (0: none, 1: 32
bytes [minx, maxx, miny, maxy], 2 and 3: 48 bytes (with z or m), 4: 64 bytes), bit 4 an empty
geometry, bit 5 an extended (non-standard) geometry type.

Anything this reader does not handle exactly as GDAL does (empty or extended geometries, blobs
that are not GeoPackageBinary, a coordinate system not given as an EPSG code, a table without
the columns asked for) raises :class:`NotPlain`; callers then read the file with
:func:`gridgis.io.read_vector`.
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import shapely

__all__ = ["NotPlain", "gpkg_layers", "layer_crs", "layer_extent", "read_features"]

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


class NotPlain(Exception):
    """The GeoPackage (or the layer) is not one this reader takes; read it with GDAL."""


def _connect(path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except (sqlite3.Error, ValueError) as exc:
        raise NotPlain(str(exc)) from None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def gpkg_layers(path: str | Path) -> list[tuple[str, str]]:
    """``(layer name, data type)`` of every layer listed in a GeoPackage (``features`` …).

    Examples
    --------
    >>> gpkg_layers("plan.gpkg")                       # doctest: +SKIP
    [('grids', 'features')]
    """
    con = _connect(Path(path))
    try:
        return [(str(n), str(t)) for n, t in con.execute(
            "SELECT table_name, data_type FROM gpkg_contents ORDER BY rowid")]
    except sqlite3.Error as exc:
        raise NotPlain(str(exc)) from None
    finally:
        con.close()


def _wkb(blob: object) -> bytes:
    if not isinstance(blob, bytes) or len(blob) < 8 or blob[:2] != b"GP" or blob[2] != 0:
        raise NotPlain("not a GeoPackageBinary geometry")
    flags = blob[3]
    if flags & 0b110000:  # empty or extended geometry
        raise NotPlain("empty or extended geometry")
    env = _ENVELOPE_BYTES.get((flags >> 1) & 0b111)
    if env is None:
        raise NotPlain("bad envelope code")
    return blob[8 + env:]


def _geometry_column(con: sqlite3.Connection, layer: str) -> tuple[str, int]:
    """The geometry column of a feature table and the EPSG code of its coordinate system."""
    row = con.execute(
        "SELECT g.column_name, s.organization, s.organization_coordsys_id "
        "FROM gpkg_geometry_columns g JOIN gpkg_spatial_ref_sys s ON g.srs_id = s.srs_id "
        "WHERE g.table_name = ?", (layer,)).fetchone()
    if row is None or str(row[1]).upper() != "EPSG":
        raise NotPlain("no geometry column, or a coordinate system without an EPSG code")
    return str(row[0]), int(row[2])


def layer_crs(path: str | Path, layer: str) -> tuple[str, int]:
    """``("EPSG", code)`` of a feature table's coordinate system, read alone.

    Examples
    --------
    >>> layer_crs("plan.gpkg", "grids")                # doctest: +SKIP
    ('EPSG', 4547)
    """
    con = _connect(Path(path))
    try:
        return "EPSG", _geometry_column(con, layer)[1]
    except sqlite3.Error as exc:
        raise NotPlain(str(exc)) from None
    finally:
        con.close()


def layer_extent(path: str | Path, layer: str) -> tuple[float, float, float, float] | None:
    """The bounds a GeoPackage lists for a layer (``gpkg_contents``), or ``None``.

    Writers are not obliged to keep them: use them as a hint, never as the data's bounds.

    Examples
    --------
    >>> layer_extent("plan.gpkg", "grids")             # doctest: +SKIP
    (112.85, 27.79, 112.97, 27.88)
    """
    con = _connect(Path(path))
    try:
        row = con.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?",
                          (layer,)).fetchone()
    except sqlite3.Error as exc:
        raise NotPlain(str(exc)) from None
    finally:
        con.close()
    if row is None or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in row):
        return None
    return tuple(float(v) for v in row)  # type: ignore[return-value]


def read_features(path: str | Path, layer: str, columns: list[str]
                  ) -> tuple[dict[str, list[object]], np.ndarray, tuple[str, int]]:
    """Values of ``columns`` and the geometries of a feature table, in feature-id order.

    Returns
    -------
    values
        ``{column: list of values}`` as SQLite holds them.
    geometries
        Shapely geometries (from the WKB of each blob).
    crs
        ``("EPSG", code)`` of the layer's coordinate system.

    Raises
    ------
    NotPlain
        A layer or geometry this reader does not take (see the module's notes).

    Examples
    --------
    >>> values, geoms, crs = read_features("plan.gpkg", "grids", ["grid_code"])   # doctest: +SKIP
    >>> crs
    ('EPSG', 4547)
    """
    con = _connect(Path(path))
    try:
        geom_col, code = _geometry_column(con, layer)
        info = con.execute(f"PRAGMA table_info({_quote(layer)})").fetchall()
        names = [str(r[1]) for r in info]
        pk = [str(r[1]) for r in info if r[5]]
        if any(c not in names for c in columns) or len(pk) != 1:
            raise NotPlain("columns not found")
        select = ", ".join(_quote(c) for c in [*columns, geom_col])
        rows = con.execute(f"SELECT {select} FROM {_quote(layer)} ORDER BY {_quote(pk[0])}").fetchall()
    except sqlite3.Error as exc:
        raise NotPlain(str(exc)) from None
    finally:
        con.close()
    values = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    wkb = np.array([_wkb(r[-1]) for r in rows], dtype=object)
    try:
        geoms = shapely.from_wkb(wkb) if len(wkb) else np.empty(0, dtype=object)
    except shapely.errors.GEOSException as exc:
        raise NotPlain(str(exc)) from None
    return values, np.asarray(geoms, dtype=object), ("EPSG", code)
