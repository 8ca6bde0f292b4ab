"""Numeric tolerances of a rules file (its ``[tolerances]`` section).

Every tolerance that validation, repair and re-coding compare with lives here, so a city can
tune it in its rules file instead of in code (:func:`gridgis.rules.load_rules`)::

    [tolerances]
    gap_width_m = 0.5
    area_floor_m2 = 0.01

>>> from gridgis.tolerances import Tolerances
>>> Tolerances().area_floor_m2, Tolerances().touch_m
(0.01, 0.01)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Tolerances"]


@dataclass(frozen=True)
class Tolerances:
    """Numeric tolerances: geometry (metres / square metres) and grid-code matching.

    Attributes
    ----------
    gap_width_m
        Gaps, overlaps and pieces outside a community narrower than this are digitising noise
        (warnings, closed by repair).
    sliver_area_m2, sliver_thinness
        A grid below ``sliver_area_m2`` is a sliver; so is a thin one (Polsby-Popper below
        ``sliver_thinness``) that is small.
    snap_m
        Snapping distance of the builder; without communities, notches narrower than the
        larger of it and ``gap_width_m`` count as gaps.
    coverage_rel
        Relative area slack: an overlap within this share of both grids' areas is a duplicate
        grid; matching shared edges may change a grid's area by at most this share.
    outside_parent_m2
        A piece of a grid outside its community smaller than this is noise.
    area_floor_m2
        Gaps, overlaps, pieces and cuts of at most this area are floating-point residue of
        overlays: not reported, not moved.
    touch_m
        Two geometries closer than this touch: a grid next to a gap, a piece sharing an edge
        with a grid.
    width_rel
        Precision of the width of a wide piece (its largest inscribed circle) as a share of
        the square root of its area (at least 1 cm).
    triangulation_grid_m
        Grid a narrow gap piece is snapped to when it cannot be triangulated as it is (nor
        once made valid) during repair.
    recode_same_share
        In (0.5, 1]: a redrawn grid keeps an old grid's code when they share at least this part
        of each other's households (or area).
    recode_min_share
        In [0, 0.5): overlaps without households below this area share of either grid are noise.
    band_rel_eps
        Relative slack when a grid centroid is put in a numbering band, so a centroid on a band
        edge is not pushed into the next band by rounding.
    """

    gap_width_m: float = 0.5
    sliver_area_m2: float = 50.0
    sliver_thinness: float = 0.05
    snap_m: float = 0.5
    coverage_rel: float = 1e-6
    outside_parent_m2: float = 1.0
    area_floor_m2: float = 0.01
    touch_m: float = 0.01
    width_rel: float = 0.002
    triangulation_grid_m: float = 1e-4
    recode_same_share: float = 0.9
    recode_min_share: float = 0.01
    band_rel_eps: float = 1e-9
