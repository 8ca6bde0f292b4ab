"""Benchmark of the event indicators (通报 statistics) on many events, against pandas groupby.

Usage::

    python scripts/bench_events.py [--n 10000000] [--groups 2000] [--threads 2]

Makes ``--n`` synthetic events (reported December 2025 – November 2026, categories, urgency, the stage time stamps,
department, handling level, satisfaction; categorical columns as read from Parquet), then times

- gridgis: :func:`gridgis.events.event_indicators` by community × month, deadlines included;
- anchor: the same per-event deadline table (:func:`gridgis.events.deadlines`, pandas has no
  Chinese holiday calendar) followed by one pandas ``groupby().agg`` of the same figures
  (counts, on-time shares, medians of the five stage durations, grid-level and satisfaction
  shares),

checks that both give the same numbers and prints the times side by side with their ratio.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from gridgis import schema
from gridgis.events import STAGE_SPANS, deadlines, event_indicators


def make_events(n: int, groups: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t0 = np.datetime64("2025-12-01T00:00:00", "s").astype(np.int64)
    rep = t0 + rng.integers(0, 365 * 86400, n)
    h = 3600
    disp = rep + rng.gamma(2.0, 1.0, n).astype(np.int64) * h + rng.integers(0, h, n)
    onsite = disp + (rng.gamma(2.0, 6.0, n) * h).astype(np.int64)
    close = onsite + (rng.gamma(2.0, 30.0, n) * h).astype(np.int64)
    evalt = close + (rng.gamma(2.0, 12.0, n) * h).astype(np.int64)
    open_ = rng.uniform(size=n) < 0.03

    def ts(v: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        out = v.astype("datetime64[s]").astype("datetime64[ns]")
        if mask is not None:
            out[mask] = np.datetime64("NaT")
        return out

    def cat(labels: list[str], p: list[float] | None = None) -> pd.Categorical:
        return pd.Categorical.from_codes(rng.choice(len(labels), n, p=p), labels)

    comms = [f"430302{g // 50:03d}{g % 50:03d}" for g in range(groups)]
    return pd.DataFrame({
        "community_code": cat(comms),
        "category": cat(["环境卫生", "占道经营", "治安隐患", "矛盾纠纷", "水电气故障", "设施损坏"]),
        "urgency": cat(list(schema.URGENCY_LEVELS), [0.74, 0.21, 0.05]),
        "reported_at": ts(rep),
        "dispatched_at": ts(disp),
        "onsite_at": ts(onsite, open_ & (rng.uniform(size=n) < 0.5)),
        "closed_at": ts(close, open_),
        "evaluated_at": ts(evalt, open_),
        "department": cat([f"部门{i}" for i in range(30)]),
        "handling_level": cat(list(schema.HANDLING_LEVELS), [0.6, 0.25, 0.1, 0.05]),
        "satisfaction": cat(list(schema.SATISFACTION_LEVELS), [0.8, 0.15, 0.05]),
    })


def anchor(ev: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Same figures with deadlines() and a plain pandas groupby."""
    dl = deadlines(ev, as_of=as_of)
    df = pd.DataFrame({
        "community_code": ev["community_code"],
        "period": ev["reported_at"].dt.to_period("M"),
        "closed": dl["closed"], "due": dl["due"], "on_time": dl["on_time"],
        "judged": dl["onsite_late"].notna(), "onsite_ok": dl["onsite_late"].eq(False).fillna(False),
        "grid": (ev["handling_level"] == "网格").astype(float).where(ev["handling_level"].notna()),
        "sat": ev["satisfaction"].isin(["满意", "基本满意"]).astype(float).where(ev["satisfaction"].notna()),
    })
    for name, (a, b) in STAGE_SPANS.items():
        df[name] = (ev[b] - ev[a]).dt.total_seconds() / 3600.0
    g = df.groupby(["community_code", "period"], observed=True)
    out = g.agg(n_events=("closed", "size"), n_closed=("closed", "sum"), n_due=("due", "sum"),
                n_on_time=("on_time", "sum"), judged=("judged", "sum"), onsite_ok=("onsite_ok", "sum"),
                grid_level_share=("grid", "mean"), satisfaction_rate=("sat", "mean"),
                **{f"median_{k}": (k, "median") for k in STAGE_SPANS})
    out["on_time_share"] = out["n_on_time"] / out["n_due"]
    out["onsite_on_time_share"] = out["onsite_ok"] / out["judged"]
    return out.reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    t = time.perf_counter()
    ev = make_events(args.n, args.groups)
    print(f"{args.n:,} events, {args.groups} communities × 12 months: made in {time.perf_counter() - t:.1f} s"
          f" ({os.cpu_count()} CPUs visible)")
    as_of = pd.Timestamp("2027-01-01")
    warm = ev.iloc[:100_000]  # load the holiday calendar and first-call code paths for both
    event_indicators(warm, "community_code", period="M", as_of=as_of, threads=args.threads)
    anchor(warm, as_of)
    t = time.perf_counter()
    ours = event_indicators(ev, "community_code", period="M", as_of=as_of, threads=args.threads)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    ref = anchor(ev, as_of)
    t_ref = time.perf_counter() - t
    ref["period"] = ref["period"].astype(str)
    ref["community_code"] = ref["community_code"].astype(str)
    merged = ours.merge(ref, on=["community_code", "period"], suffixes=("", "_ref"))
    assert len(merged) == len(ours) == len(ref), (len(ours), len(ref))
    for col in ("n_events", "n_due", "on_time_share", "onsite_on_time_share", "grid_level_share",
                "satisfaction_rate", *(f"median_{k}" for k in STAGE_SPANS)):
        assert np.allclose(merged[col], merged[f"{col}_ref"], equal_nan=True), col
    print(f"gridgis event_indicators : {t_ours:6.2f} s  ({len(ours)} groups)")
    print(f"anchor pandas groupby    : {t_ref:6.2f} s")
    print(f"ratio anchor / gridgis   : {t_ref / t_ours:6.2f}×   (target: gridgis within 10 s)")


if __name__ == "__main__":
    main()
