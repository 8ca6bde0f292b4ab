"""Loading the bundled sample district.

The sample GeoPackage lives in the repository's ``data/samples/`` (:data:`SAMPLE_DIR`, with the
CSV point tables) and ships inside the package as package data (:data:`SAMPLE_GPKG`), so
:func:`load_sample` works from an installed wheel; ``scripts/make_samples.py`` writes both.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from ..errors import InputFileError
from ..i18n import _, tr
from ._api import LAYERS, generate_district, normalise_layer

__all__ = ["SAMPLE_DIR", "SAMPLE_GPKG", "load_sample"]

#: home of the sample data in a source checkout (GeoPackage and CSV tables)
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "samples"
#: the copy of ``data/samples/sample_district.gpkg`` shipped inside the package
SAMPLE_GPKG = Path(__file__).resolve().parent / "data" / "sample_district.gpkg"

_CACHE: dict[tuple, dict[str, gpd.GeoDataFrame]] = {}


def _read(p: Path) -> dict[str, gpd.GeoDataFrame]:
    import pyogrio

    have = {row[0] for row in pyogrio.list_layers(p)}
    missing = [n for n in LAYERS if n not in have]
    if missing:
        raise InputFileError(tr("sample GeoPackage lacks layer(s) {missing}", missing=missing), source=p,
                             fix=_("regenerate it with scripts/make_samples.py"))
    return {n: normalise_layer(n, pyogrio.read_dataframe(p, layer=n)) for n in LAYERS}


def load_sample(path: str | Path | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Layers of the bundled sample district (generated with seed 0 when the file is absent).

    Parameters
    ----------
    path
        GeoPackage to read; default :data:`SAMPLE_GPKG`, the copy shipped in the package.
        When the default file does not exist, ``generate_district(seed=0)`` is used instead.

    Returns
    -------
    dict of str to GeoDataFrame
        Fresh copies, safe to modify (the layers are cached in memory).

    Examples
    --------
    >>> from gridgis.samples import load_sample
    >>> layers = load_sample()
    >>> layers["communities"].crs.to_epsg()
    4547
    """
    default = SAMPLE_GPKG
    p = Path(path) if path is not None else default
    if p.exists():
        key: tuple = ("file", str(p.resolve()), p.stat().st_mtime_ns)
        if key not in _CACHE:
            _CACHE[key] = _read(p)
    elif path is not None:
        raise InputFileError(_("file not found"), source=p, fix=_("check the path, or call load_sample() "
                                                               "without a path for the bundled sample"))
    else:
        key = ("generated", str(p), 0, 1.0)
        if key not in _CACHE:
            _CACHE[key] = generate_district(seed=0, scale=1.0)
    return {n: df.copy() for n, df in _CACHE[key].items()}
