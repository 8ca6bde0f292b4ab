"""Benchmark: event heatmap (kernel density) of 1,000,000 events onto a 1,000 × 1,000 raster.

Bar: gridgis.events.kde (quartic kernel, linear binning + FFT, clipped to the district)
in at most 5 s. Anchor, printed beside it in the same run: scipy.stats.gaussian_kde on a
10,000-event subset evaluated at 100 × 100 cell centres (a direct O(events × cells) sum), with
its time extrapolated linearly to the full problem (× 100 events × 100 cells). The gridgis exact
kernel sum on the same subset and the FFT result's error against it are printed too.

Run: ``python scripts/bench_heatmap.py`` (exit status 1 if the bar is missed).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import shapely
from scipy.stats import gaussian_kde

from gridgis.events import kde

CRS = "EPSG:4547"
N_EVENTS = 1_000_000
SHAPE = (1000, 1000)
BANDWIDTH = 300.0
BAR_S = 5.0


def synthetic_events(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, shapely.Geometry]:
    """Clustered events over a 20 km district (a wobbly disc) around x0, y0 in EPSG:4547."""
    rng = np.random.default_rng(seed)
    x0, y0, radius = 390_000.0, 3_080_000.0, 10_000.0
    angles = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    r = radius * (1 + 0.08 * np.sin(5 * angles) + 0.05 * np.cos(3 * angles))
    district = shapely.Polygon(np.c_[x0 + r * np.cos(angles), y0 + r * np.sin(angles)])
    n_clusters = 40
    centres = np.c_[rng.uniform(-6000, 6000, n_clusters), rng.uniform(-6000, 6000, n_clusters)]
    spread = rng.uniform(150, 1500, n_clusters)
    share = rng.dirichlet(np.ones(n_clusters)) * 0.8
    k = rng.choice(n_clusters + 1, size=n, p=np.r_[share, 0.2])
    bg = k == n_clusters
    k = np.minimum(k, n_clusters - 1)
    xy = centres[k] + rng.normal(0, 1, (n, 2)) * spread[k, None]
    xy[bg] = rng.uniform(-radius, radius, (int(bg.sum()), 2))
    return x0 + xy[:, 0], y0 + xy[:, 1], district


def timed(fn, repeat: int = 1):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> int:
    x, y, district = synthetic_events(N_EVENTS)
    extent = district.bounds
    print(f"events: {N_EVENTS:,}  raster: {SHAPE[0]}×{SHAPE[1]}  bandwidth: {BANDWIDTH:g} m  kernel: quartic")

    # warm-up (imports, FFT plans), then best of 3
    kde((x[:1000], y[:1000]), crs=CRS, bandwidth=BANDWIDTH, shape=SHAPE, extent=extent, clip=district, method="fft")
    t_fft, r = timed(lambda: kde((x, y), crs=CRS, bandwidth=BANDWIDTH, shape=SHAPE, extent=extent,
                                 clip=district, method="fft"), repeat=3)
    print(f"gridgis kde (fft, clipped)      : {t_fft:7.3f} s   cell {r.cell_size:.1f} m, "
          f"{r.meta['n_events']:,} events, peak {r.max:,.0f} events/km²   [bar <= {BAR_S:g} s]")

    # anchor: scipy gaussian_kde on a subset, on a coarser set of evaluation points
    rng = np.random.default_rng(1)
    sub = rng.choice(N_EVENTS, 10_000, replace=False)
    xs, ys = x[sub], y[sub]
    xc = np.linspace(extent[0], extent[2], 100)
    yc = np.linspace(extent[1], extent[3], 100)
    gx, gy = np.meshgrid(xc, yc)
    est = gaussian_kde(np.vstack([xs, ys]))
    t_sc, _ = timed(lambda: est(np.vstack([gx.ravel(), gy.ravel()])))
    factor = (N_EVENTS / len(sub)) * (SHAPE[0] * SHAPE[1] / gx.size)
    t_sc_full = t_sc * factor
    print(f"scipy gaussian_kde 10k ev × 10k pts: {t_sc:7.3f} s   extrapolated to 1M ev × 1M cells: "
          f"{t_sc_full:,.0f} s (×{factor:,.0f})")

    # gridgis exact kernel sum on the subset, full raster; and the FFT error against it
    t_ex, exact = timed(lambda: kde((xs, ys), crs=CRS, bandwidth=BANDWIDTH, shape=SHAPE, extent=extent,
                                    clip=district, method="exact"))
    t_sf, fft_sub = timed(lambda: kde((xs, ys), crs=CRS, bandwidth=BANDWIDTH, shape=SHAPE, extent=extent,
                                      clip=district, method="fft"))
    err = np.nanmax(np.abs(fft_sub.values - exact.values)) / exact.max
    print(f"gridgis exact sum, 10k events     : {t_ex:7.3f} s   (fft on the same: {t_sf:.3f} s; "
          f"max |fft - exact| = {err:.3%} of peak)")
    print(f"ratio: scipy (extrapolated) / gridgis fft = {t_sc_full / t_fft:,.0f}×")
    ok = t_fft <= BAR_S and err < 0.01
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
