"""Hot and cold spots of per-grid event rates: Getis–Ord Gi* with permutation inference.

Gi* (Getis & Ord 1992; Ord & Getis 1995) compares the sum of a value over a grid and its
neighbours with what a random arrangement of the same values would give. A large positive
z-score marks a cluster of high values (hot spot, 热点), a large negative one a cluster of low
values (cold spot, 冷点). Significance comes from conditional permutations (seeded, so the same
input gives the same table) via :class:`esda.G_Local`; the classes follow the usual
99 % / 95 % / 90 % confidence bins (ArcGIS' ``Gi_Bin``).

Example
-------
>>> from gridgis import events, hotspots
>>> stats = events.grid_stats(assigned, grids)                  # doctest: +SKIP
>>> hs = hotspots.getis_ord(stats, "rate_per_100hh", seed=0)    # doctest: +SKIP
>>> hs[hs.hotspot == "hot"]                                     # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import GridGISError, SchemaError

__all__ = ["getis_ord", "spatial_weights", "HOTSPOT_LABELS"]

#: Chinese legend labels of the ``gi_bin`` classes (-3 … 3).
HOTSPOT_LABELS = {
    3: "热点 (99%)",
    2: "热点 (95%)",
    1: "热点 (90%)",
    0: "不显著",
    -1: "冷点 (90%)",
    -2: "冷点 (95%)",
    -3: "冷点 (99%)",
}


def spatial_weights(
    gdf: gpd.GeoDataFrame, kind: str = "queen", *, k: int = 6, distance: float | None = None
) -> Any:
    """Binary spatial weights between the rows of ``gdf`` (libpysal ``W``, ids = row positions).

    Parameters
    ----------
    kind
        ``"queen"`` (share a boundary point), ``"rook"`` (share an edge), ``"knn"`` (``k``
        nearest centroids) or ``"distance"`` (centroids within ``distance`` metres).
        Contiguity weights attach every island (a grid with no neighbour) to its nearest
        grid, so no grid is left out of the statistic.
    """
    from libpysal import weights as lw

    if len(gdf) < 3:
        raise GridGISError(f"need at least 3 grids for hot-spot analysis, got {len(gdf)}")
    geo = gdf.geometry.reset_index(drop=True)
    frame = gpd.GeoDataFrame(geometry=geo, crs=gdf.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind in ("queen", "rook"):
            cls = lw.Queen if kind == "queen" else lw.Rook
            w = cls.from_dataframe(frame, use_index=False, silence_warnings=True)
            if w.islands:
                knn = lw.KNN.from_dataframe(_centroids(frame), k=1, use_index=False)
                w = lw.util.attach_islands(w, knn)
        elif kind == "knn":
            w = lw.KNN.from_dataframe(_centroids(frame), k=min(k, len(frame) - 1), use_index=False)
        elif kind == "distance":
            if not distance:
                raise GridGISError("distance weights need distance= (metres)")
            w = lw.DistanceBand.from_dataframe(
                _centroids(frame), threshold=float(distance), binary=True, silence_warnings=True,
                use_index=False,
            )
        else:
            raise GridGISError(
                f"unknown weights kind {kind!r}", fix="use 'queen', 'rook', 'knn' or 'distance'"
            )
    w.transform = "B"
    return w


def _centroids(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    metric = frame
    if frame.crs is not None and not frame.crs.is_projected:
        from .crs import to_metric

        metric = to_metric(frame)
    return gpd.GeoDataFrame(geometry=metric.geometry.centroid, crs=metric.crs)


def getis_ord(
    grids: gpd.GeoDataFrame,
    value: str = "rate_per_100hh",
    *,
    weights: str | Any = "queen",
    k: int = 6,
    distance: float | None = None,
    permutations: int = 999,
    seed: int = 0,
    alpha: float = 0.05,
    fdr: bool = False,
) -> gpd.GeoDataFrame:
    """Getis–Ord Gi* hot and cold spots of a per-grid value.

    Parameters
    ----------
    grids
        Grid layer with ``value`` (e.g. the result of :func:`gridgis.events.grid_stats`).
        Grids where the value is missing (e.g. a rate of a grid without households) are
        left out of the statistic and come back with ``hotspot = "no data"``.
    value
        Column to analyse (``rate_per_100hh``, ``n_events`` …).
    weights
        ``"queen"`` (default), ``"rook"``, ``"knn"``, ``"distance"`` or a libpysal ``W`` whose
        ids are the row positions of the analysed grids; see :func:`spatial_weights`.
    k, distance
        Parameters of ``"knn"`` / ``"distance"`` weights.
    permutations
        Conditional permutations for the pseudo p-values (999 gives p down to 0.001).
    seed
        Seed of the permutations (deterministic results).
    alpha
        Significance level of the ``hotspot`` column.
    fdr
        Control the false discovery rate (Benjamini–Hochberg over all grids) instead of
        testing every grid at ``alpha``; ``gi_bin`` then marks only FDR-significant grids.

    Returns
    -------
    geopandas.GeoDataFrame
        ``grids`` with ``gi_z`` (z-score of Gi*), ``gi_p`` (permutation pseudo p-value,
        folded: the share of permutations as extreme), ``gi_p_norm`` (normal-theory p, one
        sided), ``gi_bin`` (±3/±2/±1 = hot/cold at 99/95/90 % confidence, 0 not significant),
        ``hotspot`` (``"hot"``, ``"cold"``, ``"not significant"``, ``"no data"`` at
        ``alpha``) and ``hotspot_label`` (Chinese legend text). ``attrs`` holds the
        parameters.
    """
    from esda.getisord import G_Local

    if value not in grids.columns:
        raise SchemaError(f"grids have no column {value!r}", fix="compute it with gridgis.events.grid_stats")
    y_all = pd.to_numeric(grids[value], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(y_all)
    if ok.sum() < 3:
        raise GridGISError(f"only {int(ok.sum())} grids have a {value!r} value; need at least 3")
    sub = grids.loc[ok]
    if isinstance(weights, str):
        w = spatial_weights(sub, weights, k=k, distance=distance)
    else:
        w = weights
        if w.n != int(ok.sum()):
            raise GridGISError(f"weights cover {w.n} units, but {int(ok.sum())} grids have values")
    y = y_all[ok]
    out = grids.copy()
    n = len(grids)
    z = np.full(n, np.nan)
    p = np.full(n, np.nan)
    pn = np.full(n, np.nan)
    if np.ptp(y) == 0:
        z[ok], p[ok], pn[ok] = 0.0, 1.0, 1.0
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            g = G_Local(
                y, w, transform="B", star=True, permutations=permutations, seed=seed, n_jobs=1,
                keep_simulations=False,
            )
        z[ok] = g.Zs
        pn[ok] = g.p_norm
        p[ok] = g.p_sim if permutations else g.p_norm
    sig_p = p.copy()
    if fdr:
        from esda import fdr as esda_fdr

        cutoff = esda_fdr(p[ok], alpha)
        sig_p = np.where(p <= cutoff, p, 1.0)
    gi_bin = np.zeros(n, dtype=int)
    sign = np.sign(np.nan_to_num(z))
    for level, thr in ((1, 0.10), (2, 0.05), (3, 0.01)):
        gi_bin = np.where(ok & (sig_p <= thr), (level * sign).astype(int), gi_bin)
    significant = ok & (sig_p <= alpha)
    hotspot = np.where(
        ~ok, "no data", np.where(significant & (z > 0), "hot", np.where(significant & (z < 0), "cold", "not significant"))
    )
    out["gi_z"] = z
    out["gi_p"] = p
    out["gi_p_norm"] = pn
    out["gi_bin"] = np.where(ok, gi_bin, 0)
    out["hotspot"] = hotspot
    out["hotspot_label"] = [
        "无数据" if not o else HOTSPOT_LABELS[int(b)] for o, b in zip(ok, gi_bin, strict=True)
    ]
    out.attrs.update(
        value=value,
        weights=weights if isinstance(weights, str) else "custom",
        permutations=permutations,
        seed=seed,
        alpha=alpha,
        fdr=fdr,
    )
    return out
