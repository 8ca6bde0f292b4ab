"""Thresholds of the validator that are not in the rules file.

>>> from gridgis.validation.limits import SPLIT_SHARE
>>> SPLIT_SHARE
0.1
"""

from __future__ import annotations

__all__ = ["SPLIT_SHARE", "SPLIT_MIN_M2", "SLIVER_THIN_MAX_FACTOR", "FLAG_BELOW_MIN",
           "FLAG_ABOVE_MAX"]

#: Smaller share of a building footprint that makes it "split" between grids.
SPLIT_SHARE = 0.10
SPLIT_MIN_M2 = 1.0
#: A thin grid is a sliver only below this multiple of ``sliver_area_m2`` (5,000 m² by default).
SLIVER_THIN_MAX_FACTOR = 100.0
#: Flags that turn a size violation into a warning.
FLAG_BELOW_MIN = "below_min_allowed"
FLAG_ABOVE_MAX = "above_max_allowed"
