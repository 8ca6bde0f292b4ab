"""Generating and writing the sample district, and fast point tables."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from ..errors import GridGISError
from ..i18n import tr
from ._events import event_table

__all__ = [
    "CRS",
    "LAYERS",
    "MAX_SCALE",
    "generate_district",
    "generate_points",
    "normalise_layer",
    "write_sample",
]

CRS = "EPSG:4547"

# layer -> ordered (column, dtype); "geometry" is always last
LAYERS: dict[str, tuple[tuple[str, str], ...]] = {
    "district": (("code", "str"), ("name", "str")),
    "streets": (("code", "str"), ("name", "str"), ("parent_code", "str")),
    "communities": (("code", "str"), ("name", "str"), ("parent_code", "str"),
                    ("area_kind", "str")),
    "roads": (("road_id", "str"), ("name", "str"), ("road_class", "str")),
    "rivers": (("name", "str"), ("road_class", "str"), ("width_m", "float64")),
    "buildings": (("building_id", "str"), ("community_code", "str"), ("compound_id", "str"),
                  ("use", "str"), ("floors", "int64"), ("households", "int64"),
                  ("population", "int64")),
    "special_sites": (("site_id", "str"), ("name", "str"), ("kind", "str"),
                      ("community_code", "str")),
    "addresses": (("address_id", "str"), ("building_id", "str"), ("community_code", "str"),
                  ("address", "str"), ("lon", "float64"), ("lat", "float64")),
    "events": (("event_id", "str"), ("category", "str"), ("urgency", "str"), ("stage", "str"),
               ("reported_at", "datetime64[ms]"), ("closed_at", "datetime64[ms]"),
               ("lon", "float64"), ("lat", "float64")),
    "hotspots": (("hotspot_id", "str"), ("name", "str"), ("category", "str"),
                 ("radius_m", "float64"), ("n_events", "int64"), ("lon", "float64"),
                 ("lat", "float64")),
}

def normalise_layer(name: str, df: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Canonical column order and dtypes (so generated and re-read layers compare equal).

    Examples
    --------
    >>> from gridgis.samples import load_sample
    >>> layer = load_sample()["roads"]
    >>> normalise_layer("roads", layer).columns.tolist()
    ['road_id', 'name', 'road_class', 'geometry']
    """
    cols = LAYERS[name]
    data = {}
    for col, dtype in cols:
        s = df[col]
        if dtype.startswith("datetime"):
            s = pd.to_datetime(s).astype(dtype)
        elif dtype == "str":
            s = s.astype("str")
        else:
            s = s.astype(dtype)
        data[col] = s.reset_index(drop=True)
    geom = gpd.GeoSeries(df.geometry.values, crs=df.crs).reset_index(drop=True)
    out = gpd.GeoDataFrame(data, geometry=geom, crs=df.crs)
    if out.crs is None or out.crs.to_epsg() != 4547:
        out = out.set_crs(CRS, allow_override=True)
    return out


#: largest scale: about 3,000,000 households, the size of a prefecture-level city
MAX_SCALE = 100.0


def generate_district(seed: int = 0, scale: float = 1.0) -> dict[str, gpd.GeoDataFrame]:
    """Generate the synthetic sample district.

    Parameters
    ----------
    seed
        Seed of the single ``numpy.random.Generator`` that drives every choice; the same seed
        (and scale) always gives identical layers.
    scale
        Area factor. ``1.0`` gives one district (~26 km²) with 4 streets/towns, 15 urban
        communities, 7 villages, ~3,200 buildings, ~32,000 households, ~3,800 addresses and
        ~10,700 events; ``scale=4`` has about four times as much of everything (linear size
        doubles, ~10 s); ``scale=94`` is a prefecture-level city of about 3,000,000 households.
        Must be in ``[0.1, 100]``; for million-row point tables use :func:`generate_points`.

    Returns
    -------
    dict of str to GeoDataFrame
        Layers ``district``, ``streets``, ``communities``, ``roads``, ``rivers``, ``buildings``,
        ``special_sites``, ``addresses``, ``events``, ``hotspots`` in EPSG:4547 with the
        canonical columns (see :data:`LAYERS`).

    Examples
    --------
    >>> from gridgis.samples import generate_district
    >>> layers = generate_district(seed=1, scale=0.25)
    >>> layers["buildings"].crs.to_epsg()
    4547
    """
    from ._layers import build_layers

    if not (0.1 <= float(scale) <= MAX_SCALE):
        raise GridGISError(tr("scale={scale!r} is out of range", scale=scale),
                           fix=tr("use 0.1 <= scale <= {top:g}; for very large point tables use "
                                  "generate_points(n)", top=MAX_SCALE))
    raw = build_layers(int(seed), float(scale))
    return {name: normalise_layer(name, raw[name]) for name in LAYERS}


def _csv_times(s: pd.Series) -> pd.Series:
    return s.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")


ADDRESS_HEADERS_ZH = {"address_id": "地址编号", "building_id": "建筑编号",
                      "community_code": "所属社区", "address": "地址", "lon": "经度",
                      "lat": "纬度"}
EVENT_HEADERS_ZH = {"event_id": "事件编号", "category": "事件类型", "urgency": "紧急程度",
                    "stage": "流程环节", "reported_at": "上报时间", "closed_at": "办结时间",
                    "lon": "经度", "lat": "纬度"}


def write_sample(out_dir: str | Path, seed: int = 0, scale: float = 1.0,
                 layers: dict[str, gpd.GeoDataFrame] | None = None) -> dict[str, Path]:
    """Write the sample files into ``out_dir``.

    Files: ``sample_district.gpkg`` (all ten layers), ``addresses.csv`` and ``events.csv``
    (UTF-8, canonical English headers), ``addresses_gbk.csv`` and ``events_gbk.csv``
    (GBK, Chinese headers as offices use them). Coordinates in the CSV files are WGS84
    ``lon``/``lat``; times are ``YYYY-MM-DD HH:MM:SS`` (empty when still open).

    Parameters
    ----------
    out_dir
        Folder to write into (created when missing; existing sample files are replaced).
    seed, scale
        Passed to :func:`generate_district` (ignored when ``layers`` is given).
    layers
        Already generated layers to write.

    Returns
    -------
    dict of str to Path
        The written files by short name (``gpkg``, ``addresses``, ``addresses_gbk``,
        ``events``, ``events_gbk``).

    Examples
    --------
    >>> import tempfile
    >>> from gridgis.samples import write_sample
    >>> paths = write_sample(tempfile.mkdtemp(), scale=0.1)                # doctest: +SKIP
    >>> sorted(paths)                                                       # doctest: +SKIP
    ['addresses', 'addresses_gbk', 'events', 'events_gbk', 'gpkg']
    """
    import pyogrio

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if layers is None:
        layers = generate_district(seed=seed, scale=scale)
    gpkg = out / "sample_district.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    for name in LAYERS:
        # point tables are read whole; an R-tree would add ~40 % to the file
        index = "NO" if name in ("addresses", "events") else "YES"
        pyogrio.write_dataframe(layers[name], gpkg, layer=name, driver="GPKG",
                                layer_options={"SPATIAL_INDEX": index})
    paths = {"gpkg": gpkg}
    addr = pd.DataFrame(layers["addresses"].drop(columns="geometry"))
    ev = pd.DataFrame(layers["events"].drop(columns="geometry"))
    ev["reported_at"] = _csv_times(ev["reported_at"])
    ev["closed_at"] = _csv_times(ev["closed_at"])
    fmt = {"lon": "{:.7f}".format, "lat": "{:.7f}".format}
    for frame in (addr, ev):
        for col, f in fmt.items():
            frame[col] = frame[col].map(f)
    for key, frame, zh in (("addresses", addr, ADDRESS_HEADERS_ZH), ("events", ev, EVENT_HEADERS_ZH)):
        p = out / f"{key}.csv"
        frame.to_csv(p, index=False, encoding="utf-8", lineterminator="\n")
        paths[key] = p
        p = out / f"{key}_gbk.csv"
        frame.rename(columns=zh).to_csv(p, index=False, encoding="gbk", lineterminator="\r\n")
        paths[f"{key}_gbk"] = p
    return paths


def _arrow_str(values) -> pd.Series:
    """pandas ``str`` Series over a pyarrow string array (no per-row Python objects)."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return pd.Series(pd.arrays.ArrowStringArray(arr))


def _take_str(values: pd.Series, k: np.ndarray):
    return pa.array(values.to_numpy(dtype=object), pa.string()).take(pa.array(k))


def _serial_ids(prefix: str, n: int, width: int):
    digits = pc.utf8_lpad(pa.array(np.arange(1, n + 1)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def generate_points(n: int, layers: dict[str, gpd.GeoDataFrame] | None = None, *,
                    kind: str = "addresses", seed: int = 0) -> gpd.GeoDataFrame:
    """Fast, vectorised table of ``n`` address or event points for benchmarks.

    Points are drawn from the residential buildings of ``layers`` (default: :func:`load_sample`)
    with probability proportional to households, uniformly inside the footprint, so every point
    lies in its building and community. One million addresses take a few seconds.

    Parameters
    ----------
    n
        Number of rows.
    layers
        Sample layers (``buildings`` and ``addresses`` for addresses, ``events`` for events).
    kind
        ``"addresses"``: columns of the ``addresses`` layer; the address strings extend a
        building's entrance address with a room number (``…2单元1502室``); they are not
        guaranteed unique. ``"events"``: columns of the ``events`` layer; rows resample the
        sample events with jittered positions and shifted report times within 2025.
    seed
        Seed of the random generator.

    Returns
    -------
    GeoDataFrame
        EPSG:4547 points with the canonical columns of the chosen layer.

    Examples
    --------
    >>> len(generate_points(1000, kind="events"))
    1000
    """
    from ._layers import to_wgs84

    if kind not in ("addresses", "events"):
        raise GridGISError(tr("kind={kind!r} is not supported", kind=kind), fix=tr("use 'addresses' or 'events'"))
    n = int(n)
    if n < 0:
        raise GridGISError(tr("n={n} must be >= 0", n=n))
    rng = np.random.default_rng(seed)
    if layers is None:
        from .loading import load_sample  # loading builds on this module

        layers = load_sample()
    if kind == "events":
        ev = layers["events"]
        k = rng.integers(0, len(ev), n)
        xy = shapely.get_coordinates(ev.geometry.values[k]) + rng.normal(0, 15, (n, 2))
        dist = layers["district"].geometry.values[0]
        ok = shapely.contains_xy(dist, xy[:, 0], xy[:, 1])
        xy[~ok] = shapely.get_coordinates(ev.geometry.values[k[~ok]])
        day = rng.integers(0, 365, n).astype("timedelta64[D]")
        sec = rng.integers(0, 86400, n).astype("timedelta64[s]")
        rep = (np.datetime64("2025-01-01T00:00:00") + day + sec).astype("datetime64[s]")
        cat = ev["category"].to_numpy(dtype=object)[k]
        table = event_table(rng, cat, rep)
        order = np.argsort(rep, kind="stable")
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1])

        def text(values: np.ndarray) -> pd.Series:  # few distinct values: categorical codes
            uniq, inv = np.unique(values.astype(str), return_inverse=True)
            return _take_str(pd.Series(uniq, dtype=object), inv[order])

        data = {
            "event_id": _arrow_str(_serial_ids("P", n, 9)),
            "category": _arrow_str(text(cat)),
            "urgency": _arrow_str(text(table["urgency"])),
            "stage": _arrow_str(text(table["stage"])),
            "reported_at": pd.to_datetime(rep[order]),
            "closed_at": pd.to_datetime(table["closed_at"][order]),
            "lon": lon[order],
            "lat": lat[order],
        }
        gdf = gpd.GeoDataFrame(data, geometry=shapely.points(xy[order]), crs=CRS)
        return normalise_layer("events", gdf)
    b = layers["buildings"]
    res = (b["use"] == "residential").to_numpy() & (b["households"] > 0).to_numpy()
    bi = np.flatnonzero(res)
    w = b["households"].to_numpy()[bi].astype(float)
    k = bi[rng.choice(len(bi), size=n, p=w / w.sum())]
    geoms = b.geometry.values[k]
    bounds = shapely.bounds(geoms)
    xy = np.empty((n, 2))
    todo = np.arange(n)
    for _ in range(60):
        if not len(todo):
            break
        lo, hi = bounds[todo, :2], bounds[todo, 2:]
        cand = lo + rng.uniform(size=(len(todo), 2)) * (hi - lo)
        ok = shapely.contains_xy(geoms[todo], cand[:, 0], cand[:, 1])
        xy[todo[ok]] = cand[ok]
        todo = todo[~ok]
    if len(todo):
        xy[todo] = shapely.get_coordinates(shapely.point_on_surface(geoms[todo]))
    # address text: the building's entrance address without its unit + unit, floor and room
    addr = layers["addresses"]
    first = addr.drop_duplicates("building_id").set_index("building_id")["address"]
    prefix = (first.reindex(b["building_id"]).fillna("").astype("str")
              .str.replace(r"\d+单元$", "", regex=True))
    prefix = pa.array(prefix.to_numpy(dtype=object), type=pa.string())
    floors = np.maximum(b["floors"].to_numpy()[k], 1)
    units = addr.groupby("building_id").size().reindex(b["building_id"]).fillna(1).to_numpy()
    unit = (rng.uniform(size=n) * np.maximum(units[k], 1)).astype(int) + 1
    floor = (rng.uniform(size=n) * floors).astype(int) + 1
    room = floor * 100 + rng.integers(1, 5, n)
    text = pc.binary_join_element_wise(
        prefix.take(pa.array(k)), pa.array(unit).cast(pa.string()), "单元",
        pa.array(room).cast(pa.string()), "室", "")

    lon, lat = to_wgs84(xy[:, 0], xy[:, 1])
    data = {
        "address_id": _arrow_str(_serial_ids("P", n, 9)),
        "building_id": _arrow_str(_take_str(b["building_id"], k)),
        "community_code": _arrow_str(_take_str(b["community_code"], k)),
        "address": _arrow_str(text),
        "lon": lon,
        "lat": lat,
    }
    gdf = gpd.GeoDataFrame(data, geometry=shapely.points(xy), crs=CRS)
    return normalise_layer("addresses", gdf)
