"""Per-grid event statistics of a file read in chunks equal the in-memory statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridgis.errors import GridGISError
from gridgis.events import grid_stats, grid_stats_file
from tests.province import province_plan


def generated_events(codes: np.ndarray, n: int, seed: int = 0) -> pd.DataFrame:
    """Events over the grids: a few unknown codes, invalid rows, open ones and missing values."""
    rng = np.random.default_rng(seed)
    rep = pd.Timestamp("2025-03-01") + pd.to_timedelta(rng.integers(0, 200 * 86400, n), unit="s")
    closed = rep + pd.to_timedelta(rng.integers(0, 20 * 86400, n), unit="s")
    return pd.DataFrame({
        "event_id": np.arange(n),
        "grid_code": np.where(rng.random(n) < 0.97, codes[rng.integers(0, len(codes), n)],
                              "430302999999001"),
        "category": np.array(["环境卫生", "治安隐患", None, "城市管理", "矛盾纠纷"],
                             dtype=object)[rng.integers(0, 5, n)],
        "urgency": np.array(["一般", "重要", "重要紧急", None], dtype=object)[rng.integers(0, 4, n)],
        "status": np.where(rng.random(n) < 0.01, "invalid", "valid"),
        "reported_at": rep,
        "closed_at": closed.where(rng.random(n) < 0.7),
    })


@pytest.fixture(scope="module")
def district():
    grids, _ = province_plan(12, 10, seed=4)
    grids["households"] = np.where(np.arange(len(grids)) % 7 == 0, 0, 350)
    return grids


def frame(stats) -> pd.DataFrame:
    return pd.DataFrame(stats.drop(columns="geometry"))


@pytest.mark.parametrize("chunk_size", [997, 5000, 100_000])
def test_parquet_in_chunks_equals_in_memory(district, tmp_path, chunk_size):
    ev = generated_events(district["grid_code"].to_numpy(), 12_000)
    path = tmp_path / "events.parquet"
    ev.to_parquet(path, index=False)
    want = grid_stats(pd.read_parquet(path), district)
    got = grid_stats_file(path, district, chunk_size=chunk_size)
    pd.testing.assert_frame_equal(frame(got), frame(want))
    assert got.attrs == want.attrs and got.attrs["unassigned"] > 0
    assert int(got["n_events"].sum()) + got.attrs["unassigned"] == len(ev)  # every row counted


def test_csv_in_chunks_equals_in_memory_with_a_given_time(district, tmp_path):
    ev = generated_events(district["grid_code"].to_numpy(), 6_000, seed=1)
    path = tmp_path / "events.csv"
    ev.to_csv(path, index=False)
    kw = {"as_of": "2025-09-01", "categories": ["安全生产"]}
    want = grid_stats(pd.read_csv(path, dtype=str), district, **kw)
    got = grid_stats_file(path, district, chunk_size=1000, **kw)
    pd.testing.assert_frame_equal(frame(got), frame(want))
    assert (got["category:安全生产"] == 0).all()


def test_a_file_without_grid_codes_is_refused(district, tmp_path):
    path = tmp_path / "events.parquet"
    generated_events(district["grid_code"].to_numpy(), 100).drop(
        columns="grid_code").to_parquet(path)
    with pytest.raises(GridGISError):
        grid_stats_file(path, district, chunk_size=10)


def test_a_file_without_rows_gives_every_grid_zero(district, tmp_path):
    path = tmp_path / "events.parquet"
    generated_events(district["grid_code"].to_numpy(), 50).iloc[:0].to_parquet(path)
    got = grid_stats_file(path, district, chunk_size=10)
    assert len(got) == len(district) and (got["n_events"] == 0).all()
    assert got.attrs["unassigned"] == 0
