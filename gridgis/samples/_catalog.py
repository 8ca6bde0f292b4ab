"""Records and catalogue of the sample district: lines, building columns, widths, compound
types and the buildings of special sites."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from shapely import LineString

__all__ = [
    "COMPOUND_TYPES",
    "CREEK_WIDTH",
    "PRIORITY",
    "RIVER_WIDTH",
    "ROAD_HALF_WIDTH",
    "SITE_BUILDINGS",
    "Buildings",
    "Line",
]

ROAD_HALF_WIDTH = {"arterial": 18.0, "local": 9.0, "lane": 3.5}
RIVER_WIDTH = 300.0
CREEK_WIDTH = 35.0
# source priorities when noded edges coincide (lower wins)
PRIORITY = {"arterial": 0, "local": 1, "lane": 2, "river": 3, "boundary": 4, "stub": 5}


@dataclass
class Line:
    """One generated line: a road, the river, a creek, the boundary or a partition-only stub."""

    geom: LineString
    kind: str  # arterial | local | lane | river | boundary | stub
    name: str = ""
    width: float = 0.0
    bridge: bool = False


@dataclass
class Buildings:
    """Column arrays of the buildings, filled compound by compound."""

    cols: dict[str, list] = field(default_factory=lambda: {
        k: [] for k in ("cx", "cy", "w", "d", "angle", "floors", "units", "households",
                        "population", "use", "compound", "block", "group")})

    def add(self, centres: np.ndarray, *, w, d, angle, floors, units, households, population,
            use: str, compound: str, block: int, group: int = 0) -> None:
        n = len(centres)
        if not n:
            return
        c = self.cols

        def arr(v, dtype=float):
            return np.broadcast_to(np.asarray(v, dtype=dtype), (n,)).tolist()

        c["cx"] += centres[:, 0].tolist()
        c["cy"] += centres[:, 1].tolist()
        c["w"] += arr(w)
        c["d"] += arr(d)
        c["angle"] += arr(angle)
        c["floors"] += arr(floors, int)
        c["units"] += arr(units, int)
        c["households"] += arr(households, int)
        c["population"] += arr(population, int)
        c["use"] += [use] * n
        c["compound"] += [compound] * n
        c["block"] += [block] * n
        c["group"] += [group] * n

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v) for k, v in self.cols.items()}


# ---- compound types ----------------------------------------------------------------------------
# w, d: footprint ranges; gap_x/gap_y: spacing between buildings; floors; households per floor
# per unit entrance; metres of frontage per unit entrance
COMPOUND_TYPES = {
    "highrise": dict(w=(30, 42), d=(15, 18), gap_x=(18, 26), gap_y=(36, 46), floors=(18, 33),
                     hpu=2, unit_m=15),
    "midrise": dict(w=(45, 66), d=(11, 13), gap_x=(9, 14), gap_y=(15, 20), floors=(5, 7),
                    hpu=2, unit_m=16),
    "lowrise": dict(w=(12, 20), d=(9, 12), gap_x=(5, 8), gap_y=(6, 9), floors=(2, 4),
                    hpu=1, unit_m=20),
    "dorm": dict(w=(48, 54), d=(12, 13), gap_x=(12, 16), gap_y=(18, 22), floors=(5, 6),
                 hpu=2, unit_m=17),
}
SITE_BUILDINGS = {  # w, d, gap_x, gap_y, floors, max count
    "school": ((50, 70), (14, 16), (20, 30), (25, 30), (4, 5), 5),
    "hospital": ((45, 60), (18, 24), (15, 25), (20, 30), (6, 16), 4),
    "market": ((60, 90), (35, 50), (15, 20), (15, 20), (1, 2), 2),
    "commercial": ((35, 50), (25, 32), (15, 25), (20, 30), (8, 26), 4),
    "industrial_park": ((70, 120), (35, 60), (18, 25), (20, 30), (1, 3), 40),
    "park": ((10, 16), (8, 12), (60, 90), (60, 90), (1, 2), 2),
}


