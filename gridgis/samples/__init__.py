"""Deterministic sample district for tests, notebooks, benchmarks and documentation.

The sample is a synthetic district around Xiangtan, Hunan (雨湖区, code 430302) in
EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E, metres) with ten layers:
``district``, ``streets``, ``communities``, ``roads``, ``rivers``, ``buildings``,
``special_sites``, ``addresses``, ``events`` and ``hotspots`` (see data/samples/README.md).
The GeoPackage ships inside the package (:data:`SAMPLE_GPKG`), so :func:`load_sample` works
from an installed wheel.

>>> from gridgis.samples import load_sample
>>> layers = load_sample()
>>> sorted(layers)[:3]
['addresses', 'buildings', 'communities']
"""

from __future__ import annotations

from ._api import LAYERS, generate_district, generate_points, write_sample
from .loading import SAMPLE_DIR, SAMPLE_GPKG, load_sample

__all__ = [
    "LAYERS",
    "SAMPLE_DIR",
    "SAMPLE_GPKG",
    "generate_district",
    "generate_points",
    "load_sample",
    "write_sample",
]
