"""What the map draws, computed from a plan state: grids as SVG paths in Web Mercator metres
(relative to an origin, y pointing down), their size status and label, community outlines and
buildings on demand. Grids unchanged since the last call are taken from a cache, so an edit
costs only the grids it touched."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyproj
import shapely

from .. import schema
from ..validation import Finding

__all__ = ["Display", "grid_status"]

DISPLAY_CRS = "EPSG:3857"
#: Simplification of drawn outlines (metres): invisible at street zoom, halves the payload.
SIMPLIFY_M = 0.5


def grid_status(kind: str, rules: set[str]) -> str:
    """Size status of a grid from its kind and the rules of its findings.

    Examples
    --------
    >>> grid_status("basic", {"size_above_max"})
    'above'
    >>> grid_status("school", set())
    'special'
    """
    if kind != schema.BASIC:
        return "special"
    if "size_above_max" in rules:
        return "above"
    if "size_below_min" in rules:
        return "below"
    if "size_unknown" in rules:
        return "unknown"
    return "ok"


def _ring_path(coords: np.ndarray) -> str:
    pts = " ".join(f"{x:.1f} {y:.1f}" for x, y in coords[:-1])
    return f"M{pts}Z"


def _path(geom: Any) -> str:
    """SVG path data of a (multi)polygon or line already in display coordinates."""
    out = []
    for part in getattr(geom, "geoms", [geom]):
        if part.geom_type == "Polygon":
            out.append(_ring_path(np.asarray(part.exterior.coords)))
            out += [_ring_path(np.asarray(r.coords)) for r in part.interiors]
        elif part.geom_type in ("LineString", "LinearRing"):
            c = np.asarray(part.coords)
            out.append("M" + " ".join(f"{x:.1f} {y:.1f}" for x, y in c))
    return "".join(out)


def _short_code(code: str, community: str) -> str:
    return code[len(community):].lstrip("0") or code[-3:] if code.startswith(community) \
        else code[-3:]


@dataclass
class Display:
    """Projection between the plan's metric CRS and the drawing, and the per-grid cache.

    ``to_display`` maps metric geometries to drawing coordinates: Web Mercator metres minus
    :attr:`origin`, y flipped (SVG). ``from_display`` maps drawn coordinates (Web Mercator,
    absolute) back to the metric CRS.
    """

    metric_crs: Any
    origin: tuple[float, float] = (0.0, 0.0)
    #: Bounds of the plan in Web Mercator (set by :meth:`set_origin`).
    extent_mercator: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    _cache: dict[str, tuple] = field(default_factory=dict)
    _fwd: Any = None
    _inv: Any = None

    def __post_init__(self) -> None:
        self._fwd = pyproj.Transformer.from_crs(self.metric_crs, DISPLAY_CRS, always_xy=True)
        self._inv = pyproj.Transformer.from_crs(DISPLAY_CRS, self.metric_crs, always_xy=True)

    def set_origin(self, bounds: tuple[float, float, float, float]) -> None:
        """Put the origin at the top-left corner of ``bounds`` (metric CRS)."""
        x, y = self._fwd.transform([bounds[0], bounds[2], bounds[0], bounds[2]],
                                   [bounds[1], bounds[3], bounds[3], bounds[1]])
        self.extent_mercator = (min(x), min(y), max(x), max(y))
        self.origin = (float(np.floor(min(x))), float(np.ceil(max(y))))

    def to_display(self, geoms: Any) -> np.ndarray:
        ox, oy = self.origin

        def fn(xy: np.ndarray) -> np.ndarray:
            x, y = self._fwd.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([np.asarray(x) - ox, oy - np.asarray(y)])

        return shapely.transform(np.asarray(geoms, dtype=object), fn)

    def from_display(self, coords: Any) -> np.ndarray:
        """Absolute Web Mercator ``[[x, y], ...]`` → metric coordinates (n, 2)."""
        xy = np.asarray(coords, dtype=float).reshape(-1, 2)
        x, y = self._inv.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    def view_bounds(self, bounds: tuple[float, float, float, float]) -> list[float]:
        """Metric bounds → drawing bounds ``[x0, y0, x1, y1]``."""
        box = self.to_display([shapely.box(*bounds)])[0]
        return [round(float(v), 1) for v in box.bounds]

    def paths(self, geoms: Any, simplify: float = SIMPLIFY_M) -> list[str]:
        """SVG path data of metric geometries."""
        disp = self.to_display(geoms)
        if simplify:
            disp = shapely.simplify(disp, simplify, preserve_topology=True)
        return [_path(g) for g in disp]

    def grids(self, grids: Any, findings: list[Finding]) -> list[dict[str, Any]]:
        """One dict per grid: code ``c``, path ``d``, status ``s``, label ``l``, label point
        ``x``/``y`` and drawn size ``w``/``h`` (metres), findings ``f`` (errors, warnings)."""
        rules: dict[str, set[str]] = {}
        counts: dict[str, list[int]] = {}
        for f in findings:
            for code in f.grids:
                rules.setdefault(code, set()).add(f.rule)
                counts.setdefault(code, [0, 0])[0 if f.severity == "error" else 1] += 1
        codes = grids[schema.GRID_CODE].astype(str).to_numpy(object)
        names = grids[schema.GRID_NAME].to_numpy(object) if schema.GRID_NAME in grids else \
            np.full(len(grids), None, dtype=object)
        kinds = grids[schema.KIND].astype(str).to_numpy(object)
        comm = grids[schema.COMMUNITY_CODE].astype(str).to_numpy(object)
        geoms = np.asarray(grids.geometry.array, dtype=object)
        out: list[dict[str, Any] | None] = [None] * len(codes)
        todo = []
        cache: dict[str, tuple] = {}
        for i, code in enumerate(codes):
            name = names[i] if isinstance(names[i], str) and names[i] else None
            status = grid_status(kinds[i], rules.get(code, set()))
            label = name or _short_code(code, comm[i])
            key = (label, status, tuple(counts.get(code, (0, 0))))
            hit = self._cache.get(code)
            if hit is not None and hit[1] == key and (
                    hit[0] is geoms[i] or shapely.equals_exact(hit[0], geoms[i], 0.0)):
                out[i] = hit[2]
                cache[code] = hit
            else:
                todo.append((i, code, key, {"c": code, "s": status, "l": label,
                                            "f": list(counts.get(code, (0, 0)))}))
        if todo:
            rows = np.array([t[0] for t in todo])
            self._fill(geoms[rows], [t[3] for t in todo])
            for (i, code, key, feat) in todo:
                out[i] = feat
                cache[code] = (geoms[i], key, feat)
        self._cache = cache
        return out  # type: ignore[return-value]

    def _fill(self, geoms: np.ndarray, feats: list[dict[str, Any]]) -> None:
        disp = self.to_display(geoms)
        pts = shapely.point_on_surface(disp)
        simple = shapely.simplify(disp, SIMPLIFY_M, preserve_topology=True)
        b = shapely.bounds(disp)
        for k, feat in enumerate(feats):
            feat["d"] = _path(simple[k])
            feat["x"] = round(float(shapely.get_x(pts[k])), 1)
            feat["y"] = round(float(shapely.get_y(pts[k])), 1)
            feat["w"] = round(float(b[k, 2] - b[k, 0]), 1)
            feat["h"] = round(float(b[k, 3] - b[k, 1]), 1)
