"""City scale: communities built as tasks in worker processes or on a dask cluster give the
same plan as the same tasks run in this process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

import gridgis
from gridgis import schema
from gridgis.partition import build_grids
from gridgis.partition.quality import compactness, street_line_share
from tests.test_partition import check_plan


@pytest.fixture(scope="module")
def district():
    return gridgis.generate_district(seed=3, scale=0.5)


def _build(layers, **kw):
    return build_grids(layers["communities"], layers["roads"], layers["buildings"],
                       special_sites=layers["special_sites"], rivers=layers["rivers"], seed=7, **kw)


def _same(a, b):
    assert a.grids.geometry.to_wkb().tolist() == b.grids.geometry.to_wkb().tolist()
    pd.testing.assert_frame_equal(pd.DataFrame(a.grids.drop(columns="geometry")),
                                  pd.DataFrame(b.grids.drop(columns="geometry")))
    pd.testing.assert_series_equal(a.building_grid, b.building_grid)
    pd.testing.assert_frame_equal(a.report, b.report)


@pytest.fixture(scope="module")
def serial(district):
    return _build(district, n_jobs=1)


def test_tasks_make_a_whole_plan(district, serial):
    check_plan(district, serial)
    assert serial.stats["tasks"] >= 2
    assert serial.stats["basic_unflagged_out_of_range"] == 0
    assert shapely.coverage_is_valid(serial.grids.geometry.to_numpy())
    # every building is placed or reported
    placed = serial.building_grid.notna()
    rows = serial.report[serial.report["item"] == "building"]
    assert placed.sum() + len(rows) >= len(district["buildings"])
    assert serial.grids[schema.GRID_CODE].is_unique


def test_worker_processes_give_the_same_plan(district, serial):
    _same(serial, _build(district, n_jobs=2))


def test_dask_cluster_gives_the_same_plan(district, serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        _same(serial, _build(district, client=client))


def test_joined_statistics_measure_the_whole_plan(district, serial):
    """The street-line share and the compactness of the unforced grids are those of the joined
    plan (each task measures its own communities; lengths add up)."""
    lines = pd.concat([district["roads"], district["rivers"]], ignore_index=True)
    metric = serial.grids.to_crs(serial.grids.estimate_utm_crs())
    share = street_line_share(metric, lines.to_crs(metric.crs))
    assert serial.stats["street_line_share"] == pytest.approx(share, rel=1e-3)
    forced = serial.report.loc[serial.report["reason"] == "thin_block", "item_id"]
    basic = metric[(metric[schema.KIND] == schema.BASIC) & ~metric[schema.GRID_CODE].isin(forced)]
    pp = compactness(basic.geometry.to_numpy())
    assert serial.stats["p5_polsby_popper_unforced"] == pytest.approx(np.percentile(pp, 5),
                                                                      rel=1e-3)
