"""Read and write layers in PostgreSQL/PostGIS (``postgresql://`` wherever a path is accepted).

Uses geopandas (``read_postgis`` / ``to_postgis``) over SQLAlchemy; writing is transactional:
all layers of one call are written in a single transaction, so a failure leaves the previous
version of every table intact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from .errors import DatabaseError
from .i18n import tr

__all__ = [
    "list_tables",
    "read_postgis_layer",
    "write_layers",
    "write_postgis",
]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _engine(url: str):
    try:
        import sqlalchemy as sa
    except ImportError:  # pragma: no cover - optional dependency
        raise DatabaseError(
            tr("PostGIS support needs SQLAlchemy, psycopg2 and GeoAlchemy2"),
            fix=tr('pip install "gridgis[postgis]"'),
        ) from None
    clean = re.sub(r"^(postgis|postgres)://", "postgresql://", url)
    if clean.startswith("postgresql://"):
        clean = "postgresql+psycopg2://" + clean[len("postgresql://"):]
    try:
        return sa.create_engine(clean, future=True)
    except Exception as exc:
        raise DatabaseError(tr("bad database URL ({exc})", exc=exc), source=_redact(url)) from None


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def _split(table: str) -> tuple[str, str]:
    schema_name, _, name = table.rpartition(".")
    schema_name = schema_name or "public"
    for part in (schema_name, name):
        if not _IDENT.match(part):
            raise DatabaseError(
                tr("table name {table!r} is not a plain identifier", table=table),
                fix=tr("use letters, digits and underscores (schema.table)"),
            )
    return schema_name, name


def list_tables(url: str) -> list[str]:
    """Spatial tables (``schema.table``) registered in the database's ``geometry_columns``."""
    import sqlalchemy as sa

    engine = _engine(url)
    try:
        with engine.connect() as con:
            rows = con.execute(
                sa.text("SELECT f_table_schema, f_table_name FROM geometry_columns ORDER BY 1, 2")
            ).all()
    except Exception as exc:
        raise DatabaseError(tr("cannot list tables ({first_line})", first_line=_first_line(exc)), source=_redact(url)) from None
    finally:
        engine.dispose()
    return [f"{s}.{t}" if s != "public" else t for s, t in rows]


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def read_postgis_layer(url: str, table: str | None) -> gpd.GeoDataFrame:
    """Read one spatial table as a GeoDataFrame (its geometry column found automatically)."""
    import sqlalchemy as sa

    if not table:
        raise DatabaseError(
            tr("say which table to read; spatial tables are {list_tables}",
               list_tables=list_tables(url)),
            source=_redact(url), fix=tr("pass layer=TABLE (CLI: --layer TABLE)"),
        )
    schema_name, name = _split(str(table))
    engine = _engine(url)
    try:
        with engine.connect() as con:
            geom = con.execute(
                sa.text(
                    "SELECT f_geometry_column FROM geometry_columns "
                    "WHERE f_table_schema = :s AND f_table_name = :t"
                ),
                {"s": schema_name, "t": name},
            ).scalar()
            if geom is None:
                raise DatabaseError(
                    tr("no spatial table {table!r}; spatial tables are {list_tables}",
                       table=table, list_tables=list_tables(url)),
                    source=_redact(url),
                )
            sql = f'SELECT * FROM "{schema_name}"."{name}"'
            return gpd.read_postgis(sql, con, geom_col=geom)
    except DatabaseError:
        raise
    except Exception as exc:
        raise DatabaseError(tr("cannot read {table!r} ({first_line})",
                               table=table, first_line=_first_line(exc)), source=_redact(url)) from None
    finally:
        engine.dispose()


def write_postgis(
    layers: Mapping[str, pd.DataFrame],
    url: str,
    *,
    if_exists: str = "replace",
) -> list[str]:
    """Write several layers in one transaction (all or nothing).

    GeoDataFrames become spatial tables (with a spatial index); plain DataFrames plain tables.
    On any failure the transaction is rolled back and the previous tables stay as they were.

    Returns the names of the tables written.
    """
    engine = _engine(url)
    written = []
    try:
        with engine.begin() as con:  # commits on success, rolls back on any exception
            for table, df in layers.items():
                schema_name, name = _split(table)
                if isinstance(df, gpd.GeoDataFrame):
                    if df.crs is None:
                        raise DatabaseError(tr("layer {table!r} has no CRS", table=table), source=_redact(url))
                    df.to_postgis(name, con, schema=schema_name, if_exists=if_exists, index=False)
                else:
                    pd.DataFrame(df).to_sql(name, con, schema=schema_name, if_exists=if_exists, index=False)
                written.append(table)
    except DatabaseError:
        raise
    except Exception as exc:
        raise DatabaseError(
            tr("write failed and was rolled back; previous tables are unchanged ({first_line})",
               first_line=_first_line(exc)),
            source=_redact(url),
        ) from None
    finally:
        engine.dispose()
    return written


def write_layers(layers: Mapping[str, Any], target: str, **kwargs: Any) -> list[str]:
    """Write layers to a GeoPackage path or a ``postgresql://`` URL, in one step.

    A GeoPackage that exists keeps its other layers; the named ones are replaced (atomically).
    """
    from .io import is_database_url, write_gpkg

    if is_database_url(target):
        return write_postgis(layers, target, **kwargs)
    write_gpkg(layers, target, mode="a")
    return list(layers)
