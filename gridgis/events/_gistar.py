"""Getis–Ord Gi* with the focal unit in its own test: analytical z/p, or total permutations.

Gi* of unit *i* is the weighted sum of the value over *i* and its neighbours,
``S_i = y_i + Σ_j w_ij y_j``. Under the null hypothesis that the *n* values are randomly
arranged over the units (every value, the focal one included, can land anywhere), ``S_i`` has
mean ``W_i ȳ`` and variance ``s² (n ΣW_i² − W_i²)/(n − 1)`` (Ord & Getis 1995), where ``W_i``
is the sum of the unit's weights including its own (1) and ``s²`` the population variance of
the values. The z-score below is that standardised sum.

Significance:

- ``permutations == 0`` (default): two-sided normal-theory p of the z-score. It includes the
  focal unit's own value, has no floor (a planted cluster among 1,600 cells gets p ≈ 1e-20 and
  survives a false-discovery-rate correction), costs nothing, and needs no seed.
- ``permutations > 0``: *total* permutations, every value including the focal one shuffled over
  all units; the p-value is two-sided (twice the folded share of permuted sums at least as
  extreme, plus one). esda's conditional permutation test holds the focal value fixed and only
  shuffles the neighbours, so a single extreme unit is never significant itself while its
  neighbours are (a "doughnut"); total permutations test the same null as the z-score.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
from scipy.stats import false_discovery_control, norm

from ..i18n import N_, _

__all__ = ["HOTSPOT_LABELS", "classify", "gi_star", "hotspot_label", "significant", "star_matrix"]

#: Legend labels of the ``gi_bin`` classes (-3 … 3): English message ids, shown in the language
#: in use by :func:`hotspot_label` (热点 (99%) … in Chinese).
HOTSPOT_LABELS = {
    3: N_("Hot spot (99%)"),
    2: N_("Hot spot (95%)"),
    1: N_("Hot spot (90%)"),
    0: N_("Not significant"),
    -1: N_("Cold spot (90%)"),
    -2: N_("Cold spot (95%)"),
    -3: N_("Cold spot (99%)"),
}


def hotspot_label(gi_bin: int | None) -> str:
    """The legend label of a ``gi_bin`` class in the language in use (``None``: no data).

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("zh"):
    ...     hotspot_label(3), hotspot_label(0), hotspot_label(None)
    ('热点 (99%)', '不显著', '无数据')
    >>> with use_language("en"):
    ...     hotspot_label(-2)
    'Cold spot (95%)'
    """
    return _("No data") if gi_bin is None else _(HOTSPOT_LABELS[int(gi_bin)])


_BATCH = 64


def star_matrix(w: Any) -> sp.csr_matrix:
    """Row-sparse weights with 1 on the diagonal (the focal unit counts itself)."""
    mat = sp.csr_matrix(w.sparse if hasattr(w, "sparse") else w, dtype=float)
    mat = mat.tolil()
    mat.setdiag(1.0)
    return mat.tocsr()


def gi_star(y: np.ndarray, w: Any, *, permutations: int = 0, seed: int = 0
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gi* z-scores and two-sided p-values of ``y`` over weights ``w`` (libpysal ``W`` or matrix).

    Returns
    -------
    z, p, p_norm
        float64 arrays: z-score, p-value used for classes (permutation p when
        ``permutations > 0``, else ``p_norm``) and the two-sided normal-theory p.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from gridgis.events._gistar import gi_star
    >>> chain = sp.diags([np.ones(4), np.ones(4)], [-1, 1], shape=(5, 5))
    >>> z, p, _ = gi_star(np.array([1.0, 1, 9, 1, 1]), chain)
    >>> bool(z[2] > z[0])
    True
    """
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    mat = star_matrix(w)
    w1 = np.asarray(mat.sum(axis=1)).ravel()
    w2 = np.asarray(mat.multiply(mat).sum(axis=1)).ravel()
    ybar = y.mean()
    s = np.sqrt(max(float((y * y).mean() - ybar * ybar), 0.0))
    sums = mat @ y
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = s * np.sqrt(np.maximum(n * w2 - w1 * w1, 0.0) / (n - 1))
        z = np.where(sd > 0, (sums - w1 * ybar) / sd, 0.0)
    p_norm = np.minimum(1.0, 2.0 * norm.sf(np.abs(z)))
    if permutations <= 0 or s == 0:
        return z, p_norm.copy(), p_norm
    rng = np.random.default_rng(seed)
    above = np.zeros(n, dtype=np.int64)
    below = np.zeros(n, dtype=np.int64)
    done = 0
    while done < permutations:
        k = min(_BATCH, permutations - done)
        ys = rng.permuted(np.broadcast_to(y[:, None], (n, k)), axis=0)
        sim = mat @ ys
        above += (sim >= sums[:, None] - 1e-9).sum(axis=1)
        below += (sim <= sums[:, None] + 1e-9).sum(axis=1)
        done += k
    folded = (np.minimum(above, below) + 1.0) / (permutations + 1.0)
    return z, np.minimum(1.0, 2.0 * folded), p_norm


def significant(p: np.ndarray, ok: np.ndarray, alpha: float, fdr: bool) -> np.ndarray:
    """Units significant at ``alpha``: raw p-values, or Benjamini–Hochberg adjusted ones."""
    if not fdr:
        return ok & (p <= alpha)
    use = ok & np.isfinite(p)
    out = np.zeros(len(p), dtype=bool)
    if use.any():
        out[use] = false_discovery_control(p[use], method="bh") <= alpha
    return out


def classify(
    out: gpd.GeoDataFrame, z: np.ndarray, p: np.ndarray, pn: np.ndarray, ok: np.ndarray, *,
    alpha: float, fdr: bool,
) -> None:
    """Write gi_z, gi_p, gi_p_norm, gi_bin, hotspot and hotspot_label into ``out``.

    ``gi_bin`` is ±3/±2/±1 where p (or its Benjamini–Hochberg adjustment when ``fdr``) is
    within 0.01/0.05/0.10, signed by ``z``; ``hotspot`` says hot/cold at ``alpha``.
    """
    n = len(out)
    sign = np.sign(np.nan_to_num(z)).astype(int)
    gi_bin = np.zeros(n, dtype=int)
    for level, a in ((1, 0.10), (2, 0.05), (3, 0.01)):
        gi_bin = np.where(significant(p, ok, a, fdr), level * sign, gi_bin)
    sig = significant(p, ok, alpha, fdr)
    out["gi_z"] = np.asarray(z, dtype=np.float64)
    out["gi_p"] = np.asarray(p, dtype=np.float64)
    out["gi_p_norm"] = np.asarray(pn, dtype=np.float64)
    out["gi_bin"] = gi_bin
    out["hotspot"] = np.where(
        ~ok, "no data",
        np.where(sig & (z > 0), "hot", np.where(sig & (z < 0), "cold", "not significant")),
    )
    out["hotspot_label"] = [
        hotspot_label(int(b) if o else None) for o, b in zip(ok, gi_bin, strict=True)
    ]
