"""Hot spots of events relative to the people exposed: Poisson excess over expected counts.

Gi* of raw counts marks where events are dense, and events are dense where people live
densely: on a real district it draws the city centre. What a grid office wants to know is where
events are *unusually frequent for the households (or residents) who live there*. Here every
grid's expected count is its share of the exposure times all events,
``E_i = X_i · ΣO / ΣX``; the observed count ``O_i`` is tested against ``Poisson(E_i)``
(exact tails, two-sided: hot when ``O_i`` is improbably high, cold when improbably low), with
Benjamini–Hochberg false-discovery-rate control across grids by default. Counts that vary
between grids more than a Poisson allows (they always do in real districts) are tested against
a negative binomial whose extra variation is estimated robustly (:func:`overdispersion`). With
``weights="queen"`` (or any libpysal ``W``) a grid's test pools its neighbours' counts and
expectations with its own (a rate version of Gi*), which finds excesses spread over a few
small grids.

Also reported: the standardised ratio ``O/E`` and the global empirical-Bayes smoothed rate
(Marshall 1991), which shrinks the rates of grids with little exposure toward the district
rate so that a grid of 20 households with 3 events does not top the ranking.

Events drawn in proportion to households give, by construction, p-values that are uniform
(conservative, the counts are discrete): at the defaults practically no grid is flagged, and a
planted excess is.

Example
-------
>>> from gridgis.events import grid_stats, rate_hotspots
>>> hs = rate_hotspots(grid_stats(events, grids), "n_events", "households")   # doctest: +SKIP
>>> hs.loc[hs["hotspot"] == "hot", ["grid_code", "n_events", "expected", "ratio"]]  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.stats import nbinom, norm, poisson

from .. import schema
from ..errors import GridGISError, SchemaError
from ..i18n import _, tr
from ._gistar import classify, star_matrix
from .hotspots import spatial_weights

__all__ = ["eb_rates", "overdispersion", "poisson_excess", "rate_hotspots"]


_MEDIAN_CHI2_1 = 0.454936  # median of chi-square with one degree of freedom


def overdispersion(observed: Any, expected: Any) -> float:
    """Robust extra-Poisson variation α of counts (variance ``E + α E²``; 0 for Poisson).

    The median of ``(r²/0.455 − 1)/E`` over units, with ``r = (O − E)/√E``: the median keeps a
    few real hot spots from inflating it, so general heterogeneity (city against countryside,
    streets and markets) is absorbed and outliers still stand out.

    Examples
    --------
    >>> import numpy as np
    >>> from gridgis.events import overdispersion
    >>> rng = np.random.default_rng(0)
    >>> e = np.full(400, 50.0)
    >>> overdispersion(rng.poisson(e), e) < 0.005
    True
    >>> 0.2 < overdispersion(rng.poisson(e * rng.gamma(4, 0.25, 400)), e) < 0.35   # true α 0.25
    True
    """
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    use = e > 0
    if use.sum() < 3:
        return 0.0
    r2 = (o[use] - e[use]) ** 2 / e[use]
    return float(max(0.0, np.median((r2 / _MEDIAN_CHI2_1 - 1.0) / e[use])))


def poisson_excess(observed: Any, expected: Any, matrix: Any = None, *, dispersion: float = 0.0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided exact p-values of observed counts against expected ones.

    ``matrix`` (sparse, n × n, e.g. :func:`gridgis.events._gistar.star_matrix` of a weights
    object) pools each unit's counts and expectations over its neighbourhood first.
    ``dispersion`` α > 0 uses the negative binomial with variance ``E + α E²`` (see
    :func:`overdispersion`) instead of the Poisson.

    Returns
    -------
    z, p
        A signed z-equivalent of the p-value (for sorting and maps) and the two-sided p.

    Examples
    --------
    >>> from gridgis.events import poisson_excess
    >>> z, p = poisson_excess([10, 30, 2], [10.0, 10.0, 10.0])
    >>> [f"{v:.1e}" for v in p]
    ['1.0e+00', '5.0e-07', '5.5e-03']
    """
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    if matrix is not None:
        o, e = matrix @ o, matrix @ e
    if dispersion > 0:
        size = 1.0 / dispersion
        prob = size / (size + np.maximum(e, 1e-300))
        hi, lo = nbinom.sf(o - 1, size, prob), nbinom.cdf(o, size, prob)
    else:
        hi = poisson.sf(o - 1, e)  # P(X >= o)
        lo = poisson.cdf(o, e)  # P(X <= o)
    p = np.minimum(1.0, 2.0 * np.minimum(hi, lo))
    p = np.where(e > 0, p, np.where(o > 0, 0.0, 1.0))
    sign = np.where(o > e, 1.0, np.where(o < e, -1.0, 0.0))
    z = sign * norm.isf(np.clip(p, 1e-300, 1.0) / 2.0)
    return z, p


def eb_rates(observed: Any, exposure: Any) -> np.ndarray:
    """Global empirical-Bayes smoothed rates (Marshall 1991) of counts over exposures.

    Examples
    --------
    >>> from gridgis.events import eb_rates
    >>> r = eb_rates([3, 400, 380], [20, 4000, 4000])
    >>> bool(abs(r[0] - 0.0975) < abs(3 / 20 - 0.0975))
    True
    """
    o = np.asarray(observed, dtype=float)
    x = np.asarray(exposure, dtype=float)
    b = o.sum() / x.sum()
    r = o / x
    s2 = float((x * (r - b) ** 2).sum() / x.sum())
    a = max(s2 - b / x.mean(), 0.0)
    w = a / (a + b / x) if a > 0 else np.zeros_like(x)
    return w * r + (1 - w) * b


def rate_hotspots(
    grids: gpd.GeoDataFrame,
    count: str = "n_events",
    exposure: str = schema.HOUSEHOLDS,
    *,
    weights: str | Any | None = None,
    k: int = 6,
    distance: float | None = None,
    alpha: float = 0.05,
    fdr: bool = True,
    per: float = 100.0,
    overdispersed: bool = True,
) -> gpd.GeoDataFrame:
    """Grids where events are unusually frequent (or rare) for their exposure.

    Parameters
    ----------
    grids
        Grid layer with an event ``count`` (e.g. :func:`gridgis.events.grid_stats`) and an
        ``exposure`` column (households, population, or any user column). Grids with no
        exposure (special grids, missing values) come back as ``"no data"``.
    weights
        ``None`` (default): each grid tested on its own; ``"queen"``, ``"rook"``, ``"knn"``,
        ``"distance"`` or a libpysal ``W`` over the grids with exposure: pooled with neighbours.
    alpha, fdr
        Significance level; Benjamini–Hochberg false-discovery-rate control (default on).
    per
        Rates are given per ``per`` exposure units (100 households by default).
    overdispersed
        Estimate the extra-Poisson variation of the counts (:func:`overdispersion`) and test
        against the negative binomial (default); ``False``: plain Poisson. Real event counts
        vary more than Poisson between grids of equal exposure (streets, markets, habits), and a
        Poisson test would call much of that variation hot or cold.

    Returns
    -------
    geopandas.GeoDataFrame
        ``grids`` with ``expected`` (count expected from the exposure), ``excess`` (observed −
        expected), ``ratio`` (observed / expected), ``rate`` and ``eb_rate`` (raw and
        empirical-Bayes smoothed per ``per``), and the hot-spot columns of
        :func:`gridgis.events.getis_ord` (``gi_z`` a signed z-equivalent, ``gi_p`` the exact
        Poisson p, ``gi_bin``, ``hotspot``, ``hotspot_label``). ``attrs["method"]`` is
        ``"poisson"`` and ``attrs["dispersion"]`` the α used.

    Examples
    --------
    >>> from gridgis.events import grid_stats, rate_hotspots
    >>> hs = rate_hotspots(grid_stats(events, grids), "n_events", "households")  # doctest: +SKIP
    """
    for col in (count, exposure):
        if col not in grids.columns:
            raise SchemaError(tr("grids have no column {column!r}", column=col),
                              fix=_("count events with gridgis.events.grid_stats; name the exposure column"))
    o_all = pd.to_numeric(grids[count], errors="coerce").fillna(0).to_numpy(dtype=float)
    x_all = pd.to_numeric(grids[exposure], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(x_all) & (x_all > 0)
    if ok.sum() < 3:
        raise GridGISError(tr("only {n} grids have a positive {column!r}; need at least 3", n=int(ok.sum()),
                              column=exposure))
    o, x = o_all[ok], x_all[ok]
    e = x * o.sum() / x.sum()
    mat = None
    if weights is not None:
        w = spatial_weights(grids.loc[ok], weights, k=k, distance=distance) if isinstance(weights, str) else weights
        mat = star_matrix(w)
    alpha_od = overdispersion(o, e) if overdispersed else 0.0
    z_ok, p_ok = poisson_excess(o, e, mat, dispersion=alpha_od)
    n = len(grids)
    out = grids.copy()
    cols = {name: np.full(n, np.nan) for name in ("expected", "excess", "ratio", "rate", "eb_rate")}
    cols["expected"][ok] = e
    cols["excess"][ok] = o - e
    cols["ratio"][ok] = np.where(e > 0, o / e, np.nan)
    cols["rate"][ok] = o / x * per
    cols["eb_rate"][ok] = eb_rates(o, x) * per
    for name, values in cols.items():
        out[name] = values
    z, p = np.full(n, np.nan), np.full(n, np.nan)
    z[ok], p[ok] = z_ok, p_ok
    classify(out, z, p, p.copy(), ok, alpha=alpha, fdr=fdr)
    out.attrs.update(method="poisson", dispersion=alpha_od, value=count, exposure=exposure, per=per, alpha=alpha, fdr=fdr,
                     weights=weights if weights is None or isinstance(weights, str) else "custom",
                     events=float(o.sum()), no_exposure_events=float(o_all[~ok].sum()))
    return out
