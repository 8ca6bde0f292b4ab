"""Regenerate the bundled sample district in data/samples/.

Usage::

    python scripts/make_samples.py [--seed 0] [--scale 1.0] [--out data/samples]

Writes sample_district.gpkg (ten layers), addresses.csv / events.csv (UTF-8) and
addresses_gbk.csv / events_gbk.csv (GBK, Chinese headers). See data/samples/README.md.
When writing to data/samples/, the GeoPackage is also copied to the package data
(gridgis/samples/data/sample_district.gpkg), which ``load_sample()`` reads.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from gridgis.samples import SAMPLE_DIR, SAMPLE_GPKG, generate_district, write_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR)
    args = parser.parse_args()
    t0 = time.perf_counter()
    layers = generate_district(seed=args.seed, scale=args.scale)
    paths = write_sample(args.out, layers=layers)
    if args.out.resolve() == SAMPLE_DIR.resolve():
        shutil.copyfile(paths["gpkg"], SAMPLE_GPKG)
        paths["package_gpkg"] = SAMPLE_GPKG
    print(f"generated in {time.perf_counter() - t0:.1f} s")
    for name, df in layers.items():
        print(f"  {name:14s} {len(df):7d} rows")
    for key, p in paths.items():
        print(f"  {key:14s} {p}  {p.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
