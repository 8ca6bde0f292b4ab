"""Small synthetic district for the event tests: square grids, two communities, clustered events.

Independent of the sample generator and the partition builder, so event, heatmap and hot-spot
tests run on a known truth: events are drawn uniformly at a base rate per household, plus a
planted excess in a 3×3 block of grids.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

CRS = "EPSG:4547"  # CGCS2000 / 3-degree GK CM 114E (metres), as the sample
X0, Y0 = 388_000.0, 3_080_000.0  # near Xiangtan
CELL = 250.0
N = 12  # 12 × 12 grids
HOT = [(i, j) for i in (7, 8, 9) for j in (2, 3, 4)]  # (col, row from south) of planted excess
CATEGORIES = ("环境卫生", "治安隐患", "矛盾纠纷", "市政设施")


def make_grids(seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for j in range(N):
        for i in range(N):
            comm = "430302001001" if i < N // 2 else "430302001002"
            rows.append({
                "grid_code": f"{comm}{j * N + i + 1:03d}",
                "grid_name": f"第{j * N + i + 1}网格",
                "community_code": comm,
                "kind": "basic",
                "households": int(rng.integers(300, 500)),
                "col": i,
                "row": j,
                "geometry": shapely.box(X0 + i * CELL, Y0 + j * CELL, X0 + (i + 1) * CELL, Y0 + (j + 1) * CELL),
            })
    return gpd.GeoDataFrame(rows, crs=CRS)


def make_district(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["430302"], "name": ["雨湖区"]},
                            geometry=[shapely.union_all(grids.geometry.values)], crs=CRS)


def make_communities(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    d = grids.dissolve("community_code").reset_index()
    return gpd.GeoDataFrame({"code": d["community_code"], "name": ["和平社区", "建设社区"]},
                            geometry=d.geometry.values, crs=CRS)


def make_events(grids: gpd.GeoDataFrame, seed: int = 0, base_rate: float = 6.0, hot_rate: float = 30.0):
    """Events per grid ~ Poisson(households/100 * rate); planted grids get ``hot_rate``."""
    rng = np.random.default_rng(seed)
    recs = []
    hot = {(i, j) for i, j in HOT}
    t0 = pd.Timestamp("2025-01-06")
    for g in grids.itertuples():
        rate = hot_rate if (g.col, g.row) in hot else base_rate
        n = rng.poisson(g.households / 100 * rate)
        x0, y0, x1, y1 = g.geometry.bounds
        xs = rng.uniform(x0, x1, n)
        ys = rng.uniform(y0, y1, n)
        for x, y in zip(xs, ys, strict=True):
            rep = t0 + pd.Timedelta(minutes=int(rng.integers(0, 90 * 24 * 60)))
            urg = rng.choice(["一般", "重要", "重要紧急"], p=[0.7, 0.2, 0.1])
            close_days = rng.exponential({"一般": 4.0, "重要": 2.0, "重要紧急": 0.6}[urg])
            closed = rep + pd.Timedelta(days=float(close_days)) if rng.random() < 0.85 else pd.NaT
            recs.append({
                "category": CATEGORIES[int(rng.integers(0, len(CATEGORIES)))],
                "urgency": urg,
                "stage": "考核" if closed is not pd.NaT else rng.choice(["上报", "分拨", "处置"]),
                "reported_at": rep,
                "closed_at": closed,
                "x": x,
                "y": y,
            })
    df = pd.DataFrame(recs)
    df.insert(0, "event_id", [f"E{i:05d}" for i in range(len(df))])
    pts = gpd.GeoDataFrame(df.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(df.x, df.y), crs=CRS)
    wgs = pts.to_crs(4326)
    pts["lon"] = wgs.geometry.x.to_numpy()
    pts["lat"] = wgs.geometry.y.to_numpy()
    return pts
