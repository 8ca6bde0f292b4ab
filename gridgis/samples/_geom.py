"""Geometry helpers of the sample generator: curves, warps, noding, packing rectangles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely import LineString, Polygon

__all__ = [
    "TWO_PI",
    "Warp",
    "blob",
    "faces",
    "node",
    "oriented",
    "pack",
    "polygon_parts",
    "polyline_parts",
    "rect_polygons",
    "rotate_xy",
    "south_facing",
    "wiggly",
]

TWO_PI = 2.0 * np.pi


def blob(
    cx: float, cy: float, rx: float, ry: float, rng: np.random.Generator, *, n: int = 400,
    roughness: float = 1.0,
) -> Polygon:
    """Irregular closed outline around ``(cx, cy)`` with semi-axes ``rx``/``ry``."""
    theta = np.linspace(0.0, TWO_PI, n, endpoint=False)
    r = np.ones(n)
    for k, amp in ((2, 0.07), (3, 0.05), (4, 0.035), (5, 0.03), (7, 0.02), (11, 0.012),
                   (17, 0.008 * roughness), (29, 0.005 * roughness)):
        r += amp * rng.uniform(0.5, 1.0) * np.cos(k * theta + rng.uniform(0, TWO_PI))
    return Polygon(np.c_[cx + rx * r * np.cos(theta), cy + ry * r * np.sin(theta)])


@dataclass
class Warp:
    """Smooth displacement field (sum of three plane waves per axis) that bends straight lines."""

    k: np.ndarray
    phase: np.ndarray
    amp: np.ndarray

    @classmethod
    def random(cls, rng: np.random.Generator, amp: float, wavelength: float) -> Warp:
        ang = rng.uniform(0, TWO_PI, 3)
        mag = TWO_PI / (wavelength * rng.uniform(0.7, 1.4, 3))
        k = np.c_[np.cos(ang) * mag, np.sin(ang) * mag]
        return cls(k, rng.uniform(0, TWO_PI, (3, 2)), amp * rng.uniform(0.4, 1.0, (3, 2)))

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        arg = xy @ self.k.T  # (n, 3)
        dx = (self.amp[:, 0] * np.sin(arg + self.phase[:, 0])).sum(axis=1)
        dy = (self.amp[:, 1] * np.sin(arg + self.phase[:, 1])).sum(axis=1)
        return xy + np.c_[dx, dy]


def rotate_xy(xy: np.ndarray, angle: float, origin=(0.0, 0.0)) -> np.ndarray:
    """Rotate points counter-clockwise by ``angle`` radians around ``origin``."""
    c, s = np.cos(angle), np.sin(angle)
    o = np.asarray(origin, dtype=float)
    d = xy - o
    return np.c_[d[:, 0] * c - d[:, 1] * s, d[:, 0] * s + d[:, 1] * c] + o


def wiggly(p0, p1, rng: np.random.Generator, amp: float, *, step: float = 25.0,
           waves: float | None = None, extend: float = 0.0) -> LineString:
    """Curved polyline from ``p0`` to ``p1`` whose lateral offset vanishes at both ends."""
    p0 = np.asarray(p0, float)
    p1 = np.asarray(p1, float)
    d = p1 - p0
    length = float(np.hypot(*d))
    u = d / length
    n = max(2, int(length / step) + 1)
    t = np.linspace(0.0, 1.0, n)
    if waves is None:
        waves = rng.uniform(0.5, 1.5)
    off = amp * np.sin(np.pi * t) * np.sin(TWO_PI * waves * t + rng.uniform(0, TWO_PI))
    normal = np.array([-u[1], u[0]])
    pts = p0 + np.outer(t * length, u) + np.outer(off, normal)
    if extend:
        pts = np.vstack([p0 - u * extend, pts, p1 + u * extend])
    return LineString(pts)


def polyline_parts(geom) -> list[LineString]:
    """LineString parts of any (multi)line geometry, skipping empty and point parts."""
    if geom is None or geom.is_empty:
        return []
    return [g for g in shapely.get_parts(shapely.line_merge(geom) if geom.geom_type != "LineString"
                                          else geom)
            if g.geom_type == "LineString" and not g.is_empty]


def polygon_parts(geom, min_area: float = 0.0) -> list[Polygon]:
    """Polygon parts of any geometry with area above ``min_area``."""
    if geom is None or geom.is_empty:
        return []
    return [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and g.area > min_area]


def node(lines, dangle_max: float = 5.0, grid: float = 1e-3) -> np.ndarray:
    """Node a set of lines on a ``grid`` (metres; fixed precision avoids needle faces) and drop
    short dead-end edges (overshoots) up to ``dangle_max`` m."""
    merged = shapely.union_all(np.asarray(lines, dtype=object), grid_size=grid)
    edges = shapely.get_parts(merged)
    edges = edges[shapely.get_type_id(edges) == 1]
    for _ in range(4):
        starts = shapely.get_coordinates(shapely.get_point(edges, 0))
        ends = shapely.get_coordinates(shapely.get_point(edges, -1))
        keys = np.round(np.vstack([starts, ends]), 6)
        _, inv, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
        deg = counts[inv.ravel()]
        n = len(edges)
        dead = (deg[:n] == 1) | (deg[n:] == 1)
        drop = dead & (shapely.length(edges) < dangle_max)
        if not drop.any():
            break
        edges = edges[~drop]
    return edges


def faces(edges: np.ndarray, inside: Polygon) -> np.ndarray:
    """Polygons formed by noded ``edges`` whose interior point lies in ``inside``."""
    polys = shapely.get_parts(shapely.polygonize(edges))
    polys = polys[shapely.area(polys) > 1e-6]
    keep = shapely.within(shapely.point_on_surface(polys), inside)
    polys = polys[keep]
    # stable order: north to south, west to east (rounded to metres)
    pts = shapely.get_coordinates(shapely.point_on_surface(polys))
    order = np.lexsort((np.round(pts[:, 0]), -np.round(pts[:, 1])))
    return polys[order]


def oriented(poly) -> tuple[float, float, float, np.ndarray]:
    """Long-axis angle (radians), long and short side of the minimum rotated rectangle, centre."""
    rect = shapely.oriented_envelope(poly)
    c = shapely.get_coordinates(rect)[:4]
    e1 = c[1] - c[0]
    e2 = c[2] - c[1]
    l1, l2 = float(np.hypot(*e1)), float(np.hypot(*e2))
    if l1 >= l2:
        ang, long, short = np.arctan2(e1[1], e1[0]), l1, l2
    else:
        ang, long, short = np.arctan2(e2[1], e2[0]), l2, l1
    return float(ang), long, short, c.mean(axis=0)


def south_facing(angle: float, max_dev: float = np.radians(25)) -> float:
    """Orientation for residential slabs: block-aligned when close to east-west, else near it."""
    a = (angle + np.pi / 4) % (np.pi / 2) - np.pi / 4  # to [-45°, 45°)
    return float(np.clip(a, -max_dev, max_dev))


def rect_polygons(cx, cy, w, d, angle) -> np.ndarray:
    """Vectorised rotated rectangles (arrays of centre, width, depth, angle)."""
    cx, cy, w, d, angle = (np.asarray(v, float) for v in (cx, cy, w, d, angle))
    ux = np.array([-0.5, 0.5, 0.5, -0.5, -0.5])
    uy = np.array([-0.5, -0.5, 0.5, 0.5, -0.5])
    lx = w[:, None] * ux
    ly = d[:, None] * uy
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x = cx[:, None] + lx * c - ly * s
    y = cy[:, None] + lx * s + ly * c
    return shapely.polygons(np.stack([x, y], axis=-1))


def pack(poly, angle: float, w: float, d: float, px: float, py: float,
         rng: np.random.Generator, *, tries: int = 4, stagger: bool = False) -> np.ndarray:
    """Centres (n, 2) of ``w``×``d`` rectangles at pitch ``px``/``py`` rotated by ``angle`` that
    fit entirely inside ``poly``; the best of a few random grid phases is kept."""
    if poly.is_empty:
        return np.empty((0, 2))
    c = np.asarray(poly.centroid.coords[0])
    local = shapely.transform(poly, lambda xy: rotate_xy(xy, -angle, c))
    shapely.prepare(local)
    minx, miny, maxx, maxy = local.bounds
    best = np.empty((0, 2))
    for _ in range(tries):
        xs = np.arange(minx + rng.uniform(0, px), maxx, px)
        ys = np.arange(miny + rng.uniform(0, py), maxy, py)
        if not len(xs) or not len(ys):
            continue
        gx, gy = np.meshgrid(xs, ys)
        if stagger:
            gx = gx + (np.arange(len(ys))[:, None] % 2) * px / 2
        gx, gy = gx.ravel(), gy.ravel()
        boxes = shapely.box(gx - w / 2, gy - d / 2, gx + w / 2, gy + d / 2)
        ok = shapely.contains(local, boxes)
        if ok.sum() > len(best):
            best = np.c_[gx[ok], gy[ok]]
    if not len(best):
        return best
    return rotate_xy(best, angle, c)
