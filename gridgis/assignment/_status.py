"""Match statuses and reason codes shared by the assignment modules."""

from __future__ import annotations

import numpy as np

from ..i18n import N_
from ._exact import ST_BOUNDARY, ST_INSIDE, ST_OUTSIDE

__all__ = [
    "INSIDE",
    "BOUNDARY",
    "NEAREST",
    "UNMATCHED",
    "INVALID",
    "MATCH_VALUES",
    "M_INSIDE",
    "M_BOUNDARY",
    "M_NEAREST",
    "M_UNMATCHED",
    "M_INVALID",
    "R_INSIDE",
    "R_OVERLAP",
    "R_SHARED",
    "R_EDGE",
    "R_NEAREST",
    "R_UNMATCHED",
    "R_MISSING",
    "R_NOT_NUMBER",
    "R_INFINITE",
    "R_ZERO",
    "R_SWAPPED",
    "R_RANGE",
    "R_FAR",
    "R_NOT_POINT",
    "R_CONVERT",
    "REASONS",
    "MATCH_OF_STATUS",
    "REASON_OF_STATUS",
    "DIST_OF_STATUS",
    "fill_reason",
]

# ---- match statuses and reasons ------------------------------------------------------------------
INSIDE, BOUNDARY, NEAREST, UNMATCHED, INVALID = "inside", "boundary", "nearest", "unmatched", "invalid"
MATCH_VALUES = (INSIDE, BOUNDARY, NEAREST, UNMATCHED, INVALID)
M_INSIDE, M_BOUNDARY, M_NEAREST, M_UNMATCHED, M_INVALID = range(5)

# reason codes (index into PlanIndex.reasons)
R_INSIDE = 0
R_OVERLAP = 1
R_SHARED = 2
R_EDGE = 3
R_NEAREST = 4
R_UNMATCHED = 5
R_MISSING = 6
R_NOT_NUMBER = 7
R_INFINITE = 8
R_ZERO = 9
R_SWAPPED = 10
R_RANGE = 11
R_FAR = 12
R_NOT_POINT = 13
R_CONVERT = 14

#: Reasons as written in the API (English); people read them through the catalogue
#: (:meth:`gridgis.assignment.PlanIndex.reason_texts`).
REASONS = (
    N_("inside the grid"),
    N_("inside {n} overlapping grids; the smallest grid code was chosen"),
    N_("on a boundary shared by several grids; the smallest grid code was chosen"),
    N_("on the outer boundary of the grid"),
    N_("outside every grid; nearest grid within {max_d:g} m"),
    N_("outside every grid; no grid within {max_d:g} m"),
    N_("missing coordinate"),
    N_("coordinate is not a number"),
    N_("coordinate is infinite"),
    N_("coordinates are 0/0 (a placeholder, not a location)"),
    N_("longitude and latitude apparently swapped"),
    N_("longitude/latitude out of range"),
    N_("more than {far:g} m outside the plan's extent"),
    N_("geometry is not a point"),
    N_("coordinates cannot be converted to the plan's CRS"),
)


# lookup tables indexed by the status of GridIndex.locate
MATCH_OF_STATUS = np.array([M_INSIDE, M_BOUNDARY, M_UNMATCHED], dtype=np.int8)
REASON_OF_STATUS = np.array([R_INSIDE, R_EDGE, R_UNMATCHED], dtype=np.int16)
DIST_OF_STATUS = np.array([0.0, 0.0, np.nan])
assert (ST_INSIDE, ST_BOUNDARY, ST_OUTSIDE) == (0, 1, 2)


def fill_reason(reason: np.ndarray, mask: np.ndarray, code: int) -> None:
    """Set ``code`` where ``mask`` holds and no reason was set before (first reason wins)."""
    reason[mask & (reason < 0)] = code

